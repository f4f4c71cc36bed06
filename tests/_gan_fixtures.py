"""Shared utilities of the dataset / GAN tests: a tiny analytic sweep written in the per-case contract."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nyegan.dataset import build_dataset
from nyegan.gan import synthetic

SRC = str(Path(__file__).resolve().parents[1] / "src")
PY = sys.executable

TINY_GAN = dict(
    batch_size=4,
    steps=6,
    steps_per_epoch=3,
    checkpoint_every=2,
    nz=8,
    width_g=4,
    width_d=4,
    depth=2,
    n_down=2,
    embed=8,
    n_critic=2,
    images=True,
    threads=1,
    log_every=1,
)


def write_tiny_cases(root, thetas=(10.0, 20.0, 30.0), seeds=2, grid=(16, 32)):
    root = Path(root)
    nye, meta = [], []
    for k, theta in enumerate(thetas):
        for s in range(seeds):
            name = f"gb{theta:g}_{s}"
            synthetic.write_case(root, name, "gb", theta, (16.0 + 2 * s, 60.0, 4.0), grid=grid, seed=10 * k + s)
            nye.append(root / "nye" / f"{name}.nc")
            meta.append(root / "structures" / f"{name}.json")
    return nye, meta


def tiny_dataset(root, heldout=(20.0,)):
    nye, meta = write_tiny_cases(root)
    out = Path(root) / "dataset.nc"
    build_dataset(nye, meta, out, grid=(16, 32), heldout_misorientations=list(heldout), validation_fraction=0.2)
    return out


def run_python(code: str, cwd, timeout: float = 240, wait: bool = True):
    """Run ``code`` in a fresh interpreter (PYTHONPATH=src, one thread)."""
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    script = Path(cwd) / f"script_{abs(hash(code)) % 10**8}.py"
    script.write_text(code)
    if not wait:
        return subprocess.Popen(
            [PY, str(script)], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    r = subprocess.run([PY, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return r
