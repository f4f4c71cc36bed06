"""Generated fields satisfy the physics by construction; the gradient penalty is exact under DDP."""

import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from _gan_fixtures import tiny_dataset

from nyegan import content, fieldops
from nyegan.dataset import load_dataset
from nyegan.gan import physics
from nyegan.gan.data import dataset_tensors
from nyegan.gan.models import Critic, Generator, gradient_penalty
from nyegan.gan.train import build_model


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return load_dataset(tiny_dataset(tmp_path_factory.mktemp("phys")))


SMALL = dict(nz=8, width_g=4, width_d=4, depth=2, n_down=2, embed=8)


def test_builtin_fields_are_compatible_and_carry_frank_bilby_content(ds):
    torch.manual_seed(0)
    model = build_model(ds, SMALL)
    alpha, cond, L, gbf, cores = dataset_tensors(ds, ("train", "validation", "heldout"))
    # also flip the sign convention of half the conditions
    cond[::2, physics.INDEX["content_sign"]] *= -1
    fake = model.sample(cond, L, gbf, cores, seed=3).double()
    assert fake.abs().max() > 0
    # 2D (averaged along the line z): no W_iz, so alpha_ix = alpha_iy = 0 exactly, as in atomistic fields
    assert float(fake[:, :, :2].abs().max()) == 0.0 and float(alpha[:, :, :2].abs().max()) < 1e-6
    assert float(fieldops.relative_divergence(fake, L.double(), 2).max()) < 1e-5  # float32 round-off
    assert float(fake.mean(dim=(-2, -1)).abs().max() / fake.abs().max()) < 1e-6
    got = content.slab_content(fake, gbf.double(), L[:, 1].double(), 2)
    theta = torch.from_numpy(ds["misorientation_deg"].values).double()
    sign = cond[:, physics.INDEX["content_sign"]].double()
    expect = content.frank_bilby_targets(theta, sign)  # 2 sin(theta/2) e_y, opposite on the two boundaries
    np.testing.assert_allclose(got.numpy(), expect.numpy(), atol=2e-6)


def test_builtin_3d_generator_is_divergence_free():
    torch.manual_seed(0)
    G = Generator(3, n_maps=2, n_cond=5, out_ch=9, width=4, depth=2, embed=8, nz=4, noise_channels=1)
    raw = G(torch.randn(2, 2, 8, 16, 8), torch.randn(2, 5), torch.randn(2, 4), torch.randn(2, 1, 8, 16, 8))
    L = torch.tensor([[10.0, 30.0, 8.0], [12.0, 40.0, 8.0]])
    cond = torch.zeros(2, len(physics.INDEX))
    a = physics.fields_from_output(raw, "builtin", L, torch.tensor([[0.25, 0.75]] * 2), cond, torch.ones(3, 3), 1.0, 3)
    assert a.shape == (2, 3, 3, 8, 16, 8)
    assert float(fieldops.relative_divergence(a.detach().double(), L.double(), 3).max()) < 1e-5


def test_penalty_mode_is_unconstrained_but_differentiable(ds):
    torch.manual_seed(0)
    model = build_model(ds, dict(SMALL, physics="penalty"))
    _, cond, L, gbf, cores = dataset_tensors(ds, "train")
    model.on_fit_start()
    fake = model.fields(model.latent(len(cond)), cond, L, gbf, cores)
    res = physics.physics_residuals(fake, L, gbf, cond, 2)
    assert res["div_rel"] > 1e-6 and res["content_err"] > 1e-3  # nothing enforced (the built-in layer gives 0)
    pen = physics.penalty_terms(fake, L, gbf, cond, model.alpha_scale, 2)
    sum(pen.values()).backward()
    assert all(p.grad is not None for p in model.generator.parameters() if p.requires_grad)


def _critic(C):
    return Critic(2, 9, 2, C, width=4, n_down=2, embed=8)


