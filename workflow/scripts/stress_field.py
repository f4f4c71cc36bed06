"""Snakemake adapter: Nye field (atomistic, or generated + the atomistic fields of its source cases) -> stress
netCDF + PNG."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

from nyegan.stress.case import mean_condition, stress_case  # noqa: E402

cfg = snakemake.params.stress
references = list(snakemake.input.get("references", [])) if hasattr(snakemake.input, "get") else []
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
