"""Stress-field error of generated Nye fields against the atomistic fields of their source cases.

Both inputs are stress files with a ``sample`` dim on the dataset's common grid: the FDM stress of the generated
file (``results/gan/generated.nc``) and that of the dataset (``results/dataset.nc``, the atomistic fields
resampled, shifted and projected exactly as the generator saw them), so sample k of the generated file is compared
with the dataset sample of the same ``case``, node by node. Both carry the same cell-average convention.

Per case and stress component c (xx yy zz xy xz yz), with rms taken over the grid nodes:
- ``relative_rmse``: mean over the generated samples of rms(sigma_gen,c - sigma_ref,c) / s_ref,
- ``relative_rmse_of_mean``: rms(<sigma_gen,c> - sigma_ref,c) / s_ref for the ensemble mean <.> over the samples,
- ``amplitude_ratio``: rms(sigma_gen,c) / rms(sigma_ref,c), averaged over the samples,
with s_ref = sqrt(sum_c rms(sigma_ref,c)^2) the overall stress scale of the reference (so small components do not
blow up); plus the ratio of elastic energies. ``overall`` averages the cases.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

COMPONENTS = [("x", "x"), ("y", "y"), ("z", "z"), ("x", "y"), ("x", "z"), ("y", "z")]


def _rms(a: np.ndarray, axes) -> np.ndarray:
    return np.sqrt(np.nanmean(a**2, axis=axes))


def generated_vs_atomistic(generated: xr.Dataset, reference: xr.Dataset) -> dict:
    """Per-case stress errors (see module doc) of a generated stress file against the dataset's stress file."""
    for name, ds in (("generated", generated), ("reference", reference)):
        if "sample" not in ds["stress"].dims or "case" not in ds:
            raise ValueError(f"{name} stress file needs a 'sample' dim and a 'case' variable (dataset/generated)")
    spatial = [d for d in ("x", "y", "z") if d in generated["stress"].dims]
    if [generated.sizes[d] for d in spatial] != [reference.sizes.get(d) for d in spatial]:
        raise ValueError(
            f"grids differ: generated {[generated.sizes[d] for d in spatial]} vs reference "
            f"{[reference.sizes.get(d) for d in spatial]}: compare fields on the dataset's common grid"
        )
    gen_cases = np.asarray(generated["case"].values).astype(str)
    ref_cases = np.asarray(reference["case"].values).astype(str)
    axes = tuple(range(1, 1 + len(spatial)))
    per_case = {}
    for case in sorted(set(gen_cases)):
        if case not in ref_cases:
            continue
        k_ref = int(np.flatnonzero(ref_cases == case)[0])
        ref = reference["stress"].isel(sample=k_ref).transpose("i", "j", *spatial)
        gen = generated["stress"].isel(sample=np.flatnonzero(gen_cases == case)).transpose("sample", "i", "j", *spatial)
        r = np.stack([ref.sel(i=i, j=j).values for i, j in COMPONENTS])  # (6, *grid)
        g = np.stack([gen.sel(i=i, j=j).values for i, j in COMPONENTS], axis=1)  # (n, 6, *grid)
        rms_r = _rms(r, axes)
        scale = float(np.sqrt((rms_r**2).sum())) or 1.0
        err = _rms(g - r[None], tuple(a + 1 for a in axes)) / scale  # (n, 6)
        err_mean = _rms(g.mean(axis=0) - r, axes) / scale
        amp = _rms(g, tuple(a + 1 for a in axes)).mean(axis=0) / np.where(rms_r > 0, rms_r, np.nan)
        e_ref = float(reference["elastic_energy"].values[k_ref])
        e_gen = np.asarray(generated["elastic_energy"].values)[gen_cases == case]
        per_case[case] = {
            "n_samples": int(len(g)),
            "stress_scale_gpa": scale,
            "components": {
                i + j: {
                    "relative_rmse": float(err[:, c].mean()),
                    "relative_rmse_of_mean": float(err_mean[c]),
                    "amplitude_ratio": float(amp[c]),
                    "rms_reference_gpa": float(rms_r[c]),
                }
                for c, (i, j) in enumerate(COMPONENTS)
            },
            "relative_rmse_all_components": float(np.sqrt((err**2).sum(axis=1)).mean()),
            "elastic_energy_ratio": float(e_gen.mean() / e_ref) if e_ref > 0 else float("nan"),
        }
    if not per_case:
        raise ValueError("no generated sample has a source case in the reference stress file")
    overall = {
        "relative_rmse_all_components": float(np.mean([v["relative_rmse_all_components"] for v in per_case.values()])),
        "elastic_energy_ratio": float(np.nanmean([v["elastic_energy_ratio"] for v in per_case.values()])),
    }
    return {"cases": per_case, "overall": overall, "mean_condition": str(generated.attrs.get("mean_condition", ""))}


def plot_generated_vs_atomistic(
    generated: xr.Dataset, reference: xr.Dataset, alpha_gen: xr.DataArray, alpha_ref: xr.DataArray, path, n_cases=3
):
    """PNG: per case (rows), the largest alpha component and the largest stress component, generated (first
    sample of the case) beside atomistic; physical axes in Å."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nyegan.io import atomic_path

    gen_cases = np.asarray(generated["case"].values).astype(str)
    ref_cases = list(np.asarray(reference["case"].values).astype(str))
    cases = [c for c in dict.fromkeys(gen_cases) if c in ref_cases][:n_cases]
    if not cases:
        raise ValueError("no generated sample has a source case in the reference stress file")
    spatial = ["x", "y"]
    fig, axes = plt.subplots(len(cases), 4, figsize=(14, 3.4 * len(cases)), squeeze=False)
    for row, case in enumerate(cases):
        kg = int(np.flatnonzero(gen_cases == case)[0])
        kr = ref_cases.index(case)
        L = np.asarray(reference["cell_lengths"].values[kr], float)
        x = np.asarray(reference["x"].values) * L[0]
        y = np.asarray(reference["y"].values) * L[1]

        def take(da, k):
            d = da.isel(sample=k)
            return d.mean("z") if "z" in d.dims else d

        a_r, a_g = take(alpha_ref, kr), take(alpha_gen, kg)
        s_r, s_g = take(reference["stress"], kr), take(generated["stress"], kg)
        ka = int(np.argmax(np.abs(a_r.transpose("i", "j", *spatial).values).reshape(9, -1).max(1)))
        ks = int(np.argmax(np.abs(s_r.transpose("i", "j", *spatial).values).reshape(9, -1).max(1)))
        for col, (da, k, label, unit) in enumerate(
            ((a_g, ka, "alpha generated", "1/Å"), (a_r, ka, "alpha atomistic", "1/Å"))
            + ((s_g, ks, "sigma generated", "GPa"), (s_r, ks, "sigma atomistic", "GPa"))
        ):
            i, j = "xyz"[k // 3], "xyz"[k % 3]
            vals = np.asarray(da.sel(i=i, j=j).transpose(*spatial).values, float)
            ref_vals = a_r if col < 2 else s_r
            lim = float(np.nanmax(np.abs(ref_vals.sel(i=i, j=j).values))) or 1.0
            ax = axes[row, col]
            m = ax.pcolormesh(x, y, vals.T, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="auto")
            ax.set_aspect("equal")
            ax.set_title(f"{case}\n{label} {i}{j}", fontsize=9)
            ax.set_xlabel("x (Å)")
            ax.set_ylabel("y (Å)")
            fig.colorbar(m, ax=ax, label=unit, shrink=0.8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
