# Validation and helpers shared by all rule files.
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))  # the package, also when not pip-installed

from snakemake.utils import validate

from nyegan.config import ConfigError, check_config, validate_schema

SCHEMA = str(Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")

# Progress bars (nyegan.progress) go to the terminal Snakemake runs in, never into log files. The MPI ranks of a
# relax job see pipes, not that terminal, so jobs run here inherit what Snakemake itself sees; a job step on a
# cluster node writes to files: no bars. A value the user set wins.
if workflow.remote_exec:
    os.environ["NYEGAN_PROGRESS"] = "0"
else:
    os.environ.setdefault("NYEGAN_PROGRESS", "1" if sys.stderr.isatty() else "0")

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
