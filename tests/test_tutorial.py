"""docs/tutorial.py runs as a user runs it (a fresh interpreter, real LAMMPS, Lightning on the CPU), checks the
physics it prints (Frank–Bilby content, uniform stress between the boundaries, the content of generated fields)
and writes every figure it announces."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_tutorial_runs_from_build_to_generated_stress(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "tutorial.py"), "--out", str(tmp_path / "out"), "--steps", "20"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    printed = [line for line in r.stdout.splitlines() if line[:2] in {f"{k}." for k in range(1, 7)}]
    assert [line[0] for line in printed] == list("1233456"), r.stdout  # every step reported (two boundaries)
    out = tmp_path / "out"
    for name in ("nye.png", "stress.png", "generated_vs_atomistic.png", "generated_stress.png"):
        img = mpimg.imread(out / name)
        assert img.shape[0] > 200 and float(np.std(img[..., :3])) > 0.02, name
    with xr.open_dataset(out / "generated.nc") as gen:
        assert set(gen["case"].values.astype(str)) == {"gb-001-S5-310"}  # the held-out atomistic boundary
    with xr.open_dataset(out / "generated_stress.nc") as s:
        assert s.sizes["sample"] == 4 and np.isfinite(s["stress"].values).all()
