"""LightningDataModule: the whole dataset as tensors, resident on the training device when it fits.

Batches are drawn by index from device tensors (no DataLoader workers, no host-to-device copies per step).
Each DDP rank draws its own random batches from a generator seeded by (seed, rank, epoch); the iterable
has a fixed length (``steps_per_epoch``) so every rank runs the same number of steps.
A batch is ``(alpha, cond, lengths, gb_frac, cores)``: alpha (B, 3, 3, *grid) 1/Å, raw condition features,
cell lengths (B, dim) Å, boundary fractions (B, 2), dislocation cores (B, K, 3: x_frac, y_frac, sign; NaN none).
"""

from __future__ import annotations

import time

import lightning.pytorch as pl
import numpy as np
import torch

from nyegan.dataset import load_dataset


def dataset_tensors(ds, split: str | tuple[str, ...]) -> tuple[torch.Tensor, ...]:
    """(alpha, cond, lengths, gb_frac, cores) float32 tensors of the samples in ``split``."""
    splits = (split,) if isinstance(split, str) else tuple(split)
    sel = np.isin(ds["split"].values.astype(str), splits)
    dim = int(ds.attrs["dim"])
    return (
        torch.from_numpy(ds["alpha"].values[sel].astype(np.float32)),
        torch.from_numpy(ds["cond"].values[sel].astype(np.float32)),
        torch.from_numpy(ds["cell_lengths"].values[sel, :dim].astype(np.float32)),
        torch.from_numpy(ds["gb_frac"].values[sel].astype(np.float32)),
        torch.from_numpy(ds["cores"].values[sel].astype(np.float32)),
    )


class RandomBatches:
    """Iterable of ``length`` random batches (with replacement) drawn from tensors on one device.

    ``wait_s`` accumulates the time spent producing batches (the data-wait time of the training loop).
    """

    def __init__(self, tensors, batch_size: int, length: int, seed: int, epoch_fn=None):
        self.tensors, self.batch_size, self.length, self.seed = tensors, batch_size, length, seed
        self.epoch = 0
        self.epoch_fn = epoch_fn
        self.wait_s = 0.0
        self.n_batches = 0

    def __len__(self):
        return self.length

    def __iter__(self):
        dev = self.tensors[0].device
        epoch = self.epoch_fn() if self.epoch_fn is not None else self.epoch
        g = torch.Generator(device=dev).manual_seed(self.seed + 7919 * epoch)
        self.epoch += 1
        n = self.tensors[0].shape[0]
        for _ in range(self.length):
            t0 = time.perf_counter()
            idx = torch.randint(0, n, (self.batch_size,), generator=g, device=dev)
            batch = tuple(t.index_select(0, idx) for t in self.tensors)
            self.wait_s += time.perf_counter() - t0
            self.n_batches += 1
            yield batch


class OneBatch:
    """Iterable holding a single batch (the whole validation split)."""

    def __init__(self, batch):
        self.batch = batch

    def __len__(self):
        return 1

    def __iter__(self):
        yield self.batch


class NyeDataModule(pl.LightningDataModule):
    def __init__(
        self, dataset_path, batch_size: int = 16, steps_per_epoch: int = 50, seed: int = 0, device_resident: bool = True
    ):
        super().__init__()
        self.dataset_path = dataset_path
        self.batch_size = batch_size
        self.steps_per_epoch = steps_per_epoch
        self.seed = seed
        self.device_resident = device_resident
        self.ds = None
        self.train_batches = None

    def prepare(self):
        """Load the dataset (idempotent); returns the xarray dataset (statistics are read from it)."""
        if self.ds is None:
            self.ds = load_dataset(self.dataset_path)
            if int(self.ds["is_train"].sum()) == 0:
                raise ValueError(f"{self.dataset_path}: no training samples (all held out / validation)")
        return self.ds

    def _device(self):
        if self.trainer is not None and self.device_resident:
            return self.trainer.strategy.root_device
        return torch.device("cpu")

    def setup(self, stage=None):
        ds = self.prepare()
        dev = self._device()
        train = dataset_tensors(ds, "train")
        val = dataset_tensors(ds, "validation")
        if dev.type == "cuda":
            need = sum(t.numel() * t.element_size() for t in train + val)
            free, _ = torch.cuda.mem_get_info(dev)
            if need > 0.5 * free:
                dev = torch.device("cpu")  # does not fit comfortably: stay on the host
        self.train_t = tuple(t.to(dev) for t in train)
        self.val_t = tuple(t.to(dev) for t in val) if val[0].shape[0] else None

    def train_dataloader(self):
        rank = self.trainer.global_rank if self.trainer is not None else 0
        trainer = self.trainer
        self.train_batches = RandomBatches(
            self.train_t,
            self.batch_size,
            self.steps_per_epoch,
            self.seed + 104729 * rank,
            epoch_fn=(lambda: trainer.current_epoch) if trainer is not None else None,
        )
        return self.train_batches

    def val_dataloader(self):
        if self.val_t is None:
            return []
        return OneBatch(self.val_t)
