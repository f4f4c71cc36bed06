"""Figures of real vs generated Nye fields (matplotlib, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COMPONENTS = [("y", "z"), ("x", "z"), ("z", "z"), ("x", "x")]
IDX = {"x": 0, "y": 1, "z": 2}


def save_figure(fig, path, dpi: int = 100) -> None:
    """Save ``fig`` atomically (temporary name + rename; format from the suffix) and close it."""
    from pathlib import Path

    from nyegan.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def _np(a):
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def field_comparison_figure(real, fake, title: str = ""):
    """Rows: real / generated sample; columns: alpha_yz, alpha_xz, alpha_zz, alpha_xx maps (x horizontal,
    y vertical, fractional cell coordinates), last column the x-averaged alpha_yz(y) profile."""
    real, fake = _np(real), _np(fake)
    n = min(len(real), len(fake), 2)
    fig, axes = plt.subplots(
        2 * n, len(COMPONENTS) + 1, figsize=(3 * (len(COMPONENTS) + 1), 2.6 * 2 * n), squeeze=False
    )
    for s in range(n):
        for r, (name, arr) in enumerate((("real", real[s]), ("generated", fake[s]))):
            row = 2 * s + r
            for c, (i, j) in enumerate(COMPONENTS):
                f = arr[IDX[i], IDX[j]]
                if f.ndim == 3:
                    f = f.mean(-1)
                v = np.abs(real[s][IDX[i], IDX[j]]).max() or 1.0
                ax = axes[row, c]
                ax.imshow(f.T, origin="lower", cmap="RdBu_r", vmin=-v, vmax=v, extent=(0, 1, 0, 1), aspect="auto")
                ax.set_title(f"{name} alpha_{i}{j}", fontsize=8)
                ax.tick_params(labelsize=6)
            prof = arr[1, 2].mean(axis=tuple(k for k in range(arr[1, 2].ndim) if k != 1))
            y = (np.arange(len(prof)) + 0.5) / len(prof)
            axes[row, -1].plot(y, prof, lw=1)
            axes[row, -1].set_title(f"{name} <alpha_yz>_x (1/Å)", fontsize=8)
            axes[row, -1].tick_params(labelsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def profiles_figure(profiles: dict, path, ylabel: str = "<alpha_yz>_x (1/Å)"):
    """One panel per condition: overlaid y-profiles {label: {series: array}}; saved to ``path``."""
    n = max(len(profiles), 1)
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 3), squeeze=False)
    for ax, (label, series) in zip(axes[0], profiles.items()):
        for name, prof in series.items():
            y = (np.arange(len(prof)) + 0.5) / len(prof)
            ax.plot(y, prof, label=name, lw=1)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("y / L_y")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def spectra_figure(spectra: dict, path):
    """Power spectra along x and y: {series: [P_x, P_y]}; saved to ``path``."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for name, (px, py) in spectra.items():
        axes[0].semilogy(np.arange(1, len(px)), px[1:], label=name)
        axes[1].semilogy(np.arange(1, len(py)), py[1:], label=name)
    for ax, lab in zip(axes, ("x", "y")):
        ax.set_xlabel(f"mode number along {lab}")
        ax.set_ylabel("power")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def heldout_figure(cases: list[dict], path, title: str = "") -> None:
    """Held-out fields, method by method: one block of rows per case (atomistic first), one column per non-zero
    atomistic component, one colour scale per component and case (the atomistic maximum) so a weak component is
    not washed out by α_yz. ``cases``: [{"case": name, "lengths": (Lx, Ly), "fields": {label: (3, 3, nx, ny)}}],
    the first label being the atomistic field."""
    from nyegan.gan.fieldmetrics import LABELS, active_components

    blocks = []
    for c in cases:
        fields = {k: np.asarray(v, float) for k, v in c["fields"].items()}
        first = next(iter(fields.values()))
        comps = active_components(first[None])
        blocks.append((c, fields, comps))
    n_rows = sum(len(f) for _, f, _ in blocks)
    n_cols = max(len(comps) for _, _, comps in blocks)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.6 * n_cols, 1.9 * n_rows), squeeze=False)
    row = 0
    for c, fields, comps in blocks:
        Lx, Ly = c["lengths"][:2]
        ref = next(iter(fields.values()))
        for label, f in fields.items():
            for col in range(n_cols):
                ax = axes[row, col]
                if col >= len(comps):
                    ax.axis("off")
                    continue
                i, j = comps[col]
                v = np.abs(ref[i, j]).max() or 1.0
                im = ax.imshow(f[i, j].T, origin="lower", cmap="RdBu_r", vmin=-v, vmax=v, extent=(0, Lx, 0, Ly),
                               aspect="equal", interpolation="nearest")  # fmt: skip
                ax.set_title(f"{c['case']}  {label}  α_{LABELS[i]}{LABELS[j]}", fontsize=6)
                ax.tick_params(labelsize=5)
                if row == 0 or label == next(iter(fields)):
                    fig.colorbar(im, ax=ax, shrink=0.7).ax.tick_params(labelsize=5)
            row += 1
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
