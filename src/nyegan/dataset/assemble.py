"""Assemble per-case Nye fields and build metadata into one training dataset (netCDF, dim ``sample``).

Per case: read ``alpha`` (dims ("i","j","x","y"[,"z"]), 1/Å, or a leading ``state`` dim when the relaxation kept
several microstates: each state becomes a sample sharing the case's conditions and split); average along z for a
2D dataset; resample spectrally onto the common grid (cells differ in size: the physical box lengths are kept in
``cell_lengths``); shift along y (spectrally) so the first boundary sits at y = 1/4 of the cell; optionally shift
along x so the boundary's modulation has zero phase in its strongest harmonic of the period (``align_x``: the
cores or units of every boundary then line up at the same fractional x, ``nyegan.dataset.align``); optionally project onto the discrete div-free,
zero-mean subspace of the chosen difference scheme (for 2D fields this keeps the line-z Burgers content exactly).
The raw relative divergence residual before projection is stored per sample.

Memory: two passes. The first reads only file headers and metadata (sample counts, conditions); the second
fills one preallocated float32 array case by case, so the fields are never held twice and peak memory is the
dataset itself plus one case.

Variables: ``alpha`` (sample,i,j,x,y) float32 1/Å on fractional cell-centred coordinates; ``cond`` (sample,
feature) raw condition features; condition variables in physical units (misorientation_deg, axis, plane, sigma,
kind, character, distance_to_gb, burgers_box, cell_lengths, gb_frac, periods_x); per-sample state labels (rank,
gb_energy_mJ_m2, temperature_K); ``content`` (sample, boundary, component) measured net Burgers content per slab;
``split`` + ``is_train`` / ``is_validation`` / ``is_heldout``; normalisation statistics ``alpha_scale`` (i, j)
and ``cond_mean`` / ``cond_std`` (feature) from the train split.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from nyegan import content as content_mod
from nyegan import fieldops
from nyegan.contracts import DATASET, NYE_FIELD, STRUCTURE
from nyegan.dataset.align import alignment_shifts
from nyegan.dataset.conditions import FEATURES, condition_vector, periods_along_x
from nyegan.dataset.cores import locate_cores
from nyegan.dataset.resample import fourier_resample, fractional_shift
from nyegan.dataset.split import assign_splits
from nyegan.nye.output import frame_as_field
from nyegan.progress import progress_bar
from nyegan.provenance import as_attr, provenance

LABELS = ["x", "y", "z"]
CANONICAL_Y1 = 0.25
MAX_CORES = 4
STATE_LABELS = ("gb_energy_mJ_m2", "temperature_K")


def _spatial(a: xr.DataArray) -> list[str]:
    return [d for d in ("x", "y", "z") if d in a.dims]


def _field_values(ds: xr.Dataset, nc_path, dim: int) -> tuple[np.ndarray, dict]:
    """(S, 3, 3, *grid) float64 values of a Nye-field file (S states, 1 for a plain field), masked nodes set to 0,
    a 3D field averaged along z for a 2D dataset; and attrs with the coordinates, per-state labels."""
    a = ds["alpha"]
    if "time" in a.dims:
        raise ValueError(f"{nc_path}: a trajectory (dim 'time'); the dataset takes relaxed states, not MD frames")
    if "i" in a.coords and a["i"].dtype.kind in "USO":
        a = a.sel(i=LABELS, j=LABELS)
    spatial = _spatial(a)
    if len(spatial) == 3 and dim == 2:
        a = a.mean("z")
        spatial = ["x", "y"]
    if spatial[:2] != ["x", "y"] or len(spatial) != dim:
        raise ValueError(f"{nc_path}: field has spatial dims {spatial}, a {dim}D dataset needs {LABELS[:dim]} "
                         f"(set dataset.dim)")  # fmt: skip
    a = a.transpose(*(("state",) if "state" in a.dims else ()), "i", "j", *spatial)
    values = np.asarray(a.values, dtype=np.float64)
    if "state" not in a.dims:
        values = values[None]
    # per-frame numbers (the correspondence angle) are variables along ``state`` in an ensemble file: read the
    # lowest-energy state's as attributes, as a single-state file has them
    attrs = dict(frame_as_field(ds, 0).attrs)
    attrs["_coords"] = {d: np.asarray(ds[d].values, float) for d in spatial if d in ds.coords}
    n = values.shape[0]
    attrs["_labels"] = {k: np.asarray(ds[k].values, float) if k in ds else np.full(n, np.nan) for k in STATE_LABELS}
    attrs["_rank"] = np.asarray(ds["state"].values, int) if "state" in ds.dims else np.zeros(1, int)
    if "state" not in ds.dims:  # the relaxed ground state of a single-state case
        attrs["_labels"]["temperature_K"] = np.zeros(1)
    bad = ~np.isfinite(values)
    attrs["_masked_fraction"] = bad.any(axis=(1, 2)).reshape(n, -1).mean(axis=1)
    if bad.any():  # masked nodes (free surfaces, voids): no dislocation density there
        values = np.where(bad, 0.0, values)
    return values, attrs


def _n_states(nc_path) -> int:
    """Samples a Nye-field file contributes (header only)."""
    ds = NYE_FIELD.open(nc_path, load=False)
    try:
        if "time" in ds["alpha"].dims:
            raise ValueError(f"{nc_path}: a trajectory (dim 'time'); the dataset takes relaxed states")
        return int(ds.sizes.get("state", 1))
    finally:
        ds.close()


def _cell_lengths(attrs: dict, meta: dict) -> np.ndarray:
    if "cell_lengths" in attrs:
        return np.asarray(attrs["cell_lengths"], float).ravel()[:3]
    if "cell" in meta:
        return np.abs(np.diag(np.asarray(meta["cell"], float)))
    raise ValueError("cell lengths missing: give the Nye file attr 'cell_lengths' or the metadata 'cell'")


def x_alignment_shift(alpha: np.ndarray, gb_frac, periods: float, dim: int) -> float:
    """Fractional x shift that gives the line-z column's modulation zero phase in its strongest harmonic of the
    period, in the slab of the first boundary: m = ``periods`` periods per cell (``nyegan.dataset.align``). 0 when
    there is no such modulation."""
    s = alignment_shifts(torch.from_numpy(np.asarray(alpha, np.float64)[None]),
                         torch.tensor(np.asarray(gb_frac, float))[None], torch.tensor([float(periods)]), dim)  # fmt: skip
    return float(s[0])


def _grid_start(attrs: dict, axis: str) -> float:
    """Position (Å) where the resampled grid's first cell begins: the Nye grid puts nodes at origin + n h, the
    resampler treats node n as the centre of cell n."""
    c = attrs["_coords"].get(axis)
    return c[0] - 0.5 * (c[1] - c[0]) if c is not None and len(c) > 1 else 0.0


def core_fractions(meta: dict, attrs: dict, L: np.ndarray) -> np.ndarray:
    """(MAX_CORES, 3) dislocation cores of the cell as (fractional x, fractional y, sign) on the dataset grid before
    the canonical shifts (NaN rows pad); x along the (possibly tilted) first cell vector."""
    out = np.full((MAX_CORES, 3), np.nan)
    cores = meta.get("dislocations") or []
    if len(cores) > MAX_CORES:
        raise ValueError(
            f"case {meta.get('case')}: {len(cores)} dislocation cores, the dataset holds at most {MAX_CORES}"
        )
    cell = np.asarray(meta["cell"], float)
    tilt = cell[1, 0] / cell[1, 1] if cell[1, 1] else 0.0
    for k, c in enumerate(cores):
        x, y = float(c["position"][0]), float(c["position"][1])
        fy = np.mod((y - _grid_start(attrs, "y")) / L[1], 1.0)
        fx = np.mod((x - tilt * y - _grid_start(attrs, "x")) / L[0], 1.0)
        out[k] = (fx, fy, float(c.get("sign", 1)))
    return out


def _prepare_case(nye_path, meta_path, grid, dim, scheme, project, align_x) -> dict:
    """Every sample of one case on the common grid, canonicalised and measured."""
    meta = STRUCTURE.read(meta_path)
    ds = NYE_FIELD.open(nye_path)
    fields, attrs = _field_values(ds, nye_path, dim)
    L = _cell_lengths(attrs, meta)
    has_gb = "gb_y" in meta and meta.get("kind") in ("gb", "gb_dislocation")
    periods = periods_along_x(meta, L, dim)
    lengths = L[:dim]
    cores0 = core_fractions(meta, attrs, L)
    out, moves = [], []
    for s in range(fields.shape[0]):
        alpha = fourier_resample(fields[s], tuple(grid))
        if has_gb:
            # the resampled grid treats input sample n as the centre of cell n, i.e. at y0 - h/2 + (n + 1/2) h
            # with y0 the first grid coordinate (Nye grids put nodes at origin + n h)
            gb = np.mod((np.asarray(meta["gb_y"], float) - _grid_start(attrs, "y")) / L[1], 1.0)
            shift = gb[0] - CANONICAL_Y1
            alpha = fractional_shift(alpha, shift, alpha.ndim - dim + 1)  # f(y + shift): boundary 1 -> 1/4
            gb_frac = np.mod(gb - shift, 1.0)
        else:
            shift = 0.0
            gb_frac = np.array([CANONICAL_Y1, CANONICAL_Y1 + 0.5])
        x_shift = x_alignment_shift(alpha, gb_frac, periods, dim) if (align_x and has_gb) else 0.0
        if x_shift:
            alpha = fractional_shift(alpha, x_shift, alpha.ndim - dim)
        cores = cores0.copy()  # a feature at f moves to f - shift under f(y + shift)
        cores[:, 0] = np.mod(cores[:, 0] - x_shift, 1.0)
        cores[:, 1] = np.mod(cores[:, 1] - shift, 1.0)
        raw_div = float(fieldops.relative_divergence(alpha, lengths, dim, scheme))
        if project:
            alpha = fieldops.project_divfree(alpha, lengths, dim, scheme)
        if "burgers_box" in meta and np.isfinite(cores[:, 0]).any():
            before = cores.copy()
            cores = locate_cores(alpha, cores, L, meta["burgers_box"], dim, gb_frac if has_gb else None)
            n_lost = int((np.isfinite(before[:, 0]) & np.isnan(cores[:, 0])).sum())
            n_moved = int((np.isfinite(cores[:, 0]) & np.any(cores[:, :2] != before[:, :2], axis=1)).sum())
            if n_lost or n_moved:
                moves.append(
                    f"state {len(out)}: {n_moved} moved, {n_lost} lost of {int(np.isfinite(before[:, 0]).sum())}"
                )
        at = torch.from_numpy(alpha)[None]
        content = content_mod.slab_content(at, torch.tensor(gb_frac)[None], torch.tensor([L[1]]), dim)[0].numpy()
        out.append(dict(alpha=alpha.astype(np.float32), gb_frac=gb_frac, content=content, div_residual_raw=raw_div, cores=cores,
                        x_shift=x_shift, masked_fraction=float(attrs["_masked_fraction"][s]), rank=int(attrs["_rank"][s]),
                        **{k: float(attrs["_labels"][k][s]) for k in STATE_LABELS}))  # fmt: skip
    if moves:
        warnings.warn(
            f"dataset: case {meta.get('case', Path(nye_path).stem)}: dislocations not in the relaxed field where the "
            f"build put them ({'; '.join(moves)}): the core inputs of those samples follow the ones that glided "
            f"and leave out the lost ones (annihilated or absorbed by a boundary; nyegan.dataset.cores); a "
            f"taller cell along y or a smaller distance_to_gb keeps them",
            stacklevel=2,
        )
    c0 = out[0]["content"]
    sign = float(np.sign(c0[0, 1])) if has_gb and abs(c0[0, 1]) > 1e-12 else 1.0
    # Frank-Bilby angle: the lattice correspondence the Nye stage used (minimum angle, e.g. 36.87 deg for a
    # 53.13 deg <001> boundary), recorded in its attrs; else the metadata misorientation
    fb_angle = float(attrs.get("correspondence_angle_deg") or meta.get("misorientation_deg", np.nan))
    cond = condition_vector(meta, L, out[0]["gb_frac"] if has_gb else None, sign,
                            fb_angle_deg=fb_angle if has_gb and np.isfinite(fb_angle) else None, dim=dim)  # fmt: skip
    return dict(case=str(meta.get("case", Path(nye_path).stem)), meta=meta, samples=out, lengths=L, has_gb=has_gb,
                content_sign=sign, cond=cond, fb_angle=fb_angle if has_gb else np.nan, periods_x=periods,
                source_scheme=str(attrs["difference_scheme"]))  # fmt: skip


def sample_coords(n_samples: int, grid: Sequence[int]) -> dict:
    """Coordinates shared by the dataset and generated fields: samples, tensor labels, fractional cell-centred
    grid coordinates (x, y[, z])."""
    coords = {
        "sample": np.arange(n_samples),
        "i": LABELS,
        "j": LABELS,
        "component": LABELS,
        "axis": LABELS,
        "boundary": [1, 2],
        "feature": list(FEATURES),
        "core": np.arange(MAX_CORES),
        "core_field": ["x_frac", "y_frac", "sign"],
    }
    for d, n in zip(["x", "y", "z"], grid):
        coords[d] = (d, (np.arange(n) + 0.5) / n, {"units": "1", "long_name": f"fractional {d} (cell-centred)"})
    return coords


def build_dataset(
    nye_paths: Sequence,
    meta_paths: Sequence,
    out_path,
    grid: Sequence[int] = (32, 64),
    dim: int = 2,
    scheme: str = "spectral",
    project: bool = True,
    heldout_misorientations=None,
    validation_fraction: float = 0.15,
    heldout_cases: Sequence[str] = (),
    align_x: bool = True,
    progress: bool | None = None,
) -> xr.Dataset:
    """Write the dataset netCDF to ``out_path`` (atomically) and return it.

    ``grid``: common grid (nx, ny[, nz]); ``heldout_misorientations``: degrees (None: deterministic choice,
    [] none held out); ``heldout_cases``: case names held out as well (whole boundaries); ``scheme``: difference
    scheme of the divergence constraint (``nyegan.fieldops``); ``align_x``: align the boundaries' modulation.
    """
    if len(nye_paths) != len(meta_paths):
        raise ValueError(f"{len(nye_paths)} Nye files but {len(meta_paths)} metadata files: give one of each per case")
    if not nye_paths:
        raise ValueError("no cases given: the dataset needs at least one Nye field")
    if dim not in (2, 3) or len(grid) != dim:
        raise ValueError(f"dataset.grid {list(grid)} does not match dataset.dim = {dim} (2 or 3)")
    fieldops._check_scheme(scheme)
    # pass 1: metadata and sample counts only. The conditions and the Frank–Bilby content are those of tilt
    # boundaries (line along z): twist cells are left out, by name, rather than mixed in with the wrong physics
    metas = [STRUCTURE.read(m) for m in meta_paths]
    excluded = [Path(m).stem for m, meta in zip(meta_paths, metas) if meta.get("boundary_type") == "symmetric_twist"]
    keep = [k for k, m in enumerate(meta_paths) if Path(m).stem not in excluded]
    if excluded:
        warnings.warn(f"dataset: twist-boundary cases left out (tilt conditions only): {', '.join(excluded)}",
                      stacklevel=2)  # fmt: skip
    if not keep:
        raise ValueError("no tilt-boundary or dislocation cases left for the dataset (twist cases are left out)")
    names = [str(metas[k].get("case", Path(nye_paths[k]).stem)) for k in keep]
    if len(set(names)) != len(names):
        raise ValueError("duplicate case names in the dataset inputs")
    unknown = sorted(set(heldout_cases) - set(names))
    if unknown:
        raise ValueError(f"dataset.heldout_cases {unknown} match no case; available: {', '.join(sorted(names))}")
    counts = [_n_states(nye_paths[k]) for k in keep]
    mis_case = np.array([float(metas[k].get("misorientation_deg", np.nan)) for k in keep])
    split_case, heldout = assign_splits(names, mis_case, heldout_misorientations, validation_fraction,
                                        heldout_cases=heldout_cases)  # fmt: skip
    n = int(sum(counts))
    alpha = np.empty((n, 3, 3, *grid), dtype=np.float32)
    # pass 2: fill the array case by case
    per_sample: dict[str, list] = {key: [] for key in ("case", "k")}
    samples, recs = [], []
    row = 0
    for k, case in progress_bar(list(zip(keep, names)), desc="dataset", unit="case", show=progress):
        rec = _prepare_case(nye_paths[k], meta_paths[k], grid, dim, scheme, project, align_x)
        for smp in rec["samples"]:
            alpha[row] = smp.pop("alpha")
            samples.append(smp)
            per_sample["case"].append(case)
            per_sample["k"].append(len(recs))
            row += 1
        recs.append({key: v for key, v in rec.items() if key != "samples"})
    idx = np.asarray(per_sample["k"])
    split = np.asarray(split_case)[idx]
    cond = np.stack([recs[i]["cond"] for i in idx])
    train = split == "train"
    sq = np.zeros((3, 3))
    for s in np.flatnonzero(train):  # per sample: no float64 copy of the whole array
        sq += (alpha[s].astype(np.float64) ** 2).sum(axis=tuple(range(2, 2 + dim)))
    scale = np.sqrt(sq / max(int(train.sum()) * int(np.prod(grid)), 1))
    scale = np.maximum(scale, 1e-3 * max(scale.max(), 1e-12))
    cmean = cond[train].mean(0)
    cstd = cond[train].std(0)
    cstd = np.where(cstd > 1e-8, cstd, 1.0)

    def meta_vec(key, size=3):
        return np.array([np.asarray(recs[i]["meta"].get(key, [np.nan] * size), float) for i in idx])

    def meta_scalar(key, default=np.nan, kind=float):
        return np.array([kind(recs[i]["meta"].get(key, default)) for i in idx])

    def sample_array(key):
        return np.array([s[key] for s in samples])

    sp = ["x", "y", "z"][:dim]
    ds = xr.Dataset(
        {
            "alpha": (("sample", "i", "j", *sp), alpha,
                      {"units": "1/angstrom", "long_name": "Nye dislocation density tensor"}),
            "cond": (("sample", "feature"), cond, {"long_name": "raw condition features (nyegan.dataset.conditions)"}),
            "case": ("sample", np.array(per_sample["case"], dtype=object)),
            "kind": ("sample", np.array([recs[i]["meta"]["kind"] for i in idx], dtype=object)),
            "character": ("sample", np.array([recs[i]["meta"].get("character", "") for i in idx], dtype=object)),
            "misorientation_deg": ("sample", meta_scalar("misorientation_deg"), {"units": "degree"}),
            "sigma": ("sample", meta_scalar("sigma", 0, int), {"long_name": "0: n/a"}),
            "tilt_axis": (("sample", "component"), meta_vec("axis")),
            "plane": (("sample", "component"), meta_vec("plane")),
            "distance_to_gb": ("sample", meta_scalar("distance_to_gb"), {"units": "angstrom"}),
            "burgers_box": (("sample", "component"), meta_vec("burgers_box"), {"units": "angstrom"}),
            "cell_lengths": (("sample", "axis"), np.stack([recs[i]["lengths"] for i in idx]), {"units": "angstrom"}),
            "periods_x": ("sample", np.array([recs[i]["periods_x"] for i in idx]),
                          {"long_name": "periods of the boundary along x in the cell, of the z-projected "
                                        "structure in a 2D dataset (0: no boundary)"}),
            "gb_frac": (("sample", "boundary"), sample_array("gb_frac"),
                        {"long_name": "fractional y of the two boundaries after canonical shift"}),
            "cores": (("sample", "core", "core_field"), np.stack([s["cores"] for s in samples]),
                      {"long_name": "dislocation cores where the relaxed field has them (nyegan.dataset.cores) on the "
                                     "dataset grid: fractional x, fractional y, sign (NaN: none)"}),
            "x_shift": ("sample", sample_array("x_shift"),
                        {"long_name": "fractional x shift applied to align the boundary modulation (align_x)"}),
            "has_gb": ("sample", np.array([int(recs[i]["has_gb"]) for i in idx], dtype=np.int8)),
            "state_rank": ("sample", sample_array("rank"), {"long_name": "microstate rank within its case (0 = lowest)"}),
            "gb_energy_mJ_m2": ("sample", sample_array("gb_energy_mJ_m2"), {"units": "mJ/m^2"}),
            "temperature_K": ("sample", sample_array("temperature_K"), {"units": "K",
                              "long_name": "MD temperature of a snapshot (0: relaxed state)"}),
            "content": (("sample", "boundary", "component"), np.stack([s["content"] for s in samples]),
                        {"long_name": "net Burgers content per unit boundary length of each slab", "units": "1"}),
            "content_sign": ("sample", np.array([recs[i]["content_sign"] for i in idx])),
            "correspondence_angle_deg": ("sample", np.array([recs[i]["fb_angle"] for i in idx]), {"units": "degree",
                "long_name": "angle of the lattice correspondence (Frank-Bilby content 2 sin(angle/2))"}),
            "masked_fraction": ("sample", sample_array("masked_fraction"),
                                {"long_name": "fraction of grid nodes without atoms (alpha set to 0)"}),
            "div_residual_raw": ("sample", sample_array("div_residual_raw"),
                                 {"long_name": "relative divergence residual before projection"}),
            "split": ("sample", np.array(split, dtype=object)),
            "is_train": ("sample", (split == "train").astype(np.int8)),
            "is_validation": ("sample", (split == "validation").astype(np.int8)),
            "is_heldout": ("sample", (split == "heldout").astype(np.int8)),
            "alpha_scale": (("i", "j"), scale, {"units": "1/angstrom", "long_name": "train rms per component"}),
            "cond_mean": ("feature", cmean),
            "cond_std": ("feature", cstd),
        },
        coords=sample_coords(n, grid),
        attrs={
            "convention": "alpha = curl Ue, (curl A)_ij = eps_jkl d_k A_il; i Burgers, j line; box frame "
            "z = tilt axis / line, y = boundary normal",
            "dim": dim,
            "grid": list(grid),
            "difference_scheme": scheme,
            "projected_divfree": int(project),
            "aligned_x": int(align_x),
            "heldout_misorientations_deg": list(heldout) if heldout else [],
            "heldout_cases": ",".join(sorted(set(heldout_cases))),
            "canonical_first_boundary_frac": CANONICAL_Y1,
            "frank_bilby_sign": float(np.sign(np.sum([r["content_sign"] for r in recs if r["has_gb"]]) or 1.0)),
            "source_schemes": ",".join(sorted({r["source_scheme"] for r in recs})),
            "excluded_cases": ",".join(excluded),
            "provenance": as_attr(
                provenance(
                    "dataset",
                    dict(
                        dim=dim,
                        grid=list(grid),
                        scheme=scheme,
                        project=project,
                        heldout_misorientations=heldout_misorientations,
                        validation_fraction=validation_fraction,
                    ),
                    inputs=[*nye_paths, *meta_paths],
                )
            ),  # fmt: skip
        },
    )  # fmt: skip
    DATASET.write(ds, out_path)
    return ds


def load_dataset(path) -> xr.Dataset:
    """Open a dataset written by ``build_dataset`` fully into memory (contract checked)."""
    return DATASET.open(path)
