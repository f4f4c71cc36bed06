"""Snakemake adapter: Lightning's CSV log of the training run -> training curves + physics residuals (PNG)."""

from nyegan.report.training import write_training_figures
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    df = write_training_figures(snakemake.params.log_dir, snakemake.output.curves, snakemake.output.residuals)
    log.info("%d logged rows -> %s, %s", len(df), snakemake.output.curves, snakemake.output.residuals)
