"""Offsets and distances between fractional positions in a periodic cell.

Positions are fractions of the cell (0..1 along an axis); the offset of ``frac`` from ``centre`` is wrapped into
[-1/2, 1/2), its absolute value is the periodic distance (multiply by the cell length for Å). Both functions
take numpy arrays or torch tensors alike (floor modulo and ``abs`` behave the same in both), and broadcast.
"""

from __future__ import annotations


def frac_offset(frac, centre):
    """``frac`` − ``centre`` wrapped into [-1/2, 1/2) (fractions of the cell)."""
    return (frac - centre + 0.5) % 1.0 - 0.5


def frac_distance(frac, centre):
    """Periodic distance |``frac`` − ``centre``| ≤ 1/2 (fractions of the cell)."""
    return abs(frac_offset(frac, centre))
