"""The generative benchmark: whole boundaries held out, the generator against baselines, per component.

Folds: the tilt-boundary cases, ordered by tilt axis and misorientation, are dealt round-robin into
``folds`` groups; each group is held out in turn (whole boundaries: all their microstates). A held-out boundary
is *interpolation* when training boundaries of its axis lie on both sides of its misorientation, else
*extrapolation*. Boundary + dislocation cells are held out by distance (all cells at one distance from the
boundary). For every fold and seed the generator is trained on the rest (``nyegan.gan.train``), and so is the
deterministic regressor (``nyegan.gan.regressor``); the dislocation-wall baseline fits its core width on the
training boundaries, and in cells with dislocations it is also scored with their Volterra cores added
(``wall_cores``, ``nyegan.gan.baselines.volterra_cores``). Each trained generator is sampled at every temperature asked for (method ``wgan`` at 1,
``wgan@0.5`` at 0.5, ...: the standard deviation of its random draws). Every method is then scored on every held-out case by ``nyegan.gan.fieldmetrics.compare``
(per component, each normalised by its own atomistic norm) and by the FDM stress error
(``nyegan.stress.solve``), and by the physics and two-point statistics of :func:`physics_residuals` (Burgers
content against the atomistic one, divergence residual, autocorrelation distance). A reference row, ``other_state``, scores each relaxed microstate of a held-out
boundary against the other microstates of the same boundary (leave one out): what a generator that drew
exactly the relaxed ensemble would score, the floor of the per-sample errors.

Output (``benchmark.json``; ``benchmark.md`` is :func:`summary_table`): per case, method and metric; medians per method over interpolation, extrapolation
and boundary + dislocation cases and each generator's head-to-head win rates (:func:`summarise`); the settings;
timings. :func:`plot_heldout` draws generated vs atomistic
fields of held-out cases, every non-zero component on one colour scale per component.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from nyegan.contracts import DATASET
from nyegan.gan import baselines
from nyegan.gan.config import GanSettings
from nyegan.gan.fieldmetrics import as_2d, compare, cores_found
from nyegan.io import write_json
from nyegan.io.atomic import atomic_path

GENERATORS = ("wgan", "diffusion")
BASELINES = ("regressor", "wall", "wall_cores", "structural_units", "frank_bilby", "nearest")
REFERENCE = "other_state"  # the relaxed ensemble scored against itself, leave one out


def method_name(family: str, temperature: float) -> str:
    """The benchmark's name of a generator sampled at ``temperature`` ("wgan", "wgan@0.5")."""
    return family if float(temperature) == 1.0 else f"{family}@{float(temperature):g}"


def generator_family(method: str) -> str | None:
    """The generator family of a benchmark method name, or None for baselines and the reference."""
    family = method.split("@")[0]
    return family if family in GENERATORS else None


def ordered_methods(names) -> list[str]:
    """Generators (each at its temperatures, 1 first), then the baselines, then the reference row."""
    names = set(names)
    gens = sorted((m for m in names if generator_family(m)),
                  key=lambda m: (GENERATORS.index(generator_family(m)), "@" in m, m))  # fmt: skip
    return gens + [m for m in (*BASELINES, REFERENCE) if m in names]


def row_methods(row: dict) -> list[str]:
    """The methods of one regime of :func:`summarise`'s output, in :func:`ordered_methods` order."""
    return ordered_methods(k for k in row if k not in ("n_cases", "aggregate", "wins"))


