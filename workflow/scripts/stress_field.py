"""Snakemake adapter: Nye field (atomistic, or generated/dataset + the atomistic fields of its source cases) ->
stress netCDF + PNG (nyegan.stress.case.stress_case); for one case's field, also the comparison of that stress with
the LAMMPS virial stress of its relaxed dump (JSON + PNG, atomistic_case)."""

from pathlib import Path

from nyegan.scripting import log_to
from nyegan.stress.case import atomistic_case, mean_condition, stress_case

with log_to(snakemake.log[0]) as log:
    cfg = snakemake.params.stress
    references = list(snakemake.input.get("references", []))
    stress_case(
        snakemake.input.field,
        snakemake.output.field,
        snakemake.output.png,
        potential=snakemake.params.potential,
        element=snakemake.params.element,
        rotation=cfg["generated_rotation"] if references else None,
        rotation_fields=references or None,
        scheme=cfg["scheme"],
        mean=mean_condition(cfg["mean_condition"], cfg["mean_strain"], cfg["mean_stress"]),
        workers=cfg["workers"],
        title=Path(snakemake.output.field).stem,
    )
    log.info("stress -> %s", snakemake.output.field)
    if "json" in snakemake.output.keys():  # one case: check against the LAMMPS virial stress
        atomistic_case(
            snakemake.input.dump,
            snakemake.input.field,
            snakemake.output.field,
            snakemake.output.json,
            snakemake.params.potential,
            snakemake.params.element,
            core_radius=cfg["core_radius"],
            core_threshold=cfg["core_threshold"],
            png_path=snakemake.output.atomistic_png,
        )
        log.info("virial comparison -> %s", snakemake.output.json)
