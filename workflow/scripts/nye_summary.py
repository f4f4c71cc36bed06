"""Snakemake adapter: all Nye fields -> summary CSV (case, net Burgers content, max |alpha|, div residual)."""

from pathlib import Path

from nyegan.nye.output import write_summary
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    rows = write_summary(snakemake.output.table, {Path(p).stem: p for p in snakemake.input.fields})
    log.info("%d cases -> %s", len(rows), snakemake.output.table)
