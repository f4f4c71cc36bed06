"""Simple baselines a generator of boundary Nye fields has to beat, on the dataset's fractional grid (2D).

- :func:`frank_bilby_line`: the analytic mean field, only α_yz = ±2 sin(θ/2) times a Gaussian line (2 Å) at each
  boundary, no structure along it;
- :func:`dislocation_wall`: a discrete dislocation wall, n = round(c L_x / b) edge dislocations per boundary per
  cell (c = 2 sin(θ/2), b = a0/√2), equally spaced along x, each carrying c L_x / n so the content is exact, with
  a Gaussian core of width w fitted on the training boundaries (:func:`fit_wall_width`); the same construction as
  the generator's wall map;
- :func:`structural_units`: the structural-unit model (``nyegan.defects.structural_units``). A boundary whose
  nearest delimiting boundary is the perfect crystal is the dislocation wall above; any other is the Frank–Bilby
  line plus its secondary dislocations (:func:`secondary_wall`: one per period of the boundary, carrying the
  misorientation from the nearest delimiting boundary; the generator's secondary-wall map,
  ``nyegan.gan.inputs.secondary_wall_map``), their amplitude and core width fitted on the training boundaries
  (:func:`fit_secondary_wall`). Where the projected structure repeats only once per CSL period
  (``nyegan.defects.structural_units.unit_rows``, the ``units_two_rows`` condition) the units alternate between two rows on
  either side of the plane, half a period apart, at a row offset fitted with them;
- :func:`volterra_cores` (added to the dislocation wall in cells with dislocations, method ``wall_cores``): each
  dislocation the cell is given, at its core position, as a Gaussian core of the wall's fitted width carrying
  its signed Burgers vector in α_iz (its Volterra content, no core structure);
- :func:`nearest_training`: the fields of the training boundary with the same tilt axis and the nearest
  misorientation, as they are or mirrored in x (pseudo-tensor law), whichever matches the target better (an
  optimistic choice for the baseline);
- the deterministic conditional regressor lives in ``nyegan.gan.regressor``.

Fields are (N, 3, 3, nx, ny) in 1/Å; conditions are the raw dataset features.
"""

from __future__ import annotations

import numpy as np
import torch

from nyegan.dataset.conditions import INDEX
from nyegan.gan.inputs import (
    ROW_OFFSET_A,
    WALL_BURGERS_A,
    core_blobs,
    frank_bilby_line_map,
    secondary_dislocations,
    secondary_wall_map,
    two_row_units,
    units_map,
    volterra_field,
    wall_map,
)

LINE_WIDTH_A = 2.0


WALL_WIDTHS_A = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
BURGERS_A = WALL_BURGERS_A  # a0/√2 of aluminium


def _content(cond) -> np.ndarray:
    """Signed Frank–Bilby content of the first boundary per sample (0 for cells without a boundary)."""
    c = np.asarray(cond, float)
    has = c[:, INDEX["kind_gb"]] + c[:, INDEX["kind_gb_dislocation"]] > 0.5
    return np.where(has, c[:, INDEX["fb_content"]] * c[:, INDEX["content_sign"]], 0.0)


def frank_bilby_line(cond, gb_frac, lengths, grid, width: float = LINE_WIDTH_A) -> np.ndarray:
    """α_yz = ±c × normalised Gaussian (Å) at each boundary; every other component 0
    (``nyegan.gan.inputs.frank_bilby_line_map``)."""
    c = np.asarray(cond, float)
    out = np.zeros((len(c), 3, 3) + tuple(grid))
    out[:, 1, 2] = frank_bilby_line_map(torch.from_numpy(c), torch.as_tensor(np.asarray(gb_frac, float)),
                                        torch.as_tensor(np.asarray(lengths, float)[:, :2]), tuple(grid),
                                        width=width).numpy()  # fmt: skip
    return out


def dislocation_wall(cond, gb_frac, lengths, grid, width: float) -> np.ndarray:
    """Discrete edge-dislocation walls (α_yz only) with Gaussian cores of ``width`` Å (see the module doc): the
    generator's wall map (``nyegan.gan.inputs.wall_map``, placed by the alignment rule) in 1/Å."""
    c = np.asarray(cond, float)
    out = np.zeros((len(c), 3, 3) + tuple(grid))
    w = wall_map(torch.from_numpy(c), torch.as_tensor(np.asarray(gb_frac, float)),
                 torch.as_tensor(np.asarray(lengths, float)[:, :2]), tuple(grid), width=width)  # fmt: skip
    out[:, 1, 2] = w.numpy()
    return out