# -- folds ---------------------------------------------------------------------------------------------------------
def make_folds(ds: xr.Dataset, n_folds: int) -> list[dict]:
    """Held-out groups: tilt boundaries dealt round-robin by (axis, misorientation); one group per distance of
    the boundary + dislocation cells."""
    case = ds["case"].values.astype(str)
    kind = ds["kind"].values.astype(str)
    first = {c: k for k, c in reversed(list(enumerate(case)))}
    gbs = sorted({c for c, k in zip(case, kind) if k == "gb"},
                 key=lambda c: (tuple(ds["tilt_axis"].values[first[c]]), float(ds["misorientation_deg"].values[first[c]])))  # fmt: skip
    folds = [{"name": f"tilt-{f}", "kind": "gb", "heldout": gbs[f::n_folds]} for f in range(n_folds) if gbs[f::n_folds]]
    dist = ds["distance_to_gb"].values
    for d in sorted({round(float(dist[first[c]]), 3) for c, k in zip(case, kind) if k == "gb_dislocation"}):
        held = sorted({c for c, k in zip(case, kind) if k == "gb_dislocation" and round(float(dist[first[c]]), 3) == d})
        folds.append({"name": f"gbdisl-d{d:g}", "kind": "gb_dislocation", "heldout": held})
    return folds


def regime(ds: xr.Dataset, case: str, train_cases) -> str:
    """'interpolation', 'extrapolation' or 'gb_dislocation' for a held-out case."""
    sel = ds["case"].values.astype(str) == case
    k = int(np.flatnonzero(sel)[0])
    if str(ds["kind"].values[k]) != "gb":
        return "gb_dislocation"
    axis = ds["tilt_axis"].values[k]
    theta = float(ds["misorientation_deg"].values[k])
    tr = np.isin(ds["case"].values.astype(str), list(train_cases)) & (ds["kind"].values.astype(str) == "gb")
    same = tr & np.all(np.isclose(ds["tilt_axis"].values, axis[None]), axis=1)
    th = ds["misorientation_deg"].values[same]
    return "interpolation" if len(th) and th.min() < theta < th.max() else "extrapolation"


def refold(ds: xr.Dataset, heldout, validation_fraction: float = 0.0) -> xr.Dataset:
    """A copy of the dataset with ``heldout`` cases held out, the rest trained on (validation: none), and the
    normalisation statistics recomputed from the new train split."""
    out = ds.copy(deep=True)
    case = out["case"].values.astype(str)
    split = np.where(np.isin(case, list(heldout)), "heldout", "train").astype(object)
    out["split"] = ("sample", split)
    train = split == "train"
    for name, val in (("is_train", "train"), ("is_validation", "validation"), ("is_heldout", "heldout")):
        out[name] = ("sample", (split == val).astype(np.int8))
    dim = int(out.attrs["dim"])
    a = out["alpha"].values[train].astype(np.float64)
    scale = np.sqrt((a**2).mean(axis=(0,) + tuple(range(3, 3 + dim))))
    out["alpha_scale"] = (("i", "j"), np.maximum(scale, 1e-3 * max(scale.max(), 1e-12)), out["alpha_scale"].attrs)
    cond = out["cond"].values[train]
    out["cond_mean"] = ("feature", cond.mean(0))
    out["cond_std"] = ("feature", np.where(cond.std(0) > 1e-8, cond.std(0), 1.0))
    out.attrs["heldout_cases"] = ",".join(sorted(set(heldout)))
    return out


# -- stress error ----------------------------------------------------------------------------------------------------
def _median_rotation(axis, plane, theta_deg: float) -> np.ndarray:
    from nyegan.lattice import rotation_from_rows
    from nyegan.rotations import rotation_about_axis_deg

    t, n = np.asarray(axis, float), np.asarray(plane, float)
    rot_a = rotation_from_rows(np.cross(n, t), n, t)
    return rotation_about_axis_deg([0.0, 0.0, 1.0], 0.5 * theta_deg) @ rot_a


def stress_error(gen: np.ndarray, real: np.ndarray, lengths, stiffness: np.ndarray, scheme: str, gb_frac) -> float:
    """Relative L2 error of the FDM stress of ``gen`` fields against the nearest atomistic field (after the best x
    shift of each boundary slab), averaged over generated samples."""
    from nyegan.gan.fieldmetrics import slab_aligned_distances
    from nyegan.stress.solve import solve_fdm

    cell = np.asarray(lengths, float)[:2]

    def sigma(fields):
        return np.stack([solve_fdm(f, cell, stiffness, scheme=scheme).stress for f in as_2d(fields)])

    sg, sr = sigma(gen), sigma(real)
    d2, _ = slab_aligned_distances(sg, sr, np.ones((3, 3)), gb_frac)
    ref = (sr**2).sum(axis=(1, 2, 3, 4))
    k = d2.argmin(axis=1)
    return float(np.mean(np.sqrt(d2[np.arange(len(sg)), k] / np.maximum(ref[k], 1e-300))))


