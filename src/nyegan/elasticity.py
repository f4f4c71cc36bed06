"""Anisotropic linear elasticity of straight dislocations: stiffness rotation and the Stroh sextic formalism.

Units: stiffness in GPa, lengths in Å (displacements come out in the units of the Burgers vector).
Frames: ``R`` maps crystal to box (``v_box = R @ v_crystal``, rows of ``R`` = crystal directions along box x, y, z).
The dislocation line is along box +z; fields depend on (x, y) only.

Stroh solution (Ting's notation). With Q_ik = C_i1k1, R_ik = C_i1k2, T_ik = C_i2k2 the sextic problem
N xi = p xi, xi = (a, l), N = [[-T^-1 R^T, T^-1], [R T^-1 R^T - Q, -R T^-1]] has three roots p_alpha with
Im p > 0 (kept) and their conjugates. Vectors are normalised so that A^T L + L^T A = I (no conjugate), which
gives the closure relations 2 Re(A L^T) = I and Re(L L^T) = 0. A dislocation of Burgers vector b at (x0, y0) has

    u(x, y) = (1/pi) Im sum_alpha A_alpha D_alpha ln(z_alpha),  z_alpha = (x - x0) + p_alpha (y - y0),
    D_alpha = l_alpha . b.

Sign convention: a counter-clockwise circuit about +z (right-handed about the line) gives closure
``∮ du = +b`` (Volterra/Hirth-Lothe convention, the same as the Nye convention b_i = ∫ alpha_iz dS).
With the principal logarithm the cut is the half plane y = y0, x < x0 and u(y0+) - u(y0-) = +b across it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def voigt_to_tensor(c_voigt: np.ndarray) -> np.ndarray:
    """Full 3x3x3x3 stiffness tensor from a 6x6 Voigt matrix (order xx, yy, zz, yz, xz, xy)."""
    c_voigt = np.asarray(c_voigt, dtype=float)
    idx = np.empty((3, 3), dtype=int)
    for v, (i, j) in enumerate(VOIGT_PAIRS):
        idx[i, j] = idx[j, i] = v
    return c_voigt[idx[:, :, None, None], idx[None, None, :, :]]


def tensor_to_voigt(c_tensor: np.ndarray) -> np.ndarray:
    """6x6 Voigt matrix from a full stiffness tensor."""
    c6 = np.empty((6, 6))
    for a, (i, j) in enumerate(VOIGT_PAIRS):
        for b, (k, l) in enumerate(VOIGT_PAIRS):
            c6[a, b] = c_tensor[i, j, k, l]
    return c6


def rotate_stiffness(c_voigt_crystal: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Stiffness tensor (3x3x3x3, GPa) in the box frame: C'_ijkl = R_ia R_jb R_kc R_ld C_abcd."""
    rotation = np.asarray(rotation, dtype=float)
    if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-8):
        raise ValueError("rotation must be orthogonal (rows = unit crystal directions along box x, y, z)")
    c = voigt_to_tensor(c_voigt_crystal)
    return np.einsum("ia,jb,kc,ld,abcd->ijkl", rotation, rotation, rotation, rotation, c, optimize=True)


def isotropic_cubic_stiffness(c11: float, c44: float) -> np.ndarray:
    """Voigt stiffness of an isotropic solid written with cubic constants: C12 = C11 - 2 C44."""
    c12 = c11 - 2.0 * c44
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    np.fill_diagonal(c[:3, :3], c11)
    c[3, 3] = c[4, 4] = c[5, 5] = c44
    return c


@dataclass(frozen=True)
class StrohSolution:
    """Stroh eigen-solution for a line along box z: roots ``p`` (3,), columns ``A[:, a]``, ``L[:, a]`` normalised."""

    p: np.ndarray
    A: np.ndarray
    L: np.ndarray
    stiffness: np.ndarray  # box-frame 3x3x3x3 tensor, GPa

    def coefficients(self, burgers) -> np.ndarray:
        """The complex weights A_alpha D_alpha as a (3 components, 3 roots) array for Burgers vector ``burgers``."""
        d = self.L.T @ np.asarray(burgers, dtype=float)
        return self.A * d[None, :]

    def displacement(self, points, burgers, center=(0.0, 0.0)) -> np.ndarray:
        """Displacement (N, 3) of one dislocation at ``center`` in an infinite medium; cut along y = y0, x < x0."""
        z = _complex_coordinates(points, center, self.p)
        return (self.coefficients(burgers)[None] * np.log(z)[:, None, :]).sum(-1).imag / np.pi

    def displacement_gradient(self, points, burgers, center=(0.0, 0.0)) -> np.ndarray:
        """Distortion beta_ij = du_i/dx_j (N, 3, 3) of one dislocation in an infinite medium (z column zero)."""
        z = _complex_coordinates(points, center, self.p)
        return _gradient_from_dw(self.coefficients(burgers), 1.0 / z, self.p)

    def stress(self, points, burgers, center=(0.0, 0.0)) -> np.ndarray:
        """Stress (N, 3, 3, GPa) of one dislocation in an infinite medium, from Hooke's law on the distortion."""
        return stress_from_gradient(self.displacement_gradient(points, burgers, center), self.stiffness)


