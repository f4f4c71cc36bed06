"""What a tilt boundary's modulation is made of, and how far the structural-unit picture carries it (study data).

Six measurements on the symmetric tilt boundaries of a dataset (ground states, kind gb), printed as tables:

1. where the detail α − ⟨α⟩ₓ lies along x: the fraction of its power in the rows within 4 Å of the boundaries
   that falls on harmonics 1 and 2 of the boundary's period (``periods_x``);
2. the first harmonic as a y-profile (``nyegan.gan.fieldmetrics.harmonic_profile``): its phase span across the
   rows (≈ 0: one row of units on the plane; ≈ π: units alternating between two rows), where it peaks, and its
   peak amplitude per unit of secondary content (``nyegan.defects.structural_units.secondary_content``); and
   how alike the normalised profiles of the boundaries of one axis are (|complex correlation|, phase-free);
3. on the benchmark's tilt folds: the structural-unit baseline's held-out detail_yz, and the bound it would
   reach with the best single scale of its modulation per boundary (chosen with the truth: a bound, not a method);
4. on the same folds: the nearest training boundary of the same delimiting family (same side first), its first
   two harmonic profiles of every α_iz moved onto the held-out boundary's period and scaled by the ratio of
   secondary contents (a data-driven structural-unit model), against the structural-unit baseline;
5. α_xz against the x-quadrature of the y-derivative of α_yz, Q[α_yz] = F⁻¹[sign(q_x) q_y F[α_yz − ⟨α_yz⟩ₓ]]
   (1/Å²; zero x average, so no content): the coefficient c (Å) of the least-squares fit α_xz ≈ c Q per
   boundary slab on the atomistic ground state, and what is left; then, on the tilt folds, the
   structural-unit baseline (rows by the rule) with α_xz = c Q[its own α_yz], c fitted on the training
   boundaries per row class, scored on held-out α_xz;
6. whether the strength of a boundary's modulation follows from its geometry: the best single scale of the
   structural-unit baseline's modulation (rows by the rule) per held-out boundary, and its rank correlation with
   the secondary content, the period, the secondary Burgers vector per period, the distance to the delimiting
   boundary, Σ and the row class.

    python benchmarks/detail_anatomy.py results/dataset.nc [--folds 3]
"""

from __future__ import annotations

import argparse

import numpy as np

from nyegan.dataset import load_dataset
from nyegan.defects.structural_units import delimiting_misorientation, secondary_content
from nyegan.gan import baselines
from nyegan.gan.benchmark import make_folds
from nyegan.gan.fieldmetrics import _boundary_rows, as_2d, compare, harmonic_profile, phase_span, slab_rows
from nyegan.gan.inputs import two_row_units

HARMONICS = (1, 2)
SCALES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


class Boundaries:
    """The ground state of every tilt boundary of a dataset, with what the analyses need."""

    def __init__(self, ds):
        self.ds = ds
        self.case = ds["case"].values.astype(str)
        self.alpha = as_2d(ds["alpha"].values)
        kind = ds["kind"].values.astype(str)
        rank = ds["state_rank"].values
        self.names = sorted(set(self.case[kind == "gb"]))
        self.index = {c: int(min(np.flatnonzero(self.case == c), key=lambda i: rank[i])) for c in self.names}

    def get(self, c, key):
        return self.ds[key].values[self.index[c]]

    def theta(self, c) -> float:
        return float(self.get(c, "misorientation_deg"))

    def secondary(self, c) -> float:
        """Signed secondary content (with the boundary's content sign)."""
        return secondary_content(self.get(c, "tilt_axis"), self.theta(c)) * float(self.get(c, "content_sign"))

    def periods(self, c) -> int:
        return int(round(float(self.get(c, "periods_x"))))

    def profiles(self, c, i=1, j=2, harmonic=1):
        """[(dy, c(dy)) for boundary 1, boundary 2] of component (i, j)."""
        L = self.get(c, "cell_lengths")
        a = self.alpha[self.index[c], i, j]
        return [harmonic_profile(a, self.periods(c), g, float(L[1]), harmonic) for g in self.get(c, "gb_frac")]


