"""Symmetric tilt grain-boundary bicrystals in fcc, fully periodic with two boundaries per cell.

Box frame: z = tilt axis t, y = boundary normal n (grain A's plane), x = n × t. Grain A (id 1) fills
Ly/4 ≤ y ≤ 3Ly/4, grain B (id 2) the rest; B is the mirror image of A in each boundary plane, so both
boundaries are the same symmetric tilt boundary (the unrelaxed CSL configuration with coincident sites on the
planes, which the relaxation stage then searches over rigid-body translations). Every box vector is a lattice
vector of both grains, so the cell is exactly periodic across every face.
"""

from __future__ import annotations

import numpy as np

import nyegan
from nyegan.csl import nearest_tilt_boundary, stgb_rotations, tilt_boundary
from nyegan.lattice import fcc_repeat_length, fill_box_with_lattice
from nyegan.structure import Structure
from nyegan.structures.names import gb_case_name

MIRROR_Y = np.diag([1.0, -1.0, 1.0])


def remove_close_pairs(s: Structure, cutoff: float, prefer_remove_grain: int = 2) -> tuple[Structure, int]:
    """Delete one atom of every pair closer than ``cutoff`` (Å), preferring atoms of ``prefer_remove_grain``;
    repeated until no such pair remains. Orthogonal periodic boxes. Returns the new structure and the count."""
    if cutoff <= 0 or s.n_atoms == 0:
        return s, 0
    keep = close_pair_keep_mask(s, cutoff, prefer_remove_grain)
    return s.select(keep), int((~keep).sum())


def close_pair_keep_mask(s: Structure, cutoff: float, prefer_remove_grain: int = 2) -> np.ndarray:
    """The atoms :func:`remove_close_pairs` keeps (boolean mask over ``s``'s atoms): the same choice can then be
    applied to a perturbed copy of ``s`` with the same atom order."""
    from scipy.spatial import cKDTree  # here, not at import: the config check of a sweep imports this module

    keep = np.ones(s.n_atoms, dtype=bool)
    if cutoff <= 0 or s.n_atoms == 0:
        return keep
    while True:
        idx = np.flatnonzero(keep)
        pos = s.wrapped().positions[idx] - s.origin
        tree = cKDTree(pos, boxsize=np.where(s.pbc, np.diag(s.cell), np.inf) if all(s.pbc) else None)
        pairs = tree.query_pairs(cutoff, output_type="ndarray")
        if len(pairs) == 0:
            break
        i, j = idx[pairs[:, 0]], idx[pairs[:, 1]]
        remove_j = (s.grain[j] == prefer_remove_grain) | (s.grain[i] != prefer_remove_grain)
        victims = np.where(remove_j, j, i)
        # never remove both atoms of a pair in one round: victims that are also some pair's survivor wait
        victims = np.unique(victims)
        safe = victims[~np.isin(victims, np.where(remove_j, i, j))]
        keep[safe if len(safe) else victims[:1]] = False
    return keep


def bicrystal_cell_metadata(s: Structure, periods, reps, cutoff: float, n_removed: int, a0: float, seed: int) -> dict:
    """Metadata shared by every bicrystal cell: boundary area (Å², per boundary), cell, atom and grain counts."""
    return {
        "gb_area": float(s.cell[0, 0] * s.cell[2, 2]),
        "periodic_cell": np.asarray(periods).tolist(),
        "replication": np.asarray(reps).tolist(),
        "cell": s.cell.tolist(),
        "n_atoms": s.n_atoms,
        "n_grain": {"1": int((s.grain == 1).sum()), "2": int((s.grain == 2).sum())},
        "overlap_cutoff": cutoff,
        "n_removed_overlap": n_removed,
        "a0": a0,
        "seed": seed,
        "nyegan_version": nyegan.__version__,
    }


