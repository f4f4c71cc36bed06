"""Regular grids along the cell vectors: cloud-in-cell deposition, Gaussian normalised convolution, curl.

Grid nodes sit at fractional coordinates s_m = i / n_m along each cell vector (n_m nodes when periodic,
n_m + 1 nodes spanning [0, 1] when not). One dimension may be averaged away (a straight defect along a cell
vector parallel to a box axis). Fields are deposited with cloud-in-cell weights, smoothed with an isotropic
Gaussian (width ``smoothing`` Å, FFT; zero padding along non-periodic directions) and normalised by the smoothed
weight (normalised convolution), so a uniform per-atom field stays exactly uniform. Nodes where the smoothed
weight falls below ``mask_fraction`` of the bulk value (outside free surfaces, voids) are masked (NaN).
The transforms run in the precision of the field given (the Nye stage smooths float32 deviations of G from
its mean, ~1e-7 relative); differences, curl and divergence are always float64.

Derivatives: d/dx_k = sum_m inv(cell)[k, m] D_m with D_m the central difference along grid axis m. The D_m commute,
so the discrete div of the discrete curl vanishes identically, and on periodic axes sum_i D_m f = 0 exactly, so
the cell average of a curl is exactly zero.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import fft as sfft

from nyegan.grid_memory import NYE_BYTES_PER_NODE, check_grid_memory, grid_memory_gb  # noqa: F401 (re-exported)

CURL_BATCH_BYTES = 64 << 20  # differences of the three G_li taken together while they fit in this much memory
_KERNELS: OrderedDict = OrderedDict()  # recent Gaussian kernels (Grid.gaussian_kernel)

EPS = np.zeros((3, 3, 3))
EPS[0, 1, 2] = EPS[1, 2, 0] = EPS[2, 0, 1] = 1.0
EPS[0, 2, 1] = EPS[2, 1, 0] = EPS[1, 0, 2] = -1.0


@dataclass
class Grid:
    """A grid over a (possibly triclinic) box. ``dims``: the cell-vector indices kept (averaged one dropped)."""

    cell: np.ndarray  # (3, 3) rows, Å
    origin: np.ndarray  # (3,) Å
    pbc: tuple[bool, bool, bool]
    n: tuple[int, int, int]  # intervals per cell vector
    dims: tuple[int, ...]  # kept cell-vector indices (0, 1, 2) or two of them
    workers: int = 1  # threads for the FFTs

    @classmethod
    def build(
        cls, cell, origin, pbc, spacing: float, average_along: int | None = None, workers: int = 1, n=None
    ) -> Grid:
        """Grid of about ``spacing`` Å along each cell vector (or exactly ``n`` intervals per cell vector)."""
        if not spacing > 0:
            raise ValueError(f"spacing must be a positive grid spacing in Å, got {spacing}")
        lengths = np.linalg.norm(cell, axis=1)
        n = tuple(int(v) for v in n) if n is not None else tuple(max(3, int(round(L / spacing))) for L in lengths)
        dims = tuple(m for m in range(3) if m != average_along)
        return cls(np.asarray(cell, float), np.asarray(origin, float), tuple(pbc), n, dims, int(workers))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.n[m] if self.pbc[m] else self.n[m] + 1 for m in self.dims)

    @cached_property
    def inv_cell(self) -> np.ndarray:
        return np.linalg.inv(self.cell)

    @property
    def steps(self) -> np.ndarray:
        """Node spacing along each cell vector, Å (all three, averaged one included)."""
        return np.linalg.norm(self.cell, axis=1) / np.asarray(self.n)

    def fractions(self, m: int) -> np.ndarray:
        return np.arange(self.n[m] if self.pbc[m] else self.n[m] + 1) / self.n[m]

    def node_area_or_volume(self) -> float:
        """Measure (Å^2 in 2D across the averaged vector, Å^3 in 3D) of the region one node stands for."""
        if len(self.dims) == 3:
            return abs(np.linalg.det(self.cell)) / np.prod(self.n)
        a, b = self.cell[self.dims[0]], self.cell[self.dims[1]]
        return float(np.linalg.norm(np.cross(a, b))) / (self.n[self.dims[0]] * self.n[self.dims[1]])

    # --- deposition -------------------------------------------------------------------------------------------
    def cic(self, frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cloud-in-cell flat node indices and weights, each (n_atoms, 2**len(dims))."""
        shape = self.shape
        lower, frac_w = [], []
        for m in self.dims:
            u = frac[:, m] * self.n[m]
            if self.pbc[m]:
                i0 = np.floor(u)
                f = u - i0
                i0 = i0.astype(np.int64) % self.n[m]
                i1 = (i0 + 1) % self.n[m]
            else:
                u = np.clip(u, 0.0, self.n[m])
                i0 = np.minimum(np.floor(u), self.n[m] - 1)
                f = u - i0
                i0 = i0.astype(np.int64)
                i1 = i0 + 1
            lower.append((i0, i1))
            frac_w.append(f)
        corners = np.array(np.meshgrid(*[[0, 1]] * len(self.dims), indexing="ij")).reshape(len(self.dims), -1).T
        idx = np.zeros((len(frac), len(corners)), dtype=np.int64)
        w = np.ones((len(frac), len(corners)))
        for c, corner in enumerate(corners):
            flat = np.zeros(len(frac), dtype=np.int64)
            for d, bit in enumerate(corner):
                flat = flat * shape[d] + lower[d][bit]
                w[:, c] *= frac_w[d] if bit else 1.0 - frac_w[d]
            idx[:, c] = flat
        return idx, w

    def deposit(self, idx: np.ndarray, w: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Sum of CIC-weighted ``values`` (n_atoms,) (or of the weights) on the grid."""
        weights = w if values is None else w * values[:, None]
        size = int(np.prod(self.shape))
        return np.bincount(idx.ravel(), weights=weights.ravel(), minlength=size).reshape(self.shape)

    @staticmethod
    def cic_matrix(idx: np.ndarray, w: np.ndarray):
        """The cloud-in-cell weights (:meth:`cic`) as a sparse matrix (n_atoms, nodes) over the range of flat node
        indices the atoms touch, and the first node of that range: deposition is ``W.T @ values``, interpolation
        ``W @ field[lo:lo + W.shape[1]]``, each one sparse product (summed in the order of the atoms)."""
        from scipy.sparse import csr_array

        n, corners = idx.shape
        lo, hi = (int(idx.min()), int(idx.max()) + 1) if n else (0, 1)
        local = (idx - lo if lo else idx).ravel()
        return csr_array((w.ravel(), local, np.arange(0, n * corners + 1, corners)), shape=(n, hi - lo)), lo

    def deposit_into(self, out: np.ndarray, idx: np.ndarray, w: np.ndarray, values: np.ndarray | None = None) -> None:
        """Add the CIC deposition of per-atom ``values`` (n_atoms, c) (or of the weights alone, c = 1) to ``out``
        (c, *shape) in place. Only the range of flat node indices the atoms touch is summed, so a chunk of atoms
        that are close in space costs in proportion to its size, not to the grid's."""
        W, lo = self.cic_matrix(idx, w)
        values = np.ones((len(idx), 1)) if values is None else values
        target = out.reshape(len(out), -1)
        target[:, lo : lo + W.shape[1]] += (W.T @ values).T

    def deposit_many(self, idx: np.ndarray, w: np.ndarray, values: np.ndarray, dtype=np.float64) -> np.ndarray:
        """CIC deposition of several per-atom fields ``values`` (n_atoms, c): (c, *shape) in ``dtype``."""
        out = np.empty((values.shape[1],) + self.shape, dtype=dtype)
        flat = idx.ravel()
        size = int(np.prod(self.shape))
        for c in range(values.shape[1]):
            out[c] = np.bincount(flat, weights=(w * values[:, c : c + 1]).ravel(), minlength=size).reshape(self.shape)
        return out

    # --- smoothing --------------------------------------------------------------------------------------------
    def _pads(self, smoothing: float) -> list[int]:
        return [0 if self.pbc[m] else int(np.ceil(4.0 * smoothing / self.steps[m])) + 2 for m in self.dims]

    def gaussian_kernel(self, smoothing: float, dtype=np.float64) -> np.ndarray:
        """Fourier transform of an isotropic Gaussian of width ``smoothing`` Å on the (padded) grid (rfftn layout);
        the last few are kept (frames of a trajectory share one grid)."""
        key = (self.cell.tobytes(), self.pbc, self.n, self.dims, float(smoothing), np.dtype(dtype).str)
        if key in _KERNELS:
            _KERNELS.move_to_end(key)
            return _KERNELS[key]
        kernel = self._gaussian_kernel(smoothing, dtype)
        kernel.flags.writeable = False
        _KERNELS[key] = kernel
        while len(_KERNELS) > 2:
            _KERNELS.popitem(last=False)
        return kernel

    def _gaussian_kernel(self, smoothing: float, dtype) -> np.ndarray:
        pads = self._pads(smoothing)
        full = [s + 2 * p for s, p in zip(self.shape, pads)]
        freqs = []
        for d, m in enumerate(self.dims):
            f = (
                np.fft.rfftfreq(full[d], d=1.0 / self.n[m])
                if d == len(self.dims) - 1
                else np.fft.fftfreq(full[d], d=1.0 / self.n[m])
            )
            freqs.append(f)
        mesh = np.meshgrid(*freqs, indexing="ij", sparse=True)
        inv = self.inv_cell
        k2 = 0.0
        for k in range(3):
            kk = sum(2 * np.pi * inv[k, m] * mesh[d] for d, m in enumerate(self.dims))
            k2 = k2 + kk * kk
        return np.exp(-0.5 * smoothing**2 * k2).astype(dtype)

    def smooth(self, field: np.ndarray, kernel: np.ndarray | None, smoothing: float) -> np.ndarray:
        """Periodic (zero-padded along non-periodic axes) convolution with the Gaussian ``kernel``.

        ``field``: (..., *shape); leading axes are a batch of fields, transformed together. Computed in the
        precision of ``field`` (float32 halves time and memory of the transforms).
        """
        if kernel is None or smoothing <= 0:
            return field
        nd = len(self.dims)
        axes = tuple(range(field.ndim - nd, field.ndim))
        pads = self._pads(smoothing)
        padded = np.pad(field, [(0, 0)] * (field.ndim - nd) + [(p, p) for p in pads]) if any(pads) else field
        spec = sfft.rfftn(padded, axes=axes, workers=self.workers)
        spec *= kernel
        out = sfft.irfftn(spec, s=padded.shape[-nd:], axes=axes, workers=self.workers, overwrite_x=True)
        crop = (Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pads, self.shape))
        return out[crop] if any(pads) else out

    # --- derivatives ------------------------------------------------------------------------------------------
    def central_difference(self, f: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
        """D f along array axis ``axis`` of ``f`` (whose trailing axes are the grid axes), per unit fractional
        coordinate, in float64 whatever ``f``'s type (written into ``out`` when given).

        Periodic axes wrap; the two end nodes of a non-periodic axis have no centred stencil and get NaN.
        """
        m = self.dims[axis - (f.ndim - len(self.dims))] if f.ndim > len(self.dims) else self.dims[axis]
        if out is None:
            out = np.empty(f.shape, dtype=np.float64)

        def sl(a, b):
            idx = [slice(None)] * f.ndim
            idx[axis] = slice(a, b)
            return tuple(idx)

        np.subtract(f[sl(2, None)], f[sl(None, -2)], out=out[sl(1, -1)], dtype=np.float64)
        if self.pbc[m]:
            np.subtract(f[sl(1, 2)], f[sl(-1, None)], out=out[sl(0, 1)], dtype=np.float64)
            np.subtract(f[sl(0, 1)], f[sl(-2, -1)], out=out[sl(-1, None)], dtype=np.float64)
        else:
            out[sl(0, 1)] = np.nan
            out[sl(-1, None)] = np.nan
        out *= self.n[m] / 2.0
        return out

    def gradient_component(self, f: np.ndarray, k: int, lead: int = 0) -> np.ndarray:
        """d f / d x_k (box Cartesian k) of a grid field whose grid axes start at array axis ``lead``."""
        inv = self.inv_cell
        out = np.zeros(f.shape, dtype=np.float64)
        for d, m in enumerate(self.dims):
            if abs(inv[k, m]) > 1e-14:
                out += inv[k, m] * self.central_difference(f, lead + d)
        return out


def curl_of_distortion(grid: Grid, G: np.ndarray) -> np.ndarray:
    """alpha_ij = eps_jkl d_k Ue_il with Ue = I - G^T, i.e. alpha_ij = -eps_jkl d_k G_li. G: (3, 3, *grid).

    Each difference D_m G_li is taken once and added to every alpha_ij it enters; differences with no weight
    (d_k along l, or inv(cell)[k, m] = 0 in orthogonal cells) are skipped. float64; the differences of the three
    G_li are taken together on small grids, one at a time on large ones (one grid-sized temporary).
    """
    inv = grid.inv_cell
    alpha = np.zeros(G.shape, dtype=np.float64)
    together = 3 * 8 * int(np.prod(G.shape[2:])) <= CURL_BATCH_BYTES
    groups = [slice(0, 3)] if together else [slice(i, i + 1) for i in range(3)]
    D = np.empty((3 if together else 1,) + G.shape[2:], dtype=np.float64)
    for l in range(3):
        for d, m in enumerate(grid.dims):
            terms = [(j, k) for j in range(3) for k in range(3) if EPS[j, k, l] != 0 and abs(inv[k, m]) > 1e-14]
            if not terms:
                continue
            for rows in groups:
                grid.central_difference(G[l, rows], 1 + d, out=D)
                if len(terms) == 1:  # orthogonal cells: scale in place, no temporary
                    j, k = terms[0]
                    D *= -EPS[j, k, l] * inv[k, m]
                    alpha[rows, j] += D
                    continue
                for j, k in terms:
                    alpha[rows, j] -= (EPS[j, k, l] * inv[k, m]) * D
    return alpha


def divergence_max(grid: Grid, alpha: np.ndarray) -> float:
    """max |(div alpha)_i| = max |d_j alpha_ij| over the grid nodes where it is defined (NaN-aware), 1/Å². The
    three rows i are differenced together on small grids, one at a time on large ones."""
    inv = grid.inv_cell
    worst = 0.0
    together = 3 * 8 * int(np.prod(alpha.shape[2:])) <= CURL_BATCH_BYTES
    groups = [slice(0, 3)] if together else [slice(i, i + 1) for i in range(3)]
    D = np.empty((3 if together else 1,) + alpha.shape[2:], dtype=np.float64)
    for rows in groups:
        div = np.zeros(D.shape, dtype=np.float64)
        for j in range(3):
            for d, m in enumerate(grid.dims):
                if abs(inv[j, m]) > 1e-14:
                    grid.central_difference(alpha[rows, j], 1 + d, out=D)
                    D *= inv[j, m]
                    div += D
        if np.isfinite(div).any():
            worst = max(worst, float(np.nanmax(np.abs(div))))
    return worst


def divergence(grid: Grid, alpha: np.ndarray) -> np.ndarray:
    """(div alpha)_i = d_j alpha_ij on the grid, shape (3, *grid)."""
    return np.stack([sum(grid.gradient_component(alpha[i, j], j) for j in range(3)) for i in range(3)])
