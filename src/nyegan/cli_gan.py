"""Command-line interface of the dataset and GAN stages: ``dataset``, ``train``, ``generate``, ``evaluate``.

``add_parser(subparsers)`` registers the four subcommands on the main CLI's subparsers; each ``run_*``
calls the same library function as the workflow scripts. ``--config`` takes a YAML/JSON file with the
``dataset`` and ``gan`` sections (e.g. ``config/config.yaml``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _meta_for(nye_path: str) -> str:
    p = Path(nye_path)
    return str(p.parent.parent / "structures" / (p.stem + ".json"))


def run_dataset(args) -> None:
    from nyegan.dataset import build_dataset
    from nyegan.gan.config import read_sections

    settings = read_sections(getattr(args, "config", None))["dataset"]
    meta = list(args.meta) if getattr(args, "meta", None) else [_meta_for(p) for p in args.nye]
    ds = build_dataset(list(args.nye), meta, args.output, **settings.build_kwargs())
    print(
        f"dataset: {ds.sizes['sample']} samples -> {args.output} "
        f"(held out: {ds.attrs['heldout_misorientations_deg']} deg)"
    )


def _json_object(text: str, option: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{option}: not a JSON object ({exc}): {text[:80]!r}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{option}: expected a JSON object, got {type(value).__name__}")
    return value


def run_train(args) -> None:
    from dataclasses import replace

    from nyegan.gan.config import read_sections
    from nyegan.gan.train import train

    extra = _json_object(args.settings, "--settings") if getattr(args, "settings", None) else None
    settings = read_sections(getattr(args, "config", None), gan_overrides=extra)["gan"]
    overrides = {
        key: getattr(args, key)
        for key in ("steps", "devices", "num_nodes", "precision", "accelerator", "strategy", "batch_size")
        if getattr(args, key, None) is not None
    }
    settings = replace(settings, trainer=replace(settings.trainer, **overrides))
    if getattr(args, "log", None):  # Lightning's bar (gan.progress_bar) stays on the terminal: nyegan.gan.train
        from nyegan.scripting import log_to

        with log_to(args.log, append=True) as log:  # a resumed run keeps the earlier segments' log
            last = train(args.dataset, args.output, settings)
            log.info("checkpoint %s", last)
    else:
        last = train(args.dataset, args.output, settings)
    print(f"checkpoint: {last}")


def read_requests(path) -> list[dict]:
    """The JSON list of condition dicts of ``--requests`` (clear errors for a missing or malformed file)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"--requests {p}: no such file (give a JSON list of condition dicts)")
    try:
        requests = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"--requests {p}: not valid JSON ({exc})") from None
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests) or not requests:
        raise ValueError(f"--requests {p}: expected a non-empty JSON list of condition objects")
    return requests


def run_generate(args) -> None:
    from nyegan.gan.config import read_sections
    from nyegan.gan.generate import generate

    gen = read_sections(getattr(args, "config", None))["gan"].generate
    kw = dict(
        n_per_condition=gen.n_per_condition,
        splits=gen.generate_splits,
        seed=gen.seed,
        allow_extrapolation=gen.allow_extrapolation or bool(getattr(args, "allow_extrapolation", False)),
        temperature=gen.temperature,
    )
    if getattr(args, "temperature", None) is not None:
        kw["temperature"] = float(args.temperature)
    if getattr(args, "n_per_condition", None):
        kw["n_per_condition"] = int(args.n_per_condition)
    if getattr(args, "splits", None):
        kw["splits"] = tuple(args.splits)
    req = getattr(args, "requests", None)
    requests = read_requests(req) if req else None
    ds = generate(args.checkpoint, args.dataset, args.output, requests=requests, **kw)
    print(f"generated: {ds.sizes['sample']} fields -> {args.output}")


def run_evaluate(args) -> None:
    from nyegan.gan.evaluate import evaluate

    res = evaluate(args.generated, args.dataset, args.output)
    print(json.dumps(res["summary"], indent=2))


