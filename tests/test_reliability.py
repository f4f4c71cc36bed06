"""Bad input, as a user gives it to the `nyegan` command: one clear line on stderr naming the problem and the fix,
exit status 2, no traceback, nothing half-written. The messages asserted here are those listed in
docs/reliability.md."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from _gan_fixtures import TINY_GAN, tiny_dataset, write_tiny_cases
from _messages import record

from nyegan.cli import main
from nyegan.config import load_config
from nyegan.lmp import potentials_dir
from nyegan.relax import RelaxSettings, run_relax_files
from nyegan.structures.cases import build_case, write_structure

ROOT = Path(__file__).resolve().parents[1]
POT = "Al_mm.eam.fs"


def run_cli(capsys, *argv) -> tuple[int, str]:
    """``nyegan ARGV`` in this process; returns (exit status, the stderr line of the error)."""
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("nyegan ")]
    if rc:
        record("\n".join(lines))
    return rc, "\n".join(lines)


def assert_refused(rc, line, *fragments):
    assert rc == 2, line
    assert len(line.splitlines()) == 1, line  # one line
    for f in fragments:
        assert f in line, f"{f!r} not in {line!r}"


def nothing_written(folder: Path, *names):
    for n in names:
        assert not (folder / n).exists(), n
    if folder.exists():
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")], list(folder.iterdir())


@pytest.fixture(scope="module")
def gb(tmp_path_factory):
    """A small Σ5(310) bicrystal: data + JSON, and its relaxed dump + JSON."""
    d = tmp_path_factory.mktemp("gb")
    s, meta = build_case("gb", {"axis": [0, 0, 1], "plane": [3, 1, 0]}, potential=POT, min_size=(10, 30, 4))
    write_structure(s, meta, d / "gb.data")
    run_relax_files(d / "gb.data", d / "relaxed" / "gb.dump", settings=RelaxSettings.from_config({}), gb_search=False)
    return d


@pytest.fixture(scope="module")
def gan(tmp_path_factory):
    """A tiny dataset (grid 16 x 32), a second one on another grid, and a checkpoint trained on the first."""
    import torch

    from nyegan.dataset import build_dataset
    from nyegan.gan.train import train

    d = tmp_path_factory.mktemp("gan")
    ds = tiny_dataset(d)
    nye, meta = write_tiny_cases(d)
    build_dataset(nye, meta, d / "coarse.nc", grid=(8, 16), heldout_misorientations=[20.0])
    torch.set_num_threads(1)
    ckpt = train(ds, d / "run", dict(TINY_GAN, steps=2, images=False))
    return d, ds, ckpt


# ---- configuration ----------------------------------------------------------------------------------------


def _config(tmp_path, text_or_dict) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text_or_dict if isinstance(text_or_dict, str) else yaml.safe_dump(text_or_dict))
    return p


def test_malformed_yaml_is_one_line(tmp_path, capsys):
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, "structures: [unclosed\n  - x"))
    assert_refused(rc, line, "nyegan check-config: error:", "config.yaml: malformed YAML", "line 2")


def test_unknown_key_lists_the_allowed_ones(tmp_path, capsys):
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, {"nye": {"spaceing": 0.5}}))
    assert_refused(rc, line, "config key 'nye': Additional properties are not allowed ('spaceing' was unexpected)",
                   "allowed keys here:", "spacing")  # fmt: skip


def test_impossible_boundary_names_the_entry_and_the_planes_that_work(tmp_path, capsys):
    cfg = {"structures": {"grain_boundaries": [{"axis": [1, 1, 0], "planes": [[1, 1, 3]]}]}}
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, cfg))
    assert_refused(rc, line, "'structures.grain_boundaries[0]'", "does not contain the tilt axis", "(1 -1 3)")
    cfg = {"structures": {"dislocations": [{"character": "edge", "line": [1, 1, 1]}]}}
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, cfg))
    assert_refused(rc, line, "config key 'structures': case 'disl-edge-quadrupolar-111': line [1, 1, 1] does not "
                   "lie in the glide plane [1, 1, 1] (line . n must be 0)")  # fmt: skip


def test_cell_beyond_the_atom_limit_is_refused_before_building(tmp_path, capsys):
    cfg = {"structures": {"min_size": [400, 400, 400], "dislocations": [{"character": "edge"}]}}
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, cfg))
    assert_refused(rc, line, "config key 'structures.max_atoms': case 'disl-edge-quadrupolar' would hold about",
                   "> structures.max_atoms = 1,000,000; lower its min_size or raise structures.max_atoms")  # fmt: skip
    # the estimate (no build) is that of the 4 atoms per a0^3 of the cell the builder would make
    n = int(line.split("about ")[1].split(" atoms")[0].replace(",", ""))
    a0 = 4.04527  # the Al_mm.eam.fs header
    assert 4 * 400**3 / a0**3 <= n <= 4 * 420**3 / a0**3
    assert not (tmp_path / "results").exists()
    cfg["structures"]["max_atoms"] = 10_000_000
    cfg["nye"] = {"spacing": 5.0}
    assert run_cli(capsys, "check-config", _config(tmp_path, cfg))[0] == 0  # the limit is a setting


def test_size_estimate_matches_the_builders():
    # the config check estimates atoms without building: compare with real builds of several kinds
    from nyegan.config import check_config, validate_schema
    from nyegan.structures.size import atom_count, case_lengths

    cfg = validate_schema(
        {
            "structures": {
                "min_size": [10.0, 30.0, 8.0],
                "grain_boundaries": [
                    {"axis": [0, 0, 1], "planes": [[2, 1, 0]]},
                    {"type": "twist", "axis": [0, 0, 1], "misorientations": [36.87]},
                ],
                "dislocations": [{"character": "screw"}, {"character": "mixed", "min_size": [30, 30, 8]}],
                "gb_dislocations": [
                    {
                        "axis": [1, 1, 0],
                        "plane": [1, -1, 3],
                        "character": "edge",
                        "distance": 9.0,
                        "min_size": [10, 80, 8],
                    }
                ],
            }
        }
    )
    a0 = 4.04527
    for name, case in check_config(cfg).items():
        s, _ = build_case(case.kind, case.params, potential=POT, min_size=cfg["structures"]["min_size"], name=name)
        lengths = case_lengths(case, a0, cfg["structures"]["min_size"])
        assert np.allclose(lengths, np.diag(s.cell), rtol=0.05), name
        assert 1.0 <= atom_count(lengths, a0) / s.n_atoms <= 1.06, name


def test_dislocations_that_would_annihilate_are_refused_before_building(tmp_path, capsys):
    # grain A of Σ11(1-13) in a 70 Å cell is ~40 Å thick: cores 12 Å from both boundaries are too close to the
    # opposite row; the check names the case and a min_size that fits, and that min_size passes
    spec = {"axis": [1, 1, 0], "plane": [1, -1, 3], "character": "edge", "distance": 12.0, "min_size": [36, 70, 8]}
    cfg = {"structures": {"gb_dislocations": [spec]}}
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, cfg))
    assert_refused(rc, line, "config key 'structures.gb_dislocations': case 'gbdisl-110-S11-1m13-edge-quadrupole-d12'",
                   "annihilate", "min_size y >= 96 Å")  # fmt: skip
    spec["min_size"] = [36, 96, 8]
    rc, _ = run_cli(capsys, "check-config", _config(tmp_path, cfg))
    assert rc == 0


def test_grid_memory_beyond_the_limit_is_refused(tmp_path, capsys):
    cfg = {"structures": {"dislocations": [{"character": "edge"}]}, "nye": {"spacing": 0.02, "average_along": None}}
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, cfg))
    assert_refused(rc, line, "config key 'nye.spacing': a 0.02 Å grid over case 'disl-edge-quadrupolar'",
                   "> nye.max_memory_gb = 8 GB; use nye.spacing >=", "or raise nye.max_memory_gb")  # fmt: skip
    # the spacing the message proposes fits
    proposed = float(line.split("nye.spacing >= ")[1].split(" Å")[0])
    cfg["nye"]["spacing"] = proposed * 1.05
    assert run_cli(capsys, "check-config", _config(tmp_path, cfg))[0] == 0


def test_grid_memory_is_checked_before_allocating_in_the_nye_stage(gb, tmp_path, capsys):
    rc, line = run_cli(capsys, "nye", gb / "relaxed" / "gb.dump", "--metadata", gb / "gb.json", "--reference",
                       "grains", "--spacing", "0.05", "--max-memory-gb", "0.01", "-o", tmp_path / "f.nc")  # fmt: skip
    assert_refused(rc, line, "nyegan nye: error: a 0.05 Å grid over the cell", "nye.max_memory_gb = 0.01 GB",
                   "(--spacing) or raise nye.max_memory_gb (--max-memory-gb)")  # fmt: skip
    nothing_written(tmp_path, "f.nc")


def test_heldout_misorientation_matching_nothing(tmp_path, capsys):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["dataset"] = {"heldout_misorientations": [45.0]}
    rc, line = run_cli(capsys, "check-config", _config(tmp_path, cfg))
    assert_refused(rc, line, "config key 'dataset.heldout_misorientations[0]': 45.0° matches no tilt boundary",
                   "misorientations: [36.87, 50.48, 53.13, 109.47]", "or [] to hold out none")  # fmt: skip
    cfg["dataset"] = {"heldout_misorientations": [50.48]}
    assert load_config(_config(tmp_path, cfg))["dataset"]["heldout_misorientations"] == [50.48]


# ---- files given to the command -----------------------------------------------------------------------------


def test_missing_empty_and_truncated_data_files(gb, tmp_path, capsys):
    out = tmp_path / "out"
    rc, line = run_cli(capsys, "relax", tmp_path / "nothere.data", "--metadata", gb / "gb.json", "-o", out / "x.dump")
    assert_refused(rc, line, "input structure", "nothere.data does not exist")
    (tmp_path / "empty.data").write_text("")
    rc, line = run_cli(capsys, "relax", tmp_path / "empty.data", "--metadata", gb / "gb.json", "-o", out / "x.dump")
    assert_refused(rc, line, "empty.data: line 1: file ends where the title line of a LAMMPS data file was expected")
    lines = (gb / "gb.data").read_text().splitlines(keepends=True)
    (tmp_path / "cut.data").write_text("".join(lines[:40]))
    rc, line = run_cli(capsys, "relax", tmp_path / "cut.data", "--metadata", gb / "gb.json", "-o", out / "x.dump")
    assert_refused(rc, line, "cut.data: line 41: file ends after", "atoms announced (truncated file?)")
    nothing_written(out, "x.dump", "x.json")


def test_truncated_corrupted_and_columnless_dumps(gb, tmp_path, capsys):
    dump = (gb / "relaxed" / "gb.dump").read_text()
    args = ["--metadata", gb / "gb.json", "--reference", "grains", "-o", tmp_path / "f.nc"]
    (tmp_path / "cut.dump").write_text(dump[: len(dump) // 2])  # cut inside a line
    rc, line = run_cli(capsys, "nye", tmp_path / "cut.dump", *args)
    assert_refused(rc, line, "cut.dump: line", "expected 6 fields (id type x y z pe), found")
    (tmp_path / "garbage.dump").write_bytes(dump[:300].encode() + bytes(range(256)) * 4)
    rc, line = run_cli(capsys, "nye", tmp_path / "garbage.dump", *args)
    assert_refused(rc, line, "garbage.dump: line")
    head, atoms = dump.split("ITEM: ATOMS")
    rows = [r.split()[:2] for r in atoms.splitlines()[1:]]
    (tmp_path / "nocols.dump").write_text(head + "ITEM: ATOMS id type\n" + "".join(f"{i} {t}\n" for i, t in rows))
    rc, line = run_cli(capsys, "nye", tmp_path / "nocols.dump", *args)
    assert_refused(rc, line, "nocols.dump: line 9: no position columns (x y z, xu yu zu, xs ys zs or xsu ysu zsu)")
    # positions but no atom types: read as one grain, which --reference grains must not accept silently
    xyz = [r.split()[:1] + r.split()[2:5] for r in atoms.splitlines()[1:]]
    (tmp_path / "notype.dump").write_text(head + "ITEM: ATOMS id x y z\n" + "".join(" ".join(r) + "\n" for r in xyz))
    rc, line = run_cli(capsys, "nye", tmp_path / "notype.dump", *args)
    assert_refused(rc, line, "notype.dump: --reference grains needs the atom types to be the grain ids [1, 2] of "
                   "the metadata, but the atoms carry [1]", "or use --reference auto")  # fmt: skip
    nothing_written(tmp_path, "f.nc")


def test_truncated_and_corrupted_netcdf(gan, tmp_path, capsys):
    d, ds, ckpt = gan
    raw = ds.read_bytes()
    (tmp_path / "cut.nc").write_bytes(raw[: len(raw) // 2])
    rc, line = run_cli(capsys, "generate", ckpt, tmp_path / "cut.nc", "-o", tmp_path / "g.nc")
    assert_refused(rc, line, "cut.nc (dataset file): not a readable netCDF file", "damaged or truncated",
                   "rewrite it with `nyegan dataset")  # fmt: skip
    # bytes flipped inside the data (headers intact): caught by the Fletcher-32 checksums, not read as numbers
    bad = bytearray(raw)
    at = raw.index(np.asarray(xr_alpha_first_values(ds)).tobytes()[:16])
    bad[at : at + 64] = bytes(64)
    (tmp_path / "flipped.nc").write_bytes(bytes(bad))
    rc, line = run_cli(capsys, "generate", ckpt, tmp_path / "flipped.nc", "-o", tmp_path / "g.nc")
    assert_refused(rc, line, "flipped.nc (dataset file): its data cannot be read", "the file is damaged")
    nothing_written(tmp_path, "g.nc")


def xr_alpha_first_values(path):
    import xarray as xr

    with xr.open_dataset(path) as x:  # 8 consecutive values of the stored array, none of them zero
        flat = x["alpha"].values.ravel()
        start = int(np.flatnonzero(flat != 0)[0])
        return flat[start : start + 8].copy()


def test_missing_empty_truncated_and_foreign_checkpoints(gan, tmp_path, capsys):
    d, ds, ckpt = gan
    raw = ckpt.read_bytes()
    (tmp_path / "empty.ckpt").write_bytes(b"")
    (tmp_path / "cut.ckpt").write_bytes(raw[: len(raw) // 3])
    (tmp_path / "text.ckpt").write_text("not a checkpoint\n")
    import torch

    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.ckpt")
    cases = {
        "nothere.ckpt": "checkpoint {p} not found: train first",
        "empty.ckpt": "checkpoint {p}: empty file; retrain with `nyegan train",
        "cut.ckpt": "checkpoint {p}: not a readable PyTorch checkpoint (",
        "text.ckpt": "checkpoint {p}: not a readable PyTorch checkpoint",
        "other.ckpt": "checkpoint {p}: no model weights ('state_dict'): not a training checkpoint",
    }
    for name, message in cases.items():
        p = tmp_path / name
        rc, line = run_cli(capsys, "generate", p, ds, "-o", tmp_path / "g.nc")
        assert_refused(rc, line, message.format(p=p))
    nothing_written(tmp_path, "g.nc")


def test_field_on_another_grid_than_the_dataset(gan, tmp_path, capsys):
    d, ds, ckpt = gan
    rc, line = run_cli(capsys, "generate", ckpt, d / "coarse.nc", "-o", tmp_path / "g.nc")
    assert_refused(rc, line, "was trained on a 2D grid [16, 32], but dataset", "coarse.nc holds 2D fields on [8, 16]")
    assert main(["generate", str(ckpt), str(ds), "-o", str(tmp_path / "g.nc"), "-n", "2"]) == 0
    rc, line = run_cli(capsys, "evaluate", tmp_path / "g.nc", d / "coarse.nc", "-o", tmp_path / "eval")
    assert_refused(rc, line, "g.nc: generated fields on the grid {'x': 16, 'y': 32}, but dataset",
                   "coarse.nc holds fields on {'x': 8, 'y': 16}")  # fmt: skip
    nothing_written(tmp_path / "eval", "metrics.json")


# ---- potentials -----------------------------------------------------------------------------------------


def test_missing_potential_and_potential_for_other_elements(gb, tmp_path, capsys):
    out = tmp_path / "out"
    rc, line = run_cli(capsys, "relax", gb / "gb.data", "--potential", "Al_nothere.eam.fs", "-o", out / "x.dump")
    assert_refused(rc, line, "case 'gb-001-S5-310': bad potential: potential 'Al_nothere.eam.fs' not found",
                   "available: ", "Al_mm.eam.fs")  # fmt: skip
    cu = tmp_path / "Cu.eam.alloy"
    shutil.copy(potentials_dir() / "Cu_mishin1.eam.alloy", cu)
    rc, line = run_cli(capsys, "relax", gb / "gb.data", "--potential", cu, "-o", out / "x.dump")
    assert_refused(rc, line, f"potential '{cu}' is for elements ['Cu'], not 'Al'; set 'element' or choose")
    nothing_written(out, "x.dump", "x.json")


def test_potential_and_files_with_spaces_relax_end_to_end(gb, tmp_path):
    # every path below holds a space; the potential reaches pair_coeff quoted (nyegan.potentials.lammps_quote)
    pot = tmp_path / "my potentials" / "Al mm.eam.fs"
    pot.parent.mkdir()
    shutil.copy(potentials_dir() / POT, pot)
    data = tmp_path / "my cells" / "gb.data"
    data.parent.mkdir()
    shutil.copy(gb / "gb.data", data)
    shutil.copy(gb / "gb.json", data.with_suffix(".json"))
    out = tmp_path / "relaxed files" / "gb.dump"
    cmd = [sys.executable, "-m", "nyegan", "relax", str(data), "--potential", str(pot), "--no-gb-search",
           "--log", str(tmp_path / "relaxed files" / "lammps log.txt"), "-o", str(out)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["potential"]["path"] == str(pot.resolve())
    assert f'pair_coeff * * """{pot.resolve()}""" Al Al' in (tmp_path / "relaxed files" / "lammps log.txt").read_text()
    # the same file under its plain name gives the same energy
    ref = json.loads((gb / "relaxed" / "gb.json").read_text())
    assert rec["energy_eV"] == pytest.approx(ref["energy_eV"], abs=1e-8)


# ---- generation outside the training range -----------------------------------------------------------------


def test_generation_outside_the_training_range_is_refused_unless_allowed(gan, tmp_path, capsys):
    d, ds, ckpt = gan
    req = tmp_path / "req.json"
    cell = [[17.0, 0, 0], [0, 60.0, 0], [0, 0, 4.0]]
    req.write_text(json.dumps([{"kind": "gb", "misorientation_deg": 45.0, "axis": [0, 0, 1], "plane": [0, 1, 0],
                                "cell": cell}]))  # fmt: skip
    rc, line = run_cli(capsys, "generate", ckpt, ds, "--requests", req, "-o", tmp_path / "g.nc")
    assert_refused(rc, line, "condition 0 (request0): misorientation 45.00° is outside the training range 10.00° "
                   "to 30.00° of gb about <1 0 0>", "pass --allow-extrapolation (config gan.allow_extrapolation: "
                   "true)")  # fmt: skip
    nothing_written(tmp_path, "g.nc")
    req.write_text(json.dumps([{"kind": "dislocation", "character": "edge", "cell": cell}]))
    rc, line = run_cli(capsys, "generate", ckpt, ds, "--requests", req, "-o", tmp_path / "g.nc")
    assert_refused(rc, line, "kind 'dislocation' was not trained on (trained: gb)")
    # inside the range (the held-out 20 deg lies between the trained 10 and 30 deg): generated
    req.write_text(json.dumps([{"kind": "gb", "misorientation_deg": 25.0, "axis": [0, 0, 1], "plane": [0, 1, 0],
                                "cell": cell}]))  # fmt: skip
    assert run_cli(capsys, "generate", ckpt, ds, "--requests", req, "-o", tmp_path / "g.nc", "-n", "2")[0] == 0
    # explicitly allowed: generated, and the output says which conditions were extrapolated
    req.write_text(json.dumps([{"kind": "gb", "misorientation_deg": 45.0, "axis": [0, 0, 1], "plane": [0, 1, 0],
                                "cell": cell}]))  # fmt: skip
    rc = main(["generate", str(ckpt), str(ds), "--requests", str(req), "-o", str(tmp_path / "x.nc"), "-n", "2",
               "--allow-extrapolation"])  # fmt: skip
    assert rc == 0
    import xarray as xr

    with xr.open_dataset(tmp_path / "x.nc") as g:
        assert "misorientation 45.00° is outside" in json.loads(g.attrs["extrapolated"])[0]


# ---- interruptions --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_relaxation_killed_mid_run_leaves_nothing_and_reruns(gb, tmp_path):
    """SIGKILL during a GB search: no output (not even the stale one of an earlier run), and a rerun succeeds."""
    out = tmp_path / "relaxed" / "gb.dump"
    out.parent.mkdir()
    out.write_text("stale output of an earlier run\n")
    log = tmp_path / "logs" / "gb.log"
    settings = json.dumps({"gb_search": {"translations": [4, 2], "deletion_cutoffs": [0.0, 0.5, 0.7]}})
    cmd = [sys.executable, "-m", "nyegan", "relax", str(gb / "gb.data"), "--settings", settings, "--log", str(log),
           "-o", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    t0 = time.time()
    try:
        while not (log.exists() and log.read_text(errors="replace").count("Loop time") >= 2):
            assert proc.poll() is None, "the search ended before it could be killed: " + proc.stdout.read().decode()
            assert time.time() - t0 < 60, "no minimisation within 60 s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    nothing_written(out.parent, "gb.dump", "gb.json")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["n_states"] >= 2 and rec["gb_energy_mJ_m2"] > 0


def test_a_failed_structure_write_leaves_neither_file(tmp_path):
    s, meta = build_case("gb", {"axis": [0, 0, 1], "plane": [3, 1, 0]}, potential=POT, min_size=(10, 30, 4))
    bad = dict(meta, kind="grain")  # breaks the structure contract
    with pytest.raises(ValueError, match=r"gb\.json \(structure file.*key 'kind'") as err:
        write_structure(s, bad, tmp_path / "gb.data")
    record(err.value)
    assert list(tmp_path.iterdir()) == []
