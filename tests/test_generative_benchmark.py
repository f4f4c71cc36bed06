"""The generative benchmark: metrics that mean what they say, baselines with the right physics, a fast run."""

import numpy as np
import pytest

from nyegan.dataset.conditions import FEATURES, INDEX
from nyegan.gan import baselines
from nyegan.gan.fieldmetrics import compare


def _boundary(nx=32, ny=64, units=3, phase=0.0, amp=0.5, seed=0):
    rng = np.random.default_rng(seed)
    x = (np.arange(nx) + 0.5) / nx
    y = (np.arange(ny) + 0.5) / ny
    line = np.exp(-0.5 * ((y - 0.25) / 0.03) ** 2) - np.exp(-0.5 * ((y - 0.75) / 0.03) ** 2)
    f = np.zeros((1, 3, 3, nx, ny))
    f[0, 1, 2] = (1 + amp * np.cos(2 * np.pi * units * (x[:, None] - phase))) * line[None]
    f[0, 0, 2] = 0.05 * np.sin(2 * np.pi * units * (x[:, None] - phase)) * line[None]
    return f + 1e-4 * rng.normal(size=f.shape)


def test_metrics_are_calibrated():
    real = _boundary()
    gb, Ly = np.array([0.25, 0.75]), 60.0
    same = compare(real, real, gb, Ly)
    assert same["detail_yz"] < 1e-9 and same["mean_yz"] < 1e-9 and same["period"] == 1.0
    # a rigid translation along x is not an error (best shift, also between grid nodes), for every component
    for phase in (4 / 32, 0.37 / 32, 5.5 / 32):
        moved = compare(_boundary(phase=phase), real, gb, Ly)
        assert moved["detail_yz"] < 0.02 and moved["detail_xz"] < 0.02  # noise floor and 1/16-step resolution
    # no modulation at all scores 1 for the detail, whatever the mean does
    flat = real.copy()
    flat[:] = real.mean(axis=3, keepdims=True)
    m = compare(flat, real, gb, Ly)
    assert m["detail_yz"] == pytest.approx(1.0, abs=1e-6) and m["detail_xz"] == pytest.approx(1.0, abs=1e-6)
    # the wrong period is caught; a weak component counts as much as the main one
    wrong = compare(_boundary(units=4), real, gb, Ly)
    assert wrong["period"] == 0.0 and wrong["detail_yz"] > 0.5 and wrong["detail_xz"] > 1.0
    # ensembles: the same distribution is ~0 apart; memorisation compares with the training fields
    assert same["energy_distance"] < 1e-6 and same["coverage"] < 1e-6
    # coverage: a zero field scores 1; noise on a prediction only raises it (the energy distance can fall);
    # two samples that reproduce two microstates beat their mean
    zero = compare(np.zeros_like(real[:1]), real, gb, Ly)
    assert zero["coverage"] == pytest.approx(1.0, abs=1e-9)
    rng = np.random.default_rng(0)
    rms = np.sqrt((real**2).mean(axis=(0, 3, 4)))[None, :, :, None, None]
    flat4 = np.repeat(flat[:1], 4, axis=0)
    noisy = compare(flat4 + 0.5 * rms * rng.standard_normal(flat4.shape), real, gb, Ly)
    clean = compare(flat4, real, gb, Ly)
    assert noisy["coverage"] > clean["coverage"]
    assert noisy["energy_distance"] < clean["energy_distance"]  # why coverage is reported beside it
    states = np.concatenate([_boundary(seed=1), _boundary(seed=2, units=4)])
    both = compare(states, states, gb, Ly)["coverage"]
    mean = compare(states.mean(axis=0, keepdims=True), states, gb, Ly)["coverage"]
    assert both < 1e-6 < 0.2 < mean
    # spread: an ensemble as diverse as the atomistic one scores 1, a scaled-up scatter its scale
    pair = np.concatenate([_boundary(seed=1, phase=0.1), _boundary(seed=2, phase=0.1, amp=0.3)])
    assert compare(pair, pair, gb, Ly)["spread"] == pytest.approx(1.0)
    mid = pair.mean(axis=0, keepdims=True)
    wide = mid + 2.0 * (pair - mid)
    assert compare(wide, pair, gb, Ly)["spread"] == pytest.approx(2.0, rel=1e-6)
    assert "spread" not in compare(pair[:1], pair, gb, Ly)  # one sample has no spread to compare
    mem = compare(real, real, gb, Ly, train=_boundary(seed=5))
    assert mem["memorisation"] > 1.0  # closer to the truth (itself) than to a training field


