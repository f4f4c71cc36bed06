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


# attrs that change from frame to frame: stored as variables along ``time`` in a trajectory file
PER_FRAME_JSON = ("burgers_content", "detected_geometry", "reference")
PER_FRAME_NUMBERS = ("correspondence_angle_deg", "n_atoms", "n_atoms_unmatched", "div_alpha_relative_residual")
PER_FRAME_VECTORS = {"cell": 9, "origin": 3}


def frame_as_field(ds: xr.Dataset, index: int = 0) -> xr.Dataset:
    """Frame ``index`` of a series file (:class:`FieldSeriesWriter`: a ``state`` or ``time`` dimension) as a single
    Nye field: its per-frame JSON strings, numbers and box back as attributes, as a one-frame file has them, and
    the frame's rank or timestep as the attribute of that name. Any other dataset is returned unchanged."""
    dim = next((d for d in FieldSeriesWriter.FRAME_DIMS if d in ds.dims), None)
    if dim is None:
        return ds
    out = ds.isel({dim: index})
    attrs = dict(out.attrs)
    for name in PER_FRAME_JSON:
        if name in out:
            attrs[name] = str(out[name].values.item())
    for name in PER_FRAME_NUMBERS:
        if name in out:
            attrs[name] = float(out[name].values)
    for name in PER_FRAME_VECTORS:
        if name in out:
            attrs[name] = np.asarray(out[name].values, dtype=float).ravel().tolist()
    attrs[dim] = int(out[dim].values)
    out = out.drop_vars([n for n in (*PER_FRAME_JSON, *PER_FRAME_NUMBERS, *PER_FRAME_VECTORS) if n in out])
    out.attrs = attrs
    return out