def harmonic_power(b: Boundaries) -> None:
    print("\n1. detail power in the boundary rows (±4 Å) on harmonics 1 and 2 of the period (median over boundaries)")
    for comp, (i, j) in (("yz", (1, 2)), ("xz", (0, 2))):
        per_axis: dict = {}
        for c in b.names:
            a = b.alpha[b.index[c], i, j]
            rows = _boundary_rows(b.get(c, "gb_frac"), a.shape[1], float(b.get(c, "cell_lengths")[1]), width=4.0)
            p = np.abs(np.fft.rfft(a[:, rows] - a[:, rows].mean(axis=0), axis=0)) ** 2
            total = p[1:].sum()
            if total <= 0 or abs(b.secondary(c)) < 1e-9:
                continue
            m = b.periods(c)
            frac = sum(p[h * m].sum() for h in HARMONICS if h * m < len(p)) / total
            per_axis.setdefault(tuple(int(v) for v in b.get(c, "tilt_axis")), []).append(frac)
        for ax, v in sorted(per_axis.items()):
            print(f"   α_{comp} axis {ax}: {np.median(v):.2f} (min {np.min(v):.2f}, {len(v)} boundaries)")


def profile_table(b: Boundaries) -> None:
    print("\n2. first harmonic of α_yz at boundary 1: phase span, peak row, peak |c| per unit secondary content")
    print(f"   {'case':18s} {'theta':>7s} {'m':>2s} {'span':>5s} {'rows':>4s} {'peak dy':>7s} {'|c|/|s|':>8s}")
    shapes: dict = {}
    for c in b.names:
        s = b.secondary(c)
        if abs(s) < 1e-9:
            continue
        dy, prof = b.profiles(c)[0]
        span = phase_span(prof)
        k = np.abs(prof)
        print(f"   {c:18s} {b.theta(c):7.2f} {b.periods(c):2d} {span:5.2f} {1 + int(span > np.pi / 2):4d} "
              f"{dy[k.argmax()]:+7.1f} {k.max() / abs(s):8.4f}")  # fmt: skip
        grid = np.linspace(-8.0, 8.0, 33)
        shapes.setdefault(tuple(int(v) for v in b.get(c, "tilt_axis")), []).append(
            np.interp(grid, dy, prof.real) + 1j * np.interp(grid, dy, prof.imag)
        )
    for ax, ps in sorted(shapes.items()):
        p = np.array([q / np.linalg.norm(q) for q in ps])
        corr = np.abs(p.conj() @ p.T)[~np.eye(len(p), dtype=bool)]
        print(f"   axis {ax}: pairwise |correlation| of the profiles median {np.median(corr):.2f}, "
              f"10-90 % {np.quantile(corr, 0.1):.2f}-{np.quantile(corr, 0.9):.2f}")  # fmt: skip


def _transplant(b: Boundaries, target: str, donor: str, grid) -> np.ndarray:
    """(3, 3, nx, ny) the donor's harmonic profiles of every α_iz at the target's period, scaled by the ratio of
    secondary contents (only the modulation: x-average zero)."""
    nx, ny = grid
    L = b.get(target, "cell_lengths")
    y = (np.arange(ny) + 0.5) / ny * L[1]
    jx = np.arange(nx)
    scale = b.secondary(target) / b.secondary(donor)
    out = np.zeros((3, 3, nx, ny))
    for i in range(3):
        for h in HARMONICS:
            if h * b.periods(donor) > b.alpha.shape[3] // 2 or h * b.periods(target) > nx // 2:
                continue
            for (dy_d, prof), g in zip(b.profiles(donor, i, 2, h), b.get(target, "gb_frac")):
                dy = (y - g * L[1] + 0.5 * L[1]) % L[1] - 0.5 * L[1]
                c = np.interp(dy, dy_d, prof.real, 0, 0) + 1j * np.interp(dy, dy_d, prof.imag, 0, 0)
                wave = np.exp(2j * np.pi * h * b.periods(target) * jx / nx)
                out[i, 2] += 2 * scale * (c[None, :] * wave[:, None]).real
    return out


