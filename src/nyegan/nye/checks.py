"""Physics checks of Nye fields at a glance: Frank–Bilby content of every boundary, Burgers vector of every core.

Both read what the Nye stage recorded in each field's ``burgers_content`` attribute (``nyegan.nye.burgers``) and
compare it with theory, not with earlier output:

- Frank–Bilby: a symmetric tilt boundary of misorientation θ (minimum-angle lattice correspondence, the
  ``correspondence_angle_deg`` attribute) carries a net Burgers content per unit boundary length of magnitude
  2 sin(θ/2) (dimensionless, Å per Å); the two boundaries of a periodic cell carry opposite vectors.
- Burgers vector: ∫ α·t dS over the section around one core of a perfect fcc dislocation is b with
  |b| = a0/√2 (Å), and its angle to the line is the character angle (edge 90°, screw 0°, mixed 60°).

``frank_bilby_rows`` / ``burgers_rows`` give one table row per boundary / core; ``write_checks`` writes the CSV
tables and the PNG figures atomically.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

from nyegan.defects.frank_bilby import frank_bilby_content
from nyegan.io import atomic_path

FRANK_BILBY_COLUMNS = [
    "case",
    "boundary",
    "axis",
    "sigma",
    "correspondence_angle_deg",
    "content_per_length",
    "frank_bilby_2sin_half_theta",
    "relative_error",
    "sum_with_partner",
]
BURGERS_COLUMNS = [
    "case",
    "core",
    "character",
    "burgers_A",
    "a0_over_sqrt2_A",
    "relative_error",
    "character_angle_deg",
    "nominal_character_angle_deg",
]


def _content(ds) -> list[dict]:
    return json.loads(ds.attrs.get("burgers_content", "[]"))


def _label(v) -> str:
    return "[" + "".join(str(abs(int(round(x)))) if x >= 0 else f"-{abs(int(round(x)))}" for x in v) + "]"


def frank_bilby_rows(fields: dict, metadata: dict | None = None) -> list[dict]:
    """One row per boundary entry of the fields {case: Dataset}; ``metadata`` {case: structure JSON dict} gives
    the tilt axis and Σ for the labels. ``relative_error`` = |B − B_FB| / |B_FB| with the recorded Frank–Bilby
    vector when there is one (else the magnitudes are compared); ``sum_with_partner`` = |B_1 + B_2| / |B_FB| over
    the cell's two boundaries (0 when they carry opposite content)."""
    metadata = metadata or {}
    rows = []
    for case, ds in fields.items():
        entries = [e for e in _content(ds) if e.get("kind") == "boundary"]
        if not entries:
            continue
        theta = abs(float(ds.attrs.get("correspondence_angle_deg", 0.0)))
        fb = frank_bilby_content(theta)
        total = np.sum([e["content_per_length"] for e in entries], axis=0)
        meta = metadata.get(case, {})
        for k, e in enumerate(entries):
            b = np.asarray(e["content_per_length"], float)
            fb_k = float(e.get("frank_bilby_2sin_half_theta", fb))
            if "frank_bilby_vector" in e:
                err = np.linalg.norm(b - np.asarray(e["frank_bilby_vector"], float)) / max(fb_k, 1e-300)
            else:
                err = abs(np.linalg.norm(b) - fb_k) / max(fb_k, 1e-300)
            rows.append(
                {
                    "case": case,
                    "boundary": k,
                    "axis": _label(meta["axis"]) if meta.get("axis") is not None else "",
                    "sigma": meta.get("sigma", ""),
                    "correspondence_angle_deg": theta,
                    "content_per_length": float(np.linalg.norm(b)),
                    "frank_bilby_2sin_half_theta": fb_k,
                    "relative_error": float(err),
                    "sum_with_partner": float(np.linalg.norm(total) / max(fb_k, 1e-300)) if len(entries) == 2 else "",
                }
            )
    return rows


