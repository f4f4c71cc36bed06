"""Per-atom lattice correspondence tensor G (Hartley & Mishin, Acta Mater. 53 (2005) 1313).

Convention: for atom n, rows of P are its actual neighbour vectors p (Å, box frame), rows of Q the matched
ideal reference bonds q of the median reference lattice; G solves P G = Q in the least-squares sense, i.e.
q ≈ G^T p for every matched bond. G^T maps the deformed lattice onto the reference (G^T = F_e^{-1}), so the
elastic distortion is Ue = I - G^T and the Nye tensor is alpha = curl Ue.

Matching: each neighbour (one of the 16 nearest closer than the cutoff) is paired with the ideal first-shell fcc
bond (a0/2 <110>, in the atom's own grain orientation) making the smallest angle with it, if that angle is below
``cone_deg``; when several neighbours pick the same bond, the best-aligned one is kept. Atoms with fewer than
``min_matches`` pairs or an ill-conditioned normal matrix are flagged (``ok`` False).

:func:`atom_correspondence` works on neighbour pairs (each pair once, :func:`nyegan.nye.neighbours.neighbour_pairs`)
in spatial chunks: the closest bond of a pair vector has a closed form in the crystal frame (the <110> in the cube
plane normal to its smallest component), the opposite bond serves the other atom of the pair, the normal
equations are summed per atom with ``bincount`` and solved in closed form (eigenvalue bounds, adjugate), all on
one-dimensional arrays per component. :func:`match_bonds` and :func:`solve_correspondence` do the same on
per-atom neighbour tables ((n, k, 3), :class:`~nyegan.nye.neighbours.PeriodicNeighbours`). There is no Python
loop over atoms.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from nyegan.lattice import fcc_nearest_neighbours
from nyegan.nye.neighbours import (
    BondPairs,
    PeriodicNeighbours,
    block_counts,
    region_pairs,
    search_regions,
    wrapped_fractional,
)
from nyegan.nye.reference import GrainReference
from nyegan.structure import Structure

SHELL_CUTOFF_FACTOR = 0.5 * (1.0 / np.sqrt(2.0) + 1.0)  # midway between first (a0/√2) and second (a0) shells
MAX_NEIGHBOURS = 16  # neighbours considered per atom (the nearest ones closer than the cutoff)
MIN_EIG_RATIO = 0.05  # smallest / largest eigenvalue of the normal matrix below which an atom is flagged
BLOCK = 1 << 15  # elementwise work on pairs and atoms in blocks of this many (temporaries stay in cache)


def fcc_bond_code_order() -> np.ndarray:
    """Permutation putting the bonds of :func:`fcc_nearest_neighbours` in code order.

    The code of a <110> bond is 4 k + 2 s + t, with k the axis of its zero component and s, t = 1 for a positive,
    0 for a negative sign of its other two components (in increasing axis order); the opposite bond has code
    ``code ^ 3``.
    """
    q = np.rint(fcc_nearest_neighbours(2.0)).astype(int)
    codes = np.empty(len(q), dtype=np.intp)
    for i, v in enumerate(q):
        k = int(np.flatnonzero(v == 0)[0])
        u, w = [c for c in range(3) if c != k]
        codes[i] = 4 * k + 2 * int(v[u] > 0) + int(v[w] > 0)
    return np.argsort(codes)


FCC_BOND_ORDER = fcc_bond_code_order()
N_FCC_BONDS = 12


@dataclass
class AtomCorrespondence:
    """Per-atom results: G (N, 3, 3), number of matched bonds (N,), usable flag (N,)."""

    G: np.ndarray
    n_matched: np.ndarray
    ok: np.ndarray

    @property
    def Ue(self) -> np.ndarray:
        """Elastic distortion I - G^T per atom, (N, 3, 3)."""
        return np.eye(3)[None] - np.swapaxes(self.G, 1, 2)


def _unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def min_bond_angle_deg(ideal: np.ndarray) -> float:
    """Smallest angle (degrees) between two distinct bonds of one ideal set (m, 3); 60° for fcc <110>."""
    qn = _unit_rows(np.asarray(ideal, float))
    cos = qn @ qn.T
    np.fill_diagonal(cos, -1.0)
    return float(np.degrees(np.arccos(np.clip(cos.max(), -1.0, 1.0))))


def match_bonds(p: np.ndarray, valid: np.ndarray, ideal: np.ndarray, cone_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Pair neighbour vectors with ideal bonds.

    p: (n, k, 3) neighbour vectors, valid: (n, k); ideal: (m, 3) bonds shared by all atoms, or (n, m, 3) per atom
    (rotated copies of one bond set). Returns matched actual vectors (n, m, 3) (zero where unmatched) and weights
    (n, m) in {0, 1}.

    A neighbour is accepted for the bond closest in angle to it if that angle is below ``cone_deg``; each bond keeps
    its best-aligned accepted neighbour. When the cone is narrower than half the smallest angle between two ideal
    bonds (27° < 30° in fcc), a neighbour within the cone of a bond is necessarily closest to that bond, so the
    rule reduces to: per bond, the neighbour with the largest cosine, accepted if above cos(cone). This is
    evaluated with one matrix product and one argmax (no (n, k, m) masks).
    """
    n, k, _ = p.shape
    ideal = np.asarray(ideal, dtype=float)
    shared = ideal.ndim == 2
    m = ideal.shape[-2]
    norm = np.sqrt(np.einsum("nkd,nkd->nk", p, p))
    scale = np.zeros_like(norm)
    np.divide(1.0, norm, out=scale, where=valid & (norm > 0))
    pn = p * scale[..., None]  # unit vectors, zero for missing neighbours (cosine 0, never inside the cone)
    qn = _unit_rows(ideal)
    cos_cone = np.cos(np.radians(cone_deg))
    if cone_deg < 0.5 * min_bond_angle_deg(qn if shared else qn[0]):
        if shared:
            cos = (qn @ pn.reshape(-1, 3).T).reshape(m, n, k)  # (m, n, k)
            winner = np.argmax(cos, axis=2)  # (m, n)
            rows = np.arange(m * n) * k + winner.ravel()
            weight = (cos.reshape(-1)[rows] > cos_cone).reshape(m, n).T
            winner = winner.T
        else:
            cos = np.matmul(qn, np.swapaxes(pn, 1, 2))  # (n, m, k)
            winner = np.argmax(cos, axis=2)
            weight = cos.reshape(-1)[np.arange(n * m) * k + winner.ravel()].reshape(n, m) > cos_cone
    else:  # wide cone: a neighbour may fall inside the cones of two bonds; take the closest bond first
        cos = np.matmul(pn, np.swapaxes(np.broadcast_to(qn, (n, m, 3)), 1, 2))  # (n, k, m)
        closest = np.argmax(cos, axis=2)
        best_cos = np.take_along_axis(cos, closest[..., None], axis=2)[..., 0]
        accepted = valid & (best_cos > cos_cone)
        score = np.where(accepted[..., None] & (closest[..., None] == np.arange(m)), cos, -np.inf)
        winner = np.argmax(score, axis=1)
        weight = np.isfinite(np.take_along_axis(score, winner[:, None, :], axis=1)[:, 0, :])
    matched = p.reshape(-1, 3)[(np.arange(n) * k)[:, None] + winner]  # (n, m, 3)
    matched *= weight[..., None]
    return matched, weight.astype(float)


