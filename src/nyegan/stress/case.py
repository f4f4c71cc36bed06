"""The stress stage for one file, from files: a Nye field in, a stress netCDF (+ PNG) out; the atomistic check.

Used by ``nyegan stress`` and the workflow rules of ``workflow/rules/stress.smk``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from nyegan.io import atomic_path, read_dump, write_json
from nyegan.stress.field import ground_state, rotations_from_fields, stress_from_file
from nyegan.stress.output import plot_stress, read_stress, write_stress

COMPARISON_COLUMNS = [
    "case",
    "component",
    "correlation",
    "rmse_gpa",
    "relative_rmse",
    "offset_gpa",
    "std_atomistic_gpa",
    "std_fdm_gpa",
    "fraction_outside_cores",
]


def mean_condition(condition: str, mean_strain=None, mean_stress=None) -> dict:
    """Keyword arguments of the solve for a mean condition ('zero_stress', 'strain', 'stress'; config
    ``stress.mean_condition``) with its value (6 Voigt values or a 3x3 tensor)."""
    if condition == "zero_stress":
        return {}
    if condition == "strain":
        if mean_strain is None:
            raise ValueError("mean condition 'strain' needs mean_strain (6 Voigt values xx yy zz yz xz xy)")
        return {"mean_strain": mean_strain}
    if condition == "stress":
        if mean_stress is None:
            raise ValueError("mean condition 'stress' needs mean_stress (6 Voigt values, GPa)")
        return {"mean_stress": mean_stress}
    raise ValueError(f"mean condition {condition!r} unknown: choose zero_stress, strain or stress")


def stress_case(
    field_path,
    out_path,
    png_path=None,
    potential=None,
    element: str = "Al",
    stiffness=None,
    rotation=None,
    rotation_fields: Sequence | None = None,
    scheme: str = "auto",
    mean: Mapping | None = None,
    workers: int = 1,
    title: str | None = None,
    cubic=None,
) -> xr.Dataset:
    """Solve, write ``out_path`` (netCDF, atomically) and optionally a PNG map; returns the dataset.

    ``rotation_fields``: atomistic Nye fields whose reference lattices give the rotation of each sample's source
    case (generated / dataset files); ``mean``: from :func:`mean_condition`.
    """
    rotations = rotations_from_fields(rotation_fields) if rotation_fields else None
    ds = stress_from_file(
        field_path,
        potential=potential,
        element=element,
        stiffness=stiffness,
        rotation=rotation,
        rotations=rotations,
        scheme=scheme,
        workers=workers,
        cubic=cubic,
        **dict(mean or {}),
    )
    write_stress(ds, out_path)
    if png_path:
        with xr.open_dataset(field_path) as f:
            alpha = ground_state(f.load())["alpha"]
        plot_stress(ds, png_path, title=title or Path(field_path).stem, alpha=alpha)
    return ds


def atomistic_case(
    dump,
    field_path,
    stress_path,
    out_json,
    potential,
    element: str = "Al",
    core_radius: float = 4.0,
    core_threshold: float = 0.1,
    png_path=None,
) -> dict:
    """FDM vs LAMMPS virial stress of one relaxed cell: JSON summary (and a PNG of both fields side by side)."""
    from nyegan.stress.atomistic import compare_case

    structure = read_dump(dump)
    with xr.open_dataset(field_path) as f:
        field = ground_state(f.load())  # frame 0 of the dump: the ground state
    stress = read_stress(stress_path)
    summary, grid_sigma = compare_case(
        structure, field, stress, potential, element, radius=core_radius, threshold=core_threshold
    )
    summary["case"] = summary["case"] or Path(field_path).stem
    write_json(out_json, summary)
    if png_path:
        plot_comparison(stress, grid_sigma, field, png_path, title=summary["case"], radius=core_radius)
    return summary


def comparison_table(json_paths: Sequence, out_csv) -> list[dict]:
    """One CSV row per case and stress component from the per-case JSON summaries, written atomically."""
    rows = []
    for p in json_paths:
        summary = json.loads(Path(p).read_text())
        for r in summary["components"]:
            rows.append(
                {
                    "case": summary["case"],
                    "fraction_outside_cores": summary["fraction_outside_cores"],
                    **{k: r[k] for k in COMPARISON_COLUMNS if k in r},
                }
            )
    with atomic_path(out_csv) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COMPARISON_COLUMNS)
            w.writeheader()
            for r in rows:
                w.writerow({k: r[k] for k in COMPARISON_COLUMNS})
    return rows


def plot_comparison(stress: xr.Dataset, grid_sigma: np.ndarray, field: xr.Dataset, path, title=None, radius=4.0):
    """PNG: FDM (top) and coarse-grained virial stress (bottom) for the four in-plane-relevant components, on one
    colour scale per component; core regions outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nyegan.stress.atomistic import AXES, core_mask

    spatial = [d for d in field["alpha"].dims if d in AXES]
    fdm = np.asarray(stress["stress"].transpose("i", "j", *spatial).values, float)
    atoms = grid_sigma
    if len(spatial) == 3:
        fdm, atoms = fdm.mean(-1), atoms.mean(-1)
        spatial = spatial[:2]
    keep = core_mask(field, radius=radius)
    if keep.ndim == 3:
        keep = keep.all(-1)
    comps = [("x", "x"), ("y", "y"), ("z", "z"), ("x", "y"), ("x", "z"), ("y", "z")]
    mags = [np.nanmax(np.abs(atoms[AXES[i], AXES[j]] - np.nanmean(atoms[AXES[i], AXES[j]]))) for i, j in comps]
    order = sorted(np.argsort(mags)[::-1][:4])
    x = np.asarray(field[spatial[0]].values, float)
    y = np.asarray(field[spatial[1]].values, float)
    fig, axes = plt.subplots(2, 4, figsize=(14.5, 6.8), squeeze=False)
    for col, k in enumerate(order):
        i, j = comps[k]
        f = fdm[AXES[i], AXES[j]]
        a = atoms[AXES[i], AXES[j]]
        f = f - np.nanmean(f[keep])  # both centred on their mean outside the cores (the compared quantity)
        a = a - np.nanmean(a[keep])
        lim = float(np.nanmax(np.abs(a))) or 1.0
        for row, (vals, name) in enumerate(((f, "FDM"), (a, "virial"))):
            ax = axes[row, col]
            m = ax.pcolormesh(x, y, vals.T, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="auto")
            ax.contour(x, y, keep.T.astype(float), levels=[0.5], colors="k", linewidths=0.6)
            ax.set_aspect("equal")
            ax.set_title(f"{name} sigma_{i}{j}")
            ax.set_xlabel(f"{spatial[0]} (Å)")
            ax.set_ylabel(f"{spatial[1]} (Å)")
            fig.colorbar(m, ax=ax, label="GPa", shrink=0.8)
    if title:
        fig.suptitle(f"{title}: FDM vs coarse-grained LAMMPS virial stress, GPa, centred outside the outlined cores")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def generated_metrics_case(generated_stress, dataset_stress, generated_field, dataset_field, out_json, png_path=None):
    """Stress-field error of the generated fields against the dataset's atomistic fields (JSON, optional PNG)."""
    from nyegan.stress.metrics import generated_vs_atomistic, plot_generated_vs_atomistic

    gen, ref = read_stress(generated_stress), read_stress(dataset_stress)
    result = generated_vs_atomistic(gen, ref)
    result["inputs"] = {"generated": str(generated_stress), "reference": str(dataset_stress)}
    write_json(out_json, result)
    if png_path:
        with xr.open_dataset(generated_field) as g, xr.open_dataset(dataset_field) as d:
            plot_generated_vs_atomistic(gen, ref, g["alpha"].load(), d["alpha"].load(), png_path)
    return result
