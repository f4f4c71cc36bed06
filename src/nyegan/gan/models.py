"""Networks of the generative stage (plain ``nn.Module``), dimension-generic (``dim`` = 2 or 3).

- :class:`UNet`: a conditional U-Net on the periodic grid (circular padding everywhere, nearest-neighbour
  upsampling, skip connections). Every block is conditioned through conditional group normalisation (scale and
  shift from an embedding of the condition vector and, for the generator, of the global latent). Its input is
  the geometry maps of ``nyegan.gan.inputs`` (the boundary's period, positions, Frank–Bilby line, cores), so
  convolutions learn local shapes and the geometry of an unseen boundary comes from its maps.
- :class:`Generator`: the U-Net fed with the maps and spatial noise channels, plus a global latent.
- :class:`Critic`: a projection critic on the (normalised) field concatenated with the same maps:
  D(x, c) = w·h(x, maps) + <E(c), h(x, maps)>; optional spectral normalisation, no normalisation layers.
- :class:`Regressor`: the same U-Net without noise, a deterministic baseline trained with MSE.
"""

from __future__ import annotations

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


class ResBlock(nn.Module):
    """Two circular convolutions with conditional group norm and a residual path."""

    def __init__(self, dim: int, cin: int, cout: int, embed: int):
        super().__init__()
        self.conv1, self.norm1 = _conv(dim, cin, cout), ConditionalGroupNorm(cout, embed)
        self.conv2, self.norm2 = _conv(dim, cout, cout), ConditionalGroupNorm(cout, embed)
        self.skip = _conv(dim, cin, cout, 1) if cin != cout else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x, e):
        h = self.act(self.norm1(self.conv1(x), e))
        h = self.norm2(self.conv2(h), e)
        return self.act(h + self.skip(x))


class UNet(nn.Module):
    """Conditional U-Net: ``depth`` halvings of the grid, widths ``width * 2**level``; ``embed``-wide conditioning
    vector ``e`` (B, embed) given to every block. Grid sizes must be divisible by 2**depth."""

    def __init__(self, dim: int, in_ch: int, out_ch: int, width: int, depth: int, embed: int):
        super().__init__()
        self.dim, self.depth = dim, depth
        pool = nn.AvgPool2d if dim == 2 else nn.AvgPool3d
        chans = [width * 2**k for k in range(depth + 1)]
        self.inp = _conv(dim, in_ch, chans[0])
        self.down = nn.ModuleList([ResBlock(dim, chans[k], chans[k], embed) for k in range(depth)])
        self.pools = nn.ModuleList(
            [nn.Sequential(pool(2), _conv(dim, chans[k], chans[k + 1], 1)) for k in range(depth)]
        )
        self.mid = ResBlock(dim, chans[depth], chans[depth], embed)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.ups = nn.ModuleList([ResBlock(dim, chans[k + 1] + chans[k], chans[k], embed) for k in range(depth)])
        self.out = _conv(dim, chans[0], out_ch)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        if any(n % 2**self.depth for n in x.shape[2:]):
            raise ValueError(f"grid {list(x.shape[2:])} must be divisible by 2**depth = {2**self.depth}")
        h = self.inp(x)
        skips = []
        for block, pool in zip(self.down, self.pools):
            h = block(h, e)
            skips.append(h)
            h = pool(h)
        h = self.mid(h, e)
        for block, skip in zip(reversed(self.ups), reversed(skips)):
            h = block(torch.cat([self.up(h), skip], dim=1), e)
        return self.out(h)


def _embedding(n_cond: int, embed: int) -> nn.Module:
    return nn.Sequential(nn.Linear(n_cond, embed), nn.SiLU(), nn.Linear(embed, embed))


class Generator(nn.Module):
    """(geometry maps, condition, noise) -> ``out_ch`` channels on the grid (2D: α_xz, α_yz, α_zz before the
    physics layer; 3D: the nine components of a distortion W)."""

    def __init__(self, dim: int, n_maps: int, n_cond: int, out_ch: int, width: int, depth: int, embed: int,
                 nz: int, noise_channels: int):  # fmt: skip
        super().__init__()
        self.nz, self.noise_channels = nz, noise_channels
        self.embed = _embedding(n_cond + nz, embed)
        self.unet = UNet(dim, n_maps + noise_channels, out_ch, width, depth, embed)

    def forward(self, maps: torch.Tensor, c: torch.Tensor, z: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.unet(torch.cat([maps, noise], dim=1), self.embed(torch.cat([c, z], dim=1)))


class Regressor(nn.Module):
    """The generator's U-Net without noise: the conditional mean field, trained with MSE (a baseline)."""

    def __init__(self, dim: int, n_maps: int, n_cond: int, out_ch: int, width: int, depth: int, embed: int):
        super().__init__()
        self.embed = _embedding(n_cond, embed)
        self.unet = UNet(dim, n_maps, out_ch, width, depth, embed)

    def forward(self, maps: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.unet(maps, self.embed(c))


class Critic(nn.Module):
    """Projection critic on the normalised field (``in_ch`` channels) concatenated with the geometry maps."""

    def __init__(self, dim: int, in_ch: int, n_maps: int, n_cond: int, width: int, n_down: int, embed: int,
                 spectral_norm: bool = False):  # fmt: skip
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        pool = nn.AvgPool2d(2) if dim == 2 else nn.AvgPool3d(2)
        layers = []
        cin = in_ch + n_maps
        for k in range(n_down):
            c = width * 2**k
            layers += [sn(_conv(dim, cin, c)), nn.LeakyReLU(0.2), sn(_conv(dim, c, c)), nn.LeakyReLU(0.2), pool]
            cin = c
        self.features = nn.Sequential(*layers)
        self.linear = sn(nn.Linear(cin, 1))
        self.embed = nn.Sequential(nn.Linear(n_cond, embed), nn.LeakyReLU(0.2), nn.Linear(embed, cin))

    def forward(self, x: torch.Tensor, maps: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.features(torch.cat([x, maps], dim=1))
        h = h.mean(dim=tuple(range(2, h.ndim)))
        return self.linear(h).squeeze(1) + (self.embed(c) * h).sum(1)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, maps: torch.Tensor, c: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """WGAN-GP: mean over the batch of (||grad_x D(x_hat, c)|| - 1)^2 at random interpolates x_hat.

    Gradients are taken w.r.t. the field only (``autograd.grad``), with ``create_graph=True`` so that the
    penalty's parameter gradients flow through the single ``backward`` of the critic loss; under DDP that
    backward is the one whose gradients the reducer all-reduces.
    """
    B = real.shape[0]
    eps = torch.rand((B,) + (1,) * (real.ndim - 1), device=real.device, dtype=real.dtype, generator=generator)
    x = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    out = critic(x, maps, c)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def r1_penalty(critic: nn.Module, real: torch.Tensor, maps: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): mean ||grad_x D(x_real, c)||^2, a zero-centred penalty on real data."""
    x = real.detach().requires_grad_(True)
    out = critic(x, maps, c)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return g.flatten(1).pow(2).sum(dim=1).mean()
