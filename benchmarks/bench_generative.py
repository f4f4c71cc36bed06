"""Generative benchmark of several generator settings side by side, and training throughput (CPU or GPU).

Runs ``nyegan.gan.benchmark.run_benchmark`` (whole boundaries held out fold by fold; every method scored per
component against the atomistic fields; baselines: regressor, dislocation wall, Frank–Bilby line, nearest training
boundary) once per variant, each variant a set of ``gan`` overrides on top of ``--config``'s, and writes
``OUT/<variant>/benchmark.json`` + figure as each finishes, then ``OUT/variants.md`` (one table). ``--throughput``
first times training of the base settings (samples/s, fp32 and bf16-mixed on a GPU).

    python benchmarks/bench_generative.py DATASET -o OUT --config config/study.yaml \\
        --variant base '{}' --variant rec50 '{"rec_weight": 50}' --generators wgan diffusion
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from nyegan.config import validate_section
from nyegan.gan.benchmark import row_methods, run_benchmark, summary_table
from nyegan.gan.config import GanSettings

COLUMNS = ("mean_yz", "detail_yz", "detail_xz", "spectrum_yz", "energy_distance", "coverage", "spread", "stress",
           "memorisation", "cores_found")  # fmt: skip


def throughput(dataset, settings: GanSettings, out: Path, steps: int) -> dict:
    """Training samples per second of ``settings`` (critic samples; one run per precision available)."""
    import torch

    from nyegan.gan.train import train

    res = {}
    precisions = ["32-true"] + (["bf16-mixed"] if torch.cuda.is_available() else [])
    for prec in precisions:
        s = replace(settings, trainer=replace(settings.trainer, steps=steps, precision=prec, checkpoint_every=10**6,
                                              steps_per_epoch=steps),  # fmt: skip
                    model=replace(settings.model, images=False))  # fmt: skip
        t0 = time.perf_counter()
        train(dataset, out / f"throughput-{prec}", s)
        dt = time.perf_counter() - t0
        res[prec] = {"steps": steps, "seconds": dt, "samples_per_s": steps * s.trainer.batch_size / dt,
                     "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}  # fmt: skip
        print(f"throughput {prec}: {res[prec]['samples_per_s']:.0f} samples/s ({dt:.1f} s for {steps} steps)",
              flush=True)  # fmt: skip
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("-o", "--output", required=True, type=Path)
    ap.add_argument("--config", help="YAML with 'gan' and 'benchmark' sections (e.g. config/study.yaml)")
    ap.add_argument("--variant", nargs=2, action="append", metavar=("NAME", "JSON"), default=[],
                    help="a named set of gan overrides (repeatable); default: the config as it is")  # fmt: skip
    ap.add_argument("--generators", nargs="+", help="families to train (default: benchmark.generators)")
    ap.add_argument("--folds", type=int)
    ap.add_argument("--max-folds", type=int)
    ap.add_argument("--only", nargs="+", metavar="FOLD", help="run these folds only (e.g. gbdisl-d8 gbdisl-d12)")
    ap.add_argument(
        "--figure-cases",
        nargs="+",
        default=[],
        metavar="CASE",
        help="held-out cases to draw besides the median one of each regime",
    )
    ap.add_argument("--steps", type=int)
    ap.add_argument("--temperatures", type=float, nargs="+", help="sample each generator at these temperatures")
    ap.add_argument("--seeds", type=int, nargs="+")
    ap.add_argument("--cubic", type=float, nargs=3, metavar=("C11", "C12", "C44"))
    ap.add_argument("--throughput", type=int, default=0, metavar="STEPS", help="time this many training steps first")
    args = ap.parse_args()
    cfg = yaml.safe_load(Path(args.config).read_text()) if args.config else {}
    gan = dict(cfg.get("gan") or {})
    b = validate_section("benchmark", cfg.get("benchmark"))
    for key, val in (("folds", args.folds), ("max_folds", args.max_folds), ("steps", args.steps),
                     ("seeds", args.seeds), ("generators", args.generators),
                     ("temperatures", args.temperatures)):  # fmt: skip
        if val is not None:
            b[key] = val
    args.output.mkdir(parents=True, exist_ok=True)
    base = GanSettings.from_config(gan)
    if b["steps"]:
        base = replace(base, trainer=replace(base.trainer, steps=int(b["steps"])))
    report = {"benchmark": b, "variants": {}}
    if args.throughput:
        report["throughput"] = throughput(args.dataset, base, args.output, args.throughput)
    for name, overrides in args.variant or [("base", "{}")]:
        s = GanSettings.from_config({**gan, **json.loads(overrides)})
        if b["steps"]:
            s = replace(s, trainer=replace(s.trainer, steps=int(b["steps"])))
        t0 = time.perf_counter()
        res = run_benchmark(args.dataset, args.output / name, s, folds=b["folds"], seeds=tuple(b["seeds"]),
                            n_samples=b["n_samples"], max_folds=b["max_folds"], generators=tuple(b["generators"]),
                            cubic=args.cubic, log=lambda m: print(m, flush=True), only=args.only,
                            figure_cases=args.figure_cases, temperatures=tuple(b["temperatures"]))  # fmt: skip
        report["variants"][name] = {"overrides": json.loads(overrides), "summary": res["summary"],
                                    "wall_s": time.perf_counter() - t0}  # fmt: skip
        print(f"\n## {name} {overrides} ({time.perf_counter() - t0:.0f} s)\n{summary_table(res)}\n", flush=True)
        (args.output / "variants.json").write_text(json.dumps(report, indent=2, default=float))
    lines = []
    for name, v in report["variants"].items():
        row = v["summary"].get("all", {})
        for method in row_methods(row):
            m = row[method]
            lines.append(f"| {name} | {method} | " + " | ".join(f"{m.get(k, np.nan):.2f}" for k in COLUMNS) + " |")
    head = "| variant | method | " + " | ".join(COLUMNS) + " |"
    (args.output / "variants.md").write_text("\n".join([head, "|---" * (len(COLUMNS) + 2) + "|", *lines]) + "\n")
    print((args.output / "variants.md").read_text())


if __name__ == "__main__":
    main()