def _complex_coordinates(points, center, p) -> np.ndarray:
    pts = np.asarray(points, dtype=float).reshape(-1, np.shape(points)[-1])
    dx = pts[:, 0] - center[0]
    dy = pts[:, 1] - center[1]
    return dx[:, None] + p[None, :] * dy[:, None]


def _gradient_from_dw(coeff: np.ndarray, dfdw: np.ndarray, p: np.ndarray) -> np.ndarray:
    """beta_ij from u = (1/pi) Im sum_a coeff_ia f_a(w_a), given f_a'(w_a) (N, 3); dw/dx = 1, dw/dy = p."""
    grad = np.zeros((dfdw.shape[0], 3, 3))
    grad[:, :, 0] = (coeff[None] * dfdw[:, None, :]).sum(-1).imag / np.pi
    grad[:, :, 1] = (coeff[None] * (dfdw * p[None, :])[:, None, :]).sum(-1).imag / np.pi
    return grad


def stress_from_gradient(grad: np.ndarray, stiffness: np.ndarray) -> np.ndarray:
    """sigma_ij = C_ijkl eps_kl with eps the symmetric part of ``grad`` (N, 3, 3); units of ``stiffness``."""
    eps = 0.5 * (grad + np.swapaxes(grad, -1, -2))
    return np.einsum("ijkl,nkl->nij", stiffness, eps)


def stroh_solution(stiffness_box: np.ndarray, degeneracy_tol: float = 1e-7) -> StrohSolution:
    """Solve the Stroh sextic eigenproblem for a box-frame stiffness tensor (3x3x3x3 or 6x6 Voigt).

    Raises ValueError for (near-)degenerate roots, i.e. an elastically isotropic medium, where the sextic matrix
    is not semisimple: use :func:`isotropic_displacement` there, or a slightly anisotropic stiffness.
    """
    c = np.asarray(stiffness_box, dtype=float)
    if c.shape == (6, 6):
        c = voigt_to_tensor(c)
    q = c[:, 0, :, 0]
    r = c[:, 0, :, 1]
    t = c[:, 1, :, 1]
    t_inv = np.linalg.inv(t)
    n_mat = np.block([[-t_inv @ r.T, t_inv], [r @ t_inv @ r.T - q, -r @ t_inv]])
    vals, vecs = np.linalg.eig(n_mat)
    upper = np.where(vals.imag > 0)[0]
    if len(upper) != 3:
        raise ValueError("Stroh eigenproblem: expected three roots with Im p > 0 (is the stiffness positive definite?)")
    order = upper[np.argsort(vals[upper].real + 1e-3 * vals[upper].imag)]
    p = vals[order]
    gaps = [abs(p[i] - p[j]) for i in range(3) for j in range(i + 1, 3)]
    if min(gaps) < degeneracy_tol * max(1.0, np.abs(p).max()):
        raise ValueError(
            "Stroh roots are degenerate (elastically isotropic medium): use isotropic_displacement() "
            "or a stiffness with Zener ratio 2 C44 / (C11 - C12) != 1"
        )
    a = vecs[:3, order]
    l_vec = vecs[3:, order]
    norm = 2.0 * np.einsum("ia,ia->a", a, l_vec)
    scale = 1.0 / np.sqrt(norm)
    a = a * scale[None, :]
    l_vec = l_vec * scale[None, :]
    ortho = a.T @ l_vec + l_vec.T @ a
    if not np.allclose(ortho, np.eye(3), atol=1e-6):
        raise ValueError("Stroh eigenvectors are not orthogonal: roots too close to degenerate")
    closure = 2.0 * (a @ l_vec.T).real
    if not np.allclose(closure, np.eye(3), atol=1e-6):
        raise ValueError("Stroh closure relation 2 Re(A L^T) = I failed: roots too close to degenerate")
    return StrohSolution(p=p, A=a, L=l_vec, stiffness=c)


def stroh_for_crystal(c_voigt_crystal: np.ndarray, rotation: np.ndarray) -> StrohSolution:
    """Stroh solution for a cubic crystal (Voigt stiffness in the crystal frame) rotated into the box frame."""
    return stroh_solution(rotate_stiffness(c_voigt_crystal, rotation))


