# Dataset and conditional GAN stages.
# Needs from common.smk: NYE_CASES (case names) and the validated `config` (sections "dataset" and "gan").
import json
from pathlib import Path

from nyegan.gan.slurm import train_job

TRAIN_JOB = train_job(config["gan"])  # SLURM tasks, nodes and GPUs of gan_train (nyegan.gan.slurm)

localrules:  # light steps run where Snakemake runs, not as cluster jobs
    gan_dataset,
    gan_evaluate,


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
        gan=json.dumps(config["gan"]),
        outdir=lambda wc, output: str(Path(output[0]).parent.parent),  # results/gan
        srun=TRAIN_JOB.srun,
    log:
        "logs/gan/train.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        # one training process per SLURM task: gan.devices tasks (and GPUs) on each of gan.num_nodes nodes
        **TRAIN_JOB.resources,
        cpus_per_task=1,  # per process; profiles set it per site
    shell:
        # In a SLURM job srun starts the processes (Lightning's SLURMEnvironment: rank = task; SIGUSR1 from the
        # profile's --signal makes it checkpoint and requeue, the requeued job resumes); elsewhere Lightning
        # starts them itself. Messages go to the log, Lightning's bar to the terminal Snakemake runs in (if any).
        "${{SLURM_JOB_ID:+{params.srun} --cpus-per-task={resources.cpus_per_task}}} "
        "python -m nyegan train {input} -o {params.outdir} --settings {params.gan:q} --log {log}"


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
