"""GB search checkpoint: a search killed with SIGKILL resumes from its finished states, to the same result."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from nyegan.relax import run_relax_files
from nyegan.relax.checkpoint import SearchCheckpoint, checkpoint_path_for
from nyegan.structures.cases import build_case, write_structure

POT = "Al_mm.eam.fs"


def _count(path, event: str) -> int:
    if not path.exists():
        return 0
    return path.read_text(errors="replace").count(f'"event": "{event}"')


def _relax_until(cmd, ckpt, event: str, n: int):
    """Run ``cmd`` and SIGKILL it once the checkpoint holds ``n`` records of ``event``."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    t0 = time.time()
    try:
        while _count(ckpt, event) < n:
            assert proc.poll() is None, "the search ended before it could be killed: " + proc.stdout.read().decode()
            assert time.time() - t0 < 120, f"fewer than {n} {event} records within 120 s"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_search_killed_twice_resumes_without_rescreening_and_ends_as_an_uninterrupted_one(tmp_path):
    s, meta = build_case("gb", {"axis": [0, 0, 1], "plane": [3, 1, 0]}, potential=POT, min_size=(10, 30, 4))
    data = tmp_path / "in" / "gb.data"
    write_structure(s, meta, data)
    whole = run_relax_files(data, tmp_path / "whole" / "gb.dump")
    assert not checkpoint_path_for(tmp_path / "whole" / "gb.dump").exists()  # removed when the case finished
    assert whole["resumed"] is None and whole["cg_runs"]["screen"] == whole["n_states"]

    out = tmp_path / "relaxed" / "gb.dump"
    ckpt = checkpoint_path_for(out)
    assert ckpt.name == "gb.search.jsonl"
    cmd = [sys.executable, "-m", "nyegan", "relax", str(data), "--log", str(tmp_path / "gb.log"), "-o", str(out)]
    _relax_until(cmd, ckpt, "screen", 20)  # killed while screening the coarse grid
    assert not out.exists() and not out.with_suffix(".json").exists()
    n_killed_1 = _count(ckpt, "screen")
    _relax_until(cmd, ckpt, "full", 1)  # resumed, then killed again at the first full relaxation
    assert _count(ckpt, "screen") > n_killed_1  # the second run went on from where the first stopped
    n_screen, n_full = _count(ckpt, "screen"), _count(ckpt, "full")

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "resumed" in r.stdout
    rec = json.loads(out.with_suffix(".json").read_text())
    assert not ckpt.exists()
    # no finished state was screened again: only the states the killed runs had not reached
    resumed = rec["resumed"]
    assert resumed["n_screen"] >= n_screen - 1 and resumed["n_full"] >= n_full - 1  # a line cut by the kill at most
    assert rec["cg_runs"]["screen"] == rec["n_states"] - resumed["n_screen"] < whole["cg_runs"]["screen"]
    assert rec["cg_runs"]["full"] == rec["n_full_relaxations"] - resumed["n_full"]
    assert rec["cg_runs"]["replay"] >= 1  # structures of resumed states rebuilt from their keys
    # the same search, decided the same way: same states, same minimum, same kept state
    assert rec["n_states"] == whole["n_states"] and rec["n_full_relaxations"] == whole["n_full_relaxations"]
    assert rec["gb_energy_mJ_m2"] == pytest.approx(whole["gb_energy_mJ_m2"], abs=1e-6)
    for k in ("tx", "tz", "cutoff_nn", "n_deleted"):
        assert rec["chosen_state"][k] == whole["chosen_state"][k]
    key = lambda st: (st["tx"], st["tz"], st["cutoff_nn"])  # noqa: E731
    a = {key(st): st["gb_energy_mJ_m2"] for st in whole["states"]}
    b = {key(st): st["gb_energy_mJ_m2"] for st in rec["states"]}
    assert a.keys() == b.keys() and np.allclose([a[k] for k in a], [b[k] for k in a], atol=1e-9, rtol=0)


def test_checkpoint_of_another_search_is_ignored_and_a_cut_line_skipped(tmp_path):
    path = tmp_path / "case.search.jsonl"
    ck = SearchCheckpoint(path, "identity-a")
    assert ck.load() == ({"screen": [], "full": [], "anneal": []}, None)
    ck.open()
    ck.append("screen", [{"key": [0.0, 0.0, 0.0], "gb_energy_mJ_m2": 500.0}, {"key": [1.0, 0.0, 0.0]}])
    ck.close()
    with open(path, "a") as fh:
        fh.write('{"event": "screen", "record": {"key": [2.0, ')  # killed mid-write
    again = SearchCheckpoint(path, "identity-a")
    records, note = again.load()
    assert [r["key"] for r in records["screen"]] == [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    assert "resumed 2" in note and "1 unreadable" in note
    again.open()  # the cut line is cut off: what follows is appended on a line of its own
    again.append("full", [{"key": [0.0, 0.0, 0.0]}])
    again.close()
    records, note = SearchCheckpoint(path, "identity-a").load()
    assert len(records["screen"]) == 2 and len(records["full"]) == 1 and "unreadable" not in note
    records, note = SearchCheckpoint(path, "identity-b").load()  # other inputs or settings
    assert records == {"screen": [], "full": [], "anneal": []} and "another search" in note
    other = SearchCheckpoint(path, "identity-b")
    other.open()  # started afresh
    assert other.load()[0]["screen"] == []
    other.remove()
    assert not path.exists()