def test_errors_of_a_tiny_component_are_relative_to_one_percent_of_the_main_one():
    real = _boundary()
    gb, Ly = np.array([0.25, 0.75]), 60.0
    d_main = np.linalg.norm(real[0, 1, 2] - real[0, 1, 2].mean(axis=0))
    tiny = real.copy()
    tiny[0, 2, 2] = 3e-3 * real[0, 1, 2]  # α_zz at 0.3 % of α_yz: reported (above NEGLIGIBLE), below the floor
    d_tiny = np.linalg.norm(tiny[0, 2, 2] - tiny[0, 2, 2].mean(axis=0))
    off = tiny.copy()
    off[0, 2, 2] *= -1.0  # every point of it wrong by twice its value
    m = compare(off, tiny, gb, Ly)
    assert "detail_zz" in m and m["detail_yz"] < 1e-9
    # 2 ||r_zz|| / (1 % of ||r_yz||) = 0.6, not the 2.0 its own norm would give
    assert m["detail_zz"] == pytest.approx(2.0 * d_tiny / (0.01 * d_main), rel=1e-3)
    assert m["detail_zz"] < 1.0
    big = tiny.copy()
    big[0, 2, 2] = 0.05 * real[0, 1, 2]  # 5 %: above the floor, its own norm counts
    flipped = big.copy()
    flipped[0, 2, 2] *= -1.0
    assert compare(flipped, big, gb, Ly)["detail_zz"] == pytest.approx(2.0, rel=1e-3)


def _cond(theta_deg, Lx, sign=1.0, periods=0.0):
    c = np.zeros((1, len(FEATURES)))
    c[0, INDEX["kind_gb"]] = 1.0
    c[0, INDEX["fb_content"]] = 2 * np.sin(np.radians(theta_deg) / 2)
    c[0, INDEX["content_sign"]] = sign
    c[0, INDEX["periods_x"]] = periods
    return c


def test_baselines_carry_the_frank_bilby_content():
    import torch

    from nyegan.content import slab_content

    gb, L, grid = np.array([[0.25, 0.75]]), np.array([[20.0, 60.0, 8.0]]), (32, 64)
    for theta in (8.0, 36.87):
        c = _cond(theta, 20.0, sign=-1.0)
        for f in (baselines.frank_bilby_line(c, gb, L, grid), baselines.dislocation_wall(c, gb, L, grid, 1.0)):
            got = slab_content(torch.from_numpy(f), torch.from_numpy(gb), torch.tensor([60.0]), 2)[0].numpy()
            fb = -2 * np.sin(np.radians(theta) / 2)
            np.testing.assert_allclose(got[:, 1], [fb, -fb], rtol=1e-6)
            assert np.abs(f[:, :, :2]).max() == 0 and np.abs(f[0, 0]).max() == 0  # only alpha_yz
    # a low-angle wall: discrete dislocations b = a0/sqrt2 apart by b / (2 sin(theta/2))
    wall = baselines.dislocation_wall(_cond(8.0, 20.0), gb, np.array([[41.1, 60.0, 8.0]]), (64, 64), 1.0)
    row = wall[0, 1, 2, :, 16]
    peaks = np.sum((row > np.roll(row, 1)) & (row >= np.roll(row, -1)))
    assert peaks == round(41.1 * 2 * np.sin(np.radians(4.0)) / baselines.BURGERS_A)
    # the mirror obeys the pseudo-tensor law: alpha_yz changes sign under x -> -x
    m = baselines.mirror_x(wall)
    np.testing.assert_allclose(m[0, 1, 2], -np.flip(wall[0, 1, 2], axis=0))


