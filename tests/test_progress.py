"""Long work shows progress on a terminal and never in log files (nyegan.progress): the workflow scripts' log
redirection, MPI ranks (GB search under ``nyegan relax --np 2``) and Lightning's training bar. A pseudo-terminal
stands in for the user's terminal."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run(args, cwd, terminal: bool, env=None, timeout=300):
    """Run ``args`` with stderr on a pseudo-terminal (or a pipe); returns (stdout, what reached stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "NYEGAN_PROGRESS"} | {"PYTHONPATH": SRC} | (env or {})
    if not terminal:
        r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
        return r.stdout, r.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal 120 columns wide
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every holder of the terminal has closed it
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode(errors="replace")
    seen = b"".join(chunks).decode(errors="replace")
    assert proc.wait(timeout=timeout) == 0, out[-2000:] + seen[-4000:]
    return out, seen


SCRIPT = """
import sys
from nyegan.progress import lightning_progress_bar, progress_bar
from nyegan.scripting import log_to

with log_to("job.log"):  # as every workflow script: stdout, stderr and logging go to the rule's log
    for _ in progress_bar(range(3), desc="long work", unit="item"):
        pass
    bar = lightning_progress_bar(True)
    if bar is not None:
        t = bar.init_train_tqdm()
        t.update(1)
        t.close()
    print("shown bars:", bar is not None)
"""


@pytest.mark.parametrize("terminal", [pytest.param(True, marks=pytest.mark.slow), False])  # slow: imports Lightning
def test_bars_reach_the_terminal_and_never_the_log(tmp_path, terminal):
    (tmp_path / "job.py").write_text(SCRIPT)
    _, seen = _run([sys.executable, "job.py"], tmp_path, terminal)
    log = (tmp_path / "job.log").read_text()
    assert f"shown bars: {terminal}" in log
    assert "long work" not in log and "Training" not in log and "it/s" not in log
    if terminal:
        assert "long work" in seen and "3/3" in seen and "Training" in seen, seen
    else:
        assert "long work" not in seen and "Training" not in seen


@pytest.mark.slow
def test_environment_overrides_the_detection(tmp_path):
    (tmp_path / "job.py").write_text(SCRIPT)
    _, seen = _run([sys.executable, "job.py"], tmp_path, terminal=True, env={"NYEGAN_PROGRESS": "0"})
    assert "long work" not in seen and "shown bars: False" in (tmp_path / "job.log").read_text()
    _, seen = _run([sys.executable, "job.py"], tmp_path, terminal=False, env={"NYEGAN_PROGRESS": "1"})
    assert "long work" in seen  # an MPI rank whose launcher runs on a terminal


@pytest.mark.mpi
@pytest.mark.slow
def test_gb_search_progress_crosses_mpiexec(tmp_path):
    """mpiexec gives its ranks pipes, not the terminal: ``nyegan relax --np 2`` passes on what it sees."""
    build = [sys.executable, "-m", "nyegan", "build", "gb", "--axis", "0", "0", "1", "--plane", "3", "1", "0"]
    _run([*build, "--min-size", "10", "24", "8", "-o", "gb.data"], tmp_path, terminal=False)
    settings = '{"gb_search": {"translations": [2, 1], "deletion_cutoffs": [0.0], "n_full": 1, "refine_rounds": 0}}'
    relax = [sys.executable, "-m", "nyegan", "relax", "gb.data", "--np", "2", "--settings", settings]
    out, seen = _run([*relax, "--log", "gb.lammps.log", "-o", "relaxed.dump"], tmp_path, terminal=True)
    assert re.search(r"screening round \d+: +100%", seen), seen
    assert "mJ/m²" in out
    assert "screening round" not in (tmp_path / "gb.lammps.log").read_text()
    _, seen = _run([*relax, "--log", "again.lammps.log", "-o", "again.dump"], tmp_path, terminal=False)
    assert "screening round" not in seen


@pytest.mark.slow
def test_gb_search_progress_under_snakemake_reaches_the_terminal_not_the_logs(tmp_path):
    """snakemake on a terminal -> relax rule -> mpiexec -> nyegan relax: the bar crosses to the terminal (common.smk
    passes on NYEGAN_PROGRESS), and neither the rule's log nor Snakemake's own log holds it."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    config["structures"] = {
        "min_size": [10.0, 24.0, 8.0],
        "grain_boundaries": [{"axis": [0, 0, 1], "planes": [[3, 1, 0]]}],
        "dislocations": [],
        "gb_dislocations": [],
    }
    config["relax"] = {"mpi_tasks": 1, "gb_search": {"translations": [2, 1], "deletion_cutoffs": [0.0], "n_full": 1}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    target = "results/relaxed/gb-001-S5-310.dump"
    snakemake = [sys.executable, "-m", "snakemake", target, "--cores", "1", "--snakefile", str(root / "Snakefile")]
    _, seen = _run([*snakemake, "--configfile", "config.yaml"], tmp_path, terminal=True)
    assert re.search(r"screening round \d+: +100%", seen), seen[-3000:]
    logs = [*(tmp_path / "logs").rglob("*.log"), *(tmp_path / ".snakemake" / "log").glob("*.log")]
    assert len(logs) >= 3 and (tmp_path / target).exists()
    for log in logs:
        assert "screening round" not in log.read_text(errors="replace"), log
