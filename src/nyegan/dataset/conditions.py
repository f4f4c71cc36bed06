"""Numeric encoding of the physical conditions of a case (the generator's and critic's conditioning input).

Features are *raw* (physical, unnormalised); the dataset stores their train-split mean / std and the models
normalise internally. Directions (axis, plane) are encoded by the sorted absolute values of their unit vector,
which is invariant under the cubic point group and under sign flips of the box axes. ``content_sign`` and
``burgers_*`` change under mirror augmentations (see ``nyegan.dataset.augment``).
"""

from __future__ import annotations

import math

import numpy as np

from nyegan.csl import projected_periods
from nyegan.defects.frank_bilby import frank_bilby_content, tilt_wall_burgers_length
from nyegan.defects.structural_units import unit_rows

KINDS = ("gb", "dislocation", "gb_dislocation")
CHARACTERS = ("edge", "screw", "mixed")

FEATURES = (
    "kind_gb",
    "kind_dislocation",
    "kind_gb_dislocation",
    "fb_content",  # 2 |sin(angle/2)| of the lattice correspondence (0 without a boundary)
    "theta_rad",
    "axis_a",
    "axis_b",
    "axis_c",
    "plane_a",
    "plane_b",
    "plane_c",
    "inv_sigma",
    "char_edge",
    "char_screw",
    "char_mixed",
    "distance_to_gb_frac",  # distance / L_y
    "log_Lx",
    "log_Ly",
    "log_Lz",
    "gb_spacing_frac",  # (y2 - y1) / L_y
    "content_sign",  # +-1: sign of B_y in the slab of the first boundary
    "burgers_x",
    "burgers_y",
    "burgers_z",  # burgers_box / a0
    "periods_x",  # periods of the boundary along x in the cell, z-projected in 2D (0 without a boundary)
    "log_period_x",  # log of that period along x (Å), 0 without a boundary
    "wall_burgers_A",  # |b| (Å) of the dislocations of the boundary's Frank-Bilby wall, 0 without a boundary
    "units_two_rows",  # 1 where the boundary's secondary units alternate between two rows (unit_rows = 2), else 0
)
INDEX = {name: k for k, name in enumerate(FEATURES)}


def _canonical_direction(v) -> list[float]:
    v = np.abs(np.asarray(v, dtype=float))
    n = np.linalg.norm(v)
    if n == 0:
        return [0.0, 0.0, 0.0]
    return sorted((v / n).tolist(), reverse=True)


def _symmetric_tilt(meta: dict) -> bool:
    """Whether the case's boundary is a symmetric tilt boundary with known axis and plane (a request without
    ``boundary_type`` is one)."""
    return meta.get("boundary_type", "symmetric_tilt") == "symmetric_tilt" and "axis" in meta and "plane" in meta


def periods_along_x(meta: dict, cell_lengths, dim: int = 3) -> float:
    """Periods of the boundary along x in the cell; 0 for cells without a boundary.

    ``dim`` 3: CSL periods, Lx / periodic_cell x. ``dim`` 2 (fields averaged along the line z): periods of the
    projected structure, which for a symmetric tilt boundary can be 2 or 3 times more (a CSL vector in the
    boundary plane with a z component has a shorter x component, ``nyegan.csl.projected_periods``); the
    atomistic modulation of a 2D field repeats with this period, and its alignment and input maps use it."""
    if meta.get("kind") not in ("gb", "gb_dislocation") or "periodic_cell" not in meta:
        return 0.0
    m = float(np.asarray(cell_lengths, float)[0] / float(meta["periodic_cell"][0]))
    if dim == 2 and _symmetric_tilt(meta):
        m *= projected_periods(meta["axis"], meta["plane"])
    return m


def wall_burgers(meta: dict) -> float:
    """|b| (Å) of the edge dislocations of the Frank–Bilby wall of the case's boundary
    (``nyegan.defects.frank_bilby.tilt_wall_burgers_length``); a0/√2 where the boundary is not a symmetric tilt
    boundary with known axis and plane (a0: the metadata's, else aluminium's 4.05 Å)."""
    a0 = float(meta.get("a0", 4.05))
    if _symmetric_tilt(meta):
        return tilt_wall_burgers_length(meta["axis"], meta["plane"], a0)
    return a0 / math.sqrt(2.0)


def condition_vector(
    meta: dict, cell_lengths, gb_frac, content_sign: float, fb_angle_deg: float | None = None, dim: int = 3
) -> np.ndarray:
    """Raw feature vector (len(FEATURES),) for one case's metadata (see the build-metadata contract); ``dim``:
    the field's (2: periods along x of the z-projected structure, :func:`periods_along_x`).

    ``fb_angle_deg``: angle of the lattice correspondence giving the Frank-Bilby content (default: the
    metadata misorientation).
    """
    kind = meta.get("kind")
    if kind not in KINDS:
        raise ValueError(f"metadata 'kind' = {kind!r} for case {meta.get('case')!r}: expected one of {KINDS}")
    f = np.zeros(len(FEATURES))
    f[INDEX[f"kind_{kind}"]] = 1.0
    if "misorientation_deg" in meta:
        theta_deg = float(meta["misorientation_deg"])
        f[INDEX["fb_content"]] = abs(frank_bilby_content(fb_angle_deg if fb_angle_deg is not None else theta_deg))
        f[INDEX["theta_rad"]] = math.radians(theta_deg)
    f[INDEX["axis_a"] : INDEX["axis_c"] + 1] = _canonical_direction(meta.get("axis", [0, 0, 0]))
    f[INDEX["plane_a"] : INDEX["plane_c"] + 1] = _canonical_direction(meta.get("plane", [0, 0, 0]))
    if meta.get("sigma"):
        f[INDEX["inv_sigma"]] = 1.0 / float(meta["sigma"])
    ch = meta.get("character")
    if ch is not None:
        if ch not in CHARACTERS:
            raise ValueError(f"metadata 'character' = {ch!r}: expected one of {CHARACTERS}")
        f[INDEX[f"char_{ch}"]] = 1.0
    L = np.asarray(cell_lengths, dtype=float)
    if "distance_to_gb" in meta:
        f[INDEX["distance_to_gb_frac"]] = float(meta["distance_to_gb"]) / L[1]
    f[INDEX["log_Lx"] : INDEX["log_Lz"] + 1] = np.log(L)
    if gb_frac is not None and np.all(np.isfinite(gb_frac)):
        f[INDEX["gb_spacing_frac"]] = (gb_frac[1] - gb_frac[0]) % 1.0
    f[INDEX["content_sign"]] = content_sign
    m = periods_along_x(meta, L, dim)
    if m > 0:
        f[INDEX["periods_x"]] = m
        f[INDEX["log_period_x"]] = math.log(L[0] / m)
    if f[INDEX["kind_gb"]] or f[INDEX["kind_gb_dislocation"]]:
        f[INDEX["wall_burgers_A"]] = wall_burgers(meta)
        if _symmetric_tilt(meta) and "misorientation_deg" in meta:
            f[INDEX["units_two_rows"]] = float(
                unit_rows(meta["axis"], meta["plane"], float(meta["misorientation_deg"])) == 2
            )
    if "burgers_box" in meta:
        a0 = float(meta.get("a0", 1.0))
        f[INDEX["burgers_x"] : INDEX["burgers_z"] + 1] = np.asarray(meta["burgers_box"], float) / a0
    return f
