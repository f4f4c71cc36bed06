"""A small JSON cache of values computed from potential files (``$NYEGAN_CACHE`` or ``~/.cache/nyegan``).

Entries are keyed by the potential file's SHA-256 (and what was computed), so editing a file invalidates its
entries. Writes happen under a file lock: parallel jobs compute each entry once.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path


def cache_dir() -> Path:
    root = Path(os.environ.get("NYEGAN_CACHE", Path.home() / ".cache" / "nyegan"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def cached_entry(file_name: str, key: str, compute) -> dict:
    """The entry ``key`` of the JSON cache ``file_name``, computing and storing ``compute()`` (a dict) under a
    file lock on first use."""
    cache = cache_dir() / file_name
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            table = json.loads(cache.read_text()) if cache.exists() else {}
        except json.JSONDecodeError:
            table = {}  # a damaged cache is recomputed, never trusted
        if key not in table:
            table[key] = compute()
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(table, indent=2))
            os.replace(tmp, cache)
        return table[key]
