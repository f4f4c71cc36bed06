# nyegan workflow: structures -> LAMMPS relaxation -> Nye fields -> dataset -> GAN -> generate + evaluate; stresses.
# Run: snakemake --cores all              (laptop, default config/config.yaml)
#      snakemake --report report.html     (afterwards: every figure in one self-contained HTML file)
#      snakemake --profile profiles/slurm (SLURM clusters)
# One case:  snakemake --cores 2 results/nye/gb-001-S5-310.nc

configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"  # snakemake --report report.html: every figure, captioned and categorised


include: "workflow/rules/common.smk"
include: "workflow/rules/structures.smk"
include: "workflow/rules/relax.smk"
include: "workflow/rules/nye.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/stress.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        structures=expand("results/structures/{case}.data", case=CASES),
        relaxed=expand("results/relaxed/{case}.dump", case=CASES),
        gb_energies=["results/gb_energies.csv", "results/gb_energies.png"] if GB_CASES else [],
        nye=expand("results/nye/{case}.nc", case=CASES),
        nye_summary="results/nye/summary.csv",
        dataset="results/dataset.nc",
        gan_metrics="results/gan/metrics.json",
        gan_benchmark="results/gan/benchmark.json",
        stress=expand("results/stress/{case}.nc", case=CASES),
        stress_check="results/stress/atomistic_comparison.csv",
        stress_generated="results/stress/generated_metrics.json",
        checks=["results/nye/frank_bilby.png", "results/nye/burgers.png"],
        training=["results/gan/training_curves.png", "results/gan/physics_residuals.png"],
