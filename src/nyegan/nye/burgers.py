"""Integrated net Burgers content of a Nye field: per boundary (per unit length) or per dislocation core, in any
frame: the line direction t and the boundary normal n are unit vectors of the box frame ('x', 'y', 'z' name the
box axes).

Cores: b_i = integral of alpha_ij t_j dS over a section normal to the line t, which must lie along a cell vector
(the grid dimension that is, or gets, averaged away). Regions are the Voronoi cells of the cores in the section
(periodic minimum image).

Boundaries: planes normal to n at positions d_k = n . (x - origin) (Å, modulo the repeat distance P of the cell's
planes normal to n). Each node belongs to its nearest plane; the content per unit boundary length of lines along
t (in the plane) is B_i = (P / V) integral over the slab of alpha_ij t_j dV = (P / N) sum over its nodes of
alpha_ij t_j, N the number of grid intervals: the slab's Burgers vector per unit area of boundary, per unit
length across the lines. For a sharp jump [Ue] of the distortion across a plane with normal n pointing from the
grain below to the grain above, B = [Ue] (t x n) (Frank–Bilby).

Regions tile the cell, so the contents of all regions of a periodic cell add up to zero. Masked nodes (NaN)
count as zero; the fraction of masked nodes in each region is reported.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from nyegan.nye.reference import AXES

DIMS = ("x", "y", "z")


def unit_vector(v, what: str) -> np.ndarray:
    """'x' | 'y' | 'z' or a 3-vector -> unit vector (box frame)."""
    if isinstance(v, str):
        if v not in AXES:
            raise ValueError(f"{what} must be 'x', 'y', 'z' or a 3-vector, got {v!r}")
        return np.eye(3)[AXES[v]]
    arr = np.asarray(v, dtype=float).reshape(-1)
    if arr.size != 3 or not np.linalg.norm(arr) > 0:
        raise ValueError(f"{what} must be 'x', 'y', 'z' or a non-zero 3-vector, got {v!r}")
    return arr / np.linalg.norm(arr)


def axis_label(v: np.ndarray) -> str:
    """'x', 'y' or 'z' when ``v`` is along a box axis (either sense), else 'oblique'."""
    k = int(np.argmax(np.abs(v)))
    return DIMS[k] if abs(abs(v[k]) - 1.0) < 1e-9 else "oblique"


def _cell(ds) -> np.ndarray:
    return np.asarray(ds.attrs["cell"], dtype=float).reshape(3, 3)


def _pbc(ds) -> list[bool]:
    return [bool(p) for p in ds.attrs.get("pbc", [1, 1, 1])]


def _present(ds) -> list[int]:
    return [AXES[d] for d in DIMS if d in ds["alpha"].dims]


def _intervals(ds, m: int) -> int:
    return ds.sizes[DIMS[m]] - (0 if _pbc(ds)[m] else 1)


def _fractions(ds, m) -> np.ndarray:
    L = np.linalg.norm(_cell(ds)[m])
    return (ds[DIMS[m]].values - ds.attrs["origin"][m]) / L


def _contracted(ds, t: np.ndarray) -> np.ndarray:
    """sum_j alpha_ij t_j, (3, *spatial) with NaN kept."""
    a = ds["alpha"].transpose("i", "j", *[DIMS[m] for m in _present(ds)]).values
    return np.einsum("ij...,j->i...", a, t)


def line_cell_vector(ds, t: np.ndarray) -> int:
    """Index of the cell vector parallel to the line ``t``; raises when there is none."""
    cell = _cell(ds)
    cos = np.abs(cell @ t) / np.linalg.norm(cell, axis=1)
    m = int(np.argmax(cos))
    if cos[m] < 1 - 1e-6:
        raise ValueError(
            f"line direction {np.round(t, 6).tolist()} is not along a cell vector ({cell.tolist()}): core "
            "regions need sections normal to a cell vector"
        )
    return m


def _node_positions(ds) -> np.ndarray:
    """(n_nodes, 3) Cartesian positions (relative to the origin) of the nodes present (C order)."""
    cell = _cell(ds)
    present = _present(ds)
    fr = np.meshgrid(*[_fractions(ds, m) for m in present], indexing="ij")
    pos = np.zeros((fr[0].size, 3))
    for d, m in enumerate(present):
        pos += fr[d].reshape(-1, 1) * cell[m]
    return pos


def plane_period(cell: np.ndarray, pbc, n: np.ndarray) -> float | None:
    """Repeat distance (Å) of the cell's lattice planes normal to ``n``, or None if ``n`` is not such a normal."""
    from nyegan.nye.geometry import snap_to_lattice_plane

    snapped, period = snap_to_lattice_plane(cell, pbc, n, max_index=6, tol_deg=0.05)
    return period


