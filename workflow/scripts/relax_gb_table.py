"""Snakemake adapter: collect the relaxed GB JSONs into results/gb_energies.csv + .png."""

from nyegan.relax.table import write_gb_table
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    rows = write_gb_table(snakemake.input, snakemake.output.csv, snakemake.output.png)
    log.info("%d boundaries -> %s", len(rows), snakemake.output.csv)
