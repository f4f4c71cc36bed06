"""Snakemake adapter: generate fields for held-out/validation conditions (nyegan.gan.generate.generate)."""

import sys

from nyegan.gan.config import generate_kwargs
from nyegan.gan.generate import generate

sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: F821
generate(
    snakemake.input.ckpt,
    snakemake.input.dataset,
    snakemake.output[0],  # noqa: F821
    **generate_kwargs(snakemake.params.gan),
)  # noqa: F821
