"""Integrated net Burgers content of a Nye field: per boundary (per unit length) or per dislocation core.

b_i = integral of alpha_ij n_j dS over a section normal to the line direction n (= box axis ``line``). Fields
with the line dimension present are first averaged along it. Regions tile the cell (nearest boundary / nearest
core, periodic minimum image), so the contents of all regions of a periodic cell add up to zero.
Masked nodes (NaN) count as zero; the fraction of masked area in each region is reported.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from nyegan.nye.reference import AXES


def _section(ds: xr.Dataset, line: str) -> tuple[xr.DataArray, list[str]]:
    """alpha_{i, line} averaged along ``line`` if that dim is present; returns the 2D (i, d1, d2) array."""
    if line not in AXES:
        raise ValueError(f"line must be 'x', 'y' or 'z', got {line!r}")
    a = ds["alpha"].sel(j=line)
    if line in a.dims:
        a = a.mean(line, skipna=True)
    plane = [d for d in ("x", "y", "z") if d in a.dims]
    if len(plane) != 2:
        raise ValueError(f"cannot take a section normal to {line!r}: field dims are {ds['alpha'].dims}")
    return a.transpose("i", *plane), plane


def _cell(ds) -> np.ndarray:
    return np.asarray(ds.attrs["cell"], dtype=float).reshape(3, 3)


def _node_area(ds, plane) -> float:
    cell = _cell(ds)
    a, b = cell[AXES[plane[0]]], cell[AXES[plane[1]]]
    return (
        float(np.linalg.norm(np.cross(a, b)))
        / (ds.sizes[plane[0]] - (0 if _pbc(ds)[AXES[plane[0]]] else 1))
        / (ds.sizes[plane[1]] - (0 if _pbc(ds)[AXES[plane[1]]] else 1))
    )


def _pbc(ds) -> list[bool]:
    return [bool(p) for p in ds.attrs.get("pbc", [1, 1, 1])]


def _fractions(ds, dim) -> np.ndarray:
    m = AXES[dim]
    L = np.linalg.norm(_cell(ds)[m])
    return (ds[dim].values - ds.attrs["origin"][m]) / L


def boundary_content(
    ds: xr.Dataset, normal: str = "y", line: str = "z", boundaries=None, frank_bilby: float | None = None
) -> list[dict]:
    """Net Burgers content per unit boundary length (dimensionless) of each planar boundary normal to ``normal``.

    boundaries: positions along ``normal`` (Å); detected as the two strongest peaks of the profile of |alpha|
    (at least a quarter cell apart) when None. Each boundary owns the nodes nearer to it than to the others
    (half-cells for two evenly spaced boundaries).
    """
    sec, plane = _section(ds, line)
    if normal not in plane:
        raise ValueError(f"normal {normal!r} must be one of the section dims {plane}")
    along = [d for d in plane if d != normal][0]
    vals = np.nan_to_num(sec.values)
    n_ax = 1 + plane.index(normal)
    m = AXES[normal]
    L = float(np.linalg.norm(_cell(ds)[m]))
    periodic = _pbc(ds)[m]
    y = ds[normal].values
    profile = np.sqrt((vals**2).sum(axis=0))
    profile = profile.sum(axis=0) if n_ax == 2 else profile.sum(axis=1)
    if boundaries is None:
        first = int(np.argmax(profile))
        dist = y - y[first]
        if periodic:
            dist -= L * np.round(dist / L)
        rest = np.where(np.abs(dist) > L / 4, profile, -np.inf)
        boundaries = [y[first]] + ([y[int(np.argmax(rest))]] if np.isfinite(rest).any() else [])
        boundaries = sorted(boundaries)
    boundaries = np.asarray(boundaries, dtype=float)
    d = y[:, None] - boundaries[None, :]
    if periodic:
        d -= L * np.round(d / L)
    owner = np.argmin(np.abs(d), axis=1)
    area = _node_area(ds, plane)
    L_along = float(np.linalg.norm(_cell(ds)[AXES[along]]))
    masked = np.isnan(sec.values[0])
    out = []
    for k, yb in enumerate(boundaries):
        sel = owner == k
        region = np.take(vals, np.nonzero(sel)[0], axis=n_ax)
        b = region.reshape(3, -1).sum(axis=1) * area / L_along
        mk = np.take(masked, np.nonzero(sel)[0], axis=n_ax - 1)
        entry = {
            "kind": "boundary",
            "normal": normal,
            "line": line,
            "position": float(yb),
            "content_per_length": b.tolist(),
            "magnitude": float(np.linalg.norm(b)),
            "masked_fraction": float(mk.mean()),
        }
        if frank_bilby is not None:
            entry["frank_bilby_2sin_half_theta"] = float(frank_bilby)
        out.append(entry)
    return out


def find_cores(ds: xr.Dataset, line: str = "z", merge_radius: float = 10.0, threshold: float = 0.25) -> np.ndarray:
    """Core positions (Å, section coordinates) as peaks of |alpha_{., line}| smoothed over ``merge_radius``/2."""
    sec, plane = _section(ds, line)
    mag = np.sqrt(np.nansum(sec.values**2, axis=0))
    steps = np.array([float(ds[d].values[1] - ds[d].values[0]) for d in plane])
    modes = ["wrap" if _pbc(ds)[AXES[d]] else "constant" for d in plane]
    sigma = 0.5 * merge_radius / steps
    sm = mag
    for ax in range(2):
        sm = ndimage.gaussian_filter1d(sm, sigma[ax], axis=ax, mode=modes[ax])
    size = [max(3, int(2 * merge_radius / s) | 1) for s in steps]
    peaks = (sm == ndimage.maximum_filter(sm, size=size, mode=modes)) & (sm > threshold * sm.max())
    idx = np.argwhere(peaks)
    return np.array([[ds[plane[0]].values[i], ds[plane[1]].values[j]] for i, j in idx])


def core_content(ds: xr.Dataset, line: str = "z", cores=None, merge_radius: float = 10.0) -> list[dict]:
    """Burgers vector (Å) of each dislocation core: integral of alpha_{i, line} over the nodes nearest to it.

    cores: (n, 2) positions (Å) in the section plane (dims in x, y, z order without ``line``); detected when None.
    """
    sec, plane = _section(ds, line)
    cores = find_cores(ds, line, merge_radius) if cores is None else np.asarray(cores, dtype=float).reshape(-1, 2)
    if len(cores) == 0:
        return []
    cell = _cell(ds)
    ms = [AXES[d] for d in plane]
    origin = np.asarray(ds.attrs["origin"], float)
    lengths = np.linalg.norm(cell, axis=1)
    f0, f1 = np.meshgrid(_fractions(ds, plane[0]), _fractions(ds, plane[1]), indexing="ij")
    fnodes = np.stack([f0.ravel(), f1.ravel()], axis=1)
    fcores = (cores - origin[ms]) / lengths[ms]
    df = fnodes[:, None, :] - fcores[None, :, :]
    for d, m in enumerate(ms):
        if _pbc(ds)[m]:
            df[..., d] -= np.round(df[..., d])
    vec = df[..., 0:1] * cell[ms[0]] + df[..., 1:2] * cell[ms[1]]
    owner = np.argmin(np.linalg.norm(vec, axis=2), axis=1)
    vals = np.nan_to_num(sec.values).reshape(3, -1)
    masked = np.isnan(sec.values[0]).ravel()
    area = _node_area(ds, plane)
    out = []
    for k, c in enumerate(cores):
        sel = owner == k
        b = vals[:, sel].sum(axis=1) * area
        out.append(
            {
                "kind": "core",
                "line": line,
                "position": c.tolist(),
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
        kw.pop("frank_bilby", None)
        kw.pop("normal", None)
        return core_content(ds, **kw)
    raise ValueError(f"kind must be 'boundaries' or 'cores', got {kind!r}")
