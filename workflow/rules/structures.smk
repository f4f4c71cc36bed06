# Stage 1: build every case of the sweep (LAMMPS data + JSON metadata).


rule build_structure:
    output:
        data="results/structures/{case}.data",
        meta="results/structures/{case}.json",
    params:
        case=lambda wc: {"kind": case_spec(wc).kind, "params": case_spec(wc).params},  # one callable per job
        potential=config["potential"],
        element=config["element"],
        min_size=config["structures"]["min_size"],
        overlap_cutoff=config["structures"]["overlap_cutoff"],
        seed=config["seed"],
    log:
        "logs/structures/{case}.log",
    conda:
        "../../envs/nyegan.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/build_structure.py"
