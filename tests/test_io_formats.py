"""Reading atoms as users bring them: LAMMPS dumps written by LAMMPS itself (any column order, extra columns,
scaled / unwrapped coordinates, image flags, triclinic, several snapshots, gzip), LAMMPS data files written by
LAMMPS, extended XYZ as ASE writes it; truncated or malformed files give errors naming the file and line."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from nyegan.io import (
    FileFormatError,
    detect_format,
    iter_frames,
    read_atoms,
    read_data,
    read_dump,
    read_extxyz,
    write_data,
    write_dump,
    write_extxyz,
)
from nyegan.lmp import new_lammps
from nyegan.structure import Structure


def _structure(n=40, seed=3, spill=0.3):
    """Atoms in a triclinic box, some outside it (LAMMPS wraps them and keeps image flags)."""
    rng = np.random.default_rng(seed)
    cell = np.array([[10.0, 0, 0], [1.5, 12.0, 0], [-0.7, 0.4, 9.0]])
    frac = rng.random((n, 3)) * (1 + 2 * spill) - spill
    origin = np.array([1.0, -2.0, 0.5])
    return Structure(positions=frac @ cell + origin, cell=cell, grain=rng.integers(1, 3, n), origin=origin)


@pytest.fixture(scope="module")
def lammps_files(tmp_path_factory):
    """A 3-snapshot dump with scrambled columns and a LAMMPS-written data file, both from a real LAMMPS run."""
    d = tmp_path_factory.mktemp("lmp")
    s = _structure()
    write_data(d / "in.data", s)
    lmp = new_lammps()
    lmp.commands_list(
        [
            "units metal",
            "atom_style atomic",
            f"read_data {d / 'in.data'}",
            "mass * 26.98",
            "pair_style zero 3.0",
            "pair_coeff * *",
            "compute pe all pe/atom",
            "velocity all create 300 1",
            "fix 1 all nve",
            f"dump a all custom 5 {d / 'scaled.dump'} c_pe ix xs vx type zs id iy ys iz",
            f"dump b all custom 5 {d / 'unwrapped.dump'} id xu yu type zu",
            "dump_modify b sort id",
            f"write_data {d / 'lammps.data'}",
            "run 10",
        ]
    )
    lmp.close()
    return d, s


def test_lammps_dump_any_column_order_scaled_images_and_snapshots(lammps_files):
    d, s = lammps_files
    frames = list(iter_frames(d / "scaled.dump"))
    assert [f.timestep for f in frames] == [0, 5, 10]
    first = frames[0].structure
    assert np.array_equal(first.ids, np.arange(1, s.n_atoms + 1)) and np.array_equal(first.grain, s.grain)
    assert np.allclose(first.cell, s.cell) and np.allclose(first.origin, s.origin)
    assert np.abs(first.positions - s.positions).max() < 1e-4  # xs + image flags unwrap to the input
    assert set(first.extra) == {"c_pe", "vx"}
    unwrapped = list(iter_frames(d / "unwrapped.dump"))
    for a, b in zip(frames, unwrapped):
        assert np.abs(a.structure.positions - b.structure.positions).max() < 1e-4


def test_gzip_and_format_detection(lammps_files, tmp_path):
    d, s = lammps_files
    with open(d / "scaled.dump", "rb") as src, gzip.open(tmp_path / "traj.lammpstrj.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert detect_format(tmp_path / "traj.lammpstrj.gz") == "lammps-dump"
    assert [f.timestep for f in iter_frames(tmp_path / "traj.lammpstrj.gz")] == [0, 5, 10]
    assert detect_format(d / "lammps.data") == "lammps-data"
    write_extxyz(tmp_path / "a.xyz", s)
    assert detect_format(tmp_path / "a.xyz") == "extxyz"


def test_lammps_written_data_file_with_sections_and_image_flags(lammps_files):
    d, s = lammps_files
    r = read_data(d / "lammps.data")  # Masses and Pair Coeffs sections, 'Atoms # atomic', image flags
    assert np.allclose(r.cell, s.cell) and np.allclose(r.origin, s.origin)
    assert np.abs(r.positions - s.positions).max() < 1e-9 and np.array_equal(r.grain, s.grain)


def test_data_file_styles_and_general_triclinic(tmp_path):
    text = """title
3 atoms
1 atom types
1.0 0.0 0.0 avec
0.5 2.0 0.0 bvec
0.0 0.3 3.0 cvec
0.1 0.2 0.3 abc origin

Atoms # full

