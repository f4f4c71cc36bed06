"""Σ and tilt angles of symmetric tilt boundaries against CSL theory and tabulated values."""

import itertools

import numpy as np
import pytest

from nyegan.csl import (
    enumerate_tilt_boundaries,
    mirror_rotation_fractions,
    nearest_tilt_boundary,
    sigma_of_plane,
    sigma_of_rotation,
    tilt_boundary,
    twofold_reference,
)
from nyegan.lattice import cubic_point_group, reduce_indices


def tilt_angles_about_axis(axis, plane):
    """Angles (deg) of all rotations about the tilt axis that map grain A onto its mirror image B in the plane,
    from the rotation matrices alone: R_B S R_A^T for the 24 proper cubic operations S."""
    t = np.array(axis, float) / np.linalg.norm(axis)
    n = np.array(plane, float) / np.linalg.norm(plane)
    rot_a = np.array([np.cross(n, t), n, t])
    rot_b = np.diag([-1.0, 1.0, -1.0]) @ rot_a
    angles = []
    for op in cubic_point_group(proper_only=True):
        m = rot_b @ op @ rot_a.T
        if np.allclose(m[2], [0, 0, 1]) and np.allclose(m[:, 2], [0, 0, 1]):
            angles.append(abs(np.degrees(np.arctan2(m[1, 0], m[0, 0]))))
    return angles


@pytest.mark.parametrize(
    "axis, plane, sigma, theta",
    [
        ((0, 0, 1), (3, 1, 0), 5, 36.87),
        ((0, 0, 1), (2, 1, 0), 5, 53.13),
        ((1, 1, 0), (1, -1, 1), 3, 109.47),
        ((1, 1, 0), (1, -1, 3), 11, 50.48),
        ((1, 1, 0), (2, -2, 1), 9, 141.06),
        ((1, -1, 0), (2, 2, 1), 9, 141.06),
        ((1, 1, 1), (3, -2, -1), 7, 38.21),
        ((1, 1, 0), (1, -1, 2), 3, 70.53),
        ((0, 0, 1), (5, 1, 0), 13, 22.62),
    ],
)
def test_known_boundaries(axis, plane, sigma, theta):
    b = tilt_boundary(axis, plane)
    assert b.sigma == sigma
    assert b.angle_deg == pytest.approx(theta, abs=0.01)
    assert np.min(np.abs(np.array(tilt_angles_about_axis(axis, plane)) - theta)) < 0.01


@pytest.mark.parametrize("h, k, l", [(3, 1, 0), (5, 1, 0), (1, 1, 1), (1, 1, 3), (2, 2, 1), (3, 2, 1), (7, 5, 0)])
def test_sigma_is_odd_part_of_index_norm(h, k, l):
    n2 = h * h + k * k + l * l
    while n2 % 2 == 0:
        n2 //= 2
    assert sigma_of_plane((h, k, l)) == n2


def test_sigma_of_plane_equals_the_coincidence_of_the_exact_mirror_rotation():
    # the closed form (odd part of h²+k²+l²) against Σ read off the exact rational rotation 2 n nᵀ/|n|² − I
    for v in itertools.product(range(-6, 7), repeat=3):
        if any(v):
            n = reduce_indices(np.array(v))
            assert sigma_of_plane(v) == sigma_of_rotation(mirror_rotation_fractions(n)), v


@pytest.mark.parametrize("axis", [(0, 0, 1), (1, 1, 0), (1, 1, 1), (1, 1, 2)])
def test_tilt_angle_is_a_rotation_about_the_axis_mapping_a_onto_b(axis):
    boundaries = enumerate_tilt_boundaries(axis, 41)
    assert len(boundaries) >= 3
    for b in boundaries:
        assert np.min(np.abs(np.array(tilt_angles_about_axis(axis, b.plane)) - b.angle_deg)) < 1e-6
        assert b.sigma <= 41 and b.sigma % 2 == 1


def test_nearest_boundary_reports_deviation():
    b, dev = nearest_tilt_boundary((0, 0, 1), 35.0, sigma_max=13)
    assert b.sigma == 5 and b.plane in ((3, 1, 0), (1, 3, 0), (3, -1, 0), (1, -3, 0))
    assert dev == pytest.approx(36.8699 - 35.0, abs=1e-3)
    with pytest.raises(ValueError, match="sigma_max"):
        nearest_tilt_boundary((0, 0, 1), 35.0, sigma_max=1)


