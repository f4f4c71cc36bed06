"""Snakemake adapter: Nye fields -> Frank–Bilby and Burgers-vector check tables and figures (nyegan.nye.checks)."""

from pathlib import Path

from nyegan.nye.checks import write_checks
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    out = snakemake.output
    boundaries, cores = write_checks(
        {Path(p).stem: p for p in snakemake.input.fields},
        {Path(p).stem: p for p in snakemake.input.meta},
        out.frank_bilby,
        out.frank_bilby_png,
        out.burgers,
        out.burgers_png,
    )
    worst = max((r["relative_error"] for r in boundaries), default=float("nan"))
    log.info("%d boundaries (largest relative Frank-Bilby error %.2e), %d cores", len(boundaries), worst, len(cores))
