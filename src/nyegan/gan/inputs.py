"""Geometry the generator must reproduce, as input maps on the fractional grid (torch, batched, on device).

A conditional generator that sees only a condition vector has to invent where the boundary's structural units
sit and how far apart they are; for boundaries it never saw, it cannot. These maps give it the geometry instead,
so its convolutions only have to learn the local shape of cores and units:

- ``periodic x``: cos / sin (2π h m x) for harmonics h = 1..H, m = periods of the boundary along x in the cell
  (``periods_x``: of the z-projected structure in 2D; zero maps for cells without a boundary). Samples are aligned along x (``dataset.align_x``), so
  the phase is the dataset's, and these maps place the units of an unseen boundary at its own period;
- ``boundaries``: Gaussians of the periodic distance to each boundary (widths 1.5 and 4 Å), and the slab sign
  (+1 nearer boundary 1, −1 nearer boundary 2);
- ``Frank–Bilby``: the analytic line density of the content, content_sign · 2 sin(θ/2) times a 2 Å Gaussian at
  each boundary with opposite signs, in units of 1/Å scaled by the dataset's α_yz scale;
- ``cores``: Gaussian blobs (2 Å, peak ≈ 1, each exactly ``CORE_MAP_AREA_A2`` in integral on the grid) at the
  dislocation cores of the cell, unsigned and signed;
- ``position``: cos / sin (2π y) (the canonical boundary positions make y meaningful);
- ``wall`` (optional, ``gan.wall_map``, last): the discrete dislocation wall of the Frank–Bilby content,
  n = m · max(1, round(|c| L_x / (m b))) edge dislocations per boundary per cell (b: the ``wall_burgers_A``
  condition, the lattice repeat along the boundary normal of the limiting low-angle boundary, which makes
  c L_x / b a whole number; the same number of cores in each of the m periods along x) with Gaussian cores of
  2 Å, carrying c L_x / n each, shifted along x by the dataset's alignment rule applied to the wall itself
  (``nyegan.dataset.align``), so that on a low-angle boundary (one dislocation per CSL period) its cores sit
  where the aligned atomistic cores sit; over the α_yz scale like the Frank–Bilby map;
  with ``gan.wall_model: structural_units`` the wall map is the structural-unit model instead (:func:`units_map`:
  this wall where the nearest delimiting boundary is the perfect crystal, elsewhere the Frank–Bilby line plus the
  secondary dislocations below at ``gan.secondary_amplitude``);
- ``secondary wall`` (optional, ``gan.secondary_wall_map``, after the wall map): the structural-unit model's
  secondary dislocations (``nyegan.defects.structural_units``), one per period of the boundary, carrying the
  misorientation from the nearest delimiting boundary of the axis, 2 sin((θ − θ_f)/2) per unit length, as 2 Å
  cores placed by the same alignment rule, minus their average along x: the modulation a high-angle boundary
  adds to its nearest favoured one (zero on a delimiting boundary, on twist boundaries and for axes without a
  table); split into two half cores on rows on either side of the plane, half a period apart, where the
  ``units_two_rows`` condition says the units alternate (``nyegan.defects.structural_units.unit_rows``).

2D fields only (dims x, y); ``CHANNELS`` lists the maps in order (without the optional wall and secondary maps).
"""

from __future__ import annotations

import math

import torch

from nyegan.config import section_defaults
from nyegan.dataset.align import alignment_shifts, second_slab_periods
from nyegan.dataset.conditions import INDEX
from nyegan.defects.structural_units import DELIMITING_DEG, PERFECT_DEG, TOLERANCE_DEG
from nyegan.periodic import frac_distance

HARMONICS = 3
BOUNDARY_WIDTHS_A = (1.5, 4.0)
LINE_WIDTH_A = 2.0
CORE_WIDTH_A = 2.0
CORE_MAP_AREA_A2 = 2.0 * math.pi * CORE_WIDTH_A**2  # the core maps: unit-integral densities times this (peak ≈ 1)
CHANNELS = (
    *[f"cos{h}mx" for h in range(1, HARMONICS + 1)],
    *[f"sin{h}mx" for h in range(1, HARMONICS + 1)],
    *[f"gb{b}_w{w:g}" for b in (1, 2) for w in BOUNDARY_WIDTHS_A],
    "slab_sign",
    "frank_bilby_line",
    "cores",
    "cores_signed",
    "cos_y",
    "sin_y",
)
N_CHANNELS = len(CHANNELS)
AL_A0 = 4.05  # Å, aluminium: lengths the conditions give only as multiples of a0 (burgers_* = burgers_box / a0)
WALL_BURGERS_A = AL_A0 / math.sqrt(2.0)  # a0/√2 of aluminium: conditions without ``wall_burgers_A``
WALL_CORE_WIDTH_A = 2.0
_GAN_DEFAULTS = section_defaults("gan")
# Å, distance of each row of two-row secondary units from the plane, and the secondary units' amplitude of the
# structural-unit map: the schema's gan.secondary_row_offset_A and gan.secondary_amplitude, one source of truth
ROW_OFFSET_A = float(_GAN_DEFAULTS["secondary_row_offset_A"])
SECONDARY_AMPLITUDE = float(_GAN_DEFAULTS["secondary_amplitude"])


