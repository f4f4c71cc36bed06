"""Dislocations near tilt boundaries: line along the tilt axis, Burgers circuits in grain A, periodicity, errors."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from nyegan.defects.burgers_circuit import burgers_circuit, circle_path, rectangle_path
from nyegan.potentials import CubicProperties
from nyegan.structures.combined import add_dislocations_near_gb
from nyegan.structures.gb import build_stgb

AL = CubicProperties(a0=4.05, ecoh=3.36, c11=107.0, c12=60.0, c44=31.0)
A0 = AL.a0
D_NN = A0 / np.sqrt(2.0)
CASES = [
    ((0, 0, 1), (3, 1, 0), "edge", None),
    ((1, 1, 0), (1, -1, 3), "edge", None),
    ((1, 1, 0), (1, -1, 3), "screw", None),
    ((1, 1, 0), (1, -1, 3), "mixed", None),
    ((1, 1, 0), (1, -1, 1), "screw", (1, -1, 1)),
]  # last: glide plane parallel to the Σ3 twin
EXPECTED_ANGLE = {"edge": 90.0, "screw": 0.0, "mixed": 60.0}
DISTANCE = 10.0


@pytest.fixture(
    scope="module",
    params=[(c, a) for c in CASES for a in ("quadrupole", "dipole")],
    ids=lambda p: f"{p[0][0]}-{p[0][1]}-{p[0][2]}-{p[1]}",
)
def built(request):
    (axis, plane, character, glide), arrangement = request.param
    gb, gb_meta = build_stgb(axis, plane, a0=A0, min_size=(30.0, 90.0, 9.0))
    s, meta = add_dislocations_near_gb(
        gb, gb_meta, character, A0, AL, DISTANCE, arrangement=arrangement, glide_plane=glide
    )
    return gb, gb_meta, s, meta


def test_metadata_keeps_gb_keys_and_describes_dislocations(built):
    gb, gb_meta, s, meta = built
    assert meta["kind"] == "gb_dislocation"
    for key in ("axis", "plane", "sigma", "misorientation_deg", "rotations", "gb_y"):
        assert meta[key] == gb_meta[key]
    assert sum(d["sign"] for d in meta["dislocations"]) == 0
    assert meta["n_atoms"] == s.n_atoms == gb.n_atoms  # glide cuts conserve atoms
    spacing_tol = 0.5 * A0  # cores are moved by at most half a glide-plane spacing onto a mid-plane
    for d in meta["dislocations"]:
        y = d["position"][1]
        lo, hi = meta["grain_a_y"]
        y = np.mod(y - lo, s.cell[1, 1]) + lo
        assert lo < y < hi
        assert abs(min(y - lo, hi - y) - DISTANCE) <= spacing_tol


def test_line_along_tilt_axis_and_character(built):
    _, _, _, meta = built
    rot = np.array(meta["rotations"]["1"])
    line = rot @ np.array(meta["line"], float)
    assert np.allclose(line / np.linalg.norm(line), [0, 0, 1])
    b = np.array(meta["burgers_box"])
    assert np.isclose(np.linalg.norm(b), D_NN)
    angle = np.degrees(np.arctan2(np.linalg.norm(b[:2]), b[2]))
    assert np.isclose(min(angle, 180 - angle), EXPECTED_ANGLE[meta["character"]], atol=1e-6)
    n = rot @ np.array(meta["glide_plane"], float)
    assert abs(n[2]) < 1e-12 and abs(n @ b) < 1e-9  # glide plane contains the line and b


def test_burgers_circuits_in_grain_a(built):
    _, _, s, meta = built
    rot = np.array(meta["rotations"]["1"])
    b = np.array(meta["burgers_box"])
    grain_a = s.grain == 1
    for d in meta["dislocations"]:
        closure = burgers_circuit(s, rot, A0, circle_path(d["position"], 6.0), mask=grain_a)
        assert np.allclose(closure, d["sign"] * b, atol=1e-8)
    lo, hi = meta["grain_a_y"]
    if hi <= s.cell[1, 1]:  # a loop around all of grain A's dislocations encloses zero content
        lx = s.cell[0, 0]
        xs = np.sort(np.mod([d["position"][0] for d in meta["dislocations"]], lx))
        gaps = np.diff(np.append(xs, xs[0] + lx))
        x_side = xs[np.argmax(gaps)] + 0.5 * gaps.max()  # vertical sides far from every core
        closure = burgers_circuit(
            s, rot, A0, rectangle_path((x_side + 0.3, lo + 2.5), (x_side + lx - 0.3, hi - 2.5)), mask=grain_a
        )
        assert np.allclose(closure, 0.0, atol=1e-8)


def test_periodic_without_new_overlaps(built):
    gb, _, s, meta = built
    lengths = np.diag(s.cell)

    def min_distance(x):
        pos = x.wrapped().positions - x.origin
        return cKDTree(pos, boxsize=lengths).query(pos, k=2)[0][:, 1].min()

    assert min_distance(s) > min(0.7 * D_NN, min_distance(gb) - 0.05)
    # bulk grain-A atoms far from cores and boundaries keep 12 neighbours, also across the faces
    pos = s.wrapped().positions - s.origin
    cores = np.array([d["position"] for d in meta["dislocations"]])
    rel = pos[:, None, :2] - cores[None]
    rel -= lengths[:2] * np.round(rel / lengths[:2])
    dy = np.abs(pos[:, 1, None] - np.array(meta["gb_y"])[None])
    far = (np.linalg.norm(rel, axis=2).min(axis=1) > 8.0) & (np.minimum(dy, lengths[1] - dy).min(axis=1) > 6.0)
    tree = cKDTree(pos, boxsize=lengths)
    counts = np.array([len(n) for n in tree.query_ball_point(pos[far], 1.2 * D_NN)])
    assert far.sum() > 50 and np.all(counts == 13)


def test_refuses_combinations_that_cannot_be_periodic():
    gb, meta = build_stgb((0, 0, 1), (3, 1, 0), a0=A0, min_size=(10.0, 40.0, 5.0))
    with pytest.raises(ValueError, match="screw"):
        add_dislocations_near_gb(gb, meta, "screw", A0, AL, 5.0)  # no <110> along [001]
    with pytest.raises(ValueError, match="contain the line"):
        add_dislocations_near_gb(gb, meta, "edge", A0, AL, 5.0, glide_plane=(1, 1, 1))
    with pytest.raises(ValueError, match="distance"):
        add_dislocations_near_gb(gb, meta, "edge", A0, AL, 15.0)
    with pytest.raises(ValueError, match="gb_y"):
        add_dislocations_near_gb(gb, {"rotations": meta["rotations"]}, "edge", A0, AL, 5.0)


def test_refuses_cores_too_close_to_their_opposite_row():
    # grain A ~38 Å thick: cores 12 Å from both boundaries leave 14 Å between the +b and -b rows, which glide
    # together during the relaxation; 8 Å leaves 22 Å >= 2 x 8 Å and is built
    gb, meta = build_stgb((0, 0, 1), (3, 1, 0), a0=A0, min_size=(30.0, 70.0, 5.0))
    lo, hi = sorted(meta["gb_y"])
    thickness = hi - lo
    assert 4 * 12.0 > thickness >= 4 * 8.0
    with pytest.raises(ValueError, match=r"annihilate.*min_size y >= 96 Å"):
        add_dislocations_near_gb(gb, meta, "edge", A0, AL, 12.0)
    _, built = add_dislocations_near_gb(gb, meta, "edge", A0, AL, 8.0)
    ys = sorted(d["position"][1] for d in built["dislocations"])
    assert ys[-1] - ys[0] >= 2 * 8.0
