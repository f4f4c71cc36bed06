"""Nye-field speed and memory, side by side in one run.

1. Against atomman's per-atom Nye tensor on the same relaxed periodic screw-dislocation quadrupole (4,536 atoms,
   the same dump, bonds and 27° cone): per-stage times of nyegan (read, neighbours, G, grid, curl, output) in
   µs/atom for 1 and 2 worker threads, and the ratios to atomman (single-threaded) for G alone (neighbour search
   + per-atom correspondence vs atomman's neighbour list + nye_tensor), end to end in memory (+ grid + curl) and
   end to end from the dump file (reading included on both sides); traced peak memory of one run of each.
   Timings are the best of ``--repeat`` interleaved runs (the machine may be shared).
2. Regression: the fields of today's code against those of an earlier version stored in
   ``benchmarks/reference/nye_screw_quadrupole.npz`` (same atoms, same parameters), and the pair search against
   the per-atom k-nearest search in the same run; the run fails (exit 1) beyond round-off.
3. Scaling: perturbed fcc crystals of ``--sizes`` atoms (e.g. ``--sizes 1e7``), end to end in memory, in chunks
   with a progress bar on a terminal: atoms/s and peak resident memory during the call (sampled).

Run: OMP_NUM_THREADS=1 PYTHONPATH=src:tests python benchmarks/bench_nye.py [--sizes 1e5 1e6 1e7] [--no-atomman]
     [--repeat 5] [--workers 1 2] [--spacing 2.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from nye_helpers import POTENTIAL, oriented_crystal, quadrupole, relax  # noqa: E402

from nyegan.io import read_atoms  # noqa: E402
from nyegan.lattice import fcc_nearest_neighbours  # noqa: E402
from nyegan.nye import compute_nye, core_content  # noqa: E402
from nyegan.nye.lattice_g import SHELL_CUTOFF_FACTOR, atom_correspondence  # noqa: E402
from nyegan.nye.neighbours import PeriodicNeighbours  # noqa: E402
from nyegan.nye.reference import build_reference  # noqa: E402
from nyegan.potentials import cubic_properties  # noqa: E402
from nyegan.structure import Structure  # noqa: E402

REFERENCE = ROOT / "benchmarks" / "reference" / "nye_screw_quadrupole.npz"
FIELD = dict(average_along="z", spacing=1.0, smoothing=2.0, content=None)  # the parameters of the comparison
STAGES = ("read", "neighbours", "G", "grid", "curl", "output")
G_TOL = 1e-12  # max |G - G_ref| (G ~ 1)
ALPHA_TOL = 1e-6  # max |alpha - alpha_ref| / max |alpha_ref|: G's deviations are deposited and smoothed in
# float32 (eps 6e-8), so a round-off change of G can move a float32 value by one unit


class PeakRSS:
    """Peak resident set size (bytes) of this process while the context is open, sampled every ``dt`` s."""

    def __init__(self, dt: float = 0.005):
        self.dt, self.peak = dt, 0
        self._page = 4096
        self._stop = threading.Event()

    def _rss(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self._page

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.dt)

    def __enter__(self):
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def traced_peak(fn) -> float:
    """Peak traced allocation (bytes) of one call of ``fn`` (Python objects and numpy buffers)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def versus_atomman(a0: float, repeat: int, workers: list[int]) -> None:
    import atomman as am

    work = Path(tempfile.mkdtemp(prefix="nye_bench_"))
    q, rot, b, cores, _ = quadrupole([[1, 1, -2], [1, 1, 1], [1, -1, 0]], [18, 14, 3], a0, [1, -1, 0])
    s = relax(q, work, "screw_bench")
    dump = work / "screw_bench.dump"  # written by LAMMPS in relax()
    n = s.n_atoms
    ref = build_reference([1], [rot])
    box = am.Box(avect=s.cell[0], bvect=s.cell[1], cvect=s.cell[2], origin=s.origin)
    system = am.System(atoms=am.Atoms(atype=s.grain, pos=s.positions), box=box, pbc=s.pbc, symbols="Al")
    p = fcc_nearest_neighbours(a0) @ rot.T

    def atomman_memory():  # neighbour list + per-atom Nye tensor, same reference bonds and cone
        nb = am.NeighborList(system=system, cutoff=0.8536 * a0)
        return am.defect.nye_tensor(system, p, theta_max=27, neighbors=nb)

    def atomman_file():  # reading the dump + the above
        sysf = am.load("atom_dump", str(dump), symbols="Al")
        nb = am.NeighborList(system=sysf, cutoff=0.8536 * a0)
        return am.defect.nye_tensor(sysf, p, theta_max=27, neighbors=nb)

    def nyegan_file(w, timings=None):  # reading + neighbours + G + grid + curl + per-atom alpha
        t = time.perf_counter()
        atoms = read_atoms(dump)
        if timings is not None:
            timings["read"] = time.perf_counter() - t
        return compute_nye(atoms, a0, reference=ref, return_atoms=True, workers=w, timings=timings, **FIELD)

    def nyegan_memory(w):
        return compute_nye(s, a0, reference=ref, return_atoms=True, workers=w, **FIELD)

    def nyegan_g(w):  # neighbour search + per-atom G
        return atom_correspondence(s, a0, ref, workers=w)

    wall, cpu = defaultdict(lambda: np.inf), defaultdict(lambda: np.inf)
    stages = {}

    def timed(key, fn, *args):  # best wall and CPU time of key; returns fn's result and the wall time
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn(*args)
        dw, dc = time.perf_counter() - w0, time.process_time() - c0
        wall[key], cpu[key] = min(wall[key], dw), min(cpu[key], dc)
        return result, dw

    load = os.getloadavg()[0]
    for _ in range(repeat):  # interleaved: each repetition runs everything
        timed("am_file", atomman_file)
        res, _ = timed("am", atomman_memory)
        for w in workers:
            for _ in range(3):  # nyegan runs are short: several per repetition
                timings = {}
                _, dw = timed(("file", w), nyegan_file, w, timings)
                if dw <= wall["file", w]:
                    stages[w] = timings
                (ds, atoms), _ = timed(("memory", w), nyegan_memory, w)
                corr, _ = timed(("G", w), nyegan_g, w)
    load = (load, os.getloadavg()[0])
    peak_am = traced_peak(atomman_file)
    peak_ny = traced_peak(lambda: nyegan_file(1))

    us = lambda sec: 1e6 * sec / n  # noqa: E731
    print(
        f"\nrelaxed screw quadrupole, {n} atoms (same dump, bonds and 27 deg cone), best of {repeat} interleaved runs"
        f" (load average {load[0]:.1f} -> {load[1]:.1f} on {os.cpu_count()} CPUs)"
    )
    head = "".join(f"  workers={w}" for w in workers)
    print(f"  {'nyegan stage, wall (us/atom)':34s}{head}")
    for k in STAGES:
        print(f"  {k:34s}" + "".join(f"{us(stages[w].get(k, 0.0)):11.2f}" for w in workers))
    print(
        "  ratio atomman / nyegan. CPU time: both single-threaded (nyegan workers=1): their wall times on an idle"
        "\n  machine, robust when the machine is shared. Wall time: as measured, nyegan with each number of workers."
    )
    wall_head = "".join(f"{'w=' + str(w):>8s}" for w in workers)
    print(
        f"  {'(us/atom)':26s}{'atomman':>9s}{'nyegan':>9s}{'ratio':>8s}   | wall: {'atomman':>8s}{wall_head}   ratios"
    )
    for name, key, am_key in (
        ("end to end from the dump", "file", "am_file"),
        ("end to end in memory", "memory", "am"),
        ("G alone (neighbours + G)", "G", "am"),
    ):
        c1 = cpu[key, 1] if 1 in workers else np.nan
        ratios = " ".join(f"{wall[am_key] / wall[key, w]:6.1f}x" for w in workers)
        print(
            f"  {name:26s}{us(cpu[am_key]):9.1f}{us(c1):9.2f}{cpu[am_key] / c1:7.1f}x   |       {us(wall[am_key]):8.1f}"
            + "".join(f"{us(wall[key, w]):8.2f}" for w in workers)
            + f"   {ratios}"
        )
    print(
        f"  traced peak memory of one run from the dump: nyegan {peak_ny / 1e6:.1f} MB, atomman {peak_am / 1e6:.1f} MB"
    )

    # agreement with atomman: per-atom strain from G (same definition), per-atom alpha (theirs: least-squares
    # gradients; ours: grid, smoothed), Burgers vectors of the cores
    ue = np.eye(3) - np.swapaxes(corr.G, 1, 2)
    eps_ours = 0.5 * (ue + np.swapaxes(ue, 1, 2))
    eps_am = np.asarray(res["strain"])
    good = corr.ok & np.all(np.isfinite(eps_am.reshape(n, -1)), axis=1)
    print(
        f"  per-atom strain from G vs atomman, max |difference| over {good.sum()} atoms: "
        f"{np.abs(eps_ours[good] - eps_am[good]).max():.2e}"
    )
    a_am = np.asarray(res["Nye_tensor"])
    ours, theirs = atoms["alpha"][:, :, 2], a_am[:, :, 2]
    ok = good & np.all(np.isfinite(ours), axis=1) & np.all(np.isfinite(theirs), axis=1)
    print(f"  correlation of alpha_zz with atomman's: {np.corrcoef(ours[ok, 2], theirs[ok, 2])[0, 1]:+.3f}")
    area = abs(np.linalg.det(s.cell)) / n / s.cell[2, 2]  # section area per atom
    d = s.positions[:, None, :2] - cores[None]
    d -= np.round(d / np.diag(s.cell)[:2]) * np.diag(s.cell)[:2]
    owner = np.argmin(np.linalg.norm(d, axis=2), axis=1)
    bz_am = [float(np.nansum(theirs[(owner == k) & ok, 2]) * area) for k in range(4)]
    bz_ours = [e["burgers_vector"][2] for e in core_content(ds, cores=cores)]
    print(
        f"  core b_z / |b|: nyegan grid {np.round(np.array(bz_ours) / np.linalg.norm(b), 4).tolist()}"
        f"   atomman per-atom sum {np.round(np.array(bz_am) / np.linalg.norm(b), 3).tolist()}"
    )
    check_reader(dump)