def run_benchmark(args) -> None:
    from dataclasses import replace

    import yaml

    from nyegan.config import validate_section
    from nyegan.gan.benchmark import run_benchmark as bench
    from nyegan.gan.benchmark import summary_table
    from nyegan.gan.config import read_sections

    settings = read_sections(getattr(args, "config", None))["gan"]
    raw = {}
    if getattr(args, "config", None):
        raw = (yaml.safe_load(Path(args.config).read_text()) or {}).get("benchmark") or {}
    b = validate_section("benchmark", raw)
    for key in ("folds", "seeds", "n_samples", "steps", "max_folds", "generators", "temperatures"):
        if getattr(args, key, None) is not None:
            b[key] = getattr(args, key)
    if b["steps"]:
        settings = replace(settings, trainer=replace(settings.trainer, steps=int(b["steps"])))
    res = bench(args.dataset, args.output, settings, folds=b["folds"], seeds=tuple(b["seeds"]),
                n_samples=b["n_samples"], max_folds=b["max_folds"], potential=args.potential,
                generators=tuple(b["generators"]), cubic=args.cubic, temperatures=tuple(b["temperatures"]))  # fmt: skip
    print(summary_table(res))


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("dataset", help="assemble per-case Nye fields into one dataset netCDF")
    p.add_argument("nye", nargs="+", help="per-case Nye netCDF files (results/nye/{case}.nc)")
    p.add_argument("--meta", nargs="+", help="build metadata JSON per case (default: ../structures/{case}.json)")
    p.add_argument("-o", "--output", required=True, help="dataset netCDF to write")
    p.add_argument("--config", help="YAML/JSON with a 'dataset' section")
    p.set_defaults(func=run_dataset)

    p = subparsers.add_parser("train", help="train (or resume) the conditional GAN")
    p.add_argument("dataset", help="dataset netCDF")
    p.add_argument("-o", "--output", required=True, help="output folder (checkpoints/, logs/)")
    p.add_argument("--config", help="YAML/JSON with a 'gan' section (options below override it)")
    p.add_argument("--settings", help="keys of the 'gan' section as an inline JSON object, over --config")
    p.add_argument(
        "--log", help="append messages, warnings and errors to this file (progress bar stays on the terminal)"
    )
    p.add_argument("--steps", type=int, help="training steps (critic updates); a rerun resumes and trains up to this")
    p.add_argument("--batch-size", dest="batch_size", type=int, help="samples per batch and device")
    p.add_argument("--devices", type=int, help="devices (GPUs, or CPU processes) per node; > 1 runs DDP")
    p.add_argument("--num-nodes", dest="num_nodes", type=int, help="nodes (SLURM: one task per device)")
    p.add_argument("--accelerator", help="auto, cpu, gpu or cuda")
    p.add_argument("--strategy", help="Lightning strategy: auto, ddp, ...")
    p.add_argument("--precision", help="auto (bf16-mixed on GPUs that support it), 32-true, bf16-mixed, ...")
    p.set_defaults(func=run_train)

    p = subparsers.add_parser("generate", help="generate fields for dataset or requested conditions")
    p.add_argument("checkpoint", help="trained model (OUT/checkpoints/last.ckpt of nyegan train)")
    p.add_argument("dataset", help="dataset netCDF the model was trained on")
    p.add_argument("-o", "--output", required=True, help="generated netCDF to write")
    p.add_argument("--config", help="YAML/JSON with a 'gan' section")
    p.add_argument(
        "-n",
        "--n-per-condition",
        dest="n_per_condition",
        type=int,
        help="fields per condition (default: the config's gan.n_per_condition)",
    )
    p.add_argument("--splits", nargs="+", help="dataset splits whose conditions are used (default heldout validation)")
    p.add_argument("--requests", help="JSON list of condition dicts (structures-JSON keys + cell_lengths)")
    p.add_argument(
        "--allow-extrapolation",
        action="store_true",
        help="generate for conditions outside the training range (refused by default; config gan.allow_extrapolation)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        help="standard deviation of the random draws (default: the config's gan.temperature, 1 = as trained)",
    )
    p.set_defaults(func=run_generate)

    p = subparsers.add_parser(
        "benchmark", help="hold out whole boundaries fold by fold: generator vs baselines, per component"
    )
    p.add_argument("dataset", help="dataset netCDF (2D)")
    p.add_argument(
        "-o", "--output", required=True, help="folder for benchmark.json, benchmark.md and benchmark_fields.png"
    )
    p.add_argument("--config", help="YAML/JSON with 'gan' and 'benchmark' sections")
    p.add_argument("--folds", type=int, help="groups of tilt boundaries held out in turn")
    p.add_argument("--max-folds", dest="max_folds", type=int, help="run only the first N folds")
    p.add_argument("--seeds", type=int, nargs="+", help="training seeds per fold")
    p.add_argument("--n-samples", dest="n_samples", type=int, help="generated fields per held-out condition")
    p.add_argument("--steps", type=int, help="training steps per fold")
    p.add_argument("--potential", default="Al_mm.eam.fs", help="potential of the cubic stiffness (stress error)")
    p.add_argument(
        "--cubic",
        type=float,
        nargs=3,
        metavar=("C11", "C12", "C44"),
        help="cubic elastic constants (GPa) of the stress error instead of computing them from --potential",
    )
    p.add_argument("--generators", nargs="+", choices=["wgan", "diffusion"], help="generator families to train")
    p.add_argument(
        "--temperatures",
        type=float,
        nargs="+",
        help="standard deviations of the random draws at which each generator is scored (default 1: as trained)",
    )
    p.set_defaults(func=run_benchmark)

    p = subparsers.add_parser("evaluate", help="compare generated with held-out atomistic fields")
    p.add_argument("generated", help="generated netCDF (nyegan generate)")
    p.add_argument("dataset", help="dataset netCDF holding the atomistic fields of the same conditions")
    p.add_argument("-o", "--output", required=True, help="folder for metrics.json and plots")
    p.set_defaults(func=run_evaluate)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="nyegan-gan")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