def burgers_rows(fields: dict, metadata: dict | None = None) -> list[dict]:
    """One row per dislocation core of the fields {case: Dataset}: |b| (Å) against a0/√2 (``a0_angstrom`` attr)
    and the angle between b and the line against the nominal character angle (``character_angle_deg`` of the
    structure metadata when given)."""
    metadata = metadata or {}
    rows = []
    for case, ds in fields.items():
        cores = [e for e in _content(ds) if e.get("kind") == "core"]
        if not cores:
            continue
        b_perfect = float(ds.attrs["a0_angstrom"]) / np.sqrt(2.0)
        meta = metadata.get(case, {})
        for k, e in enumerate(cores):
            b = np.asarray(e["burgers_vector"], float)
            t = np.asarray(e.get("line_vector", [0.0, 0.0, 1.0]), float)
            mag = float(np.linalg.norm(b))
            cos = abs(float(b @ t)) / max(mag * np.linalg.norm(t), 1e-300)
            rows.append(
                {
                    "case": case,
                    "core": k,
                    "character": meta.get("character", ""),
                    "burgers_A": mag,
                    "a0_over_sqrt2_A": b_perfect,
                    "relative_error": abs(mag - b_perfect) / b_perfect,
                    "character_angle_deg": float(np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))),
                    "nominal_character_angle_deg": meta.get("character_angle_deg", ""),
                }
            )
    return rows


def _write_csv(rows, columns, path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)


def _save(fig, path) -> None:
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _error_panel(ax, rows, labels, what: str) -> None:
    """Relative errors per row on a log axis, a floor at 1e-16 (exact agreement)."""
    err = np.maximum([r["relative_error"] for r in rows], 1e-16)
    pos = np.arange(len(rows))
    ax.barh(pos, err, color="0.55")
    ax.set_xscale("log")
    ax.set_yticks(pos, labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0.01, color="C3", lw=1, ls="--", label="1 %")
    ax.set_xlabel(f"relative error {what}")
    ax.legend(fontsize=7, loc="lower right")


def plot_frank_bilby(rows: list[dict], path) -> None:
    """Measured content per unit boundary length vs misorientation with the curve 2 sin(θ/2) (left), and the
    relative error of every boundary (right). An empty table gives a figure saying so (workflow outputs)."""
    plt = _pyplot()
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    top = max([r["correspondence_angle_deg"] for r in rows] + [60.0])
    th = np.linspace(0.0, min(180.0, 1.1 * top), 200)
    ax.plot(th, frank_bilby_content(th), "k-", lw=1, label="Frank–Bilby 2 sin(θ/2)")
    for n, axis in enumerate(sorted({r["axis"] for r in rows})):
        pts = [r for r in rows if r["axis"] == axis]
        ax.plot(
            [r["correspondence_angle_deg"] for r in pts],
            [r["content_per_length"] for r in pts],
            "osd^v<>"[n % 7],
            mfc="none",
            ms=8,
            label=f"measured, axis {axis}" if axis else "measured",
        )
        for r in pts:
            if r["boundary"] == 0 and r["sigma"] != "":
                ax.annotate(
                    f"Σ{r['sigma']}",
                    (r["correspondence_angle_deg"], r["content_per_length"]),
                    textcoords="offset points",
                    xytext=(5, -10),
                    fontsize=8,
                )
    pairs = [r["sum_with_partner"] for r in rows if r["sum_with_partner"] != ""]
    if pairs:
        ax.text(0.98, 0.03, f"two boundaries per cell: max |B₁ + B₂| / |B_FB| = {max(pairs):.1e}", ha="right",
                fontsize=7, transform=ax.transAxes)  # fmt: skip
    ax.set_xlabel("misorientation θ, minimum-angle correspondence (°)")
    ax.set_ylabel("net Burgers content per boundary length |B| (Å/Å)")
    ax.set_xlim(0, th[-1])
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Frank–Bilby check, every boundary")
    if rows:
        _error_panel(ax_err, rows, [f"{r['case']} #{r['boundary']}" for r in rows], "|B − B_FB| / |B_FB|")
    else:
        ax_err.text(0.5, 0.5, "no boundaries in this sweep", ha="center", va="center", transform=ax_err.transAxes)
        ax_err.set_axis_off()
    fig.tight_layout()
    _save(fig, path)


