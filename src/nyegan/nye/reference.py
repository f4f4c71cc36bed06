"""Reference lattice per grain and the minimum-angle lattice correspondence to a common median lattice.

Rotations map crystal to box (``v_box = R @ v_crystal``; rows = crystal directions along box x, y, z).
Each grain g has a matching rotation ``R_g`` (its own lattice, used to pair neighbours with ideal bonds) and a
cubic point-group operation ``S_g``; the ideal bond ``q_c`` (crystal frame) of grain g corresponds to the
reference vector ``R_med @ S_g.T @ q_c`` of the common median lattice ``R_med``. For a two-grain cell with
misorientation ``D = R_B S R_A^T = rot(axis, theta)`` (minimum |theta| among the symmetry-equivalent
correspondences about the tilt axis), ``R_med = rot(axis, theta/2) R_A``: grain A is read rotated by +theta/2,
grain B by -theta/2, and a symmetric tilt boundary carries the Frank–Bilby content 2 sin(theta/2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nyegan.lattice import cubic_point_group
from nyegan.rotations import axis_angle_rad, orthonormalise, rotation_about_axis_rad

AXES = {"x": 0, "y": 1, "z": 2}


@dataclass
class Correspondence:
    """The chosen misorientation between two grains: D = R_B S R_A^T = rotation(axis, angle)."""

    op: np.ndarray  # S, cubic operation applied in grain B's crystal frame
    axis: np.ndarray  # unit axis, box frame
    angle: float  # radians, signed about ``axis``
    about_requested_axis: bool


def minimum_angle_correspondence(
    rot_a: np.ndarray, rot_b: np.ndarray, axis=None, axis_tol_deg: float = 2.0
) -> Correspondence:
    """Symmetry-equivalent misorientation of grain B relative to A with the smallest angle.

    If ``axis`` (box vector) is given, only rotations about it (within ``axis_tol_deg``) are considered when one
    exists, so that e.g. Σ3(111)[110] is read as 70.53° about [110] rather than 60° about [111].
    """
    ops = cubic_point_group(proper_only=True)
    cands = rot_b[None] @ ops @ rot_a.T[None]
    best = None
    for s, d in zip(ops, cands):
        k, ang = axis_angle_rad(d)
        on_axis = False
        if axis is not None:
            t = np.asarray(axis, float) / np.linalg.norm(axis)
            if ang < 1e-8:
                on_axis = True
                k = t
            elif abs(np.dot(k, t)) > np.cos(np.radians(axis_tol_deg)):
                on_axis = True
                if np.dot(k, t) < 0:
                    k, ang = -k, -ang
                k = t
        key = (not on_axis, round(abs(ang), 9))
        if best is None or key < best[0]:
            best = (key, Correspondence(op=s, axis=k, angle=ang, about_requested_axis=on_axis))
    corr = best[1]
    if axis is not None and not corr.about_requested_axis:
        corr.about_requested_axis = False
    return corr


@dataclass
class GrainReference:
    """Per-grain matching rotations and correspondence operations onto one median reference lattice."""

    grain_ids: np.ndarray  # (n_grains,) grain ids as in Structure.grain
    rotations: np.ndarray  # (n_grains, 3, 3) R_g, crystal -> box
    ops: np.ndarray  # (n_grains, 3, 3) S_g
    median: np.ndarray  # (3, 3) R_med
    method: str  # "grains" or "auto"
    correspondence_axis: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))
    correspondence_angle_deg: float = 0.0
    about_tilt_axis: bool = True

    def index_of(self, grain: np.ndarray) -> np.ndarray:
        """Row in this reference for each atom's grain id; raises if a grain has no rotation."""
        lookup = {int(g): i for i, g in enumerate(self.grain_ids)}
        grain = np.asarray(grain)
        if grain.size and grain.min() >= 0 and grain.max() < 1 << 20:  # ids present, without sorting the atoms
            present = np.flatnonzero(np.bincount(grain.ravel()))
        else:
            present = np.unique(grain)
        missing = sorted(set(present.tolist()) - set(lookup))
        if missing:
            raise ValueError(
                f"no reference rotation for grain id(s) {missing}; give one per LAMMPS atom type "
                f"(metadata 'rotations') or use reference='auto'"
            )
        table = np.full(max(int(max(lookup)), int(present.max()) if len(present) else 0) + 1, -1)
        for g, i in lookup.items():
            table[g] = i
        return table[grain]

    def matching_bonds(self, bonds_crystal: np.ndarray) -> np.ndarray:
        """(n_grains, n_bonds, 3) ideal bonds in each grain's own orientation, box frame."""
        return np.einsum("gij,bj->gbi", self.rotations, bonds_crystal)

    def reference_bonds(self, bonds_crystal: np.ndarray) -> np.ndarray:
        """(n_grains, n_bonds, 3) the corresponding bonds of the median reference lattice, box frame."""
        maps = np.einsum("ij,gkj->gik", self.median, self.ops)  # R_med S_g^T
        return np.einsum("gij,bj->gbi", maps, bonds_crystal)

    def correspondence_rotations(self) -> np.ndarray:
        """(n_grains, 3, 3) M_g = R_med S_g^T R_g^T mapping grain g's lattice onto the median lattice (box frame)."""
        return np.einsum("ij,gkj,glk->gil", self.median, self.ops, self.rotations)

    def attrs(self) -> dict:
        """Description for netCDF attributes (JSON-able)."""
        m = self.correspondence_rotations()
        return {
            "method": self.method,
            "grains": {
                str(int(g)): {
                    "rotation_crystal_to_box": np.round(r, 10).tolist(),
                    "correspondence_angle_deg": float(np.degrees(np.arccos(np.clip((np.trace(mg) - 1) / 2, -1, 1)))),
                }
                for g, r, mg in zip(self.grain_ids, self.rotations, m)
            },
            "median_rotation_crystal_to_box": np.round(self.median, 10).tolist(),
            "misorientation_axis_box": np.round(self.correspondence_axis, 10).tolist(),
            "misorientation_angle_deg": float(self.correspondence_angle_deg),
            "about_tilt_axis": bool(self.about_tilt_axis),
            "rule": "minimum-angle lattice correspondence about the tilt axis; median lattice halfway "
            "between grains 1 and 2",
        }


