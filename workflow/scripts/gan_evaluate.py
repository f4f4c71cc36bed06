"""Snakemake adapter: metrics.json + plots of generated vs atomistic fields (nyegan.gan.evaluate.evaluate)."""

from nyegan.gan.evaluate import evaluate
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    res = evaluate(snakemake.input.generated, snakemake.input.dataset, snakemake.params.outdir)
    log.info("summary %s", res["summary"])
