"""Snakemake adapter: stresses of the generated and dataset fields -> stress-field error (JSON) + maps (PNG)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from nyegan.stress.case import generated_metrics_case  # noqa: E402

generated_metrics_case(
    snakemake.input.generated,
    snakemake.input.dataset,
    snakemake.input.generated_field,
    snakemake.input.dataset_field,
    snakemake.output.metrics,
    snakemake.output.png,
)
