# Figures made only for the report (snakemake --report report.html): physics checks of the Nye fields and the
# training curves of the GAN. Every figure of the report is an output flagged with report(...) in its stage's rule
# file, with a caption in workflow/report/; a new figure needs only that (tests/test_report.py lists what a report
# of the demo must hold).
# Needs from common.smk: CASES and NYE_CASES.


localrules:  # figures of finished outputs: run where Snakemake runs, not as cluster jobs
    nye_checks,
    gan_training_figures,


rule nye_checks:
    input:
        fields=expand("results/nye/{case}.nc", case=CASES),
        meta=expand("results/structures/{case}.json", case=CASES),
    output:
        frank_bilby="results/nye/frank_bilby.csv",
        frank_bilby_png=report(
            "results/nye/frank_bilby.png", category="Physics checks", caption="../report/frank_bilby.rst"
        ),
        burgers="results/nye/burgers.csv",
        burgers_png=report("results/nye/burgers.png", category="Physics checks", caption="../report/burgers.rst"),
    log:
        "logs/nye/checks.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/nye_checks.py"


rule gan_training_figures:
    input:
        "results/gan/checkpoints/last.ckpt",  # Lightning's CSV log is written beside it (results/gan/logs)
    output:
        curves=report(
            "results/gan/training_curves.png",
            category="GAN",
            subcategory="Training",
            caption="../report/gan_training_curves.rst",
        ),
        residuals=report(
            "results/gan/physics_residuals.png",
            category="GAN",
            subcategory="Training",
            caption="../report/gan_physics_residuals.rst",
        ),
    params:
        log_dir="results/gan/logs/version_0",
    log:
        "logs/gan/training_figures.log",
    conda:
        "../../envs/nyegan.yaml"
    script:
        "../scripts/gan_training_figures.py"