# -- one fold --------------------------------------------------------------------------------------------------------
def physics_residuals(fields: np.ndarray, real: np.ndarray, gb_frac, lengths, scheme: str) -> dict:
    """The physics and the two-point statistics of a method's fields (N, 3, 3, nx, ny) against the atomistic
    ones of the same case (2D, per unit of the line-z column, x and y fractional):

    - ``content_error``: the largest |net Burgers content per unit boundary length| of a slab that differs from
      the atomistic one (mean over the relaxed states, which share it), over the larger of the atomistic slab
      contents, averaged over the samples (0 = every boundary carries the atomistic Burgers content);
    - ``div_residual``: the relative divergence residual ||div α|| / ||∇α|| with the dataset's difference
      scheme, averaged over the samples (0 = a compatible field, as the atomistic fields are);
    - ``correlation``: the distance between the normalised two-point autocorrelations along x and y of the
      method's ensemble and of the atomistic one (``nyegan.gan.metrics.correlation_distance``, 0 to 2)."""
    from nyegan import fieldops
    from nyegan.content import slab_content
    from nyegan.gan.metrics import correlation_distance

    f, r = torch.from_numpy(as_2d(fields)), torch.from_numpy(as_2d(real))
    L = torch.as_tensor(np.asarray(lengths, dtype=np.float64)[:2])

    def content(a):
        return slab_content(a, torch.as_tensor(np.asarray(gb_frac, dtype=np.float64)).expand(len(a), 2),
                            L[1].expand(len(a)), 2)  # fmt: skip

    c_real = content(r).mean(dim=0)
    scale = float(c_real.abs().max())
    c_err = (content(f) - c_real).abs().amax(dim=(1, 2))
    return {
        "content_error": float(c_err.mean()) / scale if scale > 0 else float("nan"),
        "div_residual": float(fieldops.relative_divergence(f, L.expand(len(f), 2), 2, scheme).mean()),
        "correlation": correlation_distance(f, r, 2),
    }


def leave_one_out(real: np.ndarray, gb_frac, lengths, stiffness: np.ndarray, scheme: str) -> dict | None:
    """The ``other_state`` reference: each microstate of one boundary scored against the others (metrics
    averaged over the left-out states); None with fewer than two states."""
    if len(real) < 2:
        return None
    runs = []
    for s in range(len(real)):
        rest = np.delete(real, s, axis=0)
        m = compare(real[s : s + 1], rest, gb_frac, float(lengths[1]))
        m["stress"] = stress_error(real[s : s + 1], rest, lengths, stiffness, scheme, gb_frac)
        runs.append(m)
    return _mean_metrics(runs)


def _case_data(ds, case):
    sel = ds["case"].values.astype(str) == case
    return {key: ds[key].values[sel] for key in ("alpha", "cond", "cell_lengths", "gb_frac", "cores", "tilt_axis",
                                                 "plane", "misorientation_deg", "correspondence_angle_deg",
                                                 "burgers_box")}  # fmt: skip


