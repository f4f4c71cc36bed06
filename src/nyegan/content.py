"""Net Burgers content of periodic two-boundary cells and its Frank-Bilby target.

A cell holds two boundaries normal to y at fractional heights ``gb_frac = (y1, y2)``. Every grid row belongs
to the slab of its nearest boundary (periodic distance), so the two slabs tile the cell. The net Burgers
content per unit boundary length of slab r is

    B_i(r) = (1 / L_x) int_slab alpha_iz dx dy          (dimensionless: Å of Burgers vector per Å of boundary)

(3D: also averaged along z). Frank-Bilby for a symmetric tilt boundary of misorientation theta about z:
B(1) = s * 2 sin(theta/2) e_y, B(2) = -B(1); ``s`` = +-1 is the sign convention of the lattice correspondence
(the dataset records the sign measured on atomistic fields). Fields are ``(..., 3, 3, *grid)`` torch tensors.
"""

from __future__ import annotations

import torch

from nyegan.periodic import frac_distance


def slab_masks(gb_frac: torch.Tensor, ny: int) -> torch.Tensor:
    """(B, 2, ny) 0/1 masks of the rows nearest to each boundary (ties go to the first)."""
    y = (torch.arange(ny, device=gb_frac.device, dtype=gb_frac.dtype) + 0.5) / ny
    d = frac_distance(y[None, None, :], gb_frac[:, :, None])
    first = (d[:, 0] <= d[:, 1]).to(gb_frac.dtype)
    return torch.stack([first, 1.0 - first], dim=1)


def line_column_profile(alpha: torch.Tensor, dim: int) -> torch.Tensor:
    """alpha_iz averaged over every grid axis except y: (B, 3, ny)."""
    col = alpha[:, :, 2]  # (B, 3, *grid)
    red = [2] + ([4] if dim == 3 else [])  # x (and z)
    return col.mean(dim=red)


def slab_content(alpha: torch.Tensor, gb_frac: torch.Tensor, Ly: torch.Tensor, dim: int) -> torch.Tensor:
    """Net Burgers content per unit boundary length of each slab: (B, 2, 3)."""
    prof = line_column_profile(alpha, dim).to(gb_frac.dtype)
    ny = prof.shape[-1]
    m = slab_masks(gb_frac, ny)
    hy = (Ly / ny).reshape(-1, 1, 1)
    return torch.einsum("bry,biy->bri", m, prof) * hy


def frank_bilby_targets(theta_deg: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    """(B, 2, 3) Frank-Bilby content: slab 1 = sign * 2 sin(theta/2) e_y, slab 2 the opposite."""
    c = 2.0 * torch.sin(torch.deg2rad(theta_deg) / 2.0) * sign
    t = torch.zeros(theta_deg.shape[0], 2, 3, dtype=theta_deg.dtype, device=theta_deg.device)
    t[:, 0, 1] = c
    t[:, 1, 1] = -c
    return t


def boundary_profiles(gb_frac: torch.Tensor, Ly: torch.Tensor, ny: int, width: float) -> torch.Tensor:
    """(B, 2, ny) periodic Gaussians of standard deviation ``width`` (Å) centred on each boundary,
    normalised to unit integral over y (1/Å)."""
    y = (torch.arange(ny, device=gb_frac.device, dtype=gb_frac.dtype) + 0.5) / ny
    d = frac_distance(y[None, None, :], gb_frac[:, :, None]) * Ly.reshape(-1, 1, 1)
    hy = (Ly / ny).reshape(-1, 1, 1)
    w = torch.maximum(torch.as_tensor(width, dtype=gb_frac.dtype, device=gb_frac.device), 0.75 * hy)
    g = torch.exp(-0.5 * (d / w) ** 2)
    return g / (g.sum(-1, keepdim=True) * hy)


def project_content(
    alpha: torch.Tensor,
    target: torch.Tensor,
    active: torch.Tensor,
    gb_frac: torch.Tensor,
    Ly: torch.Tensor,
    dim: int,
    width: float = 2.0,
) -> torch.Tensor:
    """Add boundary-localised line profiles to alpha_iz so each slab carries exactly ``target`` (B, 2, 3).

    Only samples with ``active`` (B,) true are changed. The added term depends on y only and sits in the
    j = z column, so it leaves div alpha unchanged (d_z = 0 on it); since both targets and current contents
    sum to zero over the two slabs, the cell mean stays zero. The 2x2 system M c = target - content with
    M_rs = int_slab_r g_s dy makes the projection exact on the discrete grid.
    """
    dt = gb_frac.dtype
    ny = alpha.shape[-dim + 1]
    cur = slab_content(alpha, gb_frac, Ly, dim)
    g = boundary_profiles(gb_frac, Ly, ny, width)
    m = slab_masks(gb_frac, ny)
    hy = (Ly / ny).reshape(-1, 1, 1)
    M = torch.einsum("bry,bsy->brs", m, g) * hy
    delta = (target.to(dt) - cur) * active.to(dt).reshape(-1, 1, 1)
    c = torch.linalg.solve(M, delta)  # (B, 2, 3)
    add = torch.einsum("bsi,bsy->biy", c, g)  # (B, 3, ny)
    shape = [add.shape[0], 3, 1, ny] + ([1] if dim == 3 else [])
    add = add.reshape(shape).to(alpha.dtype)
    out = alpha.clone()
    out[:, :, 2] = out[:, :, 2] + add
    return out
