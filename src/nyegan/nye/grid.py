"""Regular grids along the cell vectors: cloud-in-cell deposition, Gaussian normalised convolution, curl.

Grid nodes sit at fractional coordinates s_m = i / n_m along each cell vector (n_m nodes when periodic,
n_m + 1 nodes spanning [0, 1] when not). One dimension may be averaged away (a straight defect along a cell
vector parallel to a box axis). Fields are deposited with cloud-in-cell weights, smoothed with an isotropic
Gaussian (width ``smoothing`` Å, FFT; zero padding along non-periodic directions) and normalised by the smoothed
weight (normalised convolution), so a uniform per-atom field stays exactly uniform. Nodes where the smoothed
weight falls below ``mask_fraction`` of the bulk value (outside free surfaces, voids) are masked (NaN).

Derivatives: d/dx_k = sum_m inv(cell)[k, m] D_m with D_m the central difference along grid axis m. The D_m commute,
so the discrete div of the discrete curl vanishes identically, and on periodic axes sum_i D_m f = 0 exactly, so
the cell average of a curl is exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

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

    @classmethod
    def build(cls, cell, origin, pbc, spacing: float, average_along: int | None = None) -> "Grid":
        if not spacing > 0:
            raise ValueError(f"spacing must be a positive grid spacing in Å, got {spacing}")
        lengths = np.linalg.norm(cell, axis=1)
        n = tuple(max(3, int(round(L / spacing))) for L in lengths)
        dims = tuple(m for m in range(3) if m != average_along)
        return cls(np.asarray(cell, float), np.asarray(origin, float), tuple(pbc), n, dims)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.n[m] if self.pbc[m] else self.n[m] + 1 for m in self.dims)

    @property
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

    # --- smoothing --------------------------------------------------------------------------------------------
    def _pads(self, smoothing: float) -> list[int]:
        return [0 if self.pbc[m] else int(np.ceil(4.0 * smoothing / self.steps[m])) + 2 for m in self.dims]

    def gaussian_kernel(self, smoothing: float) -> np.ndarray:
        """Fourier transform of an isotropic Gaussian of width ``smoothing`` Å on the (padded) grid (rfftn layout)."""
        pads = self._pads(smoothing)
        full = [s + 2 * p for s, p in zip(self.shape, pads)]
        freqs = []
        for d, m in enumerate(self.dims):
            f = np.fft.rfftfreq(full[d], d=1.0 / self.n[m]) if d == len(self.dims) - 1 else \
                np.fft.fftfreq(full[d], d=1.0 / self.n[m])
            freqs.append(f)
        mesh = np.meshgrid(*freqs, indexing="ij", sparse=True)
        inv = self.inv_cell
        k2 = 0.0
        for k in range(3):
            kk = sum(2 * np.pi * inv[k, m] * mesh[d] for d, m in enumerate(self.dims))
            k2 = k2 + kk * kk
        return np.exp(-0.5 * smoothing ** 2 * k2)

    def smooth(self, field: np.ndarray, kernel: np.ndarray | None, smoothing: float) -> np.ndarray:
        """Periodic (zero-padded along non-periodic axes) convolution with the Gaussian ``kernel``."""
        if kernel is None or smoothing <= 0:
            return field
        pads = self._pads(smoothing)
        padded = np.pad(field, [(p, p) for p in pads]) if any(pads) else field
        out = sfft.irfftn(sfft.rfftn(padded) * kernel, s=padded.shape)
        crop = tuple(slice(p, p + s) for p, s in zip(pads, self.shape))
        return out[crop]

    # --- derivatives ------------------------------------------------------------------------------------------
    def central_difference(self, f: np.ndarray, axis: int) -> np.ndarray:
        """D f along grid axis ``axis`` (position in ``dims``), per unit fractional coordinate."""
        m = self.dims[axis]
        d = (np.roll(f, -1, axis=axis) - np.roll(f, 1, axis=axis)) * (self.n[m] / 2.0)
        if not self.pbc[m]:
            edge = [slice(None)] * f.ndim
            edge[axis] = [0, -1]
            d[tuple(edge)] = np.nan
        return d

    def gradient_component(self, f: np.ndarray, k: int, lead: int = 0) -> np.ndarray:
        """d f / d x_k (box Cartesian k) of a grid field whose grid axes start at array axis ``lead``."""
        inv = self.inv_cell
        out = np.zeros_like(f)
        for d, m in enumerate(self.dims):
            if abs(inv[k, m]) > 1e-14:
                out = out + inv[k, m] * self.central_difference(f, lead + d)
        return out


def curl_of_distortion(grid: Grid, G: np.ndarray) -> np.ndarray:
    """alpha_ij = eps_jkl d_k Ue_il with Ue = I - G^T, i.e. alpha_ij = -eps_jkl d_k G_li. G: (3, 3, *grid)."""
    alpha = np.zeros_like(G)
    for j in range(3):
        for k in range(3):
            for l in range(3):
                if EPS[j, k, l] == 0:
                    continue
                for i in range(3):
                    alpha[i, j] -= EPS[j, k, l] * grid.gradient_component(G[l, i], k)
    return alpha


def divergence(grid: Grid, alpha: np.ndarray) -> np.ndarray:
    """(div alpha)_i = d_j alpha_ij on the grid, shape (3, *grid)."""
    return np.stack([sum(grid.gradient_component(alpha[i, j], j) for j in range(3)) for i in range(3)])