def eigen_extremes(a00, a11, a22, a01, a02, a12) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest eigenvalues of symmetric 3x3 matrices given by their six entries (arrays of equal
    shape), closed form (trigonometric)."""
    q = (a00 + a11 + a22) / 3.0
    d0, d1, d2 = a00 - q, a11 - q, a22 - q
    off = a01 * a01 + a02 * a02 + a12 * a12
    p = np.sqrt(((d0 * d0 + d1 * d1 + d2 * d2) + 2.0 * off) / 6.0)
    det = d0 * (d1 * d2 - a12 * a12) - a01 * (a01 * d2 - a12 * a02) + a02 * (a01 * a12 - d1 * a02)
    safe = np.where(p > 0, p, 1.0)
    r = np.clip(0.5 * det / safe**3, -1.0, 1.0)
    phi = np.arccos(r) / 3.0
    high = q + 2.0 * p * np.cos(phi)
    low = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
    return low, high


def symmetric_eigen_extremes(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest eigenvalues of symmetric 3x3 matrices (n, 3, 3), closed form (trigonometric)."""
    return eigen_extremes(A[:, 0, 0], A[:, 1, 1], A[:, 2, 2], A[:, 0, 1], A[:, 0, 2], A[:, 1, 2])


def solve_3x3(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """X = A^-1 B for stacks of 3x3 matrices (n, 3, 3) by the adjugate (A non-singular)."""
    adj = np.empty_like(A)
    for i in range(3):
        i1, i2 = (i + 1) % 3, (i + 2) % 3
        for j in range(3):
            j1, j2 = (j + 1) % 3, (j + 2) % 3
            adj[:, j, i] = A[:, i1, j1] * A[:, i2, j2] - A[:, i1, j2] * A[:, i2, j1]
    det = np.einsum("nj,nj->n", A[:, 0, :], adj[:, :, 0])
    return np.matmul(adj, B) / det[:, None, None]


def solve_correspondence(
    P: np.ndarray, Q: np.ndarray, w: np.ndarray, min_matches: int = 5, min_eig_ratio: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares P G = Q per atom via the normal equations (P^T W P) G = P^T W Q.

    P: (n, m, 3) matched actual bonds, Q: (m, 3) reference bonds shared by all atoms or (n, m, 3), w: (n, m).
    An atom is usable when it has at least ``min_matches`` pairs and the normal matrix is well conditioned
    (smallest / largest eigenvalue > ``min_eig_ratio``). Returns G (n, 3, 3), number of matches (n,), ok flag (n,).
    Flagged atoms get G = I.
    """
    Pw = np.swapaxes(P * w[..., None], 1, 2)  # (n, 3, m)
    A = np.matmul(Pw, P)
    Q = np.asarray(Q, dtype=float)
    if Q.ndim == 2:
        B = (Pw.reshape(-1, Q.shape[0]) @ Q).reshape(len(P), 3, 3)
    else:
        B = np.matmul(Pw, Q)
    count = w.sum(axis=1).astype(int)
    low, high = symmetric_eigen_extremes(A)
    ok = (count >= min_matches) & (low > min_eig_ratio * np.maximum(high, 1e-30))
    G = np.empty((len(A), 3, 3))
    G[:] = np.eye(3)
    if ok.all():
        G = solve_3x3(A, B)
    elif ok.any():
        G[ok] = solve_3x3(A[ok], B[ok])
    return G, count, ok


def closest_fcc_bond(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fcc <110> bond closest in angle to each vector v = (v0, v1, v2) (crystal frame, any length) and the
    cosine of that angle.

    The closest <110> lies in the cube plane normal to the smallest |component| of v, with the signs of the other
    two: cos = (|v_i| + |v_j|) / (sqrt(2) |v|). Returns bond codes (:func:`fcc_bond_code_order`; uint8, (n,))
    and cosines (n,) (NaN for a zero vector).
    """
    lower_pos, mid_pos, upper_pos = v0 > 0, v1 > 0, v2 > 0
    a0, a1, a2 = np.abs(v0), np.abs(v1), np.abs(v2)
    k0 = (a0 <= a1) & (a0 <= a2)
    k2 = (a2 < a1) & ~k0
    lower = np.where(k0, mid_pos, lower_pos)  # sign of the lower of the two other axes
    higher = np.where(k2, mid_pos, upper_pos)  # and of the higher one
    code = (~(k0 | k2)).view(np.uint8) << 2  # zero component along axis 1
    code |= k2.view(np.uint8) << 3  # along axis 2
    code |= lower.view(np.uint8) << 1
    code |= higher.view(np.uint8)
    largest_two = a0 + a1
    largest_two += a2
    smallest = np.minimum(a0, a1)
    np.minimum(smallest, a2, out=smallest)
    largest_two -= smallest
    r2 = np.multiply(a0, a0, out=a0)  # |v|^2 from the magnitudes (a0, a1, a2 not needed any more)
    r2 += np.multiply(a1, a1, out=a1)
    r2 += np.multiply(a2, a2, out=a2)
    with np.errstate(invalid="ignore", divide="ignore"):
        largest_two /= np.sqrt(r2, out=r2) * np.sqrt(2.0)
    return code, largest_two


def _grains_present(grain: np.ndarray, n_grains: int) -> np.ndarray:
    return np.flatnonzero(np.bincount(grain, minlength=n_grains)) if n_grains > 1 else np.zeros(1, dtype=np.intp)


def _closest_bonds_in_grains(d: np.ndarray, grain: np.ndarray, rotations: np.ndarray, sign: float = 1.0):
    """Closest fcc bond and its cosine for vectors ``sign * d`` (3, M) (box frame) in the crystal frames of
    ``rotations[grain]`` (crystal -> box, rows = crystal directions along box x, y, z; ``grain`` None: all in the
    first), in cache-sized blocks."""
    present = _grains_present(grain, len(rotations)) if grain is not None else np.zeros(1, dtype=np.intp)
    bond = np.empty(d.shape[1], dtype=np.uint8)
    cos = np.empty(d.shape[1])
    for g in present:
        R = sign * rotations[g]
        rows = np.flatnonzero(grain == g) if len(present) > 1 else None
        dg = d if rows is None else d[:, rows]
        bg = bond if rows is None else np.empty(len(rows), dtype=np.uint8)
        cg = cos if rows is None else np.empty(len(rows))
        for s in range(0, dg.shape[1], BLOCK):
            v = R.T @ dg[:, s : s + BLOCK]  # crystal components v_c = sum_k R[k, c] d_k
            bg[s : s + BLOCK], cg[s : s + BLOCK] = closest_fcc_bond(v[0], v[1], v[2])
        if rows is not None:
            bond[rows], cos[rows] = bg, cg
    return bond, cos


@dataclass
class BondMatches:
    """Matched actual bonds of a chunk's centre atoms: P (3, n, 12), the bond vector (Å, box frame, one array per
    Cartesian component) matched with each ideal bond (in bond code order, :func:`fcc_bond_code_order`), zero
    where none is; and the number of matches (n,)."""

    P: np.ndarray
    count: np.ndarray


def match_pairs(pairs: BondPairs, grain: np.ndarray, rotations: np.ndarray, cone_deg: float) -> BondMatches:
    """Match the bonds of a region's neighbour pairs with the ideal fcc bonds of each centre atom's grain.

    grain: (N,) row of each atom's grain in ``rotations`` (n_grains, 3, 3). A view of a bond is accepted for its
    closest ideal bond if closer than ``cone_deg``; per centre and ideal bond the best-aligned one is kept.
    """
    cos_cone = np.cos(np.radians(cone_deg))
    a, b, d = pairs.a, pairs.b, pairs.d
    if len(rotations) > 1:
        g_rows = grain[pairs.atoms]
        ga, gb = g_rows[a], g_rows[b]
        other = np.flatnonzero(ga != gb)
    else:
        ga = gb = None
        other = ()
    bond_a, cos_a = _closest_bonds_in_grains(d, ga, rotations)
    accepted = cos_a > cos_cone
    ia = np.flatnonzero(accepted if pairs.all_sides else pairs.a_side & accepted)
    if len(other) == 0 and pairs.all_sides:  # -d in the same crystal frame: the opposite bond, the same cosine
        ib, bond_b, cos_b = ia, bond_a, cos_a
        code_b = np.take(bond_a, ib) ^ np.uint8(3)
    else:
        bond_b, cos_b = bond_a ^ np.uint8(3), cos_a
        if len(other):
            cos_b = cos_a.copy()
            bond_b[other], cos_b[other] = _closest_bonds_in_grains(d[:, other], gb[other], rotations, sign=-1.0)
        ib = np.flatnonzero(pairs.b_side & (cos_b > cos_cone))
        code_b = np.take(bond_b, ib)
    n_bonds = N_FCC_BONDS
    n = pairs.n_centres
    key = np.empty(len(ia) + len(ib), dtype=np.intp)  # centre * 12 + bond; centres are the first region rows
    key_a, key_b = key[: len(ia)], key[len(ia) :]
    np.multiply(np.take(a, ia), n_bonds, out=key_a)
    key_a += np.take(bond_a, ia)
    np.multiply(np.take(b, ib), n_bonds, out=key_b)
    key_b += code_b
    # each view written at its key, the view from b as -d; keys several views share are then rewritten with the
    # best-aligned one
    P = np.zeros((3, n * n_bonds))
    for k in range(3):
        P[k][key_a] = np.take(d[k], ia)
        P[k][key_b] = -np.take(d[k], ib)
    winner, contested = _best_per_key(key, np.concatenate([np.take(cos_a, ia), np.take(cos_b, ib)]), n * n_bonds)
    if len(contested):
        entry = winner[contested]
        from_b = entry >= len(ia)
        row = np.concatenate([ia, ib])[entry]
        for k in range(3):
            P[k][contested] = np.where(from_b, -1.0, 1.0) * np.take(d[k], row)
    count = np.count_nonzero((winner >= 0).reshape(n, n_bonds), axis=1)
    return BondMatches(P=P.reshape(3, n, n_bonds), count=count)


def _best_per_key(key: np.ndarray, score: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """For each key in [0, n_keys), the entry with the largest score (-1 where the key has none); and the keys
    listed more than once (whatever order a scatter with repeated indices writes them in)."""
    winner = np.full(n_keys, -1, dtype=np.intp)
    entries = np.arange(len(key))
    winner[key] = entries
    candidates = np.flatnonzero(winner[key] != entries)  # entries that lost a key to another one
    contested = np.unique(key[candidates])
    while len(candidates):  # an entry better than the current winner of its key takes its place; few rounds
        candidates = candidates[score[candidates] > score[winner[key[candidates]]]]
        winner[key[candidates]] = candidates
    return winner, contested


def solve_matches(
    matches: BondMatches,
    reference_bonds: np.ndarray,
    centre_grain: np.ndarray,
    min_matches: int = 5,
    min_eig_ratio: float = MIN_EIG_RATIO,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares P G = Q per centre atom from its matched bonds, via the normal equations (P^T P) G = P^T Q.

    reference_bonds: (n_grains, 12, 3) bonds of the median lattice (Å), in bond code order; centre_grain: (n,)
    grain row of each centre atom. Returns G (n, 3, 3), number of matched bonds (n,) and the usable flag (n,)
    (enough matches and a normal matrix with smallest / largest eigenvalue above ``min_eig_ratio``); flagged atoms
    get G = I. Closed-form 3x3 algebra on one array per matrix entry, in cache-sized blocks of atoms.
    """
    P, count = matches.P, matches.count
    n = P.shape[1]
    G = np.empty((n, 3, 3))
    ok = np.empty(n, dtype=bool)
    present = _grains_present(centre_grain, len(reference_bonds))
    for s in range(0, n, BLOCK):
        e = min(s + BLOCK, n)
        Pb = P[:, s:e]
        A = [np.einsum("nm,nm->n", Pb[i], Pb[j]) for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))]
        if len(present) == 1:  # B[i][:, j] = sum_m P_mi Q_mj
            B = list((Pb.reshape(-1, Pb.shape[2]) @ reference_bonds[present[0]]).reshape(3, e - s, 3))
        else:
            B = [np.empty((e - s, 3)) for _ in range(3)]
            gb = centre_grain[s:e]
            for g in present:
                rows = np.flatnonzero(gb == g)
                for i in range(3):
                    B[i][rows] = Pb[i, rows] @ reference_bonds[g]
        G[s:e], ok[s:e] = _solve_normal_equations(*A, B, count[s:e], min_matches, min_eig_ratio)
    return G, count, ok


def _solve_normal_equations(a00, a01, a02, a11, a12, a22, B, count, min_matches, min_eig_ratio):
    """G = A^-1 B (n, 3, 3) for symmetric A given by its six entries (n,) and B[i][:, j] = B_ij, by the adjugate;
    with the usable flag (enough matches, well-conditioned A). Flagged atoms get G = I."""
    n = len(a00)
    ok = (count >= min_matches) & ~_certainly_ill_conditioned(a00, a11, a22, a01, a02, a12, min_eig_ratio)
    c00, c01, c02 = a11 * a22 - a12 * a12, a02 * a12 - a01 * a22, a01 * a12 - a02 * a11
    c11, c12, c22 = a00 * a22 - a02 * a02, a01 * a02 - a00 * a12, a00 * a11 - a01 * a01
    inv_det = np.zeros(n)
    np.divide(1.0, a00 * c00 + a01 * c01 + a02 * c02, out=inv_det, where=ok)
    adj = np.stack([c00, c01, c02, c01, c11, c12, c02, c12, c22]).reshape(3, 3, n)
    adj *= inv_det
    G = np.einsum("ikn,knj->nij", adj, np.stack(B))  # sum_k adj_ik B_kj / det
    G[~ok] = np.eye(3)
    return G, ok


def _certainly_ill_conditioned(a00, a11, a22, a01, a02, a12, min_eig_ratio) -> np.ndarray:
    """Smallest / largest eigenvalue of the symmetric matrices not above ``min_eig_ratio``: decided by
    Gershgorin's discs where they settle it (well-conditioned normal matrices of crystalline atoms), by the
    closed-form eigenvalues for the others."""
    r0, r1, r2 = np.abs(a01), np.abs(a02), np.abs(a12)
    low = np.minimum(np.minimum(a00 - r0 - r1, a11 - r0 - r2), a22 - r1 - r2)
    high = np.maximum(np.maximum(a00 + r0 + r1, a11 + r0 + r2), a22 + r1 + r2)
    ill = ~(low > min_eig_ratio * np.maximum(high, 1e-30))
    rows = np.flatnonzero(ill)
    if len(rows):
        lo, hi = eigen_extremes(a00[rows], a11[rows], a22[rows], a01[rows], a02[rows], a12[rows])
        ill[rows] = ~(lo > min_eig_ratio * np.maximum(hi, 1e-30))
    return ill


def atom_correspondence(
    structure: Structure,
    a0: float,
    reference: GrainReference,
    cone_deg: float = 27.0,
    cutoff: float | None = None,
    min_matches: int = 5,
    chunk: int = 1 << 18,
    neighbours: PeriodicNeighbours | None = None,
    workers: int = 1,
    progress: bool | None = None,
    timings: dict | None = None,
    frac: np.ndarray | None = None,
) -> AtomCorrespondence:
    """Per-atom G for an fcc structure with lattice parameter ``a0`` (Å) against ``reference``.

    Atoms are processed in spatial blocks of about ``chunk`` atoms (memory follows the block), on ``workers``
    threads; ``progress``: a bar over atoms (default: on a terminal with more than 10^6 atoms,
    ``nyegan.progress``).
    ``neighbours``: a ready :class:`PeriodicNeighbours` to match per-atom neighbour tables instead (the same
    result to round-off, slower). ``timings``: a dict to which the time (s) of the neighbour search
    ('neighbours') and of matching and solving ('G') are added (summed over threads). ``frac``: the atoms'
    fractional coordinates wrapped along periodic cell vectors, when at hand
    (:func:`~nyegan.nye.neighbours.wrapped_fractional`).
    """
    from nyegan.progress import progress_bar, progress_enabled

    if not a0 > 0:
        raise ValueError(f"a0 must be a positive lattice parameter in Å, got {a0}")
    if not 0 < cone_deg < 60:
        raise ValueError(f"cone_deg must be in (0, 60) degrees, got {cone_deg}")
    cutoff = SHELL_CUTOFF_FACTOR * a0 if cutoff is None else cutoff
    bonds = fcc_nearest_neighbours(a0)
    gidx = reference.index_of(structure.grain)
    n = structure.n_atoms
    if neighbours is not None:
        return _correspondence_from_tables(structure, neighbours, reference, bonds, gidx, cone_deg, min_matches, chunk)
    ref_table = reference.reference_bonds(bonds[FCC_BOND_ORDER])  # in bond code order
    G = np.empty((n, 3, 3))
    count = np.empty(n, dtype=np.int64)
    ok = np.empty(n, dtype=bool)
    counts = block_counts(structure, cutoff, chunk)
    if workers > 1 and np.prod(counts) < workers:  # at least one block per thread when the cell allows it
        counts = block_counts(structure, cutoff, -(-n // workers))
    times = {"neighbours": 0.0, "G": 0.0}
    lock = threading.Lock()

    def solve(region) -> int:  # pairs of one block, matched and solved; returns its number of centre atoms
        t0 = time.perf_counter()
        pairs = region_pairs(region, structure.cell, cutoff)
        t1 = time.perf_counter()
        pairs.keep_nearest(MAX_NEIGHBOURS)
        c = pairs.centres
        matches = match_pairs(pairs, gidx, reference.rotations, cone_deg)
        del pairs
        G[c], count[c], ok[c] = solve_matches(matches, ref_table, gidx[c], min_matches)
        with lock:
            times["neighbours"] += t1 - t0
            times["G"] += time.perf_counter() - t1
        return len(c)

    frac = wrapped_fractional(structure) if frac is None else frac
    regions = search_regions(structure, cutoff, counts, frac)
    show = (progress_enabled() and n > 1_000_000) if progress is None else progress
    with progress_bar(total=n, desc="lattice correspondence G", unit="atom", unit_scale=True, show=show) as bar:
        if workers > 1 and np.prod(counts) > 1:
            with ThreadPoolExecutor(workers) as pool:
                pending = set()
                for region in regions:  # at most two blocks per thread in flight (memory)
                    pending.add(pool.submit(solve, region))
                    if len(pending) >= 2 * workers:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        bar.update(sum(f.result() for f in done))
                for f in pending:
                    bar.update(f.result())
        else:
            for region in regions:
                bar.update(solve(region))
    if timings is not None:
        for k, v in times.items():
            timings[k] = timings.get(k, 0.0) + v
    return AtomCorrespondence(G=G, n_matched=count, ok=ok)


def _correspondence_from_tables(structure, nb, reference, bonds, gidx, cone_deg, min_matches, chunk):
    """Per-atom G from per-atom neighbour tables (:class:`PeriodicNeighbours`), chunks of ``chunk`` atoms."""
    match_table = reference.matching_bonds(bonds)  # (g, 12, 3)
    ref_table = reference.reference_bonds(bonds)
    n = structure.n_atoms
    G = np.empty((n, 3, 3))
    count = np.empty(n, dtype=int)
    ok = np.empty(n, dtype=bool)
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        p, valid = nb.query(sl)
        g_chunk = gidx[sl]
        for g in np.unique(g_chunk):
            rows = np.flatnonzero(g_chunk == g)
            P, w = match_bonds(p[rows], valid[rows], match_table[g], cone_deg)
            at = rows + start
            G[at], count[at], ok[at] = solve_correspondence(P, ref_table[g], w, min_matches=min_matches)
    return AtomCorrespondence(G=G, n_matched=count, ok=ok)
