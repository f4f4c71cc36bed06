"""Neighbour vectors in periodic (orthogonal or triclinic) boxes, with explicit periodic ghost images.

All lengths in Å. Atoms are wrapped into the box along periodic directions, ghost copies within ``cutoff`` of
each periodic face are added (several layers when the box is thinner than the cutoff), and a ``cKDTree`` over
atoms + ghosts answers fixed-size k-nearest queries. The search is vectorised and can be run in chunks.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial import cKDTree

from nyegan.structure import Structure


def face_spacings(cell: np.ndarray) -> np.ndarray:
    """Distance (Å) between opposite faces of the cell spanned by rows of ``cell``, per cell vector."""
    inv = np.linalg.inv(cell)
    return 1.0 / np.linalg.norm(inv, axis=0)


class PeriodicNeighbours:
    """k-nearest neighbour search with periodic images for a :class:`Structure`.

    ``query(indices)`` returns, for the given atoms, neighbour vectors ``p`` (n, k, 3) = x_neighbour - x_atom (Å)
    and a boolean mask (n, k) of neighbours within ``cutoff`` (the atom itself is excluded).
    """

    def __init__(self, structure: Structure, cutoff: float, max_neighbours: int = 16, workers: int = 1):
        if cutoff <= 0:
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        self.cutoff = float(cutoff)
        self.k = int(max_neighbours)
        self.workers = workers
        cell = structure.cell
        frac = structure.fractional()
        for m in range(3):
            if structure.pbc[m]:
                frac[:, m] -= np.floor(frac[:, m])
        self.positions = frac @ cell  # wrapped, relative to the origin
        margin = self.cutoff / face_spacings(cell)
        layers = [int(np.ceil(margin[m])) if structure.pbc[m] else 0 for m in range(3)]
        parts, owners = [self.positions], [np.arange(len(frac))]
        for shift in itertools.product(*[range(-n, n + 1) for n in layers]):
            if not any(shift):
                continue
            shifted = frac + np.asarray(shift, dtype=float)
            keep = np.all((shifted > -margin) & (shifted < 1.0 + margin), axis=1)
            parts.append(shifted[keep] @ cell)
            owners.append(np.nonzero(keep)[0])
        self.all_positions = np.concatenate(parts)
        self.owner = np.concatenate(owners)
        self.tree = cKDTree(self.all_positions)

    def query(self, indices: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        centres = self.positions[indices]
        dist, idx = self.tree.query(centres, k=self.k + 1, distance_upper_bound=self.cutoff, workers=self.workers)
        dist, idx = dist[:, 1:], idx[:, 1:]  # the nearest hit (distance 0) is the atom itself
        valid = np.isfinite(dist)
        idx = np.where(valid, idx, 0)
        vectors = self.all_positions[idx] - centres[:, None, :]
        vectors[~valid] = 0.0
        return vectors, valid
