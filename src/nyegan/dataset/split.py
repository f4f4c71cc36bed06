"""Train / validation / held-out split with whole misorientations held out (never seen in training)."""

from __future__ import annotations

import hashlib

import numpy as np


def choose_heldout(misorientations: np.ndarray) -> list[float]:
    """Deterministic default: the median distinct misorientation (an interpolation test), if >= 3 distinct."""
    u = np.unique(np.round(misorientations[np.isfinite(misorientations)], 6))
    if len(u) < 3:
        return []
    return [float(u[len(u) // 2])]


def assign_splits(
    cases,
    misorientations,
    heldout_deg=None,
    validation_fraction: float = 0.15,
    tol_deg: float = 0.05,
    heldout_cases=(),
) -> tuple[np.ndarray, list[float]]:
    """Return (split labels array of 'train' | 'validation' | 'heldout', held-out angles used).

    ``heldout_cases``: case names held out as well. ``heldout_deg``: list of misorientations (degrees) whose
    cases are all held out; ``None`` picks
    ``choose_heldout``; ``[]`` holds out nothing. Validation takes a deterministic, name-hashed fraction of
    the remaining cases (at least one when there are >= 3 of them).
    """
    mis = np.asarray(misorientations, dtype=float)
    if heldout_deg is None:
        heldout_deg = choose_heldout(mis)
    heldout_deg = [float(h) for h in heldout_deg]
    split = np.array(["train"] * len(cases), dtype=object)
    for h in heldout_deg:
        hit = np.isfinite(mis) & (np.abs(mis - h) <= tol_deg)
        if not hit.any():
            raise ValueError(
                f"held-out misorientation {h} deg matches no case (available: "
                f"{sorted(set(np.round(mis[np.isfinite(mis)], 3)))}); fix dataset.heldout_misorientations"
            )
        split[hit] = "heldout"
    for k, name in enumerate(cases):
        if name in set(heldout_cases):
            split[k] = "heldout"
    rest = [k for k in range(len(cases)) if split[k] == "train"]
    if not rest:
        raise ValueError("every case is held out: nothing left to train on; shorten dataset.heldout_misorientations")
    order = sorted(rest, key=lambda k: hashlib.sha256(str(cases[k]).encode()).hexdigest())
    n_val = int(round(validation_fraction * len(rest)))
    if validation_fraction > 0 and len(rest) >= 3:
        n_val = max(n_val, 1)
    n_val = min(n_val, len(rest) - 1)
    for k in order[:n_val]:
        split[k] = "validation"
    return split.astype(str), heldout_deg
