"""Analytic Nye fields of straight dislocations with Gaussian-regularised cores on periodic grids (validation input).

A straight dislocation along box z with Burgers vector b at (x0, y0) has alpha_iz = b_i delta(x - x0, y - y0)
(b_i = integral of alpha_iz dS, counter-clockwise about +z); its core is regularised by a normalised Gaussian of
width ``width`` (Å). Lattice-periodic images are summed over the 3 x 3 neighbouring cells, so the field is
periodic on any (also tilted) cell larger than a few widths. Grid nodes sit at ``origin + sum_d (n_d / N_d) cell_d``
as in the Nye stage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def node_positions(cell: np.ndarray, grid: Sequence[int], origin=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Cartesian positions (*grid, 3), Å, of the nodes of a grid along the first len(grid) cell vectors."""
    cell = np.asarray(cell, dtype=float)
    fr = np.meshgrid(*[np.arange(n) / n for n in grid], indexing="ij")
    pos = np.zeros(tuple(grid) + (3,)) + np.asarray(origin, dtype=float)
    for d, f in enumerate(fr):
        pos += f[..., None] * cell[d]
    return pos


def gaussian_line_alpha(
    cell: np.ndarray, grid: Sequence[int], positions, burgers, width: float, origin=(0.0, 0.0, 0.0)
) -> np.ndarray:
    """alpha (3, 3, *grid), 1/Å, of straight dislocations along z: ``positions`` (n, 2) box (x, y) in Å,
    ``burgers`` (n, 3) in Å (one vector per line, signs included). 2D grid (nx, ny) or 3D (z-invariant)."""
    cell = np.asarray(cell, dtype=float)
    pts = node_positions(cell, grid, origin)[..., :2]
    positions = np.asarray(positions, dtype=float).reshape(-1, 2)
    burgers = np.asarray(burgers, dtype=float).reshape(-1, 3)
    if len(positions) != len(burgers):
        raise ValueError("give one Burgers vector per dislocation position")
    if width <= 0:
        raise ValueError(f"core width must be > 0 Å, got {width}")
    a, b = cell[0, :2], cell[1, :2]
    g_total = np.zeros((len(positions),) + tuple(grid))
    frac_inv = np.linalg.inv(np.array([a, b]))
    for k, p in enumerate(positions):
        d = pts - p
        f = d @ frac_inv
        f -= np.round(f)  # wrap, then sum the neighbouring images
        d = f @ np.array([a, b])
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                r2 = ((d + i * a + j * b) ** 2).sum(-1)
                g_total[k] += np.exp(-0.5 * r2 / width**2)
    g_total /= 2.0 * np.pi * width**2
    alpha = np.zeros((3, 3) + tuple(grid))
    alpha[:, 2] = np.einsum("ki,k...->i...", burgers, g_total)
    return alpha


def distance_to_points(cell: np.ndarray, grid: Sequence[int], positions, origin=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Smallest in-plane distance (Å) from every node (*grid) to any of ``positions`` (n, 2) or their images."""
    cell = np.asarray(cell, dtype=float)
    pts = node_positions(cell, grid, origin)[..., :2]
    a, b = cell[0, :2], cell[1, :2]
    best = np.full(tuple(grid), np.inf)
    for p in np.asarray(positions, dtype=float).reshape(-1, 2):
        for i in (-2, -1, 0, 1, 2):
            for j in (-2, -1, 0, 1, 2):
                best = np.minimum(best, np.sqrt(((pts - p - i * a - j * b) ** 2).sum(-1)))
    return best
