"""File contracts between stages: written once, checked on write and read, clear errors for old or broken files."""

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _gan_fixtures import write_tiny_cases

from nyegan.contracts import DATASET, NYE_FIELD, RELAXED, STRUCTURE, ContractError, render_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_page_is_rendered_from_the_contracts():
    assert (ROOT / "docs" / "contracts.md").read_text() == render_markdown(), (
        "docs/contracts.md is stale: run `nyegan contracts-docs -o docs/contracts.md`"
    )


def test_built_structure_carries_its_format_and_is_checked_on_read(tmp_path):
    from nyegan.structures.cases import build_case, write_structure

    s, meta = build_case("gb", {"axis": [0, 0, 1], "plane": [3, 1, 0]}, potential="Al_mm.eam.fs", min_size=(5, 20, 4))
    json_path = write_structure(s, meta, tmp_path / "gb.data")
    data = json.loads(json_path.read_text())
    assert data["format"] == "structure" and data["format_version"] == STRUCTURE.version
    assert STRUCTURE.read(json_path)["case"] == "gb-001-S5-310"
    # an old file (no version) names the file, the writer and the command that rewrites it
    del data["format_version"]
    json_path.write_text(json.dumps(data))
    with pytest.raises(
        ContractError, match=r"gb\.json \(structure file, written by the structures stage.*nyegan build"
    ):
        STRUCTURE.read(json_path)


def test_missing_key_is_named_with_the_writing_stage(tmp_path):
    _, meta = write_tiny_cases(tmp_path, thetas=(10.0,), seeds=1)
    data = json.loads(meta[0].read_text())
    del data["gb_y"]
    meta[0].write_text(json.dumps(data))
    with pytest.raises(ContractError, match=r"key 'gb_y': missing"):
        STRUCTURE.read(meta[0])
    data["gb_y"] = "middle"
    meta[0].write_text(json.dumps(data))
    with pytest.raises(ContractError, match=r"key 'gb_y': 'middle' is not of type 'array'"):
        STRUCTURE.read(meta[0])


def test_truncated_json_is_a_clear_error(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"format": "relaxed", "format_ver')
    with pytest.raises(ContractError, match=r"x\.json \(relaxed file\): not valid JSON.*nyegan relax"):
        RELAXED.read(p)
    with pytest.raises(FileNotFoundError, match=r"no such relaxed file"):
        RELAXED.read(tmp_path / "missing.json")


def test_nye_field_contract_checks_dims_units_and_version(tmp_path):
    nye, _ = write_tiny_cases(tmp_path, thetas=(10.0,), seeds=1)
    ds = NYE_FIELD.open(nye[0])
    assert ds.attrs["nyegan_format"] == "nye_field" and ds.attrs["method"].startswith("analytic")
    # burgers_content is one JSON string for analytic and atomistic fields alike
    content = json.loads(ds.attrs["burgers_content"])
    assert content[0]["kind"] == "boundary" and len(content[0]["content_per_length"]) == 3
    bad = ds.copy()
    bad["alpha"] = bad["alpha"].transpose("x", "y", "i", "j")
    with pytest.raises(ContractError, match=r"variable 'alpha' has dims \('x', 'y', 'i', 'j'\)"):
        NYE_FIELD.check(bad, "f.nc")
    bad = ds.copy()
    bad["alpha"].attrs["units"] = "1/nm"
    with pytest.raises(ContractError, match="units '1/nm', expected '1/angstrom'"):
        NYE_FIELD.check(bad, "f.nc")
    old = ds.copy()
    del old.attrs["nyegan_format_version"]
    old.to_netcdf(tmp_path / "old.nc")
    with pytest.raises(ContractError, match=r"old\.nc \(nye_field file, written by the Nye stage.*no format version"):
        NYE_FIELD.open(tmp_path / "old.nc")
    # a dataset file is not a Nye field
    with pytest.raises(ContractError, match="this is a 'nye_field' file, not a 'dataset' file"):
        DATASET.check(ds, "f.nc")


def test_damaged_netcdf_names_the_file_and_the_fix(tmp_path):
    nye, _ = write_tiny_cases(tmp_path, thetas=(10.0,), seeds=1)
    raw = nye[0].read_bytes()
    cut = tmp_path / "cut.nc"
    cut.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ContractError, match=r"cut\.nc \(nye_field file\): not a readable netCDF file.*nyegan nye"):
        NYE_FIELD.open(cut)
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    with pytest.raises(ContractError, match="empty"):
        NYE_FIELD.open(empty)


def test_atomistic_nye_field_records_its_difference_scheme(tmp_path):
    # the dataset reads the per-case scheme: atomistic fields come from central differences
    from nyegan.dataset import build_dataset
    from nyegan.nye import compute_nye
    from nyegan.nye.output import write_field
    from nyegan.structure import Structure

    a0 = 4.05
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.stack(np.meshgrid(range(4), range(4), range(2), indexing="ij"), -1).reshape(-1, 3)
    pos = ((cells[:, None, :] + basis[None]) * a0).reshape(-1, 3)
    s = Structure(positions=pos, cell=np.diag([4, 4, 2]) * a0, grain=np.ones(len(pos), int))
    ds = compute_nye(s, a0, reference="grains", rotations={1: np.eye(3)}, average_along="z")
    assert ds.attrs["difference_scheme"] == "central" and ds.attrs["method"].startswith("atomistic")
    write_field(ds, tmp_path / "nye" / "perfect.nc")
    nye, meta = write_tiny_cases(tmp_path, thetas=(10.0, 20.0), seeds=1)
    d = build_dataset(nye, meta, tmp_path / "d.nc", grid=(16, 32), heldout_misorientations=[])
    assert d.attrs["source_schemes"] == "spectral" and "unknown" not in d.attrs["source_schemes"]
    assert isinstance(xr.open_dataset(tmp_path / "d.nc").attrs["nyegan_format_version"], np.integer | int)


def test_checked_read_leaves_a_users_open_file_usable(tmp_path):
    """A checked read of a file the user holds open, then a fresh open: must not crash (pydata/xarray#8289).
    In a subprocess, since the failure is a segmentation fault."""
    import subprocess
    import sys

    nye, _ = write_tiny_cases(tmp_path, thetas=(10.0,), seeds=1)
    code = (
        "import sys, xarray as xr\n"
        "from nyegan.contracts import NYE_FIELD\n"
        "f = sys.argv[1]\n"
        "held = xr.open_dataset(f)\n"
        "checked = NYE_FIELD.open(f)\n"
        "again = xr.open_dataset(f)\n"
        "assert float(abs(held['alpha'] - again['alpha']).max()) == 0.0\n"
        "assert checked.encoding['source'] == f\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(nye[0])], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]
