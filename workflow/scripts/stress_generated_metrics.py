"""Snakemake adapter: stresses of the generated and dataset fields -> stress-field error (JSON) + maps (PNG)."""

from nyegan.scripting import log_to
from nyegan.stress.case import generated_metrics_case

with log_to(snakemake.log[0]) as log:
    generated_metrics_case(
        snakemake.input.generated,
        snakemake.input.dataset,
        snakemake.input.generated_field,
        snakemake.input.dataset_field,
        snakemake.output.metrics,
        snakemake.output.png,
    )
    log.info("metrics -> %s", snakemake.output.metrics)
