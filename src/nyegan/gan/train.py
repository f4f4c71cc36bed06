"""Training entry point: Lightning Trainer set-up (devices, DDP, precision, checkpoints, loggers, SLURM requeue).

Outputs under ``out_dir``: ``checkpoints/step*.ckpt`` every ``checkpoint_every`` optimiser steps and
``checkpoints/last.ckpt`` (always written at the end), ``logs/`` with TensorBoard events, ``metrics.csv``
(CSV logger; the history of earlier, resumed segments in ``metrics.partNNN.csv``) and ``images/epoch_*.png`` (real vs generated every epoch).
Resuming: a rerun continues from ``last.ckpt`` (else the newest ``step*.ckpt``) at the saved step (a finished
run returns at once); under
SLURM, ``nyegan.gan.requeue.RequeueOnSignal`` saves ``hpc_ckpt_*.ckpt`` on SIGUSR1, requeues the job, and the
requeued run resumes from that checkpoint.
"""

from __future__ import annotations

import os
import signal
import warnings
from pathlib import Path

import torch

TRAIN_DEFAULTS = dict(
    batch_size=16,
    steps=200,
    steps_per_epoch=50,
    devices=1,
    num_nodes=1,
    accelerator="auto",
    strategy="auto",
    precision="auto",
    checkpoint_every=100,
    log_every=10,
    device_resident=True,
    progress_bar=False,
    threads=1,
)


def split_options(cfg: dict | None) -> tuple[dict, dict]:
    """Split a ``gan`` config section into (trainer options, model options), with defaults filled in."""
    from nyegan.gan.module import DEFAULTS

    cfg = dict(cfg or {})
    cfg.pop("heldout_misorientations", None)
    gen_keys = {"n_per_condition", "generate_splits", "evaluate_split"}
    for k in gen_keys:
        cfg.pop(k, None)
    unknown = set(cfg) - set(TRAIN_DEFAULTS) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown gan options {sorted(unknown)}; known: {sorted(set(TRAIN_DEFAULTS) | set(DEFAULTS))}")
    tr = {k: cfg.get(k, v) for k, v in TRAIN_DEFAULTS.items()}
    mo = {k: cfg[k] for k in DEFAULTS if k in cfg}
    for k in ("batch_size", "steps", "steps_per_epoch", "checkpoint_every"):
        if int(tr[k]) < 1:
            raise ValueError(f"gan.{k} = {tr[k]} must be >= 1")
    return tr, mo


def _accelerator(name: str) -> str:
    if name == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    return name


