"""Snakemake adapter: train or resume the GAN (nyegan.gan.train.train); output checkpoints/last.ckpt."""

import sys

from nyegan.gan.train import train

sys.stderr = sys.stdout = open(snakemake.log[0], "a")  # noqa: F821
train(snakemake.input[0], snakemake.params.outdir, dict(snakemake.params.gan))  # noqa: F821