@pytest.mark.slow
def test_benchmark_runs_folds_and_reports_every_method(tmp_path):
    import json

    from _gan_fixtures import TINY_GAN, write_tiny_cases

    from nyegan.dataset import build_dataset
    from nyegan.gan.benchmark import figure_cases, run_benchmark, summary_table
    from nyegan.gan.config import GanSettings

    nye, meta = write_tiny_cases(tmp_path, thetas=(10.0, 15.0, 20.0, 25.0), seeds=1)
    build_dataset(nye, meta, tmp_path / "d.nc", grid=(16, 32), heldout_misorientations=[])
    settings = GanSettings.from_config(dict(TINY_GAN, steps=4, images=False))
    res = run_benchmark(tmp_path / "d.nc", tmp_path / "out", settings, folds=2, seeds=(0,), n_samples=2,
                        log=lambda m: None, generators=("wgan", "diffusion"), temperatures=(1.0, 0.0))  # fmt: skip
    saved = json.loads((tmp_path / "out" / "benchmark.json").read_text())
    assert set(saved["cases"]) == {"gb10_0", "gb15_0", "gb20_0", "gb25_0"}
    regimes = {v["regime"] for v in saved["cases"].values()}
    assert regimes == {"interpolation", "extrapolation"}  # 10 and 25 deg lie at the ends of the range
    for v in saved["cases"].values():
        # one microstate per case here, so no other_state reference
        assert set(v["methods"]) == {"wgan", "wgan@0", "diffusion", "diffusion@0", "regressor", "wall",
                                     "structural_units", "frank_bilby", "nearest"}  # fmt: skip
        assert "detail_yz" in v["methods"]["wgan"] and "stress" in v["methods"]["diffusion"]
        # temperature 0 is scored as a method of its own (its samples are one field: see test_gan_training)
        assert np.isfinite(v["methods"]["wgan@0"]["detail_yz"])
        assert all("cores_found" not in m for m in v["methods"].values())  # boundaries without dislocations
        # the physics layer makes every generated field compatible and gives it the baselines' content
        for g in ("wgan", "diffusion", "wgan@0"):
            assert v["methods"][g]["div_residual"] < 1e-6
            assert v["methods"][g]["content_error"] == pytest.approx(v["methods"]["frank_bilby"]["content_error"],
                                                                      abs=1e-6)  # fmt: skip
        assert np.isfinite(v["methods"]["regressor"]["correlation"])
    table = summary_table(res)
    assert "| all (n=4) | wgan |" in table and "| all (n=4) | wgan@0 |" in table and "vs regressor" in table
    assert (tmp_path / "out" / "benchmark.md").read_text().strip() == table
    # medians over cases (robust to boundaries with nearly no detail) and head-to-head win rates
    cases = saved["cases"].values()
    w = [c["methods"]["wgan"]["detail_yz"] for c in cases]
    r = [c["methods"]["regressor"]["detail_yz"] for c in cases]
    assert saved["summary"]["all"]["wgan"]["detail_yz"] == pytest.approx(np.median(w))
    assert saved["summary"]["all"]["wins"]["wgan"]["regressor"] == pytest.approx(np.mean(np.less(w, r)))
    assert (tmp_path / "out" / "benchmark_fields.png").stat().st_size > 0
    # the figure: the median case of each regime, then the cases asked for (held-out ones only)
    examples = dict.fromkeys(saved["cases"], {})
    extra = ("gb10_0", "gb25_0", "gb15_0")
    chosen = figure_cases(saved["cases"], examples, extra=extra)
    assert [saved["cases"][c]["regime"] for c in chosen[:2]] == ["interpolation", "extrapolation"]
    assert chosen[2:] == [c for c in extra if c not in chosen[:2]]
    assert len(set(chosen)) == len(chosen) == 4
    with pytest.raises(ValueError, match="nope"):  # an unknown case is refused before any training
        run_benchmark(tmp_path / "d.nc", tmp_path / "out2", settings, figure_cases=("nope",), log=lambda m: None)
    assert not (tmp_path / "out2").exists()
    with pytest.raises(ValueError, match="temperatures"):
        run_benchmark(tmp_path / "d.nc", tmp_path / "out2", settings, temperatures=(-1.0,), log=lambda m: None)


