"""Secondary dislocations of symmetric tilt boundaries in the structural-unit model (fcc).

A tilt boundary between two *delimiting* (favoured) boundaries of the same axis is made of the structural units
of the nearer one, interrupted once per period by a unit of the other (Sutton & Vitek, Phil. Trans. R. Soc. A 309,
1983; for [110] in fcc: Rittner & Seidman, Phys. Rev. B 54, 1996). Seen from the nearer delimiting boundary
(misorientation θ_f), the interruptions are *secondary* dislocations that carry the misorientation difference:
by Frank's formula their content per unit boundary length is 2 sin((θ − θ_f)/2), edge, line along the axis. For
θ_f = 0 (or the 90° and 180° descriptions of a perfect crystal about [001] and [110]) they are the lattice
dislocations of a low-angle wall. In a symmetric tilt boundary the whole difference sits in one dislocation per
period of the boundary (the period the structure repeats with), and where the boundary *is* a delimiting one
there is none.

Misorientations are the table angles of the build (``misorientation_deg``: 0..90° about [001], 0..180° about
[110], 0..60° about [111]), not the minimum-angle correspondence: a 77.32° [001] boundary, Σ41 (540), is a wall of
a0/2<110> dislocations 12.68° from the perfect (110) description at 90°. The nearest delimiting boundary in angle
stands for the majority unit; where two are nearly equidistant (Σ37 (610), 18.92°: 17.95° from Σ5 (310)) both
readings give one secondary dislocation per period of nearly the same content.
"""

from __future__ import annotations

import math

import numpy as np

from nyegan.csl import projected_periods

SQRT2, SQRT3 = math.sqrt(2.0), math.sqrt(3.0)
# Delimiting boundaries (degrees) per tilt axis (canonical indices): perfect crystal (Σ1) and the short-period
# boundaries whose units make up the others.
DELIMITING_DEG = {
    (0, 0, 1): (0.0, math.degrees(2 * math.atan(1 / 3)), math.degrees(2 * math.atan(1 / 2)), 90.0),  # Σ5 (310), (210)
    (1, 1, 0): (
        0.0,
        math.degrees(2 * math.atan(SQRT2 / 3)),  # Σ11 (113), 50.48°
        math.degrees(2 * math.atan(1 / SQRT2)),  # Σ3 (111), 70.53°
        180.0 - math.degrees(2 * math.atan(1 / SQRT2)),  # Σ3 (112), 109.47°
        180.0 - math.degrees(2 * math.atan(SQRT2 / 3)),  # Σ11 (332), 129.52°
        180.0,
    ),
    (1, 1, 1): (0.0, math.degrees(2 * math.atan(SQRT3 / 5)), 60.0),  # Σ7 38.21°, Σ3 60°
}
PERFECT_DEG = {(0, 0, 1): (0.0, 90.0), (1, 1, 0): (0.0, 180.0), (1, 1, 1): (0.0,)}  # Σ1 descriptions in each table
TOLERANCE_DEG = 0.01


def canonical_axis(axis) -> tuple[int, int, int] | None:
    """(0, 0, 1), (1, 1, 0) or (1, 1, 1) for an axis of that family (any signs, order, scale); None otherwise."""
    a = np.abs(np.asarray(axis, dtype=float))
    if a.shape != (3,) or not np.isfinite(a).all() or a.max() <= 0:
        return None
    a = np.sort(a / a.max())
    for key in DELIMITING_DEG:
        if np.allclose(a, np.sort(np.asarray(key, float)), atol=1e-6):
            return key
    return None


def delimiting_misorientation(axis, theta_deg: float) -> float | None:
    """Misorientation (degrees) of the delimiting boundary nearest to ``theta_deg`` about ``axis``; None for an
    axis without a table (only [001], [110], [111] families) or a non-finite angle."""
    key = canonical_axis(axis)
    if key is None or not np.isfinite(theta_deg):
        return None
    table = DELIMITING_DEG[key]
    return float(table[int(np.argmin([abs(float(theta_deg) - t) for t in table]))])


def secondary_content(axis, theta_deg: float) -> float:
    """Signed content (Burgers vector per boundary length, dimensionless) of the secondary dislocations,
    2 sin((θ − θ_f)/2), positive when the boundary is past its nearest delimiting boundary; 0 on a delimiting
    boundary and for axes without a table."""
    tf = delimiting_misorientation(axis, theta_deg)
    if tf is None or abs(float(theta_deg) - tf) < TOLERANCE_DEG:
        return 0.0
    return 2.0 * math.sin(math.radians(float(theta_deg) - tf) / 2.0)


def lattice_referenced(axis, theta_deg: float) -> bool:
    """Whether the nearest delimiting boundary is a description of the perfect crystal (a low-angle boundary,
    or one near 90° about [001] or 180° about [110]): its secondary dislocations are lattice dislocations, the
    wall of ``nyegan.defects.frank_bilby.tilt_wall_burgers_length``."""
    tf = delimiting_misorientation(axis, theta_deg)
    return tf is not None and tf in PERFECT_DEG[canonical_axis(axis)]


def unit_rows(axis, plane, theta_deg: float) -> int:
    """Rows the secondary units of a symmetric tilt boundary are drawn on: 2 (units alternating between two rows
    on either side of the plane, half a period apart) where the projected structure repeats only once per CSL
    period (``nyegan.csl.projected_periods`` = 1) and the secondary dislocations are not lattice dislocations;
    else 1 (one row on the plane; also for twist boundaries, axes without a table and delimiting boundaries).

    An empirical rule, not a theorem: where a lattice vector of the plane with a z component halves (or thirds)
    the projected period, the units of one period are equivalent and sit on one row; where none does, the
    relaxed boundaries of the study mostly alternate their units across the plane (a glide instead of a mirror).
    On the 33 study boundaries with secondary dislocations it gives the arrangement of the relaxed ground state
    (``nyegan.gan.fieldmetrics.phase_span`` of the first harmonic of α_yz) right on 24 (docs/gan.md)."""
    a, p = np.asarray(axis, dtype=float), np.asarray(plane, dtype=float)
    if not (np.isfinite(a).all() and np.isfinite(p).all()) or abs(float(a @ p)) > 1e-9 or not np.any(p):
        return 1
    if secondary_content(a, theta_deg) == 0.0 or lattice_referenced(a, theta_deg):
        return 1
    return 2 if projected_periods(np.rint(a).astype(int), np.rint(p).astype(int)) == 1 else 1
