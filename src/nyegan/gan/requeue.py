"""Checkpoint and requeue a SLURM training job when SLURM signals that its time is nearly up.

The profiles submit ``gan_train`` with ``--signal=SIGUSR1@90 --requeue``: 90 s before the time limit SLURM sends
SIGUSR1 to the training processes (``scancel --signal=USR1 <job>`` does the same by hand). ``RequeueOnSignal``
then saves ``hpc_ckpt_<n>.ckpt`` and requeues the job; the requeued job starts the training again and Lightning
resumes from the newest ``hpc_ckpt_<n>.ckpt`` at the saved step (``nyegan.gan.train``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import lightning.pytorch as pl

from nyegan.gan.slurm import slurm_managed


def hpc_checkpoint_path(folder) -> Path:
    """The next ``hpc_ckpt_<n>.ckpt`` in ``folder``: the name Lightning resumes from under SLURM (newest n)."""
    found = [
        int(m.group(1)) for p in Path(folder).glob("hpc_ckpt_*.ckpt") if (m := re.match(r"hpc_ckpt_(\d+)", p.stem))
    ]
    return Path(folder) / f"hpc_ckpt_{max(found, default=0) + 1}.ckpt"


class RequeueOnSignal(pl.Callback):
    """Under SLURM, on ``signum`` (SIGUSR1): save ``hpc_ckpt_<n>.ckpt`` in the trainer's root folder, requeue the
    job (``scontrol requeue``) and stop; the requeued job resumes from that checkpoint at the saved step. Each
    requeue is recorded in ``requeue.log`` there (time, job, checkpoint, step). A training that ends without a
    requeue removes the ``hpc_ckpt_*.ckpt``: they are older than its ``last.ckpt`` and a later run under SLURM
    would otherwise resume from them.

    The signal handler only notes the signal. The checkpoint and the requeue happen at the end of a training
    batch, where every rank is at the same step and the ranks agree through one all-reduce: a handler that
    checkpoints by itself (Lightning's ``auto_requeue``) can run in the middle of a collective operation or a
    backward pass on one rank and hang or save a torn state (Lightning issue #21406). Use it with
    ``SLURMEnvironment(auto_requeue=False)``. Outside SLURM it does nothing.
    """

    def __init__(self, signum=signal.SIGUSR1, requeue_command=("scontrol", "requeue")):
        self.signum = signum
        self.requeue_command = tuple(requeue_command)
        self.received = False
        self._previous = None
        self._installed = False
        self.requeued = False

    def _note(self, signum, frame):
        self.received = True

    def setup(self, trainer, pl_module, stage):
        if slurm_managed() and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(self.signum, self._note)
            self._installed = True

    def teardown(self, trainer, pl_module, stage):
        if self._installed:
            signal.signal(self.signum, self._previous if self._previous is not None else signal.SIG_DFL)
            self._installed = False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if not self._installed or not trainer.strategy.reduce_boolean_decision(self.received, all=False):
            return
        path = Path(trainer.strategy.broadcast(str(hpc_checkpoint_path(trainer.default_root_dir))))
        trainer.save_checkpoint(path)  # every rank, at the same step
        self.received = False
        self.requeued = True
        trainer.should_stop = True
        if trainer.is_global_zero:
            job = os.environ.get("SLURM_JOB_ID", "")
            if os.environ.get("SLURM_ARRAY_JOB_ID"):
                job = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ['SLURM_ARRAY_TASK_ID']}"
            done = subprocess.run([*self.requeue_command, job], capture_output=True, text=True)
            what = "requeued" if done.returncode == 0 else f"not requeued ({done.stderr.strip()})"
            line = (
                f"SLURM job {job}: signal {int(self.signum)}, saved {path.name} at step {trainer.global_step}, {what}"
            )
            print(line, file=sys.stderr, flush=True)
            with open(Path(trainer.default_root_dir) / "requeue.log", "a") as log:
                log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")

    def on_fit_end(self, trainer, pl_module):
        if self._installed and not self.requeued and trainer.is_global_zero:
            for old in Path(trainer.default_root_dir).glob("hpc_ckpt_*.ckpt"):
                old.unlink()
