"""Checkpoint of a GB search: finished state records appended to a JSON-lines file, read back on a rerun.

A long search (hundreds of screened states) killed mid-run (SIGKILL, a SLURM time limit, a node failure) resumes
from its checkpoint instead of starting over. The file (``results/relaxed/{case}.search.jsonl`` next to the
relaxed outputs) holds:

- line 1, the header: ``{"nyegan_search_checkpoint": 1, "identity": <sha256>}``; the identity hashes what the
  records depend on (the structure searched, after jitter; the relax settings that shape the states; the potential
  file; the nyegan version), so a checkpoint of other inputs is never resumed (it is discarded and the search
  starts afresh);
- then one line per finished state: ``{"event": "screen" | "full" | "anneal", "record": {...}}`` with the state key,
  translation, deletion level, γ, energy, atoms, iterations and, for fully relaxed states, the fingerprint used for
  de-duplication.

Only structures are not stored: the search rebuilds the few it needs again (full relaxation, final relaxation,
anneal) from the state key by replaying the same deterministic CG runs. Lines are appended and flushed as states
finish, by world rank 0 only; a line cut short by a kill is ignored on reading and cut off before appending. The
file is removed once the case has written its outputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

import nyegan
from nyegan.io.atomic import _to_jsonable

FORMAT_VERSION = 1
EVENTS = ("screen", "full", "anneal")
# settings that change how states are spread over MPI ranks but not what a state's record is
_LAYOUT_KEYS = ("mpi_tasks", "omp_threads", "ranks_per_state")


def checkpoint_path_for(dump_path) -> Path:
    """OUT.dump -> OUT.search.jsonl (next to the relaxed outputs)."""
    p = Path(dump_path)
    return p.with_name(p.stem + ".search.jsonl")


def search_identity(base, settings, potential_sha256: str) -> str:
    """sha256 of everything a state record depends on: the structure (positions, cell, grains), the relax settings
    (without the MPI layout), the potential file's hash and the nyegan version."""
    h = hashlib.sha256()
    for arr in (base.positions, base.cell, base.origin, base.grain):
        h.update(np.ascontiguousarray(arr).tobytes())
    s = {k: v for k, v in asdict(settings).items() if k not in _LAYOUT_KEYS}
    h.update(json.dumps(_to_jsonable(s), sort_keys=True).encode())
    h.update(potential_sha256.encode())
    h.update(nyegan.__version__.encode())
    return h.hexdigest()


class SearchCheckpoint:
    """Append-only record file of one search (open on world rank 0 only)."""

    def __init__(self, path: str | os.PathLike, identity: str):
        self.path = Path(path)
        self.identity = identity
        self._fh = None

    def load(self) -> tuple[dict[str, list[dict]], str | None]:
        """Records by event from an earlier run of the same search, and a note on what was found; an absent file,
        one of another search or an unreadable header gives no records (the file is then started afresh)."""
        out: dict[str, list[dict]] = {e: [] for e in EVENTS}
        if not self.path.exists():
            return out, None
        if not self._matches():
            return out, f"{self.path}: checkpoint of another search (inputs, settings or version differ), ignored"
        with open(self.path, errors="replace") as fh:
            lines = fh.read().splitlines()
        n_bad = 0
        for line in lines[1:]:
            try:
                entry = json.loads(line)
                out[entry["event"]].append(entry["record"])
            except (json.JSONDecodeError, KeyError, TypeError):
                n_bad += 1  # the line being written when the run was killed
        n = sum(len(v) for v in out.values())
        note = f"{self.path}: resumed {n} finished state records" + (
            f" ({n_bad} unreadable lines skipped)" if n_bad else ""
        )
        return out, note

    def open(self) -> None:
        """Keep the file open for appending: the checkpoint of this search as :meth:`load` found it (a line cut by a
        kill is cut off), or a new file with its header in place of an absent or foreign one."""
        if self._matches():
            with open(self.path, "rb+") as fh:
                data = fh.read()
                fh.truncate(data.rfind(b"\n") + 1)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w") as fh:
                fh.write(json.dumps({"nyegan_search_checkpoint": FORMAT_VERSION, "identity": self.identity}) + "\n")
        self._fh = open(self.path, "a")

    def _matches(self) -> bool:
        try:
            with open(self.path, errors="replace") as fh:
                header = json.loads(fh.readline())
        except (FileNotFoundError, json.JSONDecodeError):
            return False
        return header.get("nyegan_search_checkpoint") == FORMAT_VERSION and header.get("identity") == self.identity

    @staticmethod
    def _line(event: str, record: dict) -> str:
        return json.dumps({"event": event, "record": _to_jsonable(record)}) + "\n"

    def append(self, event: str, records: list[dict]) -> None:
        """Append finished records and flush (a kill after this loses none of them)."""
        if self._fh is None or not records:
            return
        self._fh.write("".join(self._line(event, r) for r in records))
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def remove(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
