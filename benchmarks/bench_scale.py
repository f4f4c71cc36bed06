"""Scale of the data factory: planning a 2,000-case sweep, and assembling a 2,000-sample dataset.

1. ``snakemake -n`` (dry run: parse, validate, expand every case, build the job graph) of a sweep of about
   ``--cases`` cases: tilt boundaries about six axes (Σ ≤ 401), twist boundaries about [001] and [111], the default
   dislocations, and boundary + dislocation cells at many distances (2 characters × 3 boundaries). Printed: the
   number of cases and jobs, the wall time of ``nyegan.config.check_config`` alone (in this process) and of the
   whole dry run (a subprocess, as a user runs it). Goal: < 20 s.
2. Dataset assembly (``nyegan.dataset.assemble``, streamed: headers first, then one preallocated array) of
   ``--samples`` synthetic Nye fields (``nyegan.gan.synthetic.write_case``) in a child process: wall time and peak
   resident memory (``ru_maxrss`` of the child), next to the size of one field and of the whole output. Goal:
   minutes, memory bounded (well below the sum of the fields).

    python benchmarks/bench_scale.py                       # both, 2,000 cases / samples
    python benchmarks/bench_scale.py --only plan --cases 500
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TILT_AXES = ([0, 0, 1], [1, 1, 0], [1, 1, 1], [1, 1, 2], [1, 2, 0], [1, 1, 3])
# boundary (axis, plane) and the two dislocation characters put near it (no screw runs along [001]: mixed there)
GB_DISLOCATION_BOUNDARIES = (
    ([1, 1, 0], [1, -1, 3], ("edge", "screw")),
    ([1, 1, 0], [2, -2, 1], ("edge", "screw")),
    ([0, 0, 1], [3, 1, 0], ("edge", "mixed")),
)


def sweep_config(n_cases: int) -> dict:
    """A study-like config with about ``n_cases`` cases (the boundary + dislocation distances fill up the rest)."""
    from nyegan.config import expand_cases, validate_schema

    gbs = [{"axis": a, "misorientation_range": [0, 180], "sigma_max": 401} for a in TILT_AXES]
    gbs += [
        {"type": "twist", "axis": a, "misorientation_range": [0, 90], "sigma_max": 41} for a in ([0, 0, 1], [1, 1, 1])
    ]
    config = {
        "structures": {
            "min_size": [10.0, 40.0, 8.0],
            "grain_boundaries": gbs,
            "dislocations": [{"character": c} for c in ("edge", "screw", "mixed")],
            "gb_dislocations": [],
        },
        "dataset": {"heldout_misorientations": []},
    }
    base = len(expand_cases(validate_schema(json.loads(json.dumps(config)))))
    per_distance = 2 * len(GB_DISLOCATION_BOUNDARIES)
    n_dist = max(1, -(-(n_cases - base) // per_distance))
    distances = [round(6.0 + 0.05 * k, 2) for k in range(n_dist)]
    config["structures"]["gb_dislocations"] = [
        {"axis": axis, "plane": plane, "character": ch, "distance": d, "min_size": [36.0, 160.0, 8.0]}
        for axis, plane, characters in GB_DISLOCATION_BOUNDARIES
        for ch in characters
        for d in distances
    ]
    return config


def bench_plan(n_cases: int) -> dict:
    from nyegan.config import check_config, validate_schema

    config = sweep_config(n_cases)
    t0, c0 = time.perf_counter(), time.process_time()
    cases = check_config(validate_schema(json.loads(json.dumps(config))))
    t_check, c_check = time.perf_counter() - t0, time.process_time() - c0
    with tempfile.TemporaryDirectory(prefix="nyegan-plan-") as tmp:
        cfg = Path(tmp) / "sweep.yaml"
        cfg.write_text(yaml.safe_dump(config))
        (Path(tmp) / "config").mkdir()
        (Path(tmp) / "config" / "config.yaml").write_text((ROOT / "config" / "config.yaml").read_text())
        cmd = [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "--cores", "2", "--snakefile",
               str(ROOT / "Snakefile"), "--directory", tmp, "--configfile", str(cfg)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        t0, c0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        t_dry, c_dry = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{proc.stderr[-3000:]}")
    jobs = _job_count(proc.stdout + proc.stderr)
    kinds = {k: sum(c.kind == k for c in cases.values()) for k in ("gb", "dislocation", "gb_dislocation")}
    return {"cases": len(cases), "by_kind": kinds, "jobs": jobs, "check_config_s": t_check, "check_config_cpu_s": c_check,
            "dry_run_s": t_dry, "dry_run_cpu_s": c_dry}  # fmt: skip


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _job_count(text: str) -> int | None:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "total" and parts[1].isdigit():
            return int(parts[1])
    return None


_ASSEMBLE_CHILD = """
import json, resource, sys, time
from pathlib import Path
from nyegan.dataset.assemble import build_dataset
args = json.loads(Path(sys.argv[1]).read_text())
t0 = time.perf_counter()
build_dataset(args["fields"], args["metas"], args["out"], grid=args["grid"], heldout_misorientations=[])
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_assemble(n_samples: int, grid: tuple[int, int], workdir: Path | None) -> dict:
    from nyegan.gan.synthetic import write_case

    with tempfile.TemporaryDirectory(prefix="nyegan-assemble-", dir=workdir) as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        fields, metas = [], []
        for k in range(n_samples):
            theta = 5.0 + 80.0 * k / max(1, n_samples - 1)
            f, m = write_case(tmp, f"gb-syn-{k:05d}", theta_deg=theta, seed=k)
            fields.append(str(f))
            metas.append(str(m))
        t_write = time.perf_counter() - t0
        one_field = Path(fields[0]).stat().st_size
        out = tmp / "dataset.nc"
        args = tmp / "args.json"
        args.write_text(json.dumps({"fields": fields, "metas": metas, "out": str(out), "grid": list(grid)}))
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        cmd = [sys.executable, "-c", _ASSEMBLE_CHILD, str(args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"assembly failed:\n{proc.stderr[-3000:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res.update(samples=n_samples, grid=list(grid), write_inputs_s=t_write, one_field_mb=one_field / 2**20,
                   inputs_mb=sum(Path(f).stat().st_size for f in fields) / 2**20, output_mb=out.stat().st_size / 2**20)  # fmt: skip
    return res


def python_reference_s() -> float:
    """CPU seconds of a plain Python loop of 3·10⁷ additions (about 1.2 s on a current laptop core): the speed of
    this machine, to scale the figures above."""
    c0 = time.process_time()
    s = 0
    for i in range(30_000_000):
        s += i
    return time.process_time() - c0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--grid", type=int, nargs=2, default=(32, 64), help="dataset grid (default 32 64)")
    ap.add_argument("--only", choices=("plan", "assemble"))
    ap.add_argument("--workdir", type=Path, help="where the synthetic fields go (default: the system temp dir)")
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    args = ap.parse_args()
    out = {}
    if args.only in (None, "plan"):
        p = bench_plan(args.cases)
        out["plan"] = p
        print(f"plan: {p['cases']} cases {p['by_kind']}, {p['jobs']} jobs | check_config {p['check_config_s']:.1f} s "
              f"(cpu {p['check_config_cpu_s']:.1f} s) | snakemake -n {p['dry_run_s']:.1f} s wall, "
              f"{p['dry_run_cpu_s']:.1f} s cpu (goal < 20 s)", flush=True)  # fmt: skip
    if args.only in (None, "assemble"):
        a = bench_assemble(args.samples, tuple(args.grid), args.workdir)
        out["assemble"] = a
        print(f"assemble: {a['samples']} samples on {a['grid']} | {a['wall_s']:.1f} s, peak RSS {a['peak_rss_mb']:.0f} MB | "
              f"inputs {a['inputs_mb']:.0f} MB ({a['one_field_mb']:.2f} MB each), output {a['output_mb']:.0f} MB "
              f"(writing the inputs took {a['write_inputs_s']:.0f} s)", flush=True)  # fmt: skip
    out["python_reference_cpu_s"] = python_reference_s()
    print(f"machine: a Python loop of 3e7 additions takes {out['python_reference_cpu_s']:.2f} s cpu here; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
