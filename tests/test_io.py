"""LAMMPS data and dump files round-trip, orthogonal and triclinic, and LAMMPS itself reads what we write."""

import numpy as np
import pytest

from nyegan.io import atomic_path, read_data, read_dump, write_data, write_dump
from nyegan.lmp import new_lammps
from nyegan.structure import Structure


def _random_structure(triclinic: bool, n=50, seed=1):
    rng = np.random.default_rng(seed)
    cell = np.diag([10.0, 12.0, 9.0])
    if triclinic:
        cell[1, 0], cell[2, 0], cell[2, 1] = 1.5, -0.7, 0.4
    frac = rng.random((n, 3))
    return Structure(
        positions=frac @ cell + [1.0, -2.0, 0.5],
        cell=cell,
        grain=rng.integers(1, 3, n),
        origin=[1.0, -2.0, 0.5],
        extra={"c_pe": rng.normal(size=n)},
    )


@pytest.mark.parametrize("triclinic", [False, True])
def test_data_roundtrip_and_lammps_reads_it(tmp_path, triclinic):
    s = _random_structure(triclinic)
    write_data(tmp_path / "a.data", s)
    r = read_data(tmp_path / "a.data")
    assert np.allclose(r.positions, s.positions) and np.allclose(r.cell, s.cell) and np.allclose(r.origin, s.origin)
    assert np.array_equal(r.grain, s.grain)
    lmp = new_lammps()
    lmp.commands_list(["units metal", "atom_style atomic", f"read_data {tmp_path / 'a.data'}"])
    assert lmp.get_natoms() == s.n_atoms
    lmp.close()


@pytest.mark.parametrize("triclinic", [False, True])
def test_dump_roundtrip(tmp_path, triclinic):
    s = _random_structure(triclinic)
    write_dump(tmp_path / "a.dump", s)
    r = read_dump(tmp_path / "a.dump")
    assert np.allclose(r.positions, s.positions, atol=1e-6) and np.allclose(r.cell, s.cell)
    assert np.allclose(r.origin, s.origin) and np.allclose(r.extra["c_pe"], s.extra["c_pe"], rtol=1e-6)


def test_lammps_dump_with_scaled_triclinic_coordinates(tmp_path):
    s = _random_structure(True)
    write_data(tmp_path / "a.data", s)
    lmp = new_lammps()
    lmp.commands_list(
        [
            "units metal",
            "atom_style atomic",
            f"read_data {tmp_path / 'a.data'}",
            f"write_dump all custom {tmp_path / 'l.dump'} id type xs ys zs",
        ]
    )
    lmp.close()
    r = read_dump(tmp_path / "l.dump")
    assert np.allclose(r.cell, s.cell) and np.allclose(r.origin, s.origin)
    assert np.allclose(r.wrapped().positions, s.wrapped().positions, atol=1e-5)


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
