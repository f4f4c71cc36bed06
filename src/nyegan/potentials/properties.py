"""fcc properties of a potential at 0 K computed with LAMMPS: lattice constant, cohesive energy, C11, C12, C44.

Computed once per potential file and cached (``nyegan.potentials.cache``), so nothing is ever typed in by hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from nyegan.potentials.cache import cached_entry
from nyegan.potentials.files import Potential, resolve_potential
from nyegan.units import BAR_TO_GPA


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


def self_comm():
    """MPI_COMM_SELF when running under MPI: the property run is serial and must not involve other ranks."""
    import sys

    if "mpi4py" not in sys.modules:  # never the one to start MPI
        return None
    from mpi4py import MPI

    return MPI.COMM_SELF if MPI.Is_initialized() and MPI.COMM_WORLD.Get_size() > 1 else None


def _compute_properties(pot: Potential, strain: float = 1e-4) -> CubicProperties:
    from nyegan.lmp import new_lammps

    lmp = new_lammps(comm=self_comm())
    try:
        lmp.commands_list([
            "units metal", "boundary p p p", "atom_style atomic",
            "lattice fcc 4.05", "region box prism 0 3 0 3 0 3 0 0 0", "create_box 1 box", "create_atoms 1 box",
            *pot.pair_commands(1),
            "thermo_style custom step pe pxx pyy pzz pxy lx", "thermo_modify norm no",
            "fix relax all box/relax iso 0.0 vmax 0.001",
            "min_style cg", "minimize 0 1e-12 10000 100000", "unfix relax",
            "minimize 0 1e-12 10000 100000",
        ])  # fmt: skip
        n = lmp.get_natoms()
        a0 = lmp.get_thermo("lx") / 3.0
        ecoh = -lmp.get_thermo("pe") / n

        def stress_after(cmd: str, undo: str) -> np.ndarray:
            lmp.commands_list([cmd, "run 0"])
            p = -np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pxy")]) * BAR_TO_GPA
            lmp.command(undo)
            return p

        L = 3.0 * a0
        plus = stress_after(
            f"change_box all x final 0 {L * (1 + strain)} remap units box",
            f"change_box all x final 0 {L} remap units box",
        )
        minus = stress_after(
            f"change_box all x final 0 {L * (1 - strain)} remap units box",
            f"change_box all x final 0 {L} remap units box",
        )
        c11 = (plus[0] - minus[0]) / (2 * strain)
        c12 = (plus[1] - minus[1]) / (2 * strain)
        shear_p = stress_after(
            f"change_box all xy final {L * strain} remap units box", "change_box all xy final 0 remap units box"
        )
        shear_m = stress_after(
            f"change_box all xy final {-L * strain} remap units box", "change_box all xy final 0 remap units box"
        )
        c44 = (shear_p[3] - shear_m[3]) / (2 * strain)
    finally:
        lmp.close()
    return CubicProperties(a0=float(a0), ecoh=float(ecoh), c11=float(c11), c12=float(c12), c44=float(c44))


def cubic_properties(pot: Potential | str) -> CubicProperties:
    """fcc a0, E_coh and C11/C12/C44 of the potential, computed with LAMMPS on first use and cached."""
    pot = resolve_potential(pot) if not isinstance(pot, Potential) else pot
    entry = cached_entry(
        "potential_properties.json",
        f"{pot.sha256()}:{pot.element}:fcc",
        lambda: {"potential": pot.name, **asdict(_compute_properties(pot))},
    )
    return CubicProperties(**{k: v for k, v in entry.items() if k != "potential"})
