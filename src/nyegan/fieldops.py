"""Periodic differential operators on gridded tensor fields (curl, divergence, div-free projection).

Every derivative is applied in Fourier space through its *symbol* lambda_k(q), so spectral and finite-difference
schemes share one code path and are exact to round-off:

- ``"spectral"``: lambda = i q (the Nyquist mode of an even grid is zeroed),
- ``"central"``:  lambda = i sin(q h) / h   ((f[n+1] - f[n-1]) / 2h),
- ``"forward"``:  lambda = (exp(i q h) - 1) / h   ((f[n+1] - f[n]) / h).

Because the symbols of different axes commute, ``divergence(curl(W)) == 0`` holds to round-off for each scheme,
and ``project_divfree`` returns the nearest (L2) field with zero discrete divergence and zero cell mean.

Array layout: tensor fields are ``(..., 3, 3, *grid)`` with ``grid = (nx, ny)`` (2D: fields independent of z,
z-derivatives vanish) or ``(nx, ny, nz)`` (3D). Grids are cell-centred and periodic; ``lengths`` are the box
lengths (Å) along the grid axes, either a sequence (shared) or a ``(batch, dim)`` tensor (one box per sample).
Curl convention (project-wide): (curl A)_ij = eps_jkl d_k A_il, i = Burgers component, j = line direction.
Inputs may be numpy arrays or torch tensors; the result has the input's type.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

SCHEMES = ("spectral", "central", "forward")


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"difference scheme {scheme!r} unknown: choose one of {SCHEMES}")


def _as_tensor(a):
    if isinstance(a, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(a)), True
    if isinstance(a, torch.Tensor):
        return a, False
    raise TypeError(f"expected a numpy array or torch tensor, got {type(a).__name__}")


def _back(t: torch.Tensor, was_numpy: bool):
    return t.detach().cpu().numpy() if was_numpy else t


def symbols(
    grid: Sequence[int], lengths, scheme: str = "spectral", batch_ndim: int = 0, device=None, dtype=torch.float64
) -> list[torch.Tensor]:
    """Complex derivative symbols, one per grid axis, broadcastable against ``(*batch, *grid)``.

    ``lengths``: sequence of box lengths (Å) or a ``(batch, dim)`` tensor (requires ``batch_ndim == 1``).
    """
    _check_scheme(scheme)
    dim = len(grid)
    cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    if isinstance(lengths, torch.Tensor) and lengths.ndim == 2:
        if batch_ndim < 1:
            raise ValueError("per-sample lengths of shape (batch, dim) need batch_ndim >= 1")
        L = lengths.to(device=device, dtype=dtype)
        per_sample = True
    else:
        L = torch.as_tensor(np.asarray(lengths, dtype=float), device=device, dtype=dtype)
        per_sample = False
    if L.shape[-1] != dim:
        raise ValueError(f"lengths has {L.shape[-1]} entries but the grid has {dim} axes")
    out = []
    for ax, n in enumerate(grid):
        m = torch.fft.fftfreq(n, d=1.0 / n, device=device, dtype=dtype)  # integer mode numbers
        if per_sample:
            Lax = L[:, ax].reshape((-1,) + (1,) * (batch_ndim - 1 + dim))
        else:
            Lax = L[ax]
        shape = [1] * dim
        shape[ax] = n
        mm = m.reshape(shape)
        q = 2 * np.pi * mm / Lax  # rad/Å
        h = Lax / n
        if scheme == "spectral":
            lam = torch.complex(torch.zeros_like(q), q)
            if n % 2 == 0:
                lam = lam * (mm.abs() != n // 2).to(dtype)
        elif scheme == "central":
            lam = torch.complex(torch.zeros_like(q), torch.sin(q * h) / h)
        else:
            lam = torch.complex(torch.cos(q * h) - 1, torch.sin(q * h)) / h
        lam = lam.to(cdtype)
        if not per_sample and batch_ndim:
            lam = lam.reshape((1,) * batch_ndim + lam.shape)
        out.append(lam)
    return out


def _fft(a: torch.Tensor, dim: int) -> torch.Tensor:
    return torch.fft.fftn(a, dim=tuple(range(-dim, 0)))


def _ifft(a: torch.Tensor, dim: int) -> torch.Tensor:
    return torch.fft.ifftn(a, dim=tuple(range(-dim, 0))).real


def _float(t: torch.Tensor) -> torch.Tensor:
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def _to_spectral(a, lengths, dim: int, scheme: str, n_index: int):
    """(float tensor, was_numpy, difference symbols, FFT) of a field with ``n_index`` tensor indices before the grid."""
    a, was_np = _as_tensor(a)
    a = _float(a)
    lam = symbols(a.shape[-dim:], lengths, scheme, batch_ndim=a.ndim - dim - n_index, device=a.device, dtype=a.dtype)
    return a, was_np, lam, _fft(a, dim)


def curl(W, lengths, dim: int, scheme: str = "spectral"):
    """alpha_ij = eps_jkl d_k W_il for W of shape ``(..., 3, 3, *grid)`` (1/Å if W is dimensionless)."""
    W, was_np, lam, Wh = _to_spectral(W, lengths, dim, scheme, 2)
    D = [l.unsqueeze(-dim - 1) for l in lam]  # broadcast over the i index
    zero = torch.zeros((), dtype=Wh.dtype, device=W.device)
    Dz = D[2] if dim == 3 else zero
    Dx, Dy = D[0], D[1]
    Wx, Wy, Wz = (
        Wh[..., :, 0, *([slice(None)] * dim)],
        Wh[..., :, 1, *([slice(None)] * dim)],
        Wh[..., :, 2, *([slice(None)] * dim)],
    )
    ax = Dy * Wz - Dz * Wy
    ay = Dz * Wx - Dx * Wz
    az = Dx * Wy - Dy * Wx
    alpha = _ifft(torch.stack([ax, ay, az], dim=-dim - 1), dim)
    return _back(alpha, was_np)


def divergence(alpha, lengths, dim: int, scheme: str = "spectral"):
    """(div alpha)_i = d_j alpha_ij, shape ``(..., 3, *grid)``."""
    alpha, was_np, lam, ah = _to_spectral(alpha, lengths, dim, scheme, 2)
    sl = [slice(None)] * dim
    d = sum(lam[j].unsqueeze(-dim - 1) * ah[..., :, j, *sl] for j in range(dim))
    return _back(_ifft(d, dim), was_np)


def gradient_norm(alpha, lengths, dim: int, scheme: str = "spectral"):
    """sqrt(sum_ijk <(d_k alpha_ij)^2>) over the cell (scale for relative divergence residuals)."""
    alpha, was_np, lam, ah = _to_spectral(alpha, lengths, dim, scheme, 2)
    grid = alpha.shape[-dim:]
    n = float(np.prod(grid))
    tot = sum((l.unsqueeze(-dim - 1).unsqueeze(-dim - 1).abs() ** 2 * ah.abs() ** 2) for l in lam)
    red = tuple(range(-dim - 2, 0))
    res = torch.sqrt(tot.sum(dim=red) / n / n)
    return _back(res, was_np)


def relative_divergence(alpha, lengths, dim: int, scheme: str = "spectral", eps: float = 1e-30):
    """Per-sample sqrt(sum_i <(div alpha)_i^2>) / sqrt(sum_ijk <(d_k alpha_ij)^2>) (0 for a compatible field)."""
    a, was_np = _as_tensor(alpha)
    d = divergence(a, lengths, dim, scheme)
    num = torch.sqrt((d**2).mean(dim=tuple(range(-dim, 0))).sum(dim=-1))
    den = gradient_norm(a, lengths, dim, scheme)
    return _back(num / (den + eps), was_np)


def project_divfree(alpha, lengths, dim: int, scheme: str = "spectral"):
    """L2-nearest field with zero discrete divergence (same scheme) and zero cell mean.

    For 2D fields the line-z column alpha_iz is left unchanged (d_z = 0), so the Burgers content through
    x-y sections is preserved exactly; only its cell mean is removed.
    """
    alpha, was_np, lam, ah = _to_spectral(alpha, lengths, dim, scheme, 2)
    grid = alpha.shape[-dim:]
    sl = [slice(None)] * dim
    L = [l.unsqueeze(-dim - 1) for l in lam]
    norm2 = sum(l.abs() ** 2 for l in L)
    safe = torch.where(norm2 > 0, norm2, torch.ones_like(norm2))
    div = sum(L[j] * ah[..., :, j, *sl] for j in range(dim))
    cols = []
    for j in range(3):
        col = ah[..., :, j, *sl]
        if j < dim:
            col = col - torch.conj(L[j]) * div / safe
        cols.append(col)
    out = torch.stack(cols, dim=-dim - 1)
    # zero cell mean: remove the q = 0 mode
    mean_mask = torch.ones(grid, dtype=out.real.dtype, device=out.device)
    mean_mask[(0,) * dim] = 0
    out = out * mean_mask
    return _back(_ifft(out, dim), was_np)


def invert_derivative_z_column(p, lengths, dim: int, scheme: str = "spectral"):
    """Periodic distortion W with curl(W)_iz = p_i (p zero-mean, shape ``(..., 3, *grid)``); W shape ``(..., 3, 3, *grid)``.

    Uses W_ix = -conj(l_y) p / |l|^2, W_iy = conj(l_x) p / |l|^2 (modes with |l| = 0 dropped).
    """
    p, was_np, lam, ph = _to_spectral(p, lengths, dim, scheme, 1)
    lx, ly = lam[0], lam[1]
    n2 = lx.abs() ** 2 + ly.abs() ** 2
    keep = n2 > 0
    inv = torch.where(keep, 1.0 / torch.where(keep, n2, torch.ones_like(n2)), torch.zeros_like(n2))
    Wx = -torch.conj(ly) * ph * inv
    Wy = torch.conj(lx) * ph * inv
    Wz = torch.zeros_like(ph)
    W = _ifft(torch.stack([Wx, Wy, Wz], dim=-dim - 1), dim)
    return _back(W, was_np)


def in_plane_potential(alpha, lengths, scheme: str = "spectral"):
    """2D fields: the z column w_i = W_iz whose curl is closest (L2) to the in-plane columns of ``alpha``
    (``(..., 3, 3, nx, ny)``): curl(W)_ix = d_y w_i, curl(W)_iy = -d_x w_i; returns w, shape ``(..., 3, nx, ny)``,
    zero mean (Å times the unit of alpha). Exact when (alpha_ix, alpha_iy) is divergence-free with zero mean."""
    alpha, was_np, lam, ah = _to_spectral(alpha, lengths, 2, scheme, 2)
    lx, ly = lam[0].unsqueeze(-3), lam[1].unsqueeze(-3)
    n2 = lx.abs() ** 2 + ly.abs() ** 2
    keep = n2 > 0
    inv = torch.where(keep, 1.0 / torch.where(keep, n2, torch.ones_like(n2)), torch.zeros_like(n2))
    wh = (torch.conj(ly) * ah[..., :, 0, :, :] - torch.conj(lx) * ah[..., :, 1, :, :]) * inv
    return _back(_ifft(wh, 2), was_np)
