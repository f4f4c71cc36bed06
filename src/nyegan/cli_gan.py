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
    from nyegan.gan.config import dataset_kwargs, load_config

    cfg = load_config(getattr(args, "config", None))
    meta = list(args.meta) if getattr(args, "meta", None) else [_meta_for(p) for p in args.nye]
    ds = build_dataset(list(args.nye), meta, args.output, **dataset_kwargs(cfg["dataset"]))
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
    from nyegan.gan.config import load_config
    from nyegan.gan.train import train

    cfg = load_config(getattr(args, "config", None))["gan"]
    if getattr(args, "settings", None):
        cfg.update(_json_object(args.settings, "--settings"))
    for key in ("steps", "devices", "num_nodes", "precision", "accelerator", "strategy", "batch_size"):
        val = getattr(args, key, None)
        if val is not None:
            cfg[key] = val
    last = train(args.dataset, args.output, cfg)
    print(f"checkpoint: {last}")


def run_generate(args) -> None:
    from nyegan.gan.config import generate_kwargs, load_config
    from nyegan.gan.generate import generate

    kw = generate_kwargs(load_config(getattr(args, "config", None))["gan"])
    if getattr(args, "n_per_condition", None):
        kw["n_per_condition"] = int(args.n_per_condition)
    if getattr(args, "splits", None):
        kw["splits"] = tuple(args.splits)
    req = getattr(args, "requests", None)
    requests = json.loads(Path(req).read_text()) if req else None
    ds = generate(args.checkpoint, args.dataset, args.output, requests=requests, **kw)
    print(f"generated: {ds.sizes['sample']} fields -> {args.output}")


def run_evaluate(args) -> None:
    from nyegan.gan.evaluate import evaluate

    res = evaluate(args.generated, args.dataset, args.output)
    print(json.dumps(res["summary"], indent=2))


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
    p.add_argument("--config", help="YAML/JSON with a 'gan' section")
    p.add_argument("--settings", help="the 'gan' section as an inline JSON object (over --config; the workflow's way)")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    p.add_argument("--devices", type=int)
    p.add_argument("--num-nodes", dest="num_nodes", type=int)
    p.add_argument("--accelerator")
    p.add_argument("--strategy")
    p.add_argument("--precision")
    p.set_defaults(func=run_train)

    p = subparsers.add_parser("generate", help="generate fields for dataset or requested conditions")
    p.add_argument("checkpoint")
    p.add_argument("dataset")
    p.add_argument("-o", "--output", required=True, help="generated netCDF to write")
    p.add_argument("--config", help="YAML/JSON with a 'gan' section")
    p.add_argument("-n", "--n-per-condition", dest="n_per_condition", type=int)
    p.add_argument("--splits", nargs="+", help="dataset splits whose conditions are used (default heldout validation)")
    p.add_argument("--requests", help="JSON list of condition dicts (structures-JSON keys + cell_lengths)")
    p.set_defaults(func=run_generate)

    p = subparsers.add_parser("evaluate", help="compare generated with held-out atomistic fields")
    p.add_argument("generated")
    p.add_argument("dataset")
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
