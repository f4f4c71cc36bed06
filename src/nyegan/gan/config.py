"""Configuration of the dataset and GAN stages: the ``dataset`` and ``gan`` sections of the workflow config.

``load_config(path)`` reads a YAML or JSON file holding those sections (other sections are ignored);
``dataset_kwargs`` maps the ``dataset`` section onto ``nyegan.dataset.build_dataset`` arguments.
Defaults live in ``config/config.yaml`` (sections ``dataset``, ``gan``), documented in ``workflow/schemas/config.schema.yaml``.
"""

from __future__ import annotations

import json
from pathlib import Path

DATASET_DEFAULTS = dict(
    dim=2, grid=[32, 64], scheme="spectral", project=True, heldout_misorientations=None, validation_fraction=0.15
)
GENERATE_DEFAULTS = dict(n_per_condition=8, generate_splits=["heldout", "validation"])


def load_config(path) -> dict:
    if path is None:
        return {"dataset": {}, "gan": {}}
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"config file {p} not found")
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        import yaml

        cfg = yaml.safe_load(text) or {}
    else:
        cfg = json.loads(text)
    return {"dataset": dict(cfg.get("dataset") or {}), "gan": dict(cfg.get("gan") or {})}


def dataset_kwargs(section: dict | None) -> dict:
    sec = dict(section or {})
    unknown = set(sec) - set(DATASET_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown dataset options {sorted(unknown)}; known: {sorted(DATASET_DEFAULTS)}")
    kw = {**DATASET_DEFAULTS, **sec}
    return dict(
        grid=tuple(int(g) for g in kw["grid"]),
        dim=int(kw["dim"]),
        scheme=kw["scheme"],
        project=bool(kw["project"]),
        heldout_misorientations=kw["heldout_misorientations"],
        validation_fraction=float(kw["validation_fraction"]),
    )


def generate_kwargs(gan_section: dict | None) -> dict:
    sec = dict(gan_section or {})
    return dict(
        n_per_condition=int(sec.get("n_per_condition", GENERATE_DEFAULTS["n_per_condition"])),
        splits=tuple(sec.get("generate_splits", GENERATE_DEFAULTS["generate_splits"])),
        seed=int(sec.get("seed", 0)),
    )
