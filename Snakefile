# nyegan workflow: structures -> LAMMPS relaxation -> Nye fields -> dataset -> GAN -> generate + evaluate.
# Run: snakemake --cores all            (laptop, default config/config.yaml)
#      snakemake --profile profiles/slurm (SLURM clusters)
# One case:  snakemake --cores 2 results/structures/gb-001-S5-310.data

configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/structures.smk"
include: "workflow/rules/nye.smk"


rule all:
    input:
        structures=expand("results/structures/{case}.data", case=CASES),
