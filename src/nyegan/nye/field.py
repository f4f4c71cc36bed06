"""From atoms to a gridded Nye tensor field: per-atom G -> grid (normalised convolution) -> alpha = curl Ue."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from nyegan.defects.frank_bilby import frank_bilby_content
from nyegan.nye.burgers import unit_vector
from nyegan.nye.geometry import Geometry, canonical_sign
from nyegan.nye.grid import Grid, check_grid_memory, curl_of_distortion, divergence_max
from nyegan.nye.lattice_g import AtomCorrespondence, atom_correspondence
from nyegan.nye.neighbours import wrapped_fractional
from nyegan.nye.reference import AXES, GrainReference, build_reference
from nyegan.structure import Structure

SMOOTH_BATCH_BYTES = 64 << 20  # grid fields smoothed together while their spectra fit in about this much memory
DEPOSIT_CHUNK = 1 << 20  # atoms deposited on (or interpolated from) the grid at a time

CONVENTION = (
    "alpha = curl Ue, (curl A)_ij = eps_jkl d_k A_il; i = Burgers component, j = line direction; "
    "Burgers vector b_i = integral of alpha_ij n_j dS. Ue = I - G^T with G the Hartley-Mishin lattice "
    "correspondence tensor per atom (P G = Q in least squares over matched first-shell bonds: rows of P actual "
    "neighbour vectors, rows of Q the matched bonds of the median reference lattice), deposited on the grid by "
    "cloud-in-cell + Gaussian normalised convolution; derivatives are central differences along the grid axes."
)


def average_axis(cell: np.ndarray, name) -> tuple[int | None, np.ndarray | None]:
    """Cell vector index and unit direction of an averaging direction: 'x' | 'y' | 'z' (the cell vector along
    that box axis), 'a' | 'b' | 'c' (a cell vector, any direction) or None."""
    if name is None or (isinstance(name, str) and name.lower() in ("", "none")):
        return None, None
    if name in ("a", "b", "c"):
        m = "abc".index(name)
    elif name in AXES:
        k = AXES[name]
        cos = np.abs(cell[:, k]) / np.linalg.norm(cell, axis=1)
        m = int(np.argmax(cos))
        if cos[m] < 1 - 1e-9:
            raise ValueError(
                f"average_along={name!r} needs a cell vector parallel to box {name} (cell {cell.tolist()}); "
                "average along a cell vector ('a', 'b', 'c') or pass average_along=None"
            )
    else:
        raise ValueError(f"average_along must be one of 'x', 'y', 'z', 'a', 'b', 'c' or None, got {name!r}")
    return m, cell[m] / np.linalg.norm(cell[m])


def _axis_vector(axis) -> np.ndarray | None:
    if axis is None or (isinstance(axis, str) and axis.lower() in ("", "none", "auto")):
        return None
    if isinstance(axis, str):
        if axis not in AXES:
            raise ValueError(f"tilt_axis must be 'x', 'y', 'z', a 3-vector or None, got {axis!r}")
        return np.eye(3)[AXES[axis]]
    v = np.asarray(axis, dtype=float).reshape(3)
    return v / np.linalg.norm(v)


def reference_from_rotations(rotations: dict, tilt_axis=None) -> GrainReference:
    """GrainReference from ``{grain_id: R}`` (crystal -> box, rows = crystal directions along box x, y, z); the
    misorientation is read about ``tilt_axis`` (box axis name or vector) when given, else the disorientation."""
    ids, rots = _rotations_table(rotations)
    return build_reference(ids, rots, axis=_axis_vector(tilt_axis), method="grains")


def _rotations_table(rotations: dict) -> tuple[np.ndarray, np.ndarray]:
    if not rotations:
        raise ValueError(
            "reference='grains' needs rotations: {grain id: 3x3 crystal->box rotation} "
            "(the build metadata 'rotations'), or use reference='auto'"
        )
    ids = sorted(int(k) for k in rotations)
    rots = []
    for g in ids:
        r = np.asarray(rotations[g] if g in rotations else rotations[str(g)], dtype=float)
        rots.append(r / np.linalg.norm(r, axis=1, keepdims=True))
    return np.array(ids), np.array(rots)


def grid_distortion(
    structure: Structure,
    corr: AtomCorrespondence,
    grid: Grid,
    smoothing: float,
    mask_fraction: float = 0.5,
    cic: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Smoothed G on the grid as its mean (3, 3) plus a float32 deviation field (3, 3, *shape) (NaN where masked),
    the smoothed weight and the mask of usable nodes.

    Normalised convolution: G(node) = mean + smooth(sum w (G_atom - mean)) / smooth(sum w). Only the deviations
    go through the (float32) transforms: a uniform G stays exactly uniform, and the curl, which the constant
    mean does not enter, is taken in float64. Atoms are deposited in chunks of DEPOSIT_CHUNK (memory follows the
    chunk; each chunk's float64 sums are added to the float32 fields, the precision of the smoothing), or at once
    with their cloud-in-cell nodes and weights ``cic`` (:meth:`Grid.cic`) when these are given.
    """
    dtype = np.float32
    kernel = grid.gaussian_kernel(smoothing, dtype=dtype) if smoothing > 0 else None
    all_ok = bool(corr.ok.all())
    if all_ok:
        mean = corr.G.mean(axis=0)
    else:
        mean = corr.G[corr.ok].mean(axis=0) if corr.ok.any() else np.eye(3)
    # the weight and the nine deviations, deposited into one float32 buffer and smoothed in batches
    fields = np.zeros((10,) + grid.shape, dtype=dtype)
    frac = structure.fractional() if cic is None else None
    chunk = DEPOSIT_CHUNK if cic is None else max(structure.n_atoms, 1)
    for start in range(0, structure.n_atoms, chunk):
        sl = slice(start, start + chunk)
        idx, w = grid.cic(frac[sl]) if cic is None else cic
        if not all_ok:
            w = w * corr.ok[sl, None]
        values = np.empty((len(idx), 10))  # the weight alone, then G - mean
        values[:, 0] = 1.0
        np.subtract(corr.G[sl].reshape(-1, 9), mean.reshape(9), out=values[:, 1:])
        grid.deposit_into(fields, idx, w, values)
    del frac
    batch = max(1, SMOOTH_BATCH_BYTES // (8 * fields[0].size))
    for start in range(0, 10, batch):
        fields[start : start + batch] = grid.smooth(fields[start : start + batch], kernel, smoothing)
    density = fields[0]
    positive = density[density > 1e-12]
    bulk = float(np.median(positive)) if positive.size else 0.0
    mask = density > mask_fraction * bulk
    if not mask.any():
        raise ValueError("no grid node holds enough atoms: use a larger spacing or smoothing")
    inv_density = np.zeros(grid.shape, dtype=dtype)
    np.divide(1.0, density, out=inv_density, where=mask)
    dev = fields[1:]
    dev *= inv_density
    dev = dev.reshape((3, 3) + grid.shape)
    dev[:, :, ~mask] = np.nan
    return mean, dev, density.copy(), mask


def interpolate_to_atoms(
    grid: Grid, field: np.ndarray, structure: Structure, cic: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Cloud-in-cell interpolation of a grid field (..., *shape) to the atoms, (N, ...), in chunks of atoms or with
    their nodes and weights ``cic`` (:meth:`Grid.cic`) when given."""
    lead = field.shape[: field.ndim - len(grid.shape)]
    flat = field.reshape((-1, int(np.prod(grid.shape))))
    frac = structure.fractional() if cic is None else None
    chunk = DEPOSIT_CHUNK if cic is None else max(structure.n_atoms, 1)
    vals = np.empty((structure.n_atoms, flat.shape[0]))
    for start in range(0, structure.n_atoms, chunk):
        sl = slice(start, start + chunk)
        idx, w = grid.cic(frac[sl]) if cic is None else cic
        W, lo = grid.cic_matrix(idx, w)
        vals[sl] = W @ flat[:, lo : lo + W.shape[1]].T
    return vals.reshape((structure.n_atoms,) + lead)


def compute_nye(
    structure: Structure,
    a0: float,
    reference: str | GrainReference = "auto",
    rotations=None,
    spacing: float = 1.0,
    smoothing: float = 2.0,
    average_along: str | None = None,
    tilt_axis=None,
    cone_deg: float = 27.0,
    mask_fraction: float = 0.5,
    content: str | None = "auto",
    content_kw: dict | None = None,
    return_atoms: bool = False,
    workers: int = 1,
    grid_n: tuple[int, int, int] | None = None,
    progress: bool | None = None,
    timings: dict | None = None,
    max_memory_gb: float | None = None,
):
    """Nye tensor field of an fcc structure as an ``xarray.Dataset`` (variable ``alpha``, 1/Å), in any frame.

    structure: atoms (Å) in an orthogonal or triclinic box of any orientation; a0: lattice parameter (Å).
    reference: 'grains' (rotation per grain id from ``rotations`` = {id: R crystal->box}), 'auto' (grains detected
      from the atoms by orientation clustering) or a ready :class:`GrainReference`.
    spacing, smoothing: grid spacing and Gaussian width, Å. average_along: 'x' | 'y' | 'z' (the cell vector along
      that box axis), 'a' | 'b' | 'c' (a cell vector) or None: a direction of invariance (straight defect line)
      averaged away and dropped from the output dims.
    tilt_axis: box axis name or vector about which the misorientation is read (the line direction when omitted;
      else detected, see :mod:`nyegan.nye.geometry`).
    content: 'boundaries', 'cores', 'auto' (boundaries when grains meet at planes, cores otherwise) or None:
      integrated net Burgers content stored in attrs (``content_kw`` passed on to :func:`burgers_content`;
      normal, positions and line default to the detected ones).
    grid_n: node counts per cell vector (default from ``spacing``), e.g. to keep one grid along a trajectory.
    progress: a progress bar over atoms (default: on a terminal, for more than 10^6 atoms).
    return_atoms: also return per-atom results (G, ok flag, alpha interpolated to atoms).
    timings: a dict to which the wall time (s) of each stage is added: 'geometry' (grains, boundaries, reference),
      'neighbours', 'G', 'grid' (deposition and smoothing), 'curl' (curl, mask, div check), 'output' (dataset,
      content, per-atom values).
    max_memory_gb: refuse (ValueError, before any allocation) a grid whose estimated memory exceeds this (GB);
      None: the schema default ``nye.max_memory_gb``.
    """
    from nyegan.nye.geometry import correspondence_axis, detect_boundaries

    clock = Stopwatch(timings)

    if not isinstance(structure, Structure):
        raise TypeError("structure must be a nyegan.structure.Structure (read one with nyegan.io.read_atoms)")
    if structure.n_atoms == 0:
        raise ValueError("structure holds no atoms")
    if smoothing < 0:
        raise ValueError(f"smoothing must be >= 0 Å, got {smoothing}")
    if not spacing > 0:
        raise ValueError(f"spacing must be a positive grid spacing in Å, got {spacing}")
    m_avg, t_avg = average_axis(structure.cell, average_along)
    grid = Grid.build(structure.cell, structure.origin, structure.pbc, spacing, m_avg, workers=workers, n=grid_n)
    if max_memory_gb is None:
        from nyegan.config import section_defaults

        max_memory_gb = section_defaults("nye")["max_memory_gb"]
    what = "the cell (" + " x ".join(f"{v:.1f}" for v in structure.lengths) + " Å)"
    check_grid_memory(grid.shape, spacing, max_memory_gb, what)
    axis = _axis_vector(tilt_axis)
    # grains: ids, rotations (crystal -> box), per-atom labels
    if isinstance(reference, GrainReference):
        ids, rots, labels = reference.grain_ids, reference.rotations, structure.grain
    elif reference == "grains":
        ids, rots = _rotations_table(rotations)
        labels = structure.grain
    elif reference == "auto":
        from nyegan.nye.orientation import detect_grains

        labels, rots, _ = detect_grains(structure, a0, cone_deg, workers=workers)
        ids = np.arange(1, len(rots) + 1)
        structure = structure.copy(grain=labels)
    else:
        raise ValueError(f"reference must be 'grains', 'auto' or a GrainReference, got {reference!r}")
    counts = np.array([(labels == g).sum() for g in ids])
    pairs = detect_boundaries(structure, labels, ids, rots, workers=workers) if len(ids) > 1 else []
    if axis is None and t_avg is not None:
        axis, axis_source = t_avg, "average_along"
    elif axis is None:
        axis, axis_source = correspondence_axis(pairs, dict(zip(ids.tolist(), rots)), structure.cell, None)
    else:
        axis_source = "tilt_axis"
    if isinstance(reference, GrainReference):
        ref = reference
    else:
        ref = build_reference(ids, rots, axis=axis, method=reference)
    geometry = Geometry(ids, rots, counts, pairs, correspondence_axis=axis, correspondence_axis_source=axis_source)

    clock.lap("geometry")
    frac = wrapped_fractional(structure)
    corr = atom_correspondence(
        structure, a0, ref, cone_deg=cone_deg, workers=workers, progress=progress, timings=timings, frac=frac
    )
    clock.restart()
    # the atoms' nodes and weights, computed once for deposition and interpolation when they fit in one chunk
    cic = grid.cic(frac) if structure.n_atoms <= DEPOSIT_CHUNK else None
    del frac
    _, G_dev, density, mask = grid_distortion(structure, corr, grid, smoothing, mask_fraction, cic=cic)
    del density
    n_unmatched = int((~corr.ok).sum())
    if not (return_atoms or (content and t_avg is None)):  # per-atom G not needed for atoms or line detection
        corr = None
    clock.lap("grid")
    alpha = curl_of_distortion(grid, G_dev)  # the uniform mean of G has no curl
    del G_dev
    mask = np.isfinite(alpha).all(axis=(0, 1))  # supported by atoms and a full difference stencil
    alpha[:, :, ~mask] = np.nan
    steps = grid.steps
    finite = mask.any()
    largest = max(float(np.nanmax(alpha)), -float(np.nanmin(alpha))) if finite else 0.0  # no |alpha| temporary
    scale = largest / steps[list(grid.dims)].min() if finite else 0.0
    div_rel = float(divergence_max(grid, alpha) / scale) if scale > 0 else 0.0
    clock.lap("curl")

    ds = field_dataset(structure, grid, alpha, mask, a0, spacing, smoothing, mask_fraction, cone_deg, average_along)
    ds.attrs.update(
        {
            "reference": json.dumps(ref.attrs()),
            "reference_method": ref.method,
            "correspondence_angle_deg": float(ref.correspondence_angle_deg),
            "n_atoms": int(structure.n_atoms),
            "n_atoms_unmatched": n_unmatched,
            "div_alpha_relative_residual": div_rel,
        }
    )
    if content == "auto":
        content = "boundaries" if geometry.main_pair is not None else "cores"
    line, line_source = _content_line(structure, geometry, corr, t_avg, m_avg, tilt_axis, content)
    geometry.line, geometry.line_source = line, line_source
    if line is not None:
        cos = np.abs(structure.cell @ line) / structure.lengths
        geometry.line_cell_vector = int(np.argmax(cos)) if cos.max() > 1 - 1e-6 else None
    if content:
        kw = dict(content_kw or {})
        if content == "boundaries":
            kw = _boundary_kw(kw, geometry, ref, line)
        elif "line" not in kw:
            if line is None:
                raise ValueError(
                    "no straight dislocation line found for the core content: pass average_along, "
                    "content_kw={'line': ...}, or content=None"
                )
            kw["line"] = line
        from nyegan.nye.burgers import burgers_content

        entries = burgers_content(ds, kind=content, **kw)
        if content == "boundaries":
            _add_second_line(ds, entries, kw)
        ds.attrs["burgers_content"] = json.dumps(entries)
    _geometry_attrs(ds, geometry)
    if not return_atoms:
        clock.lap("output")
        return ds
    atoms = {
        "G": corr.G,
        "ok": corr.ok,
        "n_matched": corr.n_matched,
        "alpha": interpolate_to_atoms(grid, alpha, structure, cic=cic),
        "grain": structure.grain,
    }
    clock.lap("output")
    return ds, atoms


class Stopwatch:
    """Adds the wall time (s) since the last lap to ``timings[key]`` at each :meth:`lap` (nothing when None)."""

    def __init__(self, timings: dict | None):
        self.timings = timings
        self.restart()

    def restart(self) -> None:
        self.t = time.perf_counter()

    def lap(self, key: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[key] = self.timings.get(key, 0.0) + now - self.t
        self.t = now


def field_dataset(structure, grid, alpha, mask, a0, spacing, smoothing, mask_fraction, cone_deg, average_along):
    """The Nye-field Dataset (variables alpha and mask, coordinates, the grid and convention attrs)."""
    names = [("x", "y", "z")[m] for m in grid.dims]
    values = {
        name: structure.origin[m] + grid.fractions(m) * np.linalg.norm(structure.cell[m])
        for name, m in zip(names, grid.dims)
    }
    values.update(i=np.array(["x", "y", "z"]), j=np.array(["x", "y", "z"]))
    # dimension coordinates with their indexes made here (what xarray would build from plain arrays, faster)
    coords = xr.Coordinates(
        {name: xr.Variable(name, v, {"units": "angstrom"} if name in names else None) for name, v in values.items()},
        indexes={name: PandasIndex(pd.Index(v), name) for name, v in values.items()},
    )
    orthogonal = structure.is_orthogonal
    attrs = {
        "units": "1/angstrom",
        "long_name": "Nye dislocation density tensor",
        "convention": CONVENTION,
        "method": "atomistic: G-method (Hartley-Mishin lattice correspondence)",
        "difference_scheme": "central",
        "burgers_content": "[]",
        "lattice": "fcc",
        "a0_angstrom": float(a0),
        "spacing": float(spacing),
        "grid_steps_angstrom": grid.steps.tolist(),
        "smoothing": float(smoothing),
        "smoothing_kind": "Gaussian normalised convolution, sigma in angstrom",
        "mask_fraction": float(mask_fraction),
        "matching_cone_deg": float(cone_deg),
        "average_along": average_along if average_along not in (None, "", "none") else "none",
        "cell": structure.cell.ravel().tolist(),
        "cell_lengths": structure.lengths.tolist(),
        "origin": structure.origin.tolist(),
        "pbc": [int(p) for p in structure.pbc],
        "grid_frame": (
            "cartesian"
            if orthogonal
            else "cell vectors: coordinate m = origin_m + s_m |cell_m| with s the fractional coordinate; "
            "Cartesian position = origin + sum_m s_m cell_m"
        ),
    }
    ds = xr.Dataset(
        {
            "alpha": (("i", "j", *names), alpha, {"units": "1/angstrom", "long_name": "Nye tensor alpha_ij"}),
            "mask": (
                tuple(names),
                mask.astype(np.int8),
                {
                    "long_name": "1 where atoms support the field and its derivatives, 0 (alpha NaN) at and beyond free surfaces or voids"
                },
            ),
        },
        coords=coords,
        attrs=attrs,
    )
    return ds


def _content_line(structure, geometry, corr, t_avg, m_avg, tilt_axis, content):
    """Line direction for the content integral and where it comes from."""
    if t_avg is not None:
        return t_avg, "average_along"
    pair = geometry.main_pair
    if content == "boundaries" and pair is not None:
        n = pair.normal
        t = _axis_vector(tilt_axis)
        if t is not None and abs(np.dot(t, n)) < 1e-3:
            return t, "tilt_axis"
        t = geometry.correspondence_axis
        if t is not None and abs(np.dot(t, n)) < np.sin(np.radians(2.0)):
            t = t - np.dot(t, n) * n
            return t / np.linalg.norm(t), "misorientation axis in the boundary plane"
        for vec in structure.cell:  # twist or general boundaries: an in-plane cell vector
            if abs(np.dot(vec, n)) < 1e-6 * np.linalg.norm(vec):
                return canonical_sign(vec / np.linalg.norm(vec)), "in-plane cell vector"
        return None, "none"
    if content == "cores" or (content and pair is None):
        t = _axis_vector(tilt_axis)
        if t is not None:
            return t, "tilt_axis"
        from nyegan.nye.geometry import detect_line

        dev = np.linalg.norm((corr.G - corr.G[corr.ok].mean(axis=0)).reshape(len(corr.G), -1), axis=1)
        dev = np.where(corr.ok, dev, dev[corr.ok].max() if corr.ok.any() else 1.0)
        m, _ = detect_line(structure, dev)
        if m is None:
            return None, "none (no straight line found)"
        return canonical_sign(structure.cell[m] / structure.lengths[m]), "detected (straight along a cell vector)"
    return None, "none"


def _boundary_kw(kw: dict, geometry: Geometry, ref: GrainReference, line) -> dict:
    """Normal, positions, line, grains and Frank–Bilby vectors for the boundary content (given ones kept)."""
    pair = geometry.main_pair
    if "normal" not in kw:
        kw["normal"] = pair.normal if pair is not None else "y"
    n = unit_vector(kw["normal"], "normal")
    if "line" not in kw:
        if line is None:
            raise ValueError("no line direction in the boundary plane: pass average_along or content_kw={'line': ...}")
        kw["line"] = line
    t = unit_vector(kw["line"], "line")
    detected = (
        [b for b in geometry.boundaries] if pair is not None and abs(abs(np.dot(pair.normal, n)) - 1) < 1e-6 else []
    )
    if "boundaries" not in kw and detected:
        kw["boundaries"] = [b.position for b in detected]
    if ref.correspondence_angle_deg:
        kw.setdefault("frank_bilby", frank_bilby_content(abs(ref.correspondence_angle_deg)))
    if detected and "boundaries" in kw:
        M = dict(zip([int(g) for g in ref.grain_ids], ref.correspondence_rotations()))
        grains, vectors = [], []
        for yb in np.asarray(kw["boundaries"], float):
            period = detected[0].period
            d = np.array([b.position - yb for b in detected])
            if period:
                d -= period * np.round(d / period)
            b = detected[int(np.argmin(np.abs(d)))]
            below, above = (b.below, b.above) if np.dot(b.normal, n) > 0 else (b.above, b.below)
            grains.append((below, above))
            if below in M and above in M:
                vectors.append((M[below] - M[above]) @ np.cross(t, n))
        kw["grains"] = grains
        if len(vectors) == len(grains):
            kw["frank_bilby_vectors"] = vectors
    return kw


def _add_second_line(ds, entries: list[dict], kw: dict) -> None:
    """Content of the lines along n x t (the second in-plane direction; Frank's second screw set of twists)."""
    from nyegan.nye.burgers import boundary_content

    n = unit_vector(kw["normal"], "normal")
    t = unit_vector(kw["line"], "line")
    u = np.cross(n, t)
    second = boundary_content(ds, normal=n, line=u, boundaries=[e["position"] for e in entries])
    for e, s in zip(entries, second):
        e["second_line_vector"] = s["line_vector"]
        e["content_per_length_second_line"] = s["content_per_length"]


def _geometry_attrs(ds, geometry: Geometry) -> None:
    """Everything detected, as attrs: JSON record plus flat numeric attrs for the main pair."""
    ds.attrs["detected_geometry"] = json.dumps(geometry.attrs())
    if geometry.line is not None:
        ds.attrs["line_direction"] = np.round(geometry.line, 12).tolist()
    ds.attrs["line_source"] = geometry.line_source
    pair = geometry.main_pair
    if pair is not None:
        ds.attrs["boundary_normal"] = np.round(pair.normal, 12).tolist()
        ds.attrs["boundary_positions"] = [float(b.position) for b in geometry.boundaries]
        ds.attrs["boundary_character"] = pair.character
        ds.attrs["misorientation_angle_deg"] = float(pair.angle_deg)
        ds.attrs["misorientation_axis_box"] = np.round(pair.axis_box, 12).tolist()
