"""Training through Lightning: two-process DDP on CPU, kill-and-resume, SIGTERM, new data never resumed on an old
run, reproducibility, end to end to metrics.json."""

import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from _gan_fixtures import TINY_GAN, run_python, tiny_dataset
from _messages import record

RANK_DUMP = """
import json, sys, torch
import lightning.pytorch as pl
torch.set_num_threads(1)
from nyegan.gan.train import train

class Dump(pl.Callback):
    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == 0 and trainer.current_epoch == 0:
            torch.save(batch[0].cpu(), f"batch0_rank{trainer.global_rank}.pt")
    def on_train_start(self, trainer, module):
        open(f"start_rank{trainer.global_rank}.txt", "w").write(str(trainer.global_step))
    def on_train_end(self, trainer, module):
        torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, f"rank{trainer.global_rank}.pt")
        open(f"end_rank{trainer.global_rank}.txt", "w").write(str(trainer.global_step))

train(sys.argv[1] if len(sys.argv) > 1 else DATASET, "run", CFG, extra_callbacks=[Dump()])
"""


def _script(dataset, cfg):
    return RANK_DUMP.replace("DATASET", repr(str(dataset))).replace("CFG", repr(cfg))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("train"))


@pytest.mark.slow
def test_two_process_ddp_keeps_ranks_identical(dataset, tmp_path):
    cfg = dict(TINY_GAN, devices=2, accelerator="cpu", strategy="ddp", steps=4, images=False)
    run_python(_script(dataset, cfg), tmp_path, timeout=400)
    s0 = torch.load(tmp_path / "rank0.pt")
    s1 = torch.load(tmp_path / "rank1.pt")
    assert s0.keys() == s1.keys()
    saved = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    for k in s0:
        torch.testing.assert_close(s0[k], s1[k], rtol=0, atol=0)
    # ranks drew different batches (seeded per rank) yet hold identical weights: gradients were all-reduced
    assert not torch.equal(torch.load(tmp_path / "batch0_rank0.pt"), torch.load(tmp_path / "batch0_rank1.pt"))
    assert (tmp_path / "end_rank1.txt").read_text() == str(4 + 4 // 2)
    assert all(torch.equal(saved[k], s0[k]) for k in s0)


@pytest.mark.slow
def test_killed_run_resumes_at_saved_step(dataset, tmp_path):
    cfg = dict(TINY_GAN, steps=400, checkpoint_every=3, images=False)
    proc = run_python(_script(dataset, cfg), tmp_path, wait=False)
    ckpts = tmp_path / "run" / "checkpoints"
    t0 = time.time()
    try:
        while time.time() - t0 < 200:
            if len(list(ckpts.glob("step*.ckpt"))) >= 2 and proc.poll() is None:
                break
            if proc.poll() is not None:
                pytest.fail("training ended before it could be killed:\n" + proc.stdout.read()[-3000:])
            time.sleep(0.2)
        else:
            pytest.fail("no checkpoint within 200 s")
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (tmp_path / "end_rank0.txt").exists()  # really interrupted
    saved = torch.load(ckpts / "last.ckpt", weights_only=True)
    saved_step = saved["global_step"]
    assert saved_step >= 3 and saved["nyegan_iteration"] >= 2
    # rerun with a shorter budget: it continues from the saved step, not from 0
    cfg2 = dict(cfg, steps=saved["nyegan_iteration"] + 4)
    run_python(_script(dataset, cfg2), tmp_path, timeout=300)
    assert int((tmp_path / "start_rank0.txt").read_text()) == saved_step
    end = int((tmp_path / "end_rank0.txt").read_text())
    assert end == cfg2["steps"] + cfg2["steps"] // 2 > saved_step
    # a further rerun of a finished run does not train again
    (tmp_path / "start_rank0.txt").unlink()
    run_python(_script(dataset, cfg2), tmp_path, timeout=300)
    start = tmp_path / "start_rank0.txt"
    assert not start.exists() or int(start.read_text()) == end
    assert torch.load(ckpts / "last.ckpt", weights_only=True)["global_step"] == end


def test_end_to_end_dataset_train_generate_evaluate(tmp_path):
    """Per-case files -> dataset -> a few training steps -> generate (held-out) -> metrics.json."""
    from argparse import Namespace

    from _gan_fixtures import write_tiny_cases

    from nyegan import cli_gan

    nye, meta = write_tiny_cases(tmp_path / "results")
    cfg_path = tmp_path / "gan.json"
    cfg_path.write_text(
        json.dumps({"dataset": {"grid": [16, 32], "heldout_misorientations": [20.0]}, "gan": dict(TINY_GAN, steps=4)})
    )
    cli_gan.run_dataset(
        Namespace(
            nye=[str(p) for p in nye],
            meta=[str(p) for p in meta],
            output=str(tmp_path / "dataset.nc"),
            config=str(cfg_path),
        )
    )
    torch.set_num_threads(1)
    cli_gan.run_train(
        Namespace(dataset=str(tmp_path / "dataset.nc"), output=str(tmp_path / "gan"), config=str(cfg_path))
    )
    ckpt = tmp_path / "gan" / "checkpoints" / "last.ckpt"
    assert ckpt.exists()
    assert list((tmp_path / "gan" / "logs" / "version_0" / "images").glob("epoch_*.png"))
    assert (tmp_path / "gan" / "logs" / "version_0" / "metrics.csv").read_text().count("physics/div_rel")
    cli_gan.run_generate(
        Namespace(
            checkpoint=str(ckpt),
            dataset=str(tmp_path / "dataset.nc"),
            output=str(tmp_path / "gan" / "generated.nc"),
            config=str(cfg_path),
            n_per_condition=3,
            splits=["heldout"],
        )
    )
    gen = xr.open_dataset(tmp_path / "gan" / "generated.nc")
    assert gen["alpha"].dims == ("sample", "i", "j", "x", "y") and gen.sizes["sample"] == 2 * 3
    assert gen.attrs["temperature"] == 1.0
    a = gen["alpha"].values
    assert not np.allclose(a[0], a[1])  # samples of one condition differ at temperature 1
    assert set(gen["misorientation_deg"].values) == {20.0}  # the held-out misorientation
    cli_gan.run_evaluate(
        Namespace(
            generated=str(tmp_path / "gan" / "generated.nc"),
            dataset=str(tmp_path / "dataset.nc"),
            output=str(tmp_path / "gan"),
        )
    )
    m = json.loads((tmp_path / "gan" / "metrics.json").read_text())
    s = m["summary"]
    assert s["div_rel_generated"] < 1e-5 and s["content_error_fb"] < 1e-5
    for key in ("spectrum_distance", "correlation_distance", "mean_field_error", "content_error_data"):
        assert key in s
    assert (tmp_path / "gan" / "mean_profiles.png").exists()
    # a requested condition never seen at all (25 deg) gets its Frank-Bilby content exactly
    from nyegan.gan.generate import generate

    req = [
        {
            "kind": "gb",
            "misorientation_deg": 25.0,
            "axis": [0, 0, 1],
            "plane": [0, 1, 0],
            "cell": [[17.0, 0, 0], [0, 60.0, 0], [0, 0, 4.0]],
            "gb_y": [10.0, 40.0],
        }
    ]
    g = generate(ckpt, tmp_path / "dataset.nc", tmp_path / "req.nc", n_per_condition=2, requests=req)
    cold = generate(ckpt, tmp_path / "dataset.nc", tmp_path / "cold.nc", n_per_condition=2, requests=req,
                    temperature=0.0)  # fmt: skip
    np.testing.assert_array_equal(cold["alpha"].values[0], cold["alpha"].values[1])  # no randomness left
    with pytest.raises(ValueError, match="temperature"):
        generate(ckpt, tmp_path / "dataset.nc", tmp_path / "bad.nc", requests=req, temperature=-0.5)
    assert not (tmp_path / "bad.nc").exists()
    np.testing.assert_allclose(g["content"].values[:, 0, 1], 2 * np.sin(np.radians(12.5)), rtol=1e-5)
    np.testing.assert_allclose(g["content"].values[:, 1, 1], -2 * np.sin(np.radians(12.5)), rtol=1e-5)


@pytest.mark.slow
def test_slurm_requeue_signal_checkpoint_is_resumed(dataset, tmp_path):
    """Under a SLURM job environment, SIGUSR1 makes Lightning write hpc_ckpt_*.ckpt (requeue via scontrol is
    attempted and fails here); the requeued run (same environment) resumes from that checkpoint."""
    import os
    import subprocess

    from _gan_fixtures import PY, SRC

    cfg = dict(TINY_GAN, steps=400, checkpoint_every=3, images=False)
    script = tmp_path / "job.py"
    script.write_text(_script(dataset, cfg))
    env = dict(
        os.environ,
        PYTHONPATH=SRC,
        OMP_NUM_THREADS="1",
        SLURM_NTASKS="1",
        SLURM_JOB_NAME="nyegan-train",
        SLURM_JOB_ID="4242",
        SLURM_PROCID="0",
        SLURM_LOCALID="0",
        SLURM_NODEID="0",
        SLURM_NNODES="1",
        SLURM_NTASKS_PER_NODE="1",
    )
    proc = subprocess.Popen(
        [PY, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    run = tmp_path / "run"
    t0 = time.time()
    try:
        while not list((run / "checkpoints").glob("step*.ckpt")):
            assert proc.poll() is None and time.time() - t0 < 200, "training ended or stalled"
            time.sleep(0.2)
        proc.send_signal(signal.SIGUSR1)
        while not list(run.glob("hpc_ckpt_*.ckpt")):
            assert proc.poll() is None and time.time() - t0 < 200, "no HPC checkpoint after SIGUSR1"
            time.sleep(0.2)
        time.sleep(1.0)  # let the write finish, then the scheduler kills the job
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    hpc = sorted(run.glob("hpc_ckpt_*.ckpt"))[-1]
    hpc_step = torch.load(hpc, weights_only=True)["global_step"]
    assert hpc_step >= 3
    cfg2 = dict(cfg, steps=torch.load(hpc, weights_only=True)["nyegan_iteration"] + 2)
    script.write_text(_script(dataset, cfg2))
    r = subprocess.run([PY, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert int((tmp_path / "start_rank0.txt").read_text()) == hpc_step


def test_bf16_mixed_keeps_physics_exact(dataset, tmp_path):
    """bf16 autocast (CPU here, GPUs in production) runs the networks in bf16; the FFT physics stays fp32."""
    from nyegan import fieldops
    from nyegan.dataset import load_dataset
    from nyegan.gan.data import dataset_tensors
    from nyegan.gan.train import load_model, train

    torch.set_num_threads(1)
    last = train(
        dataset, tmp_path / "bf16", dict(TINY_GAN, steps=2, precision="bf16-mixed", accelerator="cpu", images=False)
    )
    model = load_model(last)
    ds = load_dataset(dataset)
    _, cond, L, gbf, cores = dataset_tensors(ds, "train")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fake = model.sample(cond, L, gbf, cores, seed=0)
    assert fake.dtype == torch.float32
    assert float(fieldops.relative_divergence(fake.double(), L.double(), 2).max()) < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1])
def test_sigterm_saves_a_checkpoint_and_the_rerun_resumes_at_that_step(dataset, tmp_path, sig):
    """SIGTERM (a scheduler's preemption, a workflow manager stopping) or SIGUSR1 outside SLURM: the state at the
    current step is saved, the process exits cleanly with 128 + the signal, and the rerun resumes at exactly that
    step."""
    cfg = dict(TINY_GAN, steps=400, checkpoint_every=3, images=False)
    proc = run_python(_script(dataset, cfg), tmp_path, wait=False)
    ckpts = tmp_path / "run" / "checkpoints"
    t0 = time.time()
    try:
        while len(list(ckpts.glob("step*.ckpt"))) < 2:
            assert proc.poll() is None, "training ended before SIGTERM:\n" + proc.stdout.read()[-3000:]
            assert time.time() - t0 < 200, "no checkpoint within 200 s"
            time.sleep(0.2)
        time.sleep(0.3)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, out[-3000:]
    assert "Traceback" not in out
    assert not (tmp_path / "end_rank0.txt").exists()  # stopped before the end
    line = record([x for x in out.splitlines() if x.startswith(f"nyegan train: {sig.name} received")][0])
    saved_path = tmp_path / line.split("checkpoint ")[1].split(" at step")[0]
    saved = torch.load(saved_path, weights_only=True)
    step = saved["global_step"]
    assert line.endswith(f"at step {step}") and saved_path.name == f"step{step:07d}.ckpt"
    assert torch.load(ckpts / "last.ckpt", weights_only=True)["global_step"] == step
    # a step that was not a multiple of checkpoint_every: the state at the signal, not the last periodic save
    periodic = max(torch.load(p, weights_only=True)["global_step"] for p in ckpts.glob("step*.ckpt") if p != saved_path)
    assert step > periodic
    cfg2 = dict(cfg, steps=saved["nyegan_iteration"] + 2)
    run_python(_script(dataset, cfg2), tmp_path, timeout=300)
    assert int((tmp_path / "start_rank0.txt").read_text()) == step
    assert int((tmp_path / "end_rank0.txt").read_text()) == cfg2["steps"] + cfg2["steps"] // 2


def test_new_data_is_never_trained_on_an_old_checkpoint(tmp_path):
    """Add a case to the dataset and rerun training: a fresh run on the new data, the old run kept apart."""
    from _gan_fixtures import write_tiny_cases

    from nyegan.dataset import build_dataset, load_dataset
    from nyegan.gan.run_identity import dataset_fingerprint
    from nyegan.gan.train import load_model, train

    torch.set_num_threads(1)
    ds_path = tiny_dataset(tmp_path)
    cfg = dict(TINY_GAN, steps=2, checkpoint_every=1, images=False)
    run = tmp_path / "run"
    train(ds_path, run, cfg)
    old = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert old["global_step"] == 3 and old["nyegan_run_identity"]["dataset_sha256"] == dataset_fingerprint(
        load_dataset(ds_path)
    )
    # the same data and settings resume (here: a finished run, nothing more to do)
    train(ds_path, run, cfg)
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == old["epoch"]
    assert not list(run.glob("checkpoints.previous-*"))
    # a new boundary (40 deg) enters the sweep; like Snakemake, the rerun removes last.ckpt first, so only older
    # step checkpoints of the previous run remain to be (wrongly) resumed
    nye, meta = write_tiny_cases(tmp_path, thetas=(10.0, 20.0, 30.0, 40.0))
    build_dataset(nye, meta, ds_path, grid=(16, 32), heldout_misorientations=[20.0], validation_fraction=0.2)
    new_ds = load_dataset(ds_path)
    (run / "checkpoints" / "last.ckpt").unlink()
    train(ds_path, run, cfg)
    new = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert new["nyegan_run_identity"]["dataset_sha256"] == dataset_fingerprint(new_ds)
    assert new["global_step"] == 3 and new["nyegan_iteration"] == 2  # a fresh run of 2 steps
    # the weights and normalisation are those of a run on the new data; resuming the old run's step checkpoint
    # (max_steps already reached) would have returned the old weights and the old normalisation buffers
    model = load_model(run / "checkpoints" / "last.ckpt")
    np.testing.assert_allclose(model.cond_mean.numpy(), new_ds["cond_mean"].values, rtol=1e-6)
    assert not np.allclose(old["state_dict"]["cond_mean"].numpy(), new_ds["cond_mean"].values, rtol=1e-6)
    assert not all(torch.equal(new["state_dict"][k], old["state_dict"][k]) for k in old["state_dict"])
    assert 40.0 in new_ds["misorientation_deg"].values[new_ds["split"].values == "train"]
    (previous,) = run.glob("checkpoints.previous-*")
    assert "the dataset changed" in record((previous / "reason.txt").read_text().strip())
    assert (previous / "logs").is_dir() and list(previous.glob("step*.ckpt"))
    assert (
        torch.load(sorted(previous.glob("step*.ckpt"))[-1], weights_only=True)["nyegan_run_identity"]
        == old["nyegan_run_identity"]
    )
    # changed model settings: fresh as well
    train(ds_path, run, dict(cfg, nz=4))
    assert len(list(run.glob("checkpoints.previous-*"))) == 2
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["nyegan_run_identity"]["model"]["nz"] == 4


def test_cpu_training_with_a_fixed_seed_is_reproducible(dataset, tmp_path):
    from nyegan.gan.train import train

    torch.set_num_threads(1)
    cfg = dict(TINY_GAN, steps=4, images=False, accelerator="cpu")
    a = torch.load(train(dataset, tmp_path / "a", cfg), weights_only=True)["state_dict"]
    b = torch.load(train(dataset, tmp_path / "b", cfg), weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = torch.load(train(dataset, tmp_path / "c", dict(cfg, seed=1)), weights_only=True)["state_dict"]
    assert not all(torch.equal(a[k], c[k]) for k in a)  # the seed matters


def test_checkpoints_are_written_next_to_their_target(dataset, tmp_path, monkeypatch):
    """Lightning's own save goes through fsspec, which stages the file in the system temporary folder and moves
    it: a copy when that folder is on another file system, and a kill during the copy leaves a truncated
    checkpoint. nyegan's checkpoint I/O stages it next to the target and renames it."""
    import tempfile

    from lightning.pytorch.plugins.io import TorchCheckpointIO

    from nyegan.gan.checkpoints import AtomicCheckpointIO
    from nyegan.gan.train import train

    made = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        made.append(Path(name).parent)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    torch.set_num_threads(1)
    last = train(dataset, tmp_path / "run", dict(TINY_GAN, steps=2, checkpoint_every=1, images=False))
    assert made and set(made) == {last.parent}  # every checkpoint staged in checkpoints/
    made.clear()
    TorchCheckpointIO().save_checkpoint({"x": torch.zeros(2)}, tmp_path / "plain.ckpt")
    assert made and made[0] != tmp_path  # Lightning's default: staged elsewhere (the system temporary folder)
    made.clear()
    AtomicCheckpointIO().save_checkpoint({"x": torch.zeros(2)}, tmp_path / "atomic.ckpt")
    assert made == [tmp_path] and torch.load(tmp_path / "atomic.ckpt")["x"].shape == (2,)
