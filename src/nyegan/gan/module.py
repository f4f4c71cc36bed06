"""LightningModule of the conditional generator (manual optimisation: one critic update per training step and one
generator update every ``n_critic`` steps).

Losses. Critic: Wasserstein estimate with the WGAN-GP gradient penalty (``gp_weight``), an optional R1 penalty on
real fields (``r1_weight``), a small drift term. Generator: the adversarial term plus a reconstruction term
(``rec_weight``): for every real field, ``rec_samples`` fields are generated for its condition and the mean of
them is pulled towards it (squared error per component, each component scaled by its dataset rms). Pulling the
*mean* of several samples, not each sample, fixes the conditional mean without collapsing the spread that the
critic asks for; with several microstates per boundary the target is their mean. With ``rec_aligned`` the term
is instead the error of the *nearest* of the samples after the best x shift per boundary slab
(``nyegan.gan.losses``): one sample has to match each atomistic field in shape and strength, at any phase.

Inputs. Both networks see the geometry maps of ``nyegan.gan.inputs`` (period along the boundary, boundary
positions, Frank–Bilby line, cores) and the normalised condition vector; the generator also gets spatial noise
channels and a global latent. Outputs go through the physics layer (``nyegan.gan.physics``).

``trainer.global_step`` counts optimiser steps of both networks (Lightning's manual-optimisation rule);
``iteration`` counts training steps (critic updates) and is stored in checkpoints. Under DDP every
``manual_backward`` all-reduces the gradients (``find_unused_parameters=True`` is set by ``nyegan.gan.train``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

from nyegan.dataset.augment import augment_batch
from nyegan.gan import metrics, physics
from nyegan.gan.config import ModelHParams
from nyegan.gan.inputs import ROW_OFFSET_A, condition_maps, n_channels, secondary_wall_map, units_map, wall_map
from nyegan.gan.losses import aligned_squared_error
from nyegan.gan.models import Critic, Generator, gradient_penalty, r1_penalty


@dataclass(frozen=True)
class DataSpec:
    """What the model needs to know about its dataset: condition count, grid, dimension, normalisation
    statistics (train split), the distortion scale of the built-in physics and the difference scheme."""

    n_cond: int
    grid: tuple[int, ...]
    dim: int
    alpha_scale: list
    cond_mean: list
    cond_std: list
    w_scale: float
    scheme: str


class GeometryMaps(torch.nn.Module):
    """The input maps of both networks (2D maps; broadcast along z for 3D fields). ``wall_model``: the wall map
    of lattice dislocations ("lattice") or of the structural-unit model ("structural_units", secondary
    dislocations at ``secondary_amplitude``, on two rows ``row_offset`` Å from the plane where the
    ``units_two_rows`` condition says so; ``nyegan.gan.inputs.units_map``)."""

    def __init__(self, grid, dim: int, line_scale: float, wall: bool = False, slabs: bool = False,
                 secondary: bool = False, wall_model: str = "lattice", secondary_amplitude: float = 0.0,
                 row_offset: float = ROW_OFFSET_A):  # fmt: skip
        super().__init__()
        self.grid, self.dim, self.line_scale = tuple(grid), dim, float(line_scale)
        self.wall, self.slabs, self.secondary = bool(wall), bool(slabs), bool(secondary)
        if wall_model not in ("lattice", "structural_units"):
            raise ValueError(f"gan.wall_model = {wall_model!r}: choose lattice or structural_units")
        self.wall_model, self.secondary_amplitude = wall_model, float(secondary_amplitude)
        self.row_offset = float(row_offset)
        self.n_channels = n_channels(self.wall, self.secondary)

    @classmethod
    def from_hparams(cls, grid, dim: int, line_scale: float, hp) -> GeometryMaps:
        """The maps a model with hyper-parameters ``hp`` (``ModelHParams``) sees."""
        return cls(grid, dim, line_scale, hp.wall_map, hp.align_slabs, hp.secondary_wall_map, hp.wall_model,
                   hp.secondary_amplitude, hp.secondary_row_offset_A)  # fmt: skip

    def forward(self, cond_raw, gb_frac, lengths, cores):
        maps = condition_maps(cond_raw, gb_frac, lengths[:, :2], cores, self.grid[:2], self.line_scale)
        if self.wall:
            args = (cond_raw, gb_frac, lengths[:, :2], self.grid[:2], self.line_scale, self.slabs)
            if self.wall_model == "structural_units":
                w = units_map(*args, amplitude=self.secondary_amplitude, offset=self.row_offset)
            else:
                w = wall_map(*args)
            maps = torch.cat([maps, w[:, None]], dim=1)
        if self.secondary:
            w = secondary_wall_map(cond_raw, gb_frac, lengths[:, :2], self.grid[:2], self.line_scale, self.slabs,
                                   offset=self.row_offset)  # fmt: skip
            maps = torch.cat([maps, w[:, None]], dim=1)
        if self.dim == 3:
            maps = maps[..., None].expand(*maps.shape, self.grid[2])
        return maps


class IterationState:
    """Training-step counter and augmentation generator shared by the generators: ``iteration`` (training steps
    done) is saved in checkpoints and seeds the per-rank generator, so a resumed run does not replay the
    augmentations of its first segment."""

    def on_fit_start(self):
        self._rng = torch.Generator(device=self.device).manual_seed(
            int(self.hp.seed) * 1000003 + 7 * self.global_rank + self.iteration
        )

    def on_save_checkpoint(self, checkpoint):
        checkpoint["nyegan_iteration"] = self.iteration

    def on_load_checkpoint(self, checkpoint):
        self.iteration = int(checkpoint.get("nyegan_iteration", 0))


class NyeGAN(IterationState, pl.LightningModule):
    """Conditional WGAN of Nye fields. ``model``: :class:`nyegan.gan.config.ModelHParams` as a dict;
    ``data``: :class:`DataSpec` as a dict. Both are saved with ``save_hyperparameters`` (plain types, so
    checkpoints load with ``torch.load(weights_only=True)``)."""

    def __init__(self, model: dict, data: dict):
        super().__init__()
        hp = ModelHParams.from_saved(model)
        spec = DataSpec(**{**data, "grid": tuple(data["grid"])})
        hp = physics.applicable(hp, spec.dim)
        self.save_hyperparameters()
        self.hp = hp
        self.dim, self.grid, self.scheme = spec.dim, spec.grid, spec.scheme
        self.automatic_optimization = False
        out_ch = physics.output_channels(hp.physics, spec.dim, hp.in_plane_2d)
        self.field_channels = out_ch if out_ch == 3 else 9
        self.maps = GeometryMaps.from_hparams(spec.grid, spec.dim, spec.alpha_scale[1][2], hp)
        self.generator = Generator(spec.dim, self.maps.n_channels, spec.n_cond, out_ch, hp.width_g, hp.depth, hp.embed,
                                   hp.nz, hp.noise_channels)  # fmt: skip
        self.critic = Critic(spec.dim, self.field_channels, self.maps.n_channels, spec.n_cond, hp.width_d, hp.n_down,
                             hp.embed, hp.spectral_norm)  # fmt: skip
        self.register_buffer("alpha_scale", torch.as_tensor(np.asarray(spec.alpha_scale), dtype=torch.float32))
        self.register_buffer("cond_mean", torch.as_tensor(np.asarray(spec.cond_mean), dtype=torch.float32))
        self.register_buffer("cond_std", torch.as_tensor(np.asarray(spec.cond_std), dtype=torch.float32))
        self.w_scale = float(spec.w_scale)
        self.iteration = 0
        self._rng = None
        self._val_example = None

    # ---- helpers -------------------------------------------------------------------------------------
    def normalise(self, cond_raw: torch.Tensor) -> torch.Tensor:
        return (cond_raw - self.cond_mean) / self.cond_std

    def latent(self, n: int, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """(global latent (n, nz), spatial noise (n, noise_channels, *grid)), normal with standard deviation
        ``temperature`` (1 in training)."""
        g = generator if generator is not None else self._rng
        z = torch.randn(n, self.hp.nz, device=self.device, generator=g)
        noise = torch.randn((n, self.hp.noise_channels, *self.grid), device=self.device, generator=g)
        return z * temperature, noise * temperature

    def fields(self, latent, cond_raw, lengths, gb_frac, cores, maps=None) -> torch.Tensor:
        """Generated Nye fields (B, 3, 3, *grid) in 1/Å for raw conditions."""
        z, noise = latent
        maps = self.maps(cond_raw, gb_frac, lengths, cores) if maps is None else maps
        raw = self.generator(maps, self.normalise(cond_raw), z, noise)
        raw = physics.network_field(raw, maps, cond_raw, lengths, self.hp, self.alpha_scale)
        return physics.fields_from_output(raw, self.hp.physics, lengths, gb_frac, cond_raw, self.alpha_scale,
                                          self.w_scale, self.dim, self.scheme, self.hp.content_width)  # fmt: skip

    def scaled(self, alpha: torch.Tensor) -> torch.Tensor:
        """Each component over its dataset rms."""
        return physics.per_component_scaled(alpha, self.alpha_scale, self.dim)

    def critic_input(self, alpha: torch.Tensor) -> torch.Tensor:
        """The field as the critic sees it: each component over its dataset rms; 2D built-in: the three
        alpha_iz maps (the other six vanish identically)."""
        scaled = self.scaled(alpha)
        return scaled[:, :, 2] if self.field_channels == 3 else scaled.flatten(1, 2)

    @torch.no_grad()
    def sample(
        self, cond_raw, lengths, gb_frac, cores, seed: int | None = None, temperature: float = 1.0
    ) -> torch.Tensor:
        """Generated fields (B, 3, 3, *grid) in 1/Å; ``temperature`` scales the latent and the noise maps (below 1:
        samples closer to the generator's output at zero noise, less diverse)."""
        g = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        dev = self.device
        args = [t.to(dev) for t in (cond_raw, lengths, gb_frac, cores)]
        return self.fields(self.latent(cond_raw.shape[0], g, temperature), *args).float()

    def configure_optimizers(self):
        o = self.hp
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        return [opt_g, opt_d]

    # ---- training ------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        o = self.hp
        opt_g, opt_d = self.optimizers()
        real, cond, lengths, gbf, cores = batch
        if o.augment_shift or o.augment_mirror_x or o.augment_mirror_z or o.align_slabs:
            real, cond, cores = augment_batch(real, cond, cores, self.dim, generator=self._rng,
                                              shift=o.augment_shift, mirror_x=o.augment_mirror_x,
                                              mirror_z=o.augment_mirror_z, gb_frac=gbf,
                                              align_slabs=o.align_slabs)  # fmt: skip
        B = real.shape[0]
        cn = self.normalise(cond)
        maps = self.maps(cond, gbf, lengths, cores)
        real_c = self.critic_input(real)

        # critic update
        self.toggle_optimizer(opt_d)
        with torch.no_grad():
            fake = self.fields(self.latent(B), cond, lengths, gbf, cores, maps)
        fake_c = self.critic_input(fake)
        d_real = self.critic(real_c, maps, cn)
        d_fake = self.critic(fake_c, maps, cn)
        wdist = d_real.mean() - d_fake.mean()
        loss_d = -wdist + o.drift * (d_real**2).mean()
        logs = {"train/wasserstein": wdist.detach()}
        if o.gp_weight > 0:
            gp = gradient_penalty(self.critic, real_c, fake_c, maps, cn, generator=self._rng)
            loss_d = loss_d + o.gp_weight * gp
            logs["train/gp"] = gp.detach()
        if o.r1_weight > 0:
            r1 = r1_penalty(self.critic, real_c, maps, cn)
            loss_d = loss_d + 0.5 * o.r1_weight * r1
            logs["train/r1"] = r1.detach()
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        self.untoggle_optimizer(opt_d)
        self.iteration += 1
        logs["train/loss_d"] = loss_d.detach()

        # generator update
        if self.iteration % o.n_critic == 0:
            self.toggle_optimizer(opt_g)
            K = max(1, o.rec_samples)
            rep = lambda t: t.repeat_interleave(K, dim=0)  # noqa: E731
            fake = self.fields(self.latent(B * K), rep(cond), rep(lengths), rep(gbf), rep(cores), rep(maps))
            fake_c = self.critic_input(fake)
            loss_adv = -self.critic(fake_c, rep(maps), rep(cn)).mean()
            loss_g = loss_adv
            logs["train/loss_adv"] = loss_adv.detach()
            if o.rec_weight > 0:
                if o.rec_aligned:  # the nearest of the K samples, after the best x shift (nyegan.gan.losses)
                    err = aligned_squared_error(self.scaled(fake), self.scaled(rep(real)), rep(gbf))
                    rec = err.reshape(B, K).min(dim=1).values.mean()
                else:
                    mean_fake = fake_c.reshape(B, K, *fake_c.shape[1:]).mean(dim=1)
                    rec = ((mean_fake - real_c) ** 2).mean()
                loss_g = loss_g + o.rec_weight * rec
                logs["train/rec"] = rec.detach()
            if o.physics == "penalty":
                pen = physics.penalty_terms(fake, rep(lengths), rep(gbf), rep(cond), self.alpha_scale, self.dim,
                                            self.scheme)  # fmt: skip
                loss_g = loss_g + o.penalty_div * pen["div"] + o.penalty_mean * pen["mean"] \
                    + o.penalty_content * pen["content"]  # fmt: skip
                logs.update({f"train/penalty_{k}": v.detach() for k, v in pen.items()})
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss_g)
            opt_g.step()
            self.untoggle_optimizer(opt_g)
            logs["train/loss_g"] = loss_g.detach()
            fake = fake[::K]
        res = physics.physics_residuals(fake.detach(), lengths, gbf, cond, self.dim, self.scheme)
        logs.update({f"physics/{k}": v for k, v in res.items()})
        logs["train/iteration"] = float(self.iteration)
        self.log_dict(logs, prog_bar=False, on_step=True, on_epoch=False, sync_dist=False)

    # ---- validation ----------------------------------------------------------------------------------
    def validation_step(self, batch, batch_idx):
        real, cond, lengths, gbf, cores = batch
        fake = self.sample(cond, lengths, gbf, cores, seed=1234)
        res = physics.physics_residuals(fake, lengths, gbf, cond, self.dim, self.scheme)
        logs = {f"val/{k}": v for k, v in res.items()}
        logs["val/spectrum_distance"] = metrics.spectrum_distance(fake, real, self.dim)
        logs["val/mse_scaled"] = (self.scaled(fake - real) ** 2).mean()
        self.log_dict(logs, on_step=False, on_epoch=True, sync_dist=True, batch_size=real.shape[0])
        if batch_idx == 0:
            self._val_example = (real[:2].detach().float().cpu(), fake[:2].detach().cpu())

    def on_validation_epoch_end(self):
        if not self.hp.images or self._val_example is None or self.trainer.sanity_checking:
            return
        log_dir = self.trainer.log_dir  # a broadcast under DDP: every rank calls it, or rank 0 waits forever
        if self.global_rank != 0:
            return
        from nyegan.gan.plots import field_comparison_figure
        from nyegan.io import atomic_path

        real, fake = self._val_example
        fig = field_comparison_figure(real, fake, title=f"epoch {self.current_epoch}, step {self.global_step}")
        for lg in self.loggers:
            exp = getattr(lg, "experiment", None)
            if hasattr(exp, "add_figure"):
                exp.add_figure("fields/real_vs_generated", fig, global_step=self.global_step, close=False)
        if log_dir:
            out = Path(log_dir) / "images" / f"epoch_{self.current_epoch:04d}.png"
            with atomic_path(out) as tmp:
                fig.savefig(tmp, dpi=80, format="png")
        import matplotlib.pyplot as plt

        plt.close(fig)


def model_class(family: str):
    """The LightningModule of a generator family ("wgan" or "diffusion")."""
    if family == "diffusion":
        from nyegan.gan.diffusion import NyeDiffusion

        return NyeDiffusion
    if family == "wgan":
        return NyeGAN
    raise ValueError(f"gan.family = {family!r}: choose wgan or diffusion")
