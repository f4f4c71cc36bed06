"""LAMMPS relaxation stage: GB translation/deletion search, dislocation relaxation, GB energies (mJ/m²).

Modules: ``settings`` (typed settings from the config schema), ``engine`` (one reused LAMMPS instance),
``states`` (search states), ``parallel`` (MPI partitions), ``search`` (GB search), ``energy`` (γ), ``case`` (one
case end to end, outputs), ``table`` (``results/gb_energies.csv`` + plot). Importing the package loads neither
LAMMPS nor MPI; the names below are resolved on first use.
"""

from importlib import import_module

_EXPORTS = {
    "relax_case": "case", "run_relax_files": "case", "write_outputs": "case",
    "gb_energy_mj_m2": "energy", "RelaxError": "errors", "RelaxSettings": "settings", "write_gb_table": "table",
}  # fmt: skip

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f"nyegan.relax.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'nyegan.relax' has no attribute {name!r}")
