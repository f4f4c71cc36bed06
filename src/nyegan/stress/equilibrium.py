"""Discrete equilibrium check: relative residual of div sigma with the solve's own difference symbols."""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from nyegan.stress.solve import VOIGT_INDEX, as_cell
from nyegan.stress.symbols import cartesian_symbols, rfft_weights


def divergence_residual(stress_voigt: np.ndarray, cell, scheme: str, dims=None, workers: int = 1) -> float:
    """sqrt(sum_i <|(div sigma)_i|^2>) / sqrt(sum_ijk <|d_k sigma_ij|^2>) for a stress field (6, *grid).

    The divergence is the adjoint of the difference gradient (symbol -conj(l); :mod:`nyegan.stress.solve`), the
    operator of discrete equilibrium: D itself for the spectral and central schemes, the backward difference for
    the forward scheme. 0 for an equilibrated field (round-off: ~1e-15).
    """
    s = np.asarray(stress_voigt, dtype=float)
    grid = s.shape[1:]
    if s.shape[0] != 6:
        raise ValueError(f"stress must be given as 6 Voigt components (6, *grid), got {s.shape}")
    dims = tuple(range(len(grid))) if dims is None else tuple(dims)
    lam = cartesian_symbols(grid, as_cell(cell, len(grid)), dims, scheme)
    w = rfft_weights(grid)
    spec = [sfft.rfftn(s[a], workers=workers) for a in range(6)]
    n2 = sum(np.abs(l) ** 2 for l in lam if l is not None)
    num = 0.0
    den = 0.0
    for i in range(3):
        div = sum(np.conj(lam[j]) * spec[VOIGT_INDEX[i, j]] for j in range(3) if lam[j] is not None)
        num += float((w * np.abs(div) ** 2).sum())
        den += sum(float((w * n2 * np.abs(spec[VOIGT_INDEX[i, j]]) ** 2).sum()) for j in range(3))
    return float(np.sqrt(num / den)) if den > 0 else 0.0
