"""LAMMPS relaxation stage: GB translation/deletion search, dislocation relaxation, GB energies (mJ/m²).

Modules: ``settings`` (config), ``engine`` (one reused LAMMPS instance), ``states`` (search states),
``parallel`` (MPI partitions), ``search`` (GB search), ``energy`` (γ), ``case`` (one case end to end, outputs),
``table`` (``results/gb_energies.csv`` + plot).
"""

from nyegan.relax.case import relax_case, run_relax_files, write_outputs
from nyegan.relax.energy import EV_PER_A2_TO_MJ_PER_M2, gb_energy_mj_m2
from nyegan.relax.errors import RelaxError
from nyegan.relax.settings import RelaxSettings
from nyegan.relax.table import write_gb_table

__all__ = ["relax_case", "run_relax_files", "write_outputs", "gb_energy_mj_m2", "EV_PER_A2_TO_MJ_PER_M2",
           "RelaxError", "RelaxSettings", "write_gb_table"]
