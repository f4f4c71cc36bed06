"""Assemble per-case Nye fields and build metadata into one training dataset (netCDF, dim ``sample``).

Per case: read ``alpha`` (dims ("i","j","x","y"[,"z"]), 1/Å) and the metadata JSON; average along z for a
2D dataset; resample spectrally onto the common grid (cells differ in size: the physical box lengths are
kept in ``cell_lengths``); shift along y (spectrally) so the first boundary sits at y = 1/4 of the cell
(the grid then needs no boundary-position input beyond the spacing); optionally project onto the discrete
div-free, zero-mean subspace of the chosen difference scheme (for 2D fields this keeps the line-z Burgers
content exactly). The raw relative divergence residual before projection is stored per sample.

Variables: ``alpha`` (sample,i,j,x,y) float32 1/Å on fractional cell-centred coordinates; ``cond``
(sample, feature) raw condition features; condition variables in physical units (misorientation_deg, axis,
plane, sigma, kind, character, distance_to_gb, burgers_box, cell_lengths, gb_frac); ``content``
(sample, boundary, component) measured net Burgers content per slab; ``split`` + ``is_train`` /
``is_validation`` / ``is_heldout``; normalisation statistics ``alpha_scale`` (i, j) and ``cond_mean`` /
``cond_std`` (feature) from the train split.
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
from nyegan.dataset.conditions import FEATURES, condition_vector
from nyegan.dataset.resample import fourier_resample, fractional_shift
from nyegan.dataset.split import assign_splits
from nyegan.provenance import as_attr, provenance

LABELS = ["x", "y", "z"]
CANONICAL_Y1 = 0.25


def _read_field(nc_path: Path, dim: int) -> tuple[np.ndarray, dict]:
    """Values (3, 3, *grid) of a Nye-field file (contract checked) and its attrs plus coordinates; a 3D field is
    averaged along z for a 2D dataset; masked (NaN) nodes become 0."""
    ds = NYE_FIELD.open(nc_path)
    a = ds["alpha"]
    if "time" in a.dims:
        raise ValueError(f"{nc_path}: a multi-frame field (dim 'time'); the dataset takes one field per file")
    spatial = [d for d in ("x", "y", "z") if d in a.dims]
    if "i" in a.coords and a["i"].dtype.kind in "USO":
        a = a.sel(i=LABELS, j=LABELS)
    if len(spatial) == 3 and dim == 2:
        a = a.mean("z")
        spatial = ["x", "y"]
    if spatial[:2] != ["x", "y"] or len(spatial) != dim:
        raise ValueError(
            f"{nc_path}: field has spatial dims {spatial}, a {dim}D dataset needs "
            f"{['x', 'y', 'z'][:dim]} (set dataset.dim)"
        )
    attrs = dict(ds.attrs)
    attrs["_coords"] = {d: np.asarray(ds[d].values, float) for d in spatial if d in ds.coords}
    values = np.asarray(a.values, dtype=np.float64)
    bad = ~np.isfinite(values)
    attrs["_masked_fraction"] = float(bad.any(axis=(0, 1)).mean())
    if bad.any():  # masked nodes (free surfaces, voids): no dislocation density there
        values = np.where(bad, 0.0, values)
    return values, attrs


def _cell_lengths(attrs: dict, meta: dict, field: np.ndarray, dim: int) -> np.ndarray:
    if "cell_lengths" in attrs:
        return np.asarray(attrs["cell_lengths"], float).ravel()[:3]
    if "cell" in meta:
        return np.abs(np.diag(np.asarray(meta["cell"], float)))
    coords = attrs["_coords"]
    if all(d in coords and len(coords[d]) > 1 for d in ("x", "y")):
        L = [len(coords[d]) * (coords[d][1] - coords[d][0]) for d in ("x", "y", "z") if d in coords]
        return np.asarray((L + [1.0])[:3], float)
    raise ValueError("cell lengths missing: give the Nye file attr 'cell_lengths' or the metadata 'cell'")


def load_case(
    nye_path, meta_path, grid: Sequence[int], dim: int = 2, scheme: str = "spectral", project: bool = True
) -> dict:
    """Read, resample, canonicalise and measure one case; returns a dict of per-sample values."""
    nye_path, meta_path = Path(nye_path), Path(meta_path)
    meta = STRUCTURE.read(meta_path)
    field, attrs = _read_field(nye_path, dim)
    L = _cell_lengths(attrs, meta, field, dim)
    alpha = fourier_resample(field, tuple(grid))
    has_gb = "gb_y" in meta and meta.get("kind") in ("gb", "gb_dislocation")
    if has_gb:
        # the resampled grid treats input sample n as the centre of cell n, i.e. at y0 - h/2 + (n + 1/2) h
        # with y0 the first grid coordinate (Nye grids put nodes at origin + n h)
        yc = attrs["_coords"].get("y")
        start = yc[0] - 0.5 * (yc[1] - yc[0]) if yc is not None and len(yc) > 1 else 0.0
        gb = np.mod((np.asarray(meta["gb_y"], float) - start) / L[1], 1.0)
        shift = gb[0] - CANONICAL_Y1
        alpha = fractional_shift(alpha, shift, alpha.ndim - dim + 1)  # f(y + shift): boundary 1 -> 1/4
        gb_frac = np.mod(gb - shift, 1.0)
    else:
        gb_frac = np.array([CANONICAL_Y1, CANONICAL_Y1 + 0.5])
    lengths = L[:dim]
    raw_div = float(fieldops.relative_divergence(alpha, lengths, dim, scheme))
    if project:
        alpha = fieldops.project_divfree(alpha, lengths, dim, scheme)
    at = torch.from_numpy(alpha)[None]
    content = content_mod.slab_content(at, torch.tensor(gb_frac)[None], torch.tensor([L[1]]), dim)[0].numpy()
    sign = 1.0
    if has_gb and abs(content[0, 1]) > 1e-12:
        sign = float(np.sign(content[0, 1]))
    # Frank-Bilby angle: the lattice correspondence the Nye stage used (minimum angle, e.g. 36.87 deg for a
    # 53.13 deg <001> boundary), recorded in its attrs; else the metadata misorientation
    fb_angle = float(attrs.get("correspondence_angle_deg") or meta.get("misorientation_deg", np.nan))
    cond = condition_vector(
        meta, L, gb_frac if has_gb else None, sign, fb_angle_deg=fb_angle if has_gb and np.isfinite(fb_angle) else None
    )
    return dict(
        case=str(meta.get("case", nye_path.stem)),
        meta=meta,
        alpha=alpha,
        lengths=L,
        gb_frac=gb_frac,
        has_gb=has_gb,
        content=content,
        content_sign=sign,
        cond=cond,
        div_residual_raw=raw_div,
        fb_angle=fb_angle if has_gb else np.nan,
        masked_fraction=attrs["_masked_fraction"],
        source_scheme=str(attrs["difference_scheme"]),
    )


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
) -> xr.Dataset:
    """Write the dataset netCDF to ``out_path`` (atomically) and return it.

    ``grid``: common grid (nx, ny[, nz]); ``heldout_misorientations``: degrees (None: deterministic choice,
    [] none held out); ``scheme``: difference scheme of the divergence constraint (``nyegan.fieldops``).
    """
    if len(nye_paths) != len(meta_paths):
        raise ValueError(f"{len(nye_paths)} Nye files but {len(meta_paths)} metadata files: give one of each per case")
    if not nye_paths:
        raise ValueError("no cases given: the dataset needs at least one Nye field")
    if dim not in (2, 3) or len(grid) != dim:
        raise ValueError(f"dataset.grid {list(grid)} does not match dataset.dim = {dim} (2 or 3)")
    fieldops._check_scheme(scheme)
    # the conditions and the Frank–Bilby content are those of tilt boundaries (line along z): twist cells are
    # left out, by name, rather than mixed in with the wrong physics
    excluded = [Path(m).stem for m in meta_paths if STRUCTURE.read(m).get("boundary_type") == "symmetric_twist"]
    pairs = [(n, m) for n, m in zip(nye_paths, meta_paths) if Path(m).stem not in excluded]
    if excluded:
        warnings.warn(
            f"dataset: twist-boundary cases left out (tilt conditions only): {', '.join(excluded)}", stacklevel=2
        )
    if not pairs:
        raise ValueError("no tilt-boundary or dislocation cases left for the dataset (twist cases are left out)")
    recs = [load_case(n, m, grid, dim, scheme, project) for n, m in pairs]
    names = [r["case"] for r in recs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate case names in the dataset inputs")
    mis = np.array([float(r["meta"].get("misorientation_deg", np.nan)) for r in recs])
    split, heldout = assign_splits(names, mis, heldout_misorientations, validation_fraction)
    alpha = np.stack([r["alpha"] for r in recs]).astype(np.float32)
    cond = np.stack([r["cond"] for r in recs])
    train = split == "train"
    scale = np.sqrt((alpha[train].astype(np.float64) ** 2).mean(axis=(0,) + tuple(range(3, 3 + dim))))
    scale = np.maximum(scale, 1e-3 * max(scale.max(), 1e-12))
    cmean = cond[train].mean(0)
    cstd = cond[train].std(0)
    cstd = np.where(cstd > 1e-8, cstd, 1.0)

    def meta_vec(key, n=3):
        return np.array([np.asarray(r["meta"].get(key, [np.nan] * n), float) for r in recs])

    sp = ["x", "y", "z"][:dim]
    coords = sample_coords(len(recs), grid)
    ds = xr.Dataset(
        {
            "alpha": (
                ("sample", "i", "j", *sp),
                alpha,
                {"units": "1/angstrom", "long_name": "Nye dislocation density tensor"},
            ),
            "cond": (("sample", "feature"), cond, {"long_name": "raw condition features (nyegan.dataset.conditions)"}),
            "case": ("sample", np.array(names, dtype=object)),
            "kind": ("sample", np.array([r["meta"]["kind"] for r in recs], dtype=object)),
            "character": ("sample", np.array([r["meta"].get("character", "") for r in recs], dtype=object)),
            "misorientation_deg": ("sample", mis, {"units": "degree"}),
            "sigma": ("sample", np.array([int(r["meta"].get("sigma", 0)) for r in recs]), {"long_name": "0: n/a"}),
            "tilt_axis": (("sample", "component"), meta_vec("axis")),
            "plane": (("sample", "component"), meta_vec("plane")),
            "distance_to_gb": (
                "sample",
                np.array([float(r["meta"].get("distance_to_gb", np.nan)) for r in recs]),
                {"units": "angstrom"},
            ),
            "burgers_box": (("sample", "component"), meta_vec("burgers_box"), {"units": "angstrom"}),
            "cell_lengths": (("sample", "axis"), np.stack([r["lengths"] for r in recs]), {"units": "angstrom"}),
            "gb_frac": (
                ("sample", "boundary"),
                np.stack([r["gb_frac"] for r in recs]),
                {"long_name": "fractional y of the two boundaries after canonical shift"},
            ),
            "has_gb": ("sample", np.array([int(r["has_gb"]) for r in recs], dtype=np.int8)),
            "content": (
                ("sample", "boundary", "component"),
                np.stack([r["content"] for r in recs]),
                {"long_name": "net Burgers content per unit boundary length of each slab", "units": "1"},
            ),
            "content_sign": ("sample", np.array([r["content_sign"] for r in recs])),
            "correspondence_angle_deg": (
                "sample",
                np.array([r["fb_angle"] for r in recs]),
                {
                    "units": "degree",
                    "long_name": "angle of the lattice correspondence (Frank-Bilby content 2 sin(angle/2))",
                },
            ),
            "masked_fraction": (
                "sample",
                np.array([r["masked_fraction"] for r in recs]),
                {"long_name": "fraction of grid nodes without atoms (alpha set to 0)"},
            ),
            "div_residual_raw": (
                "sample",
                np.array([r["div_residual_raw"] for r in recs]),
                {"long_name": "relative divergence residual before projection"},
            ),
            "split": ("sample", np.array(split, dtype=object)),
            "is_train": ("sample", (split == "train").astype(np.int8)),
            "is_validation": ("sample", (split == "validation").astype(np.int8)),
            "is_heldout": ("sample", (split == "heldout").astype(np.int8)),
            "alpha_scale": (("i", "j"), scale, {"units": "1/angstrom", "long_name": "train rms per component"}),
            "cond_mean": ("feature", cmean),
            "cond_std": ("feature", cstd),
        },
        coords=coords,
        attrs={
            "convention": "alpha = curl Ue, (curl A)_ij = eps_jkl d_k A_il; i Burgers, j line; box frame "
            "z = tilt axis / line, y = boundary normal",
            "dim": dim,
            "grid": list(grid),
            "difference_scheme": scheme,
            "projected_divfree": int(project),
            "heldout_misorientations_deg": list(heldout) if heldout else [],
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
    )
    DATASET.write(ds, out_path)
    return ds


def load_dataset(path) -> xr.Dataset:
    """Open a dataset written by ``build_dataset`` fully into memory (contract checked)."""
    return DATASET.open(path)
