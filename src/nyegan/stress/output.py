"""Stress-field files: the declared contract, the dataset builder, atomic netCDF writer/reader and PNG maps.

One netCDF per Nye field (or per generated/dataset file, with a leading ``sample`` dim), readable with plain
``xarray.open_dataset``; its variables and attributes are declared once in ``nyegan.contracts.STRESS``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

from nyegan.contracts import STRESS
from nyegan.elasticity import tensor_to_voigt
from nyegan.io import atomic_path
from nyegan.stress.mean import CONVENTION as MEAN_TEXT

CONVENTION = (
    "Spectral Field Dislocation Mechanics (Berbenni et al. 2014): Ue = U_perp + grad u + E with curl U_perp = alpha "
    "((curl A)_ij = eps_jkl d_k A_il, i Burgers, j line), U_perp orthogonal to discrete gradients and zero mean, "
    "u periodic from discrete equilibrium d_j sigma_ij = 0 (divergence = adjoint of the difference gradient), E the "
    "imposed cell-average elastic strain; sigma = C : sym(Ue), homogeneous C of the reference lattice in the box "
    "frame; energy density w = sigma : sym(Ue) / 2. Box frame: z = tilt axis / line, y = boundary normal."
)

STRESS_LABELS = ["x", "y", "z"]


def build_stress_dataset(
    results: list,
    spatial: list[str],
    coords: dict,
    sample: bool,
    attrs: dict,
    energies: list[float],
    div_residuals: list[float],
    mask: np.ndarray | None = None,
    extra: dict | None = None,
) -> xr.Dataset:
    """Dataset in the stress contract from per-sample :class:`~nyegan.stress.solve.FDMSolution` ``results``.

    ``coords``: spatial coordinates (name -> DataArray or values) and, for sample files, ``sample``;
    ``extra``: more data variables copied as they are (per-sample metadata of generated fields).
    """

    def stack(values):
        return np.stack(values) if sample else values[0]

    if mask is not None:
        bad = mask == 0
        for r in results:  # the periodic solve ignores free surfaces: no stress reported there
            r.distortion[:, :, bad] = np.nan
            r.stress_voigt[:, bad] = np.nan
            r.energy_density[bad] = np.nan
    values = {
        "stress": stack([r.stress for r in results]),
        "elastic_distortion": stack([r.distortion for r in results]),
        "energy_density": stack([r.energy_density for r in results]),
        "elastic_energy": stack([np.float64(e) for e in energies]),
        "div_stress_residual": stack([np.float64(v) for v in div_residuals]),
        "alpha_incompatibility_residual": stack([np.float64(r.incompatibility_residual) for r in results]),
        "stiffness_voigt": stack([tensor_to_voigt(r.stiffness) for r in results]),
        "mean_strain": stack([r.mean_strain for r in results]),
        "mean_stress": stack([r.mean_stress for r in results]),
    }
    data = {}
    for var in STRESS.variables:
        meta = {"long_name": var.description} | ({"units": var.units} if var.units else {})
        dims = (("sample",) if sample else ()) + var.dims + (tuple(spatial) if var.spatial else ())
        data[var.name] = (dims, values[var.name], meta)
    if mask is not None:
        data["mask"] = (tuple(spatial), mask.astype(np.int8), {"long_name": "1 where the Nye field is defined"})
    data.update(extra or {})
    all_coords = {"i": STRESS_LABELS, "j": STRESS_LABELS, "voigt_row": list(range(6)), "voigt_col": list(range(6))}
    all_coords.update(coords)
    ds = xr.Dataset(data, coords=all_coords)
    keys = {r.mean_convention for r in results}
    ds.attrs.update(
        {
            "convention": CONVENTION,
            "difference_scheme": results[0].scheme,
            "mean_condition": ",".join(sorted(keys)),
            "mean_condition_text": "; ".join(MEAN_TEXT[k] for k in sorted(keys)),
            "energy_units": "energy_density eV/angstrom^3 (x 160.2177 = GPa); elastic_energy "
            + ("eV per angstrom along the averaged axis" if len(spatial) == 2 else "eV"),
            "dim": len(spatial),
        }
    )
    ds.attrs.update(attrs)
    ds["elastic_energy"].attrs["units"] = "eV/angstrom" if len(spatial) == 2 else "eV"
    return STRESS.check(STRESS.stamp(ds), "stress dataset")


def write_stress(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write a stress dataset as netCDF4, atomically, checked against the stress contract
    (``nyegan.contracts.STRESS``)."""
    STRESS.write(ds, path)


