"""Per-atom lattice correspondence tensor G (Hartley & Mishin, Acta Mater. 53 (2005) 1313).

Convention: for atom n, rows of P are its actual neighbour vectors p (Å, box frame), rows of Q the matched
ideal reference bonds q of the median reference lattice; G solves P G = Q in the least-squares sense, i.e.
q ≈ G^T p for every matched bond. G^T maps the deformed lattice onto the reference (G^T = F_e^{-1}), so the
elastic distortion is Ue = I - G^T and the Nye tensor is alpha = curl Ue.

Matching: each neighbour is paired with the ideal first-shell fcc bond (a0/2 <110>, in the atom's own grain
orientation) making the smallest angle with it, if that angle is below ``cone_deg``; when several neighbours
pick the same bond, the best-aligned one is kept. Atoms with fewer than ``min_matches`` pairs or an
ill-conditioned normal matrix are flagged (``ok`` False). Work is done in chunks of atoms with batched
(n, 3, 3) linear algebra; there is no Python loop over atoms.
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


def match_bonds(p: np.ndarray, valid: np.ndarray, ideal: np.ndarray, cone_deg: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Pair neighbour vectors with ideal bonds.

    p: (n, k, 3) neighbour vectors, valid: (n, k); ideal: (n, m, 3) ideal bonds per atom.
    Returns matched actual vectors (n, m, 3) (zero where unmatched) and weights (n, m) in {0, 1}.
    """
    pn = p / np.maximum(np.linalg.norm(p, axis=2, keepdims=True), 1e-12)
    qn = ideal / np.linalg.norm(ideal, axis=2, keepdims=True)
    cos = np.matmul(pn, np.swapaxes(qn, 1, 2))  # (n, k, m)
    best = np.argmax(cos, axis=2)  # (n, k) ideal bond closest to each neighbour
    best_cos = np.take_along_axis(cos, best[..., None], axis=2)[..., 0]
    accepted = valid & (best_cos > np.cos(np.radians(cone_deg)))
    score = np.full(cos.shape, -np.inf)
    n_idx, k_idx = np.nonzero(accepted)
    score[n_idx, k_idx, best[n_idx, k_idx]] = best_cos[n_idx, k_idx]
    winner = np.argmax(score, axis=1)  # (n, m) best neighbour for each ideal bond
    weight = np.isfinite(np.take_along_axis(score, winner[:, None, :], axis=1)[:, 0, :])
    matched = np.take_along_axis(p, winner[..., None], axis=1)
    matched[~weight] = 0.0
    return matched, weight.astype(float)


def solve_correspondence(P: np.ndarray, Q: np.ndarray, w: np.ndarray, min_matches: int = 5,
                         min_eig_ratio: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares P G = Q per atom via the normal equations (P^T W P) G = P^T W Q.

    Returns G (n, 3, 3), number of matches (n,), ok flag (n,). Flagged atoms get G = I.
    """
    Pw = np.swapaxes(P * w[..., None], 1, 2)
    A = np.matmul(Pw, P)
    B = np.matmul(Pw, Q)
    count = w.sum(axis=1).astype(int)
    eig = np.linalg.eigvalsh(A)
    ok = (count >= min_matches) & (eig[:, 0] > min_eig_ratio * np.maximum(eig[:, 2], 1e-30))
    G = np.repeat(np.eye(3)[None], len(A), axis=0)
    if ok.any():
        G[ok] = np.linalg.solve(A[ok], B[ok])
    return G, count, ok


def atom_correspondence(structure: Structure, a0: float, reference: GrainReference, cone_deg: float = 27.0,
                        cutoff: float | None = None, min_matches: int = 5, chunk: int = 100_000,
                        neighbours: PeriodicNeighbours | None = None, workers: int = 1) -> AtomCorrespondence:
    """Per-atom G for an fcc structure with lattice parameter ``a0`` (Å) against ``reference``."""
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
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        p, valid = nb.query(sl)
        g = gidx[sl]
        P, w = match_bonds(p, valid, match_table[g], cone_deg)
        G[sl], count[sl], ok[sl] = solve_correspondence(P, ref_table[g], w, min_matches=min_matches)
    return AtomCorrespondence(G=G, n_matched=count, ok=ok)
