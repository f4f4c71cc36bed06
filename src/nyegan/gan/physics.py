"""Physics of generated fields: built-in constraints, penalty terms and residuals.

Two ways to make generated fields compatible (chosen by ``physics``):

- ``"builtin"``: in 3D the generator outputs a periodic distortion W (dimensionless) and alpha = curl W with the
  dataset's difference scheme, so div alpha = 0 and the cell mean vanishes to round-off. In 2D (fields averaged
  along the line z) only alpha_iz survives: alpha_ix = d_y W_iz and alpha_iy = -d_x W_iz vanish because a
  z-invariant displacement has no W_iz, and every zero-mean alpha_iz is the curl of a periodic (W_ix, W_iy). So
  the generator outputs the three alpha_iz maps, their cell mean is removed, and alpha_ix = alpha_iy = 0 exactly
  (div alpha = 0 holds identically). In both cases ``nyegan.content.project_content`` then makes the net Burgers
  content of each boundary slab equal to the Frank-Bilby value +-2 sin(theta/2) e_y (tilt-boundary cells).
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
from nyegan.gan.inputs import CHANNELS

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
    ``localise``, ``wall_residual``) switched off where they do not apply (3D fields, ``physics: penalty``), and
    ``wall_residual`` off without ``wall_map``; an unknown physics mode is refused."""
    if hp.physics not in MODES:
        raise ValueError(f"gan.physics = {hp.physics!r}: choose one of {MODES}")
    column = output_channels(hp.physics, dim) == 3
    return replace(hp, align_slabs=hp.align_slabs and column, localise=hp.localise and column,
                   wall_residual=hp.wall_residual and hp.wall_map and column)  # fmt: skip


def envelope(maps: torch.Tensor) -> torch.Tensor:
    """(B, 1, *grid) in [0, 1]: where a Nye field may live, from the input maps: the 4 Å Gaussians of both
    boundaries plus the dislocation-core blobs, clipped at 1 (``nyegan.gan.inputs``)."""
    return maps[:, list(ENVELOPE_CHANNELS)].sum(dim=1, keepdim=True).clamp(max=1.0)


def network_field(raw: torch.Tensor, maps: torch.Tensor, hp) -> torch.Tensor:
    """The networks' output channels as the physics layer takes them: ``gan.localise`` multiplies them by the
    :func:`envelope` (a Nye field vanishes in perfect crystal: no noise or smear in the grains), then
    ``gan.wall_residual`` adds the wall map (:func:`add_wall`)."""
    if hp.localise:
        raw = raw * envelope(maps).to(raw.dtype)
    if hp.wall_residual:
        raw = add_wall(raw, maps)
    return raw


def add_wall(raw: torch.Tensor, maps: torch.Tensor, sign: float = 1.0) -> torch.Tensor:
    """``gan.wall_residual``: the network's α_yz channel (over the dataset's α_yz scale) becomes a correction to
    the dislocation-wall map, the last input map (``nyegan.gan.inputs.wall_map``, same units): raw + sign × wall
    in that channel (sign −1 turns a field into the correction a diffusion model learns)."""
    return torch.cat([raw[:, :1], raw[:, 1:2] + sign * maps[:, -1:].to(raw.dtype), raw[:, 2:]], dim=1)


def output_channels(mode: str, dim: int) -> int:
    """Generator output channels: 3 (alpha_iz) for the built-in physics in 2D, else 9."""
    return 3 if (mode == "builtin" and dim == 2) else 9


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
            col = raw.float() * alpha_scale[:, 2].float().reshape(1, 3, 1, 1)  # alpha_iz, 1/Å
            col = col - col.mean(dim=(2, 3), keepdim=True)
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
