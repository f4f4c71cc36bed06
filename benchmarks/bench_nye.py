"""Nye-field speed and memory: end to end (neighbours, G, grid, curl) for 1e4..1e7 atoms (atoms/s, peak memory),
and against atomman's per-atom Nye tensor on the same relaxed periodic screw-dislocation quadrupole, side by side
in one run: G alone, and end to end from the dump file (reading + neighbours + G + grid + curl for nyegan;
reading + neighbour list + nye_tensor for atomman).

Run: OMP_NUM_THREADS=1 PYTHONPATH=src:tests python benchmarks/bench_nye.py [--sizes 1e4 1e5 1e6 1e7] [--no-atomman]
     [--repeat 3] [--workers 1] [--spacing 2.0]
The largest sizes are processed in chunks of 10^5 atoms with a progress bar on a terminal; peak memory is the
process' maximum resident set (run one size per process for a clean figure at 1e7).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nye_helpers import POTENTIAL, oriented_crystal, quadrupole, relax  # noqa: E402

from nyegan.io import read_atoms  # noqa: E402
from nyegan.lattice import fcc_nearest_neighbours  # noqa: E402
from nyegan.nye import compute_nye, core_content  # noqa: E402
from nyegan.nye.lattice_g import atom_correspondence  # noqa: E402
from nyegan.nye.reference import build_reference  # noqa: E402
from nyegan.potentials import cubic_properties  # noqa: E402


def scaling(a0: float, sizes, workers: int = 1, spacing: float = 1.0) -> None:
    print(f"{'atoms':>10} {'grid':>16} {'time_s':>8} {'atoms/s':>10} {'peak_traced_GB':>15} {'maxrss_GB':>10}")
    rng = np.random.default_rng(0)
    for n_target in sizes:
        n_side = max(2, int(round((n_target / 4) ** (1 / 3))))
        s, rot = oriented_crystal([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [n_side] * 3, a0)
        s = s.copy(positions=s.positions + rng.normal(scale=0.05, size=s.positions.shape))
        tracemalloc.start()
        t = time.perf_counter()
        ds = compute_nye(
            s, a0, reference="grains", rotations={1: rot}, spacing=spacing, smoothing=2.0, content=None, workers=workers
        )
        dt = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        grid = "x".join(str(v) for v in ds["alpha"].shape[2:])
        print(f"{s.n_atoms:>10d} {grid:>16} {dt:>8.2f} {s.n_atoms / dt:>10.0f} {peak / 1e9:>15.2f} {rss:>10.2f}")
        del ds


def versus_atomman(a0: float, repeat: int = 3, workers: int = 1) -> None:
    import atomman as am

    work = Path(tempfile.mkdtemp(prefix="nye_bench_"))
    q, rot, b, cores, _ = quadrupole([[1, 1, -2], [1, 1, 1], [1, -1, 0]], [18, 14, 3], a0, [1, -1, 0])
    s = relax(q, work, "screw_bench")
    n = s.n_atoms
    ref = build_reference([1], [rot])
    box = am.Box(avect=s.cell[0], bvect=s.cell[1], cvect=s.cell[2], origin=s.origin)
    system = am.System(atoms=am.Atoms(atype=s.grain, pos=s.positions), box=box, pbc=s.pbc, symbols="Al")
    p = fcc_nearest_neighbours(a0) @ rot.T

    dump = work / "screw_bench.dump"  # written by LAMMPS in relax()

    def run_atomman():  # neighbour list + per-atom Nye tensor, same reference bonds and cone
        nb = am.NeighborList(system=system, cutoff=0.8536 * a0)
        return am.defect.nye_tensor(system, p, theta_max=27, neighbors=nb)

    def run_atomman_file():  # reading the dump + the above
        sysf = am.load("atom_dump", str(dump), symbols="Al")
        nb = am.NeighborList(system=sysf, cutoff=0.8536 * a0)
        return am.defect.nye_tensor(sysf, p, theta_max=27, neighbors=nb)

    def run_file():  # reading the dump + G + grid + curl + per-atom alpha
        return compute_nye(
            read_atoms(dump),
            a0,
            reference=ref,
            average_along="z",
            spacing=1.0,
            smoothing=2.0,
            content=None,
            return_atoms=True,
            workers=workers,
        )

    def run_g():  # neighbour search + per-atom G
        return atom_correspondence(s, a0, ref, workers=workers)

    def run_all():  # G + grid + curl + per-atom alpha
        return compute_nye(
            s,
            a0,
            reference=ref,
            average_along="z",
            spacing=1.0,
            smoothing=2.0,
            content=None,
            return_atoms=True,
            workers=workers,
        )

    # interleaved, best of ``repeat`` for each (the machine may be shared)
    t_am = t_g = t_all = t_amf = t_file = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        run_atomman_file()
        t_amf = min(t_amf, time.perf_counter() - t)  # noqa: E702
        t = time.perf_counter()
        run_file()
        t_file = min(t_file, time.perf_counter() - t)  # noqa: E702
        t = time.perf_counter()
        res = run_atomman()
        t_am = min(t_am, time.perf_counter() - t)  # noqa: E702
        t = time.perf_counter()
        corr = run_g()
        t_g = min(t_g, time.perf_counter() - t)  # noqa: E702
        t = time.perf_counter()
        ds, atoms = run_all()
        t_all = min(t_all, time.perf_counter() - t)  # noqa: E702
    a_am = np.asarray(res["Nye_tensor"])
    print(
        f"\nrelaxed screw quadrupole, {n} atoms (same dump, same bonds, 27 deg cone), best of {repeat}, "
        f"nyegan workers={workers}"
    )
    print(f"  atomman nye_tensor      : {t_am:8.3f} s  {1e6 * t_am / n:8.1f} us/atom")
    print(f"  nyegan per-atom G       : {t_g:8.3f} s  {1e6 * t_g / n:8.1f} us/atom   ratio {t_am / t_g:6.1f}x")
    print(f"  nyegan end to end (grid): {t_all:8.3f} s  {1e6 * t_all / n:8.1f} us/atom   ratio {t_am / t_all:6.1f}x")
    print(f"  atomman from the dump   : {t_amf:8.3f} s  {1e6 * t_amf / n:8.1f} us/atom")
    print(
        f"  nyegan from the dump    : {t_file:8.3f} s  {1e6 * t_file / n:8.1f} us/atom   ratio {t_amf / t_file:6.1f}x"
    )
    # agreement: per-atom G (same definition) and per-atom alpha (atomman: LS gradients; ours: grid, smoothed)
    # atomman's per-atom G is not returned; compare the strain (sym part of I - G^T) it derives from G
    ue = np.eye(3) - np.swapaxes(corr.G, 1, 2)
    eps_ours = 0.5 * (ue + np.swapaxes(ue, 1, 2))
    eps_am = np.asarray(res["strain"])
    good = corr.ok & np.all(np.isfinite(eps_am.reshape(n, -1)), axis=1)
    diff = np.abs(eps_ours[good] - eps_am[good]).max()
    print(f"  per-atom strain from G, max |difference| over {good.sum()} atoms: {diff:.2e}")
    ours = atoms["alpha"][:, :, 2]
    theirs = a_am[:, :, 2]
    ok = good & np.all(np.isfinite(ours), axis=1) & np.all(np.isfinite(theirs), axis=1)
    area = abs(np.linalg.det(s.cell)) / n / s.cell[2, 2]  # section area per atom
    for name, t_ in (("alpha_iz", theirs), ("-alpha_zi (transposed)", -a_am[:, 2, :])):
        c = np.corrcoef(ours[ok, 2], t_[ok, 2])[0, 1]
        print(f"  atomman {name:24s}: correlation of the zz component with ours {c:+.3f}")
    # Burgers vectors from atomman's per-atom alpha: sum over atoms nearest each core x section area per atom
    d = s.positions[:, None, :2] - cores[None]
    d -= np.round(d / np.diag(s.cell)[:2]) * np.diag(s.cell)[:2]
    owner = np.argmin(np.linalg.norm(d, axis=2), axis=1)
    bz_am = [float(np.nansum(theirs[(owner == k) & ok, 2]) * area) for k in range(4)]
    bz_ours = [e["burgers_vector"][2] for e in core_content(ds, cores=cores)]
    print(
        f"  core b_z / |b|: nyegan grid {np.round(np.array(bz_ours) / np.linalg.norm(b), 4).tolist()}"
        f"   atomman per-atom sum {np.round(np.array(bz_am) / np.linalg.norm(b), 3).tolist()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", nargs="*", type=float, default=[1e4, 1e5, 1e6])
    ap.add_argument("--no-atomman", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="timings: best of this many interleaved runs")
    ap.add_argument("--workers", type=int, default=1, help="threads for nyegan's neighbour search and FFTs")
    ap.add_argument("--spacing", type=float, default=1.0, help="grid spacing of the scaling runs, Å")
    args = ap.parse_args()
    a0 = cubic_properties(POTENTIAL).a0
    if not args.no_atomman:
        versus_atomman(a0, args.repeat, args.workers)
    print()
    scaling(a0, [int(v) for v in args.sizes], args.workers, args.spacing)


if __name__ == "__main__":
    main()
