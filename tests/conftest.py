"""Shared test set-up: subprocesses (CLI, Snakemake, mpiexec) import this checkout's package; the aluminium
potential of the default config and its LAMMPS-computed properties, once per session."""

import os
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
os.environ.setdefault("OMP_NUM_THREADS", "1")
# the environment's own tools (mpiexec, snakemake) first, as `make test` arranges
os.environ["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))

AL_POTENTIAL = "Al_mm.eam.fs"


@pytest.fixture(scope="session")
def al_potential():
    """The default potential (Mendelev Al) as a resolved ``Potential``."""
    from nyegan.potentials import resolve_potential

    return resolve_potential(AL_POTENTIAL, "Al")


@pytest.fixture(scope="session")
def al_props(al_potential):
    """fcc a0, E_coh, C11, C12, C44 of the default potential (LAMMPS, cached)."""
    from nyegan.potentials import cubic_properties

    return cubic_properties(al_potential)
