"""Will each job ever start on this SLURM cluster? Checked before anything is submitted.

A job asking for more than its partition can ever give (tasks, CPUs, GPUs, nodes, memory or time) is usually
accepted by ``sbatch`` and then waits forever (reason ``PartitionConfig``, ``Resources``, ...) while Snakemake
waits silently. ``check_jobs`` reads each job's request from its Snakemake resources the way
snakemake-executor-plugin-slurm turns them into sbatch flags (``request_from_resources``), compares it with the
partition's nodes from one ``sinfo`` call (``query_partitions``), and raises ``JobsDoNotFit`` naming the rule,
the resource, what the partition offers and the setting to change (``SETTINGS``, the names of the project's
profiles, docs/cluster.md). Memory in MB, time in minutes, as in Snakemake's resources.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Where each resource of the workflow's SLURM jobs is set (profiles/*/config.yaml read these settings).
SETTINGS = {
    ("relax", "tasks"): "NYEGAN_SLURM_RELAX_TASKS (relax_tasks in ~/.config/nyegan/slurm.yaml)",
    ("relax", "runtime"): "NYEGAN_SLURM_RELAX_RUNTIME (relax_runtime in ~/.config/nyegan/slurm.yaml)",
    ("gan_train", "runtime"): "NYEGAN_SLURM_TRAIN_RUNTIME (train_runtime in ~/.config/nyegan/slurm.yaml)",
    ("gan_train", "tasks"): "gan.num_nodes in the config",
    ("gan_train", "tasks_per_node"): "gan.devices in the config",
    ("gan_train", "nodes"): "gan.num_nodes in the config",
    ("gan_train", "gres"): "gan.devices in the config (GPUs per node)",
    ("gan_train", "cpus_per_task"): "NYEGAN_SLURM_TRAIN_CPUS_PER_TASK (train_cpus_per_task in the settings file)",
    ("gan_train", "slurm_partition"): "NYEGAN_SLURM_GPU_PARTITION (gpu_partition in the settings file)",
    ("gan_train", "constraint"): "NYEGAN_SLURM_GPU_CONSTRAINT (gpu_constraint in the settings file)",
    ("*", "slurm_partition"): "NYEGAN_SLURM_PARTITION (partition in ~/.config/nyegan/slurm.yaml)",
    ("*", "constraint"): "NYEGAN_SLURM_CONSTRAINT (constraint in ~/.config/nyegan/slurm.yaml)",
}


class JobsDoNotFit(RuntimeError):
    """Some jobs can never start on the cluster they are sent to (one line per rule and resource)."""


@dataclass(frozen=True)
class NodeGroup:
    """``count`` identical nodes of a partition."""

    count: int
    cpus: int
    memory_mb: int
    gpus: int
    features: frozenset = frozenset()


@dataclass(frozen=True)
class Partition:
    name: str
    groups: tuple  # of NodeGroup
    max_minutes: float | None = None  # None: no limit
    max_nodes: int | None = None  # per job; None: no limit
    default: bool = False

    @property
    def node_count(self) -> int:
        return sum(g.count for g in self.groups)


@dataclass(frozen=True)
class Request:
    """What one job asks of SLURM (the sbatch flags the executor plugin writes)."""

    rule: str
    partition: str | None = None
    nodes: int | None = None
    tasks: int = 1
    tasks_per_node: int | None = None
    cpus_per_task: int = 1
    gpus_per_node: int = 0  # --gres=gpu:N
    gpus_total: int = 0  # --gpus=N
    mem_mb: int | None = None  # --mem, per node
    mem_mb_per_cpu: int | None = None
    minutes: float | None = None
    constraint: str | None = None
    tasks_resource: str = "tasks"  # the resource the task count came from


# ---------------------------------------------------------------- reading sinfo


def parse_minutes(text: str) -> float | None:
    """SLURM time limit (``infinite``, ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``) in minutes."""
    text = text.strip()
    if text.lower() in ("infinite", "unlimited", "n/a", ""):
        return None
    days = 0
    if "-" in text:
        d, text = text.split("-", 1)
        days = int(d)
        parts = [int(p) for p in text.split(":")] + [0, 0]
        h, m, s = parts[:3]
    else:
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 1:
            h, m, s = 0, parts[0], 0
        elif len(parts) == 2:
            h, m, s = 0, parts[0], parts[1]
        else:
            h, m, s = parts[:3]
    return days * 1440 + h * 60 + m + s / 60


def gres_gpus(gres: str) -> int:
    """GPUs in a GRES string: ``gpu:4``, ``gpu:v100:4(S:0-1)``, ``gpu:a100:2,mps:100``, ``gpu`` (1), ``(null)``."""
    total = 0
    for item in re.sub(r"\([^)]*\)", "", gres or "").split(","):
        fields = item.strip().split(":")
        if fields[0] != "gpu":
            continue
        count = fields[-1] if len(fields) > 1 else "1"
        m = re.match(r"(\d+)([KMGT]?)$", count)
        total += int(m.group(1)) if m else 1
    return total


SINFO = ["sinfo", "--noheader", "--all", "--exact", "--format=%P|%D|%c|%m|%G|%f|%l|%s"]


def parse_sinfo(text: str) -> dict[str, Partition]:
    """Partitions from the output of ``SINFO`` (one line per group of identical nodes of a partition)."""
    raw: dict[str, dict] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, count, cpus, mem, gres, features, limit, size = line.split("|")
        default = name.endswith("*")
        name = name.rstrip("*")
        p = raw.setdefault(name, dict(groups=[], default=default, limit=limit, size=size))
        feats = frozenset() if features in ("(null)", "") else frozenset(features.split(","))
        p["groups"].append(NodeGroup(int(count), int(cpus.rstrip("+")), int(mem.rstrip("+")), gres_gpus(gres), feats))
    parts = {}
    for name, p in raw.items():
        hi = p["size"].split("-")[-1]
        parts[name] = Partition(
            name,
            tuple(p["groups"]),
            parse_minutes(p["limit"]),
            None if hi in ("infinite", "") else int(hi),
            p["default"],
        )
    return parts


def query_partitions(run=subprocess.run) -> dict[str, Partition]:
    """The cluster's partitions and their nodes, from one ``sinfo`` call."""
    out = run(SINFO, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(SINFO)} failed: {out.stderr.strip()}")
    return parse_sinfo(out.stdout)


