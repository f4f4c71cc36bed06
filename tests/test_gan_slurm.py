"""Training under SLURM (nyegan.gan.slurm): the task check at the start of training, and the gan_train request
as the installed snakemake-executor-plugin-slurm turns it into sbatch flags. Real runs: tests/test_slurm.py."""

import io
from types import SimpleNamespace

import pytest

from nyegan.cluster import request_from_resources
from nyegan.gan.slurm import SlurmTaskMismatch, check_slurm_tasks, slurm_managed, train_job


def _env(ntasks, nodes=1, procid=0, name="a3c1-uuid"):
    return {
        "SLURM_NTASKS": str(ntasks),
        "SLURM_STEP_NUM_NODES": str(nodes),
        "SLURM_JOB_NAME": name,
        "SLURM_JOB_ID": "42",
        "SLURM_STEP_ID": "0",
        "SLURM_PROCID": str(procid),
    }


def test_outside_slurm_nothing_is_checked():
    assert check_slurm_tasks(4, 2, env={}) is None
    assert not slurm_managed({"SLURM_JOB_ID": "1"})  # inside a job but not launched as tasks
    assert check_slurm_tasks(4, 1, env=_env(1, name="interactive")) is None  # salloc shell: Lightning's own rule


def test_matching_tasks_are_reported_by_rank_zero_only():
    log = io.StringIO()
    text = check_slurm_tasks(2, 1, env=_env(2), log=log)
    assert "2 process(es) = gan.devices 2 × gan.num_nodes 1" in text and log.getvalue().strip() == text
    log1 = io.StringIO()
    check_slurm_tasks(2, 1, env=_env(2, procid=1), log=log1)
    assert log1.getvalue() == ""


def test_mismatch_names_the_settings_and_the_srun_line():
    with pytest.raises(SlurmTaskMismatch) as err:
        check_slurm_tasks(4, 2, env=_env(2, nodes=2), log=io.StringIO())
    msg = str(err.value)
    assert "gan.devices × gan.num_nodes = 4 × 2 = 8" in msg and "runs 2 task(s)" in msg
    assert "srun --nodes=2 --ntasks-per-node=4" in msg
    with pytest.raises(SlurmTaskMismatch, match="spans 1 node"):
        check_slurm_tasks(2, 2, env=_env(4, nodes=1), log=io.StringIO())
    assert "left to Lightning" in check_slurm_tasks("auto", 1, env=_env(3), log=io.StringIO())


def _sbatch(resources: dict, threads=1) -> str:
    """The sbatch line of the installed executor plugin for a job with these resources."""
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    class Res(dict):
        __getattr__ = dict.get

    job = SimpleNamespace(resources=Res(resources, runtime=60), threads=threads)
    params = dict(run_uuid="u", slurm_logfile="l", comment_str="c", account="", partition="", workdir="w")
    settings = SimpleNamespace(requeue=False, no_requeue=False, qos=None, reservation=None)
    return get_submit_command(job, params, settings) + set_gres_string(job)


@pytest.mark.parametrize(
    "gan, flags, absent",
    [
        (dict(devices=1, num_nodes=1, accelerator="cpu"), ["--nodes=1", "--ntasks=1"], ["--ntasks-per-node"]),
        (dict(devices=2, num_nodes=1, accelerator="cpu"), ["--nodes=1", "--ntasks-per-node=2"], ["--ntasks="]),
        (dict(devices=1, num_nodes=3, accelerator="cpu"), ["--nodes=3", "--ntasks=3"], ["--ntasks-per-node"]),
        (dict(devices=1, num_nodes=1, accelerator="gpu"), ["--gres=gpu:1"], ["--ntasks-per-gpu", "--ntasks"]),
        (
            dict(devices=4, num_nodes=2, accelerator="gpu"),
            ["--nodes=2", "--ntasks-per-node=4", "--gres=gpu:4", "--cpus-per-task=10"],
            ["--ntasks-per-gpu", "--ntasks="],
        ),
        (dict(devices=1, num_nodes=2, accelerator="gpu"), ["--nodes=2", "--ntasks=2", "--gres=gpu:1"], ["per-gpu"]),
    ],
)
def test_train_job_is_one_task_per_process(gan, flags, absent):
    job = train_job(gan)
    resources = {**job.resources, "cpus_per_task": 10}
    line = _sbatch(resources)
    for flag in flags:
        assert flag in line.split(), (flag, line)
    for flag in absent:
        assert flag not in line, (flag, line)
    # the pre-submission check reads the same number of tasks, and srun starts that many processes
    req = request_from_resources("gan_train", resources)
    assert req.tasks == job.processes == gan["devices"] * gan["num_nodes"]
    assert f"--nodes={gan['num_nodes']} --ntasks-per-node={gan['devices']}" in job.srun
    assert ("--gres=gpu:" in job.srun) == (gan["accelerator"] == "gpu")


def test_train_job_rejects_nonsense():
    with pytest.raises(ValueError, match="gan.devices"):
        train_job(dict(devices=0))


def test_train_cli_takes_the_gan_section_as_json(capsys):
    from nyegan.cli import main

    assert main(["train", "missing.nc", "-o", "out", "--settings", "[1, 2]"]) == 2
    assert "--settings: expected a JSON object, got list" in capsys.readouterr().err
    assert main(["train", "missing.nc", "-o", "out", "--settings", "{devices: 2}"]) == 2
    assert "--settings: not a JSON object" in capsys.readouterr().err


def test_requeue_signal_checkpoints_at_a_batch_end_and_stops(tmp_path, monkeypatch):
    """SIGUSR1 in the middle of training: the handler only notes it; at the end of that batch the callback
    saves hpc_ckpt_1.ckpt, runs the requeue command for the job and stops the training."""
    import os
    import signal

    import lightning.pytorch as pl
    import torch

    from nyegan.gan.requeue import RequeueOnSignal, hpc_checkpoint_path

    for k, v in dict(SLURM_NTASKS="1", SLURM_JOB_NAME="t", SLURM_JOB_ID="77", SLURM_PROCID="0", SLURM_LOCALID="0",
                     SLURM_NODEID="0", SLURM_NODELIST="localhost").items():  # fmt: skip
        monkeypatch.setenv(k, v)
    older = tmp_path / "elsewhere"
    older.mkdir()
    (older / "hpc_ckpt_1.ckpt").write_text("older")
    assert hpc_checkpoint_path(older).name == "hpc_ckpt_2.ckpt"

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 1)

        def training_step(self, batch, i):
            if i == 3:
                os.kill(os.getpid(), signal.SIGUSR1)
                assert not list(tmp_path.glob("hpc_ckpt_1.ckpt"))  # nothing done inside the handler
            return self.lin(batch).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    calls = tmp_path / "requeued.txt"
    cb = RequeueOnSignal(requeue_command=("sh", "-c", f'echo "$0" > {calls}'))
    trainer = pl.Trainer(
        max_steps=50, default_root_dir=tmp_path, callbacks=[cb], logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1,
    )  # fmt: skip
    trainer.fit(Tiny(), torch.utils.data.DataLoader(torch.randn(64, 2), batch_size=1))
    saved = torch.load(tmp_path / "hpc_ckpt_1.ckpt", weights_only=False)
    assert saved["global_step"] == 4 and trainer.global_step == 4  # stopped after the batch that was signalled
    assert calls.read_text().strip() == "77"
    assert (
        "SLURM job 77: signal 10, saved hpc_ckpt_1.ckpt at step 4, requeued" in (tmp_path / "requeue.log").read_text()
    )
    assert signal.getsignal(signal.SIGUSR1) != cb._note  # the previous handler is back after training
