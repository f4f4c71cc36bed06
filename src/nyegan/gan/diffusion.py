"""A conditional denoising diffusion model of Nye fields, with the same inputs and physics layer as the GAN.

The network (the generator's conditional U-Net, ``nyegan.gan.models.UNet``) sees the noisy field x_t, the
geometry maps (``nyegan.gan.inputs``) and an embedding of the condition vector and of the noise level, and predicts
v = sqrt(ᾱ) ε − sqrt(1 − ᾱ) x_0 (Ho et al. 2020 with the v-parameterisation of Salimans & Ho 2022, cosine schedule
of Nichol & Dhariwal 2021). Fields are the generator's output
channels over their dataset rms (2D: the three α_iz maps). Sampling runs the deterministic DDIM update (Song et
al. 2021) over ``sample_steps`` levels from pure noise; the result goes through ``nyegan.gan.physics`` (2D: zero
mean, α_ix = α_iy = 0, then the exact Frank–Bilby content), so the physics holds exactly as for the GAN.

Diffusion models are known to cover the modes of a distribution better than GANs and to memorise small training
sets; the benchmark measures both (energy distance to the microstate ensemble, memorisation ratio).
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn

from nyegan.dataset.augment import augment_batch
from nyegan.gan import metrics, physics
from nyegan.gan.config import ModelHParams
from nyegan.gan.models import UNet
from nyegan.gan.module import DataSpec, GeometryMaps, IterationState

X0_CLIP = 20.0  # bound of the denoised estimate, in units of each component's dataset rms


def cosine_alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """ᾱ(t) for t in [0, 1] (cosine schedule, s = 0.008), clipped away from 0 and 1."""
    s = 0.008
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return (f / math.cos(s / (1 + s) * math.pi / 2) ** 2).clamp(1e-5, 0.9999)


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (B, dim) of t in [0, 1]."""
    half = dim // 2
    freq = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / max(half - 1, 1))
    ang = 1000.0 * t.float()[:, None] * freq[None]
    return torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)


class Denoiser(nn.Module):
    """v(x_t, maps, c, t) = sqrt(ᾱ) ε − sqrt(1 − ᾱ) x_0 (v-prediction): the conditional U-Net with the noise level
    in its conditioning embedding."""

    def __init__(self, dim: int, field_ch: int, n_maps: int, n_cond: int, width: int, depth: int, embed: int):
        super().__init__()
        self.embed_dim = embed
        self.cond = nn.Sequential(nn.Linear(n_cond, embed), nn.SiLU(), nn.Linear(embed, embed))
        self.time = nn.Sequential(nn.Linear(embed, embed), nn.SiLU(), nn.Linear(embed, embed))
        self.unet = UNet(dim, field_ch + n_maps, field_ch, width, depth, embed)

    def forward(self, x, maps, c, t):
        e = self.cond(c) + self.time(time_embedding(t, self.embed_dim))
        return self.unet(torch.cat([x, maps], dim=1), e)


