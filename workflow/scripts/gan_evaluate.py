"""Snakemake adapter: metrics.json + plots of generated vs atomistic fields (nyegan.gan.evaluate.evaluate)."""

import sys

from nyegan.gan.evaluate import evaluate

sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: F821
evaluate(snakemake.input.generated, snakemake.input.dataset, snakemake.params.outdir)  # noqa: F821
