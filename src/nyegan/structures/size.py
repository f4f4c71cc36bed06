"""Cell size of a case before it is built: box lengths from the lattice periods and ``min_size``, atom count from
the fcc density (4 atoms per a0³). Used by the config check to refuse cells beyond ``structures.max_atoms`` and Nye
grids beyond ``nye.max_memory_gb`` before any job runs.

The lengths follow the builders' rules (smallest periodic cell replicated to reach ``min_size``; bicrystals:
twice the plane period along the normal; dislocation cells: at least two periods in x and y, and a near-square
x-y section for the quadrupolar arrangement). Atoms removed at overlaps or cuts (a few planes at most) are not
subtracted: the estimate is an upper bound within a few per cent (tests compare it with real builds). Only
the quadrupolar dislocation cell is narrower than estimated (its box absorbs the removed slab).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from nyegan.lattice import fcc_plane_spacing, fcc_repeat_length, reduce_indices


def _replicate(periods, min_size, at_least=(1, 1, 1)) -> np.ndarray:
    periods = np.asarray(periods, float)
    reps = np.maximum(np.asarray(at_least), np.ceil(np.asarray(min_size, float) / periods - 1e-9)).astype(int)
    return periods * reps


def tilt_lengths(axis, plane, a0: float, min_size) -> np.ndarray:
    """Box lengths (Å) of the symmetric tilt bicrystal on ``plane`` about ``axis`` (cached: the boundary +
    dislocation cells of a sweep share a few boundaries)."""
    key = (tuple(int(v) for v in axis), tuple(int(v) for v in plane), float(a0), tuple(float(v) for v in min_size))
    return _tilt_lengths(*key).copy()


@lru_cache(maxsize=4096)
def _tilt_lengths(axis, plane, a0: float, min_size) -> np.ndarray:
    t, n = reduce_indices(axis), reduce_indices(plane)
    x_dir = np.cross(n, t)
    periods = [fcc_repeat_length(x_dir, a0), 2.0 * fcc_repeat_length(n, a0), fcc_repeat_length(t, a0)]
    return _replicate(periods, min_size)


def twist_lengths(axis, misorientation: float, a0: float, min_size) -> np.ndarray:
    """Box lengths (Å) of the twist bicrystal (planar coincidence cell in x, z; axis along y)."""
    from nyegan.structures.twist import coincidence_vectors

    t = reduce_indices(axis)
    csl = coincidence_vectors(t, misorientation, a0)
    if len(csl) < 2:  # the builder refuses it too (nyegan.structures.twist.build_twist)
        raise ValueError(
            f"twist {misorientation:.2f}° about {t.tolist()} has no planar coincidence cell with lattice indices up "
            f"to 12: its Σ is too large for a twist cell; lower sigma_max or choose another angle"
        )
    z_vec = csl[0]
    x_vec = next((v for v in csl[1:] if abs(v @ z_vec) < 1e-9), csl[1])
    periods = [np.linalg.norm(x_vec), 2.0 * fcc_repeat_length(t, a0), np.linalg.norm(z_vec)]
    return _replicate(periods, min_size)


def dislocation_lengths(character: str, line, arrangement: str, a0: float, min_size) -> np.ndarray:
    """Box lengths (Å) of a dislocation cell (default slip system; ``line`` None: the character's default), by
    the builder's replication rules (:mod:`nyegan.structures.dislocation`)."""
    from nyegan.structures.dislocation import _even_plane_repeats, slip_system

    t, _, n, _ = slip_system(character, line)
    x_dir = reduce_indices(np.cross(n, t))
    periods = np.array([fcc_repeat_length(x_dir, a0), fcc_repeat_length(n, a0), fcc_repeat_length(t, a0)])
    spacing_x = fcc_plane_spacing(x_dir, a0)
    reps = np.maximum(1, np.ceil(np.asarray(min_size, float) / periods - 1e-9)).astype(int)
    reps[0] = _even_plane_repeats(max(reps[0], 2), periods[0], spacing_x)
    if arrangement == "quadrupole":
        reps[1] = _even_plane_repeats(max(reps[1], 2), periods[1], fcc_plane_spacing(n, a0))
    elif arrangement == "quadrupolar":  # even y repeats, near-square x-y section
        reps[1] = max(2, reps[1] + reps[1] % 2)
        while periods[1] * reps[1] < 0.8 * periods[0] * reps[0]:
            reps[1] += 2
        while periods[0] * reps[0] < 0.8 * periods[1] * reps[1]:
            reps[0] = _even_plane_repeats(reps[0] + 1, periods[0], spacing_x)
    return periods * reps


def case_lengths(case, a0: float, min_size) -> np.ndarray:
    """Estimated box lengths (Å) of a :class:`nyegan.config.Case` (``min_size``: the structures default)."""
    p = case.params
    if case.kind == "gb" and p.get("twist"):
        return twist_lengths(p["axis"], p["misorientation"], a0, min_size)
    if case.kind == "gb":
        return tilt_lengths(p["axis"], p["plane"], a0, min_size)
    if case.kind == "gb_dislocation":
        return tilt_lengths(p["axis"], p["plane"], a0, p.get("min_size") or min_size)
    return dislocation_lengths(p["character"], p.get("line"), p["arrangement"], a0, p.get("min_size") or min_size)


def atom_count(lengths, a0: float) -> int:
    """fcc atoms in an orthogonal box of ``lengths`` (Å): 4 per a0³."""
    return int(round(4.0 * float(np.prod(lengths)) / a0**3))