def build_stgb(
    axis,
    plane=None,
    misorientation: float | None = None,
    *,
    a0: float,
    min_size=(0.0, 0.0, 0.0),
    sigma_max: int | None = None,
    overlap_cutoff: float | None = None,
    seed: int = 0,
) -> tuple[Structure, dict]:
    """Periodic bicrystal holding two symmetric tilt boundaries about ``axis``.

    axis: tilt axis [uvw] (crystal indices). plane: boundary plane (hkl) of grain A, must contain the axis; or
    misorientation: tilt angle (degrees), the CSL boundary with Σ ≤ ``sigma_max`` nearest to it is chosen.
    a0: fcc lattice constant (Å). min_size: minimum box lengths (Å); the smallest periodic cell is replicated
    to reach them (the normal y keeps an even number of half-cells so both boundaries are identical).
    overlap_cutoff: atom pairs closer than this (Å) lose one atom (default 0.5 of the nearest-neighbour distance).
    Returns the structure (grain ids 1 = A, 2 = B) and its metadata.
    """
    if (plane is None) == (misorientation is None):
        raise ValueError("give exactly one of plane or misorientation")
    if plane is not None:
        boundary, deviation = tilt_boundary(axis, plane), None
    else:
        if sigma_max is None:
            raise ValueError("misorientation mode needs sigma_max (the largest Σ to consider)")
        boundary, deviation = nearest_tilt_boundary(axis, float(misorientation), sigma_max)
    min_size = np.asarray(min_size, dtype=float)
    if a0 <= 0 or np.any(min_size < 0):
        raise ValueError("a0 must be positive and min_size non-negative")
    t = np.array(boundary.axis)
    n = np.array(boundary.plane)
    x_dir = np.cross(n, t)
    rot_a, rot_b = stgb_rotations(t, n)
    periods = np.array([fcc_repeat_length(x_dir, a0), 2.0 * fcc_repeat_length(n, a0), fcc_repeat_length(t, a0)])
    reps = np.maximum(1, np.ceil(min_size / periods - 1e-9)).astype(int)
    lengths = periods * reps
    lx, ly, lz = lengths

    sites_a = fill_box_with_lattice(rot_a, lengths, a0)
    tol = 1e-6
    half_a = sites_a[sites_a[:, 1] <= ly / 2 + tol]
    inner = half_a[(half_a[:, 1] > tol) & (half_a[:, 1] < ly / 2 - tol)]
    sites_b = inner @ MIRROR_Y
    sites_b[:, 1] += ly
    positions = np.vstack([half_a, sites_b])
    grain = np.concatenate([np.ones(len(half_a), int), np.full(len(sites_b), 2)])
    positions[:, 1] = np.mod(positions[:, 1] + ly / 4, ly)  # boundaries at Ly/4 and 3Ly/4
    positions[np.isclose(positions[:, 1], ly, atol=tol), 1] = 0.0
    order = np.lexsort((positions[:, 0], positions[:, 2], positions[:, 1]))
    s = Structure(positions=positions[order], cell=np.diag(lengths), grain=grain[order])

    d_nn = a0 / np.sqrt(2.0)
    cutoff = 0.5 * d_nn if overlap_cutoff is None else float(overlap_cutoff)
    s, n_removed = remove_close_pairs(s, cutoff)

    meta = {
        "case": gb_case_name(boundary.axis, boundary.sigma, boundary.plane),
        "kind": "gb",
        "boundary_type": "symmetric_tilt",
        "axis": list(boundary.axis),
        "plane": list(boundary.plane),
        "plane_b": n.tolist(),  # R_B^T ŷ = R_A^T ŷ: both grains share the plane indices
        "sigma": boundary.sigma,
        "misorientation_deg": boundary.angle_deg,
        "requested_misorientation_deg": misorientation,
        "misorientation_deviation_deg": deviation,
        "sigma_max": sigma_max if plane is None else None,
        "rotations": {"1": rot_a.tolist(), "2": rot_b.tolist()},
        "box_directions_grain_a": {"x": x_dir.tolist(), "y": n.tolist(), "z": t.tolist()},
        "gb_y": [ly / 4, 3 * ly / 4],
        **bicrystal_cell_metadata(s, periods, reps, cutoff, n_removed, a0, seed),
    }
    return s, meta
