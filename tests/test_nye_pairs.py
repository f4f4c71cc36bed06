"""The fast Nye path against independent references: the pair search against a per-atom k-nearest search with
explicit images, the closed-form closest bond against a brute-force angle search, G from pairs (any blocks,
threads, cells) against G from per-atom neighbour tables, chunked deposition, and the block reader of atom tables
against numpy's text parser."""

from __future__ import annotations

import numpy as np
import pytest
from nye_helpers import oriented_crystal

import nyegan.nye.field as field
from nyegan.io import read_atoms, write_dump
from nyegan.lattice import fcc_nearest_neighbours
from nyegan.nye import compute_nye
from nyegan.nye.field import reference_from_rotations
from nyegan.nye.lattice_g import FCC_BOND_ORDER, SHELL_CUTOFF_FACTOR, atom_correspondence, closest_fcc_bond
from nyegan.nye.neighbours import PeriodicNeighbours, block_counts, neighbour_pairs
from nyegan.rotations import rotation_about_axis_rad
from nyegan.structure import Structure

A0 = 4.05
CUTOFF = SHELL_CUTOFF_FACTOR * A0


def _bicrystal(repeats=(12, 10, 8), noise=0.2, seed=3):
    """Noisy fcc cell with two grains (left and right halves, 12° apart about [110])."""
    rng = np.random.default_rng(seed)
    s, rot = oriented_crystal([[1, 0, 0], [0, 1, 0], [0, 0, 1]], list(repeats), A0)
    s.positions += rng.normal(scale=noise, size=s.positions.shape)
    rot2 = rotation_about_axis_rad(np.array([1.0, 1.0, 0.0]) / np.sqrt(2.0), np.radians(12.0)) @ rot
    grain = 1 + (s.positions[:, 0] > s.cell[0, 0] / 2).astype(int)
    return s.copy(grain=grain), reference_from_rotations({1: rot, 2: rot2})


def _cells():
    """Orthogonal, triclinic, free surfaces (atoms sticking out), thin (one cell thinner than the cutoff), messy
    (vacancies, interstitials, an over-full shell of more than 16 neighbours)."""
    s, ref = _bicrystal()
    yield "orthogonal", s, ref
    cell = s.cell.copy()
    cell[1, 0], cell[2, 0], cell[2, 1] = 5.0, -3.0, 4.0
    yield "triclinic", s.copy(positions=s.fractional() @ cell, cell=cell), ref
    keep = (s.positions[:, 1] > 3.0) & (s.positions[:, 1] < s.cell[1, 1] - 3.0)
    surface = s.copy(pbc=(True, False, True)).select(keep)
    surface.positions[:5, 1] -= 6.0  # outside the box along the free direction
    yield "surface", surface, ref
    thin, ref_thin = _bicrystal((12, 10, 1), noise=0.05)
    yield "thin", thin, ref_thin
    rng = np.random.default_rng(5)
    pos = s.positions[rng.random(s.n_atoms) > 0.02]
    crowd = pos[7] + rng.normal(scale=1.0, size=(10, 3))
    pos = np.concatenate([pos, rng.random((30, 3)) * np.diag(s.cell), crowd])
    grain = 1 + (pos[:, 0] > s.cell[0, 0] / 2).astype(int)
    yield "messy", Structure(positions=pos, cell=s.cell, grain=grain), ref


CELLS = {name: (s, ref) for name, s, ref in _cells()}


@pytest.mark.parametrize("name", list(CELLS))
def test_pairs_are_the_neighbours_of_the_k_nearest_search(name):
    s = CELLS[name][0]
    p, valid = PeriodicNeighbours(s, CUTOFF, max_neighbours=40).query(slice(None))
    assert valid.sum(axis=1).max() < 40  # the k-nearest search saw every neighbour
    want = sorted(
        (int(i), *np.round(v, 6)) for i in range(s.n_atoms) for v in p[i][valid[i]]
    )  # (atom, vector to a neighbour)
    for chunk in (1 << 20, 200):  # one search, or blocks with halos
        got = []
        for pairs in neighbour_pairs(s, CUTOFF, chunk=chunk):
            a_side = pairs.a_side if not pairs.all_sides else np.ones(len(pairs.a), bool)
            b_side = pairs.b_side if not pairs.all_sides else np.ones(len(pairs.a), bool)
            atoms = pairs.atoms
            got += [(int(atoms[a]), *np.round(v, 6)) for a, v in zip(pairs.a[a_side], pairs.d[:, a_side].T)]
            got += [(int(atoms[b]), *np.round(-v, 6)) for b, v in zip(pairs.b[b_side], pairs.d[:, b_side].T)]
        assert sorted(got) == want, (name, chunk)


def _brute_force_neighbours(s: Structure, cutoff: float) -> list:
    """(atom, vector) for every atom and every image of every other atom closer than ``cutoff``, by trying all
    image shifts of up to two cells along periodic vectors."""
    shifts = np.array([(i, j, k) for i in range(-2, 3) for j in range(-2, 3) for k in range(-2, 3)]) * np.array(
        s.pbc, dtype=int
    )
    shifts = np.unique(shifts, axis=0) @ s.cell
    out = []
    for i in range(s.n_atoms):
        d = (s.positions[None, :, :] + shifts[:, None, :] - s.positions[i]).reshape(-1, 3)
        r = np.linalg.norm(d, axis=1)
        out += [(i, *np.round(v, 6)) for v in d[(r < cutoff) & (r > 0)]]
    return sorted(out)