def isotropic_displacement(points, burgers, nu: float, center=(0.0, 0.0)) -> np.ndarray:
    """Volterra displacement (N, 3) of a straight dislocation along +z in an isotropic solid (Poisson ratio nu).

    Same conventions as the Stroh solution: counter-clockwise closure +b, cut along y = y0, x < x0.
    Edge part: u_x = b/2pi [theta + xy / (2(1-nu) r^2)], u_y = -b/2pi [(1-2nu)/(4(1-nu)) ln r^2 +
    (x^2 - y^2) / (4(1-nu) r^2)] (Hirth & Lothe), applied to b_x directly and to b_y in a frame turned by 90°;
    screw part: u_z = b_z theta / 2pi.
    """
    pts = np.asarray(points, dtype=float)
    x = pts[:, 0] - center[0]
    y = pts[:, 1] - center[1]
    b = np.asarray(burgers, dtype=float)
    theta = np.arctan2(y, x)  # branch: cut along the negative x axis
    r2 = x * x + y * y
    k = 1.0 / (4.0 * (1.0 - nu))

    def edge_along_x(xx, yy, th):
        ux = (th + 2.0 * k * xx * yy / r2) / (2.0 * np.pi)
        uy = -((1.0 - 2.0 * nu) * k * np.log(r2) + k * (xx * xx - yy * yy) / r2) / (2.0 * np.pi)
        return ux, uy

    u = np.zeros((len(pts), 3))
    ux, uy = edge_along_x(x, y, theta)
    u[:, 0] += b[0] * ux
    u[:, 1] += b[0] * uy
    # b along y: frame x' = y, y' = -x (b' = (b_y, 0)); theta' = theta - pi/2 keeps the same cut
    uxp, uyp = edge_along_x(y, -x, theta - np.pi / 2.0)
    u[:, 0] += b[1] * (-uyp)  # u = Q^T u' with Q = [[0, 1], [-1, 0]]
    u[:, 1] += b[1] * uxp
    u[:, 2] += b[2] * theta / (2.0 * np.pi)
    return u


def poisson_ratio_isotropic(c11: float, c44: float) -> float:
    """Poisson ratio of the isotropic solid with C12 = C11 - 2 C44: nu = C12 / (2 (C12 + C44))."""
    c12 = c11 - 2.0 * c44
    return c12 / (2.0 * (c12 + c44))


# ----------------------------------------------------------------------------------------------------------------
# Periodic arrays: pairs (+b, -b) whose cut is the straight segment between them, repeated in x and y.


def _periodic_pair_log(w, w_plus, w_minus, period: float) -> np.ndarray:
    """ln[sin(pi (w - w+)/L) / sin(pi (w - w-)/L)] with its branch cuts exactly on the segments w+ -> w- (+ nL).

    Exact: the near images |n| <= N are summed as principal logs of ratios (cut = segment n), the rest in
    closed form with log-gamma, valid for |Re a|, |Re c| < N + 1 (a, c = (w - w±)/L), so the value does not
    depend on N and the result is periodic in Re w with period L.
    """
    from scipy.special import loggamma  # here: a config check imports this module, scipy.special is slow to import

    a = (w - w_plus) / period
    c = (w - w_minus) / period
    n_max = int(np.ceil(max(np.abs(a.real).max(), np.abs(c.real).max()))) + 1
    out = loggamma(n_max + 1 - c) + loggamma(n_max + 1 + c) - loggamma(n_max + 1 - a) - loggamma(n_max + 1 + a)
    for n in range(-n_max, n_max + 1):
        out += np.log((a - n) / (c - n))
    return out


def _cot_pi(zeta: np.ndarray) -> np.ndarray:
    """cot(pi zeta) for complex zeta, stable for large |Im zeta|."""
    out = np.empty_like(zeta)
    up = zeta.imag >= 0
    e = np.exp(2j * np.pi * zeta[up])
    out[up] = 1j * (e + 1.0) / (e - 1.0)
    e = np.exp(-2j * np.pi * zeta[~up])
    out[~up] = 1j * (1.0 + e) / (1.0 - e)
    return out