def test_other_state_reference_scores_the_ensemble_against_itself():
    """Leave one out: identical microstates score 0; two different ones score each other's relative distance."""
    from nyegan.gan.benchmark import leave_one_out

    gb, L, C = np.array([0.25, 0.75]), np.array([20.0, 60.0, 4.0]), np.eye(6) * 50.0
    one = _boundary(seed=1)
    same = leave_one_out(np.concatenate([one, one]), gb, L, C, "central")
    assert same["detail_yz"] < 1e-9 and same["coverage"] < 1e-6 and same["stress"] < 1e-6
    assert leave_one_out(one, gb, L, C, "central") is None  # one state: nothing to compare with
    a, b = _boundary(seed=1, amp=0.5), _boundary(seed=1, amp=0.25)
    got = leave_one_out(np.concatenate([a, b]), gb, L, C, "central")["detail_yz"]
    da, db = (f[0, 1, 2] - f[0, 1, 2].mean(axis=0) for f in (a, b))
    expect = 0.5 * (np.linalg.norm(da - db) / np.linalg.norm(db) + np.linalg.norm(db - da) / np.linalg.norm(da))
    assert got == pytest.approx(expect, rel=1e-3)  # 0.5 and 1.0: the amplitude ratio 2, seen from both sides
    # in the summary it is a row of its own, never a rival in the win rates
    from nyegan.gan.benchmark import summarise, summary_table

    per_case = {c: {"regime": "interpolation", "methods": {"wgan": {"detail_yz": w}, "wgan@0.5": {"detail_yz": h},
                                                           "wall": {"detail_yz": 1.0}, "other_state": {"detail_yz": 0.1}}}
                for c, w, h in (("a", 0.8, 0.6), ("b", 1.2, 0.9))}  # fmt: skip
    s = summarise(per_case)["all"]
    assert s["wins"]["wgan"] == {"wgan@0.5": 0.0, "wall": 0.5} and s["wins"]["wgan@0.5"]["wall"] == 1.0
    assert s["other_state"]["detail_yz"] == pytest.approx(0.1)
    table = summary_table({"summary": {"all": s}})
    assert (
        table.index("| wgan |") < table.index("| wgan@0.5 |") < table.index("| wall |") < table.index("| other_state |")
    )


def test_diffusion_samples_have_the_datas_magnitude_after_a_short_training(tmp_path):
    """A briefly trained diffusion model (its loss already well below that of predicting zero) must sample fields
    of the data's magnitude from pure noise, per α_iz component, not its amplified noise: the ε-form's
    x0 = (x - sqrt(1 - ᾱ) ε) / sqrt(ᾱ) multiplies the network's error by up to 1/sqrt(ᾱ) ≈ 300 at the first step
    and the sampler carried that to the end (fields 15× the data's rms)."""
    import torch
    import xarray as xr
    from _gan_fixtures import TINY_GAN, tiny_dataset

    from nyegan.gan.train import load_model, train

    path = tiny_dataset(tmp_path)
    cfg = {**TINY_GAN, "family": "diffusion", "steps": 150, "diffusion_sample_steps": 20, "lr_g": 1e-3}
    model = load_model(train(path, tmp_path / "run", cfg))
    ds = xr.load_dataset(path)
    train_rows = ds["is_train"].values == 1
    args = [torch.tensor(ds[k].values[train_rows], dtype=torch.float32)
            for k in ("cond", "cell_lengths", "gb_frac", "cores")]  # fmt: skip
    real = ds["alpha"].values[train_rows][:, :, 2]
    fake = model.sample(*args, seed=3).numpy()[:, :, 2]
    for i in (0, 1):  # α_xz, α_yz: rms over the training conditions
        ratio = np.sqrt((fake[:, i] ** 2).mean() / (real[:, i] ** 2).mean())
        assert 0.2 < ratio < 3.0, (i, ratio)
    # temperature 0: DDIM from a zero start is deterministic, whatever the seed; at 1 the seeds differ
    cold = [model.sample(*args, seed=s, temperature=0.0).numpy() for s in (3, 4)]
    np.testing.assert_array_equal(cold[0], cold[1])
    assert not np.allclose(fake, model.sample(*args, seed=4).numpy()[:, :, 2])


