# Stress stage: spectral Field Dislocation Mechanics elastic solve of every Nye field and of the generated fields
# (nyegan.stress; docs/stress.md), PNG maps, and the atomistic check against the LAMMPS per-atom virial stress.
# Needs from common.smk: CASES, NYE_CASES and the validated `config` (sections "stress", "potential", "element").
# Targets: results/stress/{case}.nc (+ .png), results/stress/atomistic_comparison.csv, results/stress/generated.nc,
# results/stress/generated_metrics.json (generated vs atomistic stress error, needs results/stress/dataset.nc).


localrules:  # a table and a small JSON: run where Snakemake runs, not as cluster jobs
    stress_comparison,
    stress_generated_metrics,


rule stress_field:
    # One job per case: the FDM solve and, on the same field, its check against the LAMMPS virial stress of the
    # relaxed cell (one job, not two: fewer jobs to plan and to submit on a large sweep; docs/cluster.md).
    input:
        field="results/nye/{case}.nc",
        dump="results/relaxed/{case}.dump",
    output:
        field="results/stress/{case}.nc",
        png=report(
            "results/stress/{case}.png",
            category="Stresses",
            subcategory="FDM stress per case",
            caption="../report/stress_field.rst",
        ),
        json="results/stress/{case}.atomistic.json",
        atomistic_png=report(
            "results/stress/{case}.atomistic.png",
            category="Stresses",
            subcategory="FDM vs LAMMPS virial",
            caption="../report/stress_atomistic.rst",
        ),
    params:
        stress=config["stress"],
        potential=config["potential"],
        element=config["element"],
    log:
        "logs/stress/{case}.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/stress_field.py"


rule stress_comparison:
    input:
        expand("results/stress/{case}.atomistic.json", case=CASES),
    output:
        table="results/stress/atomistic_comparison.csv",
    log:
        "logs/stress/comparison.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/stress_comparison.py"


rule stress_generated:
    input:
        field="results/gan/generated.nc",
        references=expand("results/nye/{case}.nc", case=NYE_CASES),
    output:
        field="results/stress/generated.nc",
        png=report(
            "results/stress/generated.png",
            category="Stresses",
            subcategory="Generated fields",
            caption="../report/stress_generated.rst",
        ),
    params:
        stress=config["stress"],
        potential=config["potential"],
        element=config["element"],
    log:
        "logs/stress/generated.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/stress_field.py"


rule stress_dataset:
    input:
        field="results/dataset.nc",
        references=expand("results/nye/{case}.nc", case=NYE_CASES),
    output:
        field="results/stress/dataset.nc",
        png="results/stress/dataset.png",
    params:
        stress=config["stress"],
        potential=config["potential"],
        element=config["element"],
    log:
        "logs/stress/dataset.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/stress_field.py"


rule stress_generated_metrics:
    input:
        generated="results/stress/generated.nc",
        dataset="results/stress/dataset.nc",
        generated_field="results/gan/generated.nc",
        dataset_field="results/dataset.nc",
    output:
        metrics="results/stress/generated_metrics.json",
        png=report(
            "results/stress/generated_vs_atomistic.png",
            category="Stresses",
            subcategory="Generated fields",
            caption="../report/stress_generated_metrics.rst",
        ),
    log:
        "logs/stress/generated_metrics.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/stress_generated_metrics.py"
