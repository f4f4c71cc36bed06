"""The Snakemake workflow: dry run of the default sweep, lint, and a real single-case run."""

import json
import subprocess
import sys
from pathlib import Path

from nyegan.config import check_config, load_config

ROOT = Path(__file__).resolve().parents[1]


def _snakemake(*args, cwd=ROOT, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_dry_run_plans_every_case(tmp_path):
    out = _snakemake(
        "-n",
        "--cores",
        "2",
        "--directory",
        str(tmp_path),
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--configfile",
        str(ROOT / "config" / "config.yaml"),
    )
    assert out.returncode == 0, out.stderr
    for name in check_config(load_config(ROOT / "config" / "config.yaml")):
        assert f"results/structures/{name}.data" in out.stdout


def test_lint_is_clean():
    out = _snakemake("--lint")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Lints for" not in out.stdout + out.stderr


def test_single_case_target(tmp_path):
    target = "results/structures/gb-001-S5-310.data"
    out = _snakemake(
        target,
        "--cores",
        "1",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--configfile",
        str(ROOT / "config" / "config.yaml"),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "results/structures/gb-001-S5-310.json").read_text())
    assert meta["case"] == "gb-001-S5-310" and meta["sigma"] == 5
    assert not (tmp_path / "results/structures/gb-110-S3-1m11.data").exists()
