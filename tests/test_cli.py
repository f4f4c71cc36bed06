"""The ``nyegan`` command exposes the stages and writes data + metadata."""

import json
import subprocess
import sys

import numpy as np

from nyegan.io import read_data


def _nyegan(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nyegan", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_help_lists_stages():
    out = _nyegan("--help")
    assert out.returncode == 0
    for stage in ("build", "nye", "check-config"):
        assert stage in out.stdout


def test_build_gb_by_misorientation(tmp_path):
    out = _nyegan(
        "build",
        "gb",
        "--axis",
        "0",
        "0",
        "1",
        "--misorientation",
        "37",
        "--min-size",
        "10",
        "30",
        "8",
        "-o",
        str(tmp_path / "gb.data"),
    )
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "gb.json").read_text())
    s = read_data(tmp_path / "gb.data")
    assert meta["sigma"] == 5 and abs(meta["misorientation_deg"] - 36.87) < 0.01
    assert meta["n_atoms"] == s.n_atoms and set(np.unique(s.grain)) == {1, 2}
    assert meta["potential"] == "Al_mm.eam.fs" and 4.0 < meta["a0"] < 4.1
    assert np.allclose(np.diag(s.cell), np.diag(meta["cell"]))


def test_build_gb_bad_plane_is_a_clear_error(tmp_path):
    out = _nyegan("build", "gb", "--axis", "1", "1", "0", "--plane", "1", "1", "3", "-o", str(tmp_path / "x.data"))
    assert out.returncode == 2
    assert "does not contain the tilt axis" in out.stderr and "(1 -1 3)" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_build_twist(tmp_path):
    out = _nyegan(
        "build",
        "gb",
        "--type",
        "twist",
        "--axis",
        "1",
        "1",
        "1",
        "--misorientation",
        "38",
        "--min-size",
        "10",
        "30",
        "10",
        "-o",
        str(tmp_path / "tw.data"),
    )
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "tw.json").read_text())
    assert meta["sigma"] == 7 and meta["boundary_type"] == "symmetric_twist"
    assert read_data(tmp_path / "tw.data").n_atoms == meta["n_atoms"]


def test_build_dislocation(tmp_path):
    out = _nyegan(
        "build", "dislocation", "--character", "mixed", "--min-size", "40", "30", "8", "-o", str(tmp_path / "d.data")
    )
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "d.json").read_text())
    b = np.array(meta["burgers_box"])
    assert abs(np.linalg.norm(b) - meta["a0"] / np.sqrt(2)) < 1e-9  # |b| = a0/√2
    assert abs(meta["character_angle_deg"] - 60.0) < 1e-6
    assert sum(d["sign"] for d in meta["dislocations"]) == 0  # zero net Burgers vector
    assert read_data(tmp_path / "d.data").n_atoms == meta["n_atoms"]
