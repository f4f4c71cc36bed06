"""Training throughput through Lightning vs a plain PyTorch loop, same model, same step code, same data.

Both loops call ``NyeGAN.training_step`` on batches from the same device-resident ``RandomBatches``; the plain
loop supplies the optimisers and ``backward`` itself. Rounds alternate (plain, Lightning, ...) so machine
noise hits both; medians are printed with the ratio (Lightning / plain, steps/s) and the data-wait time
per step. Usage: PYTHONPATH=src python benchmarks/bench_gan.py [--steps 40 --rounds 3 --threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch


def make_dataset(root: Path, grid) -> Path:
    from nyegan.dataset import build_dataset
    from nyegan.gan import synthetic

    synthetic.write_gb_series(root, thetas=(10.0, 16.0, 22.0, 28.0), seeds_per_theta=3, grid=tuple(grid))
    nye = sorted((root / "nye").glob("*.nc"))
    meta = [root / "structures" / (p.stem + ".json") for p in nye]
    return (
        build_dataset(nye, meta, root / "dataset.nc", grid=tuple(grid), heldout_misorientations=[])
        and root / "dataset.nc"
    )


def plain_loop(ds, opts, batch, steps, warmup, device):
    from nyegan.gan.data import RandomBatches, dataset_tensors
    from nyegan.gan.train import build_model

    torch.manual_seed(0)
    m = build_model(ds, opts).to(device)
    opt_g, opt_d = m.configure_optimizers()
    m.optimizers = lambda: (opt_g, opt_d)
    m.manual_backward = lambda loss: loss.backward()
    m.toggle_optimizer = lambda o: None
    m.untoggle_optimizer = lambda o: None
    m.log_dict = lambda *a, **k: None
    m._rng = torch.Generator(device=device).manual_seed(0)
    it = RandomBatches(tuple(t.to(device) for t in dataset_tensors(ds, "train")), batch, steps + warmup, 0)
    t0 = None
    for k, b in enumerate(it):
        if k == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            w0 = it.wait_s
        m.training_step(b, k)
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return steps / dt, (it.wait_s - w0) / steps


def lightning_loop(ds_path, ds, opts, batch, steps, warmup, device, loggers: bool):
    import lightning.pytorch as pl

    from nyegan.gan.data import NyeDataModule
    from nyegan.gan.train import build_model

    class Clock(pl.Callback):
        def on_train_batch_start(self, trainer, module, b, idx):
            if idx == warmup:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                self.t0 = time.perf_counter()
                self.w0 = trainer.datamodule.train_batches.wait_s

        def on_train_end(self, trainer, module):
            if device.type == "cuda":
                torch.cuda.synchronize()
            self.dt = time.perf_counter() - self.t0
            self.wait = trainer.datamodule.train_batches.wait_s - self.w0

    torch.manual_seed(0)
    m = build_model(ds, dict(opts, images=False))
    dm = NyeDataModule(ds_path, batch, steps + warmup, 0)
    clock = Clock()
    n_critic = m.hp.n_critic
    total = steps + warmup
    tmp = tempfile.mkdtemp()
    if loggers:
        from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

        lg = [TensorBoardLogger(tmp, name="l"), CSVLogger(tmp, name="l")]
    else:
        lg = False
    tr = pl.Trainer(
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1,
        precision="32-true",
        max_steps=total + total // n_critic,
        logger=lg,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=[clock],
        default_root_dir=tmp,
        log_every_n_steps=10,
    )
    tr.fit(m, datamodule=dm)
    return steps / clock.dt, clock.wait / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--grid", type=int, nargs=2, default=[32, 64])
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    from nyegan.dataset import load_dataset

    root = Path(tempfile.mkdtemp())
    ds_path = make_dataset(root, args.grid)
    ds = load_dataset(ds_path)
    opts = dict(width_g=args.width, width_d=args.width)
    res = {"plain": [], "lightning": [], "lightning+loggers": []}
    waits = {k: [] for k in res}
    for r in range(args.rounds):
        for name in res:
            if name == "plain":
                sps, w = plain_loop(ds, opts, args.batch, args.steps, args.warmup, device)
            else:
                sps, w = lightning_loop(
                    ds_path, ds, opts, args.batch, args.steps, args.warmup, device, loggers=name.endswith("loggers")
                )
            res[name].append(sps)
            waits[name].append(w)
            print(f"round {r} {name:18s} {sps:7.3f} steps/s  data wait {w * 1e6:8.1f} us/step", flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"\ndevice {device}, threads {args.threads}, grid {args.grid}, batch {args.batch}, width {args.width}")
    for k in res:
        print(
            f"{k:18s} median {med[k]:7.3f} steps/s   data wait median {statistics.median(waits[k]) * 1e6:8.1f} us/step"
        )
    print(f"ratio lightning / plain          = {med['lightning'] / med['plain']:.3f}")
    print(f"ratio lightning+loggers / plain  = {med['lightning+loggers'] / med['plain']:.3f}")


if __name__ == "__main__":
    main()
