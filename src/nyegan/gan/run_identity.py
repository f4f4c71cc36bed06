"""What a training run is trained on, stored in every checkpoint, so new data is never trained on an old run.

The identity of a run (:func:`run_identity`) is

- ``dataset_sha256``: a hash of the dataset's *content* (:func:`dataset_fingerprint`: the ``alpha``, ``cond``,
  ``cell_lengths`` and ``gb_frac`` arrays and the ``split`` labels; not the file's bytes, which also hold
  provenance and could differ for the same data),
- ``model``: every model hyper-parameter (architecture, losses, optimiser, augmentation, seed; not ``images``,
  which only decides whether pictures are logged),
- ``training``: the training settings that define the optimisation problem (``batch_size``, ``steps_per_epoch``).

Settings that may change between a run and its resumption are deliberately outside it: ``steps`` (train longer),
devices, nodes, precision, checkpoint and logging intervals.

:class:`IdentityStamp` writes the identity (and the run's provenance) into every checkpoint Lightning saves.
:func:`resume_checkpoint` returns the checkpoint to resume from only when its identity equals the current one;
otherwise the old run (checkpoints, logs, SLURM requeue checkpoints) is moved to
``checkpoints.previous-<time stamp>/`` with a ``reason.txt``, and training starts fresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import lightning.pytorch as pl
import numpy as np

KEY = "nyegan_run_identity"
IDENTITY_VERSION = 1
TRAINING_KEYS = ("batch_size", "steps_per_epoch")
NOT_IDENTITY_MODEL_KEYS = ("images",)

log = logging.getLogger("nyegan.gan")


def dataset_fingerprint(ds) -> str:
    """SHA-256 of a dataset's content: alpha, cond, cell_lengths, gb_frac (values, shapes, dtypes) and split."""
    h = hashlib.sha256()
    for name in ("alpha", "cond", "cell_lengths", "gb_frac"):
        a = np.ascontiguousarray(np.asarray(ds[name].values))
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    h.update(("split:" + "\x1f".join(np.asarray(ds["split"].values).astype(str).tolist())).encode())
    return h.hexdigest()


def run_identity(ds, settings) -> dict:
    """The identity of a training run of ``settings`` (``GanSettings``) on the dataset ``ds`` (xarray)."""
    model = {k: v for k, v in asdict(settings.model).items() if k not in NOT_IDENTITY_MODEL_KEYS}
    trainer = asdict(settings.trainer)
    return {
        "version": IDENTITY_VERSION,
        "dataset_sha256": dataset_fingerprint(ds),
        "model": model,
        "training": {k: trainer[k] for k in TRAINING_KEYS},
    }


def _plain(obj):
    return json.loads(json.dumps(obj, default=list))


def identity_difference(saved: dict | None, current: dict) -> str | None:
    """None when ``saved`` equals ``current``; else a short description of what differs."""
    if not saved:
        return "it records no run identity (written by an older nyegan)"
    saved, current = _plain(saved), _plain(current)
    if saved.get("version") != current["version"]:
        return f"run identity version {saved.get('version')} != {current['version']}"
    if saved.get("dataset_sha256") != current["dataset_sha256"]:
        return (f"the dataset changed (content hash {str(saved.get('dataset_sha256'))[:12]}... -> "
                f"{current['dataset_sha256'][:12]}...)")  # fmt: skip
    for part in ("model", "training"):
        old, new = saved.get(part, {}), current[part]
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if keys:
            changes = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys)
            return f"gan settings changed ({changes})"
    return None


class IdentityStamp(pl.Callback):
    """Writes the run identity (and, when given, the run's provenance record) into every checkpoint."""

    def __init__(self, identity: dict, provenance: dict | None = None):
        self.identity = _plain(identity)
        self.provenance = provenance

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint[KEY] = self.identity
        if self.provenance is not None:
            checkpoint["provenance"] = self.provenance


def _global_rank() -> int:
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if os.environ.get(var) is not None:
            return int(os.environ[var])
    return 0


def _candidates(out_dir: Path, ckpt_dir: Path, slurm: bool) -> list[Path]:
    """Checkpoints a rerun would resume from, in order of preference."""
    hpc = sorted(out_dir.glob("hpc_ckpt_*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True) if slurm else []
    last = [ckpt_dir / "last.ckpt"] if (ckpt_dir / "last.ckpt").exists() else []
    steps = sorted(ckpt_dir.glob("step*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True)
    return hpc + last + steps


def saved_identity(path: Path) -> dict | None:
    """The run identity stored in checkpoint ``path`` (None when it has none); CheckpointError if unreadable."""
    from nyegan.gan.checkpoints import read_checkpoint

    return read_checkpoint(path).get(KEY)


def move_aside(out_dir: Path, ckpt_dir: Path, reason: str) -> Path:
    """Move the previous run (checkpoints, logs, SLURM requeue checkpoints) of ``out_dir`` to
    ``out_dir/checkpoints.previous-<time stamp>/`` with a ``reason.txt``; returns that folder."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    dest = out_dir / f"checkpoints.previous-{stamp}"
    k = 1
    while dest.exists():
        k += 1
        dest = out_dir / f"checkpoints.previous-{stamp}-{k}"
    dest.mkdir(parents=True)
    if ckpt_dir.exists():
        for p in sorted(ckpt_dir.iterdir()):
            shutil.move(str(p), dest / p.name)
    for p in sorted(out_dir.glob("hpc_ckpt_*.ckpt")):
        shutil.move(str(p), dest / p.name)
    if (out_dir / "logs").exists():
        shutil.move(str(out_dir / "logs"), dest / "logs")
    (dest / "reason.txt").write_text(reason + "\n")
    return dest


def resume_checkpoint(out_dir, ckpt_dir, identity: dict, slurm: bool = False) -> str | None:
    """The checkpoint a run with ``identity`` resumes from, or None to start fresh.

    The newest checkpoint (SLURM requeue checkpoints first under SLURM, then ``last.ckpt``, then the newest
    ``step*.ckpt``) decides: same identity, resume from it (an unreadable one is skipped with a warning);
    different identity, the old run is moved aside (global rank 0 only; every rank reaches the same decision)
    and the run starts fresh. Under SLURM a matching requeue checkpoint returns None too: Lightning restores it.
    """
    from nyegan.gan.checkpoints import CheckpointError

    out_dir, ckpt_dir = Path(out_dir), Path(ckpt_dir)
    candidates = _candidates(out_dir, ckpt_dir, slurm)
    reason = None
    for path in candidates:
        try:
            saved = saved_identity(path)
        except CheckpointError as exc:
            log.warning("skipping unusable checkpoint: %s", exc)
            reason = reason or f"{path.name} is unreadable"
            continue
        diff = identity_difference(saved, identity)
        if diff is None:
            return None if path.name.startswith("hpc_ckpt_") else str(path)
        reason = f"{path} was trained on something else: {diff}"
        break
    if not candidates:
        return None
    reason = reason or "no usable checkpoint"
    if _global_rank() == 0:
        dest = move_aside(out_dir, ckpt_dir, reason)
        log.warning("starting a fresh run: %s; the previous run is kept in %s", reason, dest)
    return None
