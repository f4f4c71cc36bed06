"""Snakemake adapter: the generative benchmark (nyegan.gan.benchmark.run_benchmark) -> benchmark.json + figure."""

from dataclasses import replace

from nyegan.gan.benchmark import run_benchmark, summary_table
from nyegan.gan.config import GanSettings
from nyegan.scripting import log_to

with log_to(snakemake.log[0]) as log:
    b = snakemake.params.benchmark
    settings = GanSettings.from_config(snakemake.params.gan)
    if b["steps"]:
        settings = replace(settings, trainer=replace(settings.trainer, steps=int(b["steps"])))
    result = run_benchmark(snakemake.input[0], snakemake.params.outdir, settings, folds=b["folds"],
                           seeds=tuple(b["seeds"]), n_samples=b["n_samples"], max_folds=b["max_folds"],
                           potential=snakemake.params.potential, log=log.info,
                           generators=tuple(b["generators"]), temperatures=tuple(b["temperatures"]))  # fmt: skip
    log.info("\n%s", summary_table(result))
