"""GAN checkpoints that survive interruptions: atomic writes, clear errors on damaged files, a checkpoint on SIGTERM.

- :class:`AtomicCheckpointIO`: Lightning's own "atomic" save writes through ``fsspec``, whose local transaction
  writes a temporary file in the system temporary folder and then *moves* it onto the target; across file
  systems (``/tmp`` on a node's local disk, results on a shared file system: the usual cluster layout) the move
  is a copy, and a job killed during the copy leaves a truncated checkpoint under the final name. This plugin
  writes to a temporary name next to the target and renames it (``nyegan.io.atomic_path``).
- :func:`read_checkpoint` / :func:`load_model`: a missing, empty, truncated or foreign file gives one
  :class:`CheckpointError` naming the file and the fix, never a PyTorch traceback.
- :class:`PreemptionCheckpoint`: on SIGTERM (Lightning stops the loop at the next batch boundary) and on SIGUSR1
  outside SLURM (under SLURM Lightning's own requeue handler owns SIGUSR1), the state is saved as
  ``step<global_step>.ckpt`` and ``last.ckpt``, and training ends with :class:`TrainingInterrupted` (exit status
  128 + the signal number). A rerun resumes from that checkpoint at the same step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities.exceptions import SIGTERMException

from nyegan.io import atomic_path

RETRAIN = "retrain with `nyegan train DATASET -o OUT` (or `snakemake --forcerun gan_train`), or pick another " \
          "checkpoint in OUT/checkpoints/"  # fmt: skip


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: the message names the file and what to do."""


class TrainingInterrupted(SystemExit):
    """Training stopped on a signal after saving a checkpoint; ``code`` is 128 + the signal number."""

    def __init__(self, signum: int, checkpoint: Path, step: int):
        super().__init__(128 + int(signum))
        self.signum, self.checkpoint, self.step = int(signum), Path(checkpoint), int(step)

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        return f"training stopped by {name} at step {self.step}; checkpoint {self.checkpoint}: rerun to resume"


def _first_sentence(exc: BaseException, limit: int = 160) -> str:
    """``Type: first sentence of the message`` on one line (torch's messages run to paragraphs)."""
    text = " ".join(str(exc).split())
    text = text.split(". ")[0][:limit]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict of ``path`` (``torch.load``, tensors on the CPU, ``weights_only``), or a clear error."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint {p} not found: train first (nyegan train, or the workflow rule gan_train)")
    if p.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {p}: empty file; {RETRAIN}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip reader, unpickler and OS errors all mean "not a usable checkpoint"
        raise CheckpointError(
            f"checkpoint {p}: not a readable PyTorch checkpoint ({_first_sentence(exc)}); the file is damaged "
            f"or truncated: {RETRAIN}"
        ) from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"checkpoint {p}: no model weights ('state_dict'): not a training checkpoint; {RETRAIN}")
    return ckpt


def load_model(ckpt_path, map_location="cpu"):
    """The trained generator (``NyeGAN`` or ``NyeDiffusion``, by its ``family``) of a checkpoint, in eval mode;
    :class:`CheckpointError` for unusable files."""
    from nyegan.gan.module import model_class

    p = Path(ckpt_path)
    ckpt = read_checkpoint(p)
    if "model" not in ckpt.get("hyper_parameters", {}):
        raise CheckpointError(f"checkpoint {p}: no nyegan hyper-parameters: not written by `nyegan train`; {RETRAIN}")
    family = ckpt["hyper_parameters"]["model"].get("family", "wgan")
    try:
        model = model_class(family).load_from_checkpoint(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # weights that do not fit the model the hyper-parameters describe
        raise CheckpointError(f"checkpoint {p}: its weights do not fit its model ({_first_sentence(exc)}); "
                              f"{RETRAIN}") from None  # fmt: skip
    model.eval()
    return model


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temporary file in the checkpoint's own folder, then an atomic rename."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options, got {storage_options!r}")
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


def link_as(source: Path, target: Path) -> None:
    """Make ``target`` the same file as ``source`` atomically (hard link renamed into place; copy if needed)."""
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            import shutil

            shutil.copyfile(source, tmp)


class PreemptionCheckpoint(pl.Callback):
    """Save a checkpoint and stop cleanly on SIGTERM (any run) or SIGUSR1 (outside SLURM)."""

    def __init__(self, ckpt_dir: str | os.PathLike):
        self.ckpt_dir = Path(ckpt_dir)
        self.signum: int | None = None
        self.saved: tuple[Path, int] | None = None
        self._previous_usr1 = None

    def _on_usr1(self, signum, frame) -> None:
        self.signum = signum

    def on_train_start(self, trainer, pl_module) -> None:
        from lightning.pytorch.plugins.environments import SLURMEnvironment

        if not SLURMEnvironment.detect() and hasattr(signal, "SIGUSR1"):
            with contextlib.suppress(ValueError):  # not the main thread: leave the signal alone
                self._previous_usr1 = signal.signal(signal.SIGUSR1, self._on_usr1)

    def _restore(self) -> None:
        if self._previous_usr1 is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGUSR1, self._previous_usr1)
            self._previous_usr1 = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.signum is not None:  # SIGUSR1: stop at this batch boundary as Lightning does for SIGTERM
            raise SIGTERMException()

    def on_train_end(self, trainer, pl_module) -> None:
        self._restore()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._restore()
        if not isinstance(exception, SIGTERMException):
            return
        if self.signum is None:
            self.signum = int(signal.SIGTERM)
        step = int(trainer.global_step)
        path = self.ckpt_dir / f"step{step:07d}.ckpt"
        trainer.save_checkpoint(path)
        if trainer.is_global_zero:
            link_as(path, self.ckpt_dir / "last.ckpt")
            print(f"nyegan train: {signal.Signals(self.signum).name} received: checkpoint {path} at step {step}",
                  file=sys.stderr, flush=True)  # fmt: skip
        self.saved = (path, step)

    def interrupted(self) -> TrainingInterrupted | None:
        """The exception that ends an interrupted run (None when no signal stopped training)."""
        if self.saved is None:
            return None
        return TrainingInterrupted(self.signum or signal.SIGTERM, *self.saved)
