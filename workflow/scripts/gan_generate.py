"""Snakemake adapter: generate fields for held-out/validation conditions (nyegan.gan.generate.generate)."""

from nyegan.gan.config import GanSettings
from nyegan.gan.generate import generate
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    gen = GanSettings.from_config(snakemake.params.gan).generate
    ds = generate(
        snakemake.input.ckpt,
        snakemake.input.dataset,
        snakemake.output[0],
        n_per_condition=gen.n_per_condition,
        splits=gen.generate_splits,
        seed=gen.seed,
        allow_extrapolation=gen.allow_extrapolation,
        temperature=gen.temperature,
    )
    log.info("%d generated fields -> %s", ds.sizes["sample"], snakemake.output[0])