def check_reader(dump: Path) -> None:
    """The dump reader against numpy's own text parser on the atom block."""
    s = read_atoms(dump)
    lines = dump.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ITEM: ATOMS")) + 1
    table = np.loadtxt(lines[start:])
    table = table[np.argsort(table[:, 0])]
    diff = np.abs(s.positions - table[:, 2:5]).max()
    print(f"  reader vs numpy.loadtxt on the dump: max |position difference| {diff:.1e} A")


def regression(a0_bench: float | None = None) -> bool:
    """Today's fields against the stored ones of an earlier version (same atoms and parameters); the pair search
    against the per-atom k-nearest search. True when both agree to round-off."""
    ref = np.load(REFERENCE)
    s = Structure(
        positions=ref["positions"],
        cell=ref["cell"],
        origin=ref["origin"],
        pbc=tuple(bool(p) for p in ref["pbc"]),
        grain=np.ones(len(ref["positions"]), dtype=int),
    )
    a0 = float(ref["a0"])
    reference = build_reference([1], [ref["rotation"]])
    ds, atoms = compute_nye(s, a0, reference=reference, return_atoms=True, **FIELD)
    alpha, alpha_ref = ds["alpha"].values, ref["alpha"]
    scale = np.nanmax(np.abs(alpha_ref))
    d_g = float(np.abs(atoms["G"] - ref["G"]).max())
    d_alpha = float(np.nanmax(np.abs(alpha - alpha_ref)) / scale)
    same_flags = np.array_equal(atoms["ok"], ref["ok"]) and np.array_equal(atoms["n_matched"], ref["n_matched"])
    same_mask = np.array_equal(np.isnan(alpha), np.isnan(alpha_ref))
    knn = atom_correspondence(
        s, a0, reference, neighbours=PeriodicNeighbours(s, SHELL_CUTOFF_FACTOR * a0, max_neighbours=16)
    )
    d_knn = float(np.abs(knn.G - atoms["G"]).max())
    same_knn = np.array_equal(knn.ok, atoms["ok"]) and np.array_equal(knn.n_matched, atoms["n_matched"])
    passed = same_flags and same_mask and same_knn and d_g <= G_TOL and d_alpha <= ALPHA_TOL and d_knn <= G_TOL
    print(f"\nregression against {REFERENCE.name} ({ref['made_with']}):")
    print(f"  G: max |difference| {d_g:.1e} (tolerance {G_TOL:g}); matched-bond counts and flags equal: {same_flags}")
    print(
        f"  alpha: max |difference| / max |alpha| {d_alpha:.1e} (tolerance {ALPHA_TOL:g}); NaN masks equal: {same_mask}"
    )
    print(f"  pair search vs per-atom k-nearest search: max |dG| {d_knn:.1e}, counts and flags equal: {same_knn}")
    print(f"  {'PASS' if passed else 'FAIL: results changed beyond round-off'}")
    return passed


