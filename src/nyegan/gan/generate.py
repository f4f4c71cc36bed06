"""Generate Nye fields for requested conditions into one netCDF.

Output contract (``generated.nc``): variable ``alpha`` with dims ("sample", "i", "j", "x", "y"[, "z"]),
i, j labelled "x", "y", "z", units 1/angstrom, the same curl convention as the atomistic fields. Cells
differ in size between conditions, so the shared coordinates x, y are *fractional* (cell-centred, 0..1)
and each sample carries its box lengths ``cell_lengths`` (sample, axis) in Å: the physical position of
grid point n along x is x[n] * cell_lengths[sample, 0]. Every sample also carries its condition: the
source ``case`` it was conditioned on (when taken from the dataset), ``misorientation_deg``, ``kind``,
``split``, ``gb_frac``, the raw ``cond`` vector, and ``content`` (net Burgers content per slab).
Plain ``xarray.open_dataset`` reads it.
"""

from __future__ import annotations

import json

import numpy as np
import torch
import xarray as xr

from nyegan import content as content_mod
from nyegan.contracts import GENERATED
from nyegan.dataset import load_dataset
from nyegan.dataset.assemble import MAX_CORES, sample_coords
from nyegan.dataset.conditions import condition_vector
from nyegan.gan.extrapolation import check_conditions
from nyegan.provenance import as_attr, provenance


def conditions_from_dataset(ds, splits=("heldout", "validation")) -> dict:
    """One condition per dataset sample of the given splits."""
    sel = np.isin(ds["split"].values.astype(str), list(splits))
    if not sel.any():
        raise ValueError(
            f"no dataset samples in splits {list(splits)}; choose among {sorted(set(ds['split'].values.astype(str)))}"
        )
    dim = int(ds.attrs["dim"])
    return dict(
        case=ds["case"].values[sel].astype(str),
        kind=ds["kind"].values[sel].astype(str),
        split=ds["split"].values[sel].astype(str),
        misorientation_deg=ds["misorientation_deg"].values[sel],
        cond=ds["cond"].values[sel],
        cell_lengths=ds["cell_lengths"].values[sel],
        gb_frac=ds["gb_frac"].values[sel],
        cores=ds["cores"].values[sel],
        dim=dim,
    )


def conditions_from_requests(requests: list[dict], ds) -> dict:
    """Conditions from build-metadata-like dicts (keys of the structures JSON contract; ``cell`` or
    ``cell_lengths`` required; ``gb_y`` in Å or boundaries at 1/4 and 3/4 by default)."""
    sign = float(ds.attrs.get("frank_bilby_sign", 1.0))
    rows = []
    for k, r in enumerate(requests):
        if "cell_lengths" in r:
            L = np.asarray(r["cell_lengths"], float)
        elif "cell" in r:
            L = np.abs(np.diag(np.asarray(r["cell"], float)))
        else:
            raise ValueError(f"request {k}: give 'cell_lengths' [Lx, Ly, Lz] (Å) or 'cell' (3x3 rows)")
        if "kind" not in r:
            raise ValueError(f"request {k}: 'kind' missing (gb | dislocation | gb_dislocation)")
        gb = np.array([0.25, 0.75])
        y_shift = 0.0
        if "gb_y" in r:
            raw = np.mod(np.asarray(r["gb_y"], float) / L[1], 1.0)
            y_shift = raw[0] - 0.25
            gb = np.array([0.25, 0.25 + (raw[1] - raw[0]) % 1.0])
        has_gb = r.get("kind") in ("gb", "gb_dislocation")
        cores = np.full((MAX_CORES, 3), np.nan)
        for c, d in enumerate((r.get("dislocations") or [])[:MAX_CORES]):
            cores[c] = (np.mod(d["position"][0] / L[0], 1.0), np.mod(d["position"][1] / L[1] - y_shift, 1.0),
                        float(d.get("sign", 1)))  # fmt: skip
        rows.append(
            (
                r.get("case", f"request{k}"),
                r["kind"],
                "requested",
                float(r.get("misorientation_deg", np.nan)),
                condition_vector(r, L, gb if has_gb else None, sign, dim=int(ds.attrs["dim"])),
                L,
                gb,
                cores,
            )
        )
    cols = list(zip(*rows))
    return dict(
        case=np.array(cols[0]),
        kind=np.array(cols[1]),
        split=np.array(cols[2]),
        misorientation_deg=np.array(cols[3]),
        cond=np.stack(cols[4]),
        cell_lengths=np.stack(cols[5]),
        gb_frac=np.stack(cols[6]),
        cores=np.stack(cols[7]),
        dim=int(ds.attrs["dim"]),
    )


