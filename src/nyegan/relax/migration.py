"""Where the two boundaries of a bicrystal cell sit, and how far an anneal moved them.

The bicrystal builders (``nyegan.structures.gb``, ``nyegan.structures.twist``) put the two boundaries of a
periodic cell at y = Ly/4 and 3Ly/4 above the cell origin. An MD anneal can make a boundary migrate: both may
drift towards each other across the periodic wrap, thinning one grain until the boundaries interact, and the
energy the quench then finds is no longer that of an isolated boundary. The GB search measures each boundary's
position before and after an anneal and rejects annealed states whose boundaries moved by more than
``relax.anneal.max_boundary_shift``.

A boundary's position is the periodic mean y of its defect atoms (not fcc by common-neighbour analysis) within
Ly/4 of where it was built; a shift is measured exactly while each boundary's defect atoms stay within Ly/4 of
its nominal position (a migration of a few Å in a cell some 40 Å thick). Lengths in Å.
"""

from __future__ import annotations

import numpy as np

from nyegan.structure import Structure

FCC = 1  # LAMMPS cna/atom class of an fcc atom


def boundary_positions(s: Structure, cna: np.ndarray) -> np.ndarray:
    """y of the two boundaries (Å, above the cell origin, near Ly/4 and 3Ly/4): the mean of the periodic offsets
    of the non-fcc atoms (``cna`` != 1, one class per atom of ``s``) within Ly/4 of each nominal position; NaN
    for a boundary with no defect atom (a perfect crystal)."""
    cna = np.asarray(cna)
    if cna.shape != (len(s.positions),):
        raise ValueError(f"cna has {cna.shape} entries for {len(s.positions)} atoms: one class per atom expected")
    ly = float(s.cell[1, 1])
    y = np.mod(s.positions[cna != FCC, 1] - s.origin[1], ly)
    out = np.full(2, np.nan)
    for i, nominal in enumerate((0.25 * ly, 0.75 * ly)):
        dy = np.mod(y - nominal + 0.5 * ly, ly) - 0.5 * ly
        near = np.abs(dy) < 0.25 * ly
        if near.any():
            out[i] = nominal + float(dy[near].mean())
    return out


def boundary_shift(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Signed displacement (Å) of each boundary from ``before`` to ``after`` (both from ``boundary_positions``)."""
    return np.asarray(after, float) - np.asarray(before, float)


def migration_check(before: np.ndarray, after: np.ndarray, max_shift: float) -> dict:
    """``{"boundary_shift_A": [dy1, dy2]}`` (Å, rounded to 1e-4), with ``"rejected"`` (the reason) when a boundary
    moved by more than ``max_shift`` (``relax.anneal.max_boundary_shift``); boundaries not found count as unmoved."""
    shift = boundary_shift(before, after)
    out: dict = {"boundary_shift_A": [round(float(v), 4) for v in shift]}
    moved = float(np.nanmax(np.abs(shift))) if np.isfinite(shift).any() else 0.0
    if moved > max_shift:
        out["rejected"] = (f"a boundary moved by {moved:.2f} Å during the anneal "
                           f"(relax.anneal.max_boundary_shift = {max_shift} Å)")  # fmt: skip
    return out
