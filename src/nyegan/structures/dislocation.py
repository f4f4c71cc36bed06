"""Periodic cells holding straight dislocations in fcc (dipoles / quadrupoles), from anisotropic (Stroh) fields.

Box frame: z = line direction, y = glide-plane normal, x = y × z; the box is orthogonal and its lengths are exact
lattice periods. The Burgers vector is a0/2<110> in the glide plane. Defaults (glide plane (111),
b = a0/2 [1 -1 0]):

- edge:  line [1 1 -2]  (x = [-1 1 0], so b points along -x)
- screw: line [1 -1 0]  (b along +z)
- mixed: line [1 0 -1], the 60° dislocation (b . line > 0; of the two <110> lines at 60° to b in (111) the
  lexicographically largest is taken).

Arrangements (net Burgers vector zero, cuts on the glide planes between partners):

- ``quadrupole``: +b at (Lx/4, Ly/4), -b at (3Lx/4, Ly/4), -b at (Lx/4, 3Ly/4), +b at (3Lx/4, 3Ly/4); the cuts
  are the glide-plane segments between the two cores of each row. Every core sits at a symmetric position of
  its images, the field has no spurious linear term and the cell no average plastic strain.
- ``dipole``: +b at (Lx/4, Ly/2), -b at (3Lx/4, Ly/2). The slipped half of the plane leaves a uniform
  non-periodic part b/2 per period Ly, removed as a linear field: the cell keeps the corresponding back-strain.

The cores lie midway between two atomic glide planes, so no atom sits on a cut, and on an atomic plane normal
to x (for the default edge a (1-10) mirror plane: the glide forces of the quadrupole, an unstable equilibrium in a
crystal with a low Peierls barrier such as Al, then vanish by symmetry and a relaxation keeps the cores). Because b lies in the cut plane,
the displacement jump is a slip by a lattice vector: no half plane is inserted or removed and the atom count of
the perfect crystal is kept (even for the edge component: the extra half planes of the +b and -b partners are
the two ends of the same slipped strip). Pairs closer than ``overlap_cutoff`` after displacement would still lose
one atom each (counted in the metadata); none occur for the default cells.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

import nyegan
from nyegan.elasticity import PeriodicDislocationField, stroh_for_crystal
from nyegan.lattice import (
    as_int_vector,
    fcc_plane_spacing,
    fcc_repeat_length,
    fill_box_with_lattice,
    reduce_indices,
    rotation_from_rows,
    unit,
)
from nyegan.potentials import CubicProperties
from nyegan.structure import Structure
from nyegan.structures.gb import remove_close_pairs
from nyegan.structures.names import dislocation_case_name

CHARACTERS = ("edge", "screw", "mixed")
ARRANGEMENTS = ("quadrupolar", "quadrupole", "dipole")


def default_arrangement(character: str) -> str:
    """Stable default: opposite signs at 45° ('quadrupolar') when b has an edge part, else the screw quadrupole."""
    return "quadrupole" if character == "screw" else "quadrupolar"


DEFAULT_GLIDE_PLANE = (1, 1, 1)
DEFAULT_BURGERS = (0.5, -0.5, 0.0)
_ANGLE_TOL_DEG = 1e-4

# Smallest cells (Å along x, y, z; default arrangements) whose relaxed cores are size-converged: the Shockley
# partial separation and the core Burgers content lie within 5 % of a cell twice as large in x and y
# (tests/test_core_size_convergence.py, Al_mm). Measured: edge 120 x 96 x 8 Å, separation 10.62 Å vs 11.11 Å in
# 240 x 192 (4.4 %); screw 70 x 56 x 8 Å relaxed with relax.jitter = 0.05 Å, 4.25 Å vs 4.34 Å in 140 x 112 (2 %;
# without jitter the symmetric Volterra screw core stays compact, a saddle); mixed (60°) takes the edge size.
CONVERGED_MIN_SIZE = {"edge": (120.0, 96.0, 8.0), "mixed": (120.0, 96.0, 8.0), "screw": (70.0, 56.0, 8.0)}
CONVERGED_SCREW_JITTER = 0.05  # Å: relax.jitter the screw measurement used


def size_convergence(character: str, arrangement: str, lengths) -> dict:
    """Metadata keys telling whether a cell of ``lengths`` (Å, x, y, z) reaches the size-converged cell of its
    character (:data:`CONVERGED_MIN_SIZE`): ``size_converged``, ``converged_min_size`` and, when it does not, a
    ``note`` saying the cell is for speed only."""
    need = CONVERGED_MIN_SIZE[character]
    size = " x ".join(f"{v:g}" for v in need)
    out = {"size_converged": False, "converged_min_size": list(need)}
    if arrangement != default_arrangement(character):
        out["note"] = (
            f"size convergence measured for the default '{default_arrangement(character)}' arrangement only, "
            f"not for '{arrangement}'"
        )
    elif any(v < n - 1e-6 for v, n in zip(lengths, need)):
        cell = " x ".join(f"{v:.1f}" for v in lengths)
        out["note"] = (
            f"cell for speed only, smaller than the size-converged {size} Å of a {character} core "
            f"({cell} Å; partial separation and core Burgers content within 5 % of a cell twice as large need "
            f"min_size >= [{', '.join(f'{v:g}' for v in need)}])"
        )
    else:
        out["size_converged"] = True
    return out


def burgers_fraction(burgers) -> np.ndarray:
    """Burgers vector as a fraction of a0 (crystal frame), a0/2<110>. Accepts [0.5, -0.5, 0] or [1, -1, 0]."""
    b = np.asarray(burgers, dtype=float).reshape(-1)
    if b.size != 3 or not np.any(b):
        raise ValueError(f"burgers must be three numbers (fractions of a0, e.g. [0.5, -0.5, 0]), got {burgers}")
    direction = b / np.abs(b).max()
    if sorted(np.abs(np.round(direction, 9)).tolist()) != [0.0, 1.0, 1.0]:
        raise ValueError(
            f"burgers {np.asarray(b).tolist()} is not along a <110> direction: fcc perfect dislocations have "
            "b = a0/2<110>, e.g. [0.5, -0.5, 0]"
        )
    if not (np.isclose(np.linalg.norm(b), np.sqrt(0.5)) or np.isclose(np.linalg.norm(b), np.sqrt(2.0))):
        raise ValueError(
            f"burgers {np.asarray(b).tolist()} has the wrong length: give a0/2<110> as [0.5, -0.5, 0] (or the direction [1, -1, 0])"
        )
    return 0.5 * direction


def character_angle_deg(burgers, line) -> float:
    """Angle (degrees, 0..180) between the Burgers vector and the line direction."""
    b, t = unit(burgers), unit(line)
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(b, t)), np.dot(b, t))))


def character_of_angle(angle_deg: float) -> str:
    if min(angle_deg, 180.0 - angle_deg) < _ANGLE_TOL_DEG:
        return "screw"
    if abs(angle_deg - 90.0) < _ANGLE_TOL_DEG:
        return "edge"
    return "mixed"


def _lines_in_plane(plane) -> list[np.ndarray]:
    """The <110> directions lying in a plane (one of each ± pair, lexicographically largest first)."""
    dirs = []
    for v in itertools.permutations((1, -1, 0)):
        for s in (1, -1):
            d = s * np.array(v)
            if np.dot(d, plane) == 0 and not any(np.array_equal(d, e) or np.array_equal(-d, e) for e in dirs):
                dirs.append(d)
    return sorted(dirs, key=lambda d: tuple(d), reverse=True)


def default_line(character: str, burgers, glide_plane) -> np.ndarray:
    """Line direction (integer crystal indices) of a dislocation of the given character in the glide plane."""
    b2 = np.round(2.0 * np.asarray(burgers)).astype(int)
    n = np.asarray(glide_plane, dtype=int)
    if character == "edge":
        return reduce_indices(np.cross(n, b2))
    if character == "screw":
        return reduce_indices(b2)
    candidates = [d for d in _lines_in_plane(n) if abs(character_angle_deg(b2, d) - 60.0) < 1e-6]
    if not candidates:
        raise ValueError(
            f"no <110> line at 60° to b = {np.asarray(burgers).tolist()} in the glide plane {np.asarray(n).tolist()}: "
            "give the line direction explicitly (line=[u, v, w])"
        )
    return candidates[0]


def slip_system(character: str, line=None, burgers=None, glide_plane=None):
    """Validated (line, burgers fraction, glide plane, character angle) for the crystal-frame inputs."""
    if character not in CHARACTERS:
        raise ValueError(f"character must be one of {CHARACTERS}, got {character!r}")
    n = reduce_indices(as_int_vector(DEFAULT_GLIDE_PLANE if glide_plane is None else glide_plane, "glide_plane"))
    b = burgers_fraction(DEFAULT_BURGERS if burgers is None else burgers)
    if abs(np.dot(b, n)) > 1e-12:
        raise ValueError(
            f"burgers {np.asarray(b).tolist()} does not lie in the glide plane {np.asarray(n).tolist()} (b . n must be 0): "
            "choose a <110> direction of that plane"
        )
    if line is None:
        t = default_line(character, b, n)
    else:
        t = reduce_indices(as_int_vector(line, "line"))
        if np.dot(t, n) != 0:
            raise ValueError(
                f"line {np.asarray(t).tolist()} does not lie in the glide plane {np.asarray(n).tolist()} (line . n must be 0)"
            )
    angle = character_angle_deg(b, t)
    if character_of_angle(angle) != character:
        raise ValueError(
            f"line {np.asarray(t).tolist()} and burgers {np.asarray(b).tolist()} make {angle:.2f}°, a "
            f"{character_of_angle(angle)} dislocation, not {character}: change line or character"
        )
    return t, b, n, angle


def _even_plane_repeats(n_rep: int, period: float, spacing: float) -> int:
    """Smallest n >= n_rep with n * period / 2 a whole number of plane spacings."""
    per = int(round(period / spacing))
    while (n_rep * per) % 2:
        n_rep += 1
    return n_rep


@dataclass(frozen=True)
class _Slip:
    """Slip system and cell geometry shared by the builders: crystal indices, box frame, lattice, elasticity."""

    character: str
    angle: float
    b: np.ndarray  # Burgers vector, fraction of a0 (crystal frame)
    t: np.ndarray  # line (crystal)
    n: np.ndarray  # glide-plane normal (crystal)
    x_dir: np.ndarray
    rotation: np.ndarray
    a0: float
    cubic: CubicProperties
    spacing: float  # glide-plane spacing (Å)
    periods: np.ndarray
    seed: int

    @property
    def b_box(self) -> np.ndarray:
        return self.rotation @ (self.b * self.a0)

    def stroh(self):
        return stroh_for_crystal(self.cubic.stiffness(), self.rotation)


def build_dislocation_cell(
    character: str,
    a0: float,
    cubic: CubicProperties,
    line=None,
    burgers=None,
    glide_plane=None,
    min_size=(40.0, 40.0, 5.0),
    arrangement: str | None = None,
    seed: int = 0,
    overlap_cutoff: float | None = None,
) -> tuple[Structure, dict]:
    """Periodic fcc cell with a dislocation quadrupole or dipole (unrelaxed anisotropic Volterra field).

    character: "edge" | "screw" | "mixed". a0: lattice constant (Å) of the atoms; cubic: elastic constants (GPa)
    used for the field (its a0 is not used). line / burgers / glide_plane: crystal indices; burgers as fractions
    of a0 (a0/2<110>). min_size: minimum box lengths (Å) along x, y, z. overlap_cutoff: pairs closer than this
    (Å) lose one atom (default 0.6 of the nearest-neighbour distance). seed: recorded (the build is
    deterministic). Returns the structure (grain id 1) and its metadata; the metadata says whether the cell
    reaches the size-converged cell of its character (``size_converged``, :data:`CONVERGED_MIN_SIZE`), and if
    not, why (``note``).
    """
    if arrangement is None:
        arrangement = default_arrangement(character)
    if arrangement not in ARRANGEMENTS:
        raise ValueError(f"arrangement must be one of {ARRANGEMENTS} (or None for the default), got {arrangement!r}")
    if not a0 > 0:
        raise ValueError(f"a0 must be positive, got {a0}")
    min_size = np.asarray(min_size, dtype=float).reshape(-1)
    if min_size.size != 3 or np.any(min_size < 0):
        raise ValueError(f"min_size must be three non-negative lengths (Å), got {list(min_size)}")
    t, b, n, angle = slip_system(character, line, burgers, glide_plane)
    x_dir = reduce_indices(np.cross(n, t))
    rotation = rotation_from_rows(x_dir, n, t)
    periods = np.array([fcc_repeat_length(x_dir, a0), fcc_repeat_length(n, a0), fcc_repeat_length(t, a0)])
    spacing = fcc_plane_spacing(n, a0)
    reps = np.maximum(1, np.ceil(min_size / periods - 1e-9)).astype(int)
    reps[0] = _even_plane_repeats(max(reps[0], 2), periods[0], fcc_plane_spacing(x_dir, a0))
    if arrangement == "quadrupole":
        reps[1] = _even_plane_repeats(max(reps[1], 2), periods[1], spacing)
    slip = _Slip(character, angle, b, t, n, x_dir, rotation, a0, cubic, spacing, periods, seed)
    if arrangement == "quadrupolar":
        s, meta = _build_quadrupolar(slip, reps, overlap_cutoff)
        meta["case"] = dislocation_case_name(character, arrangement, line)
        meta.update(size_convergence(character, arrangement, meta["lattice_box"]))
        return s, meta
    lengths = periods * reps
    lx, ly, _ = lengths

    if arrangement == "quadrupole":
        pairs = [((lx / 4, ly / 4), (3 * lx / 4, ly / 4)), ((3 * lx / 4, 3 * ly / 4), (lx / 4, 3 * ly / 4))]
    else:
        pairs = [((lx / 2 - lx / 4, ly / 2), (lx / 2 + lx / 4, ly / 2))]
    core_x, core_y = pairs[0][0]
    origin_y = np.mod(core_y - 0.5 * spacing, spacing)  # atomic glide planes at origin_y + k * spacing
    # cores on an atomic plane normal to x: a mirror plane of the lattice for the default edge orientation,
    # so the quadrupole's (unstable) glide equilibrium is exact by symmetry
    spacing_x = fcc_plane_spacing(x_dir, a0)
    origin_x = np.mod(core_x, spacing_x)
    reference = fill_box_with_lattice(rotation, lengths, a0, origin=(origin_x, origin_y, 0.0))

    stroh = slip.stroh()
    b_box = slip.b_box
    field = PeriodicDislocationField(stroh, b_box, lengths[:2], pairs)
    u = field.displacement(reference)
    u -= u.mean(axis=0)  # no rigid translation of the cell
    s = Structure(positions=reference + u, cell=np.diag(lengths), grain=np.ones(len(reference), int)).wrapped()
    n_perfect = s.n_atoms
    cutoff = 0.6 * a0 / np.sqrt(2.0) if overlap_cutoff is None else float(overlap_cutoff)
    s, n_removed = remove_close_pairs(s, cutoff, prefer_remove_grain=1)

    dislocations = []
    for plus, minus in pairs:
        dislocations.append({"position": [float(v) for v in plus], "sign": 1})
        dislocations.append({"position": [float(v) for v in minus], "sign": -1})
    meta = _slip_metadata(slip, stroh, dislocations, pairs, arrangement, reps, s)
    meta.update(
        {
            "case": dislocation_case_name(character, arrangement, line),
            "n_atoms_perfect": n_perfect,
            "overlap_cutoff": cutoff,
            "n_removed_overlap": n_removed,
            "linear_term_removed": field.linear.tolist(),
            **size_convergence(character, arrangement, lengths),
        }
    )
    return s, meta


def _slip_metadata(slip: _Slip, stroh, dislocations, cuts, arrangement, reps, s: Structure) -> dict:
    """Metadata keys shared by every dislocation cell (slip system, cores, cuts, elasticity, cell)."""
    character, angle, b, b_box, t, n = slip.character, slip.angle, slip.b, slip.b_box, slip.t, slip.n
    x_dir, rotation, a0, cubic, spacing, periods, seed = (
        slip.x_dir, slip.rotation, slip.a0, slip.cubic, slip.spacing, slip.periods, slip.seed
    )  # fmt: skip
    return {
        "kind": "dislocation",
        "character": character,
        "character_angle_deg": angle,
        "burgers": b.tolist(),
        "burgers_box": b_box.round(12).tolist(),
        "line": t.tolist(),
        "glide_plane": n.tolist(),
        "box_directions": {"x": x_dir.tolist(), "y": n.tolist(), "z": t.tolist()},
        "rotations": {"1": rotation.tolist()},
        "dislocations": dislocations,
        "cuts": [{"from": [float(v) for v in p], "to": [float(v) for v in m]} for p, m in cuts],
        "arrangement": arrangement,
        "sign_convention": "sign +1: Burgers vector +burgers_box for line +z; a counter-clockwise (RH about +z) "
        "circuit closes on +b (FS/RH, b_i = integral of alpha_iz dS)",
        "a0": float(a0),
        "elastic_constants": {"c11": cubic.c11, "c12": cubic.c12, "c44": cubic.c44},
        "stroh_p": [[float(p.real), float(p.imag)] for p in stroh.p],
        "glide_plane_spacing": spacing,
        "periodic_cell": periods.tolist(),
        "replication": reps.tolist(),
        "cell": s.cell.tolist(),
        "n_atoms": s.n_atoms,
        "seed": int(seed),
        "nyegan_version": nyegan.__version__,
    }


def _close_pairs_xy_tilted(s: Structure, cutoff: float) -> int:
    """Number of atom pairs closer than ``cutoff`` (Å) in a cell tilted in xy (explicit periodic images)."""
    pos = s.wrapped().positions - s.origin
    shifts = np.array(
        [i * s.cell[0] + j * s.cell[1] + k * s.cell[2] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)]
    )
    from scipy.spatial import cKDTree

    images = cKDTree((pos[None] + shifts[:, None]).reshape(-1, 3))
    pairs = images.query_ball_point(pos, cutoff, return_length=True)
    return int((pairs - 1).sum() // 2)


def _build_quadrupolar(slip: _Slip, reps, overlap_cutoff):
    """Dipole +b at (Lx/4, Ly/4), -b at (3Lx/4, 3Ly/4): one sign per glide plane, opposite neighbours at ~45°.

    Cut: a glide segment (Lx/4, Ly/4) -> (3Lx/4, Ly/4) and a climb segment at x = 3Lx/4 spanning half the height
    (up to 3Ly/4, or down through the periodic boundary, whichever makes the two faces overlap), across which the
    edge component |b_x| of material (|b_x| / d planes normal to x) is removed. The plastic strain of the dipole
    (x shift b/2 per period Ly from the glide cut, per period Lx from the climb cut) is absorbed by the box:
    Lx -> Lx + delta_x and an xy tilt (Bulatov & Cai), so no homogeneous back-stress pushes the cores; only
    the z (screw) parts of the shifts, which a LAMMPS box with its line along z cannot absorb, stay as a
    uniform elastic strain (zero for edge dislocations).
    """
    a0, periods, spacing, rotation = slip.a0, slip.periods, slip.spacing, slip.rotation
    spacing_x = fcc_plane_spacing(slip.x_dir, a0)
    reps[0] = _even_plane_repeats(max(reps[0], 2), periods[0], spacing_x)
    reps[1] = max(2, reps[1] + reps[1] % 2)  # Ly / 2 a whole period: the removed slab is a whole number of cells
    while periods[1] * reps[1] < 0.8 * periods[0] * reps[0]:  # near-square: neighbours close to 45°
        reps[1] += 2
    while periods[0] * reps[0] < 0.8 * periods[1] * reps[1]:
        reps[0] = _even_plane_repeats(reps[0] + 1, periods[0], spacing_x)
    lengths = periods * reps
    lx, ly, lz = lengths
    b_box = slip.b_box
    n_slab = abs(b_box[0]) / spacing_x
    if abs(n_slab - round(n_slab)) > 1e-6:
        raise ValueError(
            f"the edge component of b ({abs(b_box[0]):.4f} Å) is not a whole number of atomic planes "
            f"normal to x (spacing {spacing_x:.4f} Å): use arrangement='quadrupole'"
        )
    n_slab = int(round(n_slab))
    p_plus = np.array([lx / 4, ly / 4])
    x_climb = 3 * lx / 4
    origin_y = np.mod(p_plus[1] - 0.5 * spacing, spacing)
    # slab faces x_climb +- |b_x| / 2 midway between atomic planes normal to x
    origin_x = np.mod(x_climb - 0.5 * abs(b_box[0]) - 0.5 * spacing_x, spacing_x)
    reference = fill_box_with_lattice(rotation, lengths, a0, origin=(origin_x, origin_y, 0.0))
    stroh = slip.stroh()
    corner = np.array([x_climb, p_plus[1]])

    def make(direction):
        p_minus = corner + [0.0, direction * ly / 2]
        return p_minus, PeriodicDislocationField(stroh, b_box, lengths[:2], [(p_plus, corner), (corner, p_minus)])

    direction = 1.0
    p_minus, field = make(direction)
    probe = np.array([[x_climb - 0.3, p_plus[1] + ly / 4], [x_climb + 0.3, p_plus[1] + ly / 4]])
    jump = field._raw_displacement(probe)
    if n_slab and jump[0, 0] - jump[1, 0] < 0:  # faces would open: climb the other way round instead
        direction = -1.0
        p_minus, field = make(direction)
    y_lo = min(p_plus[1], p_minus[1])
    in_slab = (np.abs(reference[:, 0] - x_climb) < 0.5 * abs(b_box[0])) & (np.mod(reference[:, 1] - y_lo, ly) < ly / 2)
    n_climb = int(in_slab.sum())
    reference = reference[~in_slab]
    u = field._raw_displacement(reference)
    # u(r + L_k) - u(r) = plastic shift f_k b (f = +-1/2: b times the fraction of the period the cut crosses)
    # + an elastic part of the conditionally convergent image sum; the box absorbs the plastic shift (what a
    # LAMMPS box with z along the line can hold: x of a1, x and y of a2), the rest is removed as a linear term
    shift = field.linear * lengths[:2]  # (3, 2) columns: shifts over Lx, Ly (Å)
    bb = float(b_box @ b_box)
    fractions = np.round(2.0 * (b_box @ shift) / bb) / 2.0
    # the x-periodic image sum hides the climb cut's shift in an elastic strain of the band it spans: take it
    # from the jump across the climb cut instead (u_right - u_left = -jump, over half of the height)
    jump = field._raw_displacement(probe)
    fractions[0] = -0.5 * np.sign(float(b_box @ (jump[0] - jump[1]))) if n_slab else 0.0
    plastic = b_box[:, None] * fractions[None, :]
    absorbed = np.zeros((3, 2))
    absorbed[0, 0] = plastic[0, 0]
    absorbed[:2, 1] = plastic[:2, 1]
    cell = np.array([[lx + absorbed[0, 0], 0.0, 0.0], [absorbed[0, 1], ly + absorbed[1, 1], 0.0], [0.0, 0.0, lz]])
    residual = (shift - absorbed) / lengths[:2]  # (3, 2): removed as a uniform strain
    shift_x, shift_y = plastic[:, 0], plastic[:, 1]
    u -= reference[:, :2] @ residual.T
    u -= u.mean(axis=0)
    s = Structure(positions=reference + u, cell=cell, grain=np.ones(len(reference), int)).wrapped()
    cutoff = 0.6 * a0 / np.sqrt(2.0) if overlap_cutoff is None else float(overlap_cutoff)
    n_close = _close_pairs_xy_tilted(s, cutoff)
    if n_close:
        raise RuntimeError(f"{n_close} atom pairs closer than {cutoff:.3f} Å after the climb cut: report this cell")
    n_perfect = len(reference) + n_climb
    wrapped_minus = np.mod(p_minus, lengths[:2])
    cuts = [(p_plus, corner), (corner, p_minus)]
    cores = [
        {"position": [float(v) for v in p_plus], "sign": 1},
        {"position": [float(v) for v in wrapped_minus], "sign": -1},
    ]
    meta = _slip_metadata(slip, stroh, cores, cuts, "quadrupolar", reps, s)
    meta.update(
        {
            "lattice_box": [float(v) for v in lengths],
            "box_tilt_xy": float(cell[1, 0]),
            "climb_direction": "up" if direction > 0 else "down (through the periodic boundary)",
            "n_atoms_perfect": n_perfect,
            "n_atoms_removed_climb": n_climb,
            "n_planes_removed_climb": n_slab,
            "overlap_cutoff": cutoff,
            "n_removed_overlap": 0,
            "plastic_shift": {"x": shift_x.round(12).tolist(), "y": shift_y.round(12).tolist()},
            "plastic_shift_absorbed_in_box": {
                "x": absorbed[:, 0].round(12).tolist(),
                "y": absorbed[:, 1].round(12).tolist(),
            },
            "residual_plastic_strain_not_absorbed": ((plastic - absorbed) / lengths[:2]).round(12).tolist(),
            "linear_term_removed": residual.tolist(),
        }
    )
    return s, meta