# ---------------------------------------------------------------- reading a job's resources


def _int(value) -> int | None:
    """An integer resource, or None when unset or not yet known (Snakemake's TBD values)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def request_from_resources(rule: str, resources: Mapping, threads: int = 1) -> Request:
    """The request of one job, from its evaluated resources, as snakemake-executor-plugin-slurm submits it.

    MPI jobs (resource ``mpi`` set): ``tasks`` or ``tasks_per_node`` (× ``nodes``); other jobs: ``tasks``
    (default 1), or for GPU jobs ``tasks_per_gpu``/``tasks`` per GPU. CPUs per task: ``cpus_per_task``, else
    ``threads``. GPUs: ``gres`` (per node) and ``gpu`` (in all). Memory: ``mem_mb_per_cpu``, else ``mem_mb``.
    """
    get = resources.get
    nodes = _int(get("nodes"))
    gpus_per_node = gres_gpus(str(get("gres") or ""))
    gpus_total = _int(get("gpu")) or _int(get("gpus")) or 0
    tasks_per_node = None
    tasks_resource = "tasks"
    if get("mpi"):
        tasks_per_node = _int(get("tasks_per_node"))
        if tasks_per_node:
            tasks, tasks_resource = tasks_per_node * (nodes or 1), "tasks_per_node"
        else:
            tasks = _int(get("tasks")) or 1
    elif gpus_per_node or gpus_total:
        per_gpu = _int(get("tasks_per_gpu"))
        per_gpu = _int(get("tasks")) if get("tasks_per_gpu") is None else per_gpu
        tasks = per_gpu * (gpus_total or gpus_per_node * (nodes or 1)) if per_gpu else 1
    else:
        tasks = _int(get("tasks")) or 1
    cpus = _int(get("cpus_per_task"))
    if cpus is None or cpus == 0:
        cpus = _int(get("cpus_per_gpu")) if (gpus_per_node or gpus_total) and _int(get("cpus_per_gpu")) else threads
    cpus = max(1, cpus or 1)
    runtime = get("runtime")
    return Request(
        rule=rule,
        partition=str(get("slurm_partition")) if get("slurm_partition") else None,
        nodes=nodes,
        tasks=max(1, tasks),
        tasks_per_node=tasks_per_node,
        cpus_per_task=cpus,
        gpus_per_node=gpus_per_node,
        gpus_total=gpus_total,
        mem_mb=_int(get("mem_mb")) or None,
        mem_mb_per_cpu=_int(get("mem_mb_per_cpu")) or None,
        minutes=float(runtime) if isinstance(runtime, int | float) and not isinstance(runtime, bool) else None,
        constraint=str(get("constraint")) if get("constraint") else None,
        tasks_resource=tasks_resource,
    )


# ---------------------------------------------------------------- the decision


def _matches(constraint: str, features: frozenset) -> bool:
    """SLURM ``--constraint`` on one node: ``a``, ``a&b``, ``a|b``, ``a,b`` (and), ``[a|b]``; counts ignored."""
    expr = constraint.replace("[", "").replace("]", "").replace(",", "&")
    return any(
        all(re.sub(r"\*\d+$", "", f).strip() in features for f in alt.split("&") if f.strip())
        for alt in expr.split("|")
    )


def _where(rule: str, resource: str) -> str:
    return (
        SETTINGS.get((rule, resource))
        or SETTINGS.get(("*", resource))
        or (f"`set-resources: {rule}: {resource}:` in a profile, or --set-resources {rule}:{resource}=<value>")
    )


@dataclass(frozen=True)
class Problem:
    rule: str
    resource: str
    text: str  # what is asked and what the partition has

    def message(self, jobs: int = 1) -> str:
        n = f" ({jobs} jobs)" if jobs > 1 else ""
        return f"rule {self.rule}{n}: {self.text}. Change {self.resource}: {_where(self.rule, self.resource)}."


def problems(req: Request, partitions: Mapping[str, Partition]) -> list[Problem]:
    """Why ``req`` can never start on ``partitions`` (empty when it can)."""
    out: list[Problem] = []

    def add(resource, text):
        out.append(Problem(req.rule, resource, text))

    if req.partition is None:
        part = next((p for p in partitions.values() if p.default), None)
        if part is None:
            return out  # no partition named and no default: sbatch itself will say so
    elif req.partition not in partitions:
        add("slurm_partition", f"partition '{req.partition}' does not exist (partitions: {', '.join(partitions)})")
        return out
    else:
        part = partitions[req.partition]
    where = f"partition '{part.name}'"
    groups = list(part.groups)
    if req.constraint:
        groups = [g for g in groups if _matches(req.constraint, g.features)]
        if not groups:
            feats = sorted(set().union(*(g.features for g in part.groups)))
            add("constraint", f"constraint '{req.constraint}' matches no node of {where} (features: {feats})")
            return out
    c = req.cpus_per_task
    max_cpus = max(g.cpus for g in groups)
    if c > max_cpus:
        add("cpus_per_task", f"cpus_per_task={c}, but the largest node of {where} has {max_cpus} CPUs")
        return out
    needed_nodes = req.nodes or 1
    if req.nodes and (req.nodes > part.node_count or (part.max_nodes and req.nodes > part.max_nodes)):
        limit = min(part.node_count, part.max_nodes or part.node_count)
        add("nodes", f"nodes={req.nodes}, but {where} allows at most {limit} node(s) per job")
        return out
    if req.tasks_per_node or req.nodes:
        per_node = req.tasks_per_node or math.ceil(req.tasks / req.nodes)
        fit = sum(g.count for g in groups if g.cpus >= per_node * c and g.gpus >= req.gpus_per_node)
        if sum(g.count for g in groups if g.cpus >= per_node * c) < needed_nodes:
            add(
                req.tasks_resource,
                f"{req.tasks_resource}={req.tasks_per_node or req.tasks} asks {per_node} task(s) × {c} CPU(s) "
                f"= {per_node * c} CPUs on each of {needed_nodes} node(s), but {where} has "
                f"{_largest(groups, 'cpus', 'CPUs')}",
            )
        elif req.gpus_per_node and fit < needed_nodes:
            add("gres", f"gres=gpu:{req.gpus_per_node} per node, but {where} has {_largest(groups, 'gpus', 'GPUs')}")
    else:
        # tasks may spread over nodes: the most that fit on the largest nodes a job may have
        capacity, free = 0, part.max_nodes or sum(g.count for g in groups)
        for g in sorted(groups, key=lambda g: g.cpus // c, reverse=True):
            n = min(g.count, free)
            capacity, free = capacity + n * (g.cpus // c), free - n
        if req.tasks > capacity:
            cpus = capacity * c
            nodes = f", {part.max_nodes} node(s) per job" if part.max_nodes else ""
            add(
                req.tasks_resource,
                f"{req.tasks_resource}={req.tasks} asks {req.tasks} task(s) × {c} CPU(s) = {req.tasks * c} CPUs, "
                f"but a job on {where} gets at most {cpus} CPUs ({_largest(groups, 'cpus', 'CPUs')}{nodes})",
            )
        elif req.gpus_per_node and not any(g.gpus >= req.gpus_per_node for g in groups):
            add("gres", f"gres=gpu:{req.gpus_per_node} per node, but {where} has {_largest(groups, 'gpus', 'GPUs')}")
    if req.gpus_total and req.gpus_total > sum(g.count * g.gpus for g in groups):
        add("gpu", f"gpu={req.gpus_total} GPUs, but {where} has {sum(g.count * g.gpus for g in groups)} in all")
    per_node_tasks = req.tasks_per_node or (math.ceil(req.tasks / req.nodes) if req.nodes else 1)
    max_mem = max(g.memory_mb for g in groups)
    if req.mem_mb_per_cpu and req.mem_mb_per_cpu * c * per_node_tasks > max_mem:
        need = req.mem_mb_per_cpu * c * per_node_tasks
        add("mem_mb_per_cpu", f"mem_mb_per_cpu={req.mem_mb_per_cpu} × {c * per_node_tasks} CPUs = {need} MB on a node, but the largest node of {where} has {max_mem} MB")  # fmt: skip
    elif not req.mem_mb_per_cpu and req.mem_mb and req.mem_mb > max_mem:
        add("mem_mb", f"mem_mb={req.mem_mb} on a node, but the largest node of {where} has {max_mem} MB")
    if req.minutes and part.max_minutes is not None and req.minutes > part.max_minutes:
        add("runtime", f"runtime={req.minutes:g} min, but {where} allows at most {part.max_minutes:g} min")
    return out


def _largest(groups, attr: str, unit: str) -> str:
    best = max(getattr(g, attr) for g in groups)
    n = sum(g.count for g in groups if getattr(g, attr) == best)
    return f"{n} node(s) with at most {best} {unit}"


def check_requests(requests: Iterable[Request], partitions: Mapping[str, Partition]) -> None:
    """Raise ``JobsDoNotFit`` listing, once per rule and resource, every request that cannot start."""
    seen: dict[tuple, tuple[Problem, int]] = {}
    for req in requests:
        for p in problems(req, partitions):
            key = (p.rule, p.resource, p.text)
            seen[key] = (p, seen.get(key, (p, 0))[1] + 1)
    if seen:
        lines = [f"  {p.message(n)}" for p, n in seen.values()]
        raise JobsDoNotFit(
            "these jobs could never start on this SLURM cluster (they would wait in the queue forever); "
            "nothing was submitted:\n" + "\n".join(lines)
        )


def check_jobs(jobs: Iterable, partitions: Mapping[str, Partition] | None = None) -> int:
    """Check Snakemake jobs (``job.rule.name``, ``job.resources``, ``job.threads``, ``job.is_local``) before
    submission; local and group jobs are skipped. Queries ``sinfo`` once unless ``partitions`` is given.
    Returns the number of jobs checked."""
    requests = [
        request_from_resources(job.rule.name, job.resources, int(job.threads or 1))
        for job in jobs
        if not job.is_group() and not job.is_local
    ]
    if requests:
        check_requests(requests, query_partitions() if partitions is None else partitions)
    return len(requests)