def run_fold(ds_fold: xr.Dataset, settings: GanSettings, seeds, workdir: Path, n_samples: int, stiffness_cubic,
             device: str = "auto", log=print, generators=("wgan",), temperatures=(1.0,)) -> dict:  # fmt: skip
    """Train and score every method on one fold; returns {case: {method: metrics}}, timings. Each generator is
    sampled at each of ``temperatures`` (the first is the one drawn in the figure)."""
    from nyegan.gan.generate import generate
    from nyegan.gan.regressor import predict, train_regressor
    from nyegan.gan.train import train
    from nyegan.stress.stiffness import box_stiffness

    workdir.mkdir(parents=True, exist_ok=True)
    scheme = str(ds_fold.attrs["difference_scheme"])
    grid = tuple(int(g) for g in ds_fold.attrs["grid"])[:2]
    split = ds_fold["split"].values.astype(str)
    train_cases = sorted(set(ds_fold["case"].values.astype(str)[split == "train"]))
    held = sorted(set(ds_fold["case"].values.astype(str)[split == "heldout"]))
    tr = split == "train"
    train_alpha = as_2d(ds_fold["alpha"].values[tr])
    t_cond, t_gbf, t_len = ds_fold["cond"].values[tr], ds_fold["gb_frac"].values[tr], ds_fold["cell_lengths"].values[tr]
    width = baselines.fit_wall_width(t_cond, t_gbf, t_len, train_alpha, grid)
    sec_amp, sec_width, row_offset = baselines.fit_secondary_wall(t_cond, t_gbf, t_len, train_alpha, grid)
    path = workdir / "dataset.nc"
    DATASET.write(ds_fold, path)
    gen_methods = [method_name(g, tau) for g in generators for tau in temperatures]
    results: dict = {c: {m: [] for m in (*gen_methods, *BASELINES)} for c in held}
    examples: dict = {}
    timings = {
        **{f"{g}_train_s": [] for g in generators},
        "regressor_train_s": [],
        "wall_width_A": width,
        "secondary_amplitude": sec_amp,
        "secondary_width_A": sec_width,
        "secondary_row_offset_A": row_offset,
    }
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    for seed in seeds:
        # one process: the many small trainings of a benchmark run one after the other in this job, whatever
        # gan.devices / gan.num_nodes ask of the study's own training
        single = replace(settings.trainer, devices=1, num_nodes=1, strategy="auto")
        s = replace(settings, model=replace(settings.model, seed=int(seed), images=False), trainer=single)
        if s.model.wall_model == "structural_units":  # the networks correct the baseline they are compared with
            s = replace(s, model=replace(s.model, secondary_amplitude=sec_amp, secondary_row_offset_A=row_offset))
        generated = {}
        for family in generators:
            sf = replace(s, model=replace(s.model, family=family))
            t0 = time.perf_counter()
            ckpt = train(path, workdir / f"{family}-seed{seed}", sf)
            timings[f"{family}_train_s"].append(time.perf_counter() - t0)
            for tau in temperatures:
                name = method_name(family, tau)
                generated[name] = generate(ckpt, path, workdir / f"{name}-seed{seed}.nc", n_per_condition=n_samples,
                                           splits=("heldout",), seed=int(seed), allow_extrapolation=True,
                                           temperature=float(tau))  # fmt: skip
        reg, t_reg = train_regressor(ds_fold, s.model, s.trainer.steps, s.trainer.batch_size, dev, int(seed))
        timings["regressor_train_s"].append(t_reg)
        for case in held:
            d = _case_data(ds_fold, case)
            real = d["alpha"]
            gbf, L = d["gb_frac"][0], d["cell_lengths"][0]
            C = box_stiffness(*stiffness_cubic, _median_rotation(d["tilt_axis"][0], d["plane"][0],
                                                                  float(d["correspondence_angle_deg"][0] or 0.0)))  # fmt: skip
            fields = {g: gen["alpha"].values[gen["case"].values.astype(str) == case] for g, gen in generated.items()}
            given = {g: gen["cores"].values[gen["case"].values.astype(str) == case] for g, gen in generated.items()}
            fields |= {
                "regressor": predict(reg, d["cond"][:1], d["cell_lengths"][:1, :2], d["gb_frac"][:1], d["cores"][:1]),
                "wall": baselines.dislocation_wall(d["cond"][:1], d["gb_frac"][:1], d["cell_lengths"][:1], grid, width),
                "structural_units": baselines.structural_units(
                    d["cond"][:1], d["gb_frac"][:1], d["cell_lengths"][:1], grid, width, sec_width, sec_amp,
                    offset=row_offset),
                "frank_bilby": baselines.frank_bilby_line(d["cond"][:1], d["gb_frac"][:1], d["cell_lengths"][:1], grid),
            }  # fmt: skip
            if np.isfinite(d["cores"][0]).all(axis=1).any():  # cells with dislocations: the wall plus their cores
                fields["wall_cores"] = fields["wall"] + baselines.volterra_cores(d["cores"][0], d["burgers_box"][0],
                                                                                 L, grid, width)  # fmt: skip
            near, near_case = baselines.nearest_training(
                d["tilt_axis"][0], float(d["misorientation_deg"][0]), ds_fold["tilt_axis"].values[tr],
                ds_fold["misorientation_deg"].values[tr], ds_fold["case"].values.astype(str)[tr], train_alpha, as_2d(real))  # fmt: skip
            if len(near):
                fields["nearest"] = near
            if case not in examples:  # first seed: atomistic ground state, two samples of each generator, baselines
                ex = {"atomistic": as_2d(real[:1])[0]}
                for g in (method_name(f, temperatures[0]) for f in generators):
                    ex.update({f"{g} {k}": as_2d(fields[g][k : k + 1])[0] for k in range(min(2, len(fields[g])))})
                ex.update({m: as_2d(f[:1])[0] for m, f in fields.items() if m not in generated})
                examples[case] = {"case": case, "lengths": [float(v) for v in L[:2]], "fields": ex}
            for method, f in fields.items():
                m = compare(f, real, gbf, float(L[1]), train=train_alpha)
                m["stress"] = stress_error(f, real, L, C, scheme, gbf)
                m |= physics_residuals(f, real, gbf, L, scheme)
                found = cores_found(
                    f, given.get(method, d["cores"][0]), L, d["burgers_box"][0]
                )  # the cores it was given
                if np.isfinite(found):
                    m["cores_found"] = found
                if method == "nearest":
                    m["nearest_case"] = near_case
                results[case][method].append(m)
            if seed == seeds[0]:  # the reference does not depend on the seed
                ref = leave_one_out(as_2d(real), gbf, L, C, scheme)
                if ref is not None:
                    results[case][REFERENCE] = [ref]
            log(f"  {case}: " + ", ".join(f"{k} detail_yz {np.nanmean([r.get('detail_yz', np.nan) for r in v]):.2f}"
                                         for k, v in results[case].items() if v))  # fmt: skip
    return {"results": results, "timings": timings, "train_cases": train_cases, "examples": examples}


