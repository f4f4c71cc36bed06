"""Stresses of Nye fields: spectral Field Dislocation Mechanics (FDM) elastic solve on periodic grids.

``solve_fdm`` (arrays) and ``stress_of_field`` (xarray fields of the Nye stage, the dataset or the generator) give
the elastic distortion, the stress (GPa) and the elastic energy density (eV/Å^3) of a dislocation-density field,
with the difference symbols of :mod:`nyegan.fieldops`. Conventions: :mod:`nyegan.stress.solve` (method),
:mod:`nyegan.stress.mean` (cell average), :mod:`nyegan.stress.output` (file contract).
"""

from nyegan.stress.equilibrium import divergence_residual
from nyegan.stress.mean import resolve_mean
from nyegan.stress.solve import FDMSolution, solve_fdm
from nyegan.stress.stiffness import box_stiffness, rotation_from_field_attrs

__all__ = [
    "FDMSolution",
    "solve_fdm",
    "divergence_residual",
    "resolve_mean",
    "box_stiffness",
    "rotation_from_field_attrs",
]
