"""Frank–Bilby content of a symmetric tilt boundary, defined once.

A symmetric tilt boundary of misorientation θ about its tilt axis t carries a net Burgers vector per unit boundary
length of magnitude 2 sin(θ/2), edge type, line along t (median-lattice reference; Å of Burgers vector per Å of
boundary, dimensionless). Which θ is used depends on the chosen lattice correspondence; nyegan uses the
minimum-angle one (e.g. 36.87° for a 53.13° [001] boundary, 70.53° for the Σ3 twin about [110]).
"""

from __future__ import annotations

import math

import numpy as np


def frank_bilby_content(theta_deg):
    """2 sin(θ/2) for θ in degrees (a float or an array of them)."""
    if np.ndim(theta_deg) == 0:
        return 2.0 * math.sin(math.radians(float(theta_deg)) / 2.0)
    return 2.0 * np.sin(np.radians(np.asarray(theta_deg, dtype=float)) / 2.0)


LOW_INDEX_DIRECTIONS = ((1, 0, 0), (1, 1, 0), (1, 1, 1))


def tilt_wall_burgers_length(axis, plane, a0: float) -> float:
    """Length (Å) of the Burgers vector of the edge dislocations that carry the Frank–Bilby content of the
    symmetric tilt boundary about ``axis`` on ``plane`` (grain A's indices) as a discrete wall.

    The Nye stage measures the field against the minimum-angle lattice correspondence and its median lattice.
    As that angle goes to 0 the boundary becomes a low-angle tilt wall on the median lattice's plane n0 (the
    boundary normal in the median frame), made of edge dislocations with b along n0, the shortest lattice vector
    along it: a0 for n0 = <100>, a0/√2 for <110>, a0√3 for <111>. Then c L / |b| is a whole number of
    dislocations per CSL period L (the wall is commensurate with the boundary). Where n0 is none of those
    directions, a0/√2 (the shortest fcc vector)."""
    from nyegan.csl import stgb_rotations
    from nyegan.lattice import fcc_repeat_length
    from nyegan.nye.reference import minimum_angle_correspondence
    from nyegan.rotations import rotation_about_axis_rad

    rot_a, rot_b = stgb_rotations(axis, plane)
    corr = minimum_angle_correspondence(rot_a, rot_b, axis=(0.0, 0.0, 1.0))
    median = rotation_about_axis_rad(corr.axis, corr.angle / 2.0) @ rot_a
    n0 = median.T @ np.array([0.0, 1.0, 0.0])  # boundary normal in the median lattice's crystal frame
    family = np.sort(np.abs(n0))[::-1]
    for d in LOW_INDEX_DIRECTIONS:
        if np.allclose(family, np.array(d, float) / np.linalg.norm(d), atol=1e-6):
            return fcc_repeat_length(d, a0)
    return a0 / math.sqrt(2.0)
