"""Augmentations: alpha is a pseudo-tensor; div alpha = 0 and the Burgers content transform by theory."""

import numpy as np
import pytest
import torch

from nyegan import content, fieldops
from nyegan.dataset.augment import apply_mirror, augment, roll_batch
from nyegan.dataset.conditions import FEATURES, INDEX
from nyegan.gan import synthetic

L2 = torch.tensor([[20.0, 80.0]], dtype=torch.float64)
GBF = torch.tensor([[0.25, 0.75]], dtype=torch.float64)


def _cond(B=1):
    c = torch.zeros(B, len(FEATURES), dtype=torch.float64)
    c[:, INDEX["content_sign"]] = 1.0
    c[:, INDEX["burgers_x"]] = 0.3
    c[:, INDEX["burgers_y"]] = 0.2
    c[:, INDEX["burgers_z"]] = 0.1
    return c


def _mirror_true_tensor(W, signs, dim):
    """Distortion is a true tensor: W'_il(x') = s_i s_l W_il(Q x)."""
    s = torch.tensor(signs, dtype=W.dtype)
    out = W * (s[:, None] * s[None, :]).reshape((1, 3, 3) + (1,) * dim)
    for ax in range(dim):
        if signs[ax] < 0:
            out = torch.flip(out, dims=(W.ndim - dim + ax,))
    return out


@pytest.mark.parametrize("scheme", ["spectral", "central"])
@pytest.mark.parametrize("signs", [(-1, 1, 1), (1, 1, -1)])
def test_mirror_law_matches_curl_of_mirrored_distortion(scheme, signs):
    torch.manual_seed(1)
    W = torch.randn(2, 3, 3, 16, 24, dtype=torch.float64)
    L = torch.tensor([[20.0, 30.0]] * 2, dtype=torch.float64)
    a = fieldops.curl(W, L, 2, scheme)
    am, _ = apply_mirror(a, _cond(2), signs, 2)
    expect = fieldops.curl(_mirror_true_tensor(W, signs, 2), L, 2, scheme)
    np.testing.assert_allclose(am.numpy(), expect.numpy(), atol=1e-12)
    assert float(fieldops.divergence(am, L, 2, scheme).abs().max()) < 1e-11


def test_mirror_3d_law():
    torch.manual_seed(2)
    W = torch.randn(1, 3, 3, 8, 10, 6, dtype=torch.float64)
    L = [8.0, 10.0, 6.0]
    for signs in [(-1, 1, 1), (1, 1, -1)]:
        a = fieldops.curl(W, L, 3)
        am, _ = apply_mirror(a, _cond(), signs, 3)
        expect = fieldops.curl(_mirror_true_tensor(W, signs, 3), L, 3)
        np.testing.assert_allclose(am.numpy(), expect.numpy(), atol=1e-12)


def test_mirror_x_flips_tilt_boundary_content_and_sign_condition():
    a = torch.from_numpy(synthetic.tilt_gb_field(20.0, (20.0, 80.0), (32, 64), seed=3))[None]
    c0 = content.slab_content(a, GBF, L2[:, 1], 2)
    am, cm = apply_mirror(a, _cond(), (-1, 1, 1), 2)
    c1 = content.slab_content(am, GBF, L2[:, 1], 2)
    # B'_i = det(Q) s_z s_i B_i = (+1, -1, -1) * B_i
    np.testing.assert_allclose(
        c1.numpy(), (c0 * torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)).numpy(), atol=1e-14
    )
    np.testing.assert_allclose(c1[0, 0, 1].item(), -2 * np.sin(np.radians(10.0)), rtol=1e-10)
    assert cm[0, INDEX["content_sign"]] == -1.0
    assert torch.allclose(
        cm[0, INDEX["burgers_x"] : INDEX["burgers_z"] + 1], torch.tensor([0.3, -0.2, -0.1], dtype=torch.float64)
    )
    back, cb = apply_mirror(am, cm, (-1, 1, 1), 2)
    np.testing.assert_allclose(back.numpy(), a.numpy(), atol=1e-15)
    assert cb[0, INDEX["content_sign"]] == 1.0


