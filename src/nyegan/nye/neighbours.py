"""Neighbours within a cutoff in periodic (orthogonal or triclinic) boxes. All lengths in Å.

Two searches over the same definition (every other atom closer than ``cutoff``, through any periodic image):

- :func:`neighbour_pairs`: each pair once, as planar vector arrays, in spatial chunks (slabs) of atoms. Orthogonal
  cells whose periodic lengths exceed twice the cutoff use a periodic ``cKDTree`` (``boxsize``, no image copies);
  other cells (triclinic, or thinner than twice the cutoff) search among explicit periodic images. A slab is
  searched with a halo of images one cutoff deep on either side, so memory follows the chunk, not the cell.
- :class:`PeriodicNeighbours`: fixed-size k-nearest queries per atom ((n, k, 3) vectors), for code that wants
  each atom's neighbours side by side.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from nyegan.structure import Structure

LEAF_SIZE = 32  # cKDTree leaf size: fastest pair search on fcc cells (measured 16..48)
SLAB_MIN_CUTOFFS = 4.0  # a slab is at least this many cutoffs thick (its halo stays a small fraction)


def face_spacings(cell: np.ndarray) -> np.ndarray:
    """Distance (Å) between opposite faces of the cell spanned by rows of ``cell``, per cell vector."""
    inv = np.linalg.inv(cell)
    return 1.0 / np.linalg.norm(inv, axis=0)


def wrapped_fractional(structure: Structure) -> np.ndarray:
    """Fractional coordinates (N, 3), wrapped into [0, 1) along periodic cell vectors (not along the others)."""
    frac = structure.fractional()
    for m in range(3):
        if structure.pbc[m]:
            col = frac[:, m]
            col -= np.floor(col)
            col[col >= 1.0] = 0.0  # -1e-17 wraps to 1 - 1e-17, which rounds to 1.0
    return frac


def periodic_images(
    frac: np.ndarray, cell: np.ndarray, pbc, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the atoms (``frac`` wrapped along periodic vectors) followed by their periodic images within
    ``cutoff`` of the box faces (several layers when the box is thinner than the cutoff).

    Returns Cartesian positions relative to the origin (M, 3) (the N atoms first), the atom each row is an image
    of (M,), and the number of cells each row is shifted by along each cell vector (M, 3).
    """
    positions = frac @ cell
    margin = cutoff / face_spacings(cell)
    layers = [int(np.ceil(margin[m])) if pbc[m] else 0 for m in range(3)]
    # near[m][s]: atoms whose image shifted by s cells along periodic vector m lies within the margin of the box
    # (all atoms along a non-periodic vector, even those outside the box)
    near = [
        {
            s: (frac[:, m] + s > -margin[m]) & (frac[:, m] + s < 1.0 + margin[m])
            for s in range(-layers[m], layers[m] + 1)
        }
        if pbc[m]
        else {0: np.ones(len(frac), dtype=bool)}
        for m in range(3)
    ]
    parts, owners, shifts = [positions], [np.arange(len(frac))], [np.zeros((len(frac), 3), dtype=np.int64)]
    for shift in itertools.product(*[range(-n, n + 1) for n in layers]):
        if not any(shift):
            continue
        keep = np.flatnonzero(near[0][shift[0]] & near[1][shift[1]] & near[2][shift[2]])
        parts.append(positions[keep] + np.asarray(shift, dtype=float) @ cell)
        owners.append(keep)
        shifts.append(np.broadcast_to(np.asarray(shift, dtype=np.int64), (len(keep), 3)))
    return np.concatenate(parts), np.concatenate(owners), np.concatenate(shifts)


