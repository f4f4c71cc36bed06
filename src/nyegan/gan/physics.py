"""Physics of generated fields: built-in constraints, penalty terms and residuals.

Two ways to make generated fields compatible (chosen by ``physics``):

- ``"builtin"``: in 3D the generator outputs a periodic distortion W (dimensionless) and alpha = curl W with the
  dataset's difference scheme, so div alpha = 0 and the cell mean vanishes to round-off. In 2D (fields averaged
  along the line z) every zero-mean alpha_iz is the curl of a periodic (W_ix, W_iy), and the z average leaves
  alpha_ix = d_y <W_iz>, alpha_iy = -d_x <W_iz>. So the generator outputs the three alpha_iz maps (their cell
  mean is removed) and, with ``gan.in_plane_2d``, three maps of W_iz, whose curl is used only where the crystal
  symmetry allows a non-zero <W_iz> (:func:`in_plane_allowed`: tilt axes without a mirror plane normal to them,
  e.g. <111>); elsewhere alpha_ix = alpha_iy = 0 exactly. div alpha = 0 holds identically. In both cases
  ``nyegan.content.project_content`` then makes the net Burgers content of each boundary slab equal to the Frank-Bilby value +-2 sin(theta/2) e_y (tilt-boundary cells).
- ``"penalty"``: the generator outputs alpha directly and the losses ``penalty_terms`` push the relative
  divergence, the cell mean and the content error towards zero.

Condition features used (raw, see ``nyegan.dataset.conditions``): ``fb_content`` = 2 sin(theta/2),
``content_sign`` (+-1), ``kind_gb`` (selects the cells whose content is constrained).
All physics runs in float32/float64 outside autocast (FFTs are not bf16-safe).
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from nyegan import content as content_mod
from nyegan import fieldops
from nyegan.dataset.conditions import INDEX
from nyegan.gan.inputs import AL_A0, CHANNELS, CORE_MAP_AREA_A2, N_CHANNELS, volterra_field

MODES = ("builtin", "penalty")
ENVELOPE_CHANNELS = tuple(CHANNELS.index(n) for n in ("gb1_w4", "gb2_w4", "cores"))  # input maps of envelope()


def targets_from_condition(cond_raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(targets (B, 2, 3), active (B,)) Frank-Bilby content of each slab from raw condition features."""
    fb = cond_raw[:, INDEX["fb_content"]] * cond_raw[:, INDEX["content_sign"]]
    t = torch.zeros(cond_raw.shape[0], 2, 3, dtype=cond_raw.dtype, device=cond_raw.device)
    t[:, 0, 1] = fb
    t[:, 1, 1] = -fb
    return t, cond_raw[:, INDEX["kind_gb"]] > 0.5


def applicable(hp, dim: int):
    """``hp`` with the options that act on the α_iz maps of the 2D built-in physics (``align_slabs``,
    ``localise``, ``wall_residual``, ``core_residual``, ``in_plane_2d``) switched off where they do not apply (3D fields,
    ``physics: penalty``), and ``wall_residual`` off without ``wall_map``; an unknown physics mode is refused."""
    if hp.physics not in MODES:
        raise ValueError(f"gan.physics = {hp.physics!r}: choose one of {MODES}")
    column = output_channels(hp.physics, dim) == 3
    return replace(hp, align_slabs=hp.align_slabs and column, localise=hp.localise and column,
                   wall_residual=hp.wall_residual and hp.wall_map and column,
                   core_residual=hp.core_residual and column, in_plane_2d=hp.in_plane_2d and column)  # fmt: skip


def envelope(maps: torch.Tensor) -> torch.Tensor:
    """(B, 1, *grid) in [0, 1]: where a Nye field may live, from the input maps: the 4 Å Gaussians of both
    boundaries plus the dislocation-core blobs, clipped at 1 (``nyegan.gan.inputs``)."""
    return maps[:, list(ENVELOPE_CHANNELS)].sum(dim=1, keepdim=True).clamp(max=1.0)