def _gp_worker(rank, world, port, real, fake, maps, c, state, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    critic = _critic(c.shape[1])
    critic.load_state_dict(state)
    ddp = torch.nn.parallel.DistributedDataParallel(critic)
    sl = slice(rank * len(real) // world, (rank + 1) * len(real) // world)
    g = torch.Generator().manual_seed(100 + rank)
    loss = (
        ddp(fake[sl], maps[sl], c[sl]).mean()
        - ddp(real[sl], maps[sl], c[sl]).mean()
        + 10 * gradient_penalty(ddp, real[sl], fake[sl], maps[sl], c[sl], g)
    )
    loss.backward()
    if rank == 0:
        torch.save([p.grad.clone() for p in critic.parameters()], out)
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.slow
def test_gradient_penalty_is_exact_under_ddp(tmp_path):
    """Two gloo ranks with half batches each give the gradient of the full-batch WGAN-GP critic loss."""
    torch.manual_seed(0)
    B, C = 8, 5
    real, fake, c = torch.randn(B, 9, 8, 16), torch.randn(B, 9, 8, 16), torch.randn(B, C)
    maps = torch.randn(B, 2, 8, 16)
    critic = _critic(C)
    out = tmp_path / "grads.pt"
    port = 29500 + os.getpid() % 1000
    mp.spawn(_gp_worker, args=(2, port, real, fake, maps, c, critic.state_dict(), str(out)), nprocs=2, join=True)
    ddp_grads = torch.load(out)
    # single process, same interpolation draws per half batch
    loss = 0.0
    for rank in range(2):
        sl = slice(rank * B // 2, (rank + 1) * B // 2)
        g = torch.Generator().manual_seed(100 + rank)
        part = (
            critic(fake[sl], maps[sl], c[sl]).mean()
            - critic(real[sl], maps[sl], c[sl]).mean()
            + 10 * gradient_penalty(critic, real[sl], fake[sl], maps[sl], c[sl], g)
        )
        loss = loss + part / 2
    loss.backward()
    for p, gd in zip(critic.parameters(), ddp_grads):
        torch.testing.assert_close(gd, p.grad, rtol=1e-4, atol=1e-6)


def test_3d_dataset_and_generator(tmp_path):
    """3D per-case fields (i, j, x, y, z) -> 3D dataset -> generated 3D fields with the built-in physics."""
    import xarray as xr

    from nyegan.dataset import build_dataset
    from nyegan.gan import synthetic

    nye, meta = [], []
    for k, theta in enumerate((10.0, 20.0, 30.0)):
        name = f"gb3d_{k}"
        synthetic.write_case(tmp_path, name, "gb", theta, (16.0, 60.0, 8.0), grid=(16, 32), seed=k)
        p = tmp_path / "nye" / f"{name}.nc"
        with xr.open_dataset(p) as d2:
            d2 = d2.load()
        nz = 8
        a3 = d2["alpha"].expand_dims(z=(np.arange(nz) + 0.5) * 8.0 / nz).transpose("i", "j", "x", "y", "z")
        xr.Dataset({"alpha": a3}, attrs=d2.attrs).to_netcdf(p)  # z-independent 3D field (still div-free)
        nye.append(p)
        meta.append(tmp_path / "structures" / f"{name}.json")
    ds = build_dataset(nye, meta, tmp_path / "d3.nc", grid=(16, 32, 8), dim=3, heldout_misorientations=[])
    assert ds["alpha"].dims == ("sample", "i", "j", "x", "y", "z")
    np.testing.assert_allclose(ds["content"].values[:, 0, 1], 2 * np.sin(np.radians([10.0, 20.0, 30.0]) / 2), rtol=1e-4)
    model = build_model(ds, dict(SMALL, nz=4))
    alpha, cond, L, gbf, cores = dataset_tensors(ds, ("train", "validation"))
    fake = model.sample(cond, L, gbf, cores, seed=0).double()
    assert fake.shape[1:] == (3, 3, 16, 32, 8)
    assert float(fieldops.relative_divergence(fake, L.double(), 3).max()) < 1e-5
    got = content.slab_content(fake, gbf.double(), L[:, 1].double(), 3)
    np.testing.assert_allclose(got[:, 0, 1].numpy(), cond[:, physics.INDEX["fb_content"]].double().numpy(), rtol=1e-5)
    # the critic runs on 3D fields too
    maps = model.maps(cond, gbf, L, cores)
    assert model.critic(model.critic_input(fake.float()), maps, model.normalise(cond)).shape == (len(cond),)


def test_wall_map_carries_the_frank_bilby_content_and_follows_the_alignment_rule():
    # the optional wall map: each boundary's slab holds the Frank-Bilby content 2 sin(theta/2) (opposite signs),
    # in n = round(c Lx / b) cores; a low-angle cell (one dislocation per CSL period) has its core where the
    # dataset's alignment rule puts the atomistic core: the map is already aligned
    import torch

    from nyegan import content
    from nyegan.dataset.align import alignment_shifts
    from nyegan.dataset.conditions import FEATURES, INDEX
    from nyegan.gan.inputs import WALL_BURGERS_A, wall_map

    nx, ny = 32, 64
    theta = torch.tensor([12.68, 36.87])
    c = 2 * torch.sin(torch.deg2rad(theta) / 2)
    cond = torch.zeros(2, len(FEATURES))
    cond[:, INDEX["kind_gb"]] = 1.0
    cond[:, INDEX["fb_content"]] = c
    cond[:, INDEX["content_sign"]] = torch.tensor([1.0, -1.0])
    cond[:, INDEX["periods_x"]] = 1.0
    Lx = torch.tensor([WALL_BURGERS_A / float(c[0]), 12.8])  # one dislocation per cell in the first
    L = torch.stack([Lx, torch.tensor([60.0, 60.0])], dim=1)
    gbf = torch.tensor([[0.25, 0.75], [0.25, 0.75]])
    w = wall_map(cond, gbf, L, (nx, ny)).double()
    alpha = torch.zeros(2, 3, 3, nx, ny, dtype=torch.float64)
    alpha[:, 1, 2] = w
    B = content.slab_content(alpha, gbf.double(), L[:, 1].double(), 2)  # (2, slab, component)
    signed = (c * cond[:, INDEX["content_sign"]]).double()
    torch.testing.assert_close(B[:, 0, 1], signed, rtol=1e-6, atol=0)
    torch.testing.assert_close(B[:, 1, 1], -signed, rtol=1e-6, atol=0)
    s = alignment_shifts(alpha, gbf.double(), cond[:, INDEX["periods_x"]].double(), 2)
    assert min(float(s[0]), 1 - float(s[0])) < 1e-6
    row = w[0, :, 16]  # through the first boundary (y = 1/4)
    assert int(row.argmax()) in (0, nx - 1)  # the core at x = 0 (the zero-phase position of positive content)
    assert row.max() > 5 * row.min().clamp(min=1e-12)  # a discrete core, not a line


def test_wall_puts_the_same_number_of_cores_in_every_period():
    # Σ37(610) about [001]: with b = a0/√2, c Lx / b = 2.83 dislocations per CSL period. The structure seen along z
    # repeats twice per CSL period (periods_x = 2 in a 2D dataset), so the wall holds 2 cores, one per projected
    # period, each carrying half the content; with periods_x = 1 the nearest whole count, 3; with the wall's own
    # Burgers vector (a0[100], the wall_burgers_A condition) c Lx / b = 2 exactly, whatever periods_x says
    import torch

    from nyegan.dataset.conditions import FEATURES, INDEX
    from nyegan.gan.inputs import wall_map

    nx, ny = 64, 64
    theta = torch.full((3,), 18.92)
    cond = torch.zeros(3, len(FEATURES))
    cond[:, INDEX["kind_gb"]] = 1.0
    cond[:, INDEX["fb_content"]] = 2 * torch.sin(torch.deg2rad(theta) / 2)
    cond[:, INDEX["content_sign"]] = 1.0
    cond[:, INDEX["periods_x"]] = torch.tensor([2.0, 1.0, 1.0])
    cond[2, INDEX["wall_burgers_A"]] = 4.05
    L = torch.tensor([[24.6, 60.0]] * 3)
    gbf = torch.tensor([[0.25, 0.75]] * 3)
    row = wall_map(cond, gbf, L, (nx, ny), width=1.0)[:, :, 16]  # through the first boundary
    top = row.max(1, keepdim=True).values
    peaks = (row > torch.roll(row, 1, 1)) & (row > torch.roll(row, -1, 1)) & (row > 0.5 * top)
    assert peaks.sum(1).tolist() == [2, 3, 2]
    spectrum = torch.fft.rfft(row[0]).abs()
    assert int(spectrum[1:].argmax()) + 1 == 2  # the wall repeats with the projected period


def test_wall_residual_of_a_zero_network_is_the_wall():
    # gan.wall_residual: a network that outputs zero gives exactly the dislocation wall (in 1/Å), whose content
    # already matches Frank-Bilby, so the content projection adds nothing
    import torch

    from nyegan.dataset.conditions import FEATURES, INDEX
    from nyegan.gan import physics
    from nyegan.gan.inputs import wall_map
    from nyegan.gan.module import GeometryMaps

    nx, ny = 16, 32
    cond = torch.zeros(1, len(FEATURES))
    cond[0, INDEX["kind_gb"]] = 1.0
    cond[0, INDEX["fb_content"]] = 0.3
    cond[0, INDEX["content_sign"]] = -1.0
    cond[0, INDEX["periods_x"]] = 1.0
    L = torch.tensor([[19.0, 50.0]])
    gbf = torch.tensor([[0.25, 0.75]])
    scale = torch.full((3, 3), 0.02)
    scale[1, 2] = 0.07
    maps = GeometryMaps((nx, ny), 2, float(scale[1, 2]), wall=True)(cond, gbf, L, torch.full((1, 4, 3), float("nan")))
    raw = physics.add_wall(torch.zeros(1, 3, nx, ny), maps)
    alpha = physics.fields_from_output(raw, "builtin", L, gbf, cond, scale, 1.0, 2)
    wall = wall_map(cond, gbf, L, (nx, ny))  # 1/Å
    assert float(wall.abs().max()) > 0.01
    torch.testing.assert_close(alpha[0, 1, 2], wall[0], rtol=0, atol=1e-6 * float(wall.abs().max()))
    assert float(alpha[0, 0, 2].abs().max()) == 0.0 and float(alpha[0, 2, 2].abs().max()) == 0.0


def test_core_residual_of_a_zero_network_is_the_volterra_field_of_the_given_dislocations():
    # gan.core_residual: a zero network draws each given dislocation with exactly its Burgers vector, where it is
    # (the dataset's own presence test finds them); a cell without dislocations gets nothing
    from dataclasses import replace

    from nyegan.dataset.conditions import FEATURES, INDEX
    from nyegan.dataset.cores import dislocations_present
    from nyegan.gan.config import GanSettings
    from nyegan.gan.module import GeometryMaps

    nx, ny = 32, 64
    L = torch.tensor([[36.0, 150.0]] * 2)
    gbf = torch.tensor([[0.25, 0.75]] * 2)
    b_feat = torch.tensor([0.25, 0.0, 0.4330127])  # burgers_box / a0 of a mixed dislocation
    cond = torch.zeros(2, len(FEATURES))
    cond[:, INDEX["kind_gb_dislocation"]] = 1.0
    cond[0, INDEX["burgers_x"] : INDEX["burgers_z"] + 1] = b_feat
    cores = torch.full((2, 4, 3), float("nan"))
    cores[0, 0] = torch.tensor([0.2, 0.35, 1.0])
    cores[0, 1] = torch.tensor([0.7, 0.65, -1.0])
    scale = torch.full((3, 3), 0.02)
    maps = GeometryMaps((nx, ny), 2, 0.07)(cond, gbf, L, cores)
    hp = replace(GanSettings.defaults().model, core_residual=True, wall_residual=False, localise=False)
    raw = physics.network_field(torch.zeros(2, 3, nx, ny), maps, cond, L, hp, scale)
    alpha = raw * scale[:, 2].reshape(1, 3, 1, 1)  # 1/Å
    b = (b_feat * physics.AL_A0).double()
    dA = 36.0 / nx * 150.0 / ny
    lower = ((torch.arange(ny) + 0.5) / ny) < 0.5
    torch.testing.assert_close(alpha[0][:, :, lower].sum(dim=(1, 2)).double() * dA, b, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(alpha[0].sum(dim=(1, 2)).double() * dA, torch.zeros(3, dtype=b.dtype), atol=1e-5, rtol=0)
    field = np.zeros((3, 3, nx, ny))
    field[:, 2] = alpha[0].numpy()
    assert dislocations_present(field, cores[0].numpy(), (36.0, 150.0), b.numpy(), 2)[:2].all()
    assert float(alpha[1].abs().max()) == 0.0
    with pytest.raises(ValueError, match="alpha_scale"):
        physics.network_field(torch.zeros(2, 3, nx, ny), maps, cond, L, hp)
    assert not physics.applicable(replace(hp, physics="penalty"), 2).core_residual


def test_localised_output_vanishes_in_the_grains_and_keeps_the_content():
    # gan.localise: whatever the network outputs, the field far from the boundaries (perfect crystal) is ~0,
    # while the slab contents stay the Frank-Bilby ones
    import torch

    from nyegan import content
    from nyegan.dataset.conditions import FEATURES, INDEX
    from nyegan.gan import physics
    from nyegan.gan.module import GeometryMaps

    class HP:
        localise, wall_residual, periodic_x, band_limit_A, core_residual = True, False, False, 0.0, False

    nx, ny = 16, 64
    cond = torch.zeros(1, len(FEATURES))
    cond[0, INDEX["kind_gb"]] = 1.0
    cond[0, INDEX["fb_content"]] = 0.5
    cond[0, INDEX["content_sign"]] = 1.0
    L = torch.tensor([[20.0, 80.0]])
    gbf = torch.tensor([[0.25, 0.75]])
    maps = GeometryMaps((nx, ny), 2, 0.1)(cond, gbf, L, torch.full((1, 4, 3), float("nan")))
    raw = torch.randn(1, 3, nx, ny, generator=torch.Generator().manual_seed(0))
    alpha = physics.fields_from_output(physics.network_field(raw, maps, cond, L, HP), "builtin", L, gbf, cond,
                                       torch.full((3, 3), 0.1), 1.0, 2)  # fmt: skip
    col = alpha[0, :, 2]  # (3, nx, ny)
    mid = col[..., ny // 2 - 1 : ny // 2 + 1].abs().max()  # 20 Å from both boundaries
    near = col[..., ny // 4 - 2 : ny // 4 + 2].abs().max()
    assert float(mid) < 0.01 * float(near)
    B = content.slab_content(alpha, gbf, L[:, 1], 2)
    torch.testing.assert_close(B[0, :, 1], torch.tensor([0.5, -0.5]), rtol=1e-5, atol=1e-6)


def test_periodic_projection_keeps_the_boundary_period_and_the_physics():
    # gan.periodic_x: a boundary cell with m periods along x keeps only the x modes q = 0, m, 2m, ... of the
    # network output (whatever the output), a field of that period passes unchanged, a boundary + dislocation
    # cell passes unchanged, and the built-in physics still gives the Frank-Bilby slab contents
    import torch

    from nyegan import content
    from nyegan.dataset.conditions import FEATURES, INDEX
    from nyegan.gan import physics

    nx, ny, m = 32, 48, 3  # nx not a multiple of m: the projection works on modes, not on grid shifts
    cond = torch.zeros(2, len(FEATURES))
    cond[0, INDEX["kind_gb"]] = 1.0
    cond[1, INDEX["kind_gb_dislocation"]] = 1.0
    cond[:, INDEX["periods_x"]] = m
    cond[:, INDEX["fb_content"]] = 0.4
    cond[:, INDEX["content_sign"]] = 1.0
    raw = torch.randn(2, 3, nx, ny, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = physics.periodic_projection(raw, cond)
    spec = torch.fft.rfft(out[0], dim=1).abs()  # (3, nx//2 + 1, ny)
    q = torch.arange(nx // 2 + 1)
    assert float(spec[:, q % m != 0].max()) < 1e-10 * float(spec.max())
    assert float(spec[:, q == m].min()) > 0.0  # the boundary's own modes survive
    torch.testing.assert_close(out[1], raw[1])  # dislocations break the period: left free
    x = (torch.arange(nx, dtype=torch.float64) + 0.5) / nx
    periodic = torch.cos(2 * torch.pi * m * x)[None, :, None] + 0.3 * torch.sin(4 * torch.pi * m * x)[None, :, None]
    periodic = periodic * torch.exp(-(torch.linspace(-3, 3, ny, dtype=torch.float64) ** 2))[None, None, :]
    torch.testing.assert_close(physics.periodic_projection(periodic.expand(1, 3, nx, ny), cond[:1])[0],
                               periodic.expand(3, nx, ny))  # fmt: skip

    class HP:
        localise, wall_residual, periodic_x, band_limit_A, core_residual = False, False, True, 0.0, False

    L = torch.tensor([[30.0, 80.0], [30.0, 80.0]])
    gbf = torch.tensor([[0.25, 0.75], [0.25, 0.75]])
    maps = torch.zeros(2, 1, nx, ny)
    alpha = physics.fields_from_output(physics.network_field(raw.float(), maps, cond, L, HP), "builtin", L, gbf, cond,
                                       torch.full((3, 3), 0.1), 1.0, 2)  # fmt: skip
    spec = torch.fft.rfft(alpha[0, :, 2] - alpha[0, :, 2].mean(dim=1, keepdim=True), dim=1).abs()
    assert float(spec[:, q % m != 0].max()) < 1e-5 * float(spec.max())
    B = content.slab_content(alpha, gbf, L[:, 1], 2)
    torch.testing.assert_close(B[0, :, 1], torch.tensor([0.4, -0.4]), rtol=1e-5, atol=1e-6)  # boundary cell


def _axis_condition(axis, kind="kind_gb"):
    """Raw conditions of a 20 degree tilt cell about ``axis`` (canonical features: sorted |unit components|)."""
    import numpy as np
    import torch

    from nyegan.dataset.conditions import FEATURES, INDEX, _canonical_direction

    f = torch.zeros(len(FEATURES))
    f[INDEX[kind]] = 1.0
    if np.any(axis):
        f[INDEX["axis_a"] : INDEX["axis_c"] + 1] = torch.as_tensor(_canonical_direction(axis))
        f[INDEX["fb_content"]] = 2 * np.sin(np.radians(10.0))
        f[INDEX["content_sign"]] = 1.0
    return f


def test_in_plane_components_only_where_no_mirror_is_normal_to_the_axis():
    # a mirror plane normal to z (cubic <100>, <110>) maps W_iz to -W_iz: no in-plane 2D components there;
    # <111> (ABC stacking) and a general axis have none, so W_iz is allowed; cells without a boundary get none
    import torch

    from nyegan.gan import physics

    cond = torch.stack([_axis_condition(a) for a in ([0, 0, 1], [1, -1, 0], [1, 1, 1], [1, 2, 3])]
                       + [_axis_condition([1, 1, 1], "kind_gb_dislocation"), _axis_condition([0, 0, 0], "kind_dislocation")])  # fmt: skip
    assert physics.in_plane_allowed(cond).tolist() == [False, False, True, True, True, False]


def test_in_plane_field_is_divergence_free_keeps_the_content_and_inverts():
    # gan.in_plane_2d: the six output maps give alpha_iz plus alpha_ix = d_y W_iz, alpha_iy = -d_x W_iz on a
    # <111> cell (div alpha = 0 for every difference scheme, slab contents the Frank-Bilby ones) and exactly zero
    # in-plane components on a <100> cell; the potential recovered from the field gives the same field back
    import torch

    from nyegan import content, fieldops
    from nyegan.gan import physics

    nx, ny = 24, 48
    cond = torch.stack([_axis_condition([1, 1, 1]), _axis_condition([0, 0, 1])])
    L = torch.tensor([[30.0, 80.0], [30.0, 80.0]])
    gbf = torch.tensor([[0.25, 0.75], [0.25, 0.75]])
    scale = torch.full((3, 3), 0.05)
    raw = torch.randn(2, 6, nx, ny, generator=torch.Generator().manual_seed(3))
    for scheme in ("spectral", "central"):
        alpha = physics.fields_from_output(raw, "builtin", L, gbf, cond, scale, 1.0, 2, scheme).double()
        inplane = alpha[:, :, :2]
        assert float(inplane[0].abs().max()) > 0.01 and float(inplane[1].abs().max()) == 0.0
        div = fieldops.relative_divergence(alpha, L.double(), 2, scheme)
        assert float(div.max()) < 1e-6
        B = content.slab_content(alpha, gbf.double(), L[:, 1].double(), 2)
        fb = float(cond[0, 3])  # fb_content = 2 sin(10 deg)
        torch.testing.assert_close(B[:, :, 1], torch.tensor([[fb, -fb], [fb, -fb]], dtype=torch.float64),
                                   rtol=1e-5, atol=1e-6)  # fmt: skip
        w = physics.in_plane_channels(alpha, L, scale, scheme)
        again = physics.in_plane_field(w, cond, L, scale, scheme)
        torch.testing.assert_close(again[0, :, :2].double(), inplane[0], rtol=0, atol=1e-5 * float(inplane.abs().max()))


def test_band_limit_removes_only_scales_finer_than_the_wavelength():
    # gan.band_limit_A: modes with |k| > 1/lambda (cycles/Å, each sample with its own cell) vanish, a field made
    # of longer waves passes unchanged, in 2D and 3D
    import torch

    from nyegan.gan import physics

    gen = torch.Generator().manual_seed(2)
    for grid, L in (((32, 48), [[20.0, 40.0], [30.0, 30.0]]), ((8, 12, 6), [[10.0, 12.0, 6.0], [8.0, 16.0, 9.0]])):
        dim = len(grid)
        lengths = torch.tensor(L, dtype=torch.float64)
        raw = torch.randn((2, 3) + grid, generator=gen, dtype=torch.float64)
        out = physics.band_limit(raw, lengths, 3.0)
        for b in range(2):
            f = torch.fft.fftn(out[b], dim=tuple(range(1, 1 + dim))).abs()
            k2 = sum((torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64) / lengths[b, a]).reshape(
                     [n if d == a else 1 for d in range(dim)]) ** 2 for a, n in enumerate(grid))  # fmt: skip
            assert float(f[:, k2 > 1 / 9.0].max()) < 1e-10 * float(f.max())
            assert float(f[:, (k2 > 0) & (k2 < 1 / 16.0)].min()) > 0.0  # longer waves survive
        smooth = physics.band_limit(out, lengths, 3.0)
        torch.testing.assert_close(smooth, out)  # a projection: band-limited fields pass unchanged
