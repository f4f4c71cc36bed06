"""Stroh anisotropic dislocation fields: isotropic limit, equilibrium, cut jump, exact periodic arrays."""

import numpy as np
import pytest

from nyegan.elasticity import (
    PeriodicDislocationField,
    isotropic_cubic_stiffness,
    isotropic_displacement,
    poisson_ratio_isotropic,
    rotate_stiffness,
    stroh_for_crystal,
    stroh_solution,
    tensor_to_voigt,
    voigt_to_tensor,
)
from nyegan.lattice import cubic_point_group, rotation_from_rows
from nyegan.potentials import CubicProperties

# cubic constants of the order of aluminium's (GPa); tests assert theory, not these numbers
AL = CubicProperties(a0=4.05, ecoh=3.36, c11=107.0, c12=60.0, c44=31.0)
A0 = AL.a0
ORIENTATIONS = {
    "edge111": rotation_from_rows([-1, 1, 0], [1, 1, 1], [1, 1, -2]),
    "screw111": rotation_from_rows([1, 1, -2], [1, 1, 1], [1, -1, 0]),
    "general": rotation_from_rows([3, -1, 2], [1, 1, -1], [-1, 5, 4]),
}
B_CRYSTAL = A0 * np.array([0.5, -0.5, 0.0])


def _random_points(n, radius, seed=0, min_radius=3.0):
    rng = np.random.default_rng(seed)
    r = rng.uniform(min_radius, radius, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    return np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)


def test_voigt_round_trip_and_cubic_symmetry_invariance():
    c6 = AL.stiffness()
    assert np.allclose(tensor_to_voigt(voigt_to_tensor(c6)), c6)
    for op in cubic_point_group(proper_only=True):
        assert np.allclose(tensor_to_voigt(rotate_stiffness(c6, op)), c6)
    iso = isotropic_cubic_stiffness(110.0, 30.0)
    r = ORIENTATIONS["general"]
    assert np.allclose(tensor_to_voigt(rotate_stiffness(iso, r)), iso)


@pytest.mark.parametrize("name", list(ORIENTATIONS))
def test_stroh_normalisation_and_closure(name):
    s = stroh_for_crystal(AL.stiffness(), ORIENTATIONS[name])
    assert np.all(s.p.imag > 0)
    assert np.allclose(s.A.T @ s.L + s.L.T @ s.A, np.eye(3), atol=1e-10)
    assert np.allclose(2 * (s.A @ s.L.T).real, np.eye(3), atol=1e-10)
    assert np.allclose((s.L @ s.L.T).real, 0.0, atol=1e-8)
    # each column solves the equilibrium equations (Q + p (R + R^T) + p^2 T) a = 0
    c = s.stiffness
    q, r, t = c[:, 0, :, 0], c[:, 0, :, 1], c[:, 1, :, 1]
    for k in range(3):
        m = q + s.p[k] * (r + r.T) + s.p[k] ** 2 * t
        assert np.abs(m @ s.A[:, k]).max() < 1e-9 * np.abs(m).max()


def test_exactly_isotropic_stiffness_is_refused_with_advice():
    with pytest.raises(ValueError, match="isotropic"):
        stroh_solution(isotropic_cubic_stiffness(110.0, 30.0))


@pytest.mark.parametrize("burgers", [[2.5, 0, 0], [0, 2.5, 0], [0, 0, 2.5], [1.0, -1.5, 2.0]])
def test_isotropic_limit_reproduces_volterra(burgers):
    c11, c44 = 110.0, 30.0
    nu = poisson_ratio_isotropic(c11, c44)
    pts = _random_points(200, 20.0, min_radius=0.5)
    errors = []
    for delta in (1e-3, 1e-5):
        c = isotropic_cubic_stiffness(c11, c44)
        c[3, 3] = c[4, 4] = c[5, 5] = c44 * (1 + delta)  # Zener ratio 1 + delta
        s = stroh_for_crystal(c, ORIENTATIONS["general"])
        diff = s.displacement(pts, burgers) - isotropic_displacement(pts, burgers, nu)
        diff -= diff.mean(axis=0)  # fields agree up to a rigid translation (the ln r scale)
        errors.append(np.abs(diff).max())
    assert errors[1] < 1e-4 * np.linalg.norm(burgers)
    assert errors[1] < 0.05 * errors[0]  # converges linearly in the anisotropy


@pytest.mark.parametrize("name", list(ORIENTATIONS))
def test_displacement_jumps_by_b_across_the_cut_only(name):
    s = stroh_for_crystal(AL.stiffness(), ORIENTATIONS[name])
    b = ORIENTATIONS[name] @ B_CRYSTAL
    eps = 1e-9
    xs = np.array([-7.0, -2.0, -0.5, 0.5, 3.0])
    up = s.displacement(np.stack([xs, np.full(5, eps)], 1), b, center=(0.0, 0.0))
    down = s.displacement(np.stack([xs, np.full(5, -eps)], 1), b, center=(0.0, 0.0))
    jump = up - down
    assert np.allclose(jump[xs < 0], b, atol=1e-7)
    assert np.allclose(jump[xs > 0], 0.0, atol=1e-7)


