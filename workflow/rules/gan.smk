# Dataset and conditional GAN stages.
# Needs from common.smk: NYE_CASES (case names) and the validated `config` (sections "dataset" and "gan").
from pathlib import Path


rule gan_dataset:
    input:
        nye=expand("results/nye/{case}.nc", case=NYE_CASES),
        meta=expand("results/structures/{case}.json", case=NYE_CASES),
    output:
        "results/dataset.nc",
    params:
        dataset=config["dataset"],
    log:
        "logs/gan/dataset.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/gan_dataset.py"


rule gan_train:
    input:
        "results/dataset.nc",
    output:
        "results/gan/checkpoints/last.ckpt",
    params:
        gan=config["gan"],
        outdir=lambda wc, output: str(Path(output[0]).parent.parent),  # results/gan
    log:
        "logs/gan/train.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        # GPUs per node and nodes for the SLURM executor; Lightning reads devices / num_nodes from params.gan
        gpu=lambda wc: config["gan"]["devices"] if config["gan"]["accelerator"] in ("gpu", "cuda") else 0,
        nodes=lambda wc: config["gan"]["num_nodes"],
        # SLURM: SIGUSR1 90 s before the time limit -> Lightning writes hpc_ckpt_*.ckpt and requeues the job,
        # which resumes from it (nyegan.gan.train)
        slurm_extra="--signal=SIGUSR1@90 --requeue",
    script:
        "../scripts/gan_train.py"


rule gan_generate:
    input:
        ckpt="results/gan/checkpoints/last.ckpt",
        dataset="results/dataset.nc",
    output:
        "results/gan/generated.nc",
    params:
        gan=config["gan"],
    log:
        "logs/gan/generate.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/gan_generate.py"


rule gan_evaluate:
    input:
        generated="results/gan/generated.nc",
        dataset="results/dataset.nc",
    output:
        metrics="results/gan/metrics.json",
        profiles=report(
            "results/gan/mean_profiles.png",
            category="GAN",
            subcategory="Generated vs atomistic",
            caption="../report/gan_profiles.rst",
        ),
        spectra=report(
            "results/gan/power_spectra.png",
            category="GAN",
            subcategory="Generated vs atomistic",
            caption="../report/gan_spectra.rst",
        ),
    params:
        outdir=lambda wc, output: str(Path(output.metrics).parent),
    log:
        "logs/gan/evaluate.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/gan_evaluate.py"


rule gan_benchmark:
    input:
        "results/dataset.nc",
    output:
        json="results/gan/benchmark.json",
        table="results/gan/benchmark.md",
        png=report("results/gan/benchmark_fields.png", category="GAN", caption="../report/gan_benchmark.rst"),
    params:
        gan=config["gan"],
        benchmark=config["benchmark"],
        potential=config["potential"],
        outdir=lambda wc, output: str(Path(output.json).parent),
    log:
        "logs/gan/benchmark.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        gpu=lambda wc: 1 if config["gan"]["accelerator"] in ("gpu", "cuda") else 0,
        runtime=240,
    script:
        "../scripts/gan_benchmark.py"
