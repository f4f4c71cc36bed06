"""Bicrystal cells: exact periodicity, bulk density, minimum distance, grain identity and orientation."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from nyegan.lattice import fcc_nearest_neighbours
from nyegan.structures.gb import build_stgb
from nyegan.structures.twist import build_twist

A0 = 4.05
D_NN = A0 / np.sqrt(2)
BOUNDARIES = [
    ((0, 0, 1), (3, 1, 0)),
    ((0, 0, 1), (2, 1, 0)),
    ((1, 1, 0), (1, -1, 1)),
    ((1, 1, 0), (1, -1, 3)),
    ((1, 1, 1), (3, -2, -1)),
    ((1, 1, 0), (2, -2, 1)),
]


def _tree(s):
    return cKDTree(s.wrapped().positions - s.origin, boxsize=np.diag(s.cell))


def _distance_to_boundaries(s, meta):
    ly = s.cell[1, 1]
    d = np.abs(s.positions[:, 1][:, None] - np.array(meta["gb_y"])[None])
    return np.min(np.minimum(d, ly - d), axis=1)


TWISTS = [((0, 0, 1), 36.869897645844), ((1, 1, 0), 70.528779365509), ((1, 1, 1), 38.213210701738)]


@pytest.fixture(
    scope="module",
    params=[("tilt", *b) for b in BOUNDARIES] + [("twist", *b) for b in TWISTS],
    ids=lambda b: f"{b[0]}-{b[1]}-{b[2]}",
)
def bicrystal(request):
    kind, axis, which = request.param
    if kind == "tilt":
        return build_stgb(axis, which, a0=A0, min_size=(12.0, 60.0, 8.0))
    return build_twist(axis, which, a0=A0, min_size=(12.0, 60.0, 8.0))


def test_bulk_atoms_have_perfect_fcc_shell_across_every_face(bicrystal):
    s, meta = bicrystal
    far = _distance_to_boundaries(s, meta) > 2.0 * A0
    assert far.sum() > 0.2 * s.n_atoms
    tree = _tree(s)
    counts = np.array([len(n) for n in tree.query_ball_point(s.wrapped().positions[far] - s.origin, 1.05 * D_NN)])
    assert np.all(counts == 13)  # 12 neighbours + itself, including images across the x, y and z faces
    dist, _ = tree.query(s.wrapped().positions[far] - s.origin, k=2)
    assert np.allclose(dist[:, 1], D_NN, atol=1e-6)


def test_bulk_density_away_from_boundaries(bicrystal):
    s, meta = bicrystal
    period = meta["periodic_cell"][1] / 2  # lattice period along the boundary normal
    y0 = meta["gb_y"][0] + period / 2  # a slab of one full period inside grain A, away from the boundary
    assert meta["gb_y"][1] - meta["gb_y"][0] >= 2 * period
    slab = (s.positions[:, 1] >= y0 - 1e-6) & (s.positions[:, 1] < y0 + period - 1e-6)
    density = slab.sum() / (s.cell[0, 0] * s.cell[2, 2] * period)
    assert density == pytest.approx(4 / A0**3, rel=0.02)


def test_minimum_pair_distance(bicrystal):
    s, meta = bicrystal
    dist, _ = _tree(s).query(s.wrapped().positions - s.origin, k=2)
    assert dist[:, 1].min() >= meta["overlap_cutoff"] - 1e-9


def test_grain_ids_and_orientations(bicrystal):
    s, meta = bicrystal
    y = s.positions[:, 1]
    tol = 1e-6
    in_a = (y >= meta["gb_y"][0] - tol) & (y <= meta["gb_y"][1] + tol)
    assert np.all(s.grain[in_a & (_distance_to_boundaries(s, meta) > tol)] == 1)
    assert np.all(s.grain[~in_a] == 2)
    tree = _tree(s)
    far = _distance_to_boundaries(s, meta) > 2.0 * A0
    pos = s.wrapped().positions - s.origin
    for gid in (1, 2):
        rot = np.array(meta["rotations"][str(gid)])
        assert np.allclose(rot @ rot.T, np.eye(3)) and np.linalg.det(rot) == pytest.approx(1.0)
        ideal = fcc_nearest_neighbours(A0) @ rot.T
        atom = np.flatnonzero(far & (s.grain == gid))[0]
        neighbours = [j for j in tree.query_ball_point(pos[atom], 1.05 * D_NN) if j != atom]
        vectors = s.minimum_image(pos[neighbours] - pos[atom])
        assert np.allclose(np.sort(vectors, axis=0), np.sort(ideal, axis=0), atol=1e-6)


def test_cell_reaches_requested_size_with_identical_boundaries():
    s, meta = build_stgb((0, 0, 1), (3, 1, 0), a0=A0, min_size=(30.0, 60.0, 12.0))
    assert np.all(s.lengths >= [30.0, 60.0, 12.0])
    assert meta["replication"][1] * meta["periodic_cell"][1] == pytest.approx(s.cell[1, 1])
    assert np.allclose(meta["gb_y"], [s.cell[1, 1] / 4, 3 * s.cell[1, 1] / 4])
    assert meta["n_grain"]["1"] + meta["n_grain"]["2"] == s.n_atoms


def test_misorientation_mode_picks_nearest_csl():
    s, meta = build_stgb((1, 1, 0), misorientation=108.0, sigma_max=11, a0=A0)
    assert meta["sigma"] == 3 and meta["misorientation_deg"] == pytest.approx(109.47, abs=0.01)
    assert meta["misorientation_deviation_deg"] == pytest.approx(1.47, abs=0.01)
    assert meta["case"] == "gb-110-S3-1m11"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(axis=(1, 1, 0), plane=(1, 1, 3)), "does not contain the tilt axis"),
        (dict(axis=(1, 1, 0)), "exactly one of plane or misorientation"),
        (dict(axis=(1, 1, 0), plane=(1.5, -1, 3)), "three integers"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_stgb(a0=A0, **kwargs)


@pytest.mark.parametrize(
    "axis, angle, sigma",
    [
        ((0, 0, 1), 36.869897645844, 5),
        ((0, 0, 1), 22.619864948040, 13),
        ((1, 1, 1), 60.0, 3),
        ((1, 1, 1), 38.213210701738, 7),
        ((1, 1, 0), 50.478803641358, 11),
    ],
)
def test_twist_sigma_and_misorientation_about_the_normal(axis, angle, sigma):
    s, meta = build_twist(axis, angle, a0=A0)
    assert meta["sigma"] == sigma
    rot_a, rot_b = (np.array(meta["rotations"][k]) for k in ("1", "2"))
    assert np.allclose(rot_a @ axis / np.linalg.norm(axis), [0, 1, 0])  # twist axis along the normal y
    m = rot_b @ rot_a.T
    assert np.allclose(m[1], [0, 1, 0]) and np.degrees(np.arccos(m[0, 0])) == pytest.approx(angle, abs=1e-6)
    # coincidence: a fraction 1/Σ of the lattice sites of grain A are sites of grain B
    c = np.array(
        [[i, j, k] for i in range(-10, 11) for j in range(-10, 11) for k in range(-10, 11) if (i + j + k) % 2 == 0]
    )
    rotated = 2 * (c * A0 / 2) @ (rot_b.T @ rot_a).T / A0
    coincide = np.all(np.abs(rotated - np.round(rotated)) < 1e-6, axis=1) & (np.round(rotated).sum(axis=1) % 2 == 0)
    assert coincide.mean() == pytest.approx(1 / sigma, rel=0.1)


def test_twist_rejects_non_coincidence_angle():
    with pytest.raises(ValueError, match="coincidence"):
        build_twist((0, 0, 1), 31.0, a0=A0)