def _precision(p: str, accel: str) -> str:
    if p != "auto":
        return p
    if accel in ("gpu", "cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16-mixed"
    return "32-true"


def build_model(ds, model_options: dict):
    """A fresh ``NyeGAN`` sized for the dataset ``ds`` (xarray, from ``build_dataset``)."""
    from nyegan.dataset.conditions import FEATURES
    from nyegan.gan.module import NyeGAN
    from nyegan.gan.physics import default_w_scale

    dim = int(ds.attrs["dim"])
    grid = [int(g) for g in ds.attrs["grid"]]
    scale = torch.as_tensor(ds["alpha_scale"].values)
    train = ds["is_train"].values == 1
    Lmean = float(ds["cell_lengths"].values[train, :dim].mean())
    # plain lists: checkpoints then load with torch.load(weights_only=True)
    return NyeGAN(
        len(FEATURES),
        grid,
        dim,
        ds["alpha_scale"].values.tolist(),
        ds["cond_mean"].values.tolist(),
        ds["cond_std"].values.tolist(),
        default_w_scale(scale, Lmean),
        str(ds.attrs["difference_scheme"]),
        **model_options,
    )


def _resume_path(out_dir: Path, ckpt_dir: Path):
    from lightning.pytorch.plugins.environments import SLURMEnvironment

    if SLURMEnvironment.detect() and list(out_dir.glob("hpc_ckpt_*.ckpt")):
        return None  # Lightning resumes from the newest HPC checkpoint itself
    last = ckpt_dir / "last.ckpt"
    if last.exists():
        return str(last)
    steps = sorted(ckpt_dir.glob("step*.ckpt"), key=lambda p: p.stat().st_mtime)
    return str(steps[-1]) if steps else None  # last.ckpt removed (e.g. by a workflow manager): newest step


def _keep_previous_csv(log_dir: Path) -> None:
    """Lightning's CSVLogger empties metrics.csv of a reused version folder: keep a resumed run's history."""
    rank = int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", os.environ.get("LOCAL_RANK", 0))))
    f = log_dir / "metrics.csv"
    if rank == 0 and f.exists() and f.stat().st_size:
        k = len(list(log_dir.glob("metrics.part*.csv")))
        f.rename(log_dir / f"metrics.part{k:03d}.csv")


def train(dataset_path, out_dir, cfg: dict | None = None, extra_callbacks=()) -> Path:
    """Train (or resume) the conditional GAN on ``dataset_path``; returns the path of ``last.ckpt``.

    ``cfg``: the ``gan`` config section (see ``config/config.yaml``); ``steps`` counts training steps
    (critic updates); Lightning's ``global_step`` counts critic + generator optimiser steps.
    """
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
    from lightning.pytorch.plugins.environments import SLURMEnvironment
    from lightning.pytorch.strategies import DDPStrategy

    from nyegan.gan.data import NyeDataModule
    from nyegan.gan.requeue import RequeueOnSignal
    from nyegan.gan.slurm import check_slurm_tasks

    tr, mo = split_options(cfg)
    check_slurm_tasks(tr["devices"], tr["num_nodes"])  # under SLURM: one process per task, devices × num_nodes
    warnings.filterwarnings("ignore", message=".*no pre-optimization state was saved.*")
    # TensorBoard and CSV share logs/version_0; a resumed run's metrics.csv is kept by _keep_previous_csv
    warnings.filterwarnings("ignore", message=".*Experiment logs directory .* exists and is not empty.*")
    if int(tr["threads"]) > 0:
        torch.set_num_threads(int(tr["threads"]))
    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    seed = int(mo.get("seed", 0))
    pl.seed_everything(seed, workers=True, verbose=False)

    dm = NyeDataModule(dataset_path, int(tr["batch_size"]), int(tr["steps_per_epoch"]), seed, tr["device_resident"])
    model = build_model(dm.prepare(), mo)
    n_critic = int(model.opt["n_critic"])
    max_steps = int(tr["steps"]) + int(tr["steps"]) // n_critic

    accel = _accelerator(tr["accelerator"])
    world = int(tr["devices"]) * int(tr["num_nodes"]) if isinstance(tr["devices"], int) else None
    strategy = tr["strategy"]
    if strategy in ("auto", "ddp") and (world is None or world > 1 or strategy == "ddp"):
        strategy = DDPStrategy(find_unused_parameters=True, process_group_backend="gloo" if accel == "cpu" else None)
    plugins = []
    if SLURMEnvironment.detect():
        plugins.append(SLURMEnvironment(auto_requeue=False))  # RequeueOnSignal checkpoints at a batch end instead

    ckpt_cb = ModelCheckpoint(
        dirpath=ckpt_dir,
        filename="step{step:07d}",
        every_n_train_steps=int(tr["checkpoint_every"]),
        save_last=True,
        save_top_k=-1,
        auto_insert_metric_name=False,
    )
    _keep_previous_csv(out_dir / "logs" / "version_0")
    loggers = [TensorBoardLogger(out_dir, name="logs", version=0), CSVLogger(out_dir, name="logs", version=0)]
    trainer = pl.Trainer(
        accelerator=accel,
        devices=tr["devices"],
        num_nodes=int(tr["num_nodes"]),
        strategy=strategy,
        precision=_precision(tr["precision"], accel),
        max_steps=max_steps,
        max_epochs=-1,
        callbacks=[ckpt_cb, RequeueOnSignal(signal.SIGUSR1), *extra_callbacks],
        logger=loggers,
        plugins=plugins or None,
        default_root_dir=out_dir,
        log_every_n_steps=int(tr["log_every"]),
        num_sanity_val_steps=0,
        enable_progress_bar=bool(tr["progress_bar"]),
        enable_model_summary=False,
        use_distributed_sampler=False,
    )
    trainer.fit(model, datamodule=dm, ckpt_path=_resume_path(out_dir, ckpt_dir))
    last = ckpt_dir / "last.ckpt"
    trainer.save_checkpoint(last)  # final state, whatever the checkpoint interval
    return last


def load_model(ckpt_path, map_location="cpu"):
    """The trained ``NyeGAN`` from a checkpoint, in eval mode."""
    from nyegan.gan.module import NyeGAN

    p = Path(ckpt_path)
    if not p.exists():
        raise FileNotFoundError(f"checkpoint {p} not found: train first (nyegan train, or the workflow rule gan_train)")
    model = NyeGAN.load_from_checkpoint(p, map_location=map_location)
    model.eval()
    return model
