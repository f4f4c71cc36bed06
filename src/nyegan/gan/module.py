"""LightningModule of the conditional WGAN-GP (manual optimisation, one critic update per training step and
one generator update every ``n_critic`` steps).

``trainer.global_step`` counts optimiser steps of both networks (Lightning's manual-optimisation rule);
``iteration`` counts training steps (critic updates) and is stored in checkpoints. Under DDP Lightning
wraps this module in ``DistributedDataParallel``; every ``manual_backward`` prepares the reducer, so the
critic loss (gradient penalty included: it is built with ``create_graph=True`` and enters the same single
backward) and the generator loss are all-reduced like any other gradient. Parameters that a given backward
does not reach are handled with ``find_unused_parameters=True`` (set by ``nyegan.gan.train``).
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

from nyegan.dataset.augment import augment
from nyegan.gan import metrics, physics
from nyegan.gan.models import Critic, Generator, gradient_penalty

DEFAULTS = dict(
    physics="builtin",
    nz=16,
    width_g=8,
    width_d=8,
    n_up=3,
    n_down=3,
    embed=32,
    lr_g=2e-4,
    lr_d=2e-4,
    beta1=0.0,
    beta2=0.9,
    n_critic=2,
    gp_weight=10.0,
    drift=1e-3,
    penalty_div=10.0,
    penalty_mean=10.0,
    penalty_content=10.0,
    content_width=2.0,
    augment_shift=True,
    augment_mirror_x=True,
    augment_mirror_z=True,
    seed=0,
    images=True,
)


class NyeGAN(pl.LightningModule):
    def __init__(
        self,
        n_cond: int,
        grid,
        dim: int,
        alpha_scale,
        cond_mean,
        cond_std,
        w_scale: float,
        scheme: str = "spectral",
        **options,
    ):
        super().__init__()
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown GAN options {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        opt = {**DEFAULTS, **options}
        if opt["physics"] not in physics.MODES:
            raise ValueError(f"gan.physics = {opt['physics']!r}: choose one of {physics.MODES}")
        self.save_hyperparameters()
        self.opt = opt
        self.dim, self.grid, self.scheme = dim, tuple(grid), scheme
        self.automatic_optimization = False
        self.generator = Generator(dim, grid, n_cond, opt["nz"], opt["width_g"], opt["n_up"], opt["embed"])
        self.critic = Critic(dim, n_cond, opt["width_d"], opt["n_down"], embed=opt["embed"])
        self.register_buffer("alpha_scale", torch.as_tensor(np.asarray(alpha_scale), dtype=torch.float32))
        self.register_buffer("cond_mean", torch.as_tensor(np.asarray(cond_mean), dtype=torch.float32))
        self.register_buffer("cond_std", torch.as_tensor(np.asarray(cond_std), dtype=torch.float32))
        self.w_scale = float(w_scale)
        self.iteration = 0
        self._rng = None
        self._val_example = None

    # ---- helpers -------------------------------------------------------------------------------------
    def normalise(self, cond_raw: torch.Tensor) -> torch.Tensor:
        return (cond_raw - self.cond_mean) / self.cond_std

    def fields(self, z: torch.Tensor, cond_raw: torch.Tensor, lengths: torch.Tensor, gb_frac: torch.Tensor):
        """Generated Nye fields (B, 3, 3, *grid) in 1/Å for raw conditions."""
        raw = self.generator(z, self.normalise(cond_raw))
        return physics.fields_from_output(
            raw,
            self.opt["physics"],
            lengths,
            gb_frac,
            cond_raw,
            self.alpha_scale,
            self.w_scale,
            self.dim,
            self.scheme,
            self.opt["content_width"],
        )

    def scaled(self, alpha: torch.Tensor) -> torch.Tensor:
        return alpha / self.alpha_scale.reshape((1, 3, 3) + (1,) * self.dim)

    def _flat(self, alpha):
        return self.scaled(alpha).flatten(1, 2)

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.opt["nz"], device=self.device, generator=self._rng)

    @torch.no_grad()
    def sample(self, cond_raw, lengths, gb_frac, seed: int | None = None) -> torch.Tensor:
        g = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        z = torch.randn(cond_raw.shape[0], self.opt["nz"], device=self.device, generator=g)
        return self.fields(z, cond_raw.to(self.device), lengths.to(self.device), gb_frac.to(self.device)).float()

    def configure_optimizers(self):
        o = self.opt
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=o["lr_g"], betas=(o["beta1"], o["beta2"]))
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=o["lr_d"], betas=(o["beta1"], o["beta2"]))
        return [opt_g, opt_d]

    def on_fit_start(self):
        self._rng = torch.Generator(device=self.device).manual_seed(
            int(self.opt["seed"]) * 1000003 + 7 * self.global_rank + self.iteration
        )

    def on_save_checkpoint(self, checkpoint):
        checkpoint["nyegan_iteration"] = self.iteration

    def on_load_checkpoint(self, checkpoint):
        self.iteration = int(checkpoint.get("nyegan_iteration", 0))

    # ---- training ------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        o = self.opt
        opt_g, opt_d = self.optimizers()
        real, cond, lengths, gbf = batch
        if o["augment_shift"] or o["augment_mirror_x"] or o["augment_mirror_z"]:
            real, cond = augment(
                real,
                cond,
                self.dim,
                generator=self._rng,
                shift=o["augment_shift"],
                mirror_x=o["augment_mirror_x"],
                mirror_z=o["augment_mirror_z"],
            )
        B = real.shape[0]
        cn = self.normalise(cond)
        real_n = self._flat(real)

        # critic update
        self.toggle_optimizer(opt_d)
        with torch.no_grad():
            fake = self.fields(self.noise(B), cond, lengths, gbf)
        fake_n = self._flat(fake)
        d_real = self.critic(real_n, cn)
        d_fake = self.critic(fake_n, cn)
        gp = gradient_penalty(self.critic, real_n, fake_n, cn, generator=self._rng)
        wdist = d_real.mean() - d_fake.mean()
        loss_d = -wdist + o["gp_weight"] * gp + o["drift"] * (d_real**2).mean()
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        self.untoggle_optimizer(opt_d)
        self.iteration += 1
        logs = {"train/loss_d": loss_d.detach(), "train/wasserstein": wdist.detach(), "train/gp": gp.detach()}

        # generator update
        if self.iteration % o["n_critic"] == 0:
            self.toggle_optimizer(opt_g)
            fake = self.fields(self.noise(B), cond, lengths, gbf)
            loss_g = -self.critic(self._flat(fake), cn).mean()
            if o["physics"] == "penalty":
                pen = physics.penalty_terms(fake, lengths, gbf, cond, self.alpha_scale, self.dim, self.scheme)
                loss_g = (
                    loss_g
                    + o["penalty_div"] * pen["div"]
                    + o["penalty_mean"] * pen["mean"]
                    + o["penalty_content"] * pen["content"]
                )
                logs.update({f"train/penalty_{k}": v.detach() for k, v in pen.items()})
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss_g)
            opt_g.step()
            self.untoggle_optimizer(opt_g)
            logs["train/loss_g"] = loss_g.detach()
        res = physics.physics_residuals(fake.detach(), lengths, gbf, cond, self.dim, self.scheme)
        logs.update({f"physics/{k}": v for k, v in res.items()})
        logs["train/iteration"] = float(self.iteration)
        self.log_dict(logs, prog_bar=False, on_step=True, on_epoch=False, sync_dist=False)

    # ---- validation ----------------------------------------------------------------------------------
    def validation_step(self, batch, batch_idx):
        real, cond, lengths, gbf = batch
        fake = self.sample(cond, lengths, gbf, seed=1234)
        res = physics.physics_residuals(fake, lengths, gbf, cond, self.dim, self.scheme)
        logs = {f"val/{k}": v for k, v in res.items()}
        logs["val/spectrum_distance"] = metrics.spectrum_distance(fake, real, self.dim)
        self.log_dict(logs, on_step=False, on_epoch=True, sync_dist=True, batch_size=real.shape[0])
        if batch_idx == 0:
            self._val_example = (real[:2].detach().float().cpu(), fake[:2].detach().cpu())

    def on_validation_epoch_end(self):
        if not self.opt["images"] or self._val_example is None or self.trainer.sanity_checking:
            return
        log_dir = self.trainer.log_dir  # a broadcast under DDP: every rank calls it, or rank 0 waits forever
        if self.global_rank != 0:
            return
        from nyegan.gan.plots import field_comparison_figure

        real, fake = self._val_example
        fig = field_comparison_figure(real, fake, title=f"epoch {self.current_epoch}, step {self.global_step}")
        for lg in self.loggers:
            exp = getattr(lg, "experiment", None)
            if hasattr(exp, "add_figure"):
                exp.add_figure("fields/real_vs_generated", fig, global_step=self.global_step, close=False)
        if log_dir:
            out = Path(log_dir) / "images" / f"epoch_{self.current_epoch:04d}.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(out, dpi=80)
        import matplotlib.pyplot as plt

        plt.close(fig)