def test_mirror_z_reverses_screw_content_only():
    b = 4.05 / np.sqrt(2)
    a = torch.from_numpy(synthetic.dislocation_dipole_field((b / 2, 0.0, b * 0.8), (40.0, 40.0), (32, 32)))[None]
    L = torch.tensor([40.0], dtype=torch.float64)
    c0 = content.slab_content(a, GBF, L, 2)
    am, _ = apply_mirror(a, _cond(), (1, 1, -1), 2)
    c1 = content.slab_content(am, GBF, L, 2)
    np.testing.assert_allclose(
        c1.numpy(), (c0 * torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)).numpy(), atol=1e-14
    )


def test_random_augment_keeps_divergence_and_content():
    a = torch.from_numpy(
        np.stack(
            [synthetic.tilt_gb_field(t, (20.0, 80.0), (32, 64), seed=k) for k, t in enumerate((12.0, 24.0, 36.0, 48.0))]
        )
    )
    L = L2.repeat(4, 1)
    gbf = GBF.repeat(4, 1)
    cond = _cond(4)
    g = torch.Generator().manual_seed(0)
    aa, cc = augment(a, cond, 2, generator=g)
    assert float(fieldops.divergence(aa, L, 2).abs().max()) < 1e-12
    c0 = content.slab_content(a, gbf, L[:, 1], 2)
    c1 = content.slab_content(aa, gbf, L[:, 1], 2)
    flip = cc[:, INDEX["content_sign"]] / cond[:, INDEX["content_sign"]]
    np.testing.assert_allclose(c1[:, 0, 1].numpy(), (flip * c0[:, 0, 1]).numpy(), atol=1e-14)
    # pure shifts keep the field's statistics and content
    r = roll_batch(a, torch.tensor([3, 0, 7, 31]), 3)
    np.testing.assert_allclose(content.slab_content(r, gbf, L[:, 1], 2).numpy(), c0.numpy(), atol=1e-14)
    assert torch.equal(r[1], a[1]) and torch.equal(r[0, ..., 3, :], a[0, ..., 0, :])


def test_batch_augmentation_moves_cores_and_keeps_units_aligned():
    # shifts by whole CSL periods keep an x-aligned boundary aligned; cores follow the field; mirror x flips them
    import torch

    from nyegan.dataset.augment import augment_batch
    from nyegan.dataset.conditions import FEATURES, INDEX

    nx, ny = 32, 16
    x = (torch.arange(nx) + 0.5) / nx
    field = torch.zeros(2, 3, 3, nx, ny)
    field[0, 1, 2] = torch.cos(2 * torch.pi * 4 * x)[:, None]  # a boundary with m = 4 periods
    field[1, 1, 2, 5, 3] = 1.0  # a dislocation core at node (5, 3)
    cond = torch.zeros(2, len(FEATURES))
    cond[0, INDEX["periods_x"]] = 4.0
    cond[:, INDEX["content_sign"]] = 1.0
    cores = torch.full((2, 4, 3), float("nan"))
    cores[1, 0] = torch.tensor([(5 + 0.5) / nx, (3 + 0.5) / ny, 1.0])
    for seed in range(5):
        g = torch.Generator().manual_seed(seed)
        a, c, k = augment_batch(field, cond, cores, 2, generator=g, shift=True, mirror_x=False, mirror_z=False)
        assert torch.allclose(a[0], field[0], atol=1e-6)  # units stay where the alignment put them
        i = int(a[1, 1, 2].abs().amax(dim=1).argmax())
        assert abs(float(k[1, 0, 0]) - (i + 0.5) / nx) < 1e-6  # the core moved with the field
    # m = 3 periods on 32 grid steps: a whole period is not a whole number of steps, the shift stays exact
    three = torch.zeros(1, 3, 3, nx, ny, dtype=torch.float64)
    three[0, 1, 2] = torch.cos(2 * torch.pi * 3 * x.double())[:, None]
    c3 = torch.zeros(1, len(FEATURES), dtype=torch.float64)
    c3[0, INDEX["periods_x"]] = 3.0
    moved = 0
    for seed in range(6):
        g = torch.Generator().manual_seed(seed)
        a, _, _ = augment_batch(three, c3, torch.full((1, 4, 3), float("nan")), 2, generator=g, shift=True,
                                mirror_x=False, mirror_z=False)  # fmt: skip
        assert torch.allclose(a, three, atol=1e-9)
        moved += int(not torch.equal(a, three))
    assert moved  # some seeds did shift (by a whole period)
    g = torch.Generator().manual_seed(0)
    a, c, k = augment_batch(field, cond, cores, 2, generator=g, shift=False, mirror_x=True, mirror_z=False)
    flipped = float(c[1, INDEX["content_sign"]]) < 0
    if flipped:
        i = int(a[1, 1, 2].abs().amax(dim=1).argmax())
        assert abs(float(k[1, 0, 0]) - (i + 0.5) / nx) < 1e-6