def plot_burgers(rows: list[dict], path) -> None:
    """|b| of every core against a0/√2 and its character angle against the nominal one (left), relative error
    of |b| (right). An empty table gives a figure saying so (workflow outputs)."""
    plt = _pyplot()
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    if not rows:
        for a in (ax, ax_err):
            a.set_axis_off()
        ax.text(0.5, 0.5, "no dislocation cores in this sweep", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        _save(fig, path)
        return
    cases = list(dict.fromkeys(r["case"] for r in rows))
    per_case = {c: sum(r["case"] == c for r in rows) for c in cases}
    x = np.array([cases.index(r["case"]) + 0.1 * (r["core"] - (per_case[r["case"]] - 1) / 2) for r in rows])
    ax.plot(x, [r["burgers_A"] for r in rows], "o", mfc="none", ms=8, label="measured |b|")
    ref = rows[0]["a0_over_sqrt2_A"]
    ax.axhline(ref, color="k", lw=1, label=f"a0/√2 = {ref:.3f} Å")
    ax.set_ylim(0, 1.5 * ref)
    ax.set_xticks(range(len(cases)), cases, rotation=15, fontsize=8)
    ax.set_ylabel("|b| = |∫ α·t dS| per core (Å)")
    ang = ax.twinx()
    ang.plot(x, [r["character_angle_deg"] for r in rows], "x", color="C1", ms=8, label="angle(b, line)")
    nominal = [
        (x[k], r["nominal_character_angle_deg"]) for k, r in enumerate(rows) if r["nominal_character_angle_deg"] != ""
    ]
    if nominal:
        ang.plot(*zip(*nominal), "_", color="C3", ms=18, mew=2, label="nominal character angle")
    ang.set_ylim(-5, 185)
    ang.set_ylabel("angle between b and the line (°)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ang.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower left")
    ax.set_title("Burgers vector of every dislocation core")
    _error_panel(ax_err, rows, [f"{r['case']} #{r['core']}" for r in rows], "||b| − a0/√2| / (a0/√2)")
    fig.tight_layout()
    _save(fig, path)


def write_checks(
    fields: dict[str, str | os.PathLike],
    metadata: dict[str, str | os.PathLike] | None = None,
    frank_bilby_csv=None,
    frank_bilby_png=None,
    burgers_csv=None,
    burgers_png=None,
) -> tuple[list[dict], list[dict]]:
    """Frank–Bilby and Burgers tables and figures of the Nye fields {case: netCDF path} (structure JSONs
    {case: path} label the rows; of the first frame of an ensemble or trajectory file); each output is written
    when its path is given. Returns (boundary rows, core rows)."""
    from nyegan.contracts import STRUCTURE
    from nyegan.nye.output import frame_as_field, read_field

    opened = {case: read_field(p) for case, p in fields.items()}
    # an ensemble or trajectory file keeps its content and angle per frame: check its first (lowest-energy) one
    frames = {case: frame_as_field(ds, 0) for case, ds in opened.items()}
    meta = {case: STRUCTURE.read(p) for case, p in (metadata or {}).items()}
    fb, cores = frank_bilby_rows(frames, meta), burgers_rows(frames, meta)
    for ds in opened.values():
        ds.close()
    for rows, columns, csv_path, png_path, plot in (
        (fb, FRANK_BILBY_COLUMNS, frank_bilby_csv, frank_bilby_png, plot_frank_bilby),
        (cores, BURGERS_COLUMNS, burgers_csv, burgers_png, plot_burgers),
    ):
        if csv_path:
            _write_csv(rows, columns, csv_path)
        if png_path:
            plot(rows, png_path)
    return fb, cores
