"""Snakemake adapter: build one case and write it (science in nyegan.structures)."""

from nyegan.scripting import log_to
from nyegan.structures.cases import build_case, write_structure

with log_to(snakemake.log[0]) as log:
    p = snakemake.params
    structure, meta = build_case(
        p.case["kind"],
        dict(p.case["params"]),
        potential=p.potential,
        element=p.element,
        min_size=p.min_size,
        overlap_cutoff=p.overlap_cutoff,
        seed=p.seed,
        name=snakemake.wildcards.case,
    )
    write_structure(structure, meta, snakemake.output.data)
    log.info("%s: %d atoms", meta["case"], structure.n_atoms)
    if meta.get("size_converged") is False:
        log.warning("%s: %s", meta["case"], meta["note"])
