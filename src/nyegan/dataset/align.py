"""The dataset's x-alignment convention, batched in torch (used by the dataset assembly and by the augmentation).

Convention. A boundary cell holding m periods along x (``periods_x``: in 2D those of the z-projected structure)
is shifted so that the line-z column's modulation, summed over the rows of the first boundary's slab, has zero
phase in its strongest harmonic of the period: among the modes q·m (q = 1..HARMONICS, q·m ≤ nx/2) of α_xz,
α_yz and α_zz, the Fourier coefficient of largest modulus is made real and positive, so the structural units
(or discrete cores) sit at the same fractional x in every sample, modulo 1/(q m). The strongest harmonic, not
the fundamental: many boundaries carry two units per period and almost nothing at the fundamental, whose phase
would then be noise and would scatter the units of neighbouring boundaries over the period.

A mirror x sends α_yz(x) to −α_yz(−x): a zero-phase mode becomes a phase-π one, half a period away from the
convention. Left so, a mirrored sample and an original one of the same condition would carry the same units
half a period apart, a bimodal target whose conditional mean has no modulation; the augmentation therefore
re-aligns mirrored samples with :func:`alignment_shifts` (``nyegan.dataset.augment``).
"""

from __future__ import annotations

import math

import torch

from nyegan import content as content_mod
from nyegan.dataset.conditions import INDEX

HARMONICS = 3  # harmonics of the period the alignment looks at


def alignment_shifts(alpha: torch.Tensor, gb_frac: torch.Tensor, periods: torch.Tensor, dim: int,
                     slab: int = 0) -> torch.Tensor:  # fmt: skip
    """(B,) fractional x shifts s in [0, 1/(q m)) such that α(x + s) follows the convention (module doc) in the
    slab of boundary ``slab`` (0: the first, the dataset's convention; 1: the second, see :func:`align_slabs`).

    ``alpha`` (B, 3, 3, nx, ny[, nz]) in 1/Å; ``gb_frac`` (B, 2) boundary fractions along y; ``periods`` (B,)
    periods along x in the cell (rounded; 0 for cells without a boundary). The shift is 0 where m < 1,
    m > nx/2 or the modulation vanishes (below 1e-9 of the slab's largest row sum times nx)."""
    B = alpha.shape[0]
    nx, ny = alpha.shape[-dim], alpha.shape[-dim + 1]
    col = alpha[:, :, 2].double()  # alpha_iz: (B, 3, nx, ny[, nz])
    if dim == 3:
        col = col.mean(-1)
    slab = content_mod.slab_masks(gb_frac.double(), ny)[:, slab]  # (B, ny)
    rows = (col * slab[:, None, None, :]).sum(-1)  # (B, 3, nx)
    m = periods.round().long()
    ok = (m >= 1) & (m <= nx // 2)
    q = torch.arange(1, HARMONICS + 1, device=alpha.device)
    modes = m.clamp(min=0)[:, None] * q[None, :]  # (B, Q)
    usable = (modes <= nx // 2) & (modes >= 1)
    spectrum = torch.fft.fft(rows, dim=-1)  # (B, 3, nx)
    coef = spectrum.gather(2, modes.clamp(max=nx - 1)[:, None, :].expand(B, 3, len(q)))  # (B, 3, Q)
    size = torch.where(usable[:, None, :], coef.abs(), torch.zeros_like(coef.real)).flatten(1)
    best = size.argmax(dim=1)
    h = coef.flatten(1).gather(1, best[:, None])[:, 0]
    mode = modes.gather(1, (best % len(q))[:, None])[:, 0].clamp(min=1).double()
    floor = 1e-9 * (rows.abs().flatten(1).max(dim=1).values * nx + 1e-300)
    ok = ok & (h.abs() >= floor)
    s = torch.remainder(-torch.angle(h) / (2 * math.pi * mode), 1.0 / mode)  # f(x + s): phase + 2 pi k s -> 0
    return torch.where(ok, s, torch.zeros_like(s)).to(alpha.dtype)


def shift_x(alpha: torch.Tensor, shifts: torch.Tensor, dim: int) -> torch.Tensor:
    """α(x + s) per sample (``shifts`` (B,) fractions of the cell), spectrally along x (exact for band-limited
    fields; a Fourier multiplier, so it commutes with the difference operators and keeps div α = 0)."""
    axis = alpha.ndim - dim
    n = alpha.shape[axis]
    q = torch.fft.fftfreq(n, d=1.0 / n, device=alpha.device, dtype=torch.float64)
    s = shifts.to(torch.float64).reshape(-1, 1)
    ph = torch.exp(2j * math.pi * q[None, :] * s)  # (B, n)
    if n % 2 == 0:
        ph[:, n // 2] = torch.cos(math.pi * n * s[:, 0])  # keep the Nyquist mode real
    shape = [alpha.shape[0]] + [1] * (alpha.ndim - 1)
    shape[axis] = n
    f = torch.fft.fft(alpha.double(), dim=axis) * ph.reshape(shape)
    return torch.fft.ifft(f, dim=axis).real.to(alpha.dtype)


def second_slab_periods(cond: torch.Tensor) -> torch.Tensor:
    """(B,) CSL periods for :func:`align_slabs` and the wall map: those of boundary cells without a dislocation,
    0 (no alignment) for the rest: a boundary + dislocation cell keeps its rigid registry (its cores are inputs)."""
    return cond[:, INDEX["periods_x"]] * (cond[:, INDEX["kind_gb"]] > 0.5).to(cond.dtype)


def align_slabs(alpha: torch.Tensor, gb_frac: torch.Tensor, periods: torch.Tensor, dim: int) -> torch.Tensor:
    """Each boundary's slab shifted along x on its own onto the convention (the first boundary's rule applied to
    the second too). The registry of the two boundaries of a cell is set by the translation state the search
    found and is not a property of the boundary; aligning both removes it from a training target.

    Only for fields whose line-z column α_iz is all that is modelled (2D, built-in physics): a row-wise shift of
    α_iz keeps div α = ∂_z α_iz = 0 and the slab contents, but would break div α for α_ix, α_iy, which such a
    model does not produce."""
    ny = alpha.shape[-dim + 1]
    masks = content_mod.slab_masks(gb_frac.double(), ny).to(torch.bool)  # (B, 2, ny)
    out = alpha
    for b in (0, 1):
        s = alignment_shifts(alpha, gb_frac, periods, dim, slab=b)
        shifted = shift_x(alpha, s, dim)
        rows = masks[:, b].reshape((alpha.shape[0],) + (1,) * (alpha.ndim - dim - 1) + (1, ny) + (1,) * (dim - 2))
        out = torch.where(rows, shifted, out)
    return out
