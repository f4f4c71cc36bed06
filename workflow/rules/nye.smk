# Stage 3: Nye dislocation-density field of every relaxed case (G-method), PNG map, summary table.

localrules:
    nye_summary,  # one table: runs where Snakemake runs, not as a cluster job


rule nye_field:
    input:
        dump="results/relaxed/{case}.dump",
        record="results/relaxed/{case}.json",
        meta="results/structures/{case}.json",
    output:
        field="results/nye/{case}.nc",
        png=report("results/nye/{case}.png", category="Nye fields", caption="../report/nye_field.rst"),
        atoms="results/nye/{case}.atoms.dump" if config["nye"]["per_atom_dump"] else [],
    params:
        nye=config["nye"],
        potential=config["potential"],
    log:
        "logs/nye/{case}.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/nye_field.py"


rule nye_summary:
    input:
        fields=expand("results/nye/{case}.nc", case=CASES),
    output:
        table="results/nye/summary.csv",
    log:
        "logs/nye/summary.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/nye_summary.py"
