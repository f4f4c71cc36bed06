"""Coincidence-site-lattice (CSL) geometry of symmetric tilt boundaries in cubic crystals.

A symmetric tilt grain boundary (STGB) about the tilt axis t with boundary plane n (n ⊥ t) is built as a mirror
bicrystal: grain B is the mirror image of grain A in the plane n. Up to the lattice's inversion centre this is a
180° rotation about n, which equals a rotation about t by the tilt angle θ = 2·∠(n, r), r being a 2-fold axis
(<100> or <110>) perpendicular to t. The reported θ follows the usual tables: r = the shortest 2-fold axis ⊥ t
([001]: r=[100], θ in 0..90°; [110]: r=[001], θ in 0..180°; [111]: r=[1-10], θ in 0..60°) and, among the
symmetry-equivalent descriptions of the same plane, the smallest angle.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import gcd

import numpy as np

from nyegan.lattice import as_int_vector, cubic_point_group, reduce_indices, rotation_from_rows


def odd_part(n: int) -> int:
    while n % 2 == 0 and n > 0:
        n //= 2
    return n


def sigma_of_rotation(rotation_fractions) -> int:
    """Σ of a rotation given as a 3x3 matrix of Fractions (crystal frame): the odd part of the common denominator."""
    denominator = 1
    for value in np.asarray(rotation_fractions, dtype=object).ravel():
        d = Fraction(value).denominator
        denominator = denominator * d // gcd(denominator, d)
    return odd_part(denominator)


def sigma_of_rotation_matrix(rotation: np.ndarray, max_denominator: int = 10000) -> int:
    """Σ of a floating-point rotation matrix (cubic crystal frame): odd part of the smallest m making m·R an
    integer matrix; ValueError if it is not a coincidence rotation with a small denominator."""
    for m in range(1, max_denominator + 1):
        if np.allclose(m * rotation, np.round(m * rotation), atol=1e-8):
            return odd_part(m)
    raise ValueError("not a coincidence rotation (no rational form with a small denominator)")


def mirror_rotation_fractions(plane) -> np.ndarray:
    """The 180° rotation about the plane normal n, 2 n nᵀ/|n|² − I, as exact Fractions (crystal frame)."""
    n = [int(v) for v in plane]
    n2 = sum(v * v for v in n)
    return np.array(
        [[Fraction(2 * n[i] * n[j], n2) - (1 if i == j else 0) for j in range(3)] for i in range(3)], dtype=object
    )


def sigma_of_plane(plane) -> int:
    """Σ of the symmetric tilt boundary on plane (hkl), reduced: the odd part of h²+k²+l², which is the odd part of
    the common denominator of the exact mirror rotation 2 n nᵀ/|n|² − I (:func:`mirror_rotation_fractions`; equal
    for every plane with indices up to 9, tests/test_csl.py)."""
    n = reduce_indices(plane)
    return odd_part(int(n @ n))


def twofold_reference(axis) -> np.ndarray:
    """Shortest 2-fold axis (<100>, then <110>) perpendicular to the tilt axis; ValueError if none exists."""
    return _twofold_reference(tuple(int(v) for v in as_int_vector(axis, "axis"))).copy()


@lru_cache(maxsize=256)
def _twofold_reference(axis: tuple[int, int, int]) -> np.ndarray:
    axis = np.array(axis)
    candidates = [np.array(v) for v in itertools.product((-1, 0, 1), repeat=3) if sum(map(abs, v)) in (1, 2)]
    candidates.sort(key=lambda v: (int(np.sum(np.abs(v))), [-c for c in v]))
    for v in candidates:
        if int(v @ axis) == 0:
            return v
    raise ValueError(
        f"tilt axis {axis.tolist()} has no 2-fold axis (<100> or <110>) perpendicular to it, so a mirror-symmetric "
        f"boundary about it is not a pure tilt boundary; use an axis such as [001], [110], [111], [112] or [120]"
    )


@lru_cache(maxsize=256)
def _axis_preserving_ops_cached(axis: tuple[int, int, int]) -> np.ndarray:
    ops = cubic_point_group()
    t = np.asarray(axis, dtype=float)
    image = ops @ t  # (48, 3)
    keep = np.isclose(image, t).all(axis=1) | np.isclose(image, -t).all(axis=1)
    return ops[keep]


def _axis_preserving_ops(axis) -> np.ndarray:
    """The cubic point-group operations mapping ``axis`` onto ±itself (cached per axis)."""
    return _axis_preserving_ops_cached(tuple(int(v) for v in as_int_vector(axis, "axis")))


def tilt_angle_deg(axis, plane) -> float:
    """Tilt angle θ (degrees) of the STGB about ``axis`` on ``plane``, table convention (see module doc)."""
    axis = as_int_vector(axis, "axis")
    plane = as_int_vector(plane, "plane")
    r = twofold_reference(axis).astype(float)
    n = _axis_preserving_ops(axis) @ plane  # every symmetry-equivalent description of the plane
    c = np.abs(n @ r) / (np.linalg.norm(n, axis=1) * np.linalg.norm(r))
    return min(180.0, float(2.0 * np.degrees(np.arccos(np.clip(c, -1.0, 1.0))).min()))


def equivalent_planes_containing(axis, plane) -> list[list[int]]:
    """Symmetry-equivalent versions of ``plane`` that contain ``axis`` (for error messages)."""
    axis = as_int_vector(axis, "axis")
    plane = as_int_vector(plane, "plane")
    found = []
    for op in cubic_point_group():
        n = (op @ plane).astype(int)
        if int(n @ axis) == 0 and n.tolist() not in found and (-n).tolist() not in found:
            found.append(n.tolist())
    return found


def check_plane_contains_axis(axis, plane) -> None:
    axis = as_int_vector(axis, "axis")
    plane = as_int_vector(plane, "plane")
    if int(axis @ plane) != 0:
        options = equivalent_planes_containing(axis, plane)
        hint = (
            f"; symmetry-equivalent planes that do: {', '.join('(' + ' '.join(map(str, p)) + ')' for p in options[:4])}"
            if options
            else "; no plane of this family contains the axis"
        )
        raise ValueError(
            f"boundary plane ({' '.join(map(str, plane))}) does not contain the tilt axis "
            f"[{' '.join(map(str, axis))}] (h·u ≠ 0){hint}"
        )


def perpendicular_lattice_basis(axis) -> tuple[np.ndarray, np.ndarray]:
    """Two integer vectors spanning the integer vectors perpendicular to ``axis``."""
    axis = reduce_indices(as_int_vector(axis, "axis"))
    vecs = []
    rng = range(-6, 7)
    for v in itertools.product(rng, repeat=3):
        v = np.array(v)
        if v.any() and int(v @ axis) == 0:
            vecs.append(v)
    vecs.sort(key=lambda v: (float(v @ v), [-c for c in v]))
    u1 = vecs[0]
    for v in vecs[1:]:
        if np.cross(u1, v).any():
            return u1, v
    raise ValueError(f"no perpendicular basis found for {axis.tolist()}")


@dataclass(frozen=True)
class TiltBoundary:
    """A symmetric tilt boundary: tilt axis, boundary plane of grain A (both reduced), Σ and tilt angle (deg)."""

    axis: tuple[int, int, int]
    plane: tuple[int, int, int]
    sigma: int
    angle_deg: float


def tilt_boundary(axis, plane) -> TiltBoundary:
    """Validate and describe the STGB about ``axis`` on ``plane`` (cached: a sweep asks for the same ones often)."""
    axis = reduce_indices(as_int_vector(axis, "axis"))
    plane = reduce_indices(as_int_vector(plane, "plane"))
    return _tilt_boundary(tuple(int(v) for v in axis), tuple(int(v) for v in plane))


@lru_cache(maxsize=4096)
def _tilt_boundary(axis: tuple[int, int, int], plane: tuple[int, int, int]) -> TiltBoundary:
    axis, plane = np.array(axis), np.array(plane)
    check_plane_contains_axis(axis, plane)
    return TiltBoundary(
        tuple(int(v) for v in axis), tuple(int(v) for v in plane), sigma_of_plane(plane), tilt_angle_deg(axis, plane)
    )


def enumerate_tilt_boundaries(axis, sigma_max: int, max_index: int = 12) -> list[TiltBoundary]:
    """All distinct STGBs about ``axis`` with Σ ≤ sigma_max (planes up to ``max_index`` combinations of the
    perpendicular lattice basis), sorted by tilt angle; symmetric duplicates of the same angle keep the lowest Σ.
    Cached per (axis, sigma_max, max_index): a sweep asks for the same lists many times."""
    axis = reduce_indices(as_int_vector(axis, "axis"))
    return list(_enumerate_tilt_boundaries(tuple(int(v) for v in axis), int(sigma_max), int(max_index)))


@lru_cache(maxsize=64)
def _enumerate_tilt_boundaries(axis: tuple[int, int, int], sigma_max: int, max_index: int) -> tuple[TiltBoundary, ...]:
    axis = np.array(axis)
    twofold_reference(axis)
    u1, u2 = perpendicular_lattice_basis(axis)
    seen: dict[float, TiltBoundary] = {}
    for i, j in itertools.product(range(-max_index, max_index + 1), repeat=2):
        n = i * u1 + j * u2
        if not n.any():
            continue
        n = reduce_indices(n)
        sigma = sigma_of_plane(n)
        if sigma > sigma_max or sigma == 1:
            continue
        b = tilt_boundary(axis, n)
        key = round(b.angle_deg, 6)
        current = seen.get(key)
        if current is None or (b.sigma, sum(map(abs, b.plane)), [-c for c in b.plane]) < (
            current.sigma,
            sum(map(abs, current.plane)),
            [-c for c in current.plane],
        ):
            seen[key] = b
    return tuple(sorted(seen.values(), key=lambda b: b.angle_deg))


def nearest_tilt_boundary(axis, misorientation_deg: float, sigma_max: int) -> tuple[TiltBoundary, float]:
    """The STGB about ``axis`` with Σ ≤ sigma_max whose tilt angle is nearest ``misorientation_deg``; returns it
    and the deviation (degrees, chosen minus requested)."""
    options = enumerate_tilt_boundaries(axis, sigma_max)
    if not options:
        raise ValueError(f"no tilt boundary about {list(axis)} with Σ ≤ {sigma_max}; raise sigma_max")
    best = min(options, key=lambda b: (abs(b.angle_deg - misorientation_deg), b.sigma))
    return best, best.angle_deg - misorientation_deg


MIRROR_ROTATION = np.diag([-1.0, 1.0, -1.0])  # mirror in y composed with the lattice's inversion


def stgb_rotations(axis, plane) -> tuple[np.ndarray, np.ndarray]:
    """Rotations (rows = crystal directions along box x, y, z) of grains A and B of the mirror bicrystal of the
    STGB about ``axis`` on ``plane``: x = n × t, y = n, z = t for A; B is A's mirror image in the plane, a proper
    rotation (``nyegan.structures.gb``)."""
    t = as_int_vector(axis, "axis")
    n = as_int_vector(plane, "plane")
    rot_a = rotation_from_rows(np.cross(n, t), n, t)
    return rot_a, MIRROR_ROTATION @ rot_a


def projected_periods(axis, plane) -> int:
    """How many periods the boundary structure seen along the tilt axis (the field averaged along z) has in one
    CSL period along x = n × t of the STGB about ``axis`` on ``plane``.

    Every lattice vector of grain A that lies in the boundary plane is a CSL vector of the mirror bicrystal, so
    the bicrystal is invariant under each of them; averaged along z, only their x components count. The period
    along x (``periodic_cell`` x) is the shortest such vector with no z component; a vector with one can have a
    shorter x component (e.g. ½[1 -6 1] on (610) about [001]: x component half of |[1 -6 0]|). Returns the
    ratio (an integer: 1, 2, 3 for the low-index axes). Exact integer arithmetic in units of a0/2, the fcc
    lattice being the integer vectors with an even sum."""
    b = tilt_boundary(axis, plane)
    return _projected_periods(b.axis, b.plane)


@lru_cache(maxsize=4096)
def _projected_periods(axis: tuple[int, int, int], plane: tuple[int, int, int]) -> int:
    t, n = np.array(axis), np.array(plane)
    x = reduce_indices(np.cross(n, t))

    def period_vector(v):  # shortest fcc vector along v, in units of a0/2
        return v if int(v.sum()) % 2 == 0 else 2 * v

    xp, tp = period_vector(x), period_vector(t)
    # a vector w of the in-plane lattice with the smallest positive x component can be reduced modulo the axis
    # period to |w| <= |xp| + |tp|, which bounds its integer components
    bound = int(np.ceil(np.linalg.norm(xp) + np.linalg.norm(tp)))
    r = np.arange(-bound, bound + 1)
    v = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    v = v[(v.sum(axis=1) % 2 == 0) & (v @ n == 0)]
    q = np.abs(v @ x)
    g = int(np.gcd.reduce(q[q > 0]))
    return int(xp @ x) // g
