"""``results/gb_energies.csv`` and ``.png``: boundary energy γ (mJ/m²) vs misorientation, from the relaxed JSONs.

One CSV row per boundary: its ground-state γ (the lowest over the search), the number of kept metastable states
(``relax.ensemble.states``) and their γ range, the number of MD snapshots, and the chosen translation / deletion.
The figure has one panel per tilt axis and one for twist boundaries (a line per twist axis): γ of the ground
state against the misorientation, a bar from it up to the highest kept metastable state (the spread of the
boundary's microstate ensemble; MD snapshots are left out of the figure, their count is in the CSV), and the
Σ3 and Σ11 cusps labelled with their planes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from nyegan.contracts import RELAXED
from nyegan.io import atomic_path

COLUMNS = [
    "case",
    "boundary_type",
    "axis",
    "plane",
    "sigma",
    "misorientation_deg",
    "energy_mJ_m2",
    "n_kept_states",
    "kept_energy_min_mJ_m2",
    "kept_energy_max_mJ_m2",
    "n_md_snapshots",
    "n_atoms",
    "translation_x",
    "translation_z",
    "deletion_cutoff",
]
CUSPS = (3, 11)  # Σ of the <110> tilt cusps labelled on the figure
# misorientation range shown per tilt axis (degrees): the angles that give distinct symmetric tilt boundaries
AXIS_RANGE = {"[0 0 1]": 90.0, "[1 1 0]": 180.0, "[1 1 1]": 60.0}


def _label(v, brackets="[]") -> str:
    return brackets[0] + " ".join(str(int(round(x))) for x in v) + brackets[1] if v is not None else ""


def _round(v, nd=3):
    return round(float(v), nd) if v is not None else None


def gb_energy_rows(json_paths) -> list[dict]:
    """One row per relaxed boundary JSON (cases without ``gb_energy_mJ_m2`` are skipped), sorted by boundary type,
    axis, angle. Energies in mJ/m², translations and the deletion cutoff in Å."""
    rows = []
    for path in json_paths:
        rec = RELAXED.read(path)
        if rec.get("gb_energy_mJ_m2") is None:
            continue
        build = rec.get("build", {})
        chosen = rec.get("chosen_state", {})
        ensemble = rec.get("ensemble") or [{"stage": "final", "gb_energy_mJ_m2": rec["gb_energy_mJ_m2"]}]
        kept = [e["gb_energy_mJ_m2"] for e in ensemble if e.get("stage") != "md" and "gb_energy_mJ_m2" in e]
        twist = build.get("boundary_type") == "symmetric_twist"
        rows.append(
            {
                "case": rec["case"],
                "boundary_type": "twist" if twist else "tilt",
                "axis": _label(build.get("axis")),
                "plane": _label(build.get("plane"), "()"),
                "sigma": build.get("sigma"),
                "misorientation_deg": _round(build.get("misorientation_deg"), 4),
                "energy_mJ_m2": _round(rec["gb_energy_mJ_m2"]),
                "n_kept_states": len(kept),
                "kept_energy_min_mJ_m2": _round(min(kept)) if kept else None,
                "kept_energy_max_mJ_m2": _round(max(kept)) if kept else None,
                "n_md_snapshots": sum(e.get("stage") == "md" for e in ensemble),
                "n_atoms": rec["n_atoms"],
                "translation_x": _round(chosen.get("tx", 0.0), 6),
                "translation_z": _round(chosen.get("tz", 0.0), 6),
                "deletion_cutoff": _round(chosen.get("deletion_cutoff_A", 0.0), 6),
                "potential": (rec.get("potential") or {}).get("name"),
            }
        )
    rows.sort(key=lambda r: (r["boundary_type"], r["axis"], r["misorientation_deg"] or 0.0, r["case"]))
    return rows


def write_gb_table(json_paths, csv_path: str | os.PathLike, png_path: str | os.PathLike | None = None) -> list[dict]:
    """Write the CSV (columns ``COLUMNS``; energies mJ/m², lengths Å) and, if asked, the PNG; atomically."""
    rows = gb_energy_rows(json_paths)
    with atomic_path(csv_path) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    if png_path is not None:
        plot_gb_energies(rows, png_path)
    return rows


def _panels(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """(title, rows) per panel: each tilt axis, then all twist boundaries."""
    tilt_axes = sorted({r["axis"] for r in rows if r["boundary_type"] == "tilt"})
    panels = [
        (f"{axis} tilt", [r for r in rows if r["boundary_type"] == "tilt" and r["axis"] == axis]) for axis in tilt_axes
    ]
    twist = [r for r in rows if r["boundary_type"] == "twist"]
    if twist:
        panels.append(("twist", twist))
    return panels


def _draw_series(ax, pts: list[dict], label: str, label_all: bool) -> None:
    pts = sorted(pts, key=lambda r: r["misorientation_deg"] or 0.0)
    x = [r["misorientation_deg"] for r in pts]
    y = [r["energy_mJ_m2"] for r in pts]
    up = [max(0.0, (r["kept_energy_max_mJ_m2"] or r["energy_mJ_m2"]) - r["energy_mJ_m2"]) for r in pts]
    line = ax.plot(x, y, "o-", ms=4, lw=1.2, label=label)[0]
    if any(u > 0 for u in up):
        ax.errorbar(x, y, yerr=[[0.0] * len(up), up], fmt="none", ecolor=line.get_color(), elinewidth=1, capsize=3,
                    alpha=0.7)  # fmt: skip
    for r in pts:
        xy = (r["misorientation_deg"], r["energy_mJ_m2"])
        if r["boundary_type"] == "tilt" and r["sigma"] in CUSPS:
            ax.annotate(f"Σ{r['sigma']}{r['plane']}", xy, xytext=(0, -18), textcoords="offset points", ha="center",
                        fontsize=8, fontweight="bold", arrowprops={"arrowstyle": "-", "lw": 0.6})  # fmt: skip
        elif label_all:
            ax.annotate(f"Σ{r['sigma']}", xy, xytext=(3, 4), textcoords="offset points", fontsize=6, color="0.35")


def plot_gb_energies(rows: list[dict], png_path: str | os.PathLike) -> None:
    """γ vs misorientation: a panel per tilt axis and one for twist boundaries; bars up to the highest kept
    metastable state; Σ3 and Σ11 labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = _panels(rows) or [("no boundaries", [])]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels) + 0.6, 3.9), dpi=130, sharey=True,
                             squeeze=False)  # fmt: skip
    for ax, (title, pts) in zip(axes[0], panels):
        label_all = len(pts) <= 16
        if title == "twist":
            for axis in sorted({r["axis"] for r in pts}):
                _draw_series(ax, [r for r in pts if r["axis"] == axis], f"axis {axis}", label_all)
            ax.legend(fontsize=7, loc="lower right")
        else:
            _draw_series(ax, pts, title, label_all)
            axis = title.split(" tilt")[0]
            if axis in AXIS_RANGE:  # a margin for the labels of boundaries at the end of the range
                ax.set_xlim(0.0, 1.06 * AXIS_RANGE[axis])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("misorientation (°)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("boundary energy γ (mJ/m²)")
    axes[0][0].set_ylim(bottom=0)
    top = max((r["kept_energy_max_mJ_m2"] or r["energy_mJ_m2"] for r in rows), default=1.0)
    axes[0][0].set_ylim(0.0, 1.12 * top)
    potentials = sorted({r.get("potential") for r in rows if r.get("potential")})
    n_kept = max((r["n_kept_states"] for r in rows), default=1)
    spread = f"; bars: kept metastable states (up to {n_kept}), MD snapshots not shown" if n_kept > 1 else ""
    fig.suptitle(f"Relaxed boundary energies, {', '.join(potentials) or 'potential ?'}: ground state{spread}",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    with atomic_path(Path(png_path)) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
