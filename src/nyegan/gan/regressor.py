"""A deterministic conditional regressor: the generator's U-Net without noise, trained with MSE (a baseline).

Same inputs (geometry maps + condition vector), same physics layer (2D: zero-mean α_iz, then the exact
Frank–Bilby content), same augmentations; the loss is the mean squared error of every component over its dataset
rms (``gan.rec_aligned``: after the best x shift per boundary slab, ``nyegan.gan.losses``). It estimates the
conditional mean field, so it sets the bar for the generator's mean-field error; what it
cannot do is produce the spread of microstates. A plain PyTorch loop: it is a baseline, not a product.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import torch

from nyegan.dataset.augment import augment_batch
from nyegan.gan import physics
from nyegan.gan.config import ModelHParams
from nyegan.gan.data import dataset_tensors
from nyegan.gan.losses import aligned_squared_error
from nyegan.gan.models import Regressor
from nyegan.gan.module import GeometryMaps


class RegressorModel(torch.nn.Module):
    """Regressor + geometry maps + physics layer, with the dataset's normalisation statistics."""

    def __init__(self, hp: ModelHParams, ds):
        super().__init__()
        self.dim = int(ds.attrs["dim"])
        self.grid = tuple(int(g) for g in ds.attrs["grid"])
        self.scheme = str(ds.attrs["difference_scheme"])
        self.hp = hp = physics.applicable(hp, self.dim)
        out_ch = physics.output_channels(hp.physics, self.dim, hp.in_plane_2d)
        scale = np.asarray(ds["alpha_scale"].values, float)
        self.maps = GeometryMaps.from_hparams(self.grid, self.dim, scale[1, 2], hp)
        self.net = Regressor(self.dim, self.maps.n_channels, ds.sizes["feature"], out_ch, hp.width_g, hp.depth,
                             hp.embed)  # fmt: skip
        self.register_buffer("alpha_scale", torch.as_tensor(scale, dtype=torch.float32))
        self.register_buffer("cond_mean", torch.as_tensor(ds["cond_mean"].values, dtype=torch.float32))
        self.register_buffer("cond_std", torch.as_tensor(ds["cond_std"].values, dtype=torch.float32))

    def forward(self, cond, lengths, gb_frac, cores):
        maps = self.maps(cond, gb_frac, lengths, cores)
        raw = self.net(maps, (cond - self.cond_mean) / self.cond_std)
        raw = physics.network_field(raw, maps, cond, lengths, self.hp, self.alpha_scale)
        return physics.fields_from_output(raw, self.hp.physics, lengths, gb_frac, cond, self.alpha_scale, 1.0,
                                          self.dim, self.scheme, self.hp.content_width)  # fmt: skip

    def scaled(self, alpha):
        """Each component over its dataset rms (``physics.per_component_scaled``)."""
        return physics.per_component_scaled(alpha, self.alpha_scale, self.dim)


def train_regressor(ds, hp: ModelHParams, steps: int, batch_size: int, device="cpu", seed: int = 0) -> tuple:
    """Train on the dataset's train split; returns (model in eval mode, training seconds)."""
    torch.manual_seed(seed)
    dev = torch.device(device)
    model = RegressorModel(hp, ds).to(dev)
    data = tuple(t.to(dev) for t in dataset_tensors(ds, "train"))
    opt = torch.optim.Adam(model.parameters(), lr=hp.lr_g, betas=(0.9, 0.99))
    g = torch.Generator(device=dev).manual_seed(seed)
    n = data[0].shape[0]
    t0 = time.perf_counter()
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, n, (batch_size,), generator=g, device=dev)
        real, cond, L, gbf, cores = (t.index_select(0, idx) for t in data)
        o = model.hp  # the settings as they apply to this dataset (physics.applicable)
        real, cond, cores = augment_batch(real, cond, cores, model.dim, generator=g, shift=o.augment_shift,
                                          mirror_x=o.augment_mirror_x, mirror_z=o.augment_mirror_z, gb_frac=gbf,
                                          align_slabs=o.align_slabs)  # fmt: skip
        pred = model(cond, L, gbf, cores)
        if o.rec_aligned:  # the phase along the boundary is free (nyegan.gan.losses)
            loss = aligned_squared_error(model.scaled(pred), model.scaled(real), gbf).mean()
        else:
            loss = ((model.scaled(pred) - model.scaled(real)) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    return model, time.perf_counter() - t0


@torch.no_grad()
def predict(model: RegressorModel, cond, lengths, gb_frac, cores, batch_size: int = 64) -> np.ndarray:
    dev = next(model.parameters()).device
    out = []
    for s in range(0, len(cond), batch_size):
        sl = slice(s, s + batch_size)
        args = [
            torch.as_tensor(np.asarray(a[sl]), dtype=torch.float32, device=dev) for a in (cond, lengths, gb_frac, cores)
        ]
        out.append(model(*args).double().cpu().numpy())
    return np.concatenate(out)


def hparams_dict(hp: ModelHParams) -> dict:
    return asdict(hp)