def _donor(b: Boundaries, target: str, train) -> str | None:
    axis, theta = b.get(target, "tilt_axis"), b.theta(target)
    tf = delimiting_misorientation(axis, theta)
    ranked = []
    for t in train:
        if not np.allclose(b.get(t, "tilt_axis"), axis) or abs(b.secondary(t)) < 1e-9:
            continue
        ft = delimiting_misorientation(axis, b.theta(t))
        ranked.append((ft != tf, np.sign(b.theta(t) - ft) != np.sign(theta - tf), abs(b.theta(t) - theta), t))
    return min(ranked)[-1] if ranked else None


def folds_analysis(b: Boundaries, n_folds: int, figure_cases=()) -> dict:
    """Prints measurements 3-5; returns {case: {name: (3, 3, nx, ny) field}} for ``figure_cases``."""
    ds = b.ds
    grid = tuple(int(g) for g in ds.attrs["grid"])[:2]
    tilt = [f for f in make_folds(ds, n_folds) if f["kind"] == "gb"]
    rows = np.where(two_row_units(ds["cond"].values), 2, 1)  # the rule (unit_rows)
    table = []
    figure: dict = dict.fromkeys(figure_cases)
    for fold in tilt:
        train = [c for f in tilt if f is not fold for c in f["heldout"]]
        tr = np.isin(b.case, train)
        fit = (ds["cond"].values[tr], ds["gb_frac"].values[tr], ds["cell_lengths"].values[tr], b.alpha[tr], grid)
        width = baselines.fit_wall_width(*fit)
        amp, sec_width, _ = baselines.fit_secondary_wall(*fit, rows=np.ones(int(tr.sum()), int))
        amp2, width2, offset = baselines.fit_secondary_wall(*fit)
        for c in fold["heldout"]:
            k = b.index[c]
            real = b.alpha[b.case == c]
            gbf, Ly = ds["gb_frac"].values[k], float(ds["cell_lengths"].values[k][1])
            su = baselines.structural_units(ds["cond"].values[k : k + 1], ds["gb_frac"].values[k : k + 1],
                                            ds["cell_lengths"].values[k : k + 1], grid, width, sec_width, amp,
                                            [1])  # fmt: skip
            mean = su.mean(axis=3, keepdims=True)
            score = compare(su, real, gbf, Ly)
            oracle = min((compare(mean + s * (su - mean), real, gbf, Ly)["detail_yz"], s) for s in SCALES)
            donor = _donor(b, c, train) if abs(b.secondary(c)) > 1e-9 else None
            moved = compare(mean + _transplant(b, c, donor, grid)[None], real, gbf, Ly) if donor else {}
            su2 = baselines.structural_units(ds["cond"].values[k : k + 1], ds["gb_frac"].values[k : k + 1],
                                             ds["cell_lengths"].values[k : k + 1], grid, width, width2, amp2,
                                             offset=offset)  # fmt: skip
            actual = phase_span(b.profiles(c)[0][1]) > np.pi / 2 if abs(b.secondary(c)) > 1e-9 else None
            if c in figure:
                figure[c] = {"atomistic": real[0], "one row": su[0], "rows by the rule": su2[0]}
            table.append((c, score["detail_yz"], *oracle, moved.get("detail_yz", np.nan), score.get("detail_xz", np.nan),
                          moved.get("detail_xz", np.nan), compare(su2, real, gbf, Ly)["detail_yz"], int(rows[k]),
                          "-" if actual is None else 1 + int(actual), donor or "-"))  # fmt: skip
        print(f"   fold {fold['name']}: one row: amplitude {amp}, width {sec_width} Å; rows by the rule: amplitude "
              f"{amp2}, width {width2} Å, offset {offset} Å")  # fmt: skip
    print("\n3-5. held out on the tilt folds: detail_yz of the structural-unit baseline, its best-scale bound,")
    print("     the transplanted profiles of the nearest boundary of the family; detail_xz of both; the baseline")
    print("     with its units on the rows the rule gives (rule rows, and the ground state's)")
    print(f"   {'case':18s} {'SU yz':>6s} {'bound':>6s} {'scale':>5s} {'moved yz':>8s} {'SU xz':>6s} {'moved xz':>8s} "
          f"{'rows yz':>7s} rule true  donor")  # fmt: skip
    for r in table:
        print(f"   {r[0]:18s} {r[1]:6.2f} {r[2]:6.2f} {r[3]:5.2f} {r[4]:8.2f} {r[5]:6.2f} {r[6]:8.2f} {r[7]:7.2f} "
              f"{r[8]:4d} {r[9]:>4}  {r[10]}")  # fmt: skip
    v = np.array([r[1:8] for r in table], float)
    has = np.isfinite(v[:, 3])
    print(f"   medians over {len(v)}: SU detail_yz {np.nanmedian(v[:, 0]):.2f}, best-scale bound "
          f"{np.nanmedian(v[:, 1]):.2f}")  # fmt: skip
    print(f"   on the {has.sum()} with a donor: SU detail_yz {np.median(v[has, 0]):.2f}, moved {np.median(v[has, 3]):.2f} "
          f"(lower on {(v[has, 3] < v[has, 0]).sum()}); detail_xz SU {np.nanmedian(v[has, 4]):.2f}, "
          f"moved {np.nanmedian(v[has, 5]):.2f}")  # fmt: skip
    judged = [r for r in table if r[9] != "-"]
    print(f"   rule right on {sum(r[8] == r[9] for r in judged)} of {len(judged)} boundaries with secondary units; "
          f"detail_yz with rule rows: median {np.median(v[:, 6]):.2f} (one row {np.median(v[:, 0]):.2f}), lower on "
          f"{(v[:, 6] < v[:, 0] - 1e-9).sum()}, higher on {(v[:, 6] > v[:, 0] + 1e-9).sum()}")  # fmt: skip
    return {c: f for c, f in figure.items() if f}


