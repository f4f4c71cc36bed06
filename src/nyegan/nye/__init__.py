"""Nye dislocation-density tensor fields from atoms (G-method, Hartley–Mishin lattice correspondence).

Convention: Ue = I - G^T, alpha = curl Ue with (curl A)_ij = eps_jkl d_k A_il (i Burgers, j line),
b_i = integral of alpha_ij n_j dS. Units: Å, alpha in 1/Å.
"""

from nyegan.nye.burgers import boundary_content, burgers_content, core_content, find_cores
from nyegan.nye.field import CONVENTION, compute_nye, reference_from_rotations
from nyegan.nye.lattice_g import atom_correspondence
from nyegan.nye.reference import GrainReference, build_reference, minimum_angle_correspondence

__all__ = [
    "CONVENTION",
    "compute_nye",
    "burgers_content",
    "boundary_content",
    "core_content",
    "find_cores",
    "atom_correspondence",
    "build_reference",
    "reference_from_rotations",
    "minimum_angle_correspondence",
    "GrainReference",
]