def boundary_content(
    ds: xr.Dataset,
    normal="y",
    line="z",
    boundaries=None,
    frank_bilby: float | None = None,
    frank_bilby_vectors=None,
    grains=None,
) -> list[dict]:
    """Net Burgers content per unit boundary length (dimensionless) of each planar boundary normal to ``normal``.

    boundaries: positions n . (x - origin) (Å); detected as the two strongest peaks of the profile of |alpha|
    along n (at least a quarter period apart) when None. Each boundary owns the nodes nearer to it than to the
    others. ``frank_bilby_vectors`` (one 3-vector per boundary) and ``grains`` ((below, above) per boundary)
    are recorded with each entry.
    """
    n = unit_vector(normal, "normal")
    t = unit_vector(line, "line")
    if abs(np.dot(n, t)) > 1e-6:
        raise ValueError(f"line {t.tolist()} must lie in the boundary plane (normal {n.tolist()})")
    cell = _cell(ds)
    pbc = _pbc(ds)
    period = plane_period(cell, pbc, n)
    a = np.nan_to_num(_contracted(ds, t)).reshape(3, -1)
    masked = np.isnan(ds["alpha"].isel(i=0, j=0).transpose(*[DIMS[m] for m in _present(ds)]).values).ravel()
    phase = _node_positions(ds) @ n
    if period:
        phase %= period
    span = (
        period
        if period
        else float(np.ptp(phase))
        + float(np.min(np.linalg.norm(cell, axis=1))) / max(ds.sizes[DIMS[m]] for m in _present(ds))
    )
    if boundaries is None:
        mag = np.sqrt(np.nansum(ds["alpha"].values ** 2, axis=(0, 1))).ravel()
        bins = max(8, int(round(span / 0.25)))
        b = np.clip(((phase - (0 if period else phase.min())) / span * bins).astype(int), 0, bins - 1)
        profile = np.bincount(b, weights=mag, minlength=bins)
        centres = (np.arange(bins) + 0.5) * span / bins + (0 if period else phase.min())
        first = int(np.argmax(profile))
        dist = centres - centres[first]
        if period:
            dist -= period * np.round(dist / period)
        rest = np.where(np.abs(dist) > span / 4, profile, -np.inf)
        boundaries = [centres[first]] + ([centres[int(np.argmax(rest))]] if np.isfinite(rest).any() else [])
        boundaries = sorted(boundaries)
    boundaries = np.asarray(boundaries, dtype=float).reshape(-1)
    d = phase[:, None] - boundaries[None, :]
    if period:
        d -= period * np.round(d / period)
    owner = np.argmin(np.abs(d), axis=1)
    n_int = int(np.prod([_intervals(ds, m) for m in _present(ds)]))
    out = []
    for k, yb in enumerate(boundaries):
        sel = owner == k
        bvec = a[:, sel].sum(axis=1) * span / n_int
        entry = {
            "kind": "boundary",
            "normal": axis_label(n),
            "line": axis_label(t),
            "normal_vector": np.round(n, 12).tolist(),
            "line_vector": np.round(t, 12).tolist(),
            "position": float(yb),
            "period": float(span),
            "content_per_length": bvec.tolist(),
            "magnitude": float(np.linalg.norm(bvec)),
            "masked_fraction": float(masked[sel].mean()) if sel.any() else 0.0,
        }
        if grains is not None:
            entry["grain_below"], entry["grain_above"] = (int(g) for g in grains[k])
        if frank_bilby is not None:
            entry["frank_bilby_2sin_half_theta"] = float(frank_bilby)
        if frank_bilby_vectors is not None:
            entry["frank_bilby_vector"] = np.asarray(frank_bilby_vectors[k], float).tolist()
        out.append(entry)
    return out


def _section(ds: xr.Dataset, t: np.ndarray) -> tuple[np.ndarray, list[int], int]:
    """alpha_ij t_j averaged along the line's cell vector if present: (3, n1, n2), the section's cell vectors."""
    m = line_cell_vector(ds, t)
    a = _contracted(ds, t)
    present = _present(ds)
    if m in present:
        a = np.nanmean(a, axis=1 + present.index(m)) if np.isnan(a).any() else a.mean(axis=1 + present.index(m))
        present = [p for p in present if p != m]
    if len(present) != 2:
        raise ValueError(f"cannot take a section normal to the line: field dims are {ds['alpha'].dims}")
    return a, present, m


