"""Dataset stage: per-case Nye fields + build metadata -> one netCDF with dim ``sample``.

``assemble.build_dataset`` writes it; ``conditions`` encodes the physical conditions as numeric features;
``resample`` maps fields onto the common grid; ``split`` assigns train / validation / held-out;
``augment`` holds the physics-respecting augmentations used during training.
"""

from nyegan.dataset.assemble import build_dataset, load_dataset

__all__ = ["build_dataset", "load_dataset"]
