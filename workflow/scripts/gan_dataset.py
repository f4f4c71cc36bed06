"""Snakemake adapter: per-case Nye fields + metadata -> results/dataset.nc (nyegan.dataset.build_dataset)."""

from nyegan.dataset import build_dataset
from nyegan.gan.config import DatasetSettings
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    settings = DatasetSettings.from_config(snakemake.params.dataset)
    ds = build_dataset(
        list(snakemake.input.nye), list(snakemake.input.meta), snakemake.output[0], **settings.build_kwargs()
    )
    log.info("%d samples -> %s", ds.sizes["sample"], snakemake.output[0])