class NyeDiffusion(IterationState, pl.LightningModule):
    """Conditional diffusion model of Nye fields; same constructor, data and sampling API as ``NyeGAN``."""

    def __init__(self, model: dict, data: dict):
        super().__init__()
        hp = ModelHParams.from_saved(model)
        spec = DataSpec(**{**data, "grid": tuple(data["grid"])})
        if spec.dim != 2 or hp.physics != "builtin":
            raise ValueError("the diffusion generator models 2D fields with the built-in physics (dataset.dim = 2, "
                             "gan.physics = builtin); use gan.family = wgan otherwise")  # fmt: skip
        hp = physics.applicable(hp, spec.dim)
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.hp = hp
        self.dim, self.grid, self.scheme = spec.dim, spec.grid, spec.scheme
        self.field_channels = physics.output_channels(hp.physics, spec.dim, hp.in_plane_2d)
        self.maps = GeometryMaps.from_hparams(spec.grid, spec.dim, spec.alpha_scale[1][2], hp)
        self.denoiser = Denoiser(spec.dim, self.field_channels, self.maps.n_channels, spec.n_cond, hp.width_g,
                                 hp.depth, hp.embed)  # fmt: skip
        self.register_buffer("alpha_scale", torch.as_tensor(np.asarray(spec.alpha_scale), dtype=torch.float32))
        self.register_buffer("cond_mean", torch.as_tensor(np.asarray(spec.cond_mean), dtype=torch.float32))
        self.register_buffer("cond_std", torch.as_tensor(np.asarray(spec.cond_std), dtype=torch.float32))
        self.w_scale = float(spec.w_scale)
        self.iteration = 0
        self._rng = None

    def normalise(self, cond_raw):
        return (cond_raw - self.cond_mean) / self.cond_std

    def to_channels(self, alpha: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Field -> network channels (each component over its dataset rms); 2D: the α_iz maps, and with
        ``gan.in_plane_2d`` the W_iz maps of α_ix, α_iy (``nyegan.gan.physics.in_plane_channels``)."""
        scaled = physics.per_component_scaled(alpha, self.alpha_scale, self.dim)
        if self.field_channels == 9:
            return scaled.flatten(1, 2)
        if self.field_channels == 6:
            w = physics.in_plane_channels(alpha, lengths, self.alpha_scale, self.scheme).to(scaled.dtype)
            return torch.cat([scaled[:, :, 2], w], dim=1)
        return scaled[:, :, 2]

    def from_channels(self, x, cond_raw, lengths, gb_frac) -> torch.Tensor:
        return physics.fields_from_output(x, self.hp.physics, lengths, gb_frac, cond_raw, self.alpha_scale,
                                          self.w_scale, self.dim, self.scheme, self.hp.content_width)  # fmt: skip

    def configure_optimizers(self):
        return torch.optim.Adam(self.denoiser.parameters(), lr=self.hp.lr_g, betas=(0.9, 0.99))

    def training_step(self, batch, batch_idx):
        o = self.hp
        opt = self.optimizers()
        real, cond, lengths, gbf, cores = batch
        real, cond, cores = augment_batch(real, cond, cores, self.dim, generator=self._rng, shift=o.augment_shift,
                                          mirror_x=o.augment_mirror_x, mirror_z=o.augment_mirror_z, gb_frac=gbf,
                                          align_slabs=o.align_slabs)  # fmt: skip
        maps = self.maps(cond, gbf, lengths, cores)
        x0 = self.to_channels(real, lengths)
        if o.wall_residual:  # the model diffuses the correction to the wall map
            x0 = physics.add_wall(x0, maps, sign=-1.0)
        if o.core_residual:  # ... and to the Volterra cores
            x0 = physics.add_cores(x0, maps, cond, self.alpha_scale, sign=-1.0)
        B = x0.shape[0]
        t = torch.rand(B, device=self.device, generator=self._rng)
        ab = cosine_alpha_bar(t).reshape((B,) + (1,) * (x0.ndim - 1))
        eps = torch.randn(x0.shape, device=self.device, generator=self._rng)
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        pred = self.denoiser(xt, maps, self.normalise(cond), t)
        v = ab.sqrt() * eps - (1 - ab).sqrt() * x0  # v-prediction target
        loss = ((pred - v) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt.step()
        self.iteration += 1
        self.log_dict({"train/loss_v": loss.detach(), "train/iteration": float(self.iteration)}, on_step=True,
                      on_epoch=False)  # fmt: skip

    @torch.no_grad()
    def sample(
        self, cond_raw, lengths, gb_frac, cores, seed: int | None = None, temperature: float = 1.0
    ) -> torch.Tensor:
        """DDIM sampling (η = 0) over ``diffusion_sample_steps`` noise levels; fields (B, 3, 3, *grid) in 1/Å.
        ``temperature`` scales the initial noise (below 1: less diverse samples, 0: one deterministic field)."""
        dev = self.device
        cond_raw, lengths, gb_frac, cores = (t.to(dev) for t in (cond_raw, lengths, gb_frac, cores))
        g = torch.Generator(device=dev).manual_seed(seed) if seed is not None else None
        B = cond_raw.shape[0]
        maps = self.maps(cond_raw, gb_frac, lengths, cores)
        c = self.normalise(cond_raw)
        x = torch.randn((B, self.field_channels, *self.grid), device=dev, generator=g) * temperature
        ts = torch.linspace(1.0, 0.0, self.hp.diffusion_sample_steps + 1, device=dev)
        for k in range(len(ts) - 1):
            t, t_next = ts[k], ts[k + 1]
            ab, ab_next = cosine_alpha_bar(t), cosine_alpha_bar(t_next) if t_next > 0 else torch.tensor(1.0, device=dev)
            v = self.denoiser(x, maps, c, t.expand(B))
            # v-prediction: x0 = sqrt(ab) x - sqrt(1 - ab) v stays well conditioned at the noisiest levels, where
            # the ε-form (x - sqrt(1 - ab) ε) / sqrt(ab) multiplies the network's error by up to 1/sqrt(ab) ~ 300
            # and a wrong first estimate is carried to the end; the clip is a safety bound (fields over their rms)
            x0 = (ab.sqrt() * x - (1 - ab).sqrt() * v).clamp(-X0_CLIP, X0_CLIP)
            eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
            x = ab_next.sqrt() * x0 + (1 - ab_next).sqrt() * eps
        # the sampled correction, masked, filtered and on the wall as set
        x = physics.network_field(x, maps, cond_raw, lengths, self.hp, self.alpha_scale)
        return self.from_channels(x, cond_raw, lengths, gb_frac).float()

    def validation_step(self, batch, batch_idx):
        real, cond, lengths, gbf, cores = batch
        fake = self.sample(cond, lengths, gbf, cores, seed=1234)
        res = physics.physics_residuals(fake, lengths, gbf, cond, self.dim, self.scheme)
        logs = {f"val/{k}": v for k, v in res.items()}
        logs["val/spectrum_distance"] = metrics.spectrum_distance(fake, real, self.dim)
        self.log_dict(logs, on_step=False, on_epoch=True, sync_dist=True, batch_size=real.shape[0])
