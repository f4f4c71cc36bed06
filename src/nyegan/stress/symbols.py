"""Cartesian difference symbols on a periodic grid along the cell vectors, in the real-FFT (``rfftn``) layout.

The per-axis symbols are those of :func:`nyegan.fieldops.symbols` (``spectral``, ``central``, ``forward``), so the
stress solve differentiates exactly as the Nye stage and the dataset do. Grid axis d runs along cell vector
``m = dims[d]`` (``n_d`` nodes over the length ``L_m = |cell_m|``); the derivative along box axis k is

    d/dx_k = sum_d inv(cell)[k, m_d] * L_{m_d} * lambda_d,

since ``lambda_d`` is the derivative per Å along the grid axis and ``inv(cell)[k, m] = d s_m / d x_k`` (s the
fractional coordinate). For an orthogonal cell this is ``lambda_d`` itself along the matching box axis. Averaged
(dropped) cell vectors contribute no derivative (fields independent of them).

Symbol entries below ``1e-12`` of the axis maximum (sin(pi) of the central scheme at the Nyquist mode) are set to
exactly zero, so such modes count as "no derivative" instead of dividing by round-off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nyegan import fieldops


def cartesian_symbols(
    grid: Sequence[int], cell: np.ndarray, dims: Sequence[int], scheme: str
) -> list[np.ndarray | None]:
    """Three complex arrays (box x, y, z; None where identically zero), broadcastable to the rfftn spectrum of
    a field on ``grid`` (last axis ``n // 2 + 1`` modes). ``cell``: (3, 3) rows, Å."""
    grid = tuple(int(n) for n in grid)
    cell = np.asarray(cell, dtype=float)
    if len(dims) != len(grid):
        raise ValueError(f"grid has {len(grid)} axes but dims names {len(dims)} cell vectors")
    lengths = np.linalg.norm(cell, axis=1)
    per_axis = fieldops.symbols(grid, [lengths[m] for m in dims], scheme)
    inv = np.linalg.inv(cell)
    last = len(grid) - 1
    lam = []
    for d, t in enumerate(per_axis):
        a = t.numpy().astype(np.complex128)
        if d == last:
            a = a[..., : grid[last] // 2 + 1]
        scale = np.abs(a).max()
        a = np.where(np.abs(a) > 1e-12 * scale, a, 0.0)
        lam.append(a)
    out: list[np.ndarray | None] = []
    for k in range(3):
        acc = None
        for d, m in enumerate(dims):
            w = inv[k, m] * lengths[m]
            if abs(w) < 1e-12:
                continue
            term = lam[d] if abs(w - 1.0) < 1e-15 else w * lam[d]
            acc = term if acc is None else acc + term
        out.append(acc)
    return out


def spectrum_shape(grid: Sequence[int]) -> tuple[int, ...]:
    """Shape of the rfftn spectrum of a real field on ``grid``."""
    grid = tuple(int(n) for n in grid)
    return grid[:-1] + (grid[-1] // 2 + 1,)


def rfft_weights(grid: Sequence[int]) -> np.ndarray:
    """Multiplicity of each last-axis mode of an rfftn spectrum (1 for the zero and Nyquist modes, 2 otherwise),
    broadcastable to the spectrum: Parseval sums over the half spectrum use it."""
    n = int(grid[-1])
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.reshape((1,) * (len(grid) - 1) + (-1,))
