"""Secondary dislocations of the structural-unit model: the content by Frank's formula, the input map and the
baseline built on it."""

import math

import numpy as np
import pytest
import torch

from nyegan.dataset.conditions import FEATURES, INDEX
from nyegan.defects.structural_units import (
    DELIMITING_DEG,
    canonical_axis,
    delimiting_misorientation,
    secondary_content,
)


def _frank(theta_deg):
    return 2 * math.sin(math.radians(theta_deg) / 2)


def test_delimiting_angles_are_the_csl_tilt_angles():
    # Σ5 (310), (210) about [001]: tan(θ/2) = 1/3, 1/2; Σ3 (111) about [110]: cos θ = 1/3; Σ11 (113): cos θ = 7/11;
    # Σ7 about [111]: cos θ = 11/14 (Ranganathan's rule for Σ = 7)
    d = DELIMITING_DEG
    assert d[(0, 0, 1)][1] == pytest.approx(36.8699, abs=1e-4) and d[(0, 0, 1)][2] == pytest.approx(53.1301, abs=1e-4)
    assert math.cos(math.radians(d[(1, 1, 0)][2])) == pytest.approx(1 / 3)
    assert math.cos(math.radians(d[(1, 1, 0)][1])) == pytest.approx(7 / 11)
    assert math.cos(math.radians(d[(1, 1, 1)][1])) == pytest.approx(11 / 14)
    # about [001] and [110] θ and θmax - θ are the two symmetric tilt planes of one misorientation (same Σ)
    for key in ((0, 0, 1), (1, 1, 0)):
        table = d[key]
        np.testing.assert_allclose(np.array(table) + np.array(table[::-1]), table[-1] + table[0], atol=1e-9)


def test_secondary_content_is_frank_formula_from_the_nearest_delimiting_boundary():
    # a low-angle [001] boundary: the lattice dislocations of the wall; near 90° the perfect (110) description is
    # nearer: Σ41 (540) at 77.32° is a wall 12.68° from it, with the opposite sign of Σ41 (910)
    assert secondary_content([0, 0, 1], 12.68) == pytest.approx(_frank(12.68))
    assert secondary_content([1, 0, 0], 77.32) == pytest.approx(-_frank(12.68))
    assert secondary_content([0, 0, -3], 12.68) == pytest.approx(_frank(12.68))
    # Σ37 (610) at 18.92° is nearer Σ5 (310) (17.95° away) than the perfect crystal
    assert secondary_content([0, 0, 1], 18.92) == pytest.approx(-_frank(36.8699 - 18.92), abs=1e-5)
    # between Σ5 (310) and Σ5 (210): a few degrees from the nearer one
    assert delimiting_misorientation([0, 0, 1], 43.60) == pytest.approx(36.8699, abs=1e-4)
    assert secondary_content([0, 0, 1], 43.60) == pytest.approx(_frank(43.60 - 36.8699), abs=1e-5)
    # [110] Σ9 (2-21) at 141.06° is 11.54° beyond Σ11 (332) at 129.52°, as Σ9 (1-14) at 38.94° is before Σ11 (113)
    assert secondary_content([1, -1, 0], 141.06) == pytest.approx(-secondary_content([1, 1, 0], 38.94), abs=1e-5)
    # [111]: Σ13 at 27.80° is nearer Σ7 (38.21°) than the perfect crystal
    assert delimiting_misorientation([1, 1, 1], 27.80) == pytest.approx(38.2132, abs=1e-4)


@pytest.mark.parametrize("axis", [(0, 0, 1), (1, 1, 0), (1, 1, 1)])
def test_delimiting_boundaries_have_no_secondary_dislocations(axis):
    for theta in DELIMITING_DEG[axis]:
        assert secondary_content(axis, theta) == 0.0
        assert secondary_content(axis, theta + 1.0) != 0.0 or theta == DELIMITING_DEG[axis][-1]


def test_axes_without_a_table_have_no_secondary_dislocations():
    assert canonical_axis([1, 2, 3]) is None and canonical_axis([0, 0, 0]) is None
    assert delimiting_misorientation([1, 2, 3], 20.0) is None
    assert secondary_content([1, 2, 3], 20.0) == 0.0
    assert canonical_axis([0, -2, 2]) == (1, 1, 0) and canonical_axis([-1, 1, 1]) == (1, 1, 1)


