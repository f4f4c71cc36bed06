"""Physics tests of the FDM stress solve against theory: anisotropic periodic Stroh fields of Gaussian-cored
dislocations, Frank–Bilby walls, exact discrete compatibility and equilibrium, the imposed cell average."""

from __future__ import annotations

import numpy as np
import pytest

from nyegan import fieldops
from nyegan.elasticity import PeriodicDislocationField, stroh_solution
from nyegan.nye.grid import Grid, curl_of_distortion
from nyegan.stress import box_stiffness, divergence_residual, solve_fdm
from nyegan.stress.analytic import distance_to_points, gaussian_line_alpha, node_positions

# box frame of the builder's dislocation cells: x = [1-10] (b of the edge), y = [111] (glide-plane normal),
# z = [-1-12] (edge line); screw cells have the line z along [-110]
EDGE_ROWS = np.array([[1, -1, 0], [1, 1, 1], [-1, -1, 2]], float)
SCREW_ROWS = np.array([[-1, -1, 2], [1, 1, 1], [-1, 1, 0]], float)
WIDTH = 0.5  # Å, Gaussian core width
CORE = 8 * WIDTH  # Å: the Gaussian core changes the far field by O((width / r)^2); 8 widths -> a few %


def _rot(rows):
    return rows / np.linalg.norm(rows, axis=1)[:, None]


@pytest.fixture(scope="module")
def al(al_props):
    return al_props


def _quadrupole(L):
    """Two glide dipoles with opposite cuts (zero mean plastic distortion): +b at P1, P3; -b at P2, P4."""
    p1, p2 = np.array([L / 4, L / 4]), np.array([3 * L / 4, L / 4])
    p3, p4 = np.array([3 * L / 4, 3 * L / 4]), np.array([L / 4, 3 * L / 4])
    return [(p1, p2), (p3, p4)]


def _max_rel_error(fdm_stress, ref_stress):
    """Per component: max |FDM - Stroh| / max |Stroh| over the compared nodes (components with a real field)."""
    err = np.abs(fdm_stress - ref_stress).max(axis=0)
    scale = np.abs(ref_stress).max()
    big = np.abs(ref_stress).max(axis=0) > 0.05 * scale
    return (err / scale)[big]


@pytest.mark.parametrize("character", ["edge", "screw"])
@pytest.mark.parametrize("scheme", ["spectral", "central"])
def test_gaussian_cored_quadrupole_matches_periodic_stroh(al, character, scheme):
    rows = EDGE_ROWS if character == "edge" else SCREW_ROWS
    C = box_stiffness(al.c11, al.c12, al.c44, _rot(rows))
    b = al.a0 / np.sqrt(2)
    bvec = np.array([b, 0, 0]) if character == "edge" else np.array([0, 0, b])
    L = 48.0
    n = (192, 192)
    cell = np.diag([L, L, 10.0])
    pairs = _quadrupole(L)
    pos = [p for pair in pairs for p in pair]
    alpha = gaussian_line_alpha(cell, n, pos, [bvec, -bvec, bvec, -bvec], WIDTH)
    sol = solve_fdm(alpha, cell, C, scheme)
    ref = PeriodicDislocationField(stroh_solution(C), bvec, (L, L), pairs)
    pts = node_positions(cell, n)[::2, ::2].reshape(-1, 3)
    far = distance_to_points(cell, n, pos)[::2, ::2].ravel() > CORE
    s_ref = ref.stress(pts[far])
    s_fdm = sol.stress[:, :, ::2, ::2].reshape(3, 3, -1)[:, :, far].transpose(2, 0, 1)
    rel = _max_rel_error(s_fdm, s_ref)
    assert rel.max() < 0.05, rel
    # the error is the Gaussian core's O((w/r)^2) correction: it shrinks farther out
    farther = distance_to_points(cell, n, pos)[::2, ::2].ravel()[far] > 2 * CORE
    assert _max_rel_error(s_fdm[farther], s_ref[farther]).max() < 0.4 * rel.max()
    assert divergence_residual(sol.stress_voigt, cell, scheme) < 1e-8


