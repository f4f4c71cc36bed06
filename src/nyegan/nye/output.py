"""Writers for Nye fields: netCDF (atomic), per-atom LAMMPS dump for OVITO, summary CSV, PNG maps."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

from nyegan.contracts import NYE_FIELD
from nyegan.io import atomic_path, write_dump
from nyegan.structure import Structure

SUMMARY_COLUMNS = [
    "case",
    "kind",
    "n_regions",
    "net_burgers_content",
    "max_abs_alpha_per_angstrom",
    "div_alpha_relative_residual",
    "correspondence_angle_deg",
    "n_atoms",
    "n_atoms_unmatched",
]


def write_field(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write a Nye field as netCDF4 (readable by plain ``xarray.open_dataset``), atomically, checked against the
    Nye-field contract (``nyegan.contracts.NYE_FIELD``)."""
    NYE_FIELD.write(ds, path)


def read_field(path: str | os.PathLike) -> xr.Dataset:
    """Read a Nye field written by :func:`write_field` (contract checked)."""
    return NYE_FIELD.open(path)


def write_atom_dump(path, structure: Structure, atoms: dict) -> None:
    """LAMMPS dump with per-atom G (c_G[1..9], row-major), alpha interpolated from the grid (alpha[1..9]),
    matched-bond count and usable flag, for OVITO."""
    extra = {
        "G": atoms["G"].reshape(-1, 9),
        "alpha": np.nan_to_num(atoms["alpha"].reshape(-1, 9)),
        "n_matched": atoms["n_matched"].astype(float),
        "ok": atoms["ok"].astype(float),
    }
    s = structure.copy(grain=atoms.get("grain", structure.grain), extra=extra)
    write_dump(path, s, columns=["G", "alpha", "n_matched", "ok"])


def summary_row(case: str, ds: xr.Dataset) -> dict:
    """One summary-table row: net Burgers content (boundary content per length, or |b| per core, averaged)."""
    content = json.loads(ds.attrs.get("burgers_content", "[]"))
    kind = content[0]["kind"] if content else "none"
    mags = [e["magnitude"] for e in content]
    return {
        "case": case,
        "kind": kind,
        "n_regions": len(content),
        "net_burgers_content": float(np.mean(mags)) if mags else 0.0,
        "max_abs_alpha_per_angstrom": float(np.nanmax(np.abs(ds["alpha"].values))),
        "div_alpha_relative_residual": float(ds.attrs.get("div_alpha_relative_residual", np.nan)),
        "correspondence_angle_deg": float(ds.attrs.get("correspondence_angle_deg", 0.0)),
        "n_atoms": int(ds.attrs.get("n_atoms", 0)),
        "n_atoms_unmatched": int(ds.attrs.get("n_atoms_unmatched", 0)),
    }


def write_summary(path, fields: dict[str, str | os.PathLike | xr.Dataset]) -> list[dict]:
    """CSV table (one row per case) from {case: netCDF path or Dataset}, written atomically."""
    rows = []
    for case, item in fields.items():
        ds = item if isinstance(item, xr.Dataset) else read_field(item)
        rows.append(summary_row(case, ds))
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
            w.writeheader()
            w.writerows(rows)
    return rows


def plot_field(ds: xr.Dataset, path, components=None, title: str | None = None) -> None:
    """PNG map of the main components of alpha (2D fields, or 3D averaged along z), diverging colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = ds["alpha"]
    spatial = [d for d in ("x", "y", "z") if d in a.dims]
    if len(spatial) == 3:
        a = a.mean("z")
        spatial = ["x", "y"]
    if components is None:
        mags = np.nan_to_num(np.abs(a.values)).reshape(9, -1).max(axis=1)
        order = np.argsort(mags)[::-1][:3]
        components = [("xyz"[k // 3], "xyz"[k % 3]) for k in sorted(order)]
    fig, axes = plt.subplots(1, len(components), figsize=(4.2 * len(components), 4.0), squeeze=False)
    for ax, (i, j) in zip(axes[0], components):
        f = a.sel(i=i, j=j).transpose(spatial[1], spatial[0])
        lim = float(np.nanmax(np.abs(f.values))) or 1.0
        m = ax.pcolormesh(f[spatial[0]], f[spatial[1]], f.values, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="auto")
        ax.set_aspect("equal")
        ax.set_title(f"alpha_{i}{j}")
        ax.set_xlabel(f"{spatial[0]} (Å)")
        ax.set_ylabel(f"{spatial[1]} (Å)")
        fig.colorbar(m, ax=ax, label="1/Å", shrink=0.8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
