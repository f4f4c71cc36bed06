"""The in-memory atomic structure passed between builders, I/O and the LAMMPS driver."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Structure:
    """Atoms in a (restricted triclinic, LAMMPS-style) periodic box.

    positions: (N, 3) Cartesian coordinates, Å.
    cell: (3, 3) box vectors as rows (a along x, b in the xy plane), Å.
    origin: (3,) lower corner of the box, Å.
    grain: (N,) integer grain id >= 1, written as the LAMMPS atom type (all atoms are the same element).
    pbc: periodicity along the three box vectors.
    ids: (N,) LAMMPS atom ids (1..N when built here).
    extra: optional per-atom columns (e.g. ``pe`` per-atom energy, eV), each (N,) or (N, k).
    """

    positions: np.ndarray
    cell: np.ndarray
    grain: np.ndarray
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    pbc: tuple[bool, bool, bool] = (True, True, True)
    ids: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        self.positions = np.ascontiguousarray(self.positions, dtype=float).reshape(-1, 3)
        self.cell = np.asarray(self.cell, dtype=float).reshape(3, 3)
        self.origin = np.asarray(self.origin, dtype=float).reshape(3)
        self.grain = np.asarray(self.grain, dtype=int).reshape(-1)
        if self.ids is None:
            self.ids = np.arange(1, len(self.positions) + 1)
        self.ids = np.asarray(self.ids, dtype=int).reshape(-1)
        if not (len(self.grain) == len(self.positions) == len(self.ids)):
            raise ValueError("positions, grain and ids must have the same length")
        self.pbc = tuple(bool(p) for p in self.pbc)

    @property
    def n_atoms(self) -> int:
        return len(self.positions)

    @property
    def lengths(self) -> np.ndarray:
        """Box vector lengths, Å."""
        return np.linalg.norm(self.cell, axis=1)

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.cell)))

    @property
    def is_orthogonal(self) -> bool:
        return bool(np.all(np.abs(self.cell - np.diag(np.diag(self.cell))) <= 1e-10))  # = allclose(.., 0, atol=1e-10)

    def fractional(self) -> np.ndarray:
        """Fractional coordinates of the atoms with respect to the box (not wrapped)."""
        return np.linalg.solve(self.cell.T, (self.positions - self.origin).T).T

    def wrapped(self) -> Structure:
        """Copy with atoms wrapped into the box along periodic directions."""
        frac = self.fractional()
        for k in range(3):
            if self.pbc[k]:
                frac[:, k] -= np.floor(frac[:, k])
                frac[np.isclose(frac[:, k], 1.0, atol=1e-12), k] = 0.0
        pos = frac @ self.cell + self.origin
        return self.copy(positions=pos)

    def copy(self, **changes) -> Structure:
        data = dict(
            positions=self.positions.copy(),
            cell=self.cell.copy(),
            grain=self.grain.copy(),
            origin=self.origin.copy(),
            pbc=self.pbc,
            ids=self.ids.copy(),
            extra={k: v.copy() for k, v in self.extra.items()},
        )
        data.update(changes)
        return Structure(**data)

    def select(self, mask) -> Structure:
        """Copy keeping only the atoms where ``mask`` is true (ids renumbered 1..n)."""
        mask = np.asarray(mask)
        return Structure(
            positions=self.positions[mask],
            cell=self.cell.copy(),
            grain=self.grain[mask],
            origin=self.origin.copy(),
            pbc=self.pbc,
            ids=None,
            extra={k: v[mask] for k, v in self.extra.items()},
        )

    def minimum_image(self, vectors: np.ndarray) -> np.ndarray:
        """Apply the minimum-image convention to difference vectors (rows), along periodic directions."""
        frac = np.linalg.solve(self.cell.T, np.asarray(vectors, dtype=float).T).T
        for k in range(3):
            if self.pbc[k]:
                frac[:, k] -= np.round(frac[:, k])
        return frac @ self.cell