@pytest.mark.parametrize("geometry", ["orthogonal", "triclinic", "surface", "thin"])
def test_pairs_match_a_brute_force_search(geometry):
    s, _ = _bicrystal((5, 4, 1 if geometry == "thin" else 4), noise=0.3)
    if geometry in ("triclinic", "surface"):  # triclinic: searched among explicit images
        cell = s.cell.copy()
        cell[1, 0], cell[2, 0], cell[2, 1] = 3.0, -2.0, 2.5
        s = s.copy(positions=s.fractional() @ cell, cell=cell)
    if geometry == "surface":
        s = s.copy(pbc=(True, False, True))
        top = s.fractional()[:, 1] > 0.7  # a slab moved beyond the free face: its bonds still cross x and z
        s.positions[top] += 9.0 * s.cell[1] / np.linalg.norm(s.cell[1])
    got = []
    for pairs in neighbour_pairs(s, CUTOFF):
        both = np.ones(len(pairs.a), bool)
        a_side, b_side = (both, both) if pairs.all_sides else (pairs.a_side, pairs.b_side)
        got += [(int(pairs.atoms[a]), *np.round(v, 6)) for a, v in zip(pairs.a[a_side], pairs.d[:, a_side].T)]
        got += [(int(pairs.atoms[b]), *np.round(-v, 6)) for b, v in zip(pairs.b[b_side], pairs.d[:, b_side].T)]
    assert sorted(got) == _brute_force_neighbours(s, CUTOFF)


def test_closest_fcc_bond_is_the_smallest_angle():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 20000))
    q = fcc_nearest_neighbours(1.0)[FCC_BOND_ORDER]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    cos = (q @ v) / np.linalg.norm(v, axis=0)
    code, c = closest_fcc_bond(*v)
    assert np.array_equal(code, np.argmax(cos, axis=0))
    assert np.allclose(c, cos.max(axis=0), rtol=0, atol=1e-14)
    assert np.array_equal(closest_fcc_bond(*-v)[0], code ^ 3)  # the opposite vector: the opposite bond


@pytest.mark.parametrize("name", list(CELLS))
def test_g_from_pairs_equals_g_from_neighbour_tables(name):
    s, ref = CELLS[name]
    tables = atom_correspondence(s, A0, ref, neighbours=PeriodicNeighbours(s, CUTOFF))
    if name == "messy":
        assert (~tables.ok).any() and (tables.n_matched < 12).sum() > 10
    for chunk, workers in ((1 << 20, 1), (300, 1), (300, 2)):
        pairs = atom_correspondence(s, A0, ref, chunk=chunk, workers=workers)
        assert np.array_equal(pairs.ok, tables.ok) and np.array_equal(pairs.n_matched, tables.n_matched)
        assert np.abs(pairs.G - tables.G).max() < 1e-13, (name, chunk, workers)
    assert np.prod(block_counts(s, CUTOFF, 300)) > 1 or name == "thin"


def test_chunked_deposition_equals_one_pass_to_float32_round_off(monkeypatch):
    s, ref = CELLS["orthogonal"]
    kw = dict(reference=ref, spacing=1.5, smoothing=2.0, content=None, return_atoms=True)
    timings = {}
    whole, atoms = compute_nye(s, A0, timings=timings, **kw)
    assert {"neighbours", "G", "grid", "curl", "output"} <= set(timings)
    monkeypatch.setattr(field, "DEPOSIT_CHUNK", 500)
    chunked, atoms_c = compute_nye(s, A0, **kw)
    a, b = whole["alpha"].values, chunked["alpha"].values
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b)) < 1e-5 * np.nanmax(np.abs(a))
    assert np.nanmax(np.abs(atoms["alpha"] - atoms_c["alpha"])) < 1e-5 * np.nanmax(np.abs(a))


@pytest.mark.parametrize("layout", ["single", "padded", "tabs", "no final newline"])
def test_block_reader_matches_numpy_text_parser(tmp_path, layout):
    s = CELLS["messy"][0]
    path = tmp_path / "atoms.dump"
    write_dump(path, s)
    text = path.read_text()
    head, body = text.split("ITEM: ATOMS id type x y z\n")
    if layout == "padded":
        body = "\n".join("  " + line.replace(" ", "   ") for line in body.splitlines()) + "\n"
    elif layout == "tabs":
        body = body.replace(" ", "\t")
    elif layout == "no final newline":
        body = body.rstrip("\n")
    path.write_text(head + "ITEM: ATOMS id type x y z\n" + body)
    table = np.loadtxt(body.splitlines())
    got = read_atoms(path)
    assert np.array_equal(got.ids, table[:, 0].astype(int))
    assert np.array_equal(got.grain, table[:, 1].astype(int))
    assert np.array_equal(got.positions, table[:, 2:5])
