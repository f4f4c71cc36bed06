"""Intrinsic stacking-fault energy of an fcc potential, computed with LAMMPS and cached.

γ_SF (mJ/m²): a periodic cell with x = [1-10], y = [11-2], z = [111] (``n_periods`` stacking periods of three
(111) layers along z) is given a yz tilt of ±a0/√6 without remapping the atoms, so the crystal above the periodic
boundary slips by a Shockley vector a0/6[11-2] relative to the crystal below: one fault per cell. Atoms relax along
the fault normal only (in-plane forces fixed at zero, box fixed), as in the usual generalised-stacking-fault
calculation. Of the two signs, one gives the intrinsic fault (ABC|BCA) and the other the on-top stacking
(C over C, far higher energy): the lower one is γ_SF. Results are cached next to ``cubic_properties``
(``$NYEGAN_CACHE`` or ``~/.cache/nyegan``, file ``fault_energies.json``), keyed by the potential's SHA-256.

``hcp_fcc_energy_difference`` gives E_hcp − E_fcc (eV/atom, ideal c/a, same nearest-neighbour distance), the
input of the axial-next-nearest-neighbour-Ising estimate γ_SF ≈ 2 ΔE_hcp-fcc / A_atom (A_atom = √3 a0²/4), an
independent cross-check.
"""

from __future__ import annotations

import numpy as np

from nyegan.potentials import Potential, cached_entry, cubic_properties, resolve_potential, self_comm
from nyegan.units import EV_PER_A2_TO_MJ_PER_M2


def _fault_energy_per_area(pot: Potential, a0: float, n_periods: int, tilt: float) -> float:
    """(E_tilted − E_perfect) / area (eV/Å²) for one relaxed fault in a [1-10] x [11-2] x [111] cell."""
    lx, ly, lz = a0 * np.sqrt(2.0), a0 * np.sqrt(6.0), n_periods * a0 * np.sqrt(3.0)
    from nyegan.lmp import new_lammps

    lmp = new_lammps(comm=self_comm())
    try:
        lmp.commands_list(
            [
                "units metal",
                "boundary p p p",
                "atom_style atomic",
                f"lattice fcc {a0} orient x 1 -1 0 orient y 1 1 -2 orient z 1 1 1",
                f"region box prism 0 {lx} 0 {ly} 0 {lz} 0 0 0 units box",
                "create_box 1 box",
                "create_atoms 1 box",
                *pot.pair_commands(1),
                "thermo_style custom step pe",
                "thermo_modify norm no",
                "run 0",
            ]
        )
        e0 = lmp.get_thermo("pe")
        lmp.commands_list(
            [
                f"change_box all yz final {tilt} units box",  # no remap: only the periodic image above slips
                "fix normal_only all setforce 0.0 0.0 NULL",
                "min_style cg",
                "minimize 0 1e-10 10000 100000",
            ]
        )
        e1 = lmp.get_thermo("pe")
    finally:
        lmp.close()
    return (e1 - e0) / (lx * ly)


def compute_stacking_fault_energy(pot: Potential, a0: float, n_periods: int = 6) -> float:
    """Intrinsic stacking-fault energy (mJ/m²) of ``pot`` at lattice constant ``a0`` (Å), not cached."""
    if n_periods < 2:
        raise ValueError(f"n_periods must be >= 2 (stacking periods of three (111) layers), got {n_periods}")
    shift = a0 / np.sqrt(6.0)
    return float(
        min(_fault_energy_per_area(pot, a0, n_periods, s * shift) for s in (1.0, -1.0)) * EV_PER_A2_TO_MJ_PER_M2
    )


def hcp_fcc_energy_difference(pot: Potential, a0: float) -> float:
    """E_hcp − E_fcc (eV/atom) at the fcc nearest-neighbour distance a0/√2, ideal c/a = √(8/3), unrelaxed."""
    energies = []
    for lattice, reps in ((f"fcc {a0}", "0 4 0 4 0 4"), (f"hcp {a0 / np.sqrt(2.0)}", "0 6 0 4 0 4")):
        from nyegan.lmp import new_lammps

        lmp = new_lammps(comm=self_comm())
        try:
            lmp.commands_list(
                [
                    "units metal",
                    "boundary p p p",
                    "atom_style atomic",
                    f"lattice {lattice}",
                    f"region box block {reps}",
                    "create_box 1 box",
                    "create_atoms 1 box",
                    *pot.pair_commands(1),
                    "thermo_style custom step pe",
                    "thermo_modify norm yes",
                    "run 0",
                ]
            )
            energies.append(lmp.get_thermo("pe"))
        finally:
            lmp.close()
    return float(energies[1] - energies[0])


def stacking_fault_energy(pot: Potential | str) -> float:
    """Intrinsic stacking-fault energy γ_SF (mJ/m²) of the potential, computed with LAMMPS once and cached."""
    pot = resolve_potential(pot) if not isinstance(pot, Potential) else pot
    a0 = cubic_properties(pot).a0
    entry = cached_entry(
        "fault_energies.json",
        f"{pot.sha256()}:{pot.element}:fcc:isf",
        lambda: {"potential": pot.name, "a0": a0, "gamma_isf_mJ_m2": compute_stacking_fault_energy(pot, a0)},
    )
    return float(entry["gamma_isf_mJ_m2"])
