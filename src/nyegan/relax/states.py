"""Trial states of the GB search: rigid-body translations of grain B in the boundary plane × boundary atom densities.

Grain B (id 2) occupies the region wrapping the y faces, so translating its atoms by (tx, 0, tz) and wrapping them
back into the periodic box shifts B relative to A at both boundaries by the same vector: the cell stays periodic
and both boundaries remain the same boundary. Translations cover one period of the smallest periodic (CSL) cell
along x and z (``meta["periodic_cell"]``): a shift by a full CSL period gives an identical bicrystal.

The number of atoms in the boundary is the second dimension: after the translation, one atom of every pair closer
than a cutoff is deleted (grain B's preferred). Deletion is monotone in the cutoff, so the distinct deletion levels
of a translation are found exactly by trying a cutoff just above each distinct close-pair distance below the
largest cutoff (:func:`deletion_levels`); a level is labelled by its cutoff (fraction of d_nn = a0/√2) and the
number of atoms it deletes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.spatial import cKDTree

from nyegan.structure import Structure
from nyegan.structures.gb import close_pair_keep_mask, remove_close_pairs


@dataclass(frozen=True)
class TrialState:
    """Translation of grain B (Å) and deletion cutoff (fraction of the nearest-neighbour distance d_nn)."""

    tx: float
    tz: float
    cutoff_nn: float

    @property
    def key(self) -> tuple:
        """Identity of the state (rounded), for deduplication and checkpoints."""
        return (round(self.tx, 6), round(self.tz, 6), round(self.cutoff_nn, 6))

    def to_dict(self) -> dict:
        return asdict(self)


def translation_grid(periods_xz, n_points) -> np.ndarray:
    """(nx*nz, 2) translations i·Px/nx, k·Pz/nz (Å), the unshifted state first."""
    px, pz = (float(p) for p in periods_xz)
    nx, nz = (int(n) for n in n_points)
    tx, tz = np.meshgrid(np.arange(nx) * px / nx, np.arange(nz) * pz / nz, indexing="ij")
    return np.column_stack([tx.ravel(), tz.ravel()])


def grid_points(periods_xz, spacing) -> tuple[int, int]:
    """Grid points along x and z so that the spacing over one CSL period is at most ``spacing`` (Å; one value or
    one per axis)."""
    spacing = np.broadcast_to(np.asarray(spacing, float), (2,))
    return tuple(max(1, math.ceil(float(p) / h - 1e-9)) for p, h in zip(periods_xz, spacing))


def translate(base: Structure, tx: float, tz: float, moving_grain: int = 2) -> Structure:
    """``base`` with grain ``moving_grain`` rigidly translated by (tx, 0, tz) Å and wrapped into the cell."""
    pos = base.positions.copy()
    moving = base.grain == moving_grain
    pos[moving, 0] += tx
    pos[moving, 2] += tz
    return base.copy(positions=pos).wrapped()


def apply_state(
    base: Structure, state: TrialState, d_nn: float, moving_grain: int = 2, reference: Structure | None = None
) -> tuple[Structure, int]:
    """The bicrystal of ``state``: grain ``moving_grain`` translated and wrapped, then close pairs thinned.

    ``reference``: ``base`` before a random perturbation (``relax.jitter``; same atoms, same order). The atoms to
    delete are then chosen on the translated reference and removed from the translated ``base``: a perturbation
    splits the close-pair distances of symmetry-equivalent pairs, and choosing on it would delete some pairs of a
    family and not the others (lopsided boundaries, and many more deletion levels).

    Returns the structure (ids renumbered 1..n) and the number of atoms deleted.
    """
    s = translate(base, state.tx, state.tz, moving_grain)
    if reference is None or reference is base:
        return remove_close_pairs(s, state.cutoff_nn * d_nn, prefer_remove_grain=moving_grain)
    if reference.n_atoms != base.n_atoms:
        raise ValueError(f"reference has {reference.n_atoms} atoms, base {base.n_atoms}: not the same structure")
    ref = translate(reference, state.tx, state.tz, moving_grain)
    keep = close_pair_keep_mask(ref, state.cutoff_nn * d_nn, prefer_remove_grain=moving_grain)
    return s.select(keep), int((~keep).sum())


def deletion_levels(
    translated: Structure, d_nn: float, max_cutoff_nn: float, cutoffs_nn=None, max_levels: int = 0
) -> list[tuple[float, int]]:
    """Distinct deletion levels of one translated bicrystal: [(cutoff in d_nn, atoms deleted)], level 0 first.

    ``cutoffs_nn``: explicit cutoffs to try instead of every close-pair distance below ``max_cutoff_nn``.
    ``max_levels`` > 0 keeps at most that many levels, spread evenly over the deletion counts (0 and the largest
    always kept).
    """
    if cutoffs_nn is None:
        box = np.diag(translated.cell) if translated.is_orthogonal and all(translated.pbc) else None
        pts = np.mod(translated.positions - translated.origin, box) if box is not None else translated.positions
        tree = cKDTree(pts, boxsize=box)
        pairs = tree.query_pairs(max_cutoff_nn * d_nn, output_type="ndarray")
        d = translated.minimum_image(pts[pairs[:, 0]] - pts[pairs[:, 1]]) if len(pairs) else np.zeros((0, 3))
        dist = np.unique(np.round(np.linalg.norm(d, axis=1) / d_nn, 6))
        candidates = [0.0] + [float(x) + 1e-6 for x in dist]
    else:
        candidates = sorted({0.0, *map(float, cutoffs_nn)})
    levels: list[tuple[float, int]] = []
    seen = set()
    for cut in candidates:
        _, n = remove_close_pairs(translated, cut * d_nn) if cut > 0 else (None, 0)
        if n not in seen:
            seen.add(n)
            levels.append((round(cut, 6), int(n)))
    if max_levels and len(levels) > max_levels:
        pick = np.unique(np.round(np.linspace(0, len(levels) - 1, max_levels)).astype(int))
        levels = [levels[k] for k in pick]
    return levels


def geometry_key(s: Structure, k: int = 12, decimals: int = 3) -> bytes:
    """A key equal for two structures that are images of each other under an isometry of the periodic cell
    (a lattice translation, a mirror, a rotation): the multiset, over atoms, of each atom's sorted distances to
    its ``k`` nearest neighbours, rounded to 10^-``decimals`` Å. Trial states with the same key relax to the same
    boundary (up to that isometry) and need to be relaxed once. Orthogonal periodic cells."""
    box = np.diag(s.cell)
    pts = np.mod(s.positions - s.origin, box)
    d, _ = cKDTree(pts, boxsize=box).query(pts, k=k + 1)
    rows = np.round(d[:, 1:], decimals)
    rows = rows[np.lexsort(rows.T[::-1])]
    return hashlib.sha1(np.ascontiguousarray(rows).tobytes()).digest()


def neighbour_translations(tx: float, tz: float, step_x: float, step_z: float, periods_xz) -> list[tuple[float, float]]:
    """The 8 translations around (tx, tz) at ±step along x and z (wrapped into one CSL period); axes with a
    zero step are not varied."""
    px, pz = (float(p) for p in periods_xz)
    out = []
    for dx in (-step_x, 0.0, step_x) if step_x > 0 else (0.0,):
        for dz in (-step_z, 0.0, step_z) if step_z > 0 else (0.0,):
            if dx == 0.0 and dz == 0.0:
                continue
            out.append((float(np.mod(tx + dx, px)), float(np.mod(tz + dz, pz))))
    return out
