"""Symmetric twist grain-boundary bicrystals in fcc, fully periodic with two boundaries per cell.

Box frame for twist cells: y = twist axis t = boundary normal; x and z are the two shortest orthogonal vectors of
the boundary's planar coincidence lattice, so both grains are exactly periodic in the boundary plane. Grain B
(id 2) is grain A (id 1) rotated by θ about t (about box −y in the box frame). The boundaries cut midway between
atomic planes normal to t, at ``gb_y``.
"""

from __future__ import annotations

import numpy as np

from nyegan.csl import enumerate_tilt_boundaries, sigma_of_rotation_matrix
from nyegan.lattice import (
    as_int_vector,
    fcc_plane_spacing,
    fcc_repeat_length,
    fill_box_with_lattice,
    reduce_indices,
    unit,
)
from nyegan.rotations import rotation_about_axis_deg
from nyegan.structure import Structure
from nyegan.structures.gb import bicrystal_cell_metadata, remove_close_pairs
from nyegan.structures.names import twist_case_name


def _is_fcc_vector(v, a0: float, tol: float = 1e-6) -> np.ndarray:
    """True where rows of ``v`` (Å, crystal frame) are fcc lattice vectors."""
    h = 2.0 * np.asarray(v) / a0
    ints = np.round(h)
    return np.all(np.abs(h - ints) < tol, axis=-1) & (np.sum(ints, axis=-1) % 2 == 0)


def coincidence_vectors(axis, angle_deg: float, a0: float, max_index: int = 12) -> np.ndarray:
    """In-plane (⊥ axis) lattice vectors (Å, crystal frame) that stay lattice vectors after the rotation, sorted
    by length."""
    t = as_int_vector(axis, "axis")
    ijk = np.mgrid[-max_index : max_index + 1, -max_index : max_index + 1, -max_index : max_index + 1].reshape(3, -1).T
    ijk = ijk[(ijk.sum(axis=1) % 2 == 0) & ijk.any(axis=1) & (ijk @ t == 0)]
    vecs = 0.5 * a0 * ijk
    rotated = vecs @ rotation_about_axis_deg(t, angle_deg).T
    csl = vecs[_is_fcc_vector(rotated, a0)]
    return csl[np.argsort(np.linalg.norm(csl, axis=1), kind="stable")]


def build_twist(
    axis, misorientation: float, *, a0: float, min_size=(0.0, 0.0, 0.0), overlap_cutoff=None, seed: int = 0
) -> tuple[Structure, dict]:
    """Periodic bicrystal with two symmetric twist boundaries: rotation ``misorientation`` (deg) about ``axis``,
    which must be a CSL rotation (e.g. 36.87° about [001], Σ5). Lengths in Å."""
    t = reduce_indices(as_int_vector(axis, "axis"))
    csl = coincidence_vectors(t, misorientation, a0)
    if len(csl) < 2:
        raise ValueError(
            f"{misorientation}° about {t.tolist()} is not a coincidence rotation with a small planar "
            f"cell; choose a CSL angle (e.g. from nyegan.csl.enumerate_tilt_boundaries)"
        )
    z_vec = csl[0]
    x_vec = next((v for v in csl[1:] if abs(v @ z_vec) < 1e-9), None)
    if x_vec is None:
        raise ValueError(f"no orthogonal planar coincidence cell for {misorientation}° about {t.tolist()}")
    if np.cross(t, z_vec) @ x_vec < 0:
        x_vec = -x_vec
    rotation = rotation_about_axis_deg(t, misorientation)
    rot_a = np.array([unit(x_vec), unit(t), unit(z_vec)])
    rot_b = rot_a @ rotation.T  # B sites: R_A R(θ)^T c; periodic along x_vec because R(θ) x_vec is a lattice vector
    sigma = sigma_of_rotation_matrix(rotation)
    periods = np.array([np.linalg.norm(x_vec), 2.0 * fcc_repeat_length(t, a0), np.linalg.norm(z_vec)])
    reps = np.maximum(1, np.ceil(np.asarray(min_size, float) / periods - 1e-9)).astype(int)
    lengths = periods * reps
    d = fcc_plane_spacing(t, a0)
    cut = (np.round(lengths[1] / 4 / d) + 0.5) * d
    gb_y = [cut, cut + lengths[1] / 2]
    parts, grains = [], []
    for gid, rot in ((1, rot_a), (2, rot_b)):
        sites = fill_box_with_lattice(rot, lengths, a0)
        in_a = (sites[:, 1] >= gb_y[0]) & (sites[:, 1] < gb_y[1])
        keep = in_a if gid == 1 else ~in_a
        parts.append(sites[keep])
        grains.append(np.full(keep.sum(), gid))
    s = Structure(positions=np.vstack(parts), cell=np.diag(lengths), grain=np.concatenate(grains))
    cutoff = 0.5 * a0 / np.sqrt(2.0) if overlap_cutoff is None else float(overlap_cutoff)
    s, n_removed = remove_close_pairs(s, cutoff)
    meta = {
        "case": twist_case_name(t, sigma, misorientation),
        "kind": "gb",
        "boundary_type": "symmetric_twist",
        "axis": t.tolist(),
        "plane": t.tolist(),
        "sigma": sigma,
        "misorientation_deg": float(misorientation),
        "rotations": {"1": rot_a.tolist(), "2": rot_b.tolist()},
        "box_directions_grain_a": {
            "x": (2 * x_vec / a0).round(9).tolist(),
            "y": t.tolist(),
            "z": (2 * z_vec / a0).round(9).tolist(),
        },
        "gb_y": gb_y,
        **bicrystal_cell_metadata(s, periods, reps, cutoff, n_removed, a0, seed),
    }
    return s, meta


def twist_angles(axis, sigma_max: int) -> list[tuple[float, int]]:
    """CSL twist angles (deg) about ``axis`` with Σ ≤ sigma_max: the same coincidence rotations as the tilt
    boundaries about that axis."""
    return [(b.angle_deg, b.sigma) for b in enumerate_tilt_boundaries(axis, sigma_max)]
