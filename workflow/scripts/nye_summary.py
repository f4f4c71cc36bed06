"""Snakemake adapter: all Nye fields -> summary CSV (case, net Burgers content, max |alpha|, div residual)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

from nyegan.nye.output import write_summary  # noqa: E402

write_summary(snakemake.output.table, {Path(p).stem: p for p in snakemake.input.fields})
