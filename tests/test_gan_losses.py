"""The aligned training error (best x shift per boundary slab) and checkpoints written before a key existed."""

from dataclasses import asdict, replace

import numpy as np
import pytest
import torch

from nyegan.gan.losses import aligned_squared_error, slab_masks


def _fields(seed=0, B=3, nx=16, ny=12):
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(B, 3, 3, nx, ny, dtype=torch.float64, generator=g)
    r = torch.randn(B, 3, 3, nx, ny, dtype=torch.float64, generator=g)
    gbf = torch.tensor([[0.25, 0.75], [0.3, 0.8], [0.1, 0.6]], dtype=torch.float64)[:B]
    return p, r, gbf


def test_aligned_error_is_the_minimum_over_rolls_in_each_slab():
    p, r, gbf = _fields()
    B, nx, ny = p.shape[0], p.shape[3], p.shape[4]
    masks = slab_masks(gbf, ny).double()
    brute = torch.zeros(B, dtype=torch.float64)
    for s in (0, 1):
        m = masks[:, s].reshape(B, 1, 1, 1, ny)
        d = torch.stack([(((torch.roll(p, -k, dims=3) - r) ** 2) * m).sum(dim=(1, 2, 3, 4)) for k in range(nx)], 1)
        brute += d.min(dim=1).values
    got = aligned_squared_error(p, r, gbf)
    torch.testing.assert_close(got, brute / p[0].numel())
    assert (got <= ((p - r) ** 2).mean(dim=(1, 2, 3, 4)) + 1e-12).all()
    # every row belongs to exactly one slab, the one of the nearer boundary
    assert torch.equal(masks.sum(dim=1), torch.ones(B, ny))
    y = (torch.arange(ny) + 0.5) / ny
    assert masks[0, 0, (y - 0.25).abs() < 0.2].all() and masks[0, 1, (y - 0.75).abs() < 0.2].all()


def test_translating_each_boundary_slab_costs_nothing():
    # a field whose two slabs are translated rigidly along x, by different amounts, is the same boundary state
    _, r, gbf = _fields(B=1)
    masks = slab_masks(gbf, r.shape[4])[0].bool()
    moved = r.clone()
    moved[..., masks[0]] = torch.roll(r[..., masks[0]], 5, dims=3)
    moved[..., masks[1]] = torch.roll(r[..., masks[1]], -3, dims=3)
    assert float(aligned_squared_error(moved, r, gbf)[0]) < 1e-12
    assert float(((moved - r) ** 2).mean()) > 0.5


def test_a_dephased_modulation_keeps_its_strength_under_the_aligned_error():
    # The modulation of a boundary at a phase the network cannot know: the pointwise error is smallest for a
    # shrunken copy (a = cos of the phase error, 0 at a quarter period), the aligned error at full strength.
    nx, ny = 32, 8
    x = (torch.arange(nx, dtype=torch.float64) + 0.5) / nx
    gbf = torch.tensor([[0.25, 0.75]], dtype=torch.float64)
    real = torch.zeros(1, 3, 3, nx, ny, dtype=torch.float64)
    real[0, 1, 2] = torch.cos(2 * np.pi * 2 * x)[:, None]  # two units per cell along the boundary
    quarter = torch.cos(2 * np.pi * 2 * x + np.pi / 2)[:, None]
    amps = torch.linspace(0.0, 1.5, 31, dtype=torch.float64)
    point, aligned = [], []
    for a in amps:
        pred = torch.zeros_like(real)
        pred[0, 1, 2] = a * quarter
        point.append(float(((pred - real) ** 2).mean()))
        aligned.append(float(aligned_squared_error(pred, real, gbf)[0]))
    assert float(amps[int(np.argmin(point))]) == pytest.approx(0.0)
    assert float(amps[int(np.argmin(aligned))]) == pytest.approx(1.0)


def test_gradients_flow_through_the_best_shift():
    p, r, gbf = _fields(B=2)
    p.requires_grad_(True)
    aligned_squared_error(p, r, gbf).sum().backward()
    assert torch.isfinite(p.grad).all() and float(p.grad.abs().max()) > 0
    # 3D fields (a trailing z axis) are compared with the same shifts along x for every z
    p3 = torch.stack([p.detach(), p.detach()], dim=-1)
    r3 = torch.stack([r, r], dim=-1)
    torch.testing.assert_close(aligned_squared_error(p3, r3, gbf), aligned_squared_error(p.detach(), r, gbf))


def test_saved_hyper_parameters_missing_newer_keys_take_the_schema_defaults():
    from nyegan.gan.config import GanSettings, ModelHParams

    defaults = GanSettings.defaults().model
    old = {k: v for k, v in asdict(defaults).items() if k not in ("rec_aligned", "secondary_wall_map", "core_residual")}
    old["nz"] = 7
    old["an_option_since_removed"] = 1.0
    hp = ModelHParams.from_saved(old)
    assert hp.nz == 7
    assert hp.rec_aligned == defaults.rec_aligned and hp.secondary_wall_map == defaults.secondary_wall_map
    # an option whose default changes what a network computes: a model trained before it had it off
    assert defaults.core_residual and not hp.core_residual
    assert asdict(hp) == {**asdict(defaults), "nz": 7, "core_residual": False}
    assert ModelHParams.from_saved(asdict(defaults)) == defaults  # a model saved with the key keeps its value


def test_both_networks_train_with_the_aligned_error(tmp_path):
    from _gan_fixtures import TINY_GAN, tiny_dataset

    from nyegan.dataset import load_dataset
    from nyegan.gan.config import GanSettings
    from nyegan.gan.regressor import train_regressor
    from nyegan.gan.train import load_model, train

    torch.set_num_threads(1)
    path = tiny_dataset(tmp_path)
    model = load_model(train(path, tmp_path / "wgan", {**TINY_GAN, "images": False, "rec_aligned": True}))
    assert model.hp.rec_aligned
    ds = load_dataset(path)
    args = [torch.tensor(ds[k].values[:2], dtype=torch.float32) for k in ("cond", "cell_lengths", "gb_frac", "cores")]
    assert torch.isfinite(model.sample(*args, seed=0)).all()
    hp = GanSettings.from_config({"width_g": 4, "depth": 2, "embed": 8}).model
    nets = [train_regressor(ds, replace(hp, rec_aligned=a), steps=5, batch_size=4)[0] for a in (False, True)]
    # the same seed and batches: only the loss differs, and it changes what is learned
    assert not all(torch.equal(p, q) for p, q in zip(nets[0].parameters(), nets[1].parameters(), strict=True))
