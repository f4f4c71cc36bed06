"""Statistical comparisons of Nye-field ensembles (torch or numpy, fields (B, 3, 3, *grid)).

- ``power_spectra``: 1D power spectra along x and along y (averaged over the other axes, the samples, and
  summed over the nine components), on the fractional grid (mode numbers, not 1/Å: cells differ in size).
- ``spectrum_distance``: mean |log10 P_a - log10 P_b| over the nonzero modes of both axes (floored at
  1e-6 of the peak power).
- ``correlation_distance``: L2 distance of the normalised two-point autocorrelations along y and x
  (inverse FFT of the spectra), in [0, 2].
- ``mean_profile``: the x-averaged profile alpha_ij(y); x shifts are a symmetry, so the conditional mean
  field of a periodic boundary cell is a function of y only.
"""

from __future__ import annotations

import numpy as np
import torch


def _np(a):
    return a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)


def power_spectra(alpha, dim: int = 2) -> list[np.ndarray]:
    a = _np(alpha)
    out = []
    for ax in (0, 1):
        axis = a.ndim - dim + ax
        p = np.abs(np.fft.rfft(a, axis=axis)) ** 2
        other = tuple(k for k in range(a.ndim) if k != axis)
        out.append(p.mean(axis=other) * 9.0)
    return out


def spectrum_distance(a, b, dim: int = 2, rel_floor: float = 1e-6) -> float:
    """Mean |log10 P_a - log10 P_b| over nonzero modes; powers below ``rel_floor`` x the largest power of
    either spectrum are clipped to it (round-off-level tails of smooth fields would otherwise dominate)."""
    pa, pb = power_spectra(a, dim), power_spectra(b, dim)
    d = []
    for x, y in zip(pa, pb):
        floor = rel_floor * max(x.max(), y.max(), 1e-300)
        d.append(np.abs(np.log10(np.maximum(x[1:], floor)) - np.log10(np.maximum(y[1:], floor))).mean())
    return float(np.mean(d))


def correlation_distance(a, b, dim: int = 2) -> float:
    pa, pb = power_spectra(a, dim), power_spectra(b, dim)
    d = []
    for x, y in zip(pa, pb):
        cx, cy = np.fft.irfft(x), np.fft.irfft(y)
        cx, cy = cx / (cx[0] + 1e-300), cy / (cy[0] + 1e-300)
        d.append(np.sqrt(np.mean((cx - cy) ** 2)))
    return float(np.mean(d))


def mean_profile(alpha, dim: int = 2) -> np.ndarray:
    """(3, 3, ny) sample- and x- (and z-) averaged field."""
    a = _np(alpha)
    red = (0, 3) + ((5,) if dim == 3 else ())
    return a.mean(axis=red)
