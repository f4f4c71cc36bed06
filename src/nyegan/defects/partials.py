"""Shockley partial separation of relaxed dislocation cores from the disregistry across the glide plane.

A perfect dislocation b = a0/2<110> on {111} splits into two Shockley partials b1 + b2 = b (|b_k| = |b|/√3, ±30°
from b) bounding an intrinsic stacking fault. Box frame: z = line, y = glide-plane normal, x = y × z (glide
direction of the core), the cell may be tilted in xy.

Method (``disregistry``), per core (builder metadata ``dislocations``: position [x, y] Å, midway between two
atomic glide planes):

1. Atoms of the atomic plane just above (0 < Δy < d) and just below (−d < Δy < 0) the core's glide plane
   (d = glide-plane spacing), within half the distance to the nearest other core on that glide plane (at most a
   quarter of the period along x); Δ by minimum image, so the xy tilt is handled.
2. Each plane's atoms are grouped into columns (same x, along the line); neighbouring columns of a perfect
   plane differ by a lattice vector, so each plane's in-plane (x, z) displacement is unwrapped column by column
   (steps modulo the a0/2<110> lattice, advancing along ±b/2 for the upper/lower plane: the sense −sign·b
   follows from the builder's FS/RH convention).
3. δ(x) = u_upper − u_lower, both interpolated linearly to the columns of both planes (sampling: half a column
   spacing), from 0 on the left of the window to about −sign·b on the right (elastic tails beyond the window
   are cut; the measured ``jump_A`` is checked against −sign·b).
4. δ(x) − δ(left) = c1(x) b1 + c2(x) b2. Each coordinate rises from 0 to ≈1 across its partial; the partial's
   position is where it crosses half of its total rise (linear interpolation between columns, on the running maximum so that the
   elastic wiggles far from the core do not count). ``separation_A`` = |x_2 − x_1|, ``centre`` their midpoint.

Resolution: sub-column (interpolated); a compact, undissociated core gives ≈ 0. The result is NaN (with a
``note``) when the window does not hold a full Burgers vector jump (core moved away, or not a dislocation).

Secondary descriptor (``hcp_ribbon_A``): the x extent of hcp (CNA class 2) atoms within two glide-plane spacings
of the core (+ ``column_spacing``, 0 in the relax record): the stacking-fault ribbon in whole atomic columns; it
underestimates the partial separation because the partial cores themselves are not hcp.
"""

from __future__ import annotations

import numpy as np

from nyegan.structure import Structure

HCP = 2
METHOD = (
    "disregistry: relative (x, z) offset of the two atomic planes bounding each core's glide plane, "
    "unwrapped along x and decomposed on the two Shockley vectors; partial positions where each "
    "Shockley coordinate reaches 1/2 (nyegan.defects.partials)"
)
HCP_METHOD = (
    "hcp (CNA class 2) atoms within 2 glide-plane spacings of each core, x extent (+ column "
    "spacing if given; stacking-fault ribbon, secondary)"
)


def shockley_pair(b_box) -> tuple[np.ndarray, np.ndarray]:
    """The two Shockley vectors (box frame, y = glide-plane normal) with b1 + b2 = b, 30° either side of b."""
    b = np.asarray(b_box, dtype=float)
    m = np.cross([0.0, 1.0, 0.0], b)  # in-plane, normal to b, |m| = |b|
    half_width = m / (2.0 * np.sqrt(3.0))  # b/2 ± m/(2√3): |b_k| = |b|/√3
    return b / 2 + half_width, b / 2 - half_width


def _forward_lattice(jump_xz: np.ndarray) -> np.ndarray:
    """(2, 2) rows: e1 = the expected jump (a0/2<110>, (x, z) components) and e1 turned by 60° in the plane."""
    c, s = 0.5, np.sqrt(3.0) / 2
    e1 = np.asarray(jump_xz, dtype=float)
    return np.array([e1, [c * e1[0] - s * e1[1], s * e1[0] + c * e1[1]]])


