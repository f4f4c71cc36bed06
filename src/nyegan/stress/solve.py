"""Spectral Field Dislocation Mechanics elastic solve on a periodic grid (Berbenni et al. 2014; Brenner et al. 2014).

Given the Nye tensor alpha (1/Å, (curl A)_ij = eps_jkl d_k A_il) on a periodic grid and a homogeneous stiffness C
(GPa, box frame), find the elastic distortion Ue = U_perp + grad u + E with

1. curl U_perp = alpha, U_perp orthogonal to every discrete gradient, zero mean (the incompatible part),
   row by row U_perp_i = -(conj(l) x alpha_i) / |l|^2, l the Cartesian difference symbols;
2. u periodic with discrete equilibrium div C : (U_perp + grad u) = 0, i.e. per Fourier mode
   K(q) u = -conj(l_j) C_ijkl U_perp_kl with the acoustic tensor K_ik = conj(l_j) C_ijkl l_l (Hermitian,
   positive definite for l != 0; solved in closed form per mode);
3. E the imposed cell-average elastic strain (:mod:`nyegan.stress.mean`, default 0 = zero mean stress).

sigma = C : sym(Ue) (GPa); w = sigma : sym(Ue) / 2 (eV/Å^3).

Discrete operators: the gradient and the curl use the symbols l of :mod:`nyegan.fieldops` (``spectral``,
``central``, ``forward``), so the discrete curl of Ue reproduces alpha exactly wherever alpha is a discrete curl
(i.e. its discrete divergence vanishes and it has no part on modes where every symbol is zero, such as the mean).
The divergence of equilibrium (and of "div U_perp = 0") is the adjoint -D^T, symbol -conj(l): for ``spectral``
and ``central`` this is D itself, for ``forward`` the backward difference. Equilibrium is then the stationarity of
the discrete elastic energy, and K is Hermitian positive definite for every scheme.

Memory: the nine spectra are transformed one by one, the per-mode algebra runs over slabs of the spectrum, and
each spectrum is freed once transformed back, so the peak is about alpha + the spectra (+ the outputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import fft as sfft

from nyegan.elasticity import tensor_to_voigt
from nyegan.fieldops import _check_scheme
from nyegan.stress.mean import VOIGT, resolve_mean
from nyegan.stress.stiffness import as_tensor
from nyegan.stress.symbols import cartesian_symbols, rfft_weights
from nyegan.units import EV_PER_A3_TO_GPA

VOIGT_INDEX = np.array([[0, 5, 4], [5, 1, 3], [4, 3, 2]])  # sigma_ij = stress_voigt[VOIGT_INDEX[i, j]]


@dataclass
class FDMSolution:
    """Result of :func:`solve_fdm` on one grid. Arrays are float64; the grid axes follow the tensor indices."""

    distortion: np.ndarray  # (3, 3, *grid) elastic distortion Ue, dimensionless
    stress_voigt: np.ndarray  # (6, *grid) GPa, order xx yy zz yz xz xy
    energy_density: np.ndarray  # (*grid) eV/Å^3
    mean_strain: np.ndarray  # (3, 3) imposed cell-average elastic strain E
    mean_stress: np.ndarray  # (3, 3) GPa, C : E
    mean_convention: str  # key of nyegan.stress.mean.CONVENTION
    incompatibility_residual: float  # |alpha - curl Ue| / |alpha| (L2 over the cell)
    scheme: str
    stiffness: np.ndarray = field(repr=False)  # (3, 3, 3, 3) GPa, box frame

    @property
    def stress(self) -> np.ndarray:
        """Full symmetric stress tensor (3, 3, *grid), GPa (a new array)."""
        return self.stress_voigt[VOIGT_INDEX]


def as_cell(cell, ndim: int) -> np.ndarray:
    """(3, 3) cell rows (Å) from a 3x3 matrix or 2-3 box lengths (orthogonal box; a missing z length is 1 Å,
    which a 2D solve never uses)."""
    c = np.asarray(cell, dtype=float)
    if c.shape == (3, 3):
        if abs(np.linalg.det(c)) < 1e-12:
            raise ValueError(f"cell {c.tolist()} is singular")
        return c
    if c.ndim == 1 and len(c) in (2, 3) and len(c) >= ndim and (c > 0).all():
        return np.diag(np.concatenate([c, np.ones(3 - len(c))]))
    raise ValueError(f"cell must be a 3x3 matrix of cell vectors (rows, Å) or {ndim}-3 positive box lengths, got {c}")


def _cross_conj(lb, a):
    """conj(l) x a for a list ``lb`` of conj symbols (None = 0) and three complex arrays ``a``."""

    def term(p, q):
        return None if lb[p] is None else lb[p] * a[q]

    out = []
    for k, (p, q) in enumerate(((1, 2), (2, 0), (0, 1))):
        plus, minus = term(p, q), term(q, p)
        if plus is None and minus is None:
            out.append(np.zeros_like(a[k]))
        elif minus is None:
            out.append(plus)
        elif plus is None:
            out.append(-minus)
        else:
            out.append(plus - minus)
    return out


def _solve_slab(spec, sl, lam, c4, c6, weights, stats):
    """Per-mode algebra on one slab ``sl`` of the nine spectra (overwritten with the spectrum of Ue - E)."""
    L = [None if l is None else (l[sl] if l.shape[0] > 1 else l) for l in lam]
    Lb = [None if l is None else np.conj(l) for l in L]
    n2 = sum(np.abs(l) ** 2 for l in L if l is not None)
    keep = n2 > 0
    inv_n2 = np.divide(1.0, n2, out=np.zeros_like(n2), where=keep)
    w = weights
    U = [[None] * 3 for _ in range(3)]
    for i in range(3):
        a = [spec[i][j][sl] for j in range(3)]
        # residual of alpha outside the range of the curl: |l . a|^2 / |l|^2 where l != 0, |a|^2 where l = 0
        div = sum(L[j] * a[j] for j in range(3) if L[j] is not None)
        amp2 = sum(np.abs(x) ** 2 for x in a)
        stats["alpha2"] += float((w * amp2).sum())
        stats["resid2"] += float((w * np.where(keep, np.abs(div) ** 2 * inv_n2, amp2)).sum())
        c = _cross_conj(Lb, a)
        for j in range(3):
            U[i][j] = -c[j] * inv_n2
    # tau = C : U_perp (Voigt, engineering shears), f_i = -conj(l_j) tau_ij
    gamma = [U[0][0], U[1][1], U[2][2], U[1][2] + U[2][1], U[0][2] + U[2][0], U[0][1] + U[1][0]]
    tau = []
    for a_ in range(6):
        acc = None
        for b in range(6):
            if c6[a_, b] != 0.0:
                t = c6[a_, b] * gamma[b]
                acc = t if acc is None else acc + t
        tau.append(acc if acc is not None else np.zeros_like(gamma[0]))
    del gamma
    f = []
    for i in range(3):
        acc = None
        for j in range(3):
            if Lb[j] is not None:
                t = Lb[j] * tau[VOIGT_INDEX[i, j]]
                acc = t if acc is None else acc + t
        f.append(-acc if acc is not None else np.zeros_like(tau[0]))
    del tau
    # acoustic tensor K_ik = sum_jl C_ijkl conj(l_j) l_l (Hermitian): upper triangle
    P = {(j, l): Lb[j] * L[l] for j in range(3) for l in range(3) if L[j] is not None and L[l] is not None}
    K = {}
    for i in range(3):
        for k in range(i, 3):
            acc = None
            for (j, l), p in P.items():
                cval = c4[i, j, k, l]
                if cval != 0.0:
                    t = cval * p
                    acc = t if acc is None else acc + t
            K[i, k] = acc if acc is not None else np.zeros(n2.shape, dtype=complex)
    del P
    for i in range(3):
        for k in range(i):
            K[i, k] = np.conj(K[k, i])
    adj = {
        (0, 0): K[1, 1] * K[2, 2] - K[1, 2] * K[2, 1],
        (0, 1): K[0, 2] * K[2, 1] - K[0, 1] * K[2, 2],
        (0, 2): K[0, 1] * K[1, 2] - K[0, 2] * K[1, 1],
        (1, 0): K[1, 2] * K[2, 0] - K[1, 0] * K[2, 2],
        (1, 1): K[0, 0] * K[2, 2] - K[0, 2] * K[2, 0],
        (1, 2): K[0, 2] * K[1, 0] - K[0, 0] * K[1, 2],
        (2, 0): K[1, 0] * K[2, 1] - K[1, 1] * K[2, 0],
        (2, 1): K[0, 1] * K[2, 0] - K[0, 0] * K[2, 1],
        (2, 2): K[0, 0] * K[1, 1] - K[0, 1] * K[1, 0],
    }
    det = (K[0, 0] * adj[0, 0] + K[0, 1] * adj[1, 0] + K[0, 2] * adj[2, 0]).real
    del K
    inv_det = np.divide(1.0, det, out=np.zeros_like(det), where=keep & (det > 0))
    u = [sum(adj[k, i] * f[i] for i in range(3)) * inv_det for k in range(3)]
    del adj, f
    for k in range(3):
        for l in range(3):
            val = U[k][l] if L[l] is None else U[k][l] + u[k] * L[l]
            spec[k][l][sl] = np.broadcast_to(val, spec[k][l][sl].shape)


def solve_fdm(
    alpha,
    cell,
    stiffness,
    scheme: str = "spectral",
    dims=None,
    mean_strain=None,
    mean_stress=None,
    workers: int = 1,
    overwrite_alpha: bool = False,
    slab_modes: int = 1 << 17,
) -> FDMSolution:
    """Elastic distortion, stress and energy density of a Nye field on a periodic grid.

    alpha: (3, 3, nx, ny) (2D: fields independent of the dropped axis) or (3, 3, nx, ny, nz), 1/Å, finite.
    cell: (3, 3) cell vectors (rows, Å) or box lengths; grid axis d runs along cell vector ``dims[d]``
      (default: 0, 1[, 2]), nodes at fractions n / n_d.
    stiffness: box-frame 6x6 Voigt or 3x3x3x3 tensor, GPa. scheme: difference scheme of alpha (fieldops).
    mean_strain / mean_stress: imposed cell average (see :mod:`nyegan.stress.mean`; default zero mean stress).
    workers: FFT threads. overwrite_alpha: reuse a float64 C-contiguous alpha as the storage of Ue (saves memory).
    """
    _check_scheme(scheme)
    a = np.asarray(alpha)
    if a.ndim not in (4, 5) or a.shape[:2] != (3, 3):
        raise ValueError(f"alpha must have shape (3, 3, nx, ny[, nz]), got {a.shape}")
    grid = a.shape[2:]
    ndim = len(grid)
    if min(grid) < 2:
        raise ValueError(f"grid {grid} too small: need at least 2 nodes per axis")
    dims = tuple(range(ndim)) if dims is None else tuple(int(d) for d in dims)
    if len(dims) != ndim or len(set(dims)) != ndim or not set(dims) <= {0, 1, 2}:
        raise ValueError(f"dims {dims}: give one distinct cell-vector index (0, 1, 2) per grid axis")
    cell = as_cell(cell, ndim)
    c4 = as_tensor(stiffness)
    c6 = tensor_to_voigt(c4)
    E, mean_sigma, mean_key = resolve_mean(c4, mean_strain, mean_stress)
    if not np.isfinite(a).all():
        raise ValueError("alpha holds NaN or inf values: fill masked nodes (e.g. with 0) before the solve")
    lam = cartesian_symbols(grid, cell, dims, scheme)
    lam = [None if l is None else np.broadcast_to(l, l.shape) for l in lam]

    # float64 transforms whatever alpha's type (scipy keeps float32 input in single precision)
    spec = [[sfft.rfftn(a[i, j].astype(np.float64, copy=False), workers=workers) for j in range(3)] for i in range(3)]
    sshape = spec[0][0].shape
    weights_full = rfft_weights(grid)
    plane = int(np.prod(sshape[1:]))
    step = max(1, slab_modes // plane)
    stats = {"alpha2": 0.0, "resid2": 0.0}
    for p0 in range(0, sshape[0], step):
        sl = (slice(p0, min(p0 + step, sshape[0])),)
        _solve_slab(spec, sl, lam, c4, c6, weights_full, stats)
    n_tot = float(np.prod(grid))
    origin = (0,) * ndim
    for k in range(3):
        for l in range(3):
            spec[k][l][origin] = E[k, l] * n_tot

    use_in_place = overwrite_alpha and a.dtype == np.float64 and a.flags.c_contiguous and a.flags.writeable
    ue = a if use_in_place else np.empty((3, 3) + grid)
    for k in range(3):
        for l in range(3):
            ue[k, l] = sfft.irfftn(spec[k][l], s=grid, workers=workers, overwrite_x=True)
            spec[k][l] = None
    del spec
    sigma, energy = stress_and_energy(ue, c6)
    resid = float(np.sqrt(stats["resid2"] / stats["alpha2"])) if stats["alpha2"] > 0 else 0.0
    return FDMSolution(ue, sigma, energy, E, mean_sigma, mean_key, resid, scheme, c4)


def stress_and_energy(ue: np.ndarray, c6: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sigma (6, *grid) = C : sym(Ue) in GPa and w = sigma : sym(Ue) / 2 in eV/Å^3, with two grid-size temporaries."""
    grid = ue.shape[2:]
    sigma = np.zeros((6,) + grid)
    gamma = np.empty(grid)
    tmp = np.empty(grid)
    energy = np.zeros(grid)
    for b, (k, l) in enumerate(VOIGT):
        if k == l:
            gamma[...] = ue[k, k]
        else:
            np.add(ue[k, l], ue[l, k], out=gamma)
        for a_ in range(6):
            if c6[a_, b] != 0.0:
                np.multiply(gamma, c6[a_, b], out=tmp)
                sigma[a_] += tmp
    for b, (k, l) in enumerate(VOIGT):  # w = sum_b sigma_b gamma_b / 2
        if k == l:
            np.multiply(sigma[b], ue[k, k], out=tmp)
        else:
            np.add(ue[k, l], ue[l, k], out=gamma)
            np.multiply(sigma[b], gamma, out=tmp)
        energy += tmp
    energy *= 0.5 / EV_PER_A3_TO_GPA
    return sigma, energy
