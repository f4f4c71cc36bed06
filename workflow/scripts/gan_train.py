"""Snakemake adapter: train or resume the GAN (nyegan.gan.train.train); output checkpoints/last.ckpt."""

from nyegan.gan.train import train
from nyegan.scripting import log_to

with log_to(snakemake.log[0], append=True) as log:  # a resumed run keeps the earlier segments' log
    last = train(snakemake.input[0], snakemake.params.outdir, dict(snakemake.params.gan))
    log.info("checkpoint %s", last)
