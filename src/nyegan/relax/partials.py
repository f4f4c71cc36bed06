"""Shockley partial separation of relaxed dislocation cores from common neighbour analysis.

A perfect a0/2<110> dislocation in fcc splits into two a0/6<112> Shockley partials bounding an intrinsic stacking
fault, whose atoms have hcp stacking (CNA class 2). Around each core (builder metadata ``dislocations``:
position [x, y] in Å) we take the hcp atoms within two glide-plane spacings of the core's glide plane (|Δy|) and
within half the distance to the nearest other core on that plane
(at most a quarter cell) along x (minimum image), and report the ribbon width = extent of their x coordinates
+ one x-plane spacing (the fault between the two partial cores covers whole atomic columns). Resolution: one
atomic column (≈ a0/(2√2) for edge, a0√6/4 for screw orientations). 0 means no fault (compact core).
"""

from __future__ import annotations

import numpy as np

from nyegan.structure import Structure

HCP = 2


def partial_separations(s: Structure, cna: np.ndarray, dislocations: list[dict], glide_plane_spacing: float,
                        column_spacing: float = 0.0) -> list[dict]:
    """Per dislocation: {"position", "sign", "n_hcp", "separation_A"} (Å)."""
    lx, ly = s.cell[0, 0], s.cell[1, 1]
    hcp = s.positions[np.asarray(cna) == HCP]
    out = []
    cores = np.array([d["position"][:2] for d in dislocations], dtype=float)
    for k, d in enumerate(dislocations):
        x0, y0 = d["position"][:2]
        # window: half the distance to the nearest other core on the same glide plane (else a quarter cell)
        ddx = cores[:, 0] - x0
        ddx -= lx * np.round(ddx / lx)
        ddy = cores[:, 1] - y0
        ddy -= ly * np.round(ddy / ly)
        same = (np.abs(ddy) < glide_plane_spacing / 2) & (np.arange(len(cores)) != k)
        half = min(lx / 4, 0.5 * np.abs(ddx[same]).min()) if same.any() else lx / 4
        dx = hcp[:, 0] - x0
        dx -= lx * np.round(dx / lx)
        dy = hcp[:, 1] - y0
        dy -= ly * np.round(dy / ly)
        near = (np.abs(dy) < 2.0 * glide_plane_spacing) & (np.abs(dx) < half)
        width = float(dx[near].max() - dx[near].min() + column_spacing) if near.any() else 0.0
        out.append({"position": [float(x0), float(y0)], "sign": d.get("sign"), "n_hcp": int(near.sum()),
                    "separation_A": width})
    return out
