"""The Nye stage for one case, from files: atoms (+ optional build metadata) in, a Nye field out.

Used by ``nyegan nye`` and the workflow rule ``nye_field``. Input formats are detected from the content (LAMMPS
dump or data file, extended XYZ; gzip too). The metadata, when given, decides how the net Burgers content is
integrated (per boundary for bicrystals, per core region for dislocation cells) and the misorientation axis;
without it everything is detected from the atoms (:mod:`nyegan.nye.geometry`). A file with several frames gives
one field per frame along a ``time`` dim (:func:`nye_trajectory`), computed and written frame by frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nyegan.provenance import as_attr, provenance


def _lattice_parameter(meta: dict, a0, potential) -> float:
    if a0 is None:
        a0 = meta.get("a0")
    if a0 is None and potential:
        from nyegan.potentials import cubic_properties

        a0 = cubic_properties(potential).a0
    if a0 is None:
        raise ValueError("lattice parameter unknown: pass --a0 (Å), --potential, or --metadata with 'a0'")
    return float(a0)


def _case_options(meta: dict, reference: str, average_along) -> dict:
    """compute_nye options implied by the build metadata (empty without metadata)."""
    if reference == "grains" and "rotations" not in meta:
        raise ValueError(
            "--reference grains needs --metadata with 'rotations' ({type: 3x3 crystal->box}); or use --reference auto"
        )
    kw = {}
    if meta.get("kind") in ("gb", "gb_dislocation") and "gb_y" in meta and average_along != "y":
        # per-boundary content (half-cells); near-boundary dislocations add their b to the boundary they face
        kw = {"content": "boundaries", "content_kw": {"boundaries": meta["gb_y"], "normal": "y"}}
    elif meta.get("dislocations") and average_along == "z":
        # Voronoi regions of the built core positions: each holds one dislocation with both its partials
        kw = {"content": "cores", "content_kw": {"cores": [d["position"][:2] for d in meta["dislocations"]]}}
    rotations = meta.get("rotations") or {}
    if "axis" in meta and rotations and meta.get("kind") in ("gb", "gb_dislocation", "twist"):
        # misorientation axis in the box frame: the crystal axis of grain 1 rotated into the box
        r1 = np.asarray(rotations.get("1", next(iter(rotations.values()))), float)
        r1 = r1 / np.linalg.norm(r1, axis=1, keepdims=True)
        kw["tilt_axis"] = r1 @ np.asarray(meta["axis"], float) / np.linalg.norm(meta["axis"])
    elif meta.get("boundary_type") == "symmetric_twist":
        kw["tilt_axis"] = "y"
    return kw


def check_grain_ids(s, meta: dict, reference: str, path) -> None:
    """With ``--reference grains`` the atom types are the grain ids of the metadata's rotations: refuse a file
    whose atoms do not carry them (e.g. a dump written without its ``type`` column, read as one grain)."""
    if reference != "grains" or not meta.get("rotations"):
        return
    declared = {int(k) for k in meta["rotations"]}
    present = {int(g) for g in np.unique(s.grain)}
    if not present <= declared or (len(declared) > 1 and len(present) == 1):
        raise ValueError(
            f"{path}: --reference grains needs the atom types to be the grain ids {sorted(declared)} of the "
            f"metadata, but the atoms carry {sorted(present)} (a file without its 'type' column?); write the "
            f"types with the atoms, or use --reference auto"
        )


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
    frame: int = 0,
    fmt: str | None = None,
    max_memory_gb: float | None = None,
):
    """Read one frame of an atoms file (+ build metadata), compute the field; returns (dataset, structure,
    atoms or None). The field's ``provenance`` attr records these settings and the input files' hashes;
    ``max_memory_gb`` (None: the schema default) bounds the grid's memory."""
    from nyegan.contracts import STRUCTURE
    from nyegan.io import read_atoms
    from nyegan.nye import compute_nye

    dump = Path(dump)
    if not dump.is_file():
        raise FileNotFoundError(f"atoms file {dump} not found")
    meta = STRUCTURE.read(metadata) if metadata else {}
    a0 = _lattice_parameter(meta, a0, potential)
    kw = _case_options(meta, reference, average_along)
    s = read_atoms(dump, fmt, index=frame)
    check_grain_ids(s, meta, reference, dump)
    result = compute_nye(
        s,
        a0,
        reference=reference,
        rotations=meta.get("rotations"),
        spacing=spacing,
        smoothing=smoothing,
        average_along=average_along,
        return_atoms=return_atoms,
        max_memory_gb=max_memory_gb,
        **kw,
    )
    ds, atoms = result if return_atoms else (result, None)
    ds.attrs["source"] = dump.name
    if meta.get("case"):
        ds.attrs["case"] = meta["case"]
    settings = dict(spacing=spacing, smoothing=smoothing, reference=reference, average_along=average_along, a0=a0,
                    potential=potential, frame=frame, format=fmt, max_memory_gb=max_memory_gb)  # fmt: skip
    ds.attrs["provenance"] = as_attr(provenance("nye", settings, inputs=[dump, metadata]))
    return ds, s, atoms


def has_several_frames(path, fmt=None) -> bool:
    """True when the file holds more than one frame (reads at most two)."""
    from nyegan.io import iter_frames

    frames = iter_frames(path, fmt)
    next(frames)
    try:
        next(frames)
    except StopIteration:
        return False
    finally:
        frames.close()
    return True