def test_figure_cases_fall_back_on_the_regressor_without_generators():
    # a baselines-only run (no generator trained) draws the case of median regressor detail, not an arbitrary one
    from nyegan.gan.benchmark import figure_cases

    per_case = {f"gb{k}": {"regime": "interpolation", "methods": {"regressor": {"detail_yz": d}, "wall": {"detail_yz": 0.5}}}
                for k, d in enumerate((0.9, 0.1, 3.0, 0.5, 2.0))}  # fmt: skip
    examples = {c: {} for c in per_case}
    assert figure_cases(per_case, examples) == ["gb0"]  # sorted 0.1, 0.5, 0.9, 2.0, 3.0: the median is 0.9
    per_case["gb0"]["methods"]["wgan"] = {"detail_yz": 10.0}  # a generator's error decides where there is one
    assert figure_cases(per_case, examples) == ["gb4"]


def test_cores_found_counts_the_dislocations_drawn_in_place():
    from nyegan.gan.fieldmetrics import cores_found

    nx, ny, L = 32, 64, np.array([36.0, 150.0, 8.0])
    b = np.array([2.86, 0.0, 0.0])  # Å, edge: line-z content in alpha_xz
    x = (np.arange(nx) + 0.5) / nx * L[0]
    y = (np.arange(ny) + 0.5) / ny * L[1]
    cores = np.array([[0.25, 0.3, 1.0], [0.75, 0.7, -1.0], [np.nan, np.nan, np.nan]])

    def core(fx, fy, width=1.5):  # a Gaussian carrying a unit content
        dx = (x - fx * L[0] + L[0] / 2) % L[0] - L[0] / 2
        dy = (y - fy * L[1] + L[1] / 2) % L[1] - L[1] / 2
        g = np.exp(-(dx[:, None] ** 2 + dy[None] ** 2) / (2 * width**2))
        return g / (g.sum() * L[0] / nx * L[1] / ny)

    both = np.zeros((1, 3, 3, nx, ny))
    both[0, 0, 2] = b[0] * (core(0.25, 0.3) - core(0.75, 0.7))
    one = both.copy()
    one[0, 0, 2] = b[0] * core(0.25, 0.3)
    assert cores_found(both, cores, L, b) == 1.0
    assert cores_found(np.concatenate([both, one]), cores, L, b) == 0.75  # 2 of 2, then 1 of 2
    assert cores_found(np.zeros_like(both), cores, L, b) == 0.0
    assert cores_found(-both, cores, L, b) == 0.0  # opposite signs: not these dislocations
    shifted = np.roll(both, nx // 4, axis=3)  # 9 Å away along x: outside the 4 Å square
    assert cores_found(shifted, cores, L, b) == 0.0
    assert np.isnan(cores_found(both, cores[2:], L, b))
    # each sample scored against the cores it was given (a state that lost one of them asks for fewer)
    per_sample = np.stack([cores, np.array([cores[0], [np.nan] * 3, [np.nan] * 3])])
    assert cores_found(np.concatenate([both, one]), per_sample, L, b) == 1.0


def test_volterra_cores_carry_each_burgers_vector_where_given():
    from nyegan.gan.fieldmetrics import cores_found

    L, grid, b = np.array([36.0, 150.0]), (32, 64), np.array([1.43, 0.0, 2.48])  # a mixed dislocation
    cores = np.array([[0.1, 0.3, 1.0], [0.6, 0.7, -1.0], [np.nan] * 3])
    f = baselines.volterra_cores(cores, b, L, grid, width=1.0)
    assert f.shape == (1, 3, 3, *grid) and not f[:, :, :2].any()  # only the line-z column
    dA = L[0] / grid[0] * L[1] / grid[1]
    lower = (np.arange(grid[1]) + 0.5) / grid[1] < 0.5
    assert np.allclose(f[0, :, 2][:, :, lower].sum(axis=(1, 2)) * dA, b)  # +b in the lower half of the cell
    assert np.allclose(f[0, :, 2].sum(axis=(1, 2)) * dA, 0.0)  # the dipole has no net content
    assert cores_found(f, cores, np.r_[L, 8.0], b) == 1.0


def test_harmonic_profile_tells_one_row_of_units_from_two():
    from nyegan.gan.fieldmetrics import harmonic_profile, phase_span

    nx, ny, Lx, Ly, m = 32, 64, 20.0, 60.0, 2  # two periods of 10 Å along x, boundary at y = 15 Å
    x = (np.arange(nx) + 0.5) / nx * Lx
    y = (np.arange(ny) + 0.5) / ny * Ly

    def cores(rows):  # 1.5 Å Gaussian cores, one per period, on the given rows (y, x offset in periods)
        f = np.zeros((nx, ny))
        for yc, off in rows:
            for p in range(m):
                dx = (x - (p + off) * Lx / m + Lx / 2) % Lx - Lx / 2
                f += np.exp(-(dx[:, None] ** 2 + (y[None, :] - yc) ** 2) / (2 * 1.5**2))
        return f

    one = cores([(15.0, 0.0)])
    dy, c = harmonic_profile(one, m, 0.25, Ly)
    assert np.all(np.diff(dy) > 0) and np.abs(dy).max() <= 8.0
    assert abs(dy[np.abs(c).argmax()]) < 1.0  # strongest on the plane
    assert phase_span(c) < 0.1
    # the row's mode-m part of the field is 2 Re(c e^{ikx})
    xs = np.fft.ifft(np.fft.fft(one, axis=0) * (np.abs(np.fft.fftfreq(nx, 1 / nx))[:, None] == m), axis=0).real
    row = np.argmin(np.abs(y - 15.0))
    c_row = c[np.argmin(np.abs(dy - (y[row] - 15.0)))]
    assert np.mean(xs[:, row] ** 2) == pytest.approx(2 * abs(c_row) ** 2, rel=1e-9)  # 2 Re(c e^{ikx}): rms² 2|c|²
    zigzag = cores([(12.5, 0.0), (17.5, 0.5)])  # units alternating between two rows, half a period apart
    dy2, c2 = harmonic_profile(zigzag, m, 0.25, Ly)
    assert phase_span(c2) == pytest.approx(np.pi, abs=0.05)
    assert abs(abs(dy2[np.abs(c2).argmax()]) - 2.5) < 1.0  # strongest on the rows, not between them
    with pytest.raises(ValueError, match="not resolved"):
        harmonic_profile(one, 20, 0.25, Ly)


def test_physics_residuals_measure_content_divergence_and_two_point_statistics():
    from nyegan.gan.benchmark import physics_residuals

    gb, L, grid = np.array([[0.25, 0.75]]), np.array([20.0, 60.0, 8.0]), (32, 64)
    c = _cond(20.0, 20.0)
    line = baselines.frank_bilby_line(c, gb, L[None], grid)  # exact content, compatible (only α_yz(y))
    real = baselines.dislocation_wall(c, gb, L[None], grid, 1.0)  # the same content, modulated along x
    m = physics_residuals(line, real, gb[0], L, "spectral")
    assert m["content_error"] < 1e-9 and m["div_residual"] < 1e-9
    assert physics_residuals(real, real, gb[0], L, "spectral")["correlation"] < 1e-12
    assert m["correlation"] > 0.05  # a line has no x correlation structure, the wall's cores do
    # 1.5 times the content: off by half of it; α_xx varying along x: div α ≠ 0
    assert physics_residuals(1.5 * line, real, gb[0], L, "spectral")["content_error"] == pytest.approx(0.5)
    bad = line.copy()
    bad[0, 0, 0] = np.sin(2 * np.pi * (np.arange(32) + 0.5) / 32)[:, None] * np.ones(64)
    assert physics_residuals(bad, real, gb[0], L, "spectral")["div_residual"] > 0.5