def test_mirror_x_keeps_the_alignment_convention():
    # an aligned boundary (alpha_yz ~ +cos(2 pi m x) in the first slab) mirrored in x becomes -cos: half a period
    # off the convention. With gb_frac the augmentation shifts it back: zero phase again, the field is the mirror
    # image translated by half a CSL period, div-free, and a core moves with it.
    import torch

    from nyegan import content
    from nyegan.dataset.align import alignment_shifts
    from nyegan.dataset.augment import augment_batch
    from nyegan.dataset.conditions import FEATURES, INDEX

    nx, ny, m = 32, 16, 3  # 32 / (2 m) is not a whole number of grid steps: a spectral shift
    x = torch.arange(nx, dtype=torch.float64) / nx  # grid node positions of the DFT (phase reference)
    y = (torch.arange(ny, dtype=torch.float64) + 0.5) / ny
    gbf = torch.tensor([[0.25, 0.75]], dtype=torch.float64)
    slab = content.slab_masks(gbf, ny)[0, 0]
    field = torch.zeros(1, 3, 3, nx, ny, dtype=torch.float64)
    field[0, 1, 2] = torch.cos(2 * torch.pi * m * x)[:, None] * torch.exp(-(((y - 0.25) / 0.05) ** 2))[None, :]
    field[0, 0, 2] = 0.02 * torch.sin(2 * torch.pi * m * x)[:, None] * slab[None, :]
    cond = torch.zeros(1, len(FEATURES), dtype=torch.float64)
    cond[0, INDEX["periods_x"]] = float(m)
    cond[0, INDEX["content_sign"]] = 1.0
    cores = torch.full((1, 4, 3), float("nan"), dtype=torch.float64)
    cores[0, 0] = torch.tensor([0.1, 0.3, 1.0])
    s0 = float(alignment_shifts(field, gbf, cond[:, INDEX["periods_x"]], 2)[0])
    assert min(s0, 1.0 / m - s0) < 1e-12  # already on the convention
    for seed in range(6):
        g = torch.Generator().manual_seed(seed)
        plain, c, k0 = augment_batch(field, cond, cores, 2, generator=g, shift=False, mirror_x=True, mirror_z=False)
        if float(c[0, INDEX["content_sign"]]) > 0:
            continue  # not mirrored by this seed
        g = torch.Generator().manual_seed(seed)
        a, c, k = augment_batch(field, cond, cores, 2, generator=g, shift=False, mirror_x=True, mirror_z=False,
                                gb_frac=gbf)  # fmt: skip
        rows = (a[0, 1, 2] * slab[None, :]).sum(-1)
        h = torch.fft.fft(rows)[m]
        assert float(h.real) > 0 and abs(float(h.imag)) < 1e-9 * float(h.abs())  # back to zero phase
        rows_plain = (plain[0, 1, 2] * slab[None, :]).sum(-1)
        assert float(torch.fft.fft(rows_plain)[m].real) < 0  # the mirror alone is off by half a period
        # the re-aligned field is the mirrored one translated by half a period less one grid step (the cell-centred
        # mirror n -> N - 1 - n is x -> -x - 1/N in the DFT's node coordinates): alpha(x + s)
        s = 1.0 / (2 * m) - 1.0 / nx
        q = torch.fft.fftfreq(nx, d=1.0 / nx, dtype=torch.float64).reshape(1, 1, 1, nx, 1)
        expected = torch.fft.ifft(torch.fft.fft(plain, dim=3) * torch.exp(2j * torch.pi * q * s), dim=3).real
        assert torch.allclose(a, expected, atol=1e-10)
        assert abs(float((k0[0, 0, 0] - k[0, 0, 0]) % 1.0) - s) < 1e-9  # the core moved with it
        return
    raise AssertionError("no seed mirrored the sample")


