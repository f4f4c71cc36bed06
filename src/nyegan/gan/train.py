"""Training entry point: Lightning Trainer set-up (devices, DDP, precision, checkpoints, loggers, SLURM requeue).

Outputs under ``out_dir``: ``checkpoints/step*.ckpt`` every ``checkpoint_every`` optimiser steps and
``checkpoints/last.ckpt`` (always written at the end), ``logs/`` with TensorBoard events, ``metrics.csv``
(CSV logger; the history of earlier, resumed segments in ``metrics.partNNN.csv``) and ``images/epoch_*.png`` (real vs generated every epoch).
Resuming: a rerun continues from ``last.ckpt`` (else the newest ``step*.ckpt``) at the saved step (a finished
run returns at once), but only when the checkpoint was trained on the same dataset content with the same model
and training settings (``nyegan.gan.run_identity``); otherwise the old run is moved to
``checkpoints.previous-<time stamp>/`` and training starts fresh. Under SLURM,
``nyegan.gan.requeue.RequeueOnSignal`` saves ``hpc_ckpt_*.ckpt`` on SIGUSR1, requeues the job, and the requeued run
resumes from that checkpoint.
SIGTERM (and SIGUSR1 outside SLURM) saves a checkpoint and stops with exit status 128 + the signal number
(``nyegan.gan.checkpoints``). Checkpoints are written to a temporary name next to the target and renamed, and
carry the run identity and the provenance record (``nyegan.provenance``).
"""

from __future__ import annotations

import os
import signal
import warnings
from dataclasses import asdict
from pathlib import Path

import torch

from nyegan.gan.config import GanSettings, ModelHParams


def settings_of(cfg) -> GanSettings:
    """``GanSettings`` from a (partial) ``gan`` config section, or as given."""
    return cfg if isinstance(cfg, GanSettings) else GanSettings.from_config(cfg)


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


def build_model(ds, model: ModelHParams | dict | None = None):
    """A fresh ``NyeGAN`` sized for the dataset ``ds`` (xarray, from ``build_dataset``); ``model``: hyper-parameters,
    or a partial ``gan`` section whose missing keys take the schema defaults."""
    from dataclasses import asdict

    from nyegan.dataset.conditions import FEATURES
    from nyegan.gan.module import DataSpec, model_class
    from nyegan.gan.physics import default_w_scale

    hp = model if isinstance(model, ModelHParams) else settings_of(model).model
    dim = int(ds.attrs["dim"])
    scale = torch.as_tensor(ds["alpha_scale"].values)
    train = ds["is_train"].values == 1
    Lmean = float(ds["cell_lengths"].values[train, :dim].mean())
    spec = DataSpec(
        n_cond=len(FEATURES),
        grid=tuple(int(g) for g in ds.attrs["grid"]),
        dim=dim,
        alpha_scale=ds["alpha_scale"].values.tolist(),  # plain lists: checkpoints load with weights_only=True
        cond_mean=ds["cond_mean"].values.tolist(),
        cond_std=ds["cond_std"].values.tolist(),
        w_scale=default_w_scale(scale, Lmean),
        scheme=str(ds.attrs["difference_scheme"]),
    )
    return model_class(hp.family)(asdict(hp), {**asdict(spec), "grid": list(spec.grid)})


def _keep_previous_csv(log_dir: Path) -> None:
    """Lightning's CSVLogger empties metrics.csv of a reused version folder: keep a resumed run's history."""
    rank = int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", os.environ.get("LOCAL_RANK", 0))))
    f = log_dir / "metrics.csv"
    if rank == 0 and f.exists() and f.stat().st_size:
        k = len(list(log_dir.glob("metrics.part*.csv")))
        f.rename(log_dir / f"metrics.part{k:03d}.csv")


