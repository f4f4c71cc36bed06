# Validation and helpers shared by all rule files.
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))  # the package, also when not pip-installed

from nyegan.config import ConfigError, check_config, validate_schema
from nyegan.progress import pass_on_to_jobs
from nyegan.structures.names import CASE_NAME_PATTERN

# Progress bars go to the terminal Snakemake runs in, never into log files; MPI ranks see pipes, so jobs learn
# whether there is one from the environment (nyegan.progress). A job step on a cluster node shows none.
pass_on_to_jobs(remote=workflow.remote_exec)

try:
    # clear message naming the key, defaults filled in (the same schema snakemake.utils.validate would apply: a
    # second validation costs seconds on a 2,000-case sweep)
    validate_schema(config)
    CASE_SPECS = check_config(config)
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}")

CASES = list(CASE_SPECS)
GB_CASES = [name for name, case in CASE_SPECS.items() if case.kind == "gb"]
DISLOCATION_CASES = [name for name, case in CASE_SPECS.items() if case.kind != "gb"]

# A pattern, not the list of names: an alternation of every case name is matched against every file of the DAG
# (quadratic: 6 min for `snakemake -n` of 2,000 cases). Targets outside the sweep are refused by case_spec.
_unnamed = [c for c in CASES if not re.fullmatch(CASE_NAME_PATTERN, c)]
if _unnamed:
    raise WorkflowError(f"case names outside nyegan.structures.names.CASE_NAME_PATTERN: {_unnamed[:5]}")

wildcard_constraints:
    case=CASE_NAME_PATTERN if CASES else "$^",


def case_spec(wc):
    """The sweep's case of a job's {case} wildcard, or a clear error for a name outside the sweep."""
    try:
        return CASE_SPECS[wc.case]
    except KeyError:
        raise WorkflowError(f"'{wc.case}' is not a case of this sweep (config 'structures'); cases: "
                            f"{', '.join(CASES[:5])}{', ...' if len(CASES) > 5 else ''}") from None

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
