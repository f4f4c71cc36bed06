"""Snakemake adapter: per-case atomistic comparisons (JSON) -> one CSV table (case x stress component)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from nyegan.stress.case import comparison_table  # noqa: E402

comparison_table(list(snakemake.input), snakemake.output.table)
