"""Automatic reference: local fcc orientation per atom, clustered into grains (cubic symmetry aware).

Per atom with a full first shell (12 neighbours): a seed rotation from two neighbour bonds 60° apart, refined by
matching all bonds within the cone and taking the rotation part (polar decomposition) of the least-squares fit.
Grains: greedy clustering of orientations by misorientation angle (minimum over the 24 proper cubic operations);
atoms without an orientation, or far from every grain, take the grain of the nearest oriented atom. The grains
then get the same median-lattice construction as with given rotations.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from nyegan.lattice import cubic_point_group, fcc_nearest_neighbours
from nyegan.nye.lattice_g import SHELL_CUTOFF_FACTOR, match_bonds, solve_correspondence
from nyegan.nye.neighbours import PeriodicNeighbours
from nyegan.nye.reference import GrainReference, build_reference
from nyegan.rotations import orthonormalise
from nyegan.structure import Structure


def _frame(u, v):
    e1 = u / np.linalg.norm(u, axis=-1, keepdims=True)
    e3 = np.cross(u, v)
    e3 /= np.linalg.norm(e3, axis=-1, keepdims=True)
    return np.stack([e1, np.cross(e3, e1), e3], axis=-1)  # columns


def local_orientations(
    structure: Structure,
    a0: float,
    cone_deg: float = 27.0,
    chunk: int = 100_000,
    workers: int = 1,
    neighbours: PeriodicNeighbours | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rotation crystal->box per atom (N, 3, 3) and a flag (N,) for atoms with a full, well-fitted shell."""
    nb = neighbours or PeriodicNeighbours(structure, SHELL_CUTOFF_FACTOR * a0, max_neighbours=16, workers=workers)
    bonds = fcc_nearest_neighbours(a0)
    q1, q2 = np.array([1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0])
    crystal_frame = _frame(q1[None], q2[None])[0]
    n = structure.n_atoms
    rot = np.repeat(np.eye(3)[None], n, axis=0)
    ok = np.zeros(n, dtype=bool)
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        p, valid = nb.query(sl)
        full = valid.sum(axis=1) == 12
        p1 = p[:, 0]
        pn = p / np.maximum(np.linalg.norm(p, axis=2, keepdims=True), 1e-12)
        cos = np.einsum("nd,nkd->nk", pn[:, 0], pn)
        cos[~valid] = -2.0
        cos[:, 0] = -2.0
        k2 = np.argmin(np.abs(cos - 0.5), axis=1)
        p2 = np.take_along_axis(p, k2[:, None, None], axis=1)[:, 0]
        seed = _frame(p1, p2) @ crystal_frame.T  # maps crystal q1, q2 onto p1, p2
        ideal = np.einsum("nij,bj->nbi", seed, bonds)
        P, w = match_bonds(p, valid, ideal, cone_deg)
        G, count, good = solve_correspondence(P, np.broadcast_to(bonds, P.shape), w, min_matches=12)
        # q ≈ G^T p: crystal <- box; rotation part transposed is crystal -> box
        rot[sl] = np.swapaxes(orthonormalise(np.swapaxes(G, 1, 2)), 1, 2)
        ok[sl] = full & good
    return rot, ok


