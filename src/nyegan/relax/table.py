"""``results/gb_energies.csv`` and a plot of boundary energy vs misorientation, from the per-case relaxed JSONs."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from nyegan.contracts import RELAXED
from nyegan.io import atomic_path

COLUMNS = [
    "case",
    "axis",
    "plane",
    "sigma",
    "misorientation_deg",
    "energy_mJ_m2",
    "n_atoms",
    "translation_x",
    "translation_z",
    "deletion_cutoff",
]


def _label(v, brackets="[]") -> str:
    return brackets[0] + " ".join(str(int(round(x))) for x in v) + brackets[1] if v is not None else ""


def gb_energy_rows(json_paths) -> list[dict]:
    """One row per relaxed boundary JSON (cases without ``gb_energy_mJ_m2`` are skipped), sorted by axis, angle."""
    rows = []
    for path in json_paths:
        rec = RELAXED.read(path)
        if rec.get("gb_energy_mJ_m2") is None:
            continue
        build = rec.get("build", {})
        chosen = rec.get("chosen_state", {})
        rows.append(
            {
                "case": rec["case"],
                "axis": _label(build.get("axis")),
                "plane": _label(build.get("plane"), "()"),
                "sigma": build.get("sigma"),
                "misorientation_deg": build.get("misorientation_deg"),
                "energy_mJ_m2": round(float(rec["gb_energy_mJ_m2"]), 3),
                "n_atoms": rec["n_atoms"],
                "translation_x": round(float(chosen.get("tx", 0.0)), 6),
                "translation_z": round(float(chosen.get("tz", 0.0)), 6),
                "deletion_cutoff": round(float(chosen.get("deletion_cutoff_A", 0.0)), 6),
            }
        )
    rows.sort(key=lambda r: (r["axis"], r["misorientation_deg"] or 0.0, r["case"]))
    return rows


def write_gb_table(json_paths, csv_path: str | os.PathLike, png_path: str | os.PathLike | None = None) -> list[dict]:
    """Write the CSV (columns ``COLUMNS``; energies mJ/m², lengths Å) and, if asked, the PNG; atomically."""
    rows = gb_energy_rows(json_paths)
    with atomic_path(csv_path) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    if png_path is not None:
        plot_gb_energies(rows, png_path)
    return rows


def plot_gb_energies(rows: list[dict], png_path: str | os.PathLike) -> None:
    """Energy vs misorientation, one line per tilt axis, points labelled Σ."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for axis in sorted({r["axis"] for r in rows}):
        pts = sorted((r for r in rows if r["axis"] == axis), key=lambda r: r["misorientation_deg"] or 0.0)
        x = [r["misorientation_deg"] for r in pts]
        y = [r["energy_mJ_m2"] for r in pts]
        ax.plot(x, y, "o-", label=f"axis {axis}")
        for r in pts:
            ax.annotate(
                f"Σ{r['sigma']}",
                (r["misorientation_deg"], r["energy_mJ_m2"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
    ax.set_xlabel("misorientation (°)")
    ax.set_ylabel("boundary energy (mJ/m²)")
    ax.set_ylim(bottom=0)
    if rows:
        ax.legend()
    ax.set_title("Relaxed grain-boundary energies")
    fig.tight_layout()
    png_path = Path(png_path)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