# -- aggregation -----------------------------------------------------------------------------------------------------
def _mean_metrics(runs: list[dict]) -> dict:
    keys = sorted({k for r in runs for k, v in r.items() if isinstance(v, int | float)})
    return {k: float(np.nanmean([r.get(k, np.nan) for r in runs])) for k in keys}


def summarise(per_case: dict, key_metric: str = "detail_yz") -> dict:
    """Per regime and method, the median over held-out cases of each metric (each case: the mean over its seeds).

    Medians, not means: relative errors of boundaries whose atomistic detail is nearly zero are huge for every
    method and would decide a mean alone. ``wins[generator][method]`` is the fraction of cases in which the
    generator's ``key_metric`` is below the other method's (head to head, the same cases)."""
    out: dict = {}
    for regime_name in ("interpolation", "extrapolation", "gb_dislocation", "all"):
        cases = [c for c, v in per_case.items() if regime_name == "all" or v["regime"] == regime_name]
        if not cases:
            continue
        out[regime_name] = {"n_cases": len(cases), "aggregate": "median", "wins": {}}
        methods = ordered_methods(m for c in cases for m in per_case[c]["methods"])
        for method in methods:
            rows = [per_case[c]["methods"][method] for c in cases if method in per_case[c]["methods"]]
            if rows:
                keys = sorted({k for r in rows for k in r})
                out[regime_name][method] = {k: _nanmedian([r.get(k, np.nan) for r in rows]) for k in keys}
        for gen in (m for m in methods if generator_family(m)):
            score = {c: per_case[c]["methods"].get(gen, {}).get(key_metric, np.nan) for c in cases}
            if all(np.isnan(v) for v in score.values()):
                continue
            wins = {}
            for other in methods:
                if other == gen or other == REFERENCE:
                    continue
                pairs = [(score[c], per_case[c]["methods"].get(other, {}).get(key_metric, np.nan)) for c in cases]
                pairs = [(a, b) for a, b in pairs if np.isfinite(a) and np.isfinite(b)]
                if pairs:
                    wins[other] = float(np.mean([a < b for a, b in pairs]))
            out[regime_name]["wins"][gen] = wins
    return out