@dataclass
class BondPairs:
    """Pairs of atoms closer than the cutoff, each pair once, for one chunk of centre atoms.

    a, b: (M,) atom indices (of the structure); d: (3, M) the vector x_b - x_a (Å) to the image of b within the
    cutoff, one row per Cartesian component. The bond is seen from a as +d and from b as -d; ``a_side`` /
    ``b_side`` (M,) say which of these views belong to the chunk's ``centres`` (ascending atom indices) and are
    kept. (Near periodic faces of a triclinic or thin cell, a pair between an atom and another atom's image holds
    only the first atom's view; the second atom's view is the pair with the first atom's opposite image.)
    """

    a: np.ndarray
    b: np.ndarray
    d: np.ndarray
    a_side: np.ndarray
    b_side: np.ndarray
    centres: np.ndarray

    def neighbour_counts(self, n_atoms: int) -> np.ndarray:
        """Number of kept neighbours of every atom (N,) (zero outside the chunk)."""
        return np.bincount(self.a[self.a_side], minlength=n_atoms) + np.bincount(self.b[self.b_side], minlength=n_atoms)

    def keep_nearest(self, k: int, n_atoms: int) -> None:
        """Drop, for atoms with more than ``k`` neighbours, the views of all but the ``k`` nearest (in place)."""
        over = self.neighbour_counts(n_atoms) > k
        if not over.any():
            return
        rows_a = np.flatnonzero(self.a_side & over[self.a])
        rows_b = np.flatnonzero(self.b_side & over[self.b])
        rows = np.concatenate([rows_a, rows_b])
        atom = np.concatenate([self.a[rows_a], self.b[rows_b]])
        r2 = np.einsum("kr,kr->r", self.d[:, rows], self.d[:, rows])
        order = np.lexsort((r2, atom))
        atom_sorted = atom[order]
        first = np.flatnonzero(np.r_[True, atom_sorted[1:] != atom_sorted[:-1]])
        rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
        drop = order[rank >= k]
        self.a_side[rows_a[drop[drop < len(rows_a)]]] = False
        self.b_side[rows_b[drop[drop >= len(rows_a)] - len(rows_a)]] = False


def _tree_pairs(frac: np.ndarray, cell: np.ndarray, pbc, cutoff: float):
    """Pairs closer than ``cutoff`` among atoms at fractional coordinates ``frac`` (wrapped along periodic vectors).

    Returns row indices (ra, rb), the vector x_b - x_a (3, M) and a flag (M,) telling whether rb is the atom
    itself (True) or one of its images (False; then only ra's view of the bond is in this pair).
    """
    radius = np.nextafter(cutoff, 0.0)  # strictly closer than the cutoff
    lengths = np.diag(cell).copy()
    orthogonal = np.abs(cell - np.diag(lengths)).max() <= 1e-12 * np.abs(cell).max()
    if orthogonal and all(lengths[m] > 2.0 * cutoff for m in range(3) if pbc[m]):
        # one image of each atom within the cutoff at most: a periodic tree, no image copies
        x = [frac[:, m] * lengths[m] for m in range(3)]
        box = lengths.copy()
        for m in range(3):
            if pbc[m]:
                x[m][x[m] >= lengths[m]] = 0.0
            else:  # no wrap: a box longer than the extent of the atoms by more than the cutoff
                x[m] -= x[m].min() if len(x[m]) else 0.0
                box[m] = (x[m].max() if len(x[m]) else 0.0) + 2.0 * cutoff + 1.0
        tree = cKDTree(np.column_stack(x), leafsize=LEAF_SIZE, boxsize=box)
        pairs = tree.query_pairs(radius, output_type="ndarray")
        ra, rb = np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
        d = np.empty((3, len(ra)))
        for m in range(3):
            np.subtract(np.take(x[m], rb), np.take(x[m], ra), out=d[m])
            if pbc[m]:
                d[m] -= lengths[m] * np.rint(d[m] / lengths[m])
        return ra, rb, d, np.ones(len(ra), dtype=bool)
    positions, owner, _ = periodic_images(frac, cell, pbc, cutoff)
    tree = cKDTree(positions, leafsize=LEAF_SIZE)
    pairs = tree.query_pairs(radius, output_type="ndarray")
    n = len(frac)
    pairs = pairs[pairs[:, 0] < n]  # ra < rb and the atoms come first: drop image-image pairs
    ra, rb = np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
    d = np.empty((3, len(ra)))
    for m in range(3):
        np.subtract(np.take(positions[:, m], rb), np.take(positions[:, m], ra), out=d[m])
    return ra, owner[rb], d, rb < n


def slab_count(structure: Structure, cutoff: float, chunk: int) -> int:
    """Number of slabs for chunks of about ``chunk`` atoms (each slab at least SLAB_MIN_CUTOFFS cutoffs thick)."""
    wanted = int(np.ceil(structure.n_atoms / max(int(chunk), 1)))
    thick = face_spacings(structure.cell).max()
    return int(max(1, min(wanted, np.floor(thick / (SLAB_MIN_CUTOFFS * cutoff)))))


