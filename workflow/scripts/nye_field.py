"""Snakemake adapter: relaxed dump (+ its record and the build metadata) -> Nye field netCDF (one per kept
microstate along a `state` dim when the relaxation kept several), PNG (+ per-atom dump)."""

from nyegan.nye.case import nye_relaxed_case
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    cfg = snakemake.params.nye
    n = nye_relaxed_case(
        snakemake.input.dump,
        snakemake.input.meta,
        snakemake.input.record,
        snakemake.output.field,
        png=snakemake.output.png,
        atoms=snakemake.output.atoms if cfg["per_atom_dump"] else None,
        potential=snakemake.params.potential,
        reference=cfg["reference"],
        spacing=cfg["spacing"],
        smoothing=cfg["smoothing"],
        average_along=cfg["average_along"],
        max_memory_gb=cfg["max_memory_gb"],
    )
    log.info("%s: %d state(s) -> %s", snakemake.wildcards.case, n, snakemake.output.field)
