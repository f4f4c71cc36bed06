"""Stable case names, defined once (configs, builders, file names and tests rely on them).

- symmetric tilt boundary: ``gb-<axis>-S<Σ>-<plane>``, e.g. ``gb-110-S11-1m13`` (``m`` marks a negative index);
- twist boundary: ``twist-<axis>-S<Σ>-<angle>`` with the angle to 0.01°, ``.`` written ``p``: ``twist-001-S5-36p87``;
- dislocation cell: ``disl-<character>-<arrangement>[-<line>]``;
- boundary + dislocations: ``gbdisl-<axis>-S<Σ>-<plane>-<character>-<arrangement>-d<distance>``.
"""

from __future__ import annotations

from nyegan.lattice import indices_label

# Every case name matches this (the workflow's wildcard constraint): a kind prefix, then letters, digits, "_" and
# "-", and at most one "." followed by digits only (a boundary + dislocation distance such as d6.25), so that
# "{case}.png" never also matches "{other}.atomistic.png" and "generated.nc" or "summary.csv" are never cases.
CASE_NAME_PATTERN = r"(?:gb|twist|disl|gbdisl)-[A-Za-z0-9_-]+(?:\.[0-9]+)?"


def gb_case_name(axis, sigma: int, plane) -> str:
    return f"gb-{indices_label(axis)}-S{sigma}-{indices_label(plane)}"


def twist_case_name(axis, sigma: int, angle_deg: float) -> str:
    return f"twist-{indices_label(axis)}-S{sigma}-{angle_deg:.2f}".replace(".", "p")


def dislocation_case_name(character: str, arrangement: str, line=None) -> str:
    name = f"disl-{character}-{arrangement}"
    return name + (f"-{indices_label(line)}" if line is not None else "")


def gb_dislocation_case_name(axis, sigma: int, plane, character: str, arrangement: str, distance: float) -> str:
    return f"{gb_case_name(axis, sigma, plane).replace('gb-', 'gbdisl-', 1)}-{character}-{arrangement}-d{distance:g}"