def network_field(raw: torch.Tensor, maps: torch.Tensor, cond_raw: torch.Tensor, lengths: torch.Tensor,
                  hp, alpha_scale: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """The networks' output channels as the physics layer takes them: ``gan.localise`` multiplies them by the
    :func:`envelope` (a Nye field vanishes in perfect crystal: no noise or smear in the grains),
    ``gan.periodic_x`` keeps the x modes of a boundary cell's period (:func:`periodic_projection`; ``cond_raw``:
    the batch's raw conditions), ``gan.band_limit_A`` removes wavelengths shorter than that (:func:`band_limit`;
    ``lengths``: (B, ≥ dim) cell lengths, Å), then ``gan.wall_residual`` adds the wall map (:func:`add_wall`) and
    ``gan.core_residual`` the Volterra cores (:func:`add_cores`, which needs the dataset's ``alpha_scale``)."""
    if hp.localise:
        raw = raw * envelope(maps).to(raw.dtype)
    if hp.periodic_x:
        raw = periodic_projection(raw, cond_raw)
    if hp.band_limit_A > 0:
        raw = band_limit(raw, lengths, hp.band_limit_A)
    if hp.wall_residual:
        raw = add_wall(raw, maps)
    if hp.core_residual:
        raw = add_cores(raw, maps, cond_raw, alpha_scale)
    return raw


def periodic_projection(raw: torch.Tensor, cond_raw: torch.Tensor) -> torch.Tensor:
    """``gan.periodic_x``: channels (B, C, nx, ...) of boundary cells (``kind_gb``) with m = ``periods_x`` ≥ 1
    periods along x keep only their x Fourier modes q with q mod m = 0 (and the x mean).

    A relaxed boundary repeats with its period along x (2D fields: the period of the z-projected structure,
    ``nyegan.dataset.conditions.periods_along_x``), so its Nye field has no other x modes: on the study data they
    hold a median 2e-8 of the modulation's power. Anything a network puts there is noise. The projection is
    linear and commutes with the curl and with the content projection (both act along y or per x mode), so
    div α = 0 and the Frank–Bilby content still hold. Cells with dislocations are not periodic and pass
    unchanged."""
    B, nx = raw.shape[0], raw.shape[2]
    m = cond_raw[:, INDEX["periods_x"]].round()
    use = (cond_raw[:, INDEX["kind_gb"]] > 0.5) & (m >= 1)
    if not bool(use.any()):
        return raw
    q = torch.arange(nx // 2 + 1, device=raw.device, dtype=m.dtype)
    keep = (torch.remainder(q[None, :], m.clamp(min=1)[:, None]) == 0) | ~use[:, None]  # (B, nx//2 + 1)
    with torch.autocast(device_type=raw.device.type, enabled=False):
        f = torch.fft.rfft(raw if raw.dtype == torch.float64 else raw.float(), dim=2)
        f = f * keep.reshape((B, 1, -1) + (1,) * (raw.ndim - 3)).to(f.real.dtype)
        return torch.fft.irfft(f, n=nx, dim=2).to(raw.dtype)


def band_limit(raw: torch.Tensor, lengths: torch.Tensor, wavelength_A: float) -> torch.Tensor:
    """``gan.band_limit_A``: channels (B, C, *grid) keep only the Fourier modes of wavelength ≥ ``wavelength_A``
    (|k| ≤ 1/λ, k in cycles/Å from the per-sample cell ``lengths`` (B, ≥ dim), Å).

    A Nye field computed from atoms varies on no scale finer than the interatomic distance (2.86 Å in
    aluminium): on the study data, modes shorter than 2.9 Å hold at most 6e-4 of each component's power, while
    the grid resolves down to about 1.1 Å along x and 1.75 Å along y. What a network puts at those scales is
    noise. Linear and translation-invariant, the filter commutes with the curl (div α = 0 holds) and with
    :func:`periodic_projection`; the content projection comes after it and stays exact."""
    grid = raw.shape[2:]
    dim = len(grid)
    B = raw.shape[0]
    with torch.autocast(device_type=raw.device.type, enabled=False):
        x = raw if raw.dtype == torch.float64 else raw.float()
        L = lengths[:, :dim].to(device=raw.device, dtype=x.dtype).reshape((B, dim) + (1,) * dim)
        k2 = torch.zeros((), dtype=x.dtype, device=raw.device)
        for ax, n in enumerate(grid):  # modes (integers) of the rfftn layout: the last axis is halved
            freq = torch.fft.rfftfreq if ax == dim - 1 else torch.fft.fftfreq
            m = freq(n, d=1.0 / n, device=raw.device, dtype=x.dtype)
            k2 = k2 + (m.reshape([1] + [len(m) if d == ax else 1 for d in range(dim)]) / L[:, ax]) ** 2
        keep = (k2 <= 1.0 / float(wavelength_A) ** 2).to(x.dtype).unsqueeze(1)
        f = torch.fft.rfftn(x, dim=tuple(range(2, 2 + dim)))
        return torch.fft.irfftn(f * keep, s=tuple(grid), dim=tuple(range(2, 2 + dim))).to(raw.dtype)


def add_wall(raw: torch.Tensor, maps: torch.Tensor, sign: float = 1.0) -> torch.Tensor:
    """``gan.wall_residual``: the network's α_yz channel (over the dataset's α_yz scale) becomes a correction to
    the dislocation-wall map, the first input map after the fixed ones (``nyegan.gan.inputs.wall_map``, same
    units): raw + sign × wall in that channel (sign −1 turns a field into the correction a diffusion model learns)."""
    wall = maps[:, N_CHANNELS : N_CHANNELS + 1].to(raw.dtype)
    return torch.cat([raw[:, :1], raw[:, 1:2] + sign * wall, raw[:, 2:]], dim=1)


def core_prior(maps: torch.Tensor, cond_raw: torch.Tensor, alpha_scale: torch.Tensor) -> torch.Tensor:
    """(B, 3, *grid): the Volterra field α_iz = b_i Σ_k s_k g_k of the cell's dislocations over the dataset's α_iz
    scale (``nyegan.gan.inputs.volterra_field``), g_k the core blob of the ``cores_signed`` input map over
    ``CORE_MAP_AREA_A2``, a unit integral on the grid, so that each core carries exactly its Burgers vector
    b = ``burgers_*`` × a0 (aluminium's a0; cells without dislocations give 0)."""
    b = cond_raw[:, INDEX["burgers_x"] : INDEX["burgers_z"] + 1] * AL_A0  # (B, 3) Å
    field = volterra_field(maps[:, CHANNELS.index("cores_signed")].float() / CORE_MAP_AREA_A2, b)
    return field / alpha_scale[:, 2].float().reshape((1, 3) + (1,) * (maps.ndim - 2))


def add_cores(raw: torch.Tensor, maps: torch.Tensor, cond_raw: torch.Tensor, alpha_scale, sign: float = 1.0):
    """``gan.core_residual``: the network's α_iz channels become corrections to :func:`core_prior` (sign −1: the
    correction a diffusion model learns)."""
    if alpha_scale is None:
        raise ValueError("gan.core_residual needs the dataset's alpha_scale: pass it to network_field")
    prior = core_prior(maps, cond_raw, alpha_scale).to(raw.dtype)
    return torch.cat([raw[:, :3] + sign * prior, raw[:, 3:]], dim=1)


def output_channels(mode: str, dim: int, in_plane: bool = False) -> int:
    """Generator output channels: for the built-in physics in 2D, 3 (alpha_iz) and with ``in_plane`` 3 more
    (the potential W_iz of alpha_ix, alpha_iy, :func:`in_plane_allowed`); else 9."""
    if mode == "builtin" and dim == 2:
        return 6 if in_plane else 3
    return 9


def in_plane_allowed(cond_raw: torch.Tensor) -> torch.Tensor:
    """(B,) bool: cells whose 2D (z-averaged) Nye field may carry in-plane components alpha_ix, alpha_iy.

    Averaged along the line z, alpha_ix = d_y <W_iz> and alpha_iy = -d_x <W_iz>. A mirror plane of the crystal
    normal to z maps W_iz to -W_iz (i = x, y), so where both grains keep such a mirror (tilt axes along cubic
    <100> and <110>, which are normal to {100} and {110} mirrors) the average vanishes; on the study data these
    components are a median 2e-5 of alpha_iz there. Along <111> (no mirror normal to it: ABC stacking) they are a
    median 5 % and up to 7.5 %. Allowed: cells with a boundary whose canonical tilt axis (sorted |components|,
    the ``axis_*`` features) is neither <100> nor <110>."""
    a = cond_raw[:, INDEX["axis_a"] : INDEX["axis_c"] + 1].float()
    has_axis = a.abs().sum(dim=1) > 0.5
    tol = 1e-4
    mirror = (a[:, 2] < tol) & ((a[:, 1] < tol) | ((a[:, 0] - a[:, 1]).abs() < tol))
    has_gb = (cond_raw[:, INDEX["kind_gb"]] > 0.5) | (cond_raw[:, INDEX["kind_gb_dislocation"]] > 0.5)
    return has_axis & has_gb & ~mirror


def per_component_scaled(alpha: torch.Tensor, alpha_scale: torch.Tensor, dim: int) -> torch.Tensor:
    """alpha (B, 3, 3, *grid) in 1/Å over ``alpha_scale`` (3, 3), each component's dataset rms: dimensionless,
    every component O(1), the way the networks, their losses and the critic see fields."""
    return alpha / alpha_scale.reshape((1, 3, 3) + (1,) * dim)


IN_PLANE_LENGTH_A = 2.0  # W_iz = output x (rms of alpha_ix, alpha_iy) x this length: O(1) outputs, cores of ~2 Å


def in_plane_scale(alpha_scale: torch.Tensor) -> torch.Tensor:
    """(3,) Å/Å: W_iz per unit output channel, the mean dataset rms of alpha_ix, alpha_iy times IN_PLANE_LENGTH_A."""
    return alpha_scale[:, :2].float().mean(dim=1) * IN_PLANE_LENGTH_A


def in_plane_field(w_raw: torch.Tensor, cond_raw, lengths, alpha_scale, scheme: str) -> torch.Tensor:
    """(B, 3, 3, nx, ny) the curl of W with only the z column W_iz = w_raw (B, 3, nx, ny) x ``in_plane_scale``,
    zero where :func:`in_plane_allowed` is false: alpha_ix = d_y W_iz, alpha_iy = -d_x W_iz, divergence-free
    with the dataset's difference ``scheme``; ``lengths``: (B, 2 or 3) cell lengths, Å."""
    B = w_raw.shape[0]
    w = w_raw.float() * in_plane_scale(alpha_scale).reshape(1, 3, 1, 1)
    w = w * in_plane_allowed(cond_raw).to(w.dtype).reshape(B, 1, 1, 1)
    W = torch.zeros((B, 3, 3) + tuple(w.shape[2:]), dtype=w.dtype, device=w.device)
    W[:, :, 2] = w
    return fieldops.curl(W, lengths[:, :2].float(), 2, scheme)


def in_plane_channels(alpha: torch.Tensor, lengths, alpha_scale, scheme: str) -> torch.Tensor:
    """Inverse of :func:`in_plane_field` for a field: (B, 3, nx, ny) output channels whose in-plane curl is the
    field's alpha_ix, alpha_iy (``nyegan.fieldops.in_plane_potential``)."""
    w = fieldops.in_plane_potential(alpha.float(), lengths[:, :2].float(), scheme)
    return w / in_plane_scale(alpha_scale).reshape(1, 3, 1, 1)


def fields_from_output(
    raw: torch.Tensor,
    mode: str,
    lengths: torch.Tensor,
    gb_frac: torch.Tensor,
    cond_raw: torch.Tensor,
    alpha_scale: torch.Tensor,
    w_scale: float,
    dim: int,
    scheme: str = "spectral",
    content_width: float = 2.0,
) -> torch.Tensor:
    """Map the generator's output channels (``output_channels``) to a Nye field (B, 3, 3, *grid) in 1/Å."""
    if mode not in MODES:
        raise ValueError(f"gan.physics = {mode!r}: choose one of {MODES}")
    B = raw.shape[0]
    grid = raw.shape[2:]
    with torch.autocast(device_type=raw.device.type, enabled=False):
        if mode == "builtin" and dim == 2:
            col = raw[:, :3].float() * alpha_scale[:, 2].float().reshape(1, 3, 1, 1)  # alpha_iz, 1/Å
            col = col - col.mean(dim=(2, 3), keepdim=True)
            if raw.shape[1] == 6:  # gan.in_plane_2d: alpha_ix, alpha_iy from W_iz where the symmetry allows
                alpha = in_plane_field(raw[:, 3:], cond_raw, lengths, alpha_scale, scheme)
            else:
                alpha = torch.zeros((B, 3, 3) + tuple(grid), dtype=col.dtype, device=col.device)
            alpha[:, :, 2] = col
            tgt, active = targets_from_condition(cond_raw.float())
            return content_mod.project_content(alpha, tgt, active, gb_frac.float(), lengths[:, 1].float(), dim,
                                               content_width)  # fmt: skip
        x = raw.float().reshape((B, 3, 3) + tuple(grid))
        if mode == "penalty":
            return x * alpha_scale.reshape((1, 3, 3) + (1,) * dim).float()
        alpha = fieldops.curl(x * w_scale, lengths.float(), dim, scheme)
        tgt, active = targets_from_condition(cond_raw.float())
        return content_mod.project_content(
            alpha, tgt, active, gb_frac.float(), lengths[:, 1].float(), dim, content_width
        )


def physics_residuals(
    alpha: torch.Tensor,
    lengths: torch.Tensor,
    gb_frac: torch.Tensor,
    cond_raw: torch.Tensor,
    dim: int,
    scheme: str = "spectral",
) -> dict[str, torch.Tensor]:
    """Batch-mean residuals: relative divergence, relative cell mean, content error (absolute and relative)."""
    with torch.autocast(device_type=alpha.device.type, enabled=False):
        a = alpha.float()
        L = lengths.float()
        div_rel = fieldops.relative_divergence(a, L, dim, scheme).mean()
        red = tuple(range(3, 3 + dim))
        mean = a.mean(dim=red)
        rms = torch.sqrt((a**2).mean(dim=red).sum((1, 2)) + 1e-30)
        mean_rel = (torch.sqrt((mean**2).sum((1, 2))) / rms).mean()
        tgt, active = targets_from_condition(cond_raw.float())
        got = content_mod.slab_content(a, gb_frac.float(), L[:, 1], dim)
        err = (got - tgt).abs().amax(dim=(1, 2))
        n = active.sum().clamp(min=1)
        content_err = (err * active).sum() / n
        scale = (tgt.abs().amax(dim=(1, 2)) * active).sum() / n
        return {
            "div_rel": div_rel,
            "mean_rel": mean_rel,
            "content_err": content_err,
            "content_rel": content_err / scale.clamp(min=1e-12),
        }


def penalty_terms(
    alpha: torch.Tensor,
    lengths: torch.Tensor,
    gb_frac: torch.Tensor,
    cond_raw: torch.Tensor,
    alpha_scale: torch.Tensor,
    dim: int,
    scheme: str = "spectral",
) -> dict[str, torch.Tensor]:
    """Differentiable, scale-free penalty terms of the ``penalty`` mode."""
    with torch.autocast(device_type=alpha.device.type, enabled=False):
        a = alpha.float()
        L = lengths.float()
        d = fieldops.divergence(a, L, dim, scheme)
        g = fieldops.gradient_norm(a, L, dim, scheme)
        red = tuple(range(2, 2 + dim))
        div = ((d**2).mean(dim=red).sum(1) / (g.detach() ** 2 + 1e-30)).mean()
        s2 = (alpha_scale.float() ** 2).mean()
        mean = (a.mean(dim=tuple(range(3, 3 + dim))) ** 2).sum((1, 2)).mean() / s2
        tgt, active = targets_from_condition(cond_raw.float())
        got = content_mod.slab_content(a, gb_frac.float(), L[:, 1], dim)
        c2 = ((got - tgt) ** 2).sum((1, 2))
        cont = (c2 * active).sum() / active.sum().clamp(min=1) / 0.01
        return {"div": div, "mean": mean, "content": cont}


def default_w_scale(alpha_scale: torch.Tensor, lengths_mean: float) -> float:
    """Scale of W so that curl W from O(1) network outputs has the data's magnitude: rms(alpha) L / 2 pi."""
    return float(torch.sqrt((alpha_scale.double() ** 2).mean())) * lengths_mean / (2 * math.pi)
