"""Is a requested condition inside what the model was trained on? Generation outside it is refused unless allowed.

The training range is read from the dataset's train split, per kind of cell:

- the kind itself (``gb``, ``dislocation``, ``gb_dislocation``) must have been trained on;
- boundaries (``gb``, ``gb_dislocation``): the tilt axis must be one trained with that kind, and the
  misorientation must lie within [min, max] of the training misorientations of that kind and axis;
- dislocations (``dislocation``, ``gb_dislocation``): the character must be one trained with that kind;
- ``gb_dislocation``: the core-to-boundary distance (as a fraction of L_y) must lie within the trained range.

Cell sizes are not checked: held-out boundaries have their own CSL periods, and the generator sees the cell
lengths as a condition like any other. Conditions are compared through their feature vectors
(:mod:`nyegan.dataset.conditions`), so dataset conditions and requests are judged alike.
"""

from __future__ import annotations

import math

import numpy as np

from nyegan.dataset.conditions import CHARACTERS, INDEX, KINDS

AXIS = slice(INDEX["axis_a"], INDEX["axis_c"] + 1)
TOL_DEG = 1e-6
TOL_FRAC = 1e-9


class ExtrapolationError(ValueError):
    """A generation request outside the training range of conditions (the message states the range)."""


def _kind(f: np.ndarray) -> str:
    return KINDS[int(np.argmax([f[INDEX[f"kind_{k}"]] for k in KINDS]))]


def _character(f: np.ndarray) -> str | None:
    hot = [c for c in CHARACTERS if f[INDEX[f"char_{c}"]] > 0.5]
    return hot[0] if hot else None


def _axis_label(v: np.ndarray) -> str:
    """A canonical (sorted |unit|) axis as its family of smallest integer directions, e.g. <1 1 0>: conditions
    do not tell symmetry-equivalent axes apart."""
    for m in range(1, 13):
        w = v * m / max(v.max(), 1e-12)
        if np.allclose(w, np.round(w), atol=1e-6):
            return "<" + " ".join(str(int(round(x))) for x in w) + ">"
    return "<" + " ".join(f"{x:.3f}" for x in v) + ">"


def outside_training_range(cond: np.ndarray, train_cond: np.ndarray) -> str | None:
    """None when the raw condition ``cond`` lies inside the range of the training conditions ``train_cond``
    (n, features); else what is outside, with the range."""
    kind = _kind(cond)
    kinds = [_kind(f) for f in train_cond]
    same = train_cond[[k == kind for k in kinds]]
    if not len(same):
        return f"kind '{kind}' was not trained on (trained: {', '.join(sorted(set(kinds)))})"
    if kind in ("gb", "gb_dislocation"):
        axes = same[:, AXIS]
        match = np.all(np.abs(axes - cond[AXIS]) < 1e-6, axis=1)
        if not match.any():
            trained = sorted({_axis_label(a) for a in axes})
            return f"{kind} tilt axis {_axis_label(cond[AXIS])} was not trained on (trained: {', '.join(trained)})"
        theta = math.degrees(cond[INDEX["theta_rad"]])
        lo, hi = np.degrees(same[match, INDEX["theta_rad"]].min()), np.degrees(same[match, INDEX["theta_rad"]].max())
        if not lo - TOL_DEG <= theta <= hi + TOL_DEG:
            return (f"misorientation {theta:.2f}° is outside the training range {lo:.2f}° to {hi:.2f}° of {kind} "
                    f"about {_axis_label(cond[AXIS])}")  # fmt: skip
    if kind in ("dislocation", "gb_dislocation"):
        ch = _character(cond)
        trained = sorted({_character(f) or "none" for f in same})
        if (ch or "none") not in trained:
            return f"{kind} character '{ch}' was not trained on (trained: {', '.join(trained)})"
    if kind == "gb_dislocation":
        d = cond[INDEX["distance_to_gb_frac"]]
        lo, hi = same[:, INDEX["distance_to_gb_frac"]].min(), same[:, INDEX["distance_to_gb_frac"]].max()
        if not lo - TOL_FRAC <= d <= hi + TOL_FRAC:
            return f"distance to the boundary {d:.3f} L_y is outside the training range {lo:.3f} to {hi:.3f} L_y"
    return None


def check_conditions(conds: dict, ds, allow: bool = False) -> list[str]:
    """Raise :class:`ExtrapolationError` for the first condition of ``conds`` (``generate``'s condition table)
    outside the training range of the dataset ``ds``; with ``allow`` return the list of such problems instead."""
    train = ds["cond"].values[ds["split"].values.astype(str) == "train"]
    problems = []
    for k, c in enumerate(conds["cond"]):
        why = outside_training_range(np.asarray(c, float), train)
        if why:
            problems.append(f"condition {k} ({conds['case'][k]}): {why}")
    if problems and not allow:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ExtrapolationError(
            f"{problems[0]}{more}: the model would extrapolate; pass --allow-extrapolation (config "
            f"gan.allow_extrapolation: true) to generate anyway"
        )
    return problems