def misorientation_deg(rots: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum misorientation angle (degrees) of each rotation (N, 3, 3) to ``ref`` and the best operation index."""
    ops = cubic_point_group(proper_only=True)
    m = np.einsum("ji,njk->nik", ref, rots)  # R_ref^T R_n
    tr = np.einsum("sab,nba->ns", ops, m)
    best = np.argmax(tr, axis=1)
    c = np.clip((tr[np.arange(len(rots)), best] - 1) / 2, -1, 1)
    return np.degrees(np.arccos(c)), best


def cluster_orientations(
    rots: np.ndarray,
    ok: np.ndarray,
    tol_deg: float = 5.0,
    max_grains: int = 64,
    min_fraction: float = 0.002,
    min_atoms: int = 50,
    n_candidates: int = 64,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy clustering; returns grain index per atom (-1 unassigned) and mean rotations (n_grains, 3, 3).

    A grain needs at least ``min_atoms`` atoms and ``min_fraction`` of the oriented atoms; at most ``max_grains``.
    """
    rng = np.random.default_rng(seed)
    ops = cubic_point_group(proper_only=True)
    label = np.full(len(rots), -1)
    free = np.flatnonzero(ok)
    total = len(free)
    least = max(min_atoms, min_fraction * total)
    means = []
    while len(free) > least and len(means) < max_grains:
        sample = free if len(free) <= 20000 else rng.choice(free, 20000, replace=False)
        cands = rng.choice(free, min(n_candidates, len(free)), replace=False)
        counts = [(misorientation_deg(rots[sample], rots[c])[0] < tol_deg).sum() for c in cands]
        ref = rots[cands[int(np.argmax(counts))]]
        ang, best = _misorientation_chunked(rots[free], ref)
        members = free[ang < tol_deg]
        if len(members) < least:
            break
        aligned = np.einsum("nij,njk->nik", rots[members], ops[best[ang < tol_deg]])  # R_n S: ref's variant
        mean = orthonormalise(aligned.mean(axis=0))
        means.append(mean)
        label[members] = len(means) - 1
        free = free[ang >= tol_deg]
    if not means:
        raise ValueError(
            "reference='auto' found no fcc grain (no atom has a full, regular first shell); "
            "check a0 and the lattice, or give rotations with reference='grains'"
        )
    return label, np.array(means)


def _misorientation_chunked(rots: np.ndarray, ref: np.ndarray, chunk: int = 500_000):
    ang = np.empty(len(rots))
    best = np.empty(len(rots), dtype=int)
    for k in range(0, len(rots), chunk):
        ang[k : k + chunk], best[k : k + chunk] = misorientation_deg(rots[k : k + chunk], ref)
    return ang, best


def _best_matching_grain(nb, atoms: np.ndarray, means: np.ndarray, a0: float, cone_deg: float) -> np.ndarray:
    """For atoms without a clear orientation: the grain whose ideal bonds match most of their neighbours (ties:
    the larger summed cosine; sites that fit two grains equally, as on a mirror plane, the lower grain number),
    or -1 when fewer than 6 bonds match any grain. No seed: frame-covariant."""
    bonds = fcc_nearest_neighbours(a0)
    p, valid = nb.query(atoms)
    score = np.full((len(atoms), len(means)), -np.inf)
    for g, m in enumerate(means):
        P, w = match_bonds(p, valid, bonds @ m.T, cone_deg)
        q = (bonds @ m.T) / np.linalg.norm(bonds, axis=1)[:, None]
        cos = np.einsum("nbd,bd->nb", P / np.maximum(np.linalg.norm(P, axis=2, keepdims=True), 1e-12), q)
        raw = w.sum(axis=1) + 0.01 * (cos * w).sum(axis=1) / 12
        score[:, g] = np.where(w.sum(axis=1) >= 6, np.round(raw, 6), -np.inf)  # exact ties -> lower grain number
    best = np.argmax(score, axis=1)
    return np.where(np.isfinite(score[np.arange(len(atoms)), best]), best, -1)


def assign_grains(
    structure: Structure,
    rots: np.ndarray,
    ok: np.ndarray,
    means: np.ndarray,
    tol_deg: float,
    neighbours=None,
    a0: float | None = None,
    cone_deg: float = 27.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Grain index (0-based) per atom: the nearest mean orientation for well-oriented atoms within ``tol_deg``/2;
    else the grain whose bonds match most neighbours (``neighbours`` given); else the grain of the nearest
    labelled atom. Returns the labels and the means re-averaged over their members."""
    ops = cubic_point_group(proper_only=True)
    n = len(rots)
    near = np.zeros(n, dtype=int)
    best_ang = np.full(n, np.inf)
    for g, m in enumerate(means):
        ang, _ = _misorientation_chunked(rots, m)
        better = ang < best_ang
        near[better], best_ang[better] = g, ang[better]
    label = np.where(ok & (best_ang < 0.5 * tol_deg), near, -1)  # clearly inside a grain, whatever the seed
    doubtful = np.flatnonzero(label < 0)
    if len(doubtful) and neighbours is not None:
        label[doubtful] = _best_matching_grain(neighbours, doubtful, means, a0, cone_deg)
    known = np.flatnonzero(label >= 0)
    unknown = np.flatnonzero(label < 0)
    if len(unknown):
        wrapped = structure.wrapped().positions
        tree = cKDTree(wrapped[known])
        _, j = tree.query(wrapped[unknown])
        label[unknown] = label[known[j]]
    refined = means.copy()
    for g, m in enumerate(means):
        members = np.flatnonzero((label == g) & ok & (best_ang < tol_deg))
        if len(members):
            _, best = _misorientation_chunked(rots[members], m)
            refined[g] = orthonormalise(np.einsum("nij,njk->ik", rots[members], ops[best]) / len(members))
    return label, refined


def detect_grains(
    structure: Structure, a0: float, cone_deg: float = 27.0, tol_deg: float = 5.0, workers: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grains from the atoms alone: grain id of every atom (1, 2, ...), the mean rotation of each grain (crystal ->
    box) and the atom count of each grain.

    Grains are numbered by the distance of their nearest atom to the cell origin (periodic minimum image), a
    frame-independent order: rotating, mirroring or re-describing the cell, relabelling types or shuffling ids
    numbers them the same, and atoms that match two grains equally well (sites on a mirror plane) go to the
    lower number whatever the frame.
    """
    nb = PeriodicNeighbours(structure, SHELL_CUTOFF_FACTOR * a0, max_neighbours=16, workers=workers)
    rots, ok = local_orientations(structure, a0, cone_deg, workers=workers, neighbours=nb)
    cluster, means = cluster_orientations(rots, ok, tol_deg)
    dist = _distance_to_origin(structure)
    first = np.array([dist[cluster == k].min() for k in range(len(means))])
    means = means[np.argsort(first, kind="stable")]
    label, means = assign_grains(structure, rots, ok, means, tol_deg, nb, a0, cone_deg)
    del rots
    counts = np.bincount(label, minlength=len(means))
    keep = np.flatnonzero(counts > 0)
    rank = np.full(len(means), -1)
    rank[keep] = np.arange(len(keep))
    return rank[label] + 1, means[keep], counts[keep]


def _distance_to_origin(structure: Structure) -> np.ndarray:
    """Minimum-image distance (Å) of every atom to the cell origin."""
    frac = structure.fractional()
    for m in range(3):
        if structure.pbc[m]:
            frac[:, m] -= np.round(frac[:, m])
    return np.linalg.norm(frac @ structure.cell, axis=1)


def detect_reference(
    structure: Structure, a0: float, axis=None, cone_deg: float = 27.0, tol_deg: float = 5.0, workers: int = 1
) -> tuple[GrainReference, np.ndarray]:
    """Median-lattice reference from detected grains, the misorientation read about ``axis`` (box vector) when
    one is given, else the disorientation; returns it and the grain id (1, 2, ...) of every atom."""
    grain, means, _ = detect_grains(structure, a0, cone_deg, tol_deg, workers)
    ids = np.arange(1, len(means) + 1)
    ref = build_reference(ids, means, axis=axis, method="auto")
    return ref, grain