class FieldSeriesWriter:
    """Appends one Nye field per frame to a netCDF4 file with an unlimited ``time`` dim (the LAMMPS timestep as
    its coordinate), so a trajectory is written frame by frame and never held in memory.

    Variables: ``alpha(time, i, j, *spatial)``, ``mask(time, *spatial)``, ``time(time)`` (timestep),
    ``frame(time)`` (index in the input), per-frame JSON strings (``burgers_content``, ``detected_geometry``,
    ``reference``), numbers (``correspondence_angle_deg``, ``n_atoms``, ``n_atoms_unmatched``,
    ``div_alpha_relative_residual``) and the box (``cell(time, cell_component)``, ``origin(time, component)``).
    Global attrs: those of the first frame minus the per-frame ones, plus ``n_frames``. Every frame must have
    the grid of the first (same dims and sizes); node coordinates are those of the first frame's box. Data
    variables carry Fletcher-32 checksums, as the contract writers' do.
    """

    FRAME_DIMS = {"time": "LAMMPS timestep of the frame", "state": "rank of the microstate (0 = lowest energy)"}

    def __init__(self, path: str | os.PathLike, frame_dim: str = "time", labels: dict | None = None):
        """``frame_dim``: "time" (trajectories: coordinate = timestep) or "state" (microstate ensembles of the
        relaxation stage: coordinate = rank); ``labels``: {name: {"units": ..., "long_name": ...}} of extra
        per-frame numbers given to :meth:`append` (e.g. the boundary energy and temperature of each state)."""
        if frame_dim not in self.FRAME_DIMS:
            raise ValueError(f"frame_dim must be one of {sorted(self.FRAME_DIMS)}, got {frame_dim!r}")
        self.path = Path(path)
        self.dim = frame_dim
        self.labels = dict(labels or {})
        self.nc = None
        self.count = 0
        self.shape = None

    def _create(self, ds: xr.Dataset) -> None:
        import netCDF4

        nc = netCDF4.Dataset(self.path, "w", format="NETCDF4")
        spatial = [d for d in ("x", "y", "z") if d in ds["alpha"].dims]
        nc.createDimension(self.dim, None)
        for d in ("i", "j"):
            nc.createDimension(d, 3)
            v = nc.createVariable(d, str, (d,))
            for k, name in enumerate(("x", "y", "z")):
                v[k] = name
        for d in spatial:
            nc.createDimension(d, ds.sizes[d])
            v = nc.createVariable(d, "f8", (d,))
            v[:] = ds[d].values
            v.setncatts({k: val for k, val in ds[d].attrs.items()})
        nc.createDimension("cell_component", 9)
        nc.createDimension("component", 3)
        t = nc.createVariable(self.dim, "i8", (self.dim,), fletcher32=True)
        t.setncatts({"long_name": self.FRAME_DIMS[self.dim], "units": "1"})
        frame = nc.createVariable("frame", "i8", (self.dim,), fletcher32=True)
        frame.long_name = "frame index in the input file (from 0)"
        for name, meta in self.labels.items():
            nc.createVariable(name, "f8", (self.dim,), fletcher32=True).setncatts(meta)
        a = nc.createVariable("alpha", "f8", (self.dim, "i", "j", *spatial), zlib=True, complevel=1, fletcher32=True)
        a.setncatts(dict(ds["alpha"].attrs))
        m = nc.createVariable("mask", "i1", (self.dim, *spatial), fletcher32=True)
        m.setncatts(dict(ds["mask"].attrs))
        for name in PER_FRAME_JSON:
            nc.createVariable(name, str, (self.dim,)).long_name = f"per-frame {name} (JSON)"
        for name in PER_FRAME_NUMBERS:
            nc.createVariable(name, "f8", (self.dim,), fletcher32=True)
        nc.createVariable("cell", "f8", (self.dim, "cell_component"), fletcher32=True).units = "angstrom"
        nc.createVariable("origin", "f8", (self.dim, "component"), fletcher32=True).units = "angstrom"
        skip = set(PER_FRAME_JSON) | set(PER_FRAME_NUMBERS) | set(PER_FRAME_VECTORS)
        for k, v in ds.attrs.items():
            if k not in skip:
                nc.setncattr(k, v if not isinstance(v, bool) else int(v))
        nc.setncattr("nyegan_format", NYE_FIELD.name)
        nc.setncattr("nyegan_format_version", NYE_FIELD.version)
        self.nc, self.spatial, self.shape = nc, spatial, ds["alpha"].shape

    def append(self, ds: xr.Dataset, timestep: int, frame: int | None = None, labels: dict | None = None) -> None:
        if self.nc is None:
            self._create(ds)
        elif ds["alpha"].shape != self.shape:
            raise ValueError(
                f"frame at timestep {timestep}: field shape {ds['alpha'].shape} differs from the first frame's "
                f"{self.shape}; a trajectory must keep one grid (fixed node counts)"
            )
        k, nc = self.count, self.nc
        nc[self.dim][k] = int(timestep)
        for name in self.labels:
            nc[name][k] = float((labels or {}).get(name, np.nan))
        nc["frame"][k] = int(self.count if frame is None else frame)
        nc["alpha"][k] = ds["alpha"].transpose("i", "j", *self.spatial).values
        nc["mask"][k] = ds["mask"].transpose(*self.spatial).values
        for name in PER_FRAME_JSON:
            nc[name][k] = str(ds.attrs.get(name, "null"))
        for name in PER_FRAME_NUMBERS:
            nc[name][k] = float(ds.attrs.get(name, np.nan))
        for name in PER_FRAME_VECTORS:
            nc[name][k, :] = np.asarray(ds.attrs[name], float).ravel()
        self.count += 1

    def close(self) -> None:
        if self.nc is not None:
            self.nc.setncattr("n_frames", self.count)
            self.nc.close()
            self.nc = None


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
    """One summary-table row: net Burgers content (boundary content per length, or |b| per core, averaged); of the
    first frame (the lowest-energy state) for an ensemble or trajectory file."""
    ds = frame_as_field(ds, 0)
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