def train(dataset_path, out_dir, cfg: dict | None = None, extra_callbacks=()) -> Path:
    """Train (or resume) the conditional GAN on ``dataset_path``; returns the path of ``last.ckpt``.

    ``cfg``: the ``gan`` config section (partial: schema defaults fill the rest) or ``GanSettings``; ``steps`` counts training steps
    (critic updates); Lightning's ``global_step`` counts critic + generator optimiser steps.
    """
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
    from lightning.pytorch.plugins.environments import SLURMEnvironment
    from lightning.pytorch.strategies import DDPStrategy
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from nyegan.gan.checkpoints import AtomicCheckpointIO, PreemptionCheckpoint
    from nyegan.gan.data import NyeDataModule
    from nyegan.gan.requeue import RequeueOnSignal
    from nyegan.gan.run_identity import IdentityStamp, resume_checkpoint, run_identity
    from nyegan.gan.slurm import check_slurm_tasks
    from nyegan.progress import lightning_progress_bar
    from nyegan.provenance import provenance

    settings = settings_of(cfg)
    tr, hp = asdict(settings.trainer), settings.model
    # Lightning's bar on the terminal only (its own writes to sys.stdout, a log file under the workflow); a caller
    # may pass its own progress-bar callback
    bar = [cb for cb in extra_callbacks if isinstance(cb, ProgressBar)]
    extra_callbacks = [cb for cb in extra_callbacks if not isinstance(cb, ProgressBar)]
    if not bar and (terminal_bar := lightning_progress_bar(bool(tr["progress_bar"]))) is not None:
        bar = [terminal_bar]
    check_slurm_tasks(tr["devices"], tr["num_nodes"])  # under SLURM: one process per task, devices × num_nodes
    warnings.filterwarnings("ignore", message=".*no pre-optimization state was saved.*")
    # TensorBoard and CSV share logs/version_0; a resumed run's metrics.csv is kept by _keep_previous_csv
    warnings.filterwarnings("ignore", message=".*Experiment logs directory .* exists and is not empty.*")
    if int(tr["threads"]) > 0:
        torch.set_num_threads(int(tr["threads"]))
    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    seed = hp.seed
    pl.seed_everything(seed, workers=True, verbose=False)

    dm = NyeDataModule(dataset_path, int(tr["batch_size"]), int(tr["steps_per_epoch"]), seed, tr["device_resident"])
    ds = dm.prepare()
    identity = run_identity(ds, settings)
    resume = resume_checkpoint(out_dir, ckpt_dir, identity, slurm=SLURMEnvironment.detect())
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(ds, hp)
    # Lightning counts optimiser steps: critic + generator for the WGAN, one per step for the diffusion model
    steps = int(tr["steps"])
    max_steps = steps if hp.family == "diffusion" else steps + steps // hp.n_critic

    accel = _accelerator(tr["accelerator"])
    world = int(tr["devices"]) * int(tr["num_nodes"]) if isinstance(tr["devices"], int) else None
    strategy = tr["strategy"]
    if strategy in ("auto", "ddp") and (world is None or world > 1 or strategy == "ddp"):
        strategy = DDPStrategy(find_unused_parameters=True, process_group_backend="gloo" if accel == "cpu" else None)
    plugins = [AtomicCheckpointIO()]
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
    stamp = IdentityStamp(identity, provenance("gan", asdict(settings), inputs=[dataset_path]))
    preemption = PreemptionCheckpoint(ckpt_dir)
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
        callbacks=[ckpt_cb, stamp, preemption, RequeueOnSignal(signal.SIGUSR1), *bar, *extra_callbacks],
        logger=loggers,
        plugins=plugins,
        default_root_dir=out_dir,
        log_every_n_steps=int(tr["log_every"]),
        num_sanity_val_steps=0,
        enable_progress_bar=bool(bar),
        enable_model_summary=False,
        use_distributed_sampler=False,
    )
    try:
        trainer.fit(model, datamodule=dm, ckpt_path=resume)
    except SIGTERMException:
        interrupted = preemption.interrupted()
        if interrupted is None:
            raise
        raise interrupted from None
    last = ckpt_dir / "last.ckpt"
    trainer.save_checkpoint(last)  # final state, whatever the checkpoint interval
    return last


def load_model(ckpt_path, map_location="cpu"):
    """The trained ``NyeGAN`` from a checkpoint, in eval mode (``CheckpointError`` for a damaged file)."""
    from nyegan.gan.checkpoints import load_model as _load

    return _load(ckpt_path, map_location=map_location)
