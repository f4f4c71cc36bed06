"""Interface energies from total energies: γ = (E − N·(−E_coh)) / (2A) for a periodic cell holding two boundaries."""

from __future__ import annotations

from nyegan.units import EV_PER_A2_TO_MJ_PER_M2


def excess_energy(total_energy: float, n_atoms: int, ecoh: float) -> float:
    """Energy above N atoms of perfect crystal, eV (``ecoh`` > 0 is the cohesive energy per atom)."""
    return float(total_energy) + int(n_atoms) * float(ecoh)


def gb_energy_mj_m2(total_energy: float, n_atoms: int, ecoh: float, gb_area: float, n_boundaries: int = 2) -> float:
    """Boundary energy in mJ/m² of a cell with ``n_boundaries`` boundaries of area ``gb_area`` (Å²) each."""
    if gb_area <= 0:
        raise ValueError("gb_area must be positive (Å²)")
    return excess_energy(total_energy, n_atoms, ecoh) / (n_boundaries * gb_area) * EV_PER_A2_TO_MJ_PER_M2
