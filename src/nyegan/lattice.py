"""Cubic crystallography helpers: Miller indices, fcc vectors and repeat lengths, the cubic point group.

Crystal frame: the cubic axes [100], [010], [001]. Rotation matrices ``R`` in this package map crystal
coordinates to box coordinates (``v_box = R @ v_crystal``); their rows are the crystal directions that lie
along box x, y and z.
"""

from __future__ import annotations

import itertools
from functools import cache
from math import gcd

import numpy as np


def as_int_vector(values, name: str = "indices") -> np.ndarray:
    """Integer 3-vector from user input; raises ValueError naming ``name`` if not three integers, or zero."""
    if isinstance(values, np.ndarray) and values.shape == (3,) and values.dtype.kind in "iu":
        if not values.any():  # fast path: already integer (called for every plane of a sweep)
            raise ValueError(f"{name} must not be [0 0 0]")
        return values.astype(int)
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.size != 3 or not np.all(np.isfinite(arr)) or np.any(np.abs(arr - np.round(arr)) > 1e-9):
        raise ValueError(f"{name} must be three integers (Miller indices), got {list(values)}")
    vec = np.round(arr).astype(int)
    if not vec.any():
        raise ValueError(f"{name} must not be [0 0 0]")
    return vec


def reduce_indices(vec) -> np.ndarray:
    """Divide integer indices by their greatest common divisor."""
    vec = np.asarray(vec, dtype=int)
    g = 0
    for v in vec:
        g = gcd(g, int(abs(v)))
    return vec // max(g, 1)


def indices_label(vec) -> str:
    """Compact label for indices: [1,-1,3] -> '1m13' (m marks a minus sign; multi-digit indices joined by '_')."""
    parts = [("m" if v < 0 else "") + str(abs(int(v))) for v in vec]
    sep = "_" if any(abs(int(v)) > 9 for v in vec) else ""
    return sep.join(parts)


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def fcc_repeat_length(uvw, a0: float) -> float:
    """Length (Å) of the shortest fcc lattice vector along integer direction [uvw] (indices reduced first)."""
    uvw = reduce_indices(uvw)
    scale = 0.5 if int(np.sum(uvw)) % 2 == 0 else 1.0
    return scale * a0 * float(np.linalg.norm(uvw))


def fcc_plane_spacing(hkl, a0: float) -> float:
    """Interplanar spacing d_hkl (Å) of the densest family of fcc planes normal to (hkl) (indices reduced)."""
    hkl = reduce_indices(hkl)
    all_odd = all(int(h) % 2 != 0 for h in hkl)
    d = a0 / float(np.linalg.norm(hkl))
    return d if all_odd else d / 2.0


def fcc_basis(a0: float) -> np.ndarray:
    """Four-atom basis of the conventional fcc cell (Å), rows."""
    return a0 * np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def fcc_nearest_neighbours(a0: float) -> np.ndarray:
    """The 12 first-shell fcc neighbour vectors a0/2 <110> in the crystal frame (Å), shape (12, 3)."""
    vecs = [v for v in itertools.product((-1, 0, 1), repeat=3) if sum(abs(c) for c in v) == 2]
    return 0.5 * a0 * np.array(vecs, dtype=float)


@cache
def cubic_point_group(proper_only: bool = False) -> np.ndarray:
    """The 48 (or 24 proper) signed permutation matrices of the cubic point group m-3m, shape (n, 3, 3)."""
    ops = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3))
            for row, (col, s) in enumerate(zip(perm, signs)):
                m[row, col] = s
            if proper_only and np.linalg.det(m) < 0:
                continue
            ops.append(m)
    return np.array(ops)


def rotation_from_rows(x_dir, y_dir, z_dir) -> np.ndarray:
    """Rotation crystal -> box whose rows are the unit crystal directions along box x, y, z (must be orthogonal)."""
    rows = np.array([unit(x_dir), unit(y_dir), unit(z_dir)])
    if not np.allclose(rows @ rows.T, np.eye(3), atol=1e-9):
        raise ValueError(f"directions {x_dir}, {y_dir}, {z_dir} are not mutually orthogonal")
    if np.linalg.det(rows) < 0:
        raise ValueError(f"directions {x_dir}, {y_dir}, {z_dir} form a left-handed set")
    return rows


def fill_box_with_lattice(rotation: np.ndarray, lengths, a0: float, origin=(0.0, 0.0, 0.0)) -> np.ndarray:
    """All fcc sites (box frame, Å) of the rotated lattice inside the orthogonal box [0, L) along each axis.

    ``rotation`` maps crystal to box; ``origin`` is a lattice site in box coordinates. Sites on the upper faces
    are excluded, so a box whose lengths are lattice periods holds each periodic site exactly once.
    """
    lengths = np.asarray(lengths, dtype=float)
    corners = np.array(list(itertools.product(*[(0.0, L) for L in lengths]))) - np.asarray(origin)
    crystal_corners = corners @ rotation  # box -> crystal: R^T v, for row vectors v @ R
    lo = np.floor(crystal_corners.min(axis=0) / a0) - 1
    hi = np.ceil(crystal_corners.max(axis=0) / a0) + 1
    grid = np.stack(np.meshgrid(*[np.arange(l, h + 1) for l, h in zip(lo, hi)], indexing="ij"), -1).reshape(-1, 3)
    sites = (grid[:, None, :] * a0 + fcc_basis(a0)[None]).reshape(-1, 3)
    box = sites @ rotation.T + np.asarray(origin)
    tol = 1e-6
    inside = np.all((box > -tol) & (box < lengths - tol), axis=1)
    box = box[inside]
    box[np.abs(box) < tol] = 0.0
    return box
