"""Progress bars for long work (GB search states, Nye extraction of large dumps and trajectories, GAN training):
shown where users look, a terminal, and never written into log files.

A bar is shown when the process's own standard error (``sys.__stderr__``, file descriptor 2) is a terminal, and it
is written there, not to ``sys.stderr``: the workflow scripts send ``sys.stderr`` to the rule's log file
(``nyegan.scripting.log_to``) while descriptor 2 stays the terminal Snakemake runs in. MPI launchers (``mpiexec``,
``srun``) connect their ranks' standard error to pipes, so the launching shell says what it saw in the environment
variable ``NYEGAN_PROGRESS`` (``1`` show, ``0`` hide; the workflow sets it for its jobs, :func:`pass_on_to_jobs`,
and ``nyegan relax --np`` for its ranks); a value set by the user wins over the detection either way. On SLURM, job
output goes to files: no bars.
"""

from __future__ import annotations

import os
import sys

ENV = "NYEGAN_PROGRESS"
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def progress_stream():
    """The stream progress bars go to (the terminal on descriptor 2), or None when none should be shown."""
    flag = os.environ.get(ENV, "").strip().lower()
    stream = sys.__stderr__
    if stream is None or flag in _OFF:
        return None
    if flag in _ON:
        return stream
    try:
        return stream if stream.isatty() else None
    except (ValueError, OSError):  # closed or detached descriptor
        return None


def progress_enabled() -> bool:
    """True when progress bars are shown (see the module docstring)."""
    return progress_stream() is not None


def progress_env() -> dict[str, str]:
    """``{NYEGAN_PROGRESS: "1" | "0"}`` for a child launched under MPI: what this process sees, passed on."""
    return {ENV: "1" if progress_enabled() else "0"}


def pass_on_to_jobs(remote: bool = False) -> None:
    """In a workflow process: set ``NYEGAN_PROGRESS`` for the jobs it starts (inherited through their shells and
    ``mpiexec``) to what this process sees, unless the user set it; ``remote`` (a job step on a cluster node, whose
    output goes to files): 0."""
    if remote:
        os.environ[ENV] = "0"
    else:
        os.environ.setdefault(ENV, "1" if progress_enabled() else "0")


def progress_bar(iterable=None, *, show: bool | None = None, **kwargs):
    """A tqdm bar on the terminal; ``show`` forces it on or off (None: :func:`progress_enabled`)."""
    from tqdm import tqdm

    stream = progress_stream()
    on = stream is not None if show is None else bool(show)
    return tqdm(iterable, file=stream or sys.__stderr__ or sys.stderr, disable=not on, **kwargs)


def lightning_progress_bar(wanted: bool = True):
    """Lightning's progress bar writing to the terminal, or None when ``wanted`` is false or there is no terminal.

    Pass it in the Trainer's callbacks with ``enable_progress_bar=True``; with None, disable the bar (Lightning's
    own bar writes to ``sys.stdout``, which the workflow scripts send to the rule's log file)."""
    stream = progress_stream()
    if not wanted or stream is None:
        return None
    from lightning.pytorch.callbacks import TQDMProgressBar

    class TerminalProgressBar(TQDMProgressBar):
        """TQDMProgressBar whose bars are created on the terminal stream instead of ``sys.stdout``."""

        def _on_terminal(self, make):
            saved = sys.stdout
            sys.stdout = stream
            try:
                return make()
            finally:
                sys.stdout = saved

        def init_sanity_tqdm(self):
            return self._on_terminal(super().init_sanity_tqdm)

        def init_train_tqdm(self):
            return self._on_terminal(super().init_train_tqdm)

        def init_validation_tqdm(self):
            return self._on_terminal(super().init_validation_tqdm)

        def init_predict_tqdm(self):
            return self._on_terminal(super().init_predict_tqdm)

        def init_test_tqdm(self):
            return self._on_terminal(super().init_test_tqdm)

    return TerminalProgressBar()
