"""Snakemake adapter: build one case and write it (science in nyegan.structures)."""

import logging

from nyegan.structures.cases import build_case, write_structure

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p = snakemake.params
structure, meta = build_case(
    p.kind,
    dict(p.spec),
    potential=p.potential,
    element=p.element,
    min_size=p.min_size,
    overlap_cutoff=p.overlap_cutoff,
    seed=p.seed,
    name=snakemake.wildcards.case,
)
write_structure(structure, meta, snakemake.output.data)
logging.info("%s: %d atoms", meta["case"], structure.n_atoms)