def _conditions(theta_deg, periods, lengths, axis=(1.0, 0.0, 0.0), plane=(0.9939, 0.1104, 0.0), sign=1.0):
    """Raw conditions of symmetric tilt boundaries (canonical axis and plane features as the dataset writes them)."""
    n = len(theta_deg)
    cond = torch.zeros(n, len(FEATURES), dtype=torch.float64)
    cond[:, INDEX["kind_gb"]] = 1.0
    cond[:, INDEX["theta_rad"]] = torch.deg2rad(torch.tensor(theta_deg, dtype=torch.float64))
    a = torch.tensor(axis, dtype=torch.float64)
    cond[:, INDEX["axis_a"] : INDEX["axis_c"] + 1] = a / a.norm()
    p = torch.tensor(plane, dtype=torch.float64)
    cond[:, INDEX["plane_a"] : INDEX["plane_c"] + 1] = p / p.norm()
    cond[:, INDEX["content_sign"]] = sign
    cond[:, INDEX["periods_x"]] = torch.tensor(periods, dtype=torch.float64)
    cond[:, INDEX["fb_content"]] = torch.tensor([abs(_frank(t)) for t in theta_deg], dtype=torch.float64)
    L = torch.tensor(lengths, dtype=torch.float64)
    return cond, L, torch.tensor([[0.25, 0.75]] * n, dtype=torch.float64)


def test_secondary_map_of_a_low_angle_boundary_is_its_lattice_wall_without_the_mean():
    # θ_f = 0: the secondary dislocations are the wall's own; with the wall's Burgers vector set so that it has
    # one dislocation per period, the two maps differ only by the line average along x
    from nyegan.gan.inputs import secondary_wall_map, wall_map

    nx, ny = 32, 64
    cond, L, gbf = _conditions([12.68, 12.68], [1.0, 2.0], [[18.3, 60.0], [36.6, 60.0]])
    cond[:, INDEX["wall_burgers_A"]] = cond[:, INDEX["fb_content"]] * L[:, 0] / cond[:, INDEX["periods_x"]]
    sec = secondary_wall_map(cond, gbf, L, (nx, ny))
    wall = wall_map(cond, gbf, L, (nx, ny))
    torch.testing.assert_close(sec, wall - wall.mean(dim=1, keepdim=True), rtol=0, atol=1e-9 * float(wall.abs().max()))


