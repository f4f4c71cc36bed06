# Stage 2: LAMMPS relaxation of every case (GB translation/deletion search for boundaries), MPI-parallel.
# Each job runs `{resources.mpi} -n {resources.tasks} python -m mpi4py -m nyegan relax ...`; the `mpi` resource
# is `mpiexec` locally (default below) and `srun` on SLURM (set by the profile / executor plugin).

import json as _json

RELAX = config["relax"]  # validated: every default filled in from the schema

localrules:
    gb_energy_table,  # a table and a plot: runs where Snakemake runs, not as a cluster job


rule relax:
    input:
        data="results/structures/{case}.data",
        meta="results/structures/{case}.json",
    output:
        dump="results/relaxed/{case}.dump",
        json="results/relaxed/{case}.json",
    log:
        "logs/relax/{case}.log",
    params:
        potential=config["potential"],
        element=config["element"],
        settings=_json.dumps(RELAX),
    threads: RELAX["omp_threads"]
    resources:
        mpi="mpiexec",
        tasks=RELAX["mpi_tasks"],
        mem_mb=2000,
        runtime=60,
    conda:
        "../../envs/nyegan.yaml"
    shell:
        "OMP_NUM_THREADS={threads} {resources.mpi} -n {resources.tasks} python -m mpi4py -m nyegan relax "
        "{input.data} --metadata {input.meta} --potential {params.potential:q} --element {params.element} "
        "--settings {params.settings:q} --log {log} -o {output.dump}"


rule gb_energy_table:
    input:
        expand("results/relaxed/{case}.json", case=GB_CASES),
    output:
        csv="results/gb_energies.csv",
        png=report("results/gb_energies.png", category="Grain boundaries",
                   caption="../report/gb_energies.rst"),
    log:
        "logs/relax/gb_energies.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/relax_gb_table.py"
