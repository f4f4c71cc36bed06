"""Physical constants and unit conversions (CODATA 2018), defined once for the whole package.

Units inside nyegan: lengths Å, energies eV, stresses GPa, interface energies mJ/m², angles in degrees at the user
level (configs, file attributes) and radians inside computations; helpers carry the unit in their name.
"""

from __future__ import annotations

ELEMENTARY_CHARGE_C = 1.602176634e-19  # exact (SI 2019), J per eV
ANGSTROM_M = 1e-10

EV_PER_A2_TO_MJ_PER_M2 = ELEMENTARY_CHARGE_C / ANGSTROM_M**2 * 1e3  # 1 eV/Å² = 16021.766... mJ/m²
EV_PER_A3_TO_GPA = ELEMENTARY_CHARGE_C / ANGSTROM_M**3 * 1e-9  # 1 eV/Å³ = 160.2176634 GPa
BAR_TO_GPA = 1e-4  # LAMMPS metal units report pressures in bar
BOLTZMANN_EV_PER_K = 8.617333262e-5
