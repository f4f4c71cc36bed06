"""The workflow on a real single-node SLURM cluster (tests/slurm_cluster.py), through `snakemake --profile`.

One cluster for the session, the default demo run once (the other tests start from copies of it where they
need its outputs). Test overrides, as a user would set them: relaxations with 2 MPI tasks and training with
1 CPU per process (the node has 2 CPUs), 2-process DDP on CPU (gloo), fewer training steps; the cluster has
no slurmdbd, so the status command is squeue. Skipped only where the SLURM packages cannot be installed.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from nyegan.config import check_config, load_config

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
STATUS = ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2"]
TEST_SETTINGS = {
    "NYEGAN_SLURM_RELAX_TASKS": "2",
    "NYEGAN_SLURM_TRAIN_CPUS_PER_TASK": "1",
    "NYEGAN_SLURM_ACCOUNT": "nyegan-test",
    "NYEGAN_SLURM_PARTITION": "debug",
}
DEMO_GAN = {"devices": 2, "accelerator": "cpu", "steps": 30, "steps_per_epoch": 15}
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")
GB_ONLY = {  # two small boundaries, no dislocations: the failure, interrupt and flag tests
    "structures": {
        "grain_boundaries": [{"axis": [0, 0, 1], "planes": [[3, 1, 0], [2, 1, 0]]}],
        "dislocations": [],
        "gb_dislocations": [],
    }
}


@pytest.fixture(scope="session")
def slurm():
    from slurm_cluster import PackagesUnavailable, SessionLock, start, stop

    with SessionLock():
        try:
            cluster = start()
        except PackagesUnavailable as exc:
            pytest.skip(f"no SLURM cluster: {exc}")
        try:
            yield cluster
        finally:
            stop(cluster)


def snakemake(work: Path, *args, config=None, profile="slurm", settings=TEST_SETTINGS, path=(), wait=True):
    """``snakemake --profile profiles/<profile>`` in ``work`` with the default config (+ ``config`` overrides);
    output in ``work/snakemake.out``. Only the given NYEGAN_SLURM_* settings are seen (no user file)."""
    configs = [str(ROOT / "config" / "config.yaml")]
    if config:
        (work / "test.yaml").write_text(yaml.safe_dump(config))
        configs.append(str(work / "test.yaml"))
    cmd = [
        sys.executable, "-m", "snakemake", "--profile", str(ROOT / "profiles" / profile),
        "--snakefile", str(ROOT / "Snakefile"), "--configfile", *configs, *STATUS, *args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("NYEGAN_SLURM_")}
    env.update(settings, NYEGAN_SLURM_SETTINGS=str(work / "no-user-settings.yaml"))
    env["PATH"] = os.pathsep.join([*map(str, path), str(Path(sys.executable).parent), env["PATH"]])
    out = open(work / "snakemake.out", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return proc
    try:
        proc.wait(timeout=900)
    finally:
        out.close()
    return SimpleNamespace(returncode=proc.returncode, out=(work / "snakemake.out").read_text())


def job_counts(out: str) -> dict:
    """The first 'Job stats' table of a Snakemake run: {rule: count}."""
    counts = {}
    for line in out.split("Job stats:", 1)[1].splitlines()[3:]:
        row = line.split()
        if not row or row[0] == "total":
            return counts
        counts[row[0]] = int(row[1])
    return counts


def queue() -> list[str]:
    return subprocess.run(["squeue", "-h", "-o", "%i %T %k"], capture_output=True, text=True).stdout.split("\n")[:-1]


def wait_for(predicate, timeout, proc=None, what=""):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"snakemake ended (rc {proc.returncode}) before {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def global_step(path) -> int:
    return torch.load(path, map_location="cpu", weights_only=False)["global_step"]


def test_job_that_could_never_start_is_stopped_before_submission(slurm, tmp_path):
    """Profile defaults (relax tasks 8, 4 CPUs per training process, 2 GPUs) on a 2-CPU, 1-GPU node."""
    gpu = {"gan": {"accelerator": "gpu", "devices": 2}}
    r = snakemake(tmp_path, config=gpu, settings={"NYEGAN_SLURM_PARTITION": "debug"})
    assert r.returncode != 0
    assert "could never start on this SLURM cluster" in r.out and "nothing was submitted" in r.out
    assert re.search(r"rule relax \(7 jobs\): tasks=8 .* at most 2 CPUs.* NYEGAN_SLURM_RELAX_TASKS", r.out)
    assert re.search(r"rule gan_train: cpus_per_task=4, .* 2 CPUs\. Change cpus_per_task: NYEGAN_SLURM_TRAIN", r.out)
    r = snakemake(tmp_path, config=gpu)
    assert re.search(r"rule gan_train: gres=gpu:2 per node, .* at most 1 GPUs\. Change gres: gan.devices", r.out)
    assert "rule relax" not in r.out.split("could never start")[1]
    assert not SUBMITTED.search(r.out) and not queue() and not (tmp_path / "logs" / "slurm").exists()


@pytest.fixture(scope="session")
def demo(slurm, tmp_path_factory):
    """The default config end to end through profiles/slurm, once."""
    work = tmp_path_factory.mktemp("demo")
    t0 = time.time()
    r = snakemake(work, "--slurm-keep-successful-logs", config={"gan": DEMO_GAN})
    r.seconds, r.dir = time.time() - t0, work
    print(f"\ndemo through SLURM: {r.seconds:.0f} s")
    return r


def test_demo_end_to_end_with_srun_mpi_relaxations_and_ddp_training(demo):
    assert demo.returncode == 0, demo.out[-6000:]
    work = demo.dir
    cases = list(check_config(load_config(ROOT / "config" / "config.yaml")))
    for case in cases:
        for out in (f"structures/{case}.data", f"relaxed/{case}.dump", f"nye/{case}.nc"):
            assert (work / "results" / out).exists(), out
    for out in ("gb_energies.csv", "nye/summary.csv", "dataset.nc", "gan/generated.nc", "gan/metrics.json"):
        assert (work / "results" / out).exists(), out
    # one SLURM job per case and stage, none for the light rules (they ran where Snakemake ran)
    logs = {rule: sorted((work / "logs" / "slurm" / f"rule_{rule}").rglob("*.log")) for rule in
            ("build_structure", "relax", "nye_field", "gan_train", "gan_generate")}  # fmt: skip
    assert {r: len(v) for r, v in logs.items()} == dict(
        build_structure=len(cases), relax=len(cases), nye_field=len(cases), gan_train=1, gan_generate=1
    )
    heavy = {"gan_benchmark", "stress_field", "stress_generated", "stress_dataset"}
    assert sorted(p.name for p in (work / "logs" / "slurm").iterdir()) == sorted(f"rule_{r}" for r in {*logs, *heavy})
    # relaxations: srun started 2 MPI ranks in each job
    for log in logs["relax"]:
        assert "srun --mpi=pmi2 --kill-on-bad-exit=1 -n 2 python -m mpi4py -m nyegan relax" in log.read_text()
    for case in cases:
        assert yaml.safe_load((work / "results" / "relaxed" / f"{case}.json").read_text())["mpi_ranks"] == 2
    # training: 2 processes, one per SLURM task, DDP over gloo, every step done
    train_log = (work / "logs" / "gan" / "train.log").read_text()
    jobid = logs["gan_train"][0].stem
    assert f"SLURM job {jobid} step 0: 2 process(es) = gan.devices 2 × gan.num_nodes 1" in train_log
    assert "distributed_backend=gloo" in train_log and "Starting with 2 processes" in train_log
    assert global_step(work / "results" / "gan" / "checkpoints" / "last.ckpt") == 30 + 30 // 2
    assert len(list((work / "results" / "gan" / "logs" / "version_0" / "images").glob("*.png"))) == 2
    job = subprocess.run(["scontrol", "show", "job", jobid], capture_output=True, text=True).stdout
    assert "Account=nyegan-test" in job and "NumTasks=2" in job and "JobState=COMPLETED" in job


def _copy_demo(demo, dst: Path) -> Path:
    shutil.copytree(demo.dir, dst, symlinks=True)
    shutil.rmtree(dst / "logs" / "slurm")
    return dst


@pytest.mark.parametrize("site", ["jean-zay", "explor"])
def test_site_profiles_write_the_flags_the_site_expects(demo, site, tmp_path):
    """Each site profile submits a relaxation and the training; a `sbatch` first on PATH records the call and
    asks the real sbatch with --test-only whether SLURM would run it (the test cluster has the sites'
    partitions and GPU features), so nothing is queued."""
    assert demo.returncode == 0
    work = _copy_demo(demo, tmp_path / "work")
    shim = tmp_path / "bin"
    shim.mkdir()
    calls = tmp_path / "sbatch-calls.txt"
    (shim / "sbatch").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\n'
        f'echo "test-only: $({shutil.which("sbatch")} --test-only "$@" 2>&1)" >&2\nexit 1\n'
    )
    (shim / "sbatch").chmod(0o755)
    settings = {
        "jean-zay": {"NYEGAN_SLURM_PROJECT": "abc", "NYEGAN_SLURM_GPU": "v100-32g", "NYEGAN_SLURM_QOS": "t3"},
        "explor": {"NYEGAN_SLURM_ACCOUNT": "p0123"},
    }[site]
    settings.update(NYEGAN_SLURM_RELAX_TASKS="2", NYEGAN_SLURM_TRAIN_CPUS_PER_TASK="1")
    gpu = {"gan": {**DEMO_GAN, "devices": 1, "accelerator": "gpu"}}
    verdicts = []
    for target in ("results/relaxed/gb-001-S5-310.dump", "results/gan/checkpoints/last.ckpt"):
        r = snakemake(work, target, "--force", "--retries", "0", config=gpu, profile=site, settings=settings,
                      path=[shim])  # fmt: skip
        assert r.returncode != 0  # nothing was meant to run
        verdicts += re.findall(r"test-only: sbatch: Job \d+ to start at .* in partition (\S+)'", r.out)
    relax, train = calls.read_text().splitlines()
    assert "--comment rule_relax_wildcards_gb-001-S5-310" in relax and "--comment rule_gan_train" in train
    # SLURM's own verdict: both requests would start, in the partitions the site uses
    assert verdicts == ({"jean-zay": ["cpu_p1", "gpu_p13"], "explor": ["std", "gpu"]}[site]), r.out[-3000:]
    if site == "jean-zay":
        for flag in ("-A abc@cpu", "-p cpu_p1", "--qos=qos_cpu-t3", "--hint=nomultithread", "--ntasks=2", "-t 240"):
            assert flag in relax, (flag, relax)
        for flag in ("-A abc@v100", "-p gpu_p13", "-C v100-32g", "--qos=qos_gpu-t3", "--gres=gpu:1",
                     "--cpus-per-task=1", "--signal=SIGUSR1@90 --requeue", "-t 600"):  # fmt: skip
            assert flag in train, (flag, train)
        assert "--hint=nomultithread" in train and "--mem" not in relax + train  # memory follows the CPUs
    else:
        for flag in ("-A p0123", "-p std", "--ntasks=2", "-t 240", "--mem-per-cpu 3000"):
            assert flag in relax, (flag, relax)
        for flag in ("-p gpu", "--gres=gpu:1", "-t 600", "--signal=SIGUSR1@90 --requeue", "--cpus-per-task=1"):
            assert flag in train, (flag, train)
    assert not queue()


def test_sigusr1_checkpoints_requeues_and_resumes_at_the_saved_step(demo, tmp_path):
    """scancel --signal=USR1 (what --signal=SIGUSR1@90 sends before the time limit) to the running training."""
    assert demo.returncode == 0
    work = _copy_demo(demo, tmp_path / "work")
    shutil.rmtree(work / "results" / "gan")
    gan = {**DEMO_GAN, "steps": 40, "checkpoint_every": 10}
    proc = snakemake(
        work, "results/gan/checkpoints/last.ckpt", "--slurm-keep-successful-logs", config={"gan": gan}, wait=False
    )
    ckpts = work / "results" / "gan" / "checkpoints"
    wait_for(lambda: len(list(ckpts.glob("step*.ckpt"))) >= 2, 300, proc, "two step checkpoints")
    jobid = SUBMITTED.search((work / "snakemake.out").read_text()).group(1)
    subprocess.run(["scancel", "--signal=USR1", jobid], check=True)
    proc.wait(timeout=600)
    out = (work / "snakemake.out").read_text()
    assert proc.returncode == 0, out[-5000:]
    assert len(SUBMITTED.findall(out)) == 1  # the same SLURM job came back; Snakemake waited for it
    job = subprocess.run(["scontrol", "show", "job", jobid], capture_output=True, text=True).stdout
    assert "Restarts=1" in job and "JobState=COMPLETED" in job
    slurm_log = (work / "logs" / "slurm" / "rule_gan_train" / f"{jobid}.log").read_text()
    assert "DUE TO JOB REQUEUE" in slurm_log
    # the signal's checkpoint, the resume from it, and exactly the configured number of steps in all
    record = (work / "results" / "gan" / "requeue.log").read_text()
    saved = int(re.search(rf"SLURM job {jobid}: signal 10, saved hpc_ckpt_1.ckpt at step (\d+), requeued", record)[1])
    final = global_step(ckpts / "last.ckpt")
    assert final == 40 + 40 // 2 and 0 < saved < final
    assert not list((work / "results" / "gan").glob("hpc_ckpt_*"))  # used up: a later run starts from last.ckpt
    assert (
        "Restoring states from the checkpoint path at results/gan/hpc_ckpt_1.ckpt"
        in (work / "logs" / "gan" / "train.log").read_text()
    )
    logs = work / "results" / "gan" / "logs" / "version_0"
    first = [float(v) for v in _column(logs / "metrics.part000.csv", "train/iteration")]
    resumed = [float(v) for v in _column(logs / "metrics.csv", "train/iteration")]
    batches = max(b for b in range(saved + 1) if b + b // 2 <= saved)  # critic updates at the saved step
    assert max(first) <= batches + 1 and batches - 1 <= min(resumed) <= batches + 10  # on from the save


def _column(csv: Path, name: str) -> list[str]:
    rows = [line.split(",") for line in csv.read_text().splitlines()]
    i = rows[0].index(name)
    return [r[i] for r in rows[1:] if len(r) > i and r[i]]


def test_failed_job_is_reported_and_rerun_completes_only_what_is_missing(slurm, tmp_path):
    config = {**GB_ONLY, "relax": {"gb_search": {"enabled": False}}}
    dumps = ["results/relaxed/gb-001-S5-310.dump", "results/relaxed/gb-001-S5-210.dump"]
    r = snakemake(tmp_path, "results/structures/gb-001-S5-310.data", "results/structures/gb-001-S5-210.data",
                  config=config)  # fmt: skip
    assert r.returncode == 0, r.out[-4000:]
    bad = tmp_path / "results" / "structures" / "gb-001-S5-210.data"
    bad.write_text("not a LAMMPS data file\n")  # one case's input goes bad
    r = snakemake(tmp_path, *dumps, config=config)  # the profile retries a failed job once
    assert r.returncode != 0
    errors = re.finditer(r"Error in rule relax:\n    message: SLURM-job '(\d+)' failed, SLURM status is: "
                         r"'FAILED'.*?\n(.*?)external_jobid", r.out, re.S)  # fmt: skip
    errors = [e for e in errors if "output: results/relaxed/gb-001-S5-210.dump" in e.group(2)]
    assert errors, r.out[-4000:]
    logs = {
        e.group(1): tmp_path / "logs" / "slurm" / "rule_relax" / "gb-001-S5-210" / f"{e.group(1)}.log" for e in errors
    }
    for e in errors:  # each report points to the job's SLURM log, kept for the user
        assert str(logs[e.group(1)]) in e.group(2) and "Error in rule relax" in logs[e.group(1)].read_text()
    cause = "nyegan relax: error: results/structures/gb-001-S5-210.data: line 1"
    assert len(logs) == 2  # the first attempt and the profile's one retry, each failing for the same cause
    for log in logs.values():
        assert cause in log.read_text(), log.read_text()[-2000:]
    good = tmp_path / dumps[0]
    assert good.exists() and not (tmp_path / dumps[1]).exists()  # the other case went on (keep-going)
    mtime = good.stat().st_mtime_ns
    bad.unlink()  # the cause, fixed: the case is rebuilt
    r = snakemake(tmp_path, *dumps, config=config)
    assert r.returncode == 0, r.out[-4000:]
    assert job_counts(r.out) == {"build_structure": 1, "relax": 1}
    assert good.stat().st_mtime_ns == mtime and (tmp_path / dumps[1]).exists()


def test_sigint_stops_jobs_and_rerun_redoes_incomplete_outputs_only(slurm, tmp_path):
    dumps = [tmp_path / "results" / "relaxed" / f"{c}.dump" for c in ("gb-001-S5-310", "gb-001-S5-210")]
    proc = snakemake(tmp_path, *[str(d.relative_to(tmp_path)) for d in dumps], config=GB_ONLY, wait=False)

    def one_done_other_running():
        done = [d for d in dumps if d.exists()]
        running = [q for q in queue() if " RUNNING rule_relax_" in q]
        return len(done) == 1 and running and done[0].stem not in running[0]

    wait_for(one_done_other_running, 400, proc, "one relaxation done and the other running")
    finished = next(d for d in dumps if d.exists())
    mtime = finished.stat().st_mtime_ns
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    out = (tmp_path / "snakemake.out").read_text()
    assert proc.returncode != 0 and "Terminating processes on user request" in out
    wait_for(lambda: not [q for q in queue() if " RUNNING " in q or " PENDING " in q], 60, what="scancel")
    unfinished = next(d for d in dumps if d != finished)
    assert not unfinished.exists()
    r = snakemake(tmp_path, *[str(d.relative_to(tmp_path)) for d in dumps], config=GB_ONLY)
    assert r.returncode == 0, r.out[-4000:]
    assert job_counts(r.out) == {"relax": 1}
    assert f"wildcards: case={unfinished.stem}" in r.out
    assert finished.stat().st_mtime_ns == mtime and unfinished.exists()