def read_stress(path: str | os.PathLike) -> xr.Dataset:
    """Read (fully into memory) and check a stress file."""
    return STRESS.open(path)


def plot_stress(ds: xr.Dataset, path, sample: int = 0, title: str | None = None, alpha: xr.DataArray | None = None):
    """PNG map of the six stress components (GPa; 3D fields averaged along z), one diverging scale per panel;
    with ``alpha`` (the Nye field) its largest component is shown beside them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = ds["stress"]
    if "sample" in s.dims:
        s = s.isel(sample=sample)
    spatial = [d for d in ("x", "y", "z") if d in s.dims]
    if len(spatial) == 3:
        s = s.mean("z")
        spatial = ["x", "y"]
    axes_len = None
    if "cell_lengths" in ds and "sample" in ds["cell_lengths"].dims:  # fractional coordinates
        axes_len = np.asarray(ds["cell_lengths"].isel(sample=sample).values, float)
    comps = [("x", "x"), ("y", "y"), ("z", "z"), ("x", "y"), ("x", "z"), ("y", "z")]
    n_cols = 4 if alpha is not None else 3
    fig, axes = plt.subplots(2, n_cols, figsize=(3.6 * n_cols, 6.8), squeeze=False)

    def coord(name):
        c = np.asarray(s[name].values, float)
        if axes_len is not None:
            c = c * axes_len["xyz".index(name)]
        return c

    def panel(ax, values, label, unit):
        lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        lim = lim or 1.0
        m = ax.pcolormesh(
            coord(spatial[0]), coord(spatial[1]), values.T, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="auto"
        )
        ax.set_aspect("equal")
        ax.set_title(label)
        ax.set_xlabel(f"{spatial[0]} (Å)")
        ax.set_ylabel(f"{spatial[1]} (Å)")
        fig.colorbar(m, ax=ax, label=unit, shrink=0.8)

    for k, (i, j) in enumerate(comps):
        ax = axes[k // 3, k % 3]
        panel(ax, np.asarray(s.sel(i=i, j=j).transpose(*spatial).values), f"sigma_{i}{j}", "GPa")
    if alpha is not None:
        a = alpha.isel(sample=sample) if "sample" in alpha.dims else alpha
        if "z" in a.dims and len(spatial) == 2 and "z" not in s.dims:
            a = a.mean("z")
        mags = np.nan_to_num(np.abs(a.values)).reshape(9, -1).max(axis=1)
        k = int(np.argmax(mags))
        i, j = "xyz"[k // 3], "xyz"[k % 3]
        panel(axes[0, 3], np.asarray(a.sel(i=i, j=j).transpose(*spatial).values), f"alpha_{i}{j}", "1/Å")
        w = ds["energy_density"]
        w = w.isel(sample=sample) if "sample" in w.dims else w
        if "z" in w.dims and len(spatial) == 2:
            w = w.mean("z")
        ax = axes[1, 3]
        m = ax.pcolormesh(
            coord(spatial[0]), coord(spatial[1]), np.asarray(w.transpose(*spatial).values).T, cmap="magma"
        )
        ax.set_aspect("equal")
        ax.set_title("energy density")
        ax.set_xlabel(f"{spatial[0]} (Å)")
        fig.colorbar(m, ax=ax, label="eV/Å³", shrink=0.8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def stiffness_source(info: dict | None, rotations: dict | None) -> str:
    """JSON text for the ``stiffness_source`` attribute."""
    if info is None:
        return "explicit"
    out = dict(info)
    if rotations:
        out["rotation_crystal_to_box"] = {k: np.round(np.asarray(v), 10).tolist() for k, v in rotations.items()}
    return json.dumps(out)


__all__ = [
    "CONVENTION",
    "build_stress_dataset",
    "write_stress",
    "read_stress",
    "plot_stress",
    "stiffness_source",
]
