"""Snakemake adapter: relaxed dump + build metadata -> Nye field netCDF, PNG (+ per-atom dump)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

from nyegan.nye.case import nye_from_files  # noqa: E402
from nyegan.nye.output import plot_field, write_atom_dump, write_field  # noqa: E402

cfg = snakemake.params.nye
case = Path(snakemake.output.field).stem
atoms_out = snakemake.output.get("atoms") if hasattr(snakemake.output, "get") else None
ds, structure, atoms = nye_from_files(
    snakemake.input.dump,
    snakemake.input.meta,
    a0=None,
    potential=snakemake.params.potential,
    reference=cfg["reference"],
    spacing=cfg["spacing"],
    smoothing=cfg["smoothing"],
    average_along=cfg["average_along"],
    return_atoms=bool(cfg["per_atom_dump"]),
)
ds.attrs["case"] = case
write_field(ds, snakemake.output.field)
plot_field(ds, snakemake.output.png, title=case)
if cfg["per_atom_dump"] and atoms_out:
    write_atom_dump(atoms_out, structure, atoms)
