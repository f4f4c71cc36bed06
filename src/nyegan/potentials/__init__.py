"""Interatomic potentials: files (``files``), their fcc properties computed with LAMMPS (``properties``), and the
cache of computed values (``cache``). Importing this package does not load LAMMPS."""

from nyegan.potentials.cache import cached_entry
from nyegan.potentials.files import Potential, available_potentials, lammps_quote, pair_style_for, resolve_potential
from nyegan.potentials.properties import CubicProperties, cubic_properties, self_comm

__all__ = [
    "Potential",
    "CubicProperties",
    "available_potentials",
    "cached_entry",
    "cubic_properties",
    "lammps_quote",
    "pair_style_for",
    "resolve_potential",
    "self_comm",
]