@pytest.mark.parametrize("name", list(ORIENTATIONS))
def test_analytic_gradient_matches_finite_differences_and_stress_is_divergence_free(name):
    rot = ORIENTATIONS[name]
    s = stroh_for_crystal(AL.stiffness(), rot)
    b = rot @ B_CRYSTAL
    pts = _random_points(40, 15.0, seed=1) + np.array([0.0, 0.0])
    pts = pts[np.abs(pts[:, 1]) > 0.5]  # keep away from the cut
    h = 1e-4
    grad = s.displacement_gradient(pts, b)
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        fd = (s.displacement(pts + e, b) - s.displacement(pts - e, b)) / (2 * h)
        assert np.allclose(grad[:, :, k], fd, atol=1e-7)
    div = np.zeros((len(pts), 3))
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        div += (s.stress(pts + e, b)[:, :, k] - s.stress(pts - e, b)[:, :, k]) / (2 * h)
    scale = np.abs(s.stress(pts, b)).max(axis=(1, 2)) / np.linalg.norm(pts, axis=1)
    assert np.all(np.abs(div).max(axis=1) < 1e-5 * scale)


QUADRUPOLE = [((10.0, 10.0), (30.0, 10.0)), ((30.0, 30.0), (10.0, 30.0))]
INCLINED = [((5.0, 5.0), (33.0, 35.0)), ((25.0, 35.0), (-3.0, 5.0))]


@pytest.mark.parametrize("pairs", [QUADRUPOLE, INCLINED], ids=["glide-quadrupole", "inclined-quadrupole"])
def test_periodic_array_is_exactly_periodic_and_solves_equilibrium(pairs):
    rot = ORIENTATIONS["general"]
    s = stroh_for_crystal(AL.stiffness(), rot)
    b = rot @ B_CRYSTAL
    f = PeriodicDislocationField(s, b, (40.0, 40.0), pairs)
    # zero net Burgers vector and mirrored pairs: no spurious linear term to remove
    assert np.abs(f.linear).max() < 1e-10
    pts = np.random.default_rng(2).random((300, 2)) * 40.0
    u = f.displacement(pts)
    for shift in ([40.0, 0.0], [0.0, 40.0], [-40.0, 40.0]):
        assert np.abs(f.displacement(pts + np.array(shift)) - u).max() < 1e-10
    h = 1e-4
    far = (
        pts[np.min([np.abs(pts[:, 1] - 10.0), np.abs(pts[:, 1] - 30.0)], axis=0) > 1.0]
        if pairs is QUADRUPOLE
        else pts[:60]
    )
    grad = f.displacement_gradient(far)
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        fd = (f.displacement(far + e) - f.displacement(far - e)) / (2 * h)
        ok = np.abs(fd).max(axis=1) < 1.0  # skip points straddling a cut
        assert np.allclose(grad[ok, :, k], fd[ok], atol=1e-6)
    div = sum(
        (f.stress(far + h * np.eye(2)[k])[:, :, k] - f.stress(far - h * np.eye(2)[k])[:, :, k]) / (2 * h)
        for k in range(2)
    )
    assert np.abs(div).max() < 1e-5 * np.abs(f.stress(far)).max()


def test_periodic_array_cut_is_the_segment_between_partners():
    rot = ORIENTATIONS["edge111"]
    s = stroh_for_crystal(AL.stiffness(), rot)
    b = rot @ B_CRYSTAL
    f = PeriodicDislocationField(s, b, (40.0, 40.0), QUADRUPOLE)
    xs = np.array([2.0, 8.0, 12.0, 20.0, 28.0, 32.0, 38.0])
    eps = 1e-7
    for y0, sign in ((10.0, -1.0), (30.0, 1.0)):  # + at left / - at right: u(above) - u(below) = -b
        jump = f.displacement(np.stack([xs, np.full(7, y0 + eps)], 1)) - f.displacement(
            np.stack([xs, np.full(7, y0 - eps)], 1)
        )
        inside = (xs > 10.0) & (xs < 30.0)
        assert np.allclose(jump[inside], sign * b, atol=1e-5)
        assert np.allclose(jump[~inside], 0.0, atol=1e-5)


def test_single_dipole_linear_term_is_the_plastic_shift():
    """A glide dipole slips a strip of width d by b: u(y + Ly) - u(y) = -b d / Lx (cut jump -b above)."""
    rot = ORIENTATIONS["edge111"]
    s = stroh_for_crystal(AL.stiffness(), rot)
    b = rot @ B_CRYSTAL
    lx, ly, d = 40.0, 30.0, 15.0
    f = PeriodicDislocationField(s, b, (lx, ly), [((10.0, 15.0), (10.0 + d, 15.0))])
    assert np.allclose(f.linear[:, 0], 0.0, atol=1e-12)
    assert np.allclose(f.linear[:, 1] * ly, -b * d / lx, atol=1e-9)
    pts = np.random.default_rng(3).random((50, 2)) * [lx, ly]
    assert np.abs(f.displacement(pts + [0.0, ly]) - f.displacement(pts)).max() < 1e-10
