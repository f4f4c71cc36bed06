"""Snakemake adapter: relaxed dump + Nye field + FDM stress -> comparison with the LAMMPS virial stress (JSON, PNG)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from nyegan.stress.case import atomistic_case  # noqa: E402

cfg = snakemake.params.stress
atomistic_case(
    snakemake.input.dump,
    snakemake.input.field,
    snakemake.input.stress,
    snakemake.output.json,
    snakemake.params.potential,
    snakemake.params.element,
    core_radius=cfg["core_radius"],
    core_threshold=cfg["core_threshold"],
    png_path=snakemake.output.png,
)