def _section_area(ds, plane: list[int], t: np.ndarray) -> float:
    """Area (Å^2) of one node of the section normal to ``t`` spanned by cell vectors ``plane``."""
    cell = _cell(ds)
    area = abs(float(np.dot(np.cross(cell[plane[0]], cell[plane[1]]), t)))
    return area / (_intervals(ds, plane[0]) * _intervals(ds, plane[1]))


def find_cores(ds: xr.Dataset, line="z", merge_radius: float = 10.0, threshold: float = 0.25) -> np.ndarray:
    """Core positions (section coordinates, Å: the coordinates of the two grid dims kept) as peaks of
    |alpha . t| smoothed over ``merge_radius``/2."""
    t = unit_vector(line, "line")
    sec, plane, _ = _section(ds, t)
    mag = np.sqrt(np.nansum(sec**2, axis=0))
    steps = np.array([float(ds[DIMS[m]].values[1] - ds[DIMS[m]].values[0]) for m in plane])
    modes = ["wrap" if _pbc(ds)[m] else "constant" for m in plane]
    sigma = 0.5 * merge_radius / steps
    sm = mag
    for ax in range(2):
        sm = ndimage.gaussian_filter1d(sm, sigma[ax], axis=ax, mode=modes[ax])
    size = [max(3, int(2 * merge_radius / s) | 1) for s in steps]
    peaks = (sm == ndimage.maximum_filter(sm, size=size, mode=modes)) & (sm > threshold * sm.max())
    idx = np.argwhere(peaks)
    return np.array([[ds[DIMS[plane[0]]].values[i], ds[DIMS[plane[1]]].values[j]] for i, j in idx])


def core_content(ds: xr.Dataset, line="z", cores=None, merge_radius: float = 10.0) -> list[dict]:
    """Burgers vector (Å, box frame) of each dislocation core: integral of alpha . t over the nodes nearest to it.

    cores: (n, 2) positions in the section coordinates (the two grid dims other than the line's, in x, y, z
    order; Cartesian for orthogonal cells); detected when None.
    """
    t = unit_vector(line, "line")
    sec, plane, _ = _section(ds, t)
    cores = find_cores(ds, t, merge_radius) if cores is None else np.asarray(cores, dtype=float).reshape(-1, 2)
    if len(cores) == 0:
        return []
    cell = _cell(ds)
    origin = np.asarray(ds.attrs["origin"], float)
    lengths = np.linalg.norm(cell, axis=1)
    f0, f1 = np.meshgrid(_fractions(ds, plane[0]), _fractions(ds, plane[1]), indexing="ij")
    fnodes = np.stack([f0.ravel(), f1.ravel()], axis=1)
    fcores = (cores - origin[plane]) / lengths[plane]
    df = fnodes[:, None, :] - fcores[None, :, :]
    for d, m in enumerate(plane):
        if _pbc(ds)[m]:
            df[..., d] -= np.round(df[..., d])
    vec = df[..., 0:1] * cell[plane[0]] + df[..., 1:2] * cell[plane[1]]
    vec -= np.einsum("nck,k->nc", vec, t)[..., None] * t  # distances within the section normal to t
    owner = np.argmin(np.linalg.norm(vec, axis=2), axis=1)
    vals = np.nan_to_num(sec).reshape(3, -1)
    masked = np.isnan(sec[0]).ravel()
    area = _section_area(ds, plane, t)
    out = []
    for k, c in enumerate(cores):
        sel = owner == k
        b = vals[:, sel].sum(axis=1) * area
        cart = origin + fcores[k, 0] * cell[plane[0]] + fcores[k, 1] * cell[plane[1]]
        out.append(
            {
                "kind": "core",
                "line": axis_label(t),
                "line_vector": np.round(t, 12).tolist(),
                "position": c.tolist(),
                "position_cartesian": cart.tolist(),
                "burgers_vector": b.tolist(),
                "magnitude": float(np.linalg.norm(b)),
                "masked_fraction": float(masked[sel].mean()),
            }
        )
    return out


def burgers_content(ds: xr.Dataset, kind: str = "cores", **kw) -> list[dict]:
    """Integrated net Burgers content: kind 'boundaries' (:func:`boundary_content`) or 'cores' (:func:`core_content`)."""
    if kind == "boundaries":
        return boundary_content(ds, **kw)
    if kind == "cores":
        for key in ("frank_bilby", "normal", "frank_bilby_vectors", "grains"):
            kw.pop(key, None)
        return core_content(ds, **kw)
    raise ValueError(f"kind must be 'boundaries' or 'cores', got {kind!r}")