def test_align_slabs_aligns_each_boundary_on_its_own():
    # two boundaries whose units sit at unrelated x (their registry comes from the translation state): after
    # align_slabs both slabs follow the convention, the slab contents are unchanged, a boundary + dislocation
    # cell keeps its rigid registry, and the model settings refuse the option outside 2D built-in physics
    import pytest
    import torch

    from nyegan import content
    from nyegan.dataset.align import alignment_shifts
    from nyegan.dataset.augment import augment_batch
    from nyegan.dataset.conditions import FEATURES, INDEX
    from nyegan.gan import physics

    nx, ny, m = 32, 32, 2
    x = torch.arange(nx, dtype=torch.float64) / nx
    y = (torch.arange(ny, dtype=torch.float64) + 0.5) / ny
    gbf = torch.tensor([[0.25, 0.75]] * 2, dtype=torch.float64)
    band = lambda c: torch.exp(-(((y - c) / 0.04) ** 2))[None, :]  # noqa: E731
    field = torch.zeros(2, 3, 3, nx, ny, dtype=torch.float64)
    for k in range(2):
        field[k, 1, 2] = (0.3 + torch.cos(2 * torch.pi * m * x))[:, None] * band(0.25) \
            - (0.3 + torch.cos(2 * torch.pi * m * (x - 0.11)))[:, None] * band(0.75)  # fmt: skip
    cond = torch.zeros(2, len(FEATURES), dtype=torch.float64)
    cond[:, INDEX["periods_x"]] = float(m)
    cond[0, INDEX["kind_gb"]] = 1.0
    cond[1, INDEX["kind_gb_dislocation"]] = 1.0
    cores = torch.full((2, 4, 3), float("nan"), dtype=torch.float64)
    periods = cond[:, INDEX["periods_x"]]
    assert float(alignment_shifts(field, gbf, periods, 2, slab=1)[0]) > 0.01  # the second slab is off
    a, _, _ = augment_batch(field, cond, cores, 2, shift=False, mirror_x=False, mirror_z=False, gb_frac=gbf,
                            align_slabs=True)  # fmt: skip
    for slab in (0, 1):
        s = float(alignment_shifts(a[:1], gbf[:1], periods[:1], 2, slab=slab)[0])
        assert min(s, 1.0 / m - s) < 1e-9
    Ly = torch.ones(2, dtype=torch.float64)
    torch.testing.assert_close(content.slab_content(a, gbf, Ly, 2), content.slab_content(field, gbf, Ly, 2))
    torch.testing.assert_close(a[1], field[1], rtol=0, atol=1e-12)  # the dislocation cell is left as it is

    from nyegan.gan.config import GanSettings

    hp = GanSettings.from_config({"physics": "penalty", "align_slabs": True, "localise": True}).model
    off = physics.applicable(hp, 2)  # options on alpha_iz maps do not apply to nine-component outputs
    assert not off.align_slabs and not off.localise and not off.wall_residual
    on = physics.applicable(GanSettings.from_config({"align_slabs": True, "wall_map": True}).model, 2)
    assert on.align_slabs and on.wall_map
    assert not physics.applicable(on, 3).align_slabs
    with pytest.raises(ValueError, match="gan.physics"):
        physics.applicable(GanSettings.from_config({}).model.__class__(**{**vars(on), "physics": "magic"}), 2)