class PeriodicDislocationField:
    """Displacement of a periodic array of straight dislocations along z in an orthogonal cell (Lx, Ly).

    ``pairs``: list of ((x+, y+), (x-, y-)): +b at the first point, -b at the second, the cut (jump b) on the
    straight segment between them, so the net Burgers vector is zero by construction. The images along x are
    summed exactly (closed form), those along y to |m| <= M with M chosen for double precision (their fields
    decay as exp(-2 pi Im p |dy| / Lx)). What is left non-periodic, u(r + L_k) - u(r) = delta_k (the spurious
    linear term of a conditionally convergent sum; zero for a quadrupole, the plastic shift b * (area swept)/L
    for a single dipole), is measured at sample points and removed: u(r) -> u(r) - sum_k delta_k r_k / L_k, so
    the returned displacement is periodic across every face (a dipole keeps a uniform back-strain).
    """

    def __init__(self, stroh: StrohSolution, burgers, lengths, pairs, n_images_y: int | None = None):
        self.stroh = stroh
        self.burgers = np.asarray(burgers, dtype=float)
        self.lengths = np.asarray(lengths, dtype=float)[:2]
        self.pairs = [(np.asarray(pp, dtype=float)[:2], np.asarray(pm, dtype=float)[:2]) for pp, pm in pairs]
        if not self.pairs:
            raise ValueError("pairs must hold at least one (+b, -b) pair")
        lx, ly = self.lengths
        min_imag = float(stroh.p.imag.min())
        if n_images_y is None:
            n_images_y = int(np.ceil(40.0 / (2.0 * np.pi * min_imag) * lx / ly)) + 2
        self.n_images_y = n_images_y
        self._coeff = stroh.coefficients(self.burgers)
        self.linear = np.zeros((3, 2))  # columns delta_x / Lx, delta_y / Ly
        rng = np.random.default_rng(12345)
        samples = self._sample_points(rng, 6)
        base = self._raw_displacement(samples)
        spread = 0.0
        for k in range(2):
            shift = np.zeros(2)
            shift[k] = self.lengths[k]
            delta = self._raw_displacement(samples + shift) - base
            spread = max(spread, float(np.abs(delta - delta.mean(0)).max()))
            self.linear[:, k] = delta.mean(0) / self.lengths[k]
        self.periodicity_residual = spread
        if spread > 1e-6 * max(1.0, np.linalg.norm(self.burgers)):
            raise RuntimeError(f"non-periodic part is not uniform (spread {spread:.2e} Å): increase n_images_y")

    def _sample_points(self, rng, n):
        """Points in the cell at least 1 Å away from every cut segment (the jump would spoil differences)."""
        pts = []
        while len(pts) < n:
            cand = rng.random(2) * self.lengths
            ok = True
            for pp, pm in self.pairs:
                for shift_x in (-1, 0, 1):
                    for shift_y in (-1, 0, 1):
                        for q in (cand, cand + [self.lengths[0], 0.0], cand + [0.0, self.lengths[1]]):
                            off = np.array([shift_x, shift_y]) * self.lengths
                            if _segment_distance(q, pp + off, pm + off) < 1.0:
                                ok = False
            if ok:
                pts.append(cand)
        return np.array(pts)

    def _w(self, points):
        pts = np.asarray(points, dtype=float)
        return pts[:, 0, None] + self.stroh.p[None, :] * pts[:, 1, None]

    def _raw_displacement(self, points) -> np.ndarray:
        pts = np.asarray(points, dtype=float)
        w = self._w(pts)
        p = self.stroh.p
        lx, ly = self.lengths
        total = np.zeros((len(pts), 3), dtype=complex)
        for pp, pm in self.pairs:
            for m in range(-self.n_images_y, self.n_images_y + 1):
                wp = pp[0] + p * (pp[1] + m * ly)
                wm = pm[0] + p * (pm[1] + m * ly)
                for alpha in range(3):
                    f = _periodic_pair_log(w[:, alpha], wp[alpha], wm[alpha], lx)
                    total += self._coeff[None, :, alpha] * f[:, None]
        return total.imag / np.pi

    def displacement(self, points) -> np.ndarray:
        """Periodic displacement (N, 3), Å, at box points (N, >=2) measured from the cell origin."""
        pts = np.asarray(points, dtype=float)[:, :2]
        return self._raw_displacement(pts) - pts @ self.linear.T

    def displacement_gradient(self, points) -> np.ndarray:
        """Distortion beta_ij = du_i/dx_j (N, 3, 3) of the periodic field (linear term removed)."""
        pts = np.asarray(points, dtype=float)[:, :2]
        w = self._w(pts)
        p = self.stroh.p
        lx, ly = self.lengths
        dfdw = np.zeros((len(pts), 3), dtype=complex)
        grad = np.zeros((len(pts), 3, 3))
        for pp, pm in self.pairs:
            for m in range(-self.n_images_y, self.n_images_y + 1):
                wp = pp[0] + p * (pp[1] + m * ly)
                wm = pm[0] + p * (pm[1] + m * ly)
                dfdw[:] = (np.pi / lx) * (_cot_pi((w - wp[None]) / lx) - _cot_pi((w - wm[None]) / lx))
                grad += _gradient_from_dw(self._coeff, dfdw, p)
        grad[:, :, :2] -= self.linear[None]
        return grad

    def stress(self, points) -> np.ndarray:
        """Stress (N, 3, 3), GPa, of the periodic field."""
        return stress_from_gradient(self.displacement_gradient(points), self.stroh.stiffness)


def _segment_distance(q, a, b) -> float:
    ab = b - a
    t = np.clip(np.dot(q - a, ab) / max(np.dot(ab, ab), 1e-300), 0.0, 1.0)
    return float(np.linalg.norm(q - (a + t * ab)))
