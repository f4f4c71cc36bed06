"""Trial states of the GB search: rigid-body translations of grain B in the boundary plane × deletion cutoffs.

Grain B (id 2) occupies the region wrapping the y faces, so translating its atoms by (tx, 0, tz) and wrapping
them back into the periodic box shifts B relative to A at both boundaries by the same vector: the cell stays
periodic and both boundaries remain the same boundary. Translations cover one period of the smallest periodic
cell along x and z (``meta["periodic_cell"]``): shifts by a full CSL period give an identical bicrystal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from nyegan.relax.settings import SearchSettings
from nyegan.structure import Structure
from nyegan.structures.gb import remove_close_pairs


@dataclass(frozen=True)
class TrialState:
    """Translation of grain B (Å) and deletion cutoff (fraction of the nearest-neighbour distance)."""

    index: int
    tx: float
    tz: float
    cutoff_nn: float

    def to_dict(self) -> dict:
        return asdict(self)


def translation_grid(periods_xz, n_points) -> np.ndarray:
    """(nx*nz, 2) translations i·Px/nx, k·Pz/nz (Å), the unshifted state first."""
    px, pz = (float(p) for p in periods_xz)
    nx, nz = (int(n) for n in n_points)
    tx, tz = np.meshgrid(np.arange(nx) * px / nx, np.arange(nz) * pz / nz, indexing="ij")
    return np.column_stack([tx.ravel(), tz.ravel()])


def search_states(periods_xz, search: SearchSettings) -> list[TrialState]:
    """All trial states, ordered translation-major; index 0 is the as-built (unshifted, no deletion) state."""
    states = []
    for tx, tz in translation_grid(periods_xz, search.translations):
        for cut in sorted(set(float(c) for c in search.deletion_cutoffs)):
            states.append(TrialState(len(states), float(tx), float(tz), cut))
    return states


def apply_state(base: Structure, state: TrialState, d_nn: float, moving_grain: int = 2) -> tuple[Structure, int]:
    """The bicrystal of ``state``: grain ``moving_grain`` translated and wrapped, then close pairs thinned.

    Returns the structure (ids renumbered 1..n) and the number of atoms deleted.
    """
    pos = base.positions.copy()
    moving = base.grain == moving_grain
    pos[moving, 0] += state.tx
    pos[moving, 2] += state.tz
    s = base.copy(positions=pos).wrapped()
    return remove_close_pairs(s, state.cutoff_nn * d_nn, prefer_remove_grain=moving_grain)


def distinct_states(base: Structure, states: list[TrialState], d_nn: float) -> list[TrialState]:
    """Drop states identical to an earlier one: same translation and the same number of deleted atoms
    (a larger cutoff that deletes nothing more gives the same atoms, since deletion is monotone in the cutoff)."""
    seen, kept = set(), []
    for st in states:
        _, n_removed = apply_state(base, st, d_nn)
        key = (round(st.tx, 9), round(st.tz, 9), n_removed)
        if key not in seen:
            seen.add(key)
            kept.append(st)
    return kept
