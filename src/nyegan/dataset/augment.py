"""Physics-respecting augmentations of Nye fields (torch, batched, on the training device).

Transformation law. Under an orthogonal map x' = Q x of the box (proper or improper), the elastic distortion
is a true tensor, beta' = Q beta Q^T, while the curl carries one Levi-Civita symbol, so the Nye tensor is a
*pseudo*-tensor:

    alpha'_ij(x') = det(Q) Q_ik Q_jl alpha_kl(Q^T x').

For the axis mirrors used here Q = diag(s), s_k = +-1, det Q = prod s, so alpha'_ij = det(Q) s_i s_j alpha_ij
with the grid flipped along the mirrored axes (cell-centred periodic grid: index n -> N - 1 - n).
The Burgers content through an x-y section (line z), B_i = int alpha_iz dx dy, becomes
B'_i = det(Q) s_z s_i B_i. Hence

- mirror x (s = (-1, 1, 1)): B_x -> B_x, B_y -> -B_y, B_z -> -B_z. A tilt boundary's edge content flips sign
  (equivalent to exchanging the two grains), so the ``content_sign`` condition flips with it.
- mirror z (s = (1, 1, -1), line reversal; in 2D the z-averaged grid is unchanged): B_x, B_y unchanged,
  B_z -> -B_z (a screw component changes handedness).

Both maps send an fcc bicrystal to a physically equivalent one (fcc is centrosymmetric: a mirror is an
inversion followed by a proper 2-fold rotation), so they are symmetries of the conditional distribution once
the sign-carrying conditions are transformed. The boundary planes (normal y) stay in place.
Periodic shifts by whole grid steps along x (and z in 3D) are exact symmetries of a periodic cell.
``div alpha = 0`` is preserved exactly for the spectral and central schemes (their symbols are odd in q).
"""

from __future__ import annotations

import torch

from nyegan.dataset.align import align_slabs as align_slabs_fn
from nyegan.dataset.align import alignment_shifts, second_slab_periods, shift_x
from nyegan.dataset.conditions import INDEX


def mirror_factors(signs, device=None, dtype=torch.float32) -> torch.Tensor:
    """(3, 3) factors det(Q) s_i s_j for Q = diag(signs)."""
    s = torch.as_tensor(signs, dtype=dtype, device=device)
    return torch.prod(s) * s[:, None] * s[None, :]


def content_factors(signs, device=None, dtype=torch.float32) -> torch.Tensor:
    """(3,) factors det(Q) s_z s_i of the line-z Burgers content B_i (and of burgers_box)."""
    s = torch.as_tensor(signs, dtype=dtype, device=device)
    return torch.prod(s) * s[2] * s


def apply_mirror(alpha: torch.Tensor, cond: torch.Tensor, signs, dim: int, which: torch.Tensor | None = None):
    """Mirror the samples selected by boolean ``which`` (B,) (all if None). Returns (alpha, cond) copies."""
    B = alpha.shape[0]
    if which is None:
        which = torch.ones(B, dtype=torch.bool, device=alpha.device)
    flipped = alpha
    for ax, s in enumerate(signs[:dim]):
        if s < 0:
            flipped = torch.flip(flipped, dims=(alpha.ndim - dim + ax,))
    f = mirror_factors(signs, alpha.device, alpha.dtype).reshape((1, 3, 3) + (1,) * dim)
    flipped = flipped * f
    w = which.reshape((B,) + (1,) * (alpha.ndim - 1))
    out = torch.where(w, flipped, alpha)
    cf = content_factors(signs, cond.device, cond.dtype)
    new_cond = cond.clone()
    sel = which
    new_cond[sel, INDEX["content_sign"]] = cond[sel, INDEX["content_sign"]] * cf[1]
    b0 = INDEX["burgers_x"]
    new_cond[sel, b0 : b0 + 3] = cond[sel, b0 : b0 + 3] * cf
    return out, new_cond


def roll_batch(alpha: torch.Tensor, shifts: torch.Tensor, axis: int) -> torch.Tensor:
    """Per-sample periodic roll by integer ``shifts`` (B,) along tensor axis ``axis``."""
    n = alpha.shape[axis]
    idx = (torch.arange(n, device=alpha.device)[None, :] - shifts[:, None]) % n  # (B, n)
    shape = [1] * alpha.ndim
    shape[0] = alpha.shape[0]
    shape[axis] = n
    idx = idx.reshape(shape).expand(alpha.shape)
    return torch.gather(alpha, axis, idx)