def test_frank_bilby_wall_has_no_long_range_stress(al):
    """Symmetric tilt wall of edge dislocations (b along the normal y, spacing D = b / (2 sin(theta/2))): the stress
    decays to < 1% of its peak within one spacing, as the periodic Stroh wall (two walls, cut averaged both ways
    round the cell = zero mean plastic distortion) does."""
    C = box_stiffness(al.c11, al.c12, al.c44, np.eye(3))
    b = al.a0 / np.sqrt(2)
    theta = np.radians(5.0)
    D = b / (2 * np.sin(theta / 2))
    Lx, Ly = D, 4 * D
    h = WIDTH / 2
    n = (int(round(Lx / h)), int(round(Ly / h)))
    cell = np.diag([Lx, Ly, 10.0])
    pos = [(Lx / 2, Ly / 4), (Lx / 2, 3 * Ly / 4)]
    alpha = gaussian_line_alpha(cell, n, pos, [(0, b, 0), (0, -b, 0)], WIDTH)
    sol = solve_fdm(alpha, cell, C, "spectral")
    y = node_positions(cell, n)[..., 1]
    dist_wall = np.minimum(np.abs(y - Ly / 4), np.abs(y - 3 * Ly / 4))
    smax = np.abs(sol.stress).max(axis=(0, 1))
    assert smax[dist_wall >= D].max() < 0.01 * smax.max()
    # and the field matches the anisotropic periodic wall outside the cores
    stroh = stroh_solution(C)
    up = PeriodicDislocationField(stroh, (0, b, 0), (Lx, Ly), [(pos[0], pos[1])])
    down = PeriodicDislocationField(stroh, (0, b, 0), (Lx, Ly), [(pos[0], (pos[1][0], pos[1][1] - Ly))])
    far = distance_to_points(cell, n, pos).ravel() > CORE
    pts = node_positions(cell, n).reshape(-1, 3)[far]
    s_ref = 0.5 * (up.stress(pts) + down.stress(pts))
    s_fdm = sol.stress.reshape(3, 3, -1)[:, :, far].transpose(2, 0, 1)
    assert _max_rel_error(s_fdm, s_ref).max() < 0.05


def test_smooth_wall_carrying_frank_bilby_content_is_stress_free(al):
    """A wall smeared along x (alpha_yz = 2 sin(theta/2) g(y - y0), opposite at the second wall) is a pure lattice
    rotation between the walls: zero stress everywhere, for any cubic orientation."""
    C = box_stiffness(al.c11, al.c12, al.c44, _rot(EDGE_ROWS))
    theta = np.radians(7.0)
    Lx, Ly = 20.0, 80.0
    n = (40, 160)
    y = (np.arange(n[1]) / n[1]) * Ly
    g = lambda y0: np.exp(-0.5 * ((y - y0 + Ly / 2) % Ly - Ly / 2) ** 2) / np.sqrt(2 * np.pi)  # noqa: E731
    alpha = np.zeros((3, 3) + n)
    alpha[1, 2] = (2 * np.sin(theta / 2) * (g(Ly / 4) - g(3 * Ly / 4)))[None, :]
    sol = solve_fdm(alpha, (Lx, Ly), C, "central")
    rotation = np.abs(sol.distortion[0, 1] - sol.distortion[1, 0]).max() / 2
    assert rotation > 0.9 * np.sin(theta / 2)  # the grains between the walls are rotated by ~ +-theta/2
    assert np.abs(sol.stress).max() < 1e-10 * al.c44 * rotation


