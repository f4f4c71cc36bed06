"""The cell average of the elastic strain: the one thing a periodic FDM solve cannot get from alpha.

alpha fixes the elastic distortion up to a compatible part; the periodic displacement fixes every Fourier mode
but the mean. The cell average <Ue> = E is the macroscopic strain minus the (history-dependent) mean plastic
distortion, so it is imposed:

- default: E = 0, i.e. zero mean stress <sigma> = C : E = 0, a free periodic cell whose box has taken up the
  plastic strain of its dislocations (what a relaxed atomistic cell with a relaxed box does);
- ``mean_strain``: E given (symmetric, tensor components, dimensionless), <sigma> = C : E;
- ``mean_stress``: <sigma> = Sigma given (GPa), E = C^-1 : Sigma.

The mean rotation (antisymmetric part of <Ue>) is set to zero: it carries no stress.
"""

from __future__ import annotations

import numpy as np

from nyegan.elasticity import tensor_to_voigt

VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))

CONVENTION = {
    "zero_stress": "imposed cell-average elastic strain E = 0: zero mean stress (free periodic cell)",
    "strain": "imposed cell-average elastic strain E (mean_strain); mean stress = C : E",
    "stress": "imposed cell-average stress Sigma (mean_stress_gpa); E = C^-1 : Sigma",
}


def symmetric_tensor(value, what: str) -> np.ndarray:
    """A symmetric 3x3 tensor from 9 values (row-major), a 3x3 array or 6 Voigt values (xx yy zz yz xz xy,
    tensor components: no factor 2 on shears)."""
    v = np.asarray(value, dtype=float)
    if v.size == 6:
        t = np.zeros((3, 3))
        for a, (i, j) in enumerate(VOIGT):
            t[i, j] = t[j, i] = v.ravel()[a]
        return t
    if v.size != 9:
        raise ValueError(f"{what}: give 6 Voigt values (xx yy zz yz xz xy) or 9 values / a 3x3 array, got {v.size}")
    t = v.reshape(3, 3)
    if not np.allclose(t, t.T, atol=1e-12 * max(1.0, np.abs(t).max())):
        raise ValueError(f"{what} must be symmetric, got {t.tolist()}")
    return 0.5 * (t + t.T)


def resolve_mean(stiffness: np.ndarray, mean_strain=None, mean_stress=None) -> tuple[np.ndarray, np.ndarray, str]:
    """(E, <sigma> in GPa, convention key) for a box-frame stiffness tensor (3x3x3x3, GPa)."""
    if mean_strain is not None and mean_stress is not None:
        raise ValueError("give either mean_strain or mean_stress (the other follows from the stiffness), not both")
    if mean_stress is not None:
        sigma = symmetric_tensor(mean_stress, "mean_stress")
        s_voigt = np.array([sigma[i, j] for i, j in VOIGT])
        gamma = np.linalg.solve(tensor_to_voigt(stiffness), s_voigt)  # engineering shears
        strain = symmetric_tensor(gamma * np.array([1, 1, 1, 0.5, 0.5, 0.5]), "mean strain")
        return strain, sigma, "stress"
    if mean_strain is None:
        return np.zeros((3, 3)), np.zeros((3, 3)), "zero_stress"
    strain = symmetric_tensor(mean_strain, "mean_strain")
    return strain, np.einsum("ijkl,kl->ij", stiffness, strain), "strain"