@torch.no_grad()
def generate(
    ckpt_path,
    dataset_path,
    out_path,
    n_per_condition: int = 8,
    splits=("heldout", "validation"),
    requests: list[dict] | None = None,
    seed: int = 0,
    batch_size: int = 64,
    allow_extrapolation: bool = False,
    temperature: float = 1.0,
) -> xr.Dataset:
    """Generate ``n_per_condition`` fields per condition and write ``out_path`` atomically.

    Conditions outside the training range of ``dataset_path`` (``nyegan.gan.extrapolation``) are refused with
    the range stated, unless ``allow_extrapolation``; then they are generated and listed in the output's attr
    ``extrapolated``. The checkpoint must have been trained on the dataset's grid. ``temperature`` scales the
    model's random draws (see ``gan.temperature``)."""
    from nyegan.gan.train import load_model

    if n_per_condition < 1:
        raise ValueError(f"n_per_condition = {n_per_condition} must be >= 1")
    if not temperature >= 0:
        raise ValueError(f"temperature = {temperature} must be >= 0 (1: as trained, 0: no randomness)")
    ds = load_dataset(dataset_path)
    model = load_model(ckpt_path)
    check_model_grid(model, ds, ckpt_path, dataset_path)
    conds = conditions_from_requests(requests, ds) if requests else conditions_from_dataset(ds, splits)
    extrapolated = check_conditions(conds, ds, allow=allow_extrapolation)
    dim = conds["dim"]
    rep = np.repeat(np.arange(len(conds["case"])), n_per_condition)
    cond = torch.as_tensor(conds["cond"][rep], dtype=torch.float32)
    L = torch.as_tensor(conds["cell_lengths"][rep, :dim], dtype=torch.float32)
    gbf = torch.as_tensor(conds["gb_frac"][rep], dtype=torch.float32)
    cores = torch.as_tensor(conds["cores"][rep], dtype=torch.float32)
    out = []
    for k, s in enumerate(range(0, len(rep), batch_size)):
        sl = slice(s, s + batch_size)
        out.append(model.sample(cond[sl], L[sl], gbf[sl], cores[sl], seed=seed + k, temperature=temperature).double())
    alpha = torch.cat(out)
    cont = content_mod.slab_content(alpha, gbf.double(), L[:, 1].double(), dim).numpy()
    grid = alpha.shape[3:]
    sp = ["x", "y", "z"][:dim]
    coords = sample_coords(len(rep), grid)
    res = xr.Dataset(
        {
            "alpha": (
                ("sample", "i", "j", *sp),
                alpha.numpy().astype(np.float32),
                {"units": "1/angstrom", "long_name": "generated Nye dislocation density tensor"},
            ),
            "case": ("sample", conds["case"][rep].astype(object)),
            "kind": ("sample", conds["kind"][rep].astype(object)),
            "split": ("sample", conds["split"][rep].astype(object)),
            "misorientation_deg": ("sample", conds["misorientation_deg"][rep], {"units": "degree"}),
            "cell_lengths": (("sample", "axis"), conds["cell_lengths"][rep], {"units": "angstrom"}),
            "gb_frac": (("sample", "boundary"), conds["gb_frac"][rep]),
            "cores": (("sample", "core", "core_field"), conds["cores"][rep]),
            "cond": (("sample", "feature"), conds["cond"][rep]),
            "content": (("sample", "boundary", "component"), cont, {"units": "1"}),
        },
        coords=coords,
        attrs={
            "convention": ds.attrs["convention"],
            "difference_scheme": ds.attrs["difference_scheme"],
            "dim": dim,
            "physics": model.hp.physics,
            "checkpoint": str(ckpt_path),
            "coordinates_note": "x, y fractional; physical position = x * cell_lengths[sample, 0] (Å)",
            "reference": "generated by the conditional GAN (nyegan.gan)",
            "seed": seed,
            "temperature": float(temperature),
            "extrapolated": json.dumps(extrapolated),
            "provenance": as_attr(
                provenance(
                    "gan",
                    dict(
                        n_per_condition=n_per_condition,
                        splits=list(splits),
                        seed=seed,
                        batch_size=batch_size,
                        allow_extrapolation=allow_extrapolation,
                        temperature=temperature,
                        requests=requests,
                    ),
                    inputs=[ckpt_path, dataset_path],
                )
            ),  # fmt: skip
        },
    )
    GENERATED.write(res, out_path)
    return res


def check_model_grid(model, ds, ckpt_path, dataset_path) -> None:
    """The model must generate on the dataset's grid (dimension and node counts), else ValueError naming both."""
    grid = tuple(int(g) for g in ds.attrs["grid"])
    if tuple(model.grid) != grid or int(model.dim) != int(ds.attrs["dim"]):
        raise ValueError(
            f"checkpoint {ckpt_path} was trained on a {model.dim}D grid {list(model.grid)}, but dataset {dataset_path} "
            f"holds {int(ds.attrs['dim'])}D fields on {list(grid)}: generate with the dataset the model was trained "
            f"on, or retrain on this one"
        )
    n_cond = int(model.cond_mean.numel()) if hasattr(model, "cond_mean") else None
    if n_cond is not None and n_cond != int(ds.sizes["feature"]):
        raise ValueError(
            f"checkpoint {ckpt_path} was trained with {n_cond} condition features, but dataset {dataset_path} has "
            f"{int(ds.sizes['feature'])} (another nyegan version): retrain the model on this dataset"
        )
