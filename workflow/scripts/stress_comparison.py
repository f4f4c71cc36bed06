"""Snakemake adapter: per-case atomistic comparisons (JSON) -> one CSV table (case x stress component)."""

from nyegan.scripting import log_to
from nyegan.stress.case import comparison_table

with log_to(snakemake.log[0]) as log:
    comparison_table(list(snakemake.input), snakemake.output.table)
    log.info("table -> %s", snakemake.output.table)
