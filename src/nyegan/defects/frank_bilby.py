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