def scaling(a0: float, sizes, workers: list[int], spacing: float) -> None:
    print(f"\nscaling: perturbed fcc crystal, end to end in memory (neighbours, G, grid at {spacing} A, curl)")
    print(
        "  atoms/s on wall and CPU time (CPU: summed over threads); RSS: resident memory before the call (the atoms)"
        " and its peak during it"
    )
    print(
        f"  {'atoms':>10} {'workers':>7} {'grid':>12} {'wall_s':>7} {'atoms/s':>9} {'cpu_s':>7} {'atoms/s':>9}"
        f" {'RSS_GB':>7} {'peak':>6}  {'neighbours':>10} {'G':>6} {'grid':>6} {'curl':>6} {'output':>6}  (wall s)"
    )
    rng = np.random.default_rng(0)
    for n_target in sizes:
        n_side = max(2, int(round((n_target / 4) ** (1 / 3))))
        s, rot = oriented_crystal([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [n_side] * 3, a0)
        s.positions += rng.normal(scale=0.05, size=s.positions.shape)
        for w in workers:
            timings = {}
            with PeakRSS() as mem:
                start = mem.peak
                t, c = time.perf_counter(), time.process_time()
                ds = compute_nye(
                    s, a0, reference="grains", rotations={1: rot}, spacing=spacing, content=None, workers=w,
                    timings=timings,
                )  # fmt: skip
                dt, dc = time.perf_counter() - t, time.process_time() - c
            grid = "x".join(str(v) for v in ds["alpha"].shape[2:])
            del ds
            stage = "".join(f" {timings.get(k, 0.0):>6.1f}" for k in ("G", "grid", "curl", "output"))
            print(
                f"  {s.n_atoms:>10d} {w:>7d} {grid:>12} {dt:>7.1f} {s.n_atoms / dt:>9.0f} {dc:>7.1f}"
                f" {s.n_atoms / dc:>9.0f} {start / 1e9:>7.2f} {mem.peak / 1e9:>6.2f}"
                f"  {timings.get('neighbours', 0.0):>10.1f}{stage}"
            )
        del s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="*", type=float, default=[1e5, 1e6], help="atoms of the scaling runs")
    ap.add_argument("--no-atomman", action="store_true", help="skip the comparison with atomman")
    ap.add_argument("--repeat", type=int, default=5, help="timings: best of this many interleaved runs")
    ap.add_argument("--workers", nargs="*", type=int, default=[1, 2], help="threads for nyegan (each is timed)")
    ap.add_argument("--spacing", type=float, default=2.0, help="grid spacing of the scaling runs, Å")
    args = ap.parse_args()
    a0 = cubic_properties(POTENTIAL).a0
    passed = regression()
    if not args.no_atomman:
        versus_atomman(a0, args.repeat, args.workers)
    if args.sizes:
        scaling(a0, [int(v) for v in args.sizes], args.workers, args.spacing)
    if not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
