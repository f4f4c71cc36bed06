"""Dislocation cores in relaxed Nye fields: is each one where the build put it, and where is it otherwise.

A core is *present* at a position when the line-z Burgers content ∫ α_iz dA over a square of half-side
``CORE_CHECK_RADIUS_A`` around it, projected on its signed Burgers vector, is at least ``CORE_CHECK_FRACTION`` of
|b|². During the relaxation, and more so in the quenched 300 K snapshots, a dislocation can glide away from its
build position (aluminium's Peierls stress is a few MPa) and stay in the grain, or annihilate with its partner,
or be absorbed by a boundary. :func:`locate_cores` keeps a core that is present, moves one that glided to where
the field carries it, and drops (NaN) one that the field no longer holds, so that the generator's core inputs
always say where the relaxed field has its dislocations.

Positions are fractions of the cell on the dataset's cell-centred grid (node i at (i + 1/2) / n); fields are
(3, 3, nx, ny[, nz]) in 1/Å, averaged along z in 3D; Burgers vectors in Å, box frame.
"""

from __future__ import annotations

import numpy as np

from nyegan.periodic import frac_distance, frac_offset

CORE_CHECK_RADIUS_A = 4.0  # half-side of the square around a core whose Burgers content is measured
CORE_CHECK_FRACTION = 0.5  # fraction of its Burgers vector a dislocation must show there to count as present
BOUNDARY_CLEARANCE_A = CORE_CHECK_RADIUS_A + 3.0  # a moved core must lie this far from a boundary: its square
# then stays clear of the boundary's own dislocation content, which a core absorbed by the boundary joins


def _line_content(alpha, dim: int) -> np.ndarray:
    """(3, nx, ny) α_iz of a 2D field, or of a 3D one averaged along z."""
    col = np.asarray(alpha, float)[:, 2]
    return col.mean(-1) if dim == 3 else col


def _offsets(cx: float, cy: float, L, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Periodic offsets (Å) of the grid's node columns (nx,) and rows (ny,) from the point (cx, cy) (fractions)."""
    dx = frac_offset((np.arange(nx) + 0.5) / nx, cx)
    dy = frac_offset((np.arange(ny) + 0.5) / ny, cy)
    return dx * L[0], dy * L[1]


def _square(cx: float, cy: float, L, nx: int, ny: int) -> np.ndarray:
    """(nx, ny) bool: the nodes within the square of half-side CORE_CHECK_RADIUS_A around (cx, cy)."""
    dx, dy = _offsets(cx, cy, L, nx, ny)
    return (np.abs(dx)[:, None] <= CORE_CHECK_RADIUS_A) & (np.abs(dy)[None, :] <= CORE_CHECK_RADIUS_A)


def dislocations_present(alpha: np.ndarray, cores: np.ndarray, lengths, burgers_box, dim: int) -> np.ndarray:
    """(K,) bool: whether each core of ``cores`` (K, 3: x_frac, y_frac, sign; NaN rows none) carries its Burgers
    vector in the field: the line-z content ∫ α_iz dA over a square of half-side CORE_CHECK_RADIUS_A Å around
    it, projected on sign · ``burgers_box`` (Å), is at least CORE_CHECK_FRACTION of |b|²."""
    b = np.asarray(burgers_box, float)
    out = np.zeros(len(cores), dtype=bool)
    if not np.any(b):
        return out
    col = _line_content(alpha, dim)
    nx, ny = col.shape[1:3]
    L = np.asarray(lengths, float)
    for k, (cx, cy, sign) in enumerate(cores):
        if not np.all(np.isfinite((cx, cy, sign))):
            continue
        box = _square(cx, cy, L, nx, ny)
        content = (col * box[None]).sum(axis=(1, 2)) * (L[0] / nx) * (L[1] / ny)  # Å
        out[k] = float(content @ (sign * b)) >= CORE_CHECK_FRACTION * float(b @ b)
    return out


def burgers_fraction_map(alpha: np.ndarray, lengths, burgers_box, dim: int) -> np.ndarray:
    """(nx, ny): at every grid node, the line-z content of the square of half-side CORE_CHECK_RADIUS_A around
    it projected on ``burgers_box``, over |b|² (1: one dislocation +b there, -1: one -b). The same squares as
    :func:`dislocations_present`, for all nodes at once (a periodic box filter by FFT)."""
    b = np.asarray(burgers_box, float)
    col = np.tensordot(b, _line_content(alpha, dim), axes=(0, 0)) / float(b @ b)  # (nx, ny) 1/Å
    nx, ny = col.shape
    L = np.asarray(lengths, float)
    kx = (np.minimum(np.arange(nx), nx - np.arange(nx)) / nx * L[0]) <= CORE_CHECK_RADIUS_A + 1e-9
    ky = (np.minimum(np.arange(ny), ny - np.arange(ny)) / ny * L[1]) <= CORE_CHECK_RADIUS_A + 1e-9
    kernel = np.outer(kx, ky).astype(float)
    boxed = np.fft.irfft2(np.fft.rfft2(col) * np.conj(np.fft.rfft2(kernel)), s=col.shape)
    return boxed * (L[0] / nx) * (L[1] / ny)


def locate_cores(alpha: np.ndarray, cores: np.ndarray, lengths, burgers_box, dim: int, gb_frac=None) -> np.ndarray:
    """(K, 3) the cores where the field holds them: a core present at its position (:func:`dislocations_present`)
    stays; a missing one moves to the grid node nearest to it (periodic distance in Å) whose square carries at
    least CORE_CHECK_FRACTION of its signed Burgers vector, at least BOUNDARY_CLEARANCE_A from the boundaries at
    fractional y ``gb_frac`` (if any) and outside the squares of the cores already placed, refined to the node of
    largest content within one square; a core with no such node (annihilated, or absorbed by a boundary) becomes
    NaN. Cores present where they are take their squares first, then the missing ones in order."""
    cores = np.array(cores, float)
    b = np.asarray(burgers_box, float)
    valid = np.isfinite(cores).all(axis=1)
    if not valid.any() or not np.any(b):
        return cores
    present = dislocations_present(alpha, cores, lengths, b, dim)
    missing = valid & ~present
    if not missing.any():
        return cores
    frac = burgers_fraction_map(alpha, lengths, b, dim)
    nx, ny = frac.shape
    L = np.asarray(lengths, float)
    x = (np.arange(nx) + 0.5) / nx
    y = (np.arange(ny) + 0.5) / ny

    def square(cx, cy):
        return _square(cx, cy, L, nx, ny)

    free = np.ones((nx, ny), dtype=bool)
    if gb_frac is not None:
        for g in np.atleast_1d(np.asarray(gb_frac, float)):
            free &= (frac_distance(y, g) * L[1] >= BOUNDARY_CLEARANCE_A)[None, :]
    for cx, cy, _ in cores[present]:
        free &= ~square(cx, cy)
    for k in np.flatnonzero(missing):
        cx, cy, sign = cores[k]
        ok = free & (sign * frac >= CORE_CHECK_FRACTION)
        if not ok.any():
            cores[k] = np.nan
            continue
        dx, dy = _offsets(cx, cy, L, nx, ny)
        d = np.where(ok, np.hypot(dx[:, None], dy[None, :]), np.inf)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        near = ok & square(x[i], y[j])
        i, j = np.unravel_index(np.argmax(np.where(near, sign * frac, -np.inf)), frac.shape)
        cores[k, :2] = (x[i], y[j])
        free &= ~square(x[i], y[j])
    return cores
