"""Dislocations placed near the boundaries of a periodic tilt bicrystal.

The line must lie along box z (the tilt axis) for the cell to stay periodic. In grain A (rotation
``gb_meta["rotations"]["1"]``, crystal -> box) the Burgers vector is a0/2<110>: perpendicular to z for ``edge``,
parallel for ``screw`` (needs a <110> axis), at another angle for ``mixed`` (60° preferred). The glide plane
contains z and b: for edge/mixed it is the plane spanned by them, for screw a {111} (else {100}, {110}) plane
containing z. Close-packed {111} glide planes are preferred when several choices exist; a <110> tilt axis has no
{111} plane containing an edge b ⊥ z, so its edge dislocation is the Lomer dislocation a0/2<110>{001}.

Arrangements (net Burgers vector zero, cuts along grain A's glide plane, inside grain A):

- glide plane inclined to the boundaries: a ``dipole`` is +b at ``distance`` from one boundary and -b at
  ``distance`` from the other, joined by a cut along the glide plane across grain A; a ``quadrupole`` adds the
  opposite pair shifted by Lx/2 (no average plastic strain).
- glide plane parallel to the boundaries: a ``dipole`` is +b, -b at ``distance`` from the lower boundary,
  Lx/2 apart; a ``quadrupole`` mirrors it (opposite signs) at the upper boundary.

Cores sit midway between grain A's atomic glide planes (positions shifted by at most half a plane spacing: along
x for inclined planes, along y for parallel ones; ``distance_to_gb`` records the value used). Elastic field:
the whole bicrystal is treated as a homogeneous anisotropic medium with grain A's stiffness and orientation
(grain B's different orientation and the boundary's image forces are neglected: an approximation for the
unrelaxed starting structure, which the relaxation corrects).
"""

from __future__ import annotations

import itertools

import numpy as np

import nyegan
from nyegan.elasticity import PeriodicDislocationField, stroh_for_crystal
from nyegan.lattice import as_int_vector, fcc_plane_spacing, reduce_indices
from nyegan.potentials import CubicProperties
from nyegan.structure import Structure
from nyegan.structures.dislocation import CHARACTERS, burgers_fraction, character_angle_deg, character_of_angle
from nyegan.structures.gb import remove_close_pairs
from nyegan.structures.names import gb_dislocation_case_name

_PLANE_FAMILIES = ((1, 1, 1), (1, 0, 0), (1, 1, 0))


def integer_direction(v, max_index: int = 12) -> np.ndarray:
    """Smallest integer indices parallel to a unit crystal vector; ValueError if none with |index| <= max_index."""
    v = np.asarray(v, dtype=float)
    for scale in range(1, max_index + 1):
        w = v / np.abs(v).max() * scale
        if np.allclose(w, np.round(w), atol=1e-6):
            return reduce_indices(np.round(w).astype(int))
    raise ValueError(
        f"box z {v.round(6).tolist()} is not a low-index lattice direction of grain A: a straight "
        "dislocation along it would not be periodic"
    )


def _family(n) -> tuple:
    return tuple(sorted(np.abs(reduce_indices(n)).tolist(), reverse=True))


def _half_110() -> list[np.ndarray]:
    out = []
    for v in set(itertools.permutations((1, 1, 0))) | set(itertools.permutations((1, -1, 0))):
        out.append(np.array(v))
    return sorted(out, key=tuple, reverse=True)


def _glide_planes_containing(z, b2=None) -> list[np.ndarray]:
    """Planes of the families {111}, {100}, {110} containing z (and b2 if given), preferred first."""
    planes = []
    for fam in _PLANE_FAMILIES:
        for perm in set(itertools.permutations(fam)):
            for signs in itertools.product((1, -1), repeat=3):
                n = np.array(perm) * np.array(signs)
                if not n.any() or np.dot(n, z) != 0 or (b2 is not None and np.dot(n, b2) != 0):
                    continue
                if any(np.array_equal(n, m) or np.array_equal(-n, m) for m in planes):
                    continue
                planes.append(n)
    return planes