XZ_COEFFICIENTS_A = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0)


def quadrature_dy(field: np.ndarray, Ly: float) -> np.ndarray:
    """(nx, ny) Q[α_yz] = F⁻¹[sign(q_x) q_y F[α_yz − ⟨α_yz⟩ₓ]] of a (3, 3, nx, ny) field (1/Å²): the y-derivative of
    the modulation, turned by a quarter period along x (a real multiplier: the result is real)."""
    yz = field[1, 2] - field[1, 2].mean(axis=0, keepdims=True)
    nx, ny = yz.shape
    qx = np.fft.fftfreq(nx, d=1.0 / nx)
    qy = 2 * np.pi * np.fft.fftfreq(ny, d=Ly / ny)
    if ny % 2 == 0:
        qy[ny // 2] = 0.0
    return np.fft.ifft2(np.fft.fft2(yz) * (np.sign(qx)[:, None] * qy[None, :])).real


def xz_relation(b: Boundaries) -> None:
    """Measurement 5, atomistic: c per slab of α_xz ≈ c Q[α_yz] in the rows within 4 Å of each boundary."""
    print("\n5. alpha_xz ~ c Q[alpha_yz] (Q: quadrature of d/dy along x), per slab, ground states, rows within 4 Å")
    print(f"   {'case':18s} {'rows':>4s} {'xz/yz':>6s} {'c1 (Å)':>7s} {'c2 (Å)':>7s} {'left':>5s}")
    cs, left, two = [], [], []
    for c in b.names:
        if abs(b.secondary(c)) < 1e-9:
            continue
        k = b.index[c]
        a, L, gbf = b.alpha[k], b.get(c, "cell_lengths"), b.get(c, "gb_frac")
        q = quadrature_dy(a, float(L[1]))
        xz = a[0, 2] - a[0, 2].mean(axis=0, keepdims=True)
        yz = a[1, 2] - a[1, 2].mean(axis=0, keepdims=True)
        near = _boundary_rows(gbf, a.shape[3], float(L[1]), width=4.0)
        coef, res = [], 0.0
        for rows in slab_rows(gbf, a.shape[3]):
            r = rows & near
            t, x = q[:, r].ravel(), xz[:, r].ravel()
            coef.append(float(t @ x / (t @ t)))
            res += float(((x - coef[-1] * t) ** 2).sum())
        n_xz = float((xz[:, near] ** 2).sum())
        rule = 2 if two_row_units(b.get(c, "cond")[None])[0] else 1
        cs.append(coef), left.append(np.sqrt(res / n_xz)), two.append(rule == 2)
        print(f"   {c:18s} {rule:4d} {np.sqrt(n_xz / float((yz[:, near] ** 2).sum())):6.2f} {coef[0]:+7.3f} "
              f"{coef[1]:+7.3f} {left[-1]:5.2f}")  # fmt: skip
    cs, left, two = np.array(cs), np.array(left), np.array(two)
    print(f"   c > 0 on {(cs > 0).sum()} of {cs.size} slabs; median c {np.median(cs[~two]):.2f} Å (one row by the rule), "
          f"{np.median(cs[two]):.2f} Å (two rows); relative residual with each slab's c: median {np.median(left):.2f}")  # fmt: skip


def _su_with_xz(ds, k: int, grid, params, coef: float) -> np.ndarray:
    """(3, 3, nx, ny) the structural-unit baseline of sample k (``params`` = wall width, secondary amplitude,
    width and row offset) with α_xz = ``coef`` Q[its α_yz]."""
    width, amp, sec_width, offset = params
    f = baselines.structural_units(ds["cond"].values[k : k + 1], ds["gb_frac"].values[k : k + 1],
                                   ds["cell_lengths"].values[k : k + 1], grid, width, sec_width, amp,
                                   offset=offset)[0]  # fmt: skip
    f[0, 2] += coef * quadrature_dy(f, float(ds["cell_lengths"].values[k][1]))
    return f


def xz_folds(b: Boundaries, n_folds: int) -> None:
    """Measurement 5 on the tilt folds: the baseline's α_xz = c Q[its α_yz], c fitted per row class in training."""
    ds = b.ds
    grid = tuple(int(g) for g in ds.attrs["grid"])[:2]
    tilt = [f for f in make_folds(ds, n_folds) if f["kind"] == "gb"]
    two = two_row_units(ds["cond"].values)
    out = []
    for fold in tilt:
        train = [c for f in tilt if f is not fold for c in f["heldout"]]
        tr = np.isin(b.case, train)
        fit = (ds["cond"].values[tr], ds["gb_frac"].values[tr], ds["cell_lengths"].values[tr], b.alpha[tr], grid)
        params = (baselines.fit_wall_width(*fit), *baselines.fit_secondary_wall(*fit))

        def scored(k, coef, real, params=params):
            L = ds["cell_lengths"].values[k]
            f = _su_with_xz(ds, k, grid, params, coef)
            return compare(f[None], real, ds["gb_frac"].values[k], float(L[1]))

        coef = {}
        for rows2 in (False, True):
            cases = [c for c in train if abs(b.secondary(c)) > 1e-9 and two[b.index[c]] == rows2]
            errs = {q: [scored(b.index[c], q, b.alpha[b.index[c]][None]).get("detail_xz", np.nan) for c in cases]
                    for q in XZ_COEFFICIENTS_A}  # fmt: skip
            coef[rows2] = min(XZ_COEFFICIENTS_A, key=lambda q: np.nanmedian(errs[q]) if cases else np.inf)
        print(f"   fold {fold['name']}: c {coef[False]} Å (one row), {coef[True]} Å (two rows)")
        for c in fold["heldout"]:
            k = b.index[c]
            real = b.alpha[b.case == c]
            out.append((scored(k, 0.0, real).get("detail_xz", np.nan), scored(k, coef[bool(two[k])], real).get("detail_xz", np.nan)))  # fmt: skip
    v = np.array(out)
    print(f"   held-out detail_xz of the structural-unit baseline: median {np.nanmedian(v[:, 0]):.2f} without, "
          f"{np.nanmedian(v[:, 1]):.2f} with c Q[alpha_yz] (lower on {(v[:, 1] < v[:, 0] - 1e-9).sum()}, higher on "
          f"{(v[:, 1] > v[:, 0] + 1e-9).sum()}, above 2 on {(v[:, 1] > 2).sum()})")  # fmt: skip


def scale_predictors(b: Boundaries, n_folds: int) -> None:
    """Measurement 6: Spearman correlation of log(best scale) with geometric quantities, held-out boundaries."""
    from scipy.stats import spearmanr

    ds = b.ds
    grid = tuple(int(g) for g in ds.attrs["grid"])[:2]
    tilt = [f for f in make_folds(ds, n_folds) if f["kind"] == "gb"]
    scales = np.exp(np.linspace(np.log(0.2), np.log(4.0), 25))
    rows = []
    for fold in tilt:
        tr = np.isin(b.case, [c for f in tilt if f is not fold for c in f["heldout"]])
        fit = (ds["cond"].values[tr], ds["gb_frac"].values[tr], ds["cell_lengths"].values[tr], b.alpha[tr], grid)
        params = (baselines.fit_wall_width(*fit), *baselines.fit_secondary_wall(*fit))
        for c in fold["heldout"]:
            if abs(b.secondary(c)) < 1e-9:
                continue
            k = b.index[c]
            L, gbf, real = b.get(c, "cell_lengths"), b.get(c, "gb_frac"), b.alpha[b.case == c]
            su = _su_with_xz(ds, k, grid, params, 0.0)[None]
            mean = su.mean(axis=3, keepdims=True)
            errs = [compare(mean + s * (su - mean), real, gbf, float(L[1]))["detail_yz"] for s in scales]
            period = float(L[0]) / b.periods(c)
            theta = b.theta(c)
            rows.append((scales[int(np.argmin(errs))], min(errs), compare(su, real, gbf, float(L[1]))["detail_yz"],
                         abs(b.secondary(c)), period, abs(b.secondary(c)) * period,
                         abs(theta - delimiting_misorientation(b.get(c, "tilt_axis"), theta)), float(b.get(c, "sigma")),
                         float(two_row_units(b.get(c, "cond")[None])[0])))  # fmt: skip
    v = np.array(rows)
    print(f"\n6. best single scale of the structural-unit modulation (rows by the rule), {len(v)} held-out boundaries "
          f"with secondary units: scales {v[:, 0].min():.2f}-{v[:, 0].max():.2f}, detail_yz {np.median(v[:, 2]):.2f} "
          f"at the fitted strength, {np.median(v[:, 1]):.2f} at the best scale (a bound)")  # fmt: skip
    names = ("secondary content", "period", "secondary b per period", "|theta - theta_f|", "Sigma", "two rows")
    print("   Spearman rank correlation with log(best scale): " + ", ".join(
        f"{n} {spearmanr(np.log(v[:, 0]), v[:, 3 + j]).statistic:+.2f}" for j, n in enumerate(names)))  # fmt: skip


def plot_rows(b: Boundaries, fields: dict, path) -> None:
    """Per case: α_yz − ⟨α_yz⟩ₓ within 8 Å of the first boundary (atomistic ground state, the baseline with one
    row and with the rule's rows; one colour scale per case, the atomistic maximum) and the first harmonic's
    amplitude and phase across the rows."""
    from nyegan.gan.plots import plt, save_figure

    fig, axes = plt.subplots(len(fields), 4, figsize=(13, 2.6 * len(fields)), squeeze=False)
    for row, (c, f) in enumerate(fields.items()):
        L = b.get(c, "cell_lengths")
        nx, ny = f["atomistic"].shape[-2:]
        dy = ((np.arange(ny) + 0.5) / ny - b.get(c, "gb_frac")[0] + 0.5) % 1.0 * L[1] - 0.5 * L[1]
        near = np.argsort(dy)[np.abs(np.sort(dy)) <= 8.0]
        detail = {k: (v[1, 2] - v[1, 2].mean(axis=0))[:, near] for k, v in f.items()}
        vmax = np.abs(detail["atomistic"]).max()
        for col, (name, d) in enumerate(detail.items()):
            ax = axes[row, col]
            ax.imshow(d.T, origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto",
                      extent=(0, L[0], dy[near][0], dy[near][-1]))  # fmt: skip
            err = (
                ""
                if name == "atomistic"
                else f" (detail_yz {compare(f[name][None], f['atomistic'][None], b.get(c, 'gb_frac'), float(L[1]))['detail_yz']:.2f} vs this state)"
            )
            ax.set_title(f"{c} {name}{err}" if col == 0 else f"{name}{err}", fontsize=8)
            ax.set_xlabel("x (Å)", fontsize=8)
            ax.set_ylabel("y − boundary (Å)", fontsize=8)
        ax = axes[row, 3]
        for name, style in (("atomistic", "k-"), ("one row", "b--"), ("rows by the rule", "r:")):
            y, prof = harmonic_profile(f[name][1, 2], b.periods(c), b.get(c, "gb_frac")[0], float(L[1]))
            ax.plot(y, np.abs(prof), style, label=f"|c1| {name}")
        ax.set_xlabel("y − boundary (Å)", fontsize=8)
        ax.set_ylabel("|first harmonic| (1/Å)", fontsize=8)
        twin = ax.twinx()
        y, prof = harmonic_profile(f["atomistic"][1, 2], b.periods(c), b.get(c, "gb_frac")[0], float(L[1]))
        strong = np.abs(prof) >= 0.25 * np.abs(prof).max()
        twin.plot(y[strong], np.unwrap(np.angle(prof[strong])), "g.", label="phase, atomistic")
        twin.set_ylabel("phase (rad)", fontsize=8, color="g")
        ax.legend(fontsize=6, loc="upper left")
        ax.set_title(f"first harmonic: phase span {phase_span(prof):.2f} rad", fontsize=8)
    fig.suptitle("α_yz − ⟨α_yz⟩ₓ near the first boundary, held out: atomistic ground state and the structural-unit "
                 "baseline (colour scale: atomistic max)", fontsize=9)  # fmt: skip
    fig.tight_layout()
    save_figure(fig, path)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--figure", help="PNG of the detail of --figure-cases and their first harmonics")
    p.add_argument("--figure-cases", nargs="+", default=["gb-001-S17-530", "gb-001-S13-320"])
    args = p.parse_args(argv)
    ds = load_dataset(args.dataset)
    b = Boundaries(ds)
    print(f"{args.dataset}: {len(b.names)} tilt boundaries")
    harmonic_power(b)
    profile_table(b)
    fields = folds_analysis(b, args.folds, args.figure_cases if args.figure else ())
    xz_relation(b)
    xz_folds(b, args.folds)
    scale_predictors(b, args.folds)
    if args.figure:
        plot_rows(b, fields, args.figure)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
