"""Conditional generator and projection critic (plain ``nn.Module``), dimension-generic (``dim`` = 2 or 3).

All convolutions pad circularly (fields live on periodic cells); upsampling is nearest-neighbour followed
by a circular convolution (no zero-padded transposed convolutions). The generator is conditioned through
conditional group normalisation (scale and shift from an embedding of the condition vector); the critic
is a projection critic: D(x, c) = w . h(x) + <E(c), h(x)>.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _conv(dim: int, cin: int, cout: int, k: int = 3) -> nn.Module:
    cls = nn.Conv2d if dim == 2 else nn.Conv3d
    return cls(cin, cout, k, padding=k // 2, padding_mode="circular")


def _groups(c: int) -> int:
    for g in (8, 4, 2, 1):
        if c % g == 0:
            return g
    return 1


class ConditionalGroupNorm(nn.Module):
    """GroupNorm without affine parameters, then per-sample scale (1 + gamma(e)) and shift beta(e)."""

    def __init__(self, channels: int, embed: int):
        super().__init__()
        self.norm = nn.GroupNorm(_groups(channels), channels, affine=False)
        self.affine = nn.Linear(embed, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(e).chunk(2, dim=1)
        shape = gamma.shape + (1,) * (x.ndim - 2)
        return self.norm(x) * (1 + gamma.reshape(shape)) + beta.reshape(shape)


class UpBlock(nn.Module):
    def __init__(self, dim: int, cin: int, cout: int, embed: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv1 = _conv(dim, cin, cout)
        self.norm1 = ConditionalGroupNorm(cout, embed)
        self.conv2 = _conv(dim, cout, cout)
        self.norm2 = ConditionalGroupNorm(cout, embed)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x, e):
        x = self.up(x)
        x = self.act(self.norm1(self.conv1(x), e))
        return self.act(self.norm2(self.conv2(x), e))


class Generator(nn.Module):
    """(z, c) -> 9 output channels on ``grid`` (the 3x3 tensor components, row-major i, j).

    ``grid`` must be divisible by 2**n_up along every axis. Channel widths halve at each upsampling,
    starting from ``width * 2**(n_up-1)``.
    """

    def __init__(self, dim: int, grid, n_cond: int, nz: int, width: int, n_up: int, embed: int, out_channels: int = 9):
        super().__init__()
        if dim not in (2, 3) or len(grid) != dim:
            raise ValueError(f"grid {list(grid)} does not match dim = {dim}")
        if any(n % (2**n_up) for n in grid):
            raise ValueError(f"grid {list(grid)} must be divisible by 2**n_up = {2**n_up}; change gan.n_up or the grid")
        self.dim, self.grid, self.nz, self.n_up = dim, tuple(grid), nz, n_up
        self.base = tuple(n // 2**n_up for n in grid)
        chans = [max(width * 2 ** (n_up - 1 - k), 8) for k in range(n_up)]
        c0 = chans[0]
        self.embed = nn.Sequential(nn.Linear(n_cond, embed), nn.LeakyReLU(0.2), nn.Linear(embed, embed))
        self.fc = nn.Linear(nz + embed, c0 * math.prod(self.base))
        self.c0 = c0
        blocks = []
        cin = c0
        for c in chans:
            blocks.append(UpBlock(dim, cin, c, embed))
            cin = c
        self.blocks = nn.ModuleList(blocks)
        self.out = _conv(dim, cin, out_channels)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.embed(c)
        x = self.fc(torch.cat([z, e], dim=1)).reshape((z.shape[0], self.c0) + self.base)
        for blk in self.blocks:
            x = blk(x, e)
        return self.out(x)


class Critic(nn.Module):
    """Projection critic on normalised fields (9 channels); no normalisation layers (WGAN-GP)."""

    def __init__(self, dim: int, n_cond: int, width: int, n_down: int, embed: int, in_channels: int = 9):
        super().__init__()
        self.dim = dim
        pool = nn.AvgPool2d(2) if dim == 2 else nn.AvgPool3d(2)
        layers = []
        cin = in_channels
        for k in range(n_down):
            c = width * 2**k
            layers += [_conv(dim, cin, c), nn.LeakyReLU(0.2), _conv(dim, c, c), nn.LeakyReLU(0.2), pool]
            cin = c
        self.features = nn.Sequential(*layers)
        self.linear = nn.Linear(cin, 1)
        self.embed = nn.Sequential(nn.Linear(n_cond, embed), nn.LeakyReLU(0.2), nn.Linear(embed, cin))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = h.mean(dim=tuple(range(2, h.ndim)))
        return self.linear(h).squeeze(1) + (self.embed(c) * h).sum(1)


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, c: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """WGAN-GP: mean over the batch of (||grad_x D(x_hat, c)|| - 1)^2 at random interpolates x_hat.

    Gradients are taken w.r.t. the inputs only (``autograd.grad``), with ``create_graph=True`` so that the
    penalty's parameter gradients flow through the single ``backward`` of the critic loss; under DDP that
    backward is the one whose gradients the reducer all-reduces.
    """
    B = real.shape[0]
    eps = torch.rand((B,) + (1,) * (real.ndim - 1), device=real.device, dtype=real.dtype, generator=generator)
    x = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    out = critic(x, c)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1.0) ** 2).mean()