@pytest.mark.parametrize("scheme", ["spectral", "central", "forward"])
def test_curl_of_elastic_distortion_reproduces_alpha_3d(al, scheme):
    """alpha = curl W of a random periodic W (fieldops): the recovered Ue has exactly the same discrete curl, and
    the stress is in discrete equilibrium."""
    rng = np.random.default_rng(1)
    lengths = (18.0, 20.0, 16.0)
    W = rng.normal(size=(3, 3, 18, 20, 16))
    alpha = fieldops.curl(W, lengths, 3, scheme)
    C = box_stiffness(al.c11, al.c12, al.c44, _rot(EDGE_ROWS))
    sol = solve_fdm(alpha, lengths, C, scheme)
    back = fieldops.curl(sol.distortion, lengths, 3, scheme)
    assert np.abs(back - alpha).max() < 1e-12 * np.abs(alpha).max()
    assert sol.incompatibility_residual < 1e-12
    assert divergence_residual(sol.stress_voigt, lengths, scheme) < 1e-8
    # Ue - W is compatible (a gradient plus a constant): zero curl
    assert np.abs(fieldops.curl(sol.distortion - W, lengths, 3, scheme)).max() < 1e-12 * np.abs(alpha).max()


def test_part_of_alpha_that_is_no_curl_is_reported(al):
    """A divergence-carrying alpha cannot be a curl: the solve keeps its div-free projection and says how much
    was left out (fieldops.project_divfree gives the same projection; odd grids: no Nyquist modes, which
    project_divfree keeps and no curl can reach)."""
    rng = np.random.default_rng(2)
    lengths = (13.0, 15.0, 11.0)
    alpha = rng.normal(size=(3, 3, 13, 15, 11))
    C = box_stiffness(al.c11, al.c12, al.c44, np.eye(3))
    sol = solve_fdm(alpha, lengths, C, "spectral")
    proj = fieldops.project_divfree(alpha, lengths, 3, "spectral")
    back = fieldops.curl(sol.distortion, lengths, 3, "spectral")
    assert np.abs(back - proj).max() < 1e-10 * np.abs(alpha).max()
    expected = np.sqrt(((alpha - proj) ** 2).sum() / (alpha**2).sum())
    assert sol.incompatibility_residual == pytest.approx(expected, rel=1e-8)


def test_triclinic_cell_central_scheme_matches_the_nye_stage_curl(al):
    """On a tilted cell the solve's derivatives are the Nye stage's (nyegan.nye.grid): its curl of the recovered
    Ue (Ue = I - G^T) is the input alpha."""
    rng = np.random.default_rng(3)
    cell = np.array([[24.0, 0.0, 0.0], [7.0, 20.0, 0.0], [0.0, 0.0, 8.0]])
    grid = Grid.build(cell, np.zeros(3), (True, True, True), 1.0, average_along=2)
    G = rng.normal(scale=0.01, size=(3, 3) + grid.shape)
    alpha = curl_of_distortion(grid, G)
    C = box_stiffness(al.c11, al.c12, al.c44, _rot(EDGE_ROWS))
    sol = solve_fdm(alpha, cell, C, "central", dims=(0, 1))
    G_back = -np.swapaxes(sol.distortion, 0, 1)  # the constant I has no curl
    assert np.abs(curl_of_distortion(grid, G_back) - alpha).max() < 1e-12 * np.abs(alpha).max()
    assert divergence_residual(sol.stress_voigt, cell, "central", dims=(0, 1)) < 1e-8


def test_tilted_cell_gives_the_stroh_field(al):
    """The periodic quadrupole of the orthogonal L x L cell described by a tilted cell with the same lattice of
    periods (a = (L, 0), b = (L, L)): grid and differences run along the tilted vectors, the field is the same."""
    C = box_stiffness(al.c11, al.c12, al.c44, _rot(EDGE_ROWS))
    b = al.a0 / np.sqrt(2)
    bvec = np.array([b, 0, 0])
    L = 40.0
    cell = np.array([[L, 0.0, 0.0], [L, L, 0.0], [0.0, 0.0, 10.0]])
    n = (160, 160)
    pairs = _quadrupole(L)
    pos = [p for pair in pairs for p in pair]
    alpha = gaussian_line_alpha(cell, n, pos, [bvec, -bvec, bvec, -bvec], WIDTH)
    sol = solve_fdm(alpha, cell, C, "spectral")
    ref = PeriodicDislocationField(stroh_solution(C), bvec, (L, L), pairs)
    far = distance_to_points(cell, n, pos)[::2, ::2].ravel() > CORE
    pts = node_positions(cell, n)[::2, ::2].reshape(-1, 3)[far]
    s_fdm = sol.stress[:, :, ::2, ::2].reshape(3, 3, -1)[:, :, far].transpose(2, 0, 1)
    assert _max_rel_error(s_fdm, ref.stress(pts)).max() < 0.05


