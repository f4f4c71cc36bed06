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
        # near[m][s]: atoms whose image shifted by s cells along vector m lies within the margin of the box
        near = [
            {
                s: (frac[:, m] + s > -margin[m]) & (frac[:, m] + s < 1.0 + margin[m])
                for s in range(-layers[m], layers[m] + 1)
            }
            for m in range(3)
        ]
        parts, owners = [self.positions], [np.arange(len(frac))]
        for shift in itertools.product(*[range(-n, n + 1) for n in layers]):
            if not any(shift):
                continue
            keep = np.flatnonzero(near[0][shift[0]] & near[1][shift[1]] & near[2][shift[2]])
            parts.append(self.positions[keep] + np.asarray(shift, dtype=float) @ cell)
            owners.append(keep)
        self.all_positions = np.concatenate(parts)
        self.owner = np.concatenate(owners)
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