def test_secondary_map_has_one_core_per_period_and_no_line_average():
    from nyegan.gan.inputs import secondary_wall_map

    nx, ny = 64, 64
    # Σ29 (520) about [001], 6.73° past Σ5 (310); periods along x 1, 2, 3 in cells of 3 repeats of 14.6 Å
    cond, L, gbf = _conditions([43.60] * 3, [1.0, 2.0, 3.0], [[43.8, 60.0]] * 3)
    sec = secondary_wall_map(cond, gbf, L, (nx, ny))
    assert float(sec.mean(dim=1).abs().max()) < 1e-9 * float(sec.abs().max())  # every row: zero mean along x
    row = sec[:, :, 16]  # through the first boundary
    spectrum = torch.fft.rfft(row, dim=1).abs()
    for k, m in enumerate((1, 2, 3)):
        assert int(spectrum[k, 1:].argmax()) + 1 == m  # the fundamental is the period's
        off = [q for q in range(1, nx // 2) if q % m] or [0]  # m = 1: the line average, zero
        assert float(spectrum[k, off].max()) < 1e-6 * float(spectrum[k].max())  # nothing off the period
    # the modulation grows with the secondary content: Σ41 (910) (12.68° from Σ1) against Σ29 (520) (6.73°)
    big, _, _ = _conditions([12.68], [1.0], [[43.8, 60.0]])
    amp_big = float(secondary_wall_map(big, gbf[:1], L[:1], (nx, ny)).abs().max())
    assert amp_big / float(sec[0].abs().max()) == pytest.approx(_frank(12.68) / _frank(43.60 - 36.8699), rel=1e-6)


def test_secondary_map_is_zero_on_delimiting_twist_and_dislocation_cells():
    from nyegan.gan.inputs import secondary_wall_map

    cond, L, gbf = _conditions([36.8699, 20.0, 20.0], [1.0] * 3, [[20.0, 60.0]] * 3)
    cond[1, INDEX["plane_a"] : INDEX["plane_c"] + 1] = cond[1, INDEX["axis_a"] : INDEX["axis_c"] + 1]  # twist
    cond[2, INDEX["kind_gb"]] = 0.0
    cond[2, INDEX["kind_dislocation"]] = 1.0
    sec = secondary_wall_map(cond, gbf, L, (16, 32))
    assert float(sec.abs().max()) == 0.0


def test_secondary_wall_baseline_fit_recovers_amplitude_and_width():
    # atomistic-like fields made of the Frank-Bilby line plus 0.3 x the secondary map of 2 Å cores: the fit over
    # the amplitude and width grid finds (0.3, 2 Å), and the baseline then reproduces the detail exactly
    from nyegan.gan import baselines
    from nyegan.gan.fieldmetrics import compare

    grid = (32, 64)
    cond, L, gbf = _conditions([12.68, 18.92, 43.60, 61.93], [1.0, 2.0, 1.0, 2.0], [[36.6, 60.0]] * 4)
    cond, L, gbf = cond.numpy(), L.numpy(), gbf.numpy()
    real = baselines.secondary_wall(cond, gbf, L, grid, width=2.0, amplitude=0.3)
    assert baselines.fit_secondary_wall(cond, gbf, L, real, grid) == (0.3, 2.0, 2.5)
    # boundary + dislocation cells (their detail also holds cores) do not enter the fit: the same boundaries drawn
    # with another amplitude and width as such cells leave it where it was
    other = cond.copy()
    other[:, INDEX["kind_gb"]], other[:, INDEX["kind_gb_dislocation"]] = 0.0, 1.0
    both = np.concatenate([cond, other, other])
    mixed = np.concatenate([real] + 2 * [baselines.secondary_wall(cond, gbf, L, grid, width=1.0, amplitude=1.0)])
    g3, L3 = np.concatenate([gbf] * 3), np.concatenate([L] * 3)
    assert baselines.fit_secondary_wall(both, g3, L3, mixed, grid) == (0.3, 2.0, 2.5)
    wall = baselines.dislocation_wall(both, g3, L3, grid, 1.0)  # the wall width alike
    wall[len(cond) :] = baselines.dislocation_wall(both[len(cond) :], g3[len(cond) :], L3[len(cond) :], grid, 3.0)
    assert baselines.fit_wall_width(both, g3, L3, wall, grid) == 1.0
    for k in range(len(cond)):
        assert compare(real[k : k + 1], real[k : k + 1], gbf[k], float(L[k, 1]))["detail_yz"] < 1e-6
        other = baselines.secondary_wall(cond[k : k + 1], gbf[k : k + 1], L[k : k + 1], grid, 2.0, 0.6)
        assert compare(other, real[k : k + 1], gbf[k], float(L[k, 1]))["detail_yz"] == pytest.approx(1.0, rel=1e-3)


def test_geometry_maps_append_the_secondary_map_after_the_wall():
    # the wall stays the first extra channel (the one the wall residual adds), the secondary map comes next
    from nyegan.gan import physics
    from nyegan.gan.inputs import N_CHANNELS, n_channels, secondary_wall_map, wall_map
    from nyegan.gan.module import GeometryMaps

    nx, ny = 16, 32
    cond, L, gbf = _conditions([43.60], [1.0], [[29.2, 50.0]])
    cond, L, gbf = cond.float(), L.float(), gbf.float()
    cores = torch.full((1, 4, 3), float("nan"))
    gm = GeometryMaps((nx, ny), 2, 0.05, wall=True, secondary=True)
    maps = gm(cond, gbf, L, cores)
    assert maps.shape[1] == gm.n_channels == n_channels(True, True) == N_CHANNELS + 2
    torch.testing.assert_close(maps[:, N_CHANNELS], wall_map(cond, gbf, L, (nx, ny), 0.05))
    torch.testing.assert_close(maps[:, N_CHANNELS + 1], secondary_wall_map(cond, gbf, L, (nx, ny), 0.05))
    raw = physics.add_wall(torch.zeros(1, 3, nx, ny), maps)
    torch.testing.assert_close(raw[:, 1], maps[:, N_CHANNELS])


def test_lattice_referenced_boundaries_are_those_nearest_a_perfect_crystal_description():
    from nyegan.defects.structural_units import lattice_referenced

    assert lattice_referenced([0, 0, 1], 12.68) and lattice_referenced([0, 0, 1], 77.32)  # Σ41 (910), (540)
    assert lattice_referenced([1, 1, 0], 159.95) and not lattice_referenced([1, 1, 1], 50.57)  # Σ33 (4-41); Σ37
    assert not lattice_referenced([0, 0, 1], 43.60) and not lattice_referenced([1, 2, 3], 10.0)


def test_structural_unit_baseline_is_the_wall_near_the_perfect_crystal_and_the_secondary_wall_elsewhere():
    from nyegan.gan import baselines
    from nyegan.gan.inputs import secondary_dislocations

    grid = (32, 64)
    cond, L, gbf = _conditions([12.68, 43.60], [1.0, 1.0], [[36.6, 60.0]] * 2)
    cond, L, gbf = cond.numpy(), L.numpy(), gbf.numpy()
    assert secondary_dislocations(torch.from_numpy(cond))[1].tolist() == [True, False]
    got = baselines.structural_units(cond, gbf, L, grid, wall_width=1.5, width=2.0, amplitude=0.4)
    np.testing.assert_allclose(got[0], baselines.dislocation_wall(cond[:1], gbf[:1], L[:1], grid, 1.5)[0])
    np.testing.assert_allclose(got[1], baselines.secondary_wall(cond[1:], gbf[1:], L[1:], grid, 2.0, 0.4)[0])


@pytest.mark.parametrize("axis", [(0, 0, 1), (1, 1, 0), (1, 1, 1)])
def test_vectorised_secondary_dislocations_follow_the_scalar_definitions(axis):
    # the networks' batched lookup (torch, from the raw condition features) and the library's scalar functions
    from nyegan.defects.structural_units import lattice_referenced
    from nyegan.gan.inputs import secondary_dislocations

    top = DELIMITING_DEG[axis][-1]
    thetas = [float(t) for t in np.linspace(0.5, top - 0.5, 97)] + list(DELIMITING_DEG[axis])
    canonical = tuple(sorted(axis, reverse=True))  # the dataset's axis features: |axis| / norm, sorted descending
    cond, _, _ = _conditions(thetas, [1.0] * len(thetas), [[30.0, 60.0]] * len(thetas), axis=canonical, sign=-1.0)
    content, lattice = secondary_dislocations(cond)
    np.testing.assert_allclose(content.numpy(), [-secondary_content(axis, t) for t in thetas], atol=1e-12)
    expected = [secondary_content(axis, t) != 0 and lattice_referenced(axis, t) for t in thetas]
    assert lattice.tolist() == expected


def test_frank_bilby_line_map_carries_the_exact_content_of_each_boundary():
    from nyegan.gan.inputs import frank_bilby_line_map

    nx, ny = 8, 64
    cond, L, gbf = _conditions([12.68, 43.60], [1.0, 2.0], [[36.6, 60.0], [21.8, 50.0]])
    line = frank_bilby_line_map(cond, gbf, L, (nx, ny)).numpy()
    c = 2 * np.sin(np.radians([12.68, 43.60]) / 2)
    flipped, _, _ = _conditions([12.68, 43.60], [1.0, 2.0], [[36.6, 60.0], [21.8, 50.0]], sign=-1.0)
    np.testing.assert_array_equal(frank_bilby_line_map(flipped, gbf, L, (nx, ny)).numpy(), -line)
    y = (np.arange(ny) + 0.5) / ny
    for k in range(2):
        first = np.abs((y - float(gbf[k, 0]) + 0.5) % 1 - 0.5) < 0.25  # the slab of the first boundary
        dy = float(L[k, 1]) / ny
        np.testing.assert_allclose(line[k, 0, first].sum() * dy, c[k], rtol=1e-6)
        np.testing.assert_allclose(line[k, 0, ~first].sum() * dy, -c[k], rtol=1e-6)
        assert np.ptp(line[k], axis=0).max() == 0  # no structure along the boundary


def test_structural_unit_wall_map_is_what_the_networks_see_and_correct():
    from nyegan.gan.config import GanSettings
    from nyegan.gan.inputs import N_CHANNELS, frank_bilby_line_map, secondary_wall_map, units_map, wall_map
    from nyegan.gan.module import GeometryMaps

    nx, ny = 32, 64
    cond, L, gbf = _conditions([12.68, 43.60], [1.0, 1.0], [[36.6, 60.0], [21.8, 60.0]])
    u = units_map(cond, gbf, L, (nx, ny), 0.05, amplitude=0.4)
    # low-angle: the lattice wall; otherwise the Frank-Bilby line plus 0.4 x the secondary dislocations
    torch.testing.assert_close(u[0], wall_map(cond, gbf, L, (nx, ny), 0.05)[0])
    expected = frank_bilby_line_map(cond, gbf, L, (nx, ny), 0.05) + 0.4 * secondary_wall_map(
        cond, gbf, L, (nx, ny), 0.05
    )
    torch.testing.assert_close(u[1], expected[1])
    assert float(u[1].std(dim=0).max()) > 0  # it has structure along the boundary
    hp = GanSettings.from_config({"wall_model": "structural_units", "secondary_amplitude": 0.4}).model
    maps = GeometryMaps.from_hparams((nx, ny), 2, 0.05, hp)(cond, gbf, L, torch.full((2, 1, 3), float("nan")))
    torch.testing.assert_close(maps[:, N_CHANNELS], units_map(cond, gbf, L, (nx, ny), 0.05, hp.align_slabs, 0.4))
    with pytest.raises(ValueError, match="wall_model"):
        GeometryMaps((nx, ny), 2, 0.05, wall=True, wall_model="units")


def test_unit_rows_follow_the_projected_period_of_the_plane():
    # about [001] the projected structure of (h k 0) repeats once per CSL period exactly when h + k is even
    # (fcc: the in-plane vector ½[k -h 1] halves it otherwise), so away from the perfect crystal and the
    # delimiting boundaries the rule draws two rows for even h + k and one for odd
    from math import atan, degrees, gcd

    from nyegan.defects.structural_units import lattice_referenced, secondary_content, unit_rows

    seen = set()
    for h in range(2, 12):
        for k in range(1, h):
            if gcd(h, k) != 1:
                continue
            theta = 2 * degrees(atan(k / h))
            if lattice_referenced((0, 0, 1), theta) or secondary_content((0, 0, 1), theta) == 0.0:
                assert unit_rows((0, 0, 1), (h, k, 0), theta) == 1
                continue
            rows = unit_rows((0, 0, 1), (h, k, 0), theta)
            assert rows == (2 if (h + k) % 2 == 0 else 1), (h, k)
            seen.add(rows)
    assert seen == {1, 2}
    assert unit_rows((0, 0, 1), (3, 1, 0), 36.8699) == 1  # a delimiting boundary has no secondary units
    assert unit_rows((0, 0, 1), (0, 0, 1), 22.62) == 1  # twist (plane along the axis)
    assert unit_rows((1, 2, 3), (1, 1, -1), 20.0) == 1  # an axis without a table


def test_two_row_secondary_units_alternate_across_the_plane():
    # the first harmonic of a one-row map keeps its phase across the boundary and peaks on it; split on two rows
    # offset Å away, half a period apart, it changes sign across the plane and peaks on the rows
    from nyegan.gan import baselines
    from nyegan.gan.fieldmetrics import harmonic_profile, phase_span

    grid = (32, 128)
    cond, L, gbf = _conditions([61.93, 61.93], [1.0, 2.0], [[24.0, 80.0]] * 2)  # Σ17 (530), 8.8° past Σ5 (210)
    cond, L, gbf = cond.numpy(), L.numpy(), gbf.numpy()
    for k, m in enumerate((1, 2)):
        one = baselines.secondary_wall(cond[k : k + 1], gbf[k : k + 1], L[k : k + 1], grid, 1.0, 1.0)[0, 1, 2]
        two = baselines.secondary_wall(cond[k : k + 1], gbf[k : k + 1], L[k : k + 1], grid, 1.0, 1.0, rows=[2],
                                       offset=3.0)[0, 1, 2]  # fmt: skip
        line = baselines.frank_bilby_line(cond[k : k + 1], gbf[k : k + 1], L[k : k + 1], grid)[0, 1, 2]
        np.testing.assert_allclose(two.mean(axis=0), line.mean(axis=0), atol=1e-9)  # the same x average
        dy, c1 = harmonic_profile(one - line, m, gbf[k, 0], float(L[k, 1]))
        dy2, c2 = harmonic_profile(two - line, m, gbf[k, 0], float(L[k, 1]))
        assert phase_span(c1) < 0.1 and abs(dy[np.abs(c1).argmax()]) < 0.7
        assert phase_span(c2) == pytest.approx(np.pi, abs=0.1)
        assert abs(abs(dy2[np.abs(c2).argmax()]) - 3.0) < 0.7
    # the structural-unit baseline uses the rows only where asked
    rows = [1, 2]
    su = baselines.structural_units(cond, gbf, L, grid, wall_width=1.5, width=1.0, amplitude=1.0, rows=rows, offset=3.0)
    np.testing.assert_allclose(su[0], baselines.structural_units(cond[:1], gbf[:1], L[:1], grid, 1.5, 1.0, 1.0)[0])
    np.testing.assert_allclose(su[1], baselines.secondary_wall(cond[1:], gbf[1:], L[1:], grid, 1.0, 1.0, [2], 3.0)[0])


def test_secondary_wall_fit_recovers_the_row_offset():
    from nyegan.gan import baselines

    grid = (32, 64)
    cond, L, gbf = _conditions([18.92, 43.60, 61.93, 71.08], [2.0, 2.0, 1.0, 1.0], [[36.6, 60.0]] * 4)
    cond, L, gbf = cond.numpy(), L.numpy(), gbf.numpy()
    rows = np.array([1, 1, 2, 2])
    real = baselines.secondary_wall(cond, gbf, L, grid, width=2.0, amplitude=0.7, rows=rows, offset=3.5)
    assert baselines.fit_secondary_wall(cond, gbf, L, real, grid, rows=rows) == (0.7, 2.0, 3.5)


def test_units_two_rows_condition_is_the_rule_of_the_case():
    # the dataset's condition carries unit_rows: two rows for Σ17 (530) about [001] (h + k even, 8.8° past
    # Σ5 (210)), one for Σ13 (320) (h + k odd) and for a cell without a boundary
    from nyegan.dataset.conditions import condition_vector

    def cond(plane, theta, kind="gb"):
        meta = {"kind": kind, "axis": [0, 0, 1], "plane": plane, "misorientation_deg": theta, "sigma": 17,
                "periodic_cell": [10.0, 30.0, 4.05]}  # fmt: skip
        return condition_vector(meta, [20.0, 60.0, 4.05], [0.25, 0.75], 1.0, dim=2)[INDEX["units_two_rows"]]

    assert cond([5, 3, 0], 61.93) == 1.0
    assert cond([3, 2, 0], 67.38) == 0.0
    assert cond([3, 1, 0], 36.87) == 0.0  # Σ5 (310): a delimiting boundary has no secondary units
    meta = {"kind": "dislocation", "character": "edge", "burgers_box": [2.86, 0.0, 0.0], "a0": 4.05}
    assert condition_vector(meta, [20.0, 60.0, 4.05], None, 1.0, dim=2)[INDEX["units_two_rows"]] == 0.0


def test_networks_see_the_units_on_the_rows_the_condition_names():
    # with gan.wall_model structural_units, a boundary whose units_two_rows condition is set gets the two-row
    # map at the configured offset: its first harmonic turns by π across the plane and peaks off it
    from nyegan.gan.config import GanSettings
    from nyegan.gan.fieldmetrics import harmonic_profile, phase_span
    from nyegan.gan.inputs import N_CHANNELS, frank_bilby_line_map
    from nyegan.gan.module import GeometryMaps

    grid = (32, 128)
    cond, L, gbf = _conditions([61.93, 61.93], [1.0, 1.0], [[24.0, 80.0]] * 2)
    cond[1, INDEX["units_two_rows"]] = 1.0
    hp = GanSettings.from_config({"wall_model": "structural_units", "secondary_amplitude": 1.0,
                                  "secondary_row_offset_A": 4.0}).model  # fmt: skip
    maps = GeometryMaps.from_hparams(grid, 2, 1.0, hp)(cond, gbf, L, torch.full((2, 1, 3), float("nan")))
    detail = (maps[:, N_CHANNELS] - frank_bilby_line_map(cond, gbf, L, grid)).numpy()
    dy1, c1 = harmonic_profile(detail[0], 1, float(gbf[0, 0]), float(L[0, 1]))
    dy2, c2 = harmonic_profile(detail[1], 1, float(gbf[1, 0]), float(L[1, 1]))
    assert phase_span(c1) < 0.1 and abs(dy1[np.abs(c1).argmax()]) < 0.7
    assert phase_span(c2) == pytest.approx(np.pi, abs=0.1) and abs(abs(dy2[np.abs(c2).argmax()]) - 4.0) < 0.7
    np.testing.assert_allclose(detail[1].mean(axis=0), 0.0, atol=1e-6 * np.abs(detail[1]).max())  # same content


def test_map_defaults_are_the_schema_defaults():
    # the library functions' row offset and amplitude are the networks' (gan.secondary_*) defaults
    from nyegan.gan.config import GanSettings
    from nyegan.gan.inputs import ROW_OFFSET_A, SECONDARY_AMPLITUDE

    model = GanSettings.from_config({}).model
    assert (model.secondary_row_offset_A, model.secondary_amplitude) == (ROW_OFFSET_A, SECONDARY_AMPLITUDE)
