# Validation and helpers shared by all rule files.
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))  # the package, also when not pip-installed

from snakemake.utils import validate

from nyegan.config import ConfigError, check_config, validate_schema
from nyegan.progress import pass_on_to_jobs

SCHEMA = str(Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")

# Progress bars go to the terminal Snakemake runs in, never into log files; MPI ranks see pipes, so jobs learn
# whether there is one from the environment (nyegan.progress). A job step on a cluster node shows none.
pass_on_to_jobs(remote=workflow.remote_exec)

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
