"""Snakemake adapter: train or resume the GAN (nyegan.gan.train.train); output checkpoints/last.ckpt.
Lightning's progress bar (gan.progress_bar) goes to the terminal Snakemake runs in, never into the log file."""

from nyegan.gan.train import train
from nyegan.progress import lightning_progress_bar
from nyegan.scripting import log_to

with log_to(snakemake.log[0], append=True) as log:  # a resumed run keeps the earlier segments' log
    gan = dict(snakemake.params.gan)
    bar = lightning_progress_bar(gan["progress_bar"])  # None without a terminal
    gan["progress_bar"] = bar is not None
    last = train(snakemake.input[0], snakemake.params.outdir, gan, extra_callbacks=[bar] if bar else ())
    log.info("checkpoint %s", last)
