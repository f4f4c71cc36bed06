"""Training curves and physics residuals of a GAN run, from Lightning's CSV log (``logs/version_0/metrics.csv``).

A resumed run keeps the history of its earlier segments in ``metrics.partNNN.csv`` next to ``metrics.csv``
(``nyegan.gan.train``); :func:`read_metrics` joins them in order. Columns are Lightning's logged names:
``train/*`` per step (critic loss ``loss_d``, generator loss ``loss_g``, Wasserstein estimate ``wasserstein``,
gradient penalty ``gp``, ``penalty_*`` in penalty mode), ``physics/*`` per step on the generated batch and
``val/*`` per epoch on fixed-seed validation samples (relative divergence ``div_rel``, relative cell mean
``mean_rel``, content error ``content_err`` in Å per Å of boundary and relative ``content_rel``, and
``spectrum_distance``). Every column with one of these prefixes is plotted, so new metrics appear by themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from nyegan.io import atomic_path

LOSS_PREFIX = "train/"
RESIDUAL_PREFIXES = ("physics/", "val/")
STEP_COLUMNS = ("train/iteration", "step")  # training steps (critic updates) if logged, else optimiser steps


def metrics_files(log_dir: str | os.PathLike) -> list[Path]:
    """The CSV files of a run, oldest segment first (``metrics.part000.csv`` ..., then ``metrics.csv``)."""
    log_dir = Path(log_dir)
    files = sorted(log_dir.glob("metrics.part*.csv"))
    if (log_dir / "metrics.csv").exists():
        files.append(log_dir / "metrics.csv")
    return files


def read_metrics(log_dir: str | os.PathLike) -> pd.DataFrame:
    """All logged rows of a run (resumed segments joined); FileNotFoundError naming the folder if it has none."""
    files = metrics_files(log_dir)
    if not files:
        raise FileNotFoundError(
            f"{log_dir}: no metrics.csv (Lightning's CSV log of a training run; train first: nyegan train)"
        )
    frames = [pd.read_csv(f) for f in files if f.stat().st_size]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _step_column(df: pd.DataFrame) -> str | None:
    return next((c for c in STEP_COLUMNS if c in df.columns), None)


def _series(df: pd.DataFrame, column: str, step: str | None):
    sel = df[column].notna()
    if step is None:
        x = np.flatnonzero(sel.to_numpy())
    elif step == "train/iteration" and df[step][sel].isna().any():
        # epoch-level rows (val/*) carry no iteration: place them at the last iteration logged before them
        x = df[step].ffill()[sel].to_numpy()
    else:
        x = df[step][sel].to_numpy()
    return x, df[column][sel].to_numpy(dtype=float)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    plt = _pyplot()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def plot_training_curves(df: pd.DataFrame, path) -> None:
    """Losses (critic, generator, gradient penalty, penalties) and the Wasserstein estimate vs training step."""
    plt = _pyplot()
    step = _step_column(df)
    fig, (ax_loss, ax_w) = plt.subplots(1, 2, figsize=(10, 4))
    cols = [c for c in df.columns if c.startswith(LOSS_PREFIX) and c not in STEP_COLUMNS]
    losses = [c for c in cols if c != "train/wasserstein"]
    for c in losses:
        ax_loss.plot(*_series(df, c, step), ".-", ms=3, lw=1, label=c.removeprefix(LOSS_PREFIX))
    if losses:
        ax_loss.set_yscale("symlog", linthresh=1.0)
        ax_loss.set_xlabel("training step")
        ax_loss.set_ylabel("loss (symlog)")
        ax_loss.legend(fontsize=8)
        ax_loss.set_title("losses")
    else:
        _empty(ax_loss, "no losses logged")
    if "train/wasserstein" in df.columns:
        ax_w.plot(*_series(df, "train/wasserstein", step), ".-", ms=3, lw=1, color="C3")
        ax_w.axhline(0.0, color="k", lw=0.5)
        ax_w.set_xlabel("training step")
        ax_w.set_ylabel("E[D(real)] − E[D(generated)]")
        ax_w.set_title("Wasserstein estimate (critic)")
    else:
        _empty(ax_w, "no Wasserstein estimate logged")
    fig.tight_layout()
    _save(fig, path)


def plot_physics_residuals(df: pd.DataFrame, path) -> None:
    """One panel per residual (div, mean, content, ...): per training batch (``physics/``) and on the validation
    samples (``val/``), log scale."""
    plt = _pyplot()
    step = _step_column(df)
    names = sorted({c.split("/", 1)[1] for c in df.columns if c.startswith(RESIDUAL_PREFIXES)})
    n = max(len(names), 1)
    ncol = min(n, 3)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.8 * ncol, 3.2 * nrow), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        positive = False  # a log axis needs at least one value > 0 (a residual the construction zeroes has none)
        for prefix, style, colour in zip(RESIDUAL_PREFIXES, (".-", "s--"), ("C0", "C1")):
            col = prefix + name
            if col not in df.columns:
                continue
            x, y = _series(df, col, step)
            y = np.abs(y)
            positive |= bool(np.any(np.isfinite(y) & (y > 0)))
            ax.plot(x, np.where(y > 0, y, np.nan), style, color=colour, ms=3, lw=1, label=prefix.rstrip("/"))
        if positive:
            ax.set_yscale("log")
        elif ax.lines:
            ax.set_title(f"{name} (exactly 0)", fontsize=10)
        if not ax.get_title():
            ax.set_title(name, fontsize=10)
        ax.set_xlabel("training step")
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(names) :]:
        ax.set_axis_off()
    if not names:
        _empty(axes[0, 0], "no physics residuals logged")
    fig.suptitle("generated fields during training: physics residuals and validation metrics", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def write_training_figures(log_dir, curves_png, residuals_png) -> pd.DataFrame:
    """Both figures of the run logged in ``log_dir``; returns the joined metrics table."""
    df = read_metrics(log_dir)
    plot_training_curves(df, curves_png)
    plot_physics_residuals(df, residuals_png)
    return df
