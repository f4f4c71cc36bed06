"""Spectral resampling and sub-grid shifts of periodic fields (keeps periodicity and band-limited content)."""

from __future__ import annotations

import numpy as np
from scipy.signal import resample


def fourier_resample(field: np.ndarray, grid: tuple[int, ...]) -> np.ndarray:
    """Resample the trailing ``len(grid)`` periodic axes of ``field`` onto ``grid`` points (FFT method).

    Cell-centred grids: a sample at (n + 1/2) h maps to (n + 1/2) h'; the FFT resampler assumes samples at
    n h, so a half-cell phase correction is applied before and after.
    """
    out = np.asarray(field, dtype=np.float64)
    dim = len(grid)
    for k, n_new in enumerate(grid):
        ax = out.ndim - dim + k
        n_old = out.shape[ax]
        if n_old == n_new:
            continue
        out = fractional_shift(out, -0.5 / n_old, ax)  # centre values -> node values
        out = resample(out, n_new, axis=ax)
        out = fractional_shift(out, 0.5 / n_new, ax)  # node values -> centre values
    return out


def fractional_shift(field: np.ndarray, frac: float, axis: int) -> np.ndarray:
    """f(x) -> f(x + frac * L) along one periodic axis (spectral; exact for band-limited fields)."""
    n = field.shape[axis]
    m = np.fft.fftfreq(n, d=1.0 / n)
    ph = np.exp(2j * np.pi * m * frac)
    if n % 2 == 0:
        ph[n // 2] = np.cos(np.pi * n * frac)  # keep the Nyquist mode real
    sh = [1] * field.ndim
    sh[axis] = n
    return np.fft.ifft(np.fft.fft(field, axis=axis) * ph.reshape(sh), axis=axis).real