def _reduce(v: np.ndarray, lattice: np.ndarray, direction: np.ndarray, backward: float) -> np.ndarray:
    """Representatives of 2D vectors (rows) modulo the {111} lattice (rows e1, e2 = e1 turned by 60°): the
    component normal to e1 within ±|e1|√3/4 (the offsets of a Shockley partial, ±|e1|/(2√3), stay inside), the
    component along ``direction`` (±e1/|e1|) in [−backward, 1 − backward)·|e1|."""
    e1, e2 = lattice
    b = np.linalg.norm(e1)
    along = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    normal = np.array([-e1[1], e1[0]]) / b
    n2 = np.round((v @ normal) / (e2 @ normal))
    v = v - n2[:, None] * e2
    n1 = np.floor((v @ along) / b + backward)
    return v - n1[:, None] * (along * b)


def _half_rise(x: np.ndarray, c: np.ndarray) -> float:
    """x where the running maximum of c first reaches half of c's total rise (linear interpolation), NaN if never."""
    half = 0.5 * (c[0] + c[-1])
    run = np.maximum.accumulate(c)
    k = int(np.argmax(run >= half))
    if run[k] < half:
        return float("nan")
    if k == 0:
        return float(x[0])
    c0, c1 = run[k - 1], run[k]
    return float(x[k - 1] + (half - c0) / (c1 - c0) * (x[k] - x[k - 1]))


def _plane_displacement(xz: np.ndarray, lattice: np.ndarray, forward: np.ndarray, backward: float, column_tol: float):
    """Displacement along x of one atomic {111} plane, relative to its first column (Å, (x, z) components).

    ``xz``: (n, 2) in-plane positions of the plane's atoms. Atoms are grouped into columns (same x, along the
    line); neighbouring columns of a perfect plane differ by a lattice vector, so the displacement step between
    them is their difference modulo the lattice, taken with its component along ``forward`` (unit) in
    [−backward, 1 − backward)·|b|. Returns (column x, displacement (n_col, 2))."""
    order = np.argsort(xz[:, 0])
    xz = xz[order]
    column = np.concatenate([[0], np.cumsum(np.diff(xz[:, 0]) > column_tol)])
    n_col = column[-1] + 1
    ref = xz[np.searchsorted(column, np.arange(n_col))][column]
    dev = _reduce(xz - ref, lattice, lattice[0], 0.5)  # within a column: same site up to a lattice vector
    counts = np.bincount(column)
    rep = ref[np.searchsorted(column, np.arange(n_col))] + np.stack(
        [np.bincount(column, dev[:, k]) / counts for k in range(2)], axis=1
    )
    steps = _reduce(np.diff(rep, axis=0), lattice, forward, backward)
    return rep[:, 0], np.vstack([np.zeros((1, 2)), np.cumsum(steps, axis=0)])


def disregistry_profile(
    s: Structure,
    core,
    glide_plane_spacing: float,
    expected_jump,
    half_window: float,
    column_tol: float = 0.4,
    backward: float = 0.3,
):
    """Disregistry δ(x) = u(upper plane) − u(lower plane) (Å, (x, z) components) across the glide plane through
    ``core`` = [x, y] (Å), scanned along +x.

    Each bounding plane's displacement is unwrapped along x on its own (``_plane_displacement``): the upper plane
    advances along ``expected_jump`` (the Burgers vector the disregistry gains across the core, = −sign · b for
    the builder's FS/RH convention), the lower one against it, each by about half of it, so steps up to
    0.7 |b| per column and per plane are resolved (the compact screw core of Al moves each plane by ≈ 0.4 |b|
    between neighbouring columns, a0√6/4 apart). Both displacements are interpolated linearly to the columns of
    both planes (sampling: half a column spacing). Returns (x, delta): sampling positions relative to the core
    (ascending) and δ − δ(first sample), shape (n, 2).
    """
    d = float(glide_plane_spacing)
    rel = s.minimum_image(s.positions - np.array([core[0], core[1], 0.0]))
    upper = (np.abs(rel[:, 0]) < half_window) & (rel[:, 1] > 0) & (rel[:, 1] < d)
    lower = (np.abs(rel[:, 0]) < half_window + d) & (rel[:, 1] < 0) & (rel[:, 1] > -d)
    if upper.sum() < 4 or lower.sum() < 4:
        raise ValueError(
            f"core at {list(core)}: too few atoms on the planes bounding its glide plane "
            f"(spacing {d} Å); check the metadata's 'dislocations' and 'glide_plane_spacing'"
        )
    jump = np.asarray(expected_jump, dtype=float)[[0, 2]]
    lattice = _forward_lattice(jump)
    forward = jump / np.linalg.norm(jump)
    xu, uu = _plane_displacement(rel[upper][:, [0, 2]], lattice, forward, backward, column_tol)
    xl, ul = _plane_displacement(rel[lower][:, [0, 2]], lattice, -forward, backward, column_tol)
    # both planes' columns as sampling points (twice the resolution of one plane), inside both planes' ranges
    x = np.sort(np.concatenate([xu, xl]))
    x = x[(x >= max(xu[0], xl[0])) & (x <= min(xu[-1], xl[-1]))]
    delta = np.stack([np.interp(x, xu, uu[:, k]) - np.interp(x, xl, ul[:, k]) for k in range(2)], axis=1)
    return x, delta - delta[0]


