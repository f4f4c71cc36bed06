"""Snakemake adapter: relaxed dump + Nye field + FDM stress -> comparison with the LAMMPS virial stress (JSON, PNG)."""

from nyegan.scripting import log_to
from nyegan.stress.case import atomistic_case

with log_to(snakemake.log[0]) as log:
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
    log.info("virial comparison -> %s", snakemake.output.json)
