"""Build one case of a sweep from its parameters, and write it as LAMMPS data + JSON metadata."""

from __future__ import annotations

import os
from pathlib import Path

import nyegan
from nyegan.contracts import STRUCTURE
from nyegan.io import atomic_path, write_data, write_json
from nyegan.io.atomic import _to_jsonable
from nyegan.potentials import cubic_properties, resolve_potential
from nyegan.provenance import provenance
from nyegan.structure import Structure


def write_structure(structure: Structure, meta: dict, data_path: str | os.PathLike) -> Path:
    """Write ``data_path`` (LAMMPS data, atom type = grain id) and the metadata next to it (``.json``), checked
    against the structure contract first and renamed into place together (both appear, or neither)."""
    data_path = Path(data_path)
    json_path = data_path.with_suffix(".json")
    n_types = max(2 if meta.get("kind") in ("gb", "gb_dislocation") else 1, int(structure.grain.max()))
    record = STRUCTURE.check(_to_jsonable(STRUCTURE.stamp(meta)), json_path)
    with atomic_path(data_path) as tmp_data, atomic_path(json_path) as tmp_json:
        comment = f"nyegan {meta.get('case', '')}"
        write_data(tmp_data, structure, comment=comment, n_types=n_types, mass=meta.get("mass_amu"))
        write_json(tmp_json, record)
    return json_path


def build_case(
    kind: str,
    params: dict,
    *,
    potential: str,
    element: str | None = None,
    min_size,
    overlap_cutoff=None,
    seed: int = 0,
    name: str | None = None,
) -> tuple[Structure, dict]:
    """Build a case: ``kind`` is "gb", "dislocation" or "gb_dislocation"; ``params`` as from
    :func:`nyegan.config.expand_cases`. Lattice and elastic constants come from the potential. The metadata
    records its provenance (these arguments, versions, the potential file's hash)."""
    pot = resolve_potential(potential, element)
    props = cubic_properties(pot)
    if kind == "gb" and params.get("twist"):
        from nyegan.structures.twist import build_twist

        structure, meta = build_twist(
            params["axis"],
            params["misorientation"],
            a0=props.a0,
            min_size=min_size,
            overlap_cutoff=overlap_cutoff,
            seed=seed,
        )
    elif kind == "gb":
        from nyegan.structures.gb import build_stgb

        structure, meta = build_stgb(
            params["axis"],
            params.get("plane"),
            params.get("misorientation"),
            a0=props.a0,
            min_size=min_size,
            sigma_max=params.get("sigma_max"),
            overlap_cutoff=overlap_cutoff,
            seed=seed,
        )
    elif kind == "dislocation":
        from nyegan.structures.dislocation import build_dislocation_cell

        structure, meta = build_dislocation_cell(
            params["character"],
            props.a0,
            props,
            line=params.get("line"),
            min_size=params.get("min_size", min_size),
            arrangement=params.get("arrangement"),
            seed=seed,
        )
    elif kind == "gb_dislocation":
        from nyegan.structures.combined import add_dislocations_near_gb
        from nyegan.structures.gb import build_stgb

        bicrystal, gb_meta = build_stgb(
            params["axis"],
            params["plane"],
            a0=props.a0,
            min_size=params.get("min_size", min_size),
            overlap_cutoff=overlap_cutoff,
            seed=seed,
        )
        structure, meta = add_dislocations_near_gb(
            bicrystal,
            gb_meta,
            params["character"],
            props.a0,
            props,
            params["distance"],
            arrangement=params.get("arrangement", "quadrupole"),
        )
    else:
        raise ValueError(f"unknown case kind '{kind}'; expected gb, dislocation or gb_dislocation")
    meta.update(
        {
            "case": name or meta.get("case"),
            "potential": pot.name,
            "potential_path": str(pot.path),
            "potential_sha256": pot.sha256(),
            "element": pot.element,
            "mass_amu": pot.mass,
            "a0": props.a0,
            "cohesive_energy_eV": props.ecoh,
            "elastic_constants_GPa": {"c11": props.c11, "c12": props.c12, "c44": props.c44},
            "seed": seed,
            "nyegan_version": nyegan.__version__,
            "provenance": provenance(
                "structures",
                {
                    "kind": kind,
                    "case": params,
                    "potential": str(potential),
                    "element": pot.element,
                    "min_size": min_size,
                    "overlap_cutoff": overlap_cutoff,
                    "seed": seed,
                },
                inputs=[pot.path],
            ),
        }
    )
    return structure, meta