def nye_trajectory(
    path,
    output,
    metadata=None,
    a0=None,
    potential=None,
    reference="auto",
    spacing=1.0,
    smoothing=2.0,
    average_along=None,
    fmt: str | None = None,
    vti=None,
    progress: bool | None = None,
    frame_dim: str = "time",
    labels: list[dict] | None = None,
    label_meta: dict | None = None,
    max_memory_gb: float | None = None,
) -> int:
    """One Nye field per frame of ``path`` into one netCDF with a ``time`` dim (atomic write), streamed frame by
    frame; the grid (node counts) of the first frame is kept for all. ``vti``: also one ``.vti`` per frame
    (``STEM_t<timestep>.vti``) and a ParaView collection ``STEM.pvd``. Returns the number of frames."""
    from nyegan.contracts import STRUCTURE
    from nyegan.io import atomic_path, iter_frames
    from nyegan.nye import compute_nye
    from nyegan.nye.output import FieldSeriesWriter
    from nyegan.nye.vtk import write_pvd, write_vti
    from nyegan.progress import progress_bar

    path = Path(path)
    meta = STRUCTURE.read(metadata) if metadata else {}
    a0 = _lattice_parameter(meta, a0, potential)
    kw = _case_options(meta, reference, average_along)
    entries = []
    grid_n = None
    settings = dict(spacing=spacing, smoothing=smoothing, reference=reference, average_along=average_along, a0=a0,
                    potential=potential, format=fmt, max_memory_gb=max_memory_gb)  # fmt: skip
    record = as_attr(provenance("nye", settings, inputs=[path, metadata]))
    with atomic_path(output) as tmp:
        writer = FieldSeriesWriter(tmp, frame_dim=frame_dim, labels=label_meta)
        try:
            for fr in progress_bar(iter_frames(path, fmt), desc=f"nye {path.name}", unit="frame", show=progress):
                s = fr.structure
                check_grain_ids(s, meta, reference, path)
                if grid_n is None:
                    grid_n = tuple(max(3, int(round(L / spacing))) for L in s.lengths)
                ds = compute_nye(
                    s,
                    a0,
                    reference=reference,
                    rotations=meta.get("rotations"),
                    spacing=spacing,
                    smoothing=smoothing,
                    average_along=average_along,
                    grid_n=grid_n,
                    max_memory_gb=max_memory_gb,
                    **kw,
                )
                ds.attrs["source"] = path.name
                ds.attrs["provenance"] = record
                if meta.get("case"):
                    ds.attrs["case"] = meta["case"]
                writer.append(ds, fr.timestep, fr.index, labels[fr.index] if labels else None)
                if vti:
                    stem = Path(vti).with_suffix("")
                    name = f"{stem.name}_t{fr.timestep}.vti"
                    write_vti(ds, stem.parent / name)
                    entries.append((fr.timestep, name))
                del ds, s
        finally:
            writer.close()
    if vti:
        write_pvd(Path(vti).with_suffix(".pvd"), entries)
    return len(entries) if vti else writer.count


ENSEMBLE_LABELS = {
    "gb_energy_mJ_m2": {"units": "mJ/m^2", "long_name": "boundary energy of the state (NaN for dislocation cells)"},
    "energy_eV": {"units": "eV", "long_name": "potential energy of the state"},
    "temperature_K": {"units": "K", "long_name": "MD temperature of a snapshot (0: a relaxed metastable state)"},
    "n_atoms_state": {"units": "1", "long_name": "atoms in the state"},
}


def nye_relaxed_case(dump, metadata, record, output, *, png=None, atoms=None, **settings):
    """The workflow's Nye stage for one relaxed case: one field, or one per kept microstate.

    ``record``: the relaxed JSON (``nyegan.contracts.RELAXED``). A single frame gives the plain Nye-field file
    (dims i, j, x, y[, z]); several frames (``relax.ensemble``) give one file with a leading ``state`` dim, the
    state's rank as coordinate and its boundary energy, energy and temperature as variables. ``settings``:
    ``a0``, ``potential``, ``reference``, ``spacing``, ``smoothing``, ``average_along`` as for
    :func:`nye_from_files`. Returns the number of states written."""
    from nyegan.contracts import RELAXED
    from nyegan.nye.output import plot_field, write_atom_dump, write_field

    rec = RELAXED.read(record)
    case = rec["case"]
    n = int(rec.get("n_frames", 1))
    ds, structure, per_atom = nye_from_files(dump, metadata, return_atoms=bool(atoms), **settings)
    ds.attrs["case"] = case
    if png:
        plot_field(ds, png, title=case)
    if atoms:
        write_atom_dump(atoms, structure, per_atom)
    if n == 1:
        write_field(ds, output)
        return 1
    labels = [
        {"gb_energy_mJ_m2": e.get("gb_energy_mJ_m2", float("nan")), "energy_eV": e.get("energy_eV", float("nan")),
         "temperature_K": e.get("temperature_K", 0.0), "n_atoms_state": e.get("n_atoms", float("nan"))}
        for e in rec["ensemble"]
    ]  # fmt: skip
    keep = {
        k: settings[k]
        for k in ("a0", "potential", "reference", "spacing", "smoothing", "average_along")
        if k in settings
    }
    return nye_trajectory(dump, output, metadata=metadata, frame_dim="state", labels=labels,
                          label_meta=ENSEMBLE_LABELS, progress=False, **keep)  # fmt: skip