def build_reference(grain_ids, rotations, axis=(0.0, 0.0, 1.0), method: str = "grains") -> GrainReference:
    """Median-lattice reference for grains with crystal->box ``rotations`` (sequence, same order as ``grain_ids``).

    One grain: the reference is that grain's lattice. Two or more: the misorientation of the second grain
    relative to the first is read as the minimum-angle rotation about ``axis`` (box vector) when one exists,
    the median lattice lies halfway, and every further grain takes its minimum-angle correspondence to it.
    """
    grain_ids = np.asarray(grain_ids, dtype=int)
    rots = np.asarray(rotations, dtype=float).reshape(-1, 3, 3)
    if len(grain_ids) != len(rots) or len(rots) == 0:
        raise ValueError("rotations: need one 3x3 rotation per grain id")
    for g, r in zip(grain_ids, rots):
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
            raise ValueError(
                f"rotation of grain {g} is not a proper rotation matrix (rows = crystal directions "
                f"along box x, y, z, normalised): {r.tolist()}"
            )
    rots = orthonormalise(rots)
    ops = np.repeat(np.eye(3)[None], len(rots), axis=0)
    if len(rots) == 1:
        return GrainReference(grain_ids, rots, ops, rots[0].copy(), method)
    corr = minimum_angle_correspondence(rots[0], rots[1], axis=axis)
    median = rotation_about_axis_rad(corr.axis, corr.angle / 2.0) @ rots[0]
    ops[1] = corr.op
    for g in range(2, len(rots)):
        ops[g] = minimum_angle_correspondence(median, rots[g], axis=axis).op
    return GrainReference(
        grain_ids,
        rots,
        ops,
        median,
        method,
        correspondence_axis=corr.axis,
        correspondence_angle_deg=float(np.degrees(corr.angle)),
        about_tilt_axis=corr.about_requested_axis,
    )
