"""Snakemake adapter: collect the relaxed GB JSONs into results/gb_energies.csv + .png."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))  # noqa: F821

from nyegan.relax.table import write_gb_table  # noqa: E402

with open(snakemake.log[0], "w") as log:  # noqa: F821
    rows = write_gb_table(snakemake.input, snakemake.output.csv, snakemake.output.png)  # noqa: F821
    log.write(f"{len(rows)} boundaries -> {snakemake.output.csv}\n")  # noqa: F821