def volterra_cores(cores, burgers_box, lengths, grid, width: float) -> np.ndarray:
    """(1, 3, 3, nx, ny) 1/Å: α_iz = Σ_k s_k b_i g_k with g_k a periodic Gaussian of ``width`` Å with a unit
    integral, at each core (K, 3: x_frac, y_frac, sign; NaN rows none) of one cell; ``burgers_box`` (3,) Å,
    ``lengths`` (Lx, Ly) Å. Every core carries its Burgers vector (``nyegan.gan.inputs.volterra_field``, the
    field the generator's ``gan.core_residual`` prior draws with its own core width)."""
    nx, ny = (int(g) for g in grid)
    c = torch.as_tensor(np.asarray(cores, float)).reshape(1, -1, 3)
    L = torch.as_tensor(np.asarray(lengths, float)[:2]).reshape(1, 2)
    _, signed = core_blobs(c, L, (nx, ny), width, dtype=torch.float64)
    field = volterra_field(signed, torch.as_tensor(np.asarray(burgers_box, float)).reshape(1, 3))
    out = np.zeros((1, 3, 3, nx, ny))
    out[0, :, 2] = field[0].numpy()
    return out


def _boundary_cells(cond) -> np.ndarray:
    """(N,) bool: cells that hold boundaries and nothing else (kind gb): the ones the boundary models are fitted on
    (a boundary + dislocation cell's detail also holds its dislocation cores, which no wall draws)."""
    return np.asarray(cond, float)[:, INDEX["kind_gb"]] > 0.5