def gb_slip_system(character: str, rotation_a: np.ndarray, burgers=None, glide_plane=None):
    """(line, burgers fraction, glide plane, angle) in grain A's crystal frame for a line along box z.

    ValueError when the combination cannot be periodic (b not a0/2<110>, glide plane not containing z and b,
    no <110> of the requested character about this axis).
    """
    if character not in CHARACTERS:
        raise ValueError(f"character must be one of {CHARACTERS}, got {character!r}")
    rotation_a = np.asarray(rotation_a, dtype=float)
    z = integer_direction(rotation_a[2])
    if burgers is not None:
        b_options = [np.round(2 * burgers_fraction(burgers)).astype(int)]
    else:
        b_options = _half_110()
    choices = []
    for b2 in b_options:
        angle = character_angle_deg(b2, z)
        if character_of_angle(angle) != character:
            continue
        if glide_plane is not None:
            n = reduce_indices(as_int_vector(glide_plane, "glide_plane"))
            if np.dot(n, z) != 0 or np.dot(n, b2) != 0:
                raise ValueError(
                    f"glide_plane {n.tolist()} must contain the line {z.tolist()} (box z, the tilt "
                    f"axis) and b = a0/2{b2.tolist()}: choose a plane whose normal is perpendicular "
                    "to both"
                )
            planes = [n]
        elif character == "screw":
            planes = _glide_planes_containing(z)
        else:
            planes = [reduce_indices(np.cross(b2, z))]
        for n in planes:
            fam = _family(n)
            rank = _PLANE_FAMILIES.index(fam) if fam in _PLANE_FAMILIES else len(_PLANE_FAMILIES)
            n_box = rotation_a @ (n / np.linalg.norm(n))
            # preference: character 60° for mixed, close-packed plane, glide plane steepest to the boundary
            choices.append(
                (
                    abs(angle - 60.0) if character == "mixed" else 0.0,
                    rank,
                    -round(abs(n_box[0]), 9),
                    tuple(-b2),
                    tuple(-n),
                    b2,
                    n,
                    angle,
                )
            )
    if not choices:
        given = "" if burgers is None else f" with b = a0/2{b_options[0].tolist()}"
        raise ValueError(
            f"no {character} a0/2<110> dislocation{given} has its line along the tilt axis "
            f"{z.tolist()}: edge needs a <110> perpendicular to the axis, screw a <110> axis; "
            "change the character or the Burgers vector"
        )
    choices.sort(key=lambda c: c[:5])
    _, _, _, _, _, b2, n, angle = choices[0]
    b_box = rotation_a @ b2
    # orientation of b: along +z for screw/mixed, else with a positive x (or y) component
    key = b_box[2] if abs(b_box[2]) > 1e-9 else (b_box[0] if abs(b_box[0]) > 1e-9 else b_box[1])
    if key < 0:
        b2 = -b2
        angle = character_angle_deg(b2, z)
    return z, 0.5 * b2.astype(float), n, angle


CORE_GAP_FACTOR = 2.0  # the +b and -b rows across grain A stay at least this many ``distance`` apart


def check_core_separation(grain_thickness: float, distance: float) -> None:
    """ValueError unless the cores, ``distance`` (Å) from both boundaries of a grain ``grain_thickness`` (Å) thick,
    leave at least CORE_GAP_FACTOR * distance between the rows of opposite sign across the grain.

    Closer rows attract each other more than the boundary holds them: under CG relaxation (and the 300 K
    snapshots) the +b and -b glide together and annihilate, or into a boundary, and the relaxed cell no longer
    holds the dislocations the metadata describes. Measured on Σ11(1-13)[110] and Σ5(310)[001] edge quadrupoles
    (grain A about 38 Å thick): the cores at 12 and 18 Å were lost, those at 8 Å kept; with grain A 77-80 Å thick
    all cores at 8, 12 and 18 Å were kept in every relaxed state (docs/gan.md)."""
    need = (2.0 + CORE_GAP_FACTOR) * distance
    if grain_thickness < need:
        raise ValueError(
            f"distance {distance:g} Å from both boundaries of grain A ({grain_thickness:.2f} Å thick) leaves "
            f"{grain_thickness - 2 * distance:.2f} Å between the dislocations of opposite sign, less than "
            f"{CORE_GAP_FACTOR:g} x distance: they would glide together and annihilate during the relaxation; "
            f"use distance <= {grain_thickness / (2.0 + CORE_GAP_FACTOR):.1f} Å or a taller bicrystal "
            f"(min_size y >= {2 * need:.0f} Å: two grains)"
        )


