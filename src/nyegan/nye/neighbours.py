"""Neighbours within a cutoff in periodic (orthogonal or triclinic) boxes. All lengths in Å.

Two searches over the same definition (every other atom closer than ``cutoff``, through any periodic image):

- :func:`neighbour_pairs`: each pair once, as planar vector arrays, in spatial blocks of atoms, with one
  ``cKDTree.query_pairs`` per block: a periodic tree (``boxsize``, no image copies) in thin orthogonal cells, a
  plain tree over the atoms and their periodic images within the cutoff of the faces otherwise (triclinic,
  thick, or thinner than twice the cutoff). A block is searched with a halo one cutoff deep around it, so
  memory follows the block, not the cell, and the per-pair arrays of a block stay small enough for the cache.
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

BLOCK_MIN_CUTOFFS = 4.0  # a block is at least this many cutoffs thick (its halo stays a small fraction)
SPATIAL_ORDER_MIN_ATOMS = 200_000  # larger search regions are put in spatial order (cache-friendly)


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


def periodic_images(frac: np.ndarray, cell: np.ndarray, pbc, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the atoms (``frac`` wrapped along periodic vectors) followed by their periodic images within
    ``cutoff`` of the box faces (several layers when the box is thinner than the cutoff).

    Returns Cartesian positions relative to the origin (M, 3) (the N atoms first) and the atom each row is an
    image of (M,).
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
    parts, owners = [positions], [np.arange(len(frac))]
    for shift in itertools.product(*[range(-n, n + 1) for n in layers]):
        if not any(shift):
            continue
        keep = np.flatnonzero(near[0][shift[0]] & near[1][shift[1]] & near[2][shift[2]])
        parts.append(positions[keep] + np.asarray(shift, dtype=float) @ cell)
        owners.append(keep)
    return np.concatenate(parts), np.concatenate(owners)


@dataclass
class BondPairs:
    """Pairs of atoms closer than the cutoff, each pair once, found in one search region (a chunk of centre atoms
    and the halo around it).

    atoms: (R,) the structure index of each row of the region, the ``n_centres`` centre atoms first.
    a, b: (M,) region rows; d: (3, M) the vector x_b - x_a (Å) to the image of b within the cutoff, one row per
    Cartesian component. The bond is seen from a as +d and from b as -d; ``a_side`` / ``b_side`` (M,) say which
    of these views belong to centre atoms and are kept. (Near periodic faces of a triclinic or thin cell, a pair
    between an atom and another atom's image holds only the first atom's view; the second atom's view is the pair
    with the first atom's opposite image.)
    """

    atoms: np.ndarray
    n_centres: int
    a: np.ndarray
    b: np.ndarray
    d: np.ndarray
    a_side: np.ndarray
    b_side: np.ndarray
    all_sides: bool = False  # every view is kept (a_side and b_side all true)

    @property
    def centres(self) -> np.ndarray:
        """Structure indices of the centre atoms (rows 0 .. n_centres - 1 of the region)."""
        return self.atoms[: self.n_centres]

    def neighbour_counts(self) -> np.ndarray:
        """Number of kept neighbours of every centre row (n_centres,)."""
        n = self.n_centres
        if self.all_sides:
            return np.bincount(self.a, minlength=n) + np.bincount(self.b, minlength=n)
        return np.bincount(self.a[self.a_side], minlength=n) + np.bincount(self.b[self.b_side], minlength=n)

    def keep_nearest(self, k: int) -> None:
        """Drop, for centres with more than ``k`` neighbours, the views of all but the ``k`` nearest (in place)."""
        over = self.neighbour_counts() > k
        if not over.any():
            return
        self.all_sides = False
        over = np.concatenate([over, np.zeros(len(self.atoms) - self.n_centres, dtype=bool)])
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


def image_factor(cell: np.ndarray, pbc, cutoff: float) -> float:
    """Rows of a search among explicit periodic images per atom (the atoms and their images within ``cutoff``
    of the faces of periodic cell vectors), estimated from the face spacings."""
    margin = cutoff / face_spacings(cell)
    return float(np.prod([1.0 + 2.0 * margin[m] if pbc[m] else 1.0 for m in range(3)]))


def periodic_tree_cost(lengths: np.ndarray, pbc, cutoff: float) -> float:
    """Cost per atom of a periodic-tree pair search relative to a plain tree's per row (measured on fcc cells of
    4e3 to 3e5 atoms: about the same when a periodic length is below three cutoffs, 1.9 times otherwise)."""
    thin = any(lengths[m] < 3.0 * cutoff for m in range(3) if pbc[m])
    return 1.0 if thin else 1.9


def _tree_pairs(frac: np.ndarray, cell: np.ndarray, pbc, cutoff: float):
    """Pairs closer than ``cutoff`` among atoms at fractional coordinates ``frac`` (wrapped along periodic vectors).

    Returns row indices (ra, rb), the vector x_b - x_a (3, M) and a flag (M,) telling whether rb is the atom
    itself (True) or one of its images (False; then only ra's view of the bond is in this pair).

    A periodic ``cKDTree`` (no image copies) needs an orthogonal cell whose periodic lengths exceed twice the
    cutoff; it is used when it is expected to beat a plain tree over the atoms and their images
    (:func:`periodic_tree_cost` against :func:`image_factor`): in thin cells.
    """
    radius = np.nextafter(cutoff, 0.0)  # strictly closer than the cutoff
    lengths = np.diag(cell).copy()
    orthogonal = np.abs(cell - np.diag(lengths)).max() <= 1e-12 * np.abs(cell).max()
    periodic_tree = orthogonal and all(lengths[m] > 2.0 * cutoff for m in range(3) if pbc[m])
    if periodic_tree and periodic_tree_cost(lengths, pbc, cutoff) < image_factor(cell, pbc, cutoff):
        # one image of each atom within the cutoff at most: a periodic tree, no image copies
        x = [frac[:, m] * lengths[m] for m in range(3)]
        box = lengths.copy()
        for m in range(3):
            if pbc[m]:
                x[m][x[m] >= lengths[m]] = 0.0
            else:  # no wrap: a box longer than the extent of the atoms by more than the cutoff
                x[m] -= x[m].min() if len(x[m]) else 0.0
                box[m] = (x[m].max() if len(x[m]) else 0.0) + 2.0 * cutoff + 1.0
        tree = cKDTree(np.column_stack(x), leafsize=32, boxsize=box)
        pairs = tree.query_pairs(radius, output_type="ndarray")
        ra, rb = np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
        del pairs, tree
        d = np.empty((3, len(ra)))
        for m in range(3):
            np.subtract(np.take(x[m], rb), np.take(x[m], ra), out=d[m])
            if pbc[m]:
                d[m] -= lengths[m] * np.rint(d[m] / lengths[m])
        return ra, rb, d, np.ones(len(ra), dtype=bool)
    positions, owner = periodic_images(frac, cell, pbc, cutoff)
    tree = cKDTree(positions, leafsize=16)
    pairs = tree.query_pairs(radius, output_type="ndarray")
    del tree
    n = len(frac)
    if len(positions) > n:
        pairs = pairs[pairs[:, 0] < n]  # ra < rb and the atoms come first: drop image-image pairs
    ra, rb = np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
    del pairs
    d = np.empty((3, len(ra)))
    for m in range(3):
        np.subtract(np.take(positions[:, m], rb), np.take(positions[:, m], ra), out=d[m])
    return ra, owner[rb], d, rb < n


def spatial_order(frac: np.ndarray, cell: np.ndarray, cutoff: float) -> np.ndarray:
    """Permutation putting atoms in the order of cells about two cutoffs wide (so that atoms close in space are
    close in memory: the pair search and the per-pair arrays then walk memory in order)."""
    n_cells = np.maximum(1, np.floor(face_spacings(cell) / (2.0 * cutoff))).astype(np.int64)
    c = np.clip(np.floor(frac * n_cells).astype(np.int64), 0, n_cells - 1)
    return np.argsort((c[:, 0] * n_cells[1] + c[:, 1]) * n_cells[2] + c[:, 2], kind="stable")


@dataclass
class Region:
    """Atoms searched together: the structure index of each row (the ``n_centres`` centre atoms first), their
    fractional coordinates (shifted by whole cells for periodic images in a halo) and the cell vectors along which
    the region is still periodic."""

    atoms: np.ndarray
    frac: np.ndarray
    n_centres: int
    pbc: tuple[bool, bool, bool]


def block_counts(structure: Structure, cutoff: float, chunk: int) -> tuple[int, int, int]:
    """Blocks along each cell vector for about ``chunk`` atoms per block, blocks as near cubic as the cell allows
    and each at least BLOCK_MIN_CUTOFFS cutoffs thick (a block's halo, one cutoff deep, stays a small part of it)."""
    wanted = structure.n_atoms / max(int(chunk), 1)
    if wanted <= 1:
        return (1, 1, 1)
    h = face_spacings(structure.cell)
    most = np.maximum(1, np.floor(h / (BLOCK_MIN_CUTOFFS * cutoff))).astype(int)
    counts = np.ones(3, dtype=int)
    for _ in range(3):  # side of a cubic block; axes too thin for it keep one block, the others share the rest
        free = counts < most
        side = (np.prod(h[free]) / (wanted / np.prod(counts[~free]))) ** (1.0 / max(free.sum(), 1))
        counts = np.clip(np.round(h / side).astype(int), 1, most)
    return tuple(int(c) for c in counts)


def search_regions(structure: Structure, cutoff: float, counts, frac: np.ndarray) -> Iterator[Region]:
    """The blocks of ``counts`` (per cell vector) blocks, each with a halo of atoms and periodic images one cutoff
    deep around it, split one cell vector after the other (each split scans only its parent's atoms)."""
    n = len(frac)
    root = Region(np.arange(n), frac, n, structure.pbc)
    core = np.ones(n, dtype=bool)
    h = face_spacings(structure.cell)
    yield from _split(root, core, list(enumerate(counts)), h, cutoff)


def _split(region: Region, core: np.ndarray, todo: list, h: np.ndarray, cutoff: float) -> Iterator[Region]:
    """Regions of the blocks of ``region`` along the remaining (axis, count) pairs ``todo``; ``core``: rows of
    the region that are centre candidates (atoms inside all blocks so far, not images)."""
    if not todo:
        if core.all():
            yield Region(region.atoms, region.frac, len(core), region.pbc)
        else:
            order = np.argsort(~core, kind="stable")  # centres first
            yield Region(region.atoms[order], region.frac[order], int(core.sum()), region.pbc)
        return
    (m, parts), rest = todo[0], todo[1:]
    if parts <= 1:
        yield from _split(region, core, rest, h, cutoff)
        return
    s = region.frac[:, m]
    periodic = region.pbc[m]
    lo, hi = (0.0, 1.0) if periodic else (float(s.min()), float(np.nextafter(s.max(), np.inf)))
    halo = cutoff / h[m]
    pbc = tuple(p and j != m for j, p in enumerate(region.pbc))
    for k in range(parts):
        e0 = lo + (hi - lo) * k / parts
        e1 = hi if k == parts - 1 else lo + (hi - lo) * (k + 1) / parts
        atoms, fracs, cores = [], [], []
        for t in (-1.0, 0.0, 1.0) if periodic else (0.0,):
            rows = np.flatnonzero((s + t >= e0 - halo) & (s + t < e1 + halo))
            f = region.frac[rows]
            if t:
                f[:, m] += t
                cores.append(np.zeros(len(rows), dtype=bool))
            else:
                cores.append(core[rows] & (s[rows] >= e0) & (s[rows] < e1))
            atoms.append(region.atoms[rows])
            fracs.append(f)
        sub = Region(np.concatenate(atoms), np.concatenate(fracs), 0, pbc)
        yield from _split(sub, np.concatenate(cores), rest, h, cutoff)


def region_pairs(region: Region, cell: np.ndarray, cutoff: float) -> BondPairs:
    """Pairs closer than ``cutoff`` among the atoms of ``region`` (periodic along ``region.pbc``), with the views
    of the centre atoms kept. Regions of more than SPATIAL_ORDER_MIN_ATOMS rows are searched in
    :func:`spatial_order` (centres and halo each)."""
    atoms, frac, nc = region.atoms, region.frac, region.n_centres
    if len(atoms) > SPATIAL_ORDER_MIN_ATOMS:
        order = np.concatenate([spatial_order(frac[:nc], cell, cutoff), nc + spatial_order(frac[nc:], cell, cutoff)])
        atoms, frac = atoms[order], frac[order]
    ra, rb, d, b_real = _tree_pairs(frac, cell, region.pbc, cutoff)
    del frac
    if nc == len(atoms):
        return BondPairs(atoms, nc, ra, rb, d, np.ones(len(ra), dtype=bool), b_real, all_sides=bool(b_real.all()))
    a_side = ra < nc
    b_side = b_real & (rb < nc)
    keep = np.flatnonzero(a_side | b_side)
    return BondPairs(atoms, nc, ra[keep], rb[keep], d[:, keep], a_side[keep], b_side[keep])


def neighbour_pairs(
    structure: Structure, cutoff: float, chunk: int = 1 << 62, frac: np.ndarray | None = None
) -> Iterator[BondPairs]:
    """Pairs of atoms closer than ``cutoff`` (Å), one :class:`BondPairs` per spatial block of about ``chunk``
    atoms (:func:`block_counts`); every atom is a centre of exactly one block, and each of its bonds is seen once
    from it. ``frac``: wrapped fractional coordinates when already at hand (:func:`wrapped_fractional`).
    """
    if cutoff <= 0:
        raise ValueError(f"cutoff must be positive, got {cutoff}")
    frac = wrapped_fractional(structure) if frac is None else frac
    for region in search_regions(structure, cutoff, block_counts(structure, cutoff, chunk), frac):
        yield region_pairs(region, structure.cell, cutoff)


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
        self.all_positions, self.owner = periodic_images(frac, structure.cell, structure.pbc, self.cutoff)
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
