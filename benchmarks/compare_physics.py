"""Built-in physics (alpha = curl W + exact Frank-Bilby content projection) vs penalty terms.

Same analytic dataset (tilt GBs, one misorientation held out), same model size, steps and seed; each mode is
trained, generates fields for the held-out and validation conditions, and is evaluated with
``nyegan.gan.evaluate``. Prints one row per mode.
Usage: PYTHONPATH=src python benchmarks/compare_physics.py [--steps 200 --out /tmp/cmp]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--out", default="/tmp/nyegan_compare_physics")
    ap.add_argument("--modes", nargs="+", default=["builtin", "penalty"])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from nyegan.dataset import build_dataset
    from nyegan.gan import synthetic
    from nyegan.gan.evaluate import evaluate
    from nyegan.gan.generate import generate
    from nyegan.gan.train import train

    out = Path(args.out)
    ds_path = out / "dataset.nc"
    if not ds_path.exists():
        synthetic.write_gb_series(out / "cases", thetas=(10.0, 16.0, 22.0, 28.0, 36.0), seeds_per_theta=4)
        nye = sorted((out / "cases" / "nye").glob("*.nc"))
        meta = [out / "cases" / "structures" / (p.stem + ".json") for p in nye]
        build_dataset(nye, meta, ds_path, grid=(32, 64), heldout_misorientations=[22.0])
    rows = {}
    for mode in args.modes:
        d = out / mode
        t0 = time.perf_counter()
        last = train(ds_path, d, dict(physics=mode, steps=args.steps, images=False, checkpoint_every=10**6))
        t_train = time.perf_counter() - t0
        generate(last, ds_path, d / "generated.nc", n_per_condition=16, splits=("heldout",))
        m = evaluate(d / "generated.nc", ds_path, d)["summary"]
        m["train_s"] = t_train
        rows[mode] = m
        print(mode, json.dumps(m), flush=True)
    keys = [
        "div_rel_generated",
        "mean_rel_generated",
        "content_error_fb",
        "content_error_data",
        "spectrum_distance",
        "correlation_distance",
        "mean_field_error",
        "train_s",
    ]
    print("\n" + "mode".ljust(10) + "".join(k[:18].rjust(20) for k in keys))
    for mode, m in rows.items():
        print(mode.ljust(10) + "".join(f"{m.get(k, float('nan')):20.4g}" for k in keys))
    (out / "comparison.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
