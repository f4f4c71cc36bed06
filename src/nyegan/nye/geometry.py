"""Where grains meet, from the atoms alone: boundary normals and positions, misorientations, tilt/twist character,
and the line direction of straight defects. No box axis is assumed to be special.

Boundaries. Each grain's atoms are deposited on a coarse periodic grid (cloud-in-cell) and smoothed (Gaussian,
``width`` Å) into a volume fraction chi_g. For a pair (a, b) the interface weight w = chi_a chi_b is non-zero only
where the grains meet; its area is A_ab = integral of (|grad chi_a| chi_b + |grad chi_b| chi_a) dV (1 per unit
area of a sharp interface). The normal is the principal axis of the structure tensor sum w g g^T of
g = grad(chi_b - chi_a); it is snapped to the nearest lattice plane of the periodic cell (a reciprocal-lattice
vector with indices up to ``max_index``), whose repeat distance along the normal is the period P. Positions are
the peaks of the w-weighted histogram of n . (x - origin) modulo P; the sign of g . n at a peak tells which grain
lies below (a boundary's normal points from the grain below to the grain above).

Misorientation of a pair: the disorientation D = R_b S R_a^T of least angle over the 24 proper cubic operations,
axis in the box frame and in grain a's crystal frame. Character: tilt when the axis lies in the boundary plane,
twist when it is along the normal (within ``character_tol_deg``), mixed otherwise.

Lattice correspondence axis (the rule for the median reference): the line direction when one is given
(``average_along``); else, for boundaries, the in-plane cell vector about which the misorientation has the
smallest symmetry-equivalent angle (a tilt reading; Σ3(111) is read as 70.53° about the in-plane <110>, as in
the project frame), falling back to the disorientation axis (twist or general boundaries).

Line direction of a straight defect (no boundary, or no --average-along): the cell vector along which a
per-atom defect indicator, deposited on the grid, varies least (fraction of its variance kept by averaging
along the vector > ``straight_fraction``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd

import numpy as np

from nyegan.lattice import cubic_point_group
from nyegan.nye.grid import Grid
from nyegan.rotations import axis_angle_rad
from nyegan.structure import Structure

DEFAULT_WIDTH = 2.0  # Å, smoothing of the grain volume fractions
MAX_NODES = 2_000_000  # coarse-grid size cap (memory: a few float32 arrays of this size per grain)


@dataclass
class Boundary:
    """One boundary plane: unit normal (box), position n . (x - origin) in [0, period) (Å), grains below/above."""

    normal: np.ndarray
    position: float
    period: float | None
    below: int
    above: int
    weight: float

    def attrs(self) -> dict:
        return {
            "normal": np.round(self.normal, 10).tolist(),
            "position": float(self.position),
            "period": None if self.period is None else float(self.period),
            "grain_below": int(self.below),
            "grain_above": int(self.above),
        }


@dataclass
class GrainPair:
    """Two neighbouring grains: misorientation (disorientation), interface normal, boundaries, character."""

    grains: tuple[int, int]
    angle_deg: float
    axis_box: np.ndarray
    axis_crystal: np.ndarray
    area: float
    normal: np.ndarray | None = None
    planarity: float = 0.0
    period: float | None = None
    miller: dict = field(default_factory=dict)
    boundaries: list[Boundary] = field(default_factory=list)
    character: str = "unknown"
    symmetric: bool = False

    def attrs(self) -> dict:
        return {
            "grains": [int(g) for g in self.grains],
            "misorientation_angle_deg": float(self.angle_deg),
            "misorientation_axis_box": np.round(self.axis_box, 10).tolist(),
            "misorientation_axis_crystal": np.round(self.axis_crystal, 6).tolist(),
            "interface_area_angstrom2": float(self.area),
            "normal": None if self.normal is None else np.round(self.normal, 10).tolist(),
            "planarity": float(self.planarity),
            "period_angstrom": None if self.period is None else float(self.period),
            "plane_miller": self.miller,
            "character": self.character,
            "symmetric": bool(self.symmetric),
            "boundaries": [b.attrs() for b in self.boundaries],
        }


@dataclass
class Geometry:
    """Everything detected: grains (id -> rotation, atom count), neighbouring pairs, the line direction."""

    grain_ids: np.ndarray
    rotations: np.ndarray
    counts: np.ndarray
    pairs: list[GrainPair]
    line: np.ndarray | None = None
    line_cell_vector: int | None = None
    line_source: str = "none"
    correspondence_axis: np.ndarray | None = None
    correspondence_axis_source: str = "none"

    @property
    def boundaries(self) -> list[Boundary]:
        """All planar boundaries of the main pair (largest interface), sorted by position."""
        pair = self.main_pair
        return sorted(pair.boundaries, key=lambda b: b.position) if pair else []

    @property
    def main_pair(self) -> GrainPair | None:
        planar = [p for p in self.pairs if p.boundaries]
        return max(planar, key=lambda p: p.area) if planar else None

    def attrs(self) -> dict:
        return {
            "grains": {
                str(int(g)): {"rotation_crystal_to_box": np.round(r, 10).tolist(), "n_atoms": int(c)}
                for g, r, c in zip(self.grain_ids, self.rotations, self.counts)
            },
            "grain_pairs": [p.attrs() for p in self.pairs],
            "line_direction": None if self.line is None else np.round(self.line, 10).tolist(),
            "line_cell_vector": self.line_cell_vector,
            "line_source": self.line_source,
            "correspondence_axis": None
            if self.correspondence_axis is None
            else np.round(self.correspondence_axis, 10).tolist(),
            "correspondence_axis_source": self.correspondence_axis_source,
        }


# --- crystallography --------------------------------------------------------------------------------------------
def disorientation(rot_a: np.ndarray, rot_b: np.ndarray) -> tuple[float, np.ndarray]:
    """Least misorientation angle (degrees) over the proper cubic group and its axis (box frame, unit)."""
    ops = cubic_point_group(proper_only=True)
    cands = rot_b[None] @ ops @ rot_a.T[None]
    tr = np.trace(cands, axis1=1, axis2=2)
    k = int(np.argmax(tr))
    axis, ang = axis_angle_rad(cands[k])
    return float(np.degrees(ang)), axis


def readings_about(rot_a: np.ndarray, rot_b: np.ndarray, axis: np.ndarray, tol_deg: float = 2.0) -> float | None:
    """Smallest |angle| (degrees) of the symmetry-equivalent misorientations about ``axis`` (box), or None."""
    ops = cubic_point_group(proper_only=True)
    t = np.asarray(axis, float) / np.linalg.norm(axis)
    best = None
    for d in rot_b[None] @ ops @ rot_a.T[None]:
        k, ang = axis_angle_rad(d)
        if ang < 1e-8 or abs(np.dot(k, t)) > np.cos(np.radians(tol_deg)):
            best = np.degrees(ang) if best is None else min(best, np.degrees(ang))
    return best


def miller_of(direction_crystal: np.ndarray, max_index: int = 12, tol_deg: float = 1.0) -> list[int] | None:
    """Smallest integer indices parallel (within ``tol_deg``) to a crystal-frame direction, or None."""
    v = np.asarray(direction_crystal, float)
    v = v / np.linalg.norm(v)
    best = None
    for scale in range(1, max_index + 1):
        cand = np.round(v * scale / np.abs(v).max())
        if not cand.any():
            continue
        ang = np.degrees(np.arccos(np.clip(np.dot(cand, v) / np.linalg.norm(cand), -1, 1)))
        if ang < tol_deg and np.abs(cand).max() <= max_index:
            best = cand.astype(int)
            break
    if best is None:
        return None
    g = 0
    for c in best:
        g = gcd(g, int(abs(c)))
    return (best // max(g, 1)).tolist()


# --- periodic lattice planes ------------------------------------------------------------------------------------
def snap_to_lattice_plane(cell: np.ndarray, pbc, normal: np.ndarray, max_index: int = 4, tol_deg: float = 3.0):
    """Nearest cell lattice-plane normal (reciprocal vector h . inv(cell)^T, |h_m| <= max_index, h_m = 0 along
    non-periodic vectors); returns (unit normal, period Å) or (normal, None) when none is within ``tol_deg``."""
    rec = np.linalg.inv(cell).T  # rows b_m with a_k . b_m = delta_km (no 2 pi)
    rng = [range(-max_index, max_index + 1) if p else range(0, 1) for p in pbc]
    h = np.array(np.meshgrid(*rng, indexing="ij")).reshape(3, -1).T
    h = h[np.any(h != 0, axis=1)]
    g = h @ rec
    gn = np.linalg.norm(g, axis=1)
    cos = np.abs(g @ normal) / gn
    k = int(np.argmax(cos - 1e-9 * np.abs(h).sum(axis=1)))  # ties: smallest indices
    if np.degrees(np.arccos(min(1.0, cos[k]))) > tol_deg:
        return normal / np.linalg.norm(normal), None
    hk = h[k]
    div = 0
    for c in hk:
        div = gcd(div, int(abs(c)))
    gk = (hk // div) @ rec
    n = gk / np.linalg.norm(gk)
    if np.dot(n, normal) < 0:
        n = -n
    return n, float(1.0 / np.linalg.norm(gk))


def canonical_sign(v: np.ndarray) -> np.ndarray:
    """``v`` or ``-v``, whichever has its largest-magnitude component positive."""
    return v if v[int(np.argmax(np.abs(v)))] >= 0 else -v


# --- grids --------------------------------------------------------------------------------------------------------
def coarse_grid(structure: Structure, width: float, workers: int = 1) -> Grid:
    """A grid of spacing ~width/2 Å (at most MAX_NODES nodes) over the cell, for detection only."""
    spacing = max(0.5 * width, (structure.volume / MAX_NODES) ** (1 / 3))
    return Grid.build(structure.cell, structure.origin, structure.pbc, spacing, workers=workers)


def deposit_counts(grid: Grid, frac: np.ndarray, labels: np.ndarray, n_labels: int, chunk: int = 1_000_000):
    """(n_labels + 1, *shape) float32 CIC atom counts per label, plus all atoms in the last row; in chunks."""
    size = int(np.prod(grid.shape))
    out = np.zeros((n_labels + 1, size))
    for start in range(0, len(frac), chunk):
        idx, w = grid.cic(frac[start : start + chunk])
        lab = labels[start : start + chunk]
        flat = (lab[:, None] * size + idx).ravel()
        out[:n_labels] += np.bincount(flat, weights=w.ravel(), minlength=n_labels * size).reshape(n_labels, size)
        out[n_labels] += np.bincount(idx.ravel(), weights=w.ravel(), minlength=size)
    return out.reshape((n_labels + 1,) + grid.shape).astype(np.float32)


def _gradient(grid: Grid, f: np.ndarray) -> np.ndarray:
    """(3, *shape) Cartesian gradient of a grid field."""
    return np.stack([grid.gradient_component(f, k) for k in range(3)])


def node_positions(grid: Grid) -> np.ndarray:
    """(n_nodes, 3) Cartesian node positions relative to the origin (C order of the grid)."""
    fr = np.meshgrid(*[grid.fractions(m) for m in grid.dims], indexing="ij")
    pos = np.zeros((fr[0].size, 3))
    for d, m in enumerate(grid.dims):
        pos += fr[d].reshape(-1, 1) * grid.cell[m]
    return pos


def _peaks_periodic(phase: np.ndarray, weight: np.ndarray, sign: np.ndarray, period: float | None, min_sep: float):
    """Boundary positions: peaks of the weighted histogram of ``phase`` (periodic with ``period``); with the mean
    sign of ``sign`` near each peak. Returns list of (position, summed weight, mean sign)."""
    lo, hi = (0.0, period) if period else (float(phase.min()), float(phase.max()) + 1e-9)
    nb = max(8, int(np.ceil((hi - lo) / 0.25)))
    edges = (phase - lo) / (hi - lo) * nb
    b = np.clip(edges.astype(int), 0, nb - 1)
    hist = np.bincount(b, weights=weight, minlength=nb)
    sgn = np.bincount(b, weights=weight * sign, minlength=nb)
    from scipy import ndimage

    mode = "wrap" if period else "constant"
    sm = ndimage.gaussian_filter1d(hist, 1.0 / ((hi - lo) / nb), mode=mode)
    size = max(3, int(2 * min_sep / ((hi - lo) / nb)) | 1)
    peaks = np.flatnonzero((sm == ndimage.maximum_filter1d(sm, size, mode=mode)) & (sm > 0.2 * sm.max()))
    out = []
    width = int(np.ceil(min_sep / ((hi - lo) / nb)))  # centroid within ±min_sep
    for p in peaks:
        ks = np.arange(p - width, p + width + 1)
        ks = ks % nb if period else ks[(ks >= 0) & (ks < nb)]
        w = hist[ks]
        centres = lo + (ks + 0.5) * (hi - lo) / nb
        if period:  # circular mean around the peak
            ref = lo + (p + 0.5) * (hi - lo) / nb
            d = centres - ref
            d -= period * np.round(d / period)
            pos = (ref + np.sum(w * d) / max(w.sum(), 1e-30)) % period
        else:
            pos = float(np.sum(w * centres) / max(w.sum(), 1e-30))
        out.append((float(pos), float(w.sum()), float(np.sign(sgn[ks].sum()))))
    return out


# --- detection ------------------------------------------------------------------------------------------------------
def detect_boundaries(
    structure: Structure,
    labels: np.ndarray,
    grain_ids: np.ndarray,
    rotations: np.ndarray,
    width: float = DEFAULT_WIDTH,
    min_area: float = 20.0,
    character_tol_deg: float = 5.0,
    workers: int = 1,
) -> list[GrainPair]:
    """Neighbouring grain pairs with their misorientation, interface normal, planar boundaries and character.

    labels: grain id per atom (values in ``grain_ids``); rotations: (n_grains, 3, 3) crystal -> box.
    """
    n_g = len(grain_ids)
    if n_g < 2:
        return []
    grid = coarse_grid(structure, width, workers)
    lookup = {int(g): i for i, g in enumerate(grain_ids)}
    lab = np.vectorize(lookup.get, otypes=[np.int64])(labels) if len(labels) else labels
    counts = deposit_counts(grid, structure.fractional(), lab, n_g)
    kernel = grid.gaussian_kernel(width, dtype=np.float32)
    total = grid.smooth(counts[-1], kernel, width)
    ok = total > 0.2 * float(np.median(total[total > 0]))
    inv_total = np.zeros_like(total)
    np.divide(1.0, total, out=inv_total, where=ok)
    chis = [grid.smooth(counts[i], kernel, width) * inv_total for i in range(n_g)]
    del counts
    node_vol = grid.node_area_or_volume()
    pos = node_positions(grid)
    pairs = []
    for a in range(n_g):
        ga = _gradient(grid, chis[a])
        for b in range(a + 1, n_g):
            w = chis[a] * chis[b]
            if not np.any(w > 1e-3):
                continue
            gb = _gradient(grid, chis[b])
            area = float((np.sqrt((ga**2).sum(0)) * chis[b] + np.sqrt((gb**2).sum(0)) * chis[a]).sum() * node_vol)
            if area < min_area:
                continue
            g = (gb - ga).reshape(3, -1)
            wf = w.ravel()
            T = (g * wf) @ g.T
            evals, evecs = np.linalg.eigh(T)
            fit = canonical_sign(evecs[:, -1])
            planarity = float(evals[-1] / max(evals.sum(), 1e-30))
            angle, axis = disorientation(rotations[a], rotations[b])
            axis = canonical_sign(axis)
            pair = GrainPair(
                grains=(int(grain_ids[a]), int(grain_ids[b])),
                angle_deg=angle,
                axis_box=axis,
                axis_crystal=rotations[a].T @ axis,
                area=area,
                planarity=planarity,
            )
            if planarity > 0.8:
                n, period = snap_to_lattice_plane(structure.cell, structure.pbc, fit)
                n = canonical_sign(n)
                pair.normal, pair.period = n, period
                sel = wf > 0.05 * wf.max()
                phase = pos[sel] @ n
                if period:
                    phase %= period
                sign = g[:, sel].T @ n  # > 0: grain a below, b above
                for position, weight, s in _peaks_periodic(phase, wf[sel], sign, period, min_sep=3.0 * width):
                    below, above = pair.grains if s >= 0 else pair.grains[::-1]
                    pair.boundaries.append(Boundary(n, position, period, below, above, weight))
                c = abs(float(np.dot(axis, n)))
                tol = np.sin(np.radians(character_tol_deg))
                pair.character = (
                    "tilt" if c < tol else ("twist" if c > np.cos(np.radians(character_tol_deg)) else "mixed")
                )
                na, nb_ = rotations[a].T @ n, rotations[b].T @ n
                pair.miller = {str(pair.grains[0]): miller_of(na), str(pair.grains[1]): miller_of(nb_)}
                pair.symmetric = bool(np.allclose(np.sort(np.abs(na)), np.sort(np.abs(nb_)), atol=1e-2))
            pairs.append(pair)
        del ga
    return pairs


def correspondence_axis(
    pairs: list[GrainPair], rotations: dict, cell: np.ndarray, line: np.ndarray | None, tol_deg: float = 2.0
) -> tuple[np.ndarray | None, str]:
    """Axis (box) about which the main pair's misorientation is read for the median lattice, and why.

    ``rotations``: {grain id: R}. Rule: the line direction if given; else the in-plane cell vector with the smallest
    symmetry-equivalent angle (tilt reading); else the disorientation axis.
    """
    if line is not None:
        return np.asarray(line, float), "line direction"
    planar = [p for p in pairs if p.normal is not None]
    if not planar:
        return (pairs[0].axis_box, "disorientation") if pairs else (None, "none")
    pair = max(planar, key=lambda p: p.area)
    ra, rb = rotations[pair.grains[0]], rotations[pair.grains[1]]
    best = None
    for vec in cell:
        t = vec / np.linalg.norm(vec)
        if abs(np.dot(t, pair.normal)) > np.sin(np.radians(tol_deg)):
            continue
        ang = readings_about(ra, rb, t, tol_deg)
        if ang is not None and (best is None or ang < best[0] - 1e-6):
            best = (ang, canonical_sign(t))
    if best is not None:
        return best[1], "in-plane cell vector (tilt reading)"
    return pair.axis_box, "disorientation"


def detect_line(
    structure: Structure, indicator: np.ndarray, width: float = DEFAULT_WIDTH, straight_fraction: float = 0.8
) -> tuple[int | None, float]:
    """Cell vector (index) along which the per-atom ``indicator`` is invariant, and the variance fraction kept.

    For each cell vector m, the variance of the grid field averaged along m over the variance of the field:
    1 for a defect straight along m. Returns (None, best fraction) when no fraction exceeds ``straight_fraction``.
    """
    grid = coarse_grid(structure, width)
    frac = structure.fractional()
    dep = deposit_counts(grid, frac, np.zeros(len(frac), dtype=np.int64), 1)
    num = np.zeros(grid.shape)
    for start in range(0, len(frac), 1_000_000):
        idx, w = grid.cic(frac[start : start + 1_000_000])
        num += np.bincount(
            idx.ravel(), weights=(w * indicator[start : start + 1_000_000, None]).ravel(), minlength=num.size
        ).reshape(grid.shape)
    kernel = grid.gaussian_kernel(width)
    dens = grid.smooth(dep[-1].astype(float), kernel, width)
    field = np.where(dens > 1e-9, grid.smooth(num, kernel, width) / np.maximum(dens, 1e-9), 0.0)
    var = field.var()
    if var <= 0:
        return None, 0.0
    fractions = [float(field.mean(axis=m, keepdims=True).var() / var) for m in range(3)]
    m = int(np.argmax(fractions))
    return (m if fractions[m] > straight_fraction else None), fractions[m]