def augment(
    alpha: torch.Tensor,
    cond: torch.Tensor,
    dim: int,
    generator: torch.Generator | None = None,
    shift: bool = True,
    mirror_x: bool = True,
    mirror_z: bool = True,
):
    """Random periodic shifts along x (and z in 3D) and random x / z mirrors, with conditions transformed."""
    B = alpha.shape[0]
    dev = alpha.device
    g = generator

    def coin():
        return torch.rand(B, generator=g, device=g.device if g is not None else dev).to(dev) < 0.5

    if shift:
        nx = alpha.shape[-dim]
        alpha = roll_batch(
            alpha, torch.randint(0, nx, (B,), generator=g, device=g.device if g else dev).to(dev), alpha.ndim - dim
        )
        if dim == 3:
            nz = alpha.shape[-1]
            alpha = roll_batch(
                alpha, torch.randint(0, nz, (B,), generator=g, device=g.device if g else dev).to(dev), alpha.ndim - 1
            )
    if mirror_x:
        alpha, cond = apply_mirror(alpha, cond, (-1, 1, 1), dim, coin())
    if mirror_z:
        alpha, cond = apply_mirror(alpha, cond, (1, 1, -1), dim, coin())
    return alpha, cond


def augment_batch(
    alpha: torch.Tensor,
    cond: torch.Tensor,
    cores: torch.Tensor,
    dim: int,
    generator: torch.Generator | None = None,
    shift: bool = True,
    mirror_x: bool = True,
    mirror_z: bool = True,
    gb_frac: torch.Tensor | None = None,
    align_slabs: bool = False,
):
    """Augment a batch of x-aligned samples with their dislocation cores (B, K, 3: x_frac, y_frac, sign).

    Shifts along x: by a random whole number of CSL periods for boundary cells (``periods_x`` m >= 1: the
    aligned units stay aligned), by any whole grid step for cells without a boundary; the cores move with the
    field. Mirror x flips the cores' x (x -> 1 - x on the cell-centred grid; their signs stay, the flip of the
    Burgers vector is carried by the ``burgers_*`` conditions). With the boundary fractions ``gb_frac`` (B, 2),
    mirrored boundary samples are then shifted back onto the alignment convention (``nyegan.dataset.align``: the
    mirror moves the units half a period), cores with them; without, they keep the mirror's phase.
    ``align_slabs`` (2D, needs ``gb_frac``): finally align each boundary's slab on its own
    (:func:`nyegan.dataset.align.align_slabs`; boundary cells without dislocations only). Returns (alpha, cond, cores) copies.
    """
    B = alpha.shape[0]
    dev = alpha.device
    g = generator
    gdev = g.device if g is not None else dev

    def coin():
        return torch.rand(B, generator=g, device=gdev).to(dev) < 0.5

    cores = cores.clone()
    nx = alpha.shape[-dim]
    if shift:
        m = cond[:, INDEX["periods_x"]].round().clamp(min=0).long()
        k = torch.randint(0, 1 << 16, (B,), generator=g, device=gdev).to(dev)
        # whole periods k / m (spectral: exact for these band-limited fields also where nx is not a multiple of
        # m), whole grid steps for cells without a period
        t = torch.where(m > 0, (k % m.clamp(min=1)).double() / m.clamp(min=1).double(), (k % nx).double() / nx)
        alpha = shift_x(alpha, -t, dim)
        cores[:, :, 0] = (cores[:, :, 0] + t[:, None].to(cores.dtype)) % 1.0
        if dim == 3:
            nz = alpha.shape[-1]
            alpha = roll_batch(alpha, torch.randint(0, nz, (B,), generator=g, device=gdev).to(dev), alpha.ndim - 1)
    if mirror_x:
        which = coin()
        alpha, cond = apply_mirror(alpha, cond, (-1, 1, 1), dim, which)
        cores[which, :, 0] = 1.0 - cores[which, :, 0]
        if gb_frac is not None:
            s = alignment_shifts(alpha, gb_frac, cond[:, INDEX["periods_x"]], dim)
            s = torch.where(which, s, torch.zeros_like(s))
            alpha = shift_x(alpha, s, dim)
            cores[:, :, 0] = (cores[:, :, 0] - s[:, None].to(cores.dtype)) % 1.0
    if mirror_z:
        alpha, cond = apply_mirror(alpha, cond, (1, 1, -1), dim, coin())
    if align_slabs:
        if gb_frac is None or dim != 2:
            raise ValueError("align_slabs needs 2D fields and their gb_frac")
        alpha = align_slabs_fn(alpha, gb_frac, second_slab_periods(cond), dim)
    return alpha, cond, cores