def _nanmedian(values) -> float:
    v = np.asarray(values, dtype=float)
    return float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")


def run_benchmark(dataset_path, out_dir, settings: GanSettings, folds: int = 3, seeds=(0,), n_samples: int = 8,
                  potential: str = "Al_mm.eam.fs", max_folds: int | None = None, device: str = "auto",
                  log=print, generators=("wgan",), cubic=None, only=None, figure_cases=(),
                  temperatures=(1.0,)) -> dict:  # fmt: skip
    """The whole benchmark; writes ``out_dir/benchmark.json`` and returns it. ``generators``: families trained
    and scored ("wgan", "diffusion"); ``temperatures``: each generator's samples are drawn and scored at each of
    these standard deviations of its random draws (1: as trained); ``cubic``: (C11, C12, C44) GPa of the stress error (default: from
    ``potential``, computed with LAMMPS and cached); ``only``: names of the folds to run (e.g. "gbdisl-d12"),
    after ``max_folds``; ``figure_cases``: cases drawn in the figure besides the median one of each regime."""
    from nyegan.dataset import load_dataset
    from nyegan.potentials import cubic_properties

    out_dir = Path(out_dir)
    ds = load_dataset(dataset_path)
    if int(ds.attrs["dim"]) != 2:
        raise ValueError(f"{dataset_path}: the generative benchmark compares 2D fields (dataset.dim = 2)")
    if not temperatures or any(not float(tau) >= 0 for tau in temperatures):
        raise ValueError(f"temperatures {list(temperatures)}: give one or more numbers >= 0 (1: as trained)")
    unknown = sorted(set(figure_cases) - set(ds["case"].values.astype(str)))
    if unknown:
        raise ValueError(f"figure cases {unknown} are not in {dataset_path}; see its 'case' variable")
    cubic = tuple(cubic) if cubic else (lambda p: (p.c11, p.c12, p.c44))(cubic_properties(potential))
    all_folds = make_folds(ds, folds)[:max_folds] if max_folds else make_folds(ds, folds)
    if only:
        unknown = sorted(set(only) - {f["name"] for f in all_folds})
        if unknown:
            raise ValueError(f"folds {unknown} do not exist; this dataset has {[f['name'] for f in all_folds]}")
        all_folds = [f for f in all_folds if f["name"] in set(only)]
    per_case: dict = {}
    timings = {}
    examples = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nyegan-bench-", dir=out_dir if out_dir.exists() else None) as tmp:
        for fold in all_folds:
            log(f"fold {fold['name']}: {len(fold['heldout'])} held out")
            res = run_fold(refold(ds, fold["heldout"]), settings, seeds, Path(tmp) / fold["name"], n_samples, cubic,
                           device, log, generators, tuple(float(tau) for tau in temperatures))  # fmt: skip
            timings[fold["name"]] = res["timings"]
            examples.update(res["examples"])
            for case, methods in res["results"].items():
                per_case[case] = {"fold": fold["name"], "regime": regime(ds, case, res["train_cases"]),
                                  "methods": {m: _mean_metrics(runs) for m, runs in methods.items() if runs}}  # fmt: skip
    result = {
        "summary": summarise(per_case),
        "cases": per_case,
        "folds": [{k: v for k, v in f.items()} for f in all_folds],
        "seeds": list(seeds),
        "generators": list(generators),
        "temperatures": [float(tau) for tau in temperatures],
        "n_samples": n_samples,
        "settings": {"model": settings.model.__dict__, "trainer": settings.trainer.__dict__},
        "timings": timings,
        "wall_time_s": time.perf_counter() - t0,
        "dataset": str(dataset_path),
        "metric_notes": "every error is relative to the atomistic component's own norm (1 = predicting zero); "
        "energy_distance 0 = same distribution (it also falls with added noise: read it with coverage); "
        "coverage 0 = every atomistic microstate reproduced by some sample, 1 = a zero field; "
        "spread 1 = samples as diverse as the relaxed microstates; "
        "memorisation < 1 = closer to training than to the truth; "
        "cores_found 1 = every dislocation of a boundary + dislocation cell drawn where it is, 0 = none; "
        "content_error 0 = each boundary's Burgers content that of the atomistic field (relative to it); "
        "div_residual 0 = div alpha = 0 (relative to the field's gradient); "
        "correlation 0 = the atomistic two-point autocorrelations along x and y (at most 2); "
        "other_state = each relaxed microstate scored against the others of its boundary (the floor)",
    }
    write_json(out_dir / "benchmark.json", json.loads(json.dumps(result, default=float)))
    with atomic_path(out_dir / "benchmark.md") as tmp_md:
        Path(tmp_md).write_text(summary_table(result) + "\n")
    plot_heldout(per_case, examples, out_dir / "benchmark_fields.png", extra=figure_cases)
    return result