1 7 1 0.0 0.1 0.2 0.3  # comment
3 7 1 0.0 0.5 0.6 0.7
2 7 1 0.0 0.2 0.2 0.2
"""
    (tmp_path / "g.data").write_text(text)
    r = read_data(tmp_path / "g.data")
    assert np.allclose(r.cell, [[1, 0, 0], [0.5, 2, 0], [0, 0.3, 3]]) and np.allclose(r.origin, [0.1, 0.2, 0.3])
    assert np.allclose(r.positions[1], [0.2, 0.2, 0.2]) and list(r.ids) == [1, 2, 3]


def test_truncated_and_malformed_dumps_name_the_file_and_line(lammps_files, tmp_path):
    d, _ = lammps_files
    lines = (d / "unwrapped.dump").read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.dump"
    cut.write_text("".join(lines[:20]))  # 9 header lines + 11 of 40 atoms
    with pytest.raises(FileFormatError, match=r"cut\.dump: line 21: file ends after 11 of the 40 atoms"):
        read_dump(cut)
    half = tmp_path / "half.dump"
    half.write_text("".join(lines[:15]) + lines[15].split()[0] + " 1.0\n" + "".join(lines[16:]))
    with pytest.raises(FileFormatError, match=r"half\.dump: line 16: expected 5 fields"):
        read_dump(half)
    bad = tmp_path / "bad.dump"
    words = lines[12].split()
    words[1] = "abc"
    bad.write_text("".join(lines[:12]) + " ".join(words) + "\n" + "".join(lines[13:]))
    with pytest.raises(FileFormatError, match=r"bad\.dump: line 13: column 'xu' holds 'abc'"):
        read_dump(bad)
    second = tmp_path / "second.dump"  # a trajectory whose last snapshot is cut
    all_lines = (d / "unwrapped.dump").read_text().splitlines(keepends=True)
    second.write_text("".join(all_lines[: len(all_lines) - 5]))
    frames = iter_frames(second)
    next(frames), next(frames)
    with pytest.raises(FileFormatError, match=rf"second\.dump: line {len(all_lines) - 4}: file ends after 35"):
        next(frames)
    with pytest.raises(FileFormatError, match=r"junk\.txt: line 1: format not recognised"):
        (tmp_path / "junk.txt").write_text("hello\n")
        read_atoms(tmp_path / "junk.txt")


def test_extxyz_as_ase_writes_it(tmp_path):
    ase_io = pytest.importorskip("ase.io")
    from ase import Atoms

    rng = np.random.default_rng(0)
    cell = np.array([[8.0, 1.0, 0.5], [-1.0, 9.0, 0.2], [0.3, -0.4, 7.0]])  # general orientation
    atoms = Atoms("Al30", scaled_positions=rng.random((30, 3)), cell=cell, pbc=[True, True, False])
    atoms.set_array("c_pe", rng.normal(size=30))
    atoms.info["Timestep"] = 42
    ase_io.write(tmp_path / "a.extxyz", [atoms, atoms], format="extxyz")
    frames = list(iter_frames(tmp_path / "a.extxyz"))
    assert len(frames) == 2 and frames[0].timestep == 42
    r = frames[0].structure
    assert np.allclose(r.cell, cell) and r.pbc == (True, True, False)
    assert np.allclose(r.positions, atoms.positions) and np.allclose(r.extra["c_pe"], atoms.get_array("c_pe"))
    # and ASE reads what we write (OVITO-style Origin key included)
    s = Structure(positions=atoms.positions, cell=cell, grain=np.ones(30, int), origin=[0.0, 0.0, 0.0])
    write_extxyz(tmp_path / "ours.xyz", s)
    back = ase_io.read(tmp_path / "ours.xyz")
    assert np.allclose(back.positions, s.positions) and np.allclose(back.cell[:], cell)
    assert np.allclose(read_extxyz(tmp_path / "ours.xyz").positions, s.positions)


def test_extxyz_as_ovito_writes_it(tmp_path):
    text = (
        "3\n"
        'Lattice="4.0 0.0 0.0 0.0 4.0 0.0 0.0 0.0 4.0" Origin="-2.0 -2.0 -2.0" '
        "Properties=id:I:1:species:S:1:pos:R:3:c_pe:R:1 Time=1.5 Timestep=300\n"
        "3 Al 0.0 0.0 0.0 -3.36\n1 Al 1.0 1.0 0.0 -3.35\n2 Ni 1.0 0.0 1.0 -4.4\n"
    )
    (tmp_path / "o.xyz").write_text(text)
    frame = next(iter_frames(tmp_path / "o.xyz"))
    s = frame.structure
    assert frame.timestep == 300 and np.allclose(s.origin, -2.0) and s.pbc == (True, True, True)
    assert list(s.ids) == [1, 2, 3] and list(s.grain) == [1, 2, 1]  # Al -> 1, Ni -> 2
    assert np.allclose(s.extra["c_pe"], [-3.35, -4.4, -3.36])


def test_write_dump_general_cell_roundtrip(tmp_path):
    s = _structure(spill=0.0)
    R = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    R *= np.sign(np.linalg.det(R))
    g = s.copy(positions=s.positions @ R.T, cell=s.cell @ R.T, origin=s.origin @ R.T)
    write_dump(tmp_path / "g.dump", g)
    r = read_dump(tmp_path / "g.dump")
    assert np.allclose(r.cell, g.cell) and np.allclose(r.origin, g.origin) and np.allclose(r.positions, g.positions)
