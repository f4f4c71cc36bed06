"""Snakemake adapter: per-case Nye fields + metadata -> results/dataset.nc (nyegan.dataset.build_dataset)."""

import sys

from nyegan.dataset import build_dataset
from nyegan.gan.config import dataset_kwargs

sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: F821
build_dataset(
    list(snakemake.input.nye),
    list(snakemake.input.meta),
    snakemake.output[0],  # noqa: F821
    **dataset_kwargs(snakemake.params.dataset),
)  # noqa: F821
