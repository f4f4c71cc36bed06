"""Training under SLURM: one Lightning process per SLURM task, ``devices × num_nodes`` of them.

Under SLURM, Lightning does not start processes itself (``SLURMEnvironment``): ``srun`` starts one per task and
each reads its rank from ``SLURM_PROCID``. A job step with a different number of tasks would hang or train on
the wrong number of GPUs, so ``check_slurm_tasks`` stops it at the start with the fix. ``train_job`` gives the
workflow's ``gan_train`` rule the matching SLURM request (resources for snakemake-executor-plugin-slurm) and the
``srun`` line that starts the processes inside the job. Checkpoint and requeue at the time limit:
``nyegan.gan.requeue``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


class SlurmTaskMismatch(ValueError):
    """The SLURM job step does not run one task per training process."""


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def slurm_managed(env=None) -> bool:
    """True when Lightning will take its processes from SLURM (its ``SLURMEnvironment.detect`` rule)."""
    env = os.environ if env is None else env
    return "SLURM_NTASKS" in env and env.get("SLURM_JOB_NAME") not in ("bash", "interactive")


def check_slurm_tasks(devices, num_nodes, env=None, log=None) -> str | None:
    """Check a SLURM-launched training: ``devices × num_nodes`` must equal the step's tasks (and nodes).

    Returns a one-line description of the launch under SLURM, also written to ``log`` (default: stderr) by rank 0
    (None outside SLURM), and raises ``SlurmTaskMismatch`` naming ``gan.devices`` / ``gan.num_nodes`` and the
    ``srun`` line that fits. ``devices`` that is not an integer (e.g. ``"auto"``) is left to Lightning.
    """
    env = os.environ if env is None else env
    text = _describe(devices, num_nodes, env)
    if text and env.get("SLURM_PROCID", "0") == "0":
        print(text, file=log or sys.stderr, flush=True)
    return text


def _describe(devices, num_nodes, env) -> str | None:
    if not slurm_managed(env):
        return None
    ntasks = int(env["SLURM_NTASKS"])
    nnodes = int(env.get("SLURM_STEP_NUM_NODES") or env.get("SLURM_NNODES") or 1)
    where = f"SLURM job {env.get('SLURM_JOB_ID', '?')} step {env.get('SLURM_STEP_ID', '?')}"
    dev, nodes = _int_or_none(devices), _int_or_none(num_nodes)
    if dev is None or nodes is None:
        return f"{where}: {ntasks} task(s) on {nnodes} node(s); devices={devices!r} left to Lightning"
    fix = (
        f"start the training with `srun --nodes={nodes} --ntasks-per-node={dev}` (the workflow's gan_train rule "
        f"does this from the config), or set gan.devices × gan.num_nodes to the job's tasks"
    )
    if dev * nodes != ntasks:
        raise SlurmTaskMismatch(
            f"gan.devices × gan.num_nodes = {dev} × {nodes} = {dev * nodes} training processes, but {where} runs "
            f"{ntasks} task(s) (SLURM_NTASKS): under SLURM Lightning runs one process per task. Fix: {fix}."
        )
    if nnodes != nodes:
        raise SlurmTaskMismatch(
            f"gan.num_nodes = {nodes}, but {where} spans {nnodes} node(s): {ntasks} tasks must be "
            f"{dev} per node on {nodes} node(s). Fix: {fix}."
        )
    return f"{where}: {ntasks} process(es) = gan.devices {dev} × gan.num_nodes {nodes}, one per SLURM task"


@dataclass(frozen=True)
class TrainJob:
    """SLURM request and launch line of the training job.

    ``resources``: for snakemake-executor-plugin-slurm. ``nodes``; ``tasks_per_node`` (several processes per
    node) or ``tasks`` (one per node on several nodes); ``gres`` ``gpu:<devices>`` per node for GPU training;
    ``mpi`` marks a job whose shell command starts its own tasks (the plugin then runs it as is); it is empty
    for a single process, which the plugin submits as a one-task job. ``srun``: the command that starts the
    processes inside the job (without ``--cpus-per-task``, which the rule adds from its resources).
    """

    resources: dict
    srun: str
    processes: int


def train_job(gan: dict) -> TrainJob:
    """The SLURM task geometry of ``gan`` (the config section): ``devices`` processes on each of ``num_nodes``."""
    devices = int(gan.get("devices", 1))
    nodes = int(gan.get("num_nodes", 1))
    if devices < 1 or nodes < 1:
        raise ValueError(f"gan.devices = {devices} and gan.num_nodes = {nodes} must be >= 1")
    world = devices * nodes
    gpu = gan.get("accelerator", "auto") == "gpu"
    res: dict = {"nodes": nodes, "mpi": "srun" if world > 1 else ""}
    if devices > 1:
        res["tasks_per_node"] = devices
    elif world > 1:
        res["tasks"] = world  # one task on each node
    srun = f"srun --kill-on-bad-exit=1 --nodes={nodes} --ntasks-per-node={devices}"
    if gpu:
        res["gres"] = f"gpu:{devices}"
        res["tasks_per_gpu"] = 0  # no --ntasks-per-gpu: the plugin would otherwise read `tasks` as tasks per GPU
        srun += f" --gres=gpu:{devices}"
    return TrainJob(resources=res, srun=srun, processes=world)