def _window(cores: np.ndarray, k: int, lx: float, ly: float, spacing: float) -> float:
    """Half the x distance to the nearest other core on the same glide plane (minimum image), at most Lx/4."""
    ddx = cores[:, 0] - cores[k, 0]
    ddx -= lx * np.round(ddx / lx)
    ddy = cores[:, 1] - cores[k, 1]
    ddy -= ly * np.round(ddy / ly)
    same = (np.abs(ddy) < spacing / 2) & (np.arange(len(cores)) != k)
    return float(min(lx / 4, 0.5 * np.abs(ddx[same]).min()) if same.any() else lx / 4)


def partial_separations(
    s: Structure,
    dislocations: list[dict],
    glide_plane_spacing: float,
    burgers_box,
    cna: np.ndarray | None = None,
    column_spacing: float = 0.0,
) -> list[dict]:
    """Per dislocation (builder metadata: position [x, y] Å, sign ±1): {"position", "sign", "separation_A",
    "partial_x_A", "centre_A", "jump_A"} plus, when ``cna`` (CNA class per atom) is given, the secondary
    {"hcp_ribbon_A", "n_hcp"}. Lengths in Å, box frame."""
    lx, ly = s.cell[0, 0], s.cell[1, 1]
    b = np.asarray(burgers_box, dtype=float)
    cores = np.array([d["position"][:2] for d in dislocations], dtype=float)
    out = []
    for k, d in enumerate(dislocations):
        x0, y0 = cores[k]
        sign = int(d.get("sign", 1))
        half = _window(cores, k, lx, ly, glide_plane_spacing)
        rec = {"position": [float(x0), float(y0)], "sign": sign}
        expected = -sign * b  # FS/RH: the disregistry scanned along +x gains -sign * b
        try:
            xs, delta = disregistry_profile(s, (x0, y0), glide_plane_spacing, expected, half)
        except ValueError as exc:  # e.g. a core next to a boundary: a diagnosis, never a reason to lose the cell
            rec.update(separation_A=float("nan"), partial_x_A=[float("nan")] * 2, centre_A=[float("nan")] * 2,
                       note=f"no disregistry profile: {exc}")  # fmt: skip
            out.append(rec)
            continue
        jump = delta[-1]
        rec["jump_A"] = [float(jump[0]), 0.0, float(jump[1])]
        b1, b2 = shockley_pair(expected)
        coeff = np.linalg.solve(np.array([b1[[0, 2]], b2[[0, 2]]]).T, delta.T).T  # (n, 2): c1, c2
        # the window cuts the elastic tails (|jump| < |b| by ~15 % for ±12 Å): the jump's direction is checked,
        # its length loosely
        err = np.linalg.norm(jump - expected[[0, 2]])
        if err > 0.35 * np.linalg.norm(b) or not (coeff[-1] > 0.5).all():
            rec.update(
                separation_A=float("nan"),
                partial_x_A=[float("nan")] * 2,
                centre_A=[float("nan")] * 2,
                note=f"disregistry jump {np.round(jump, 3).tolist()} Å (x, z) across the window "
                f"±{half:.1f} Å is not -sign*b = {np.round(expected[[0, 2]], 3).tolist()}: "
                f"no single dislocation there",
            )
        else:
            xp = np.array([_half_rise(xs, coeff[:, j]) for j in range(2)])
            rec["separation_A"] = float(abs(xp[1] - xp[0]))
            rec["partial_x_A"] = (x0 + np.sort(xp)).tolist()
            rec["centre_A"] = [float(x0 + xp.mean()), float(y0)]
        if cna is not None:
            rec.update(hcp_ribbon(s, cna, (x0, y0), glide_plane_spacing, half, column_spacing))
        out.append(rec)
    return out