def n_channels(wall: bool, secondary: bool = False) -> int:
    """Number of input maps with or without the wall and secondary-wall maps."""
    return N_CHANNELS + int(wall) + int(secondary)


def condition_maps(cond: torch.Tensor, gb_frac: torch.Tensor, lengths: torch.Tensor, cores: torch.Tensor,
                   grid, line_scale: float = 1.0) -> torch.Tensor:  # fmt: skip
    """(B, N_CHANNELS, nx, ny) input maps for raw conditions ``cond`` (B, F), boundary fractions (B, 2), cell
    lengths (B, 2) Å, cores (B, K, 3) = (x_frac, y_frac, sign) with NaN rows for none; ``line_scale``: 1/Å that
    the Frank–Bilby map is divided by (the dataset's α_yz scale), so every map is O(1)."""
    B = cond.shape[0]
    nx, ny = grid
    dev, dt = cond.device, torch.float32
    x = ((torch.arange(nx, device=dev, dtype=dt) + 0.5) / nx).reshape(1, nx, 1)
    y = ((torch.arange(ny, device=dev, dtype=dt) + 0.5) / ny).reshape(1, 1, ny)
    Ly = lengths[:, 1].float().reshape(B, 1, 1)
    maps = []
    m = cond[:, INDEX["periods_x"]].float().round().reshape(B, 1, 1)
    has = (m > 0).float()
    for trig in (torch.cos, torch.sin):
        for h in range(1, HARMONICS + 1):
            maps.append((trig(2 * math.pi * h * m * x) * has).expand(B, nx, ny))
    has_gb = (cond[:, INDEX["kind_gb"]] + cond[:, INDEX["kind_gb_dislocation"]]).float().reshape(B, 1, 1)
    g = gb_frac.float()
    dist = [frac_distance(y, g[:, b].reshape(B, 1, 1)) * Ly for b in (0, 1)]  # Å, (B, 1, ny)
    for b in (0, 1):
        for w in BOUNDARY_WIDTHS_A:
            maps.append((torch.exp(-0.5 * (dist[b] / w) ** 2) * has_gb).expand(B, nx, ny))
    maps.append((torch.where(dist[0] <= dist[1], 1.0, -1.0) * has_gb).expand(B, nx, ny))
    fb = (cond[:, INDEX["fb_content"]] * cond[:, INDEX["content_sign"]]).float().reshape(B, 1, 1)
    line = [torch.exp(-0.5 * (d / LINE_WIDTH_A) ** 2) / (math.sqrt(2 * math.pi) * LINE_WIDTH_A) for d in dist]
    maps.append((fb * (line[0] - line[1]) * has_gb / line_scale).expand(B, nx, ny))
    maps += [m * CORE_MAP_AREA_A2 for m in core_blobs(cores, lengths, grid, CORE_WIDTH_A)]
    maps += [torch.cos(2 * math.pi * y).expand(B, nx, ny), torch.sin(2 * math.pi * y).expand(B, nx, ny)]
    return torch.stack(maps, dim=1)


