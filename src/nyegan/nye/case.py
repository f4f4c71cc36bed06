"""The Nye stage for one case, from files: a relaxed dump (+ its build metadata) in, a Nye field out.

Used by ``nyegan nye`` and the workflow rule ``nye_field``; the metadata decides how the net Burgers content is
integrated (per boundary for bicrystals, per core region for dislocation cells) and the misorientation axis.
"""

from __future__ import annotations

from pathlib import Path


def nye_from_files(
    dump,
    metadata=None,
    a0=None,
    potential=None,
    reference="auto",
    spacing=1.0,
    smoothing=2.0,
    average_along=None,
    return_atoms=False,
):
    """Read a dump (+ build metadata), compute the field; returns (dataset, structure, atoms or None)."""
    from nyegan.contracts import STRUCTURE
    from nyegan.io import read_dump
    from nyegan.nye import compute_nye

    dump = Path(dump)
    if not dump.is_file():
        raise FileNotFoundError(f"dump file {dump} not found")
    meta = STRUCTURE.read(metadata) if metadata else {}
    if a0 is None:
        a0 = meta.get("a0")
    if a0 is None and potential:
        from nyegan.potentials import cubic_properties

        a0 = cubic_properties(potential).a0
    if a0 is None:
        raise ValueError("lattice parameter unknown: pass --a0 (Å), --potential, or --metadata with 'a0'")
    if reference == "grains" and "rotations" not in meta:
        raise ValueError(
            "--reference grains needs --metadata with 'rotations' ({type: 3x3 crystal->box}); or use --reference auto"
        )
    s = read_dump(dump)
    kw = {}
    if meta.get("kind") in ("gb", "gb_dislocation") and "gb_y" in meta and average_along != "y":
        # per-boundary content (half-cells); near-boundary dislocations add their b to the boundary they face
        kw = {"content": "boundaries", "content_kw": {"boundaries": meta["gb_y"]}}
    elif meta.get("dislocations") and average_along == "z":
        # Voronoi regions of the built core positions: each holds one dislocation with both its partials
        kw = {"content": "cores", "content_kw": {"cores": [d["position"][:2] for d in meta["dislocations"]]}}
    # misorientation axis in the box frame: z for tilt boundaries (and dislocation lines), y for twist boundaries
    axis = "y" if meta.get("boundary_type") == "symmetric_twist" else "z"
    result = compute_nye(
        s,
        float(a0),
        reference=reference,
        rotations=meta.get("rotations"),
        spacing=spacing,
        smoothing=smoothing,
        average_along=average_along,
        tilt_axis=axis,
        return_atoms=return_atoms,
        **kw,
    )
    ds, atoms = result if return_atoms else (result, None)
    ds.attrs["source"] = dump.name
    if meta.get("case"):
        ds.attrs["case"] = meta["case"]
    return ds, s, atoms