def neighbour_pairs(
    structure: Structure, cutoff: float, n_slabs: int = 1, frac: np.ndarray | None = None
) -> Iterator[BondPairs]:
    """Pairs of atoms closer than ``cutoff`` (Å), in ``n_slabs`` slabs of centre atoms across the thickest cell
    direction (:func:`slab_pairs`); every atom is a centre of exactly one slab, and each of its bonds is seen once
    from it. ``frac``: wrapped fractional coordinates when already at hand (:func:`wrapped_fractional`).
    """
    frac = wrapped_fractional(structure) if frac is None else frac
    for k in range(max(int(n_slabs), 1)):
        yield slab_pairs(structure, cutoff, n_slabs, k, frac)


def slab_pairs(structure: Structure, cutoff: float, n_slabs: int, k: int, frac: np.ndarray) -> BondPairs:
    """Pairs of slab ``k`` of ``n_slabs`` equal slabs across the thickest cell direction: its atoms are the centres,
    searched together with a halo of atoms and periodic images one cutoff deep on either side."""
    if cutoff <= 0:
        raise ValueError(f"cutoff must be positive, got {cutoff}")
    cell, pbc = structure.cell, structure.pbc
    if n_slabs <= 1:
        ra, rb, d, b_real = _tree_pairs(frac, cell, pbc, cutoff)
        return BondPairs(ra, rb, d, np.ones(len(ra), dtype=bool), b_real, np.arange(len(frac)))
    m = int(np.argmax(face_spacings(cell)))
    s = frac[:, m]
    lo, hi = (0.0, 1.0) if pbc[m] else (float(s.min()), float(np.nextafter(s.max(), np.inf)))
    e0, e1 = lo + (hi - lo) * k / n_slabs, (hi if k == n_slabs - 1 else lo + (hi - lo) * (k + 1) / n_slabs)
    halo = cutoff / face_spacings(cell)[m]
    centres = np.flatnonzero((s >= e0) & (s < e1))
    rows, shifts = [centres], [np.zeros(len(centres))]
    for t in (-1.0, 0.0, 1.0) if pbc[m] else (0.0,):
        st = s + t
        near = (st >= e0 - halo) & (st < e1 + halo)
        if t == 0.0:
            near &= (s < e0) | (s >= e1)
        idx = np.flatnonzero(near)
        rows.append(idx)
        shifts.append(np.full(len(idx), t))
    region = np.concatenate(rows)
    f = frac[region]
    f[:, m] += np.concatenate(shifts)
    region_pbc = tuple(p and j != m for j, p in enumerate(pbc))
    ra, rb, d, b_real = _tree_pairs(f, cell, region_pbc, cutoff)
    n_core = len(centres)
    a_side = ra < n_core
    b_side = b_real & (rb < n_core)
    keep = np.flatnonzero(a_side | b_side)
    return BondPairs(region[ra[keep]], region[rb[keep]], d[:, keep], a_side[keep], b_side[keep], centres)


class PeriodicNeighbours:
    """k-nearest neighbour search with periodic images for a :class:`Structure`.

    ``query(indices)`` returns, for the given atoms, neighbour vectors ``p`` (n, k, 3) = x_neighbour - x_atom (Å)
    and a boolean mask (n, k) of neighbours within ``cutoff`` (the atom itself is excluded), nearest first.
    """

    def __init__(self, structure: Structure, cutoff: float, max_neighbours: int = 16, workers: int = 1):
        if cutoff <= 0:
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        self.cutoff = float(cutoff)
        self.k = int(max_neighbours)
        self.workers = workers
        frac = structure.fractional()
        for m in range(3):
            if structure.pbc[m]:
                frac[:, m] -= np.floor(frac[:, m])
        self.all_positions, self.owner, _ = periodic_images(frac, structure.cell, structure.pbc, self.cutoff)
        self.positions = self.all_positions[: len(frac)]  # wrapped, relative to the origin
        self.tree = cKDTree(self.all_positions)
        self._padded = np.concatenate([self.all_positions, np.zeros((1, 3))])  # row for 'no neighbour'

    def query(self, indices: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        centres = self.positions[indices]
        _, idx = self.tree.query(centres, k=self.k + 1, distance_upper_bound=self.cutoff, workers=self.workers)
        idx = idx[:, 1:]  # the nearest hit (distance 0) is the atom itself
        valid = idx < len(self.all_positions)  # missing neighbours come back as index len(all_positions)
        vectors = self._padded[idx]
        vectors -= centres[:, None, :]
        vectors *= valid[..., None]
        return vectors, valid