def fit_wall_width(cond, gb_frac, lengths, real, grid, widths=WALL_WIDTHS_A) -> float:
    """The core width (Å) whose walls best match the training boundaries (mean detail error of α_yz over the
    boundary cells with a content)."""
    from nyegan.gan.fieldmetrics import compare

    best, best_err = widths[0], np.inf
    pure = _boundary_cells(cond)
    sel = [k for k in range(len(cond)) if pure[k] and _content(cond[k : k + 1])[0] != 0]
    for w in widths:
        errs = []
        for k in sel[:: max(1, len(sel) // 40)]:
            wall = dislocation_wall(cond[k : k + 1], gb_frac[k : k + 1], lengths[k : k + 1], grid, w)
            m = compare(wall, real[k : k + 1], gb_frac[k], float(lengths[k][1]))
            if np.isfinite(m.get("detail_yz", np.nan)):
                errs.append(m["detail_yz"])
        err = float(np.mean(errs)) if errs else np.inf
        if err < best_err:
            best, best_err = w, err
    return float(best)


SECONDARY_AMPLITUDES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
SECONDARY_WIDTHS_A = (1.0, 2.0, 3.0)


ROW_OFFSETS_A = (1.5, ROW_OFFSET_A, 3.5)


def _two_rows(cond, rows) -> torch.Tensor | None:
    """(N,) bool: where to draw two rows of units; ``rows`` (N,) 1 | 2, or None for the conditions' own
    ``units_two_rows`` (``nyegan.gan.inputs.secondary_wall_map``)."""
    return None if rows is None else torch.as_tensor(np.asarray(rows) == 2).reshape(len(cond))


def _secondary_maps(cond, gb_frac, lengths, grid, width: float, rows=None, offset: float = ROW_OFFSET_A) -> np.ndarray:
    """(N, nx, ny) secondary-dislocation maps (1/Å, no x average) with cores of ``width`` Å, on one row or, where
    ``rows`` (N,; None: the conditions' rule) is 2, on two rows ``offset`` Å on either side of the boundary
    (``nyegan.gan.inputs.secondary_wall_map``)."""
    cond = np.asarray(cond, float)
    return secondary_wall_map(torch.as_tensor(cond), torch.as_tensor(np.asarray(gb_frac, float)),
                              torch.as_tensor(np.asarray(lengths, float)[:, :2]), tuple(grid), width=width,
                              offset=offset, two_rows=_two_rows(cond, rows)).numpy()  # fmt: skip


def secondary_wall(cond, gb_frac, lengths, grid, width: float, amplitude: float, rows=None,
                   offset: float = ROW_OFFSET_A) -> np.ndarray:  # fmt: skip
    """The Frank–Bilby line plus ``amplitude`` times the secondary-dislocation map with cores of ``width`` Å
    (α_yz only; see the module doc; ``rows``/``offset``: units on two rows, :func:`_secondary_maps`), in 1/Å."""
    out = frank_bilby_line(cond, gb_frac, lengths, grid)
    out[:, 1, 2] += amplitude * _secondary_maps(cond, gb_frac, lengths, grid, width, rows, offset)
    return out


def structural_units(cond, gb_frac, lengths, grid, wall_width: float, width: float, amplitude: float, rows=None,
                     offset: float = ROW_OFFSET_A) -> np.ndarray:  # fmt: skip
    """The structural-unit baseline (module doc; ``nyegan.gan.inputs.units_map``): :func:`dislocation_wall`
    (cores of ``wall_width`` Å) where the nearest delimiting boundary is the perfect crystal, else
    :func:`secondary_wall`; in 1/Å. ``rows`` (N,): 2 where the secondary units alternate between two rows
    ``offset`` Å from the plane; None: the conditions' ``units_two_rows``
    (``nyegan.defects.structural_units.unit_rows``)."""
    c = np.asarray(cond, float)
    out = np.zeros((len(c), 3, 3) + tuple(grid))
    out[:, 1, 2] = units_map(torch.from_numpy(c), torch.as_tensor(np.asarray(gb_frac, float)),
                             torch.as_tensor(np.asarray(lengths, float)[:, :2]), tuple(grid), amplitude=amplitude,
                             wall_width=wall_width, width=width, offset=offset,
                             two_rows=_two_rows(c, rows)).numpy()  # fmt: skip
    return out


def fit_secondary_wall(cond, gb_frac, lengths, real, grid, amplitudes=SECONDARY_AMPLITUDES,
                       widths=SECONDARY_WIDTHS_A, rows=None, offsets=ROW_OFFSETS_A) -> tuple[float, float, float]:  # fmt: skip
    """(amplitude, width Å, row offset Å) of :func:`secondary_wall` with the lowest median detail error of α_yz
    over the training boundary cells (kind gb) whose secondary dislocations are not lattice dislocations (at most
    about 200 of them: a subsample of 40 left the fit to chance on the study), each drawn on its ``rows`` (N,;
    None: the conditions' ``units_two_rows``; the offset is fitted only if some have two); (1, 2 Å, 2.5 Å) when
    none has secondary dislocations."""
    from nyegan.gan.fieldmetrics import compare

    cond = np.asarray(cond, float)
    sc, lattice = (v.numpy() for v in secondary_dislocations(torch.as_tensor(cond)))
    sel = np.flatnonzero((sc != 0) & ~lattice & _boundary_cells(cond))
    sel = sel[:: max(1, len(sel) // 200)]
    default = (1.0, 2.0, ROW_OFFSET_A)
    if not len(sel):
        return default
    r = (two_row_units(cond) + 1 if rows is None else np.asarray(rows))[sel]
    if not np.any(r == 2):
        offsets = (ROW_OFFSET_A,)
    best, best_err = default, np.inf
    for w in widths:
        for d in offsets:
            maps = _secondary_maps(cond[sel], np.asarray(gb_frac)[sel], np.asarray(lengths)[sel], grid, w, r, d)
            for a in amplitudes:
                errs = []
                for i, k in enumerate(sel):
                    f = np.zeros((1, 3, 3) + tuple(grid))
                    f[0, 1, 2] = a * maps[i]
                    errs.append(compare(f, real[k : k + 1], gb_frac[k], float(lengths[k][1])).get("detail_yz", np.nan))
                err = float(np.nanmedian(errs)) if np.isfinite(errs).any() else np.inf
                if err < best_err:
                    best, best_err = (float(a), float(w), float(d)), err
    return best


def mirror_x(alpha: np.ndarray) -> np.ndarray:
    """Mirror x of (N, 3, 3, nx, ny) fields: α'_ij = det(Q) s_i s_j α_ij(x -> -x), Q = diag(-1, 1, 1)."""
    s = np.array([-1.0, 1.0, 1.0])
    f = -1.0 * s[:, None] * s[None, :]
    return np.flip(alpha, axis=3) * f[None, :, :, None, None]


def nearest_training(target_axis, target_theta: float, train_axis, train_theta, train_case, train_alpha, real
                     ) -> tuple[np.ndarray, str]:  # fmt: skip
    """Fields of the training boundary with the same axis and the nearest misorientation (as is or mirrored in x,
    whichever is closer to ``real``), and its case name; (empty, "") when no training boundary shares the axis."""
    from nyegan.gan.fieldmetrics import compare

    same = np.all(np.isclose(np.asarray(train_axis, float), np.asarray(target_axis, float)[None]), axis=1)
    same &= np.isfinite(train_theta)
    if not same.any():
        return np.zeros((0,) + real.shape[1:]), ""
    k = np.flatnonzero(same)[np.argmin(np.abs(np.asarray(train_theta)[same] - target_theta))]
    case = train_case[k]
    fields = train_alpha[np.asarray(train_case) == case]
    options = [fields, mirror_x(fields)]
    scores = []
    for f in options:
        m = compare(f, real, np.array([0.25, 0.75]), 1.0)
        scores.append(np.nanmean([v for key, v in m.items() if key.startswith("detail_")]))
    return options[int(np.nanargmin(scores))], str(case)
