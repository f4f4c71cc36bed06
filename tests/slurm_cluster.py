"""A real single-node SLURM cluster on this machine, for the tests marked ``slurm``.

Debian packages ``slurmctld slurmd slurm-client munge`` (installed with apt-get when missing; root, no systemd).
``start()`` writes ``/etc/slurm/slurm.conf`` and ``gres.conf`` for this machine (its real CPU count and memory
from ``slurmd -C``, one fake GPU ``gpu:1`` backed by ``/dev/null``), starts ``munged`` on its own socket,
``slurmctld`` and ``slurmd`` with their state, logs and pid files under ``BASE``, and waits until the node is idle.
``stop()`` stops exactly the daemons it started (by pid) and restores any ``/etc/slurm`` file it replaced.

Test-cluster settings and why: no slurmdbd, so the workflow's status command is ``squeue`` and ``MinJobAge=300``
keeps finished jobs visible to it; ``DefMemPerCPU`` and the node's ``RealMemory`` let ``--mem``/``--mem-per-cpu``
requests through; ``cred_expire=10`` shortens the hold of a requeued job (SLURM's default is 120 s) and
``sched_interval``/``bf_interval`` let it start soon after; ``FirstJobId`` from the clock, so job ids never
repeat across starts (``first_job_id``); ``MpiDefault=none`` (Debian's default) so the
profiles must ask for PMI-2 themselves. Besides the default partition ``debug`` the node is also in partitions
named like the sites' (``cpu_p1 gpu_p13 gpu_p5 gpu_p6`` on Jean Zay, ``std gpu`` on EXPLOR) with their GPU
features, so ``sbatch --test-only`` can judge the site profiles' flags for real.

Run by hand: ``python tests/slurm_cluster.py start`` / ``stop`` (the same code as the pytest fixture).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
BASE = Path("/var/tmp/nyegan-slurm-test")
SLURM_CONF = Path("/etc/slurm/slurm.conf")
GRES_CONF = Path("/etc/slurm/gres.conf")
MARKER = "# nyegan test cluster (tests/slurm_cluster.py)"
LOCK = Path("/var/lock/nyegan-slurm-test.lock")
SITE_PARTITIONS = ["cpu_p1", "gpu_p13", "gpu_p5", "gpu_p6", "std", "gpu"]  # Jean Zay, EXPLOR
FEATURES = ["v100-16g", "v100-32g", "a100", "h100"]  # Jean Zay's GPU constraints


class ClusterUnavailable(RuntimeError):
    """SLURM cannot be started here (the reason is the message)."""


class PackagesUnavailable(ClusterUnavailable):
    """The SLURM packages are missing and cannot be installed here (the tests are skipped with this reason)."""


@dataclass
class Cluster:
    node: str
    cpus: int
    memory_mb: int
    gpus: int
    partition: str
    base: Path
    pids: dict = field(default_factory=dict)  # daemon -> pid, only those this process started
    replaced: dict = field(default_factory=dict)  # /etc/slurm file -> its previous text (None: did not exist)

    def env(self) -> dict:
        """Environment for SLURM client commands (nothing special: slurm.conf is at its standard place)."""
        return dict(os.environ)


def _run(cmd, timeout=60, check=True, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and out.returncode != 0:
        raise ClusterUnavailable(f"{' '.join(map(str, cmd))} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return out


def missing_packages() -> list[str]:
    """Packages of PACKAGES not installed (dpkg), or all of them where dpkg is absent."""
    if not shutil.which("dpkg-query"):
        return list(PACKAGES)
    out = _run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *PACKAGES], check=False)
    installed = {line.split()[0] for line in out.stdout.splitlines() if line.endswith(" installed")}
    return [p for p in PACKAGES if p not in installed]


def ensure_packages() -> None:
    """Install the SLURM and munge packages with apt-get if missing; PackagesUnavailable says why not."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise PackagesUnavailable(f"SLURM packages {missing} are missing and installing them needs root")
    if not shutil.which("apt-get"):
        raise PackagesUnavailable(f"SLURM packages {missing} are missing and there is no apt-get to install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    out = _run(install, timeout=900, check=False, env=env)
    if out.returncode != 0:  # stale package lists on a fresh machine: update once and retry
        _run(["apt-get", "update", "-q"], timeout=600, check=False, env=env)
        out = _run(install, timeout=900, check=False, env=env)
    if out.returncode != 0 or missing_packages():
        raise PackagesUnavailable(f"apt-get could not install {missing}: {out.stderr.strip()[-1500:]}")


def _node_config() -> dict:
    """This machine as slurmd sees it (``slurmd -C``): NodeName, CPUs, Boards, sockets, cores, threads, memory."""
    out = _run(["slurmd", "-C"]).stdout.splitlines()[0]
    fields = dict(item.split("=", 1) for item in out.split())
    fields["RealMemory"] = str(max(1000, int(fields["RealMemory"]) - 512))  # leave the OS some room
    return fields


def first_job_id(now: float | None = None) -> int:
    """A first job id that no earlier start of the test cluster on this machine has used.

    The cluster's state is wiped at each start, and SLURM would number jobs from 1 again. A killed MPICH step
    leaves its shared-memory segment (``/dev/shm/mpich_shm_*``, named from the job step), and with job ids that
    repeat, two-rank jobs died in ``MPI_Init`` ("Message truncated"): 5 of the first 12 jobs after a restart,
    0 of 70 with ids that do not repeat. Numbering from the clock (one id per second since 2024, wrapping well
    below SLURM's largest id) keeps ids distinct across starts; a session submits far fewer than one job a second.
    """
    seconds = int((time.time() if now is None else now) - 1_704_067_200)  # 2024-01-01 UTC
    return 1_000 + seconds % 60_000_000


def _slurm_conf(node: dict, base: Path, munge_socket: Path) -> str:
    name = node["NodeName"]
    hw = " ".join(f"{k}={node[k]}" for k in node if k != "NodeName")
    partitions = "\n".join(
        f"PartitionName={p} Nodes={name} MaxTime=INFINITE State=UP" for p in ["debug", *SITE_PARTITIONS]
    ).replace("PartitionName=debug Nodes", "PartitionName=debug Default=YES Nodes", 1)
    return f"""{MARKER}
ClusterName=nyegantest
SlurmctldHost={name}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket},cred_expire=10
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/log/slurmctld.log
SlurmdLogFile={base}/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
FirstJobId={first_job_id()}
ReturnToService=2
MinJobAge=300
KillWait=5
DefMemPerCPU=1000
GresTypes=gpu
NodeName={name} NodeAddr=127.0.0.1 {hw} Gres=gpu:1 Features={",".join(FEATURES)} State=UNKNOWN
{partitions}
"""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _kill(pid: int, timeout: float = 15) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    t0 = time.time()
    while time.time() - t0 < timeout:
        if not _pid_alive(pid):
            return
        try:  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _stop_leftovers(base: Path) -> None:
    """Daemons of an earlier run of this harness that did not stop (found by the pid files in ``base``)."""
    for name in ("slurmd", "slurmctld", "munged"):
        pid = _read_pid(base / f"{name}.pid")
        if pid and _pid_alive(pid) and name in Path(f"/proc/{pid}/comm").read_text():
            _kill(pid)


def _wait(predicate, timeout: float, what: str, log: Path | None = None) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if predicate():
            return
        time.sleep(0.25)
    tail = log.read_text()[-2000:] if log and log.exists() else ""
    raise ClusterUnavailable(f"{what} not ready after {timeout:.0f} s\n{tail}")


def _node_idle(name: str) -> bool:
    out = _run(["sinfo", "-h", "-n", name, "-o", "%T"], check=False, timeout=10)
    return out.returncode == 0 and out.stdout.strip().split("\n")[0].rstrip("*") == "idle"


def start(base: Path = BASE) -> Cluster:
    """Install (if needed) and start a single-node cluster; the caller must call ``stop`` on the result."""
    if sys.platform != "linux":
        raise PackagesUnavailable("the test cluster needs Linux (Debian packages)")
    ensure_packages()
    if os.geteuid() != 0:
        raise ClusterUnavailable("starting SLURM daemons (and writing /etc/slurm) needs root")
    for conf in (SLURM_CONF, GRES_CONF):
        if conf.exists() and MARKER not in conf.read_text() and conf == SLURM_CONF:
            raise ClusterUnavailable(f"{conf} belongs to another SLURM installation; not replacing it")
    _stop_leftovers(base)
    shutil.rmtree(base, ignore_errors=True)
    for d in ("state", "spool", "log", "munge"):
        (base / d).mkdir(parents=True, exist_ok=True)
    node = _node_config()
    cluster = Cluster(
        node=node["NodeName"],
        cpus=int(node["CPUs"]),
        memory_mb=int(node["RealMemory"]),
        gpus=1,
        partition="debug",
        base=base,
    )
    try:
        # munge on its own socket, so a system munged (if any) is left alone
        munge_dir = base / "munge"
        shutil.chown(munge_dir, "munge", "munge")
        munge_socket = munge_dir / "munge.socket"
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            _run(["runuser", "-u", "munge", "--", "mungekey", "--create", "--keyfile", str(key)])
        _run(
            [
                "runuser", "-u", "munge", "--", "munged",
                f"--socket={munge_socket}", f"--pid-file={munge_dir}/munged.pid",
                f"--log-file={munge_dir}/munged.log", f"--seed-file={munge_dir}/munged.seed",
            ]
        )  # fmt: skip
        _wait(lambda: _read_pid(munge_dir / "munged.pid") is not None, 10, "munged", munge_dir / "munged.log")
        cluster.pids["munged"] = _read_pid(munge_dir / "munged.pid")
        (base / "munged.pid").write_text(str(cluster.pids["munged"]))

        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        for conf, text in (
            (SLURM_CONF, _slurm_conf(node, base, munge_socket)),
            (GRES_CONF, f"{MARKER}\nNodeName={node['NodeName']} Name=gpu File=/dev/null\n"),
        ):
            foreign = conf.exists() and MARKER not in conf.read_text()
            cluster.replaced[str(conf)] = conf.read_text() if foreign else None  # None: ours, removed at stop
            conf.write_text(text)

        _run(["slurmctld"])
        _wait(lambda: _read_pid(base / "slurmctld.pid") is not None, 15, "slurmctld", base / "log/slurmctld.log")
        cluster.pids["slurmctld"] = _read_pid(base / "slurmctld.pid")
        _wait(
            lambda: _run(["scontrol", "ping"], check=False).returncode == 0, 30, "slurmctld", base / "log/slurmctld.log"
        )
        _run(["slurmd"])
        _wait(lambda: _read_pid(base / "slurmd.pid") is not None, 15, "slurmd", base / "log/slurmd.log")
        cluster.pids["slurmd"] = _read_pid(base / "slurmd.pid")
        _wait(lambda: _node_idle(cluster.node), 60, f"node {cluster.node}", base / "log/slurmd.log")
    except BaseException:
        stop(cluster)
        raise
    (base / "cluster.json").write_text(json.dumps({**asdict(cluster), "base": str(base)}))
    return cluster


def stop(cluster: Cluster) -> None:
    """Cancel what is left in the queue, stop exactly the daemons ``start`` started, restore replaced files."""
    if cluster.pids.get("slurmctld"):
        _run(["scancel", "--full", "--user", "root"], check=False, timeout=20)
    for name in ("slurmd", "slurmctld", "munged"):
        pid = cluster.pids.pop(name, None)
        if pid:
            _kill(pid)
    for conf, text in cluster.replaced.items():
        if text is None:
            Path(conf).unlink(missing_ok=True)
        else:
            Path(conf).write_text(text)
    cluster.replaced.clear()


class SessionLock:
    """One test session at a time uses the machine's SLURM (other sessions wait for it)."""

    def __init__(self, path: Path = LOCK):
        self.path = path
        self.fd = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = open(self.path, "w")
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.fd.write(f"{socket.gethostname()} {os.getpid()}\n")
        self.fd.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.fd.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["start"]:
        c = start()
        print(json.dumps({**asdict(c), "base": str(c.base)}, indent=1))
    elif sys.argv[1:] == ["stop"]:
        info = json.loads((BASE / "cluster.json").read_text())
        stop(Cluster(**{**info, "base": Path(info["base"])}))
    else:
        sys.exit("usage: python tests/slurm_cluster.py start|stop")
