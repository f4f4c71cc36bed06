"""Converged GB search vs an exhaustive dense search, side by side on the same boundaries.

For each boundary both searches run in the same process, one after the other (the dense one first on odd
boundaries, second on even ones, so a change of machine load does not favour either):

- dense: translations at ``--dense-spacing`` Å along x and half of it along z over one CSL period, every distinct
  deletion level below 0.9 d_nn, each state fully relaxed (CG to the search tolerance), symmetry images included;
  the best then relaxed tightly;
- default: the project's search with the schema defaults (symmetry images of a state skipped, every other coarse
  state screened, the best relaxed fully, refinement at halved spacing until the minimum moves by less than
  1 mJ/m²).

Also printed: how many of the dense search's states are distinct up to a symmetry of the cell, i.e. the cost of
an exhaustive search that skips symmetry images too.

Printed per boundary and in total: the final boundary energies (mJ/m²) and their difference, the CG runs
(screening + full relaxations) and the full relaxations of each, wall and CPU seconds, and the ratios. Goal:
default within 1 mJ/m² of (or below) dense, with ≤ 30 % of its relaxations and ≤ 1/4 of its time.

    python benchmarks/bench_gb_search.py                 # the five boundaries below, Al_mm
    python benchmarks/bench_gb_search.py --quick         # three of them
    python benchmarks/bench_gb_search.py --only 'S33(2-25)[110]'
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from nyegan.potentials import cubic_properties, resolve_potential
from nyegan.relax import RelaxSettings, relax_case
from nyegan.relax.states import TrialState, apply_state, geometry_key
from nyegan.structures.gb import build_stgb

BOUNDARIES = [
    ("S5(310)[001]", [0, 0, 1], [3, 1, 0]),
    ("S41(910)[001]", [0, 0, 1], [9, 1, 0]),
    ("S27(1-15)[110]", [1, 1, 0], [1, -1, 5]),
    ("S33(2-25)[110]", [1, 1, 0], [2, -2, 5]),
    ("S11(1-13)[110]", [1, 1, 0], [1, -1, 3]),
]


def dense_settings(spacing: float) -> RelaxSettings:
    d = RelaxSettings.defaults().search
    return RelaxSettings.from_config({"gb_search": {
        "translation_spacing": [spacing, spacing / 2], "screen_maxiter": d.maxiter, "screen_ftol": d.ftol, "n_full": 1,
        "refine_rounds": 0, "skip_equivalent": False, "max_deletion_levels": 0}})  # fmt: skip


def run(label, s, meta, pot, settings, a0: float):
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, rec = relax_case(s, meta, pot, settings)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    screened = rec["n_states"]
    full = rec["n_full_relaxations"]
    dense_mode = settings.search.screen_maxiter == settings.search.maxiter
    runs = screened + (0 if dense_mode else full)  # dense: every "screening" already is a full relaxation
    out = {"search": label, "gamma": rec["gb_energy_mJ_m2"], "cg_runs": runs, "full": screened if dense_mode else full,
           "wall_s": wall, "cpu_s": cpu, "chosen": rec["chosen_state"], "skipped_equivalent": len(rec["equivalent_states"])}  # fmt: skip
    if dense_mode:  # states of the dense grid that are distinct up to a symmetry of the cell (no relaxation)
        d_nn = a0 / 2**0.5
        keys = {
            geometry_key(apply_state(s, TrialState(r["tx"], r["tz"], r["cutoff_nn"]), d_nn)[0]) for r in rec["states"]
        }
        out["distinct"] = len(keys)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--potential", default="Al_mm.eam.fs")
    ap.add_argument("--dense-spacing", type=float, default=1.0, help="Å (default 1.0)")
    ap.add_argument("--quick", action="store_true", help="three of the boundaries (Σ5, Σ27, Σ11)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="these boundaries only, e.g. S33(2-25)[110]")
    ap.add_argument("--json", type=Path, help="write the table as JSON")
    args = ap.parse_args()
    pot = resolve_potential(args.potential)
    a0 = cubic_properties(pot).a0
    rows = []
    chosen = BOUNDARIES[::2] if args.quick else BOUNDARIES
    if args.only:
        unknown = set(args.only) - {b[0] for b in BOUNDARIES}
        if unknown:
            raise SystemExit(f"--only: unknown boundaries {sorted(unknown)}; choose from {[b[0] for b in BOUNDARIES]}")
        chosen = [b for b in BOUNDARIES if b[0] in args.only]
    for k, (name, axis, plane) in enumerate(chosen):
        s, meta = build_stgb(axis, plane, a0=a0, min_size=(10, 40, 8))
        meta = {**meta, "potential": pot.name, "element": pot.element}
        jobs = [("dense", dense_settings(args.dense_spacing)), ("default", RelaxSettings.defaults())]
        res = {}
        for label, settings in jobs if k % 2 == 0 else jobs[::-1]:
            res[label] = run(label, s, meta, pot, settings, a0)
        d, a = res["dense"], res["default"]
        row = {"boundary": name, "n_atoms": s.n_atoms, "dense": d, "default": a,
               "delta_mJ_m2": a["gamma"] - d["gamma"], "runs_ratio": a["cg_runs"] / d["cg_runs"],
               "full_ratio": a["full"] / d["full"], "wall_ratio": a["wall_s"] / d["wall_s"],
               "cpu_ratio": a["cpu_s"] / d["cpu_s"]}  # fmt: skip
        rows.append(row)
        print(f"{name:16s} {s.n_atoms:5d} atoms | dense {d['gamma']:8.2f} mJ/m² {d['cg_runs']:4d} runs "
              f"({d['distinct']} distinct) "
              f"{d['wall_s']:6.1f} s | default {a['gamma']:8.2f} mJ/m² {a['cg_runs']:4d} runs ({a['full']} full) "
              f"{a['wall_s']:6.1f} s | Δγ {row['delta_mJ_m2']:+6.2f} | runs {row['runs_ratio']:.2f} "
              f"full {row['full_ratio']:.2f} wall {row['wall_ratio']:.2f} cpu {row['cpu_ratio']:.2f}", flush=True)  # fmt: skip
    dense_runs = sum(r["dense"]["cg_runs"] for r in rows)
    dense_wall = sum(r["dense"]["wall_s"] for r in rows)
    dense_cpu = sum(r["dense"]["cpu_s"] for r in rows)
    runs = sum(r["default"]["cg_runs"] for r in rows)
    full = sum(r["default"]["full"] for r in rows)
    wall = sum(r["default"]["wall_s"] for r in rows)
    cpu = sum(r["default"]["cpu_s"] for r in rows)
    distinct = sum(r["dense"]["distinct"] for r in rows)
    print(f"\ntotal: CG runs {runs}/{dense_runs} = {runs / dense_runs:.2f} ({runs}/{distinct} = {runs / distinct:.2f} of "
          f"the dense states distinct up to symmetry), full relaxations {full}/{dense_runs} = "
          f"{full / dense_runs:.2f}, wall {wall:.0f}/{dense_wall:.0f} s = {wall / dense_wall:.2f}, "
          f"cpu {cpu:.0f}/{dense_cpu:.0f} s = {cpu / dense_cpu:.2f}; worst Δγ "
          f"{max(r['delta_mJ_m2'] for r in rows):+.2f} mJ/m²")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=float))


if __name__ == "__main__":
    main()