def test_plane_must_contain_axis_with_hint():
    with pytest.raises(ValueError, match=r"does not contain the tilt axis.*\(1 -1 3\)"):
        tilt_boundary((1, 1, 0), (1, 1, 3))


def test_axis_without_twofold_is_rejected():
    with pytest.raises(ValueError, match="no 2-fold axis"):
        twofold_reference((1, 2, 3))


def _projected_sites_coincide(s, shift: float) -> bool:
    """Whether the atoms projected along z (x, y) map onto themselves under x -> x + shift (periodic in x)."""
    from scipy.spatial import cKDTree

    p = s.wrapped().positions[:, :2] - s.origin[:2]
    L = np.diag(s.cell)[:2]
    q = p.copy()
    q[:, 0] = np.mod(q[:, 0] + shift, L[0])
    d, _ = cKDTree(np.mod(p, L), boxsize=L).query(np.mod(q, L))
    return bool(d.max() < 1e-6)


@pytest.mark.parametrize(
    "axis, plane, k",
    [((0, 0, 1), (6, 1, 0), 2), ((0, 0, 1), (5, 1, 0), 1), ((0, 0, 1), (2, 1, 0), 2), ((1, 1, 1), (7, -1, -6), 3),
     ((1, 1, 1), (8, -1, -7), 1), ((1, 1, 0), (1, -1, 3), 2), ((1, 1, 0), (3, -3, 2), 1)],
)  # fmt: skip
def test_projected_period_is_the_symmetry_of_the_bicrystal_seen_along_the_axis(axis, plane, k):
    # the atoms of a built bicrystal projected along the tilt axis repeat after Lx / k along x, and after no
    # shorter shift of the form Lx / j (j = k + 1 .. 6): the period of the z-averaged Nye field
    from nyegan.csl import projected_periods
    from nyegan.structures.gb import build_stgb

    assert projected_periods(axis, plane) == k
    s, meta = build_stgb(axis, plane, a0=4.05, overlap_cutoff=0.0)
    Lx = s.cell[0, 0]
    assert Lx == pytest.approx(meta["periodic_cell"][0])
    assert _projected_sites_coincide(s, Lx / k)
    assert not any(_projected_sites_coincide(s, Lx * i / j) for j in range(k + 1, 7) for i in range(1, j)
                   if (i * k) % j)  # fmt: skip


def test_frank_bilby_wall_is_commensurate_with_the_boundary():
    # Frank's formula on the limiting low-angle boundary: edge dislocations with b along its normal, spacing
    # |b| / c. The boundary is periodic (CSL period L along x), so its wall must hold a whole number c L / |b| of
    # them per period, for every boundary of the three axes up to Σ 99 (not true for an arbitrary b: a0/√2
    # everywhere gives 2.83 on Σ37(610))
    from nyegan.csl import stgb_rotations
    from nyegan.defects.frank_bilby import frank_bilby_content, tilt_wall_burgers_length
    from nyegan.lattice import fcc_repeat_length
    from nyegan.nye.reference import minimum_angle_correspondence

    a0 = 4.05
    counts = {}
    for axis in ((0, 0, 1), (1, 1, 0), (1, 1, 1)):
        for b in enumerate_tilt_boundaries(axis, 99):
            t, n = np.array(b.axis), np.array(b.plane)
            corr = minimum_angle_correspondence(*stgb_rotations(t, n), axis=(0, 0, 1))
            c = abs(frank_bilby_content(np.degrees(corr.angle)))
            k = c * fcc_repeat_length(np.cross(n, t), a0) / tilt_wall_burgers_length(axis, b.plane, a0)
            assert abs(k - round(k)) < 1e-6, (axis, b.plane, k)
            counts[(axis, b.plane)] = round(k)
    assert len(counts) > 80
    assert tilt_wall_burgers_length((0, 0, 1), (6, 1, 0), a0) == pytest.approx(a0)  # near (100): b = a0[100]
    assert tilt_wall_burgers_length((0, 0, 1), (5, 4, 0), a0) == pytest.approx(a0 / np.sqrt(2))  # near (110)
    assert counts[((0, 0, 1), (6, 1, 0))] == 2 and counts[((0, 0, 1), (5, 1, 0))] == 1