def test_imposed_cell_average(al):
    """<sigma> = C : E for an imposed mean strain E, = Sigma for an imposed mean stress, 0 by default; the
    fluctuation does not depend on it."""
    C = box_stiffness(al.c11, al.c12, al.c44, _rot(EDGE_ROWS))
    L = 30.0
    n = (60, 60)
    cell = np.diag([L, L, 10.0])
    b = np.array([al.a0 / np.sqrt(2), 0, 0])
    alpha = gaussian_line_alpha(cell, n, [(L / 4, L / 4), (3 * L / 4, 3 * L / 4)], [b, -b], 1.0)
    free = solve_fdm(alpha, cell, C, "central")
    assert np.abs(free.stress.mean(axis=(2, 3))).max() < 1e-12 * np.abs(free.stress).max()
    E = np.array([[1e-3, 2e-4, 0.0], [2e-4, -5e-4, 3e-4], [0.0, 3e-4, 2e-3]])
    strained = solve_fdm(alpha, cell, C, "central", mean_strain=E)
    expected = np.einsum("ijkl,kl->ij", C, E)
    assert np.allclose(strained.stress.mean(axis=(2, 3)), expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    assert np.allclose(strained.stress - strained.stress.mean(axis=(2, 3), keepdims=True), free.stress, atol=1e-10)
    assert np.allclose(strained.mean_stress, expected)
    sigma = np.array([0.3, -0.2, 0.1, 0.05, 0.0, -0.4])  # GPa, Voigt xx yy zz yz xz xy
    loaded = solve_fdm(alpha, cell, C, "central", mean_stress=sigma)
    mean = loaded.stress.mean(axis=(2, 3))
    assert np.allclose([mean[0, 0], mean[1, 1], mean[2, 2], mean[1, 2], mean[0, 2], mean[0, 1]], sigma, atol=1e-10)
    with pytest.raises(ValueError, match="either mean_strain or mean_stress"):
        solve_fdm(alpha, cell, C, "central", mean_strain=E, mean_stress=sigma)


def test_2d_field_is_the_z_invariant_3d_field(al):
    C = box_stiffness(al.c11, al.c12, al.c44, _rot(SCREW_ROWS))
    L = 24.0
    cell = np.diag([L, L, 6.0])
    b = np.array([0.5, 0.3, 2.0])
    alpha2 = gaussian_line_alpha(cell, (48, 48), [(6, 6), (18, 18)], [b, -b], 1.0)
    alpha3 = np.repeat(alpha2[..., None], 12, axis=-1)
    s2 = solve_fdm(alpha2, cell, C, "central")
    s3 = solve_fdm(alpha3, cell, C, "central")
    assert np.abs(s3.stress - s2.stress[..., None]).max() < 1e-12 * np.abs(s2.stress).max()
    assert np.abs(s3.energy_density - s2.energy_density[..., None]).max() < 1e-12 * s2.energy_density.max()


def test_energy_density_is_half_sigma_epsilon(al):
    C = box_stiffness(al.c11, al.c12, al.c44, np.eye(3))
    L = 20.0
    cell = np.diag([L, L, 6.0])
    b = np.array([2.0, 0.0, 1.0])
    alpha = gaussian_line_alpha(cell, (40, 40), [(5, 5), (15, 12)], [b, -b], 1.0)
    sol = solve_fdm(alpha, cell, C, "spectral")
    eps = 0.5 * (sol.distortion + np.swapaxes(sol.distortion, 0, 1))
    w_gpa = 0.5 * np.einsum("ij...,ij...->...", sol.stress, eps)
    assert np.allclose(sol.energy_density * 160.21766208, w_gpa, rtol=1e-6)
    assert (sol.energy_density >= -1e-18).all()


def test_bad_input_is_a_clear_error(al):
    C = box_stiffness(al.c11, al.c12, al.c44, np.eye(3))
    alpha = np.zeros((3, 3, 8, 8))
    with pytest.raises(ValueError, match="NaN"):
        solve_fdm(np.full((3, 3, 8, 8), np.nan), (8.0, 8.0), C)
    with pytest.raises(ValueError, match="shape"):
        solve_fdm(np.zeros((3, 8, 8)), (8.0, 8.0), C)
    with pytest.raises(ValueError, match="scheme"):
        solve_fdm(alpha, (8.0, 8.0), C, "upwind")
    with pytest.raises(ValueError, match="positive definite"):
        solve_fdm(alpha, (8.0, 8.0), -C)
    with pytest.raises(ValueError, match="proper rotation"):
        box_stiffness(al.c11, al.c12, al.c44, np.diag([1.0, 1.0, -1.0]))


def test_energy_factor_matches_closed_forms(al):
    """Stroh energy factor vs Hirth & Lothe: cubic <100> edge on {001} (C11 + C12) sqrt(C44 (C11 - C12) /
    (C11 (C11 + C12 + 2 C44))), <100> screw C44; nearly isotropic edge mu / (1 - nu)."""
    from nyegan.elasticity import poisson_ratio_isotropic, voigt_to_tensor
    from nyegan.stress.energy import energy_factor
    from nyegan.stress.stiffness import cubic_voigt

    c11, c12, c44 = al.c11, al.c12, al.c44
    k_cubic = (c11 + c12) * np.sqrt(c44 * (c11 - c12) / (c11 * (c11 + c12 + 2 * c44)))
    assert energy_factor(box_stiffness(c11, c12, c44, np.eye(3)), [0, 2.0, 0]) == pytest.approx(k_cubic, rel=1e-6)
    c_iso = voigt_to_tensor(cubic_voigt(c11, c11 - 2 * c44, 1.01 * c44))  # 1% off isotropy: distinct Stroh roots
    nu = poisson_ratio_isotropic(c11, c44)
    assert energy_factor(c_iso, [2.0, 0, 0]) == pytest.approx(c44 / (1 - nu), rel=0.01)
    assert energy_factor(c_iso, [0, 0, 2.0]) == pytest.approx(1.01 * c44, rel=1e-6)  # <100> screw: C44 exactly


def test_tilt_wall_energy_follows_read_shockley(al):
    """Elastic energy per area of Gaussian-cored walls (b = a0 along the normal): gamma / theta is linear in
    ln theta with slope -E0, E0 = a0 K / (4 pi) (Read–Shockley), K the anisotropic energy factor."""
    from nyegan.stress.energy import read_shockley_e0, read_shockley_fit

    C = box_stiffness(al.c11, al.c12, al.c44, np.eye(3))
    b = al.a0
    width = 1.0
    thetas, gammas = [], []
    for deg in (1.5, 2.0, 3.0, 4.0, 6.0):
        t = np.radians(deg)
        D = b / (2 * np.sin(t / 2))
        cell = np.diag([D, 4 * D, 10.0])
        n = (int(round(D / 0.5)), int(round(4 * D / 0.5)))
        pos = [(D / 2, D), (D / 2, 3 * D)]
        sol = solve_fdm(gaussian_line_alpha(cell, n, pos, [(0, b, 0), (0, -b, 0)], width), cell, C, "spectral")
        thetas.append(t)
        gammas.append(sol.energy_density.mean() * 2 * D * 16021.766208)  # eV/Å^2 -> mJ/m^2, per boundary
    e0, _ = read_shockley_fit(thetas, gammas)
    assert e0 == pytest.approx(read_shockley_e0(C, [0, b, 0]), rel=0.02)