def plot_heldout(per_case: dict, examples: dict, path, per_regime: int = 1, extra=()) -> None:
    """Generated vs atomistic fields of the held-out cases :func:`figure_cases` chooses."""
    from nyegan.gan.plots import heldout_figure

    chosen = figure_cases(per_case, examples, per_regime, extra)
    if chosen:
        heldout_figure([examples[c] for c in chosen], path,
                       title="held out: atomistic ground state, generated samples and baselines "
                             "(colour scale per component: atomistic max)")  # fmt: skip


def figure_cases(per_case: dict, examples: dict, per_regime: int = 1, extra=()) -> list[str]:
    """The held-out cases of the figure: the one with the median generator detail error of each regime
    (interpolation, extrapolation, boundary + dislocation; the regressor's in a run without generators), then the
    ``extra`` cases that were held out."""

    def detail(c):
        methods = per_case[c]["methods"]
        fallback = methods.get("regressor", {}).get("detail_yz", np.inf)
        return next((v.get("detail_yz", np.inf) for m, v in methods.items() if generator_family(m)), fallback)

    chosen = []
    for name in ("interpolation", "extrapolation", "gb_dislocation"):
        cases = [c for c, v in per_case.items() if v["regime"] == name and c in examples]
        cases.sort(key=detail)
        chosen += cases[len(cases) // 2 : len(cases) // 2 + per_regime] if cases else []
    return chosen + [c for c in extra if c in examples and c not in chosen]


def summary_table(result: dict, metrics=("mean_yz", "detail_yz", "detail_xz", "spectrum_yz", "period",
                                          "energy_distance", "coverage", "spread", "correlation", "stress",
                                          "memorisation", "cores_found", "content_error",
                                          "div_residual")) -> str:  # fmt: skip
    """Markdown table: regime × method × metric medians over held-out cases, then the generators' win rates."""
    lines = ["| regime | method | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for regime_name, row in result["summary"].items():
        for method in row_methods(row):
            vals = [row[method].get(m, float("nan")) for m in metrics]
            lines.append(f"| {regime_name} (n={row['n_cases']}) | {method} | "
                         + " | ".join("–" if not math.isfinite(v) else f"{v:.2f}" for v in vals) + " |")  # fmt: skip
    others = ordered_methods(m for row in result["summary"].values() for w in row.get("wins", {}).values() for m in w)
    if others:
        lines += ["", "Fraction of held-out cases in which the generator's detail_yz error is lower:", "",
                  "| regime | generator | " + " | ".join(f"vs {m}" for m in others) + " |",
                  "|---|---|" + "---|" * len(others)]  # fmt: skip
        for regime_name, row in result["summary"].items():
            for gen, wins in row.get("wins", {}).items():
                lines.append(f"| {regime_name} | {gen} | "
                             + " | ".join(f"{wins[m]:.2f}" if m in wins else "–" for m in others) + " |")  # fmt: skip
    return "\n".join(lines)
