"""Burgers circuits on atomic configurations (FS/RH convention), for checks of built or relaxed structures.

A closed path in the xy plane of the box is followed through the atoms nearest to it (in projection; any z).
Each step between consecutive atoms, a bond of the real crystal, is mapped to the nearest perfect-lattice
vector of the fcc crystal with rotation ``R`` (crystal -> box). The path closes in the real crystal, so the
failure of the mapped path, ``start - finish = -sum(mapped steps)``, is the enclosed Burgers vector (box frame,
Å). A counter-clockwise path (right-handed about +z) around a dislocation of Burgers vector b and line +z
gives +b, the convention of ``nyegan.elasticity`` and of the Nye tensor (b_i = ∫ alpha_iz dS).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from nyegan.structure import Structure


def nearest_fcc_vector(v_crystal: np.ndarray, a0: float) -> np.ndarray:
    """Nearest fcc lattice vectors (rows, crystal frame, Å) to ``v_crystal`` (rows): a0/2 (n1, n2, n3), sum even."""
    half = 0.5 * a0
    x = np.atleast_2d(np.asarray(v_crystal, dtype=float)) / half
    n = np.round(x)
    odd = (n.sum(axis=1) % 2) != 0
    if np.any(odd):
        err = x[odd] - n[odd]
        k = np.argmax(np.abs(err), axis=1)
        rows = np.flatnonzero(odd)
        n[rows, k] += np.where(err[np.arange(len(rows)), k] >= 0, 1.0, -1.0)
    return n * half


def circle_path(center, radius: float, n_points: int = 96) -> np.ndarray:
    """Counter-clockwise circle in the xy plane (n_points, 2), Å."""
    phi = np.linspace(0.0, 2.0 * np.pi, n_points, endpoint=False)
    return np.asarray(center, dtype=float)[None, :2] + radius * np.stack([np.cos(phi), np.sin(phi)], axis=1)


def rectangle_path(lo, hi, step: float = 1.0) -> np.ndarray:
    """Counter-clockwise rectangle [lo, hi] in the xy plane sampled every ~``step`` Å, (n, 2)."""
    (x0, y0), (x1, y1) = np.asarray(lo, float)[:2], np.asarray(hi, float)[:2]
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
    pts = []
    for a, b in zip(corners[:-1], corners[1:]):
        n = max(2, int(np.ceil(np.linalg.norm(b - a) / step)))
        pts.append(a + (b - a) * np.linspace(0.0, 1.0, n, endpoint=False)[:, None])
    return np.vstack(pts)


def burgers_circuit(
    structure: Structure, rotation: np.ndarray, a0: float, path_xy: np.ndarray, mask=None, candidates: int = 64
) -> np.ndarray:
    """Closure failure (box frame, Å) of the Burgers circuit through the atoms nearest to a closed xy path.

    structure: periodic cell, orthogonal or tilted in xy (third vector along z). rotation: crystal -> box of the lattice the circuit lies in.
    path_xy: closed polyline (n, 2), box coordinates, ordered counter-clockwise for the RH convention.
    mask: optional boolean selection of the atoms usable (e.g. one grain).
    At each path point, among the ``candidates`` atoms nearest in projection (within 1 Å of the nearest), the
    one closest in z to the previous atom is taken, so steps stay short. Box vectors are lattice vectors, so a
    step is only defined modulo them and the result is reduced modulo the box: it is unambiguous for
    |b_k| < L_k / 2 (use a cell at least ~3 lattice periods long along z for screw components).
    """
    if np.abs(structure.cell[2, :2]).max() > 1e-10:
        raise ValueError("burgers_circuit needs the third box vector along z (orthogonal or xy-tilted cell)")
    idx = np.arange(structure.n_atoms) if mask is None else np.flatnonzero(mask)
    lengths = np.diag(structure.cell)
    pos = structure.wrapped().positions[idx] - structure.origin
    if structure.is_orthogonal:
        tree = cKDTree(np.mod(pos[:, :2], lengths[:2]), boxsize=lengths[:2])
        path = np.mod(np.asarray(path_xy, dtype=float) - structure.origin[:2], lengths[:2])
        n_real = len(pos)
    else:  # xy tilt: explicit periodic images in the plane, path wrapped into the cell
        a, b = structure.cell[0, :2], structure.cell[1, :2]
        shifts = np.array([i * a + j * b for i in (-1, 0, 1) for j in (-1, 0, 1)])
        tree = cKDTree((pos[None, :, :2] + shifts[:, None, :]).reshape(-1, 2))
        cell2 = structure.cell[:2, :2]
        frac = np.linalg.solve(cell2.T, (np.asarray(path_xy, dtype=float) - structure.origin[:2]).T).T
        path = np.mod(frac, 1.0) @ cell2
        n_real = len(pos)
    k = min(candidates, len(pos))
    dist, near = tree.query(path, k=k)
    near = near % n_real
    chain = [int(near[0, 0])]
    for dist_i, near_i in zip(dist[1:], near[1:]):
        ok = dist_i <= dist_i[0] + 1.0
        dz = pos[near_i[ok], 2] - pos[chain[-1], 2]
        dz -= lengths[2] * np.round(dz / lengths[2])
        choice = int(near_i[ok][np.argmin(np.abs(dz))])
        if choice != chain[-1]:
            chain.append(choice)
    if chain[-1] == chain[0] and len(chain) > 1:
        chain.pop()
    chain = np.array(chain)
    if len(np.unique(chain)) < 3:
        raise ValueError("path too short: fewer than three distinct atoms on it")
    steps = structure.minimum_image(pos[np.roll(chain, -1)] - pos[chain])
    rotation = np.asarray(rotation, dtype=float)
    mapped = nearest_fcc_vector(steps @ rotation, a0) @ rotation.T  # box -> crystal -> lattice -> box
    # the chain may drift by whole box periods (helically, along z); box vectors are lattice vectors
    return structure.minimum_image(-mapped.sum(axis=0)[None])[0]
