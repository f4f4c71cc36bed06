"""Per-atom lattice correspondence tensor G (Hartley & Mishin, Acta Mater. 53 (2005) 1313).

Convention: for atom n, rows of P are its actual neighbour vectors p (Å, box frame), rows of Q the matched
ideal reference bonds q of the median reference lattice; G solves P G = Q in the least-squares sense, i.e.
q ≈ G^T p for every matched bond. G^T maps the deformed lattice onto the reference (G^T = F_e^{-1}), so the
elastic distortion is Ue = I - G^T and the Nye tensor is alpha = curl Ue.

Matching: each neighbour is paired with the ideal first-shell fcc bond (a0/2 <110>, in the atom's own grain
orientation) making the smallest angle with it, if that angle is below ``cone_deg``; when several neighbours
pick the same bond, the best-aligned one is kept. Atoms with fewer than ``min_matches`` pairs or an
ill-conditioned normal matrix are flagged (``ok`` False). Work is done in chunks of atoms, per grain, with one
matrix product of all neighbour vectors against the grain's bonds and closed-form 3x3 algebra (eigenvalue bounds,
adjugate solve); there is no Python loop over atoms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nyegan.lattice import fcc_nearest_neighbours
from nyegan.nye.neighbours import PeriodicNeighbours
from nyegan.nye.reference import GrainReference
from nyegan.structure import Structure

SHELL_CUTOFF_FACTOR = 0.5 * (1.0 / np.sqrt(2.0) + 1.0)  # midway between first (a0/√2) and second (a0) shells


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


def symmetric_eigen_extremes(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest eigenvalues of symmetric 3x3 matrices (n, 3, 3), closed form (trigonometric)."""
    a00, a11, a22 = A[:, 0, 0], A[:, 1, 1], A[:, 2, 2]
    a01, a02, a12 = A[:, 0, 1], A[:, 0, 2], A[:, 1, 2]
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


def atom_correspondence(
    structure: Structure,
    a0: float,
    reference: GrainReference,
    cone_deg: float = 27.0,
    cutoff: float | None = None,
    min_matches: int = 5,
    chunk: int = 100_000,
    neighbours: PeriodicNeighbours | None = None,
    workers: int = 1,
    progress: bool | None = None,
) -> AtomCorrespondence:
    """Per-atom G for an fcc structure with lattice parameter ``a0`` (Å) against ``reference``, in chunks of
    ``chunk`` atoms; ``progress``: a bar over atoms (default: on a terminal with more than 10^6 atoms,
    ``nyegan.progress``)."""
    from nyegan.progress import progress_bar, progress_enabled

    if not a0 > 0:
        raise ValueError(f"a0 must be a positive lattice parameter in Å, got {a0}")
    if not 0 < cone_deg < 60:
        raise ValueError(f"cone_deg must be in (0, 60) degrees, got {cone_deg}")
    cutoff = SHELL_CUTOFF_FACTOR * a0 if cutoff is None else cutoff
    nb = neighbours or PeriodicNeighbours(structure, cutoff, max_neighbours=16, workers=workers)
    bonds = fcc_nearest_neighbours(a0)
    match_table = reference.matching_bonds(bonds)  # (g, 12, 3)
    ref_table = reference.reference_bonds(bonds)
    gidx = reference.index_of(structure.grain)
    n = structure.n_atoms
    G = np.empty((n, 3, 3))
    count = np.empty(n, dtype=int)
    ok = np.empty(n, dtype=bool)
    single = len(match_table) == 1 or bool(np.all(gidx == gidx[0]))
    show = (progress_enabled() and n > 1_000_000) if progress is None else progress
    bar = progress_bar(total=n, desc="lattice correspondence G", unit="atom", unit_scale=True, show=show)
    for start in range(0, n, chunk):
        bar.update(min(chunk, n - start))
        sl = slice(start, min(start + chunk, n))
        p, valid = nb.query(sl)
        if single:  # one grain: one shared bond table, no per-grain selection
            g = int(gidx[0])
            P, w = match_bonds(p, valid, match_table[g], cone_deg)
            G[sl], count[sl], ok[sl] = solve_correspondence(P, ref_table[g], w, min_matches=min_matches)
            continue
        g_chunk = gidx[sl]
        for g in np.unique(g_chunk):  # a few grains: shared tables per grain
            rows = np.flatnonzero(g_chunk == g)
            P, w = match_bonds(p[rows], valid[rows], match_table[g], cone_deg)
            at = rows + start
            G[at], count[at], ok[at] = solve_correspondence(P, ref_table[g], w, min_matches=min_matches)
    bar.close()
    return AtomCorrespondence(G=G, n_matched=count, ok=ok)