def core_blobs(cores: torch.Tensor, lengths: torch.Tensor, grid, width: float,
               dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Unsigned and signed sums (B, nx, ny, ``dtype``; 1/Å²) of periodic Gaussians of ``width`` Å at the cores
    (B, K, 3) = (x_frac, y_frac, sign) of each cell (NaN rows: none), cell lengths (B, 2) Å, each with a unit
    integral on the grid (exact for any width, however coarse the grid)."""
    B = cores.shape[0]
    nx, ny = grid
    dev, dt = cores.device, dtype
    x = ((torch.arange(nx, device=dev, dtype=dt) + 0.5) / nx).reshape(1, nx, 1)
    y = ((torch.arange(ny, device=dev, dtype=dt) + 0.5) / ny).reshape(1, 1, ny)
    Lx, Ly = lengths[:, 0].to(dt).reshape(B, 1, 1), lengths[:, 1].to(dt).reshape(B, 1, 1)
    node_area = Lx * Ly / (nx * ny)  # Å²
    blobs = torch.zeros(B, nx, ny, device=dev, dtype=dt)
    signed = torch.zeros_like(blobs)
    for k in range(cores.shape[1]):
        c = cores[:, k].to(dt)
        ok = torch.isfinite(c).all(dim=1).to(dt).reshape(B, 1, 1)
        cx = torch.nan_to_num(c[:, 0]).reshape(B, 1, 1)
        cy = torch.nan_to_num(c[:, 1]).reshape(B, 1, 1)
        sgn = torch.nan_to_num(c[:, 2]).reshape(B, 1, 1)
        r2 = (frac_distance(x, cx) * Lx) ** 2 + (frac_distance(y, cy) * Ly) ** 2
        blob = torch.exp(-0.5 * r2 / width**2)
        blob = blob * ok / (blob.sum(dim=(1, 2), keepdim=True) * node_area)
        blobs = blobs + blob
        signed = signed + sgn * blob
    return blobs, signed


def volterra_field(signed: torch.Tensor, burgers: torch.Tensor) -> torch.Tensor:
    """(B, 3, *grid) 1/Å: the Volterra field α_iz = b_i Σ_k s_k g_k of a cell's dislocations, from the signed core
    density Σ_k s_k g_k of :func:`core_blobs` (B, *grid, 1/Å², each core's integral 1) and each cell's Burgers
    vector ``burgers`` (B, 3) Å: each core carries exactly b."""
    b = burgers.to(signed.dtype).reshape(burgers.shape[:2] + (1,) * (signed.ndim - 1))
    return b * signed[:, None]


def wall_map(cond: torch.Tensor, gb_frac: torch.Tensor, lengths: torch.Tensor, grid, line_scale: float = 1.0,
             slabs: bool = False, width: float = WALL_CORE_WIDTH_A, x_shift: torch.Tensor | None = None,
             ) -> torch.Tensor:  # fmt: skip
    """(B, nx, ny) the dislocation-wall map (module doc) over ``line_scale`` (1/Å), in ``cond``'s dtype; zero for
    cells without a boundary. ``slabs``: align the second boundary's wall on its own too (``gan.align_slabs``);
    ``width``: core width (Å; the benchmark's wall baseline fits it). The alignment shift is measured on the wall
    and the cores are then placed at their shifted positions (no spectral shift: no ringing of narrow cores);
    ``x_shift`` (B,): a further move of every core by this fraction of L_x, after the alignment."""
    B = cond.shape[0]
    nx, ny = grid
    dev = cond.device
    x = (torch.arange(nx, device=dev, dtype=torch.float64) + 0.5) / nx
    y = (torch.arange(ny, device=dev, dtype=torch.float64) + 0.5) / ny
    has_gb = (cond[:, INDEX["kind_gb"]] + cond[:, INDEX["kind_gb_dislocation"]]).double() > 0.5
    c = torch.where(has_gb, (cond[:, INDEX["fb_content"]] * cond[:, INDEX["content_sign"]]).double(), 0.0)
    Lx, Ly = lengths[:, 0].double(), lengths[:, 1].double()
    # |b| of the wall's dislocations (a0/√2 where the condition does not give it), the same number of cores in
    # each of the m periods of the (projected) structure along x
    b = cond[:, INDEX["wall_burgers_A"]].double()
    b = torch.where(b > 0, b, torch.full_like(b, WALL_BURGERS_A))
    m = torch.clamp(torch.round(cond[:, INDEX["periods_x"]].double()), min=1.0)
    n = m * torch.clamp(torch.round(c.abs() * Lx / (b * m)), min=1.0)  # (B,)
    j = torch.arange(int(n.max().item()) if B else 1, device=dev, dtype=torch.float64)
    on = (j[None, :] < n[:, None]).double()
    w = float(width)
    gy = []
    for b in (0, 1):
        dy = frac_distance(y[None, :], gb_frac[:, b : b + 1].double()) * Ly[:, None]  # (B, ny)
        g = torch.exp(-0.5 * (dy / w) ** 2)
        gy.append(g / (g.sum(1, keepdim=True) * (Ly / ny)[:, None]))  # discrete normalisation: exact content

    def walls(offsets):  # (B, 3, 3, nx, ny) with the cores of boundary b at (j + 1/2) / n - offsets[b]
        out = torch.zeros(B, nx, ny, device=dev, dtype=torch.float64)
        for b, sgn in ((0, 1.0), (1, -1.0)):
            xj = (j[None, :] + 0.5) / n[:, None] - offsets[b][:, None]  # (B, J) fractional core positions
            dx = frac_distance(x[None, None, :], xj[:, :, None]) * Lx[:, None, None]  # (B, J, nx) Å
            gx = torch.exp(-0.5 * (dx / w) ** 2)
            gx = (gx / (gx.sum(2, keepdim=True) * (Lx / nx)[:, None, None]) * on[:, :, None]).sum(1)  # 1/Å each
            out = out + sgn * gx[:, :, None] * gy[b][:, None, :]
        alpha = torch.zeros(B, 3, 3, nx, ny, device=dev, dtype=torch.float64)
        alpha[:, 1, 2] = out * (c * Lx / n)[:, None, None]
        return alpha

    zero = torch.zeros(B, device=dev, dtype=torch.float64)
    alpha = walls((zero, zero))
    periods = cond[:, INDEX["periods_x"]].double()
    g = gb_frac.double()
    s0 = alignment_shifts(alpha, g, periods, 2)
    s1 = alignment_shifts(alpha, g, second_slab_periods(cond).double(), 2, slab=1) if slabs else s0
    if slabs:  # a cell whose second slab has no defined phase keeps the rigid shift
        s1 = torch.where(s1 == 0, s0, s1)
    if x_shift is not None:
        s0, s1 = s0 - x_shift.double(), s1 - x_shift.double()
    return (walls((s0, s1))[:, 1, 2] / line_scale).to(cond.dtype)


def secondary_dislocations(cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For raw conditions (B, F): the signed content of the secondary dislocations, (B,) float64
    (``nyegan.defects.structural_units.secondary_content`` times the content sign of the first boundary; 0 for
    cells without a tilt boundary of a tabulated axis, twist boundaries (plane along the axis) and delimiting
    boundaries), and (B,) bool whether they are lattice dislocations (the nearest delimiting boundary is the
    perfect crystal, ``nyegan.defects.structural_units.lattice_referenced``)."""
    c = cond.double()
    axis = c[:, INDEX["axis_a"] : INDEX["axis_c"] + 1]  # canonical: |axis| / norm, sorted descending
    plane = c[:, INDEX["plane_a"] : INDEX["plane_c"] + 1]
    theta = torch.rad2deg(c[:, INDEX["theta_rad"]])
    nearest = torch.full_like(theta, float("nan"))
    perfect = torch.zeros_like(theta, dtype=torch.bool)
    for key, table in DELIMITING_DEG.items():
        ref = torch.tensor(sorted(key, reverse=True), dtype=torch.float64, device=c.device)
        ref = ref / ref.norm()
        fam = (axis - ref).abs().max(dim=1).values < 1e-3
        t = torch.tensor(table, dtype=torch.float64, device=c.device)
        near = t[(theta[:, None] - t[None, :]).abs().argmin(dim=1)]
        nearest = torch.where(fam, near, nearest)
        sigma1 = torch.tensor(PERFECT_DEG[key], dtype=torch.float64, device=c.device)
        perfect = torch.where(fam, (near[:, None] == sigma1[None, :]).any(dim=1), perfect)
    has_gb = (c[:, INDEX["kind_gb"]] + c[:, INDEX["kind_gb_dislocation"]]) > 0.5
    tilt = (axis - plane).abs().max(dim=1).values > 1e-3
    delta = theta - nearest
    ok = has_gb & tilt & torch.isfinite(delta) & (delta.abs() >= TOLERANCE_DEG)
    sc = 2.0 * torch.sin(torch.deg2rad(torch.nan_to_num(delta)) / 2.0) * c[:, INDEX["content_sign"]]
    return torch.where(ok, sc, torch.zeros_like(sc)), ok & perfect


def two_row_units(cond):
    """(B,) bool, numpy or torch like ``cond`` (B, F raw conditions): the ``units_two_rows`` condition, whether a
    boundary's secondary units alternate between two rows (``nyegan.defects.structural_units.unit_rows``)."""
    return cond[:, INDEX["units_two_rows"]] > 0.5


def secondary_wall_map(cond: torch.Tensor, gb_frac: torch.Tensor, lengths: torch.Tensor, grid,
                       line_scale: float = 1.0, slabs: bool = False, width: float = WALL_CORE_WIDTH_A,
                       offset: float = ROW_OFFSET_A, two_rows: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """(B, nx, ny) the secondary-dislocation map (module doc) over ``line_scale`` (1/Å), in ``cond``'s dtype: one
    core per period of the boundary, each carrying |secondary content| L_x / m, placed like the wall map
    (:func:`wall_map` on a wall of exactly m dislocations), minus its average along x (zero mean in every row).

    Where the units alternate between two rows (``two_rows`` (B,) bool; None: the ``units_two_rows`` condition,
    ``nyegan.defects.structural_units.unit_rows``), each core is split into two halves on rows ``offset`` Å on
    either side of the boundary, the second half a period further along x: the same content per period and the
    same x average, with the first harmonic changing sign across the plane."""
    sc = secondary_dislocations(cond)[0]
    c = cond.double().clone()
    m = torch.clamp(torch.round(c[:, INDEX["periods_x"]]), min=1.0)
    c[:, INDEX["fb_content"]] = sc.abs()
    c[:, INDEX["content_sign"]] = torch.where(sc < 0, -1.0, 1.0).double()
    # |b| = the content of one period: round(|c| L_x / (b m)) = 1, one dislocation per period
    c[:, INDEX["wall_burgers_A"]] = torch.clamp(sc.abs() * lengths[:, 0].double() / m, min=1e-12)
    w = wall_map(c, gb_frac, lengths, grid, line_scale, slabs, width)
    two = two_row_units(cond) if two_rows is None else torch.as_tensor(two_rows, device=w.device)
    if bool(two.any()):
        d = (offset / lengths[:, 1].double())[:, None]
        upper = wall_map(c, (gb_frac.double() + d) % 1.0, lengths, grid, line_scale, slabs, width)
        lower = wall_map(c, (gb_frac.double() - d) % 1.0, lengths, grid, line_scale, slabs, width, x_shift=0.5 / m)
        w = torch.where(two.reshape(-1, 1, 1), 0.5 * (upper + lower), w)
    return (w - w.mean(dim=1, keepdim=True)).to(cond.dtype)


def frank_bilby_line_map(cond: torch.Tensor, gb_frac: torch.Tensor, lengths: torch.Tensor, grid,
                         line_scale: float = 1.0, width: float = LINE_WIDTH_A) -> torch.Tensor:  # fmt: skip
    """(B, nx, ny) the analytic Frank–Bilby line over ``line_scale`` (1/Å), in ``cond``'s dtype: α_yz = ±c times a
    Gaussian of ``width`` Å at each boundary (+ at the first, − at the second), normalised on the grid so that
    its integral across each boundary is exactly c (0 for cells without a boundary)."""
    nx, ny = grid
    y = (torch.arange(ny, device=cond.device, dtype=torch.float64) + 0.5) / ny
    has_gb = (cond[:, INDEX["kind_gb"]] + cond[:, INDEX["kind_gb_dislocation"]]).double() > 0.5
    c = torch.where(has_gb, (cond[:, INDEX["fb_content"]] * cond[:, INDEX["content_sign"]]).double(), 0.0)
    Ly = lengths[:, 1].double()
    out = torch.zeros(cond.shape[0], ny, device=cond.device, dtype=torch.float64)
    for b, sgn in ((0, 1.0), (1, -1.0)):
        dy = frac_distance(y[None, :], gb_frac[:, b : b + 1].double()) * Ly[:, None]
        g = torch.exp(-0.5 * (dy / width) ** 2)
        out = out + sgn * g / (g.sum(1, keepdim=True) * (Ly / ny)[:, None])
    out = out * c[:, None] / line_scale
    return out[:, None, :].expand(-1, nx, -1).to(cond.dtype)


def units_map(cond: torch.Tensor, gb_frac: torch.Tensor, lengths: torch.Tensor, grid, line_scale: float = 1.0,
              slabs: bool = False, amplitude: float = SECONDARY_AMPLITUDE, wall_width: float = WALL_CORE_WIDTH_A,
              width: float = WALL_CORE_WIDTH_A, offset: float = ROW_OFFSET_A,
              two_rows: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """(B, nx, ny) the structural-unit model of α_yz over ``line_scale`` (1/Å), in ``cond``'s dtype: where the
    nearest delimiting boundary is the perfect crystal, the lattice wall (:func:`wall_map`, cores of
    ``wall_width`` Å); elsewhere the Frank–Bilby line (:func:`frank_bilby_line_map`) plus ``amplitude`` times the
    secondary dislocations (:func:`secondary_wall_map`, cores of ``width`` Å, on one row or on two rows
    ``offset`` Å from the plane). The content is exact either way: the secondary map has no x average."""
    lattice = secondary_dislocations(cond)[1]
    wall = wall_map(cond, gb_frac, lengths, grid, line_scale, slabs, wall_width)
    line = frank_bilby_line_map(cond, gb_frac, lengths, grid, line_scale)
    sec = secondary_wall_map(cond, gb_frac, lengths, grid, line_scale, slabs, width, offset, two_rows)
    return torch.where(lattice[:, None, None], wall, line + amplitude * sec)
