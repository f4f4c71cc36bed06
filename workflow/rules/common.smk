# Validation and helpers shared by all rule files.
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))  # the package, also when not pip-installed

from snakemake.utils import validate

from nyegan.config import ConfigError, check_config, validate_schema

SCHEMA = str(Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")

try:
    validate_schema(config)  # clear message naming the key; then snakemake's own validation fills defaults
    validate(config, SCHEMA, set_default=True)
    CASE_SPECS = check_config(config)
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}")

CASES = list(CASE_SPECS)
GB_CASES = [name for name, case in CASE_SPECS.items() if case.kind == "gb"]
DISLOCATION_CASES = [name for name, case in CASE_SPECS.items() if case.kind != "gb"]

wildcard_constraints:
    case="|".join(re.escape(c) for c in CASES) if CASES else "$^",

NYE_CASES = CASES  # every relaxed case has a Nye field, and all of them feed the dataset


onstart:
    # Under the SLURM executor: before anything is submitted, every job must fit the partition it is sent to
    # (a job asking more tasks, CPUs or GPUs than any node has would wait in the queue forever; nyegan.cluster).
    if workflow.executor_plugin is not None and workflow.executor_plugin.name == "slurm":
        from nyegan.cluster import check_jobs

        try:
            check_jobs(workflow.dag.needrun_jobs())
        except RuntimeError as exc:  # JobsDoNotFit, or sinfo could not be run
            raise WorkflowError(str(exc))