def _grain_a_interval(structure: Structure, gb_y) -> tuple[float, float]:
    """(y_lo, y_hi) of grain A (id 1) relative to the origin; y_hi may exceed Ly when A wraps around."""
    ly = structure.cell[1, 1]
    y1, y2 = sorted(float(v) for v in gb_y)
    y = np.mod(structure.positions[structure.grain == 1, 1] - structure.origin[1], ly)
    if len(y) == 0:
        raise ValueError("the bicrystal has no atom of grain 1 (grain A)")
    inside = np.mean((y > y1) & (y < y2))
    return (y1, y2) if inside > 0.5 else (y2, y1 + ly)


def _plane_phase(points, normal, spacing) -> float:
    """Offset o (Å) such that the atoms lie on the planes normal . r = o + k * spacing."""
    phase = np.exp(2j * np.pi * (points @ normal) / spacing)
    mean = phase.mean()
    if abs(mean) < 0.9:
        raise ValueError(
            "grain A's atoms do not lie on a single family of glide planes: is rotations['1'] the "
            "orientation of grain A?"
        )
    return float(np.angle(mean) / (2 * np.pi) * spacing)


def add_dislocations_near_gb(
    bicrystal: Structure,
    gb_meta: dict,
    character: str,
    a0: float,
    cubic: CubicProperties,
    distance: float,
    arrangement: str = "quadrupole",
    burgers=None,
    glide_plane=None,
    seed: int = 0,
    overlap_cutoff: float | None = None,
) -> tuple[Structure, dict]:
    """Insert straight dislocations (line along the tilt axis z) in grain A at ``distance`` (Å) from the boundaries.

    bicrystal / gb_meta: from ``nyegan.structures.gb.build_stgb`` (orthogonal cell, boundaries normal to y at
    ``gb_meta["gb_y"]``, grain A rotation ``gb_meta["rotations"]["1"]``). character: "edge" | "screw" | "mixed".
    a0: lattice constant (Å); cubic: elastic constants (GPa) of grain A. burgers / glide_plane: optional grain A
    crystal indices (b as fractions of a0). Returns the new structure (grain ids kept) and metadata: the GB keys,
    ``kind = "gb_dislocation"`` and the dislocation descriptors.
    """
    if arrangement not in ("quadrupole", "dipole"):
        raise ValueError(f"arrangement must be 'quadrupole' or 'dipole', got {arrangement!r}")
    if not bicrystal.is_orthogonal or not all(bicrystal.pbc):
        raise ValueError("the bicrystal must be an orthogonal, fully periodic cell")
    for key in ("gb_y", "rotations"):
        if key not in gb_meta:
            raise ValueError(f"gb_meta lacks '{key}': pass the metadata returned by build_stgb")
    if not distance > 0:
        raise ValueError(f"distance must be positive (Å), got {distance}")
    rot_a = np.asarray(gb_meta["rotations"]["1"], dtype=float)
    z, b, n, angle = gb_slip_system(character, rot_a, burgers, glide_plane)
    lx, ly = bicrystal.cell[0, 0], bicrystal.cell[1, 1]
    y_lo, y_hi = _grain_a_interval(bicrystal, gb_meta["gb_y"])
    check_core_separation(y_hi - y_lo, distance)

    n_box = rot_a @ (n / np.linalg.norm(n))
    spacing = fcc_plane_spacing(n, a0)
    rel = bicrystal.positions - bicrystal.origin
    y_rel = np.mod(rel[:, 1] - y_lo, ly) + y_lo
    far = (bicrystal.grain == 1) & (y_rel > y_lo + a0) & (y_rel < y_hi - a0)
    offset = _plane_phase(rel[far], n_box, spacing)

    def to_mid_plane(point, along):
        """Move ``point`` along ``along`` (unit, with along . n_box != 0) to midway between glide planes."""
        h = point @ n_box - offset
        target = (np.floor(h / spacing) + 0.5) * spacing
        return point + (target - h) / (along @ n_box) * along

    parallel = abs(abs(n_box[1]) - 1.0) < 1e-9
    if parallel:
        ey = np.array([0.0, 1.0, 0.0])
        p_lo = to_mid_plane(np.array([lx / 4, y_lo + distance, 0.0]), ey)
        p_hi = to_mid_plane(np.array([lx / 4, y_hi - distance, 0.0]), ey)
        half = np.array([lx / 2, 0.0, 0.0])
        pairs = [(p_lo, p_lo + half)]
        if arrangement == "quadrupole":
            pairs.append((p_hi + half, p_hi))
    else:
        t = np.cross([0.0, 0.0, 1.0], n_box)
        t = t / np.linalg.norm(t) * (1.0 if t[1] > 0 else -1.0)
        ex = np.array([1.0, 0.0, 0.0])
        p_plus = to_mid_plane(np.array([lx / 4, y_lo + distance, 0.0]), ex)
        p_minus = p_plus + t * (y_hi - y_lo - 2 * distance) / t[1]
        pairs = [(p_plus, p_minus)]
        if arrangement == "quadrupole":
            q = to_mid_plane(p_plus + np.array([lx / 2, 0.0, 0.0]), ex)
            pairs.append((q + (p_minus - p_plus), q))
    pairs = [(p[:2], m[:2]) for p, m in pairs]
    for p, m in pairs:
        for point in (p, m):
            if not (y_lo < point[1] < y_hi):
                raise ValueError("a core would leave grain A: reduce distance")

    stroh = stroh_for_crystal(cubic.stiffness(), rot_a)
    b_box = rot_a @ (b * a0)
    field = PeriodicDislocationField(stroh, b_box, (lx, ly), pairs)
    u = field.displacement(rel)
    u -= u.mean(axis=0)
    s = bicrystal.copy(positions=bicrystal.positions + u).wrapped()
    cutoff = 0.5 * a0 / np.sqrt(2.0) if overlap_cutoff is None else float(overlap_cutoff)
    s, n_removed = remove_close_pairs(s, cutoff)

    dislocations = []
    for p, m in pairs:
        for point, sign in ((p, 1), (m, -1)):
            y = float(point[1])
            dist = min(abs(y - y_lo), abs(y_hi - y))
            dislocations.append(
                {"position": [float(np.mod(point[0], lx)), float(np.mod(y, ly))], "sign": sign, "distance_to_gb": dist}
            )
    meta = dict(gb_meta)
    meta.update(
        {
            "case": gb_dislocation_case_name(
                gb_meta["axis"], gb_meta["sigma"], gb_meta["plane"], character, arrangement, distance
            ),
            "kind": "gb_dislocation",
            "gb_kind": gb_meta.get("kind", "gb"),
            "character": character,
            "character_angle_deg": angle,
            "burgers": b.tolist(),
            "burgers_box": b_box.round(12).tolist(),
            "line": z.tolist(),
            "glide_plane": n.tolist(),
            "glide_plane_box_normal": n_box.round(12).tolist(),
            "glide_plane_parallel_to_gb": bool(parallel),
            "dislocations": dislocations,
            "cuts": [{"from": [float(v) for v in p], "to": [float(v) for v in m]} for p, m in pairs],
            "arrangement": arrangement,
            "distance_to_gb": float(np.mean([d["distance_to_gb"] for d in dislocations])),
            "requested_distance_to_gb": float(distance),
            "grain_a_y": [float(y_lo), float(y_hi)],
            "elastic_model": "homogeneous anisotropic medium with grain A's stiffness and orientation",
            "elastic_constants": {"c11": cubic.c11, "c12": cubic.c12, "c44": cubic.c44},
            "sign_convention": "sign +1: Burgers vector +burgers_box for line +z; a counter-clockwise (RH about +z) "
            "circuit closes on +b (FS/RH, b_i = integral of alpha_iz dS)",
            "linear_term_removed": field.linear.tolist(),
            "a0": float(a0),
            "cell": s.cell.tolist(),
            "n_atoms": s.n_atoms,
            "n_grain": {"1": int((s.grain == 1).sum()), "2": int((s.grain == 2).sum())},
            "n_removed_dislocation_overlap": n_removed,
            "seed": int(seed),
            "nyegan_version": nyegan.__version__,
        }
    )
    return s, meta
