"""Snakemake adapter: relaxed dump + build metadata -> Nye field netCDF, PNG (+ per-atom dump)."""

from pathlib import Path

from nyegan.nye.case import nye_from_files
from nyegan.nye.output import plot_field, write_atom_dump, write_field
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    cfg = snakemake.params.nye
    case = Path(snakemake.output.field).stem
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
        max_memory_gb=cfg["max_memory_gb"],
    )
    ds.attrs["case"] = case
    write_field(ds, snakemake.output.field)
    plot_field(ds, snakemake.output.png, title=case)
    if cfg["per_atom_dump"]:
        write_atom_dump(snakemake.output.atoms, structure, atoms)
    log.info("%s: alpha %s, content %s", case, dict(ds["alpha"].sizes), ds.attrs.get("burgers_content"))