def hcp_ribbon(
    s: Structure, cna: np.ndarray, core, glide_plane_spacing: float, half_window: float, column_spacing: float = 0.0
) -> dict:
    """Secondary descriptor: x extent (Å) of hcp atoms within 2 glide-plane spacings of the core, + column_spacing."""
    hcp = np.asarray(cna) == HCP
    rel = s.minimum_image(s.positions[hcp] - np.array([core[0], core[1], 0.0]))
    near = (np.abs(rel[:, 1]) < 2.0 * glide_plane_spacing) & (np.abs(rel[:, 0]) < half_window)
    width = float(rel[near, 0].max() - rel[near, 0].min() + column_spacing) if near.any() else 0.0
    return {"hcp_ribbon_A": width, "n_hcp": int(near.sum())}


def theory_separation(mu_gpa: float, nu: float, b: float, gamma_mj_m2: float, beta_deg: float) -> float:
    """Isotropic linear-elastic equilibrium separation (Å) of the two Shockley partials of a perfect dislocation
    (Hirth & Lothe): d = μ b_p² / (8π γ) · (2 − ν)/(1 − ν) · (1 − 2ν cos 2β / (2 − ν)), b_p² = b²/3,
    β = angle between b and the line. μ in GPa, b in Å, γ in mJ/m² (μ b²/γ in Å = 100 · GPa·Å² / (mJ/m²))."""
    if not gamma_mj_m2 > 0:
        raise ValueError(f"stacking-fault energy must be positive for a dissociation, got {gamma_mj_m2} mJ/m²")
    scale = 100.0 * mu_gpa * (b * b / 3.0) / (8 * np.pi * gamma_mj_m2)
    return float(scale * (2 - nu) / (1 - nu) * (1 - 2 * nu * np.cos(2 * np.radians(beta_deg)) / (2 - nu)))


def isotropic_constants(c11: float, c12: float, c44: float) -> tuple[float, float]:
    """(μ, ν) for the isotropic partial-separation formula from cubic constants (GPa): μ = (C11 − C12 + C44)/3,
    the shear modulus of {111} planes in any in-plane direction (the glide plane of the partials), and ν the
    Voigt-average Poisson ratio, (3K − 2μ_V) / (2 (3K + μ_V)), K = (C11 + 2 C12)/3, μ_V = (C11 − C12 + 3 C44)/5."""
    mu_111 = (c11 - c12 + c44) / 3.0
    k = (c11 + 2 * c12) / 3.0
    mu_v = (c11 - c12 + 3 * c44) / 5.0
    return float(mu_111), float((3 * k - 2 * mu_v) / (2 * (3 * k + mu_v)))


def dislocation_partials(s: Structure, meta: dict, potential, props) -> dict:
    """The relax record's ``partials`` entry for a relaxed dislocation cell ``s`` with builder metadata ``meta``:
    method, γ_SF of the potential (LAMMPS, cached), the isotropic elastic constants used, and per core the
    measured separation next to the linear-elastic equilibrium separation (all Å)."""
    from nyegan.defects.stacking_fault import stacking_fault_energy

    gamma = stacking_fault_energy(potential)
    mu, nu = isotropic_constants(props.c11, props.c12, props.c44)
    b_box = np.asarray(meta["burgers_box"], dtype=float)
    beta = float(meta.get("character_angle_deg", 90.0))
    d_theory = theory_separation(mu, nu, float(np.linalg.norm(b_box)), gamma, beta)
    spacing = float(meta.get("glide_plane_spacing", props.a0 / np.sqrt(3.0)))
    cna = s.extra.pop("cna", None)
    cores = partial_separations(s, meta["dislocations"], spacing, b_box, cna=cna)
    for c in cores:
        c["theory_separation_A"] = d_theory
    return {
        "method": METHOD,
        "secondary": HCP_METHOD + " -> cores[k].hcp_ribbon_A",
        "gamma_sf_mJ_m2": gamma,
        "theory_separation_A": d_theory,
        "theory": {
            "formula": "mu b_p^2 / (8 pi gamma_SF) (2 - nu)/(1 - nu) (1 - 2 nu cos(2 beta)/(2 - nu))",
            "mu_GPa": mu,
            "nu": nu,
            "beta_deg": beta,
            "moduli": "mu = (C11 - C12 + C44)/3 ({111} shear modulus), nu = Voigt average",
        },
        "cores": cores,
    }
