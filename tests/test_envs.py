"""The conda environment for clusters lists the same packages as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!\[ ;]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_conda_env_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "envs" / "nyegan.yaml").read_text())
    pip_specs = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {s for s in pip_specs if not s.startswith("-e")}
    assert {_name(s) for s in listed} == {_name(s) for s in project["dependencies"]}
    assert listed == set(project["dependencies"])  # same version bounds too
