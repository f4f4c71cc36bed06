"""Pre-submission check (nyegan.cluster): sinfo parsing, requests as the executor plugin submits them, and the
decision whether a job can ever start. The same check against a real cluster: tests/test_slurm.py."""

from types import SimpleNamespace

import pytest

from nyegan.cluster import (
    JobsDoNotFit,
    NodeGroup,
    Partition,
    Request,
    check_jobs,
    check_requests,
    gres_gpus,
    parse_minutes,
    parse_sinfo,
    problems,
    request_from_resources,
)

# `sinfo --noheader --all --exact --format=%P|%D|%c|%m|%G|%f|%l|%s` on a Jean Zay-like cluster
SINFO = """\
cpu_p1*|720|40|160000|(null)|(null)|4-04:00:00|1-infinite
gpu_p13|250|40|160000|gpu:4(S:0-1)|v100,v100-16g|4-04:00:00|1-64
gpu_p13|150|40|160000|gpu:v100:4(S:0-1)|v100,v100-32g|4-04:00:00|1-64
gpu_p6|100|96|460000|gpu:h100:4|h100|2-00:00:00|1-infinite
prepost|4|48|3000000|(null)|(null)|20:00:00|1
"""


@pytest.fixture
def jz():
    return parse_sinfo(SINFO)


def test_parse_sinfo(jz):
    assert set(jz) == {"cpu_p1", "gpu_p13", "gpu_p6", "prepost"}
    assert jz["cpu_p1"].default and not jz["gpu_p13"].default
    assert jz["gpu_p13"].node_count == 400 and {g.gpus for g in jz["gpu_p13"].groups} == {4}
    assert jz["gpu_p13"].groups[1].features == {"v100", "v100-32g"}
    assert jz["cpu_p1"].max_minutes == 100 * 60 and jz["prepost"].max_minutes == 20 * 60
    assert jz["gpu_p13"].max_nodes == 64 and jz["cpu_p1"].max_nodes is None and jz["prepost"].max_nodes == 1


@pytest.mark.parametrize(
    "text, minutes",
    [("infinite", None), ("30", 30), ("30:30", 30.5), ("2:00:00", 120), ("1-00:00:00", 1440), ("1-02", 1560)],
)
def test_parse_minutes(text, minutes):
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize(
    "gres, n",
    [("(null)", 0), ("gpu:4", 4), ("gpu:v100:4(S:0-1)", 4), ("gpu:a100:2,mps:200", 2), ("gpu", 1), ("mps:100", 0)],
)
def test_gres_gpus(gres, n):
    assert gres_gpus(gres) == n


def test_requests_read_like_the_executor_plugin():
    relax = request_from_resources("relax", {"mpi": "srun", "tasks": 8, "runtime": 120, "mem_mb_per_cpu": 1000})
    assert (relax.tasks, relax.tasks_per_node, relax.cpus_per_task, relax.mem_mb_per_cpu) == (8, None, 1, 1000)
    train = request_from_resources(
        "gan_train",
        {"mpi": "srun", "nodes": 2, "tasks_per_node": 4, "gres": "gpu:4", "tasks_per_gpu": 0, "cpus_per_task": 10},
    )
    assert (train.tasks, train.tasks_per_node, train.gpus_per_node, train.cpus_per_task) == (8, 4, 4, 10)
    assert train.tasks_resource == "tasks_per_node"
    one = request_from_resources("gan_train", {"mpi": "", "nodes": 1, "gres": "gpu:1", "tasks_per_gpu": 0})
    assert (one.tasks, one.gpus_per_node) == (1, 1)
    # threads stand in for cpus_per_task, values not known yet (<TBD>) are left out
    plain = request_from_resources("nye_field", {"mem_mb": "<TBD>", "runtime": 20}, threads=3)
    assert (plain.tasks, plain.cpus_per_task, plain.mem_mb, plain.minutes) == (1, 3, None, 20.0)


def _msg(req, parts):
    return "\n".join(p.message() for p in problems(req, parts))


def test_too_many_tasks_on_a_small_node_names_rule_resource_and_setting():
    node = {"debug": Partition("debug", (NodeGroup(1, 2, 8000, 1),), default=True)}
    msg = _msg(Request("relax", tasks=8), node)
    assert "rule relax" in msg and "tasks=8" in msg and "at most 2 CPUs" in msg
    assert "NYEGAN_SLURM_RELAX_TASKS" in msg
    assert not problems(Request("relax", tasks=2), node)


def test_mpi_tasks_may_spread_over_nodes_unless_pinned(jz):
    assert not problems(Request("relax", partition="cpu_p1", tasks=80), jz)  # two 40-core nodes
    assert problems(Request("relax", partition="prepost", tasks=96), jz)  # one node per job
    msg = _msg(Request("relax", partition="cpu_p1", tasks=8, tasks_per_node=8, cpus_per_task=10), jz)
    assert "80 CPUs on each of 1 node(s)" in msg


def test_gpu_training_geometry(jz):
    fits = Request("gan_train", partition="gpu_p13", nodes=2, tasks=8, tasks_per_node=4, cpus_per_task=10, gpus_per_node=4)  # fmt: skip
    assert not problems(fits, jz)
    too_many_gpus = Request("gan_train", partition="gpu_p13", nodes=1, tasks=8, tasks_per_node=8, cpus_per_task=5, gpus_per_node=8)  # fmt: skip
    msg = _msg(too_many_gpus, jz)
    assert "gres=gpu:8" in msg and "at most 4 GPUs" in msg and "gan.devices" in msg
    too_many_nodes = Request("gan_train", partition="gpu_p13", nodes=65, tasks=65, gpus_per_node=1)
    assert "nodes=65" in _msg(too_many_nodes, jz) and "gan.num_nodes" in _msg(too_many_nodes, jz)
    wide = Request("gan_train", partition="gpu_p13", nodes=1, tasks=4, tasks_per_node=4, cpus_per_task=24, gpus_per_node=4)  # fmt: skip
    assert "cpus_per_task" not in _msg(wide, jz) and "96 CPUs on each" in _msg(wide, jz)
    assert "cpus_per_task=97" in _msg(Request("gan_train", partition="gpu_p6", cpus_per_task=97), jz)


def test_constraint_partition_memory_and_time(jz):
    assert not problems(Request("gan_train", partition="gpu_p13", constraint="v100-32g", gpus_per_node=4), jz)
    assert not problems(Request("gan_train", partition="gpu_p13", constraint="v100-16g|v100-32g"), jz)
    msg = _msg(Request("gan_train", partition="gpu_p13", constraint="a100"), jz)
    assert "constraint 'a100' matches no node" in msg and "NYEGAN_SLURM_GPU_CONSTRAINT" in msg
    msg = _msg(Request("relax", partition="cpu_p2"), jz)
    assert "partition 'cpu_p2' does not exist" in msg and "NYEGAN_SLURM_PARTITION" in msg
    assert "mem_mb=200000" in _msg(Request("nye_field", mem_mb=200000), jz)  # default partition cpu_p1
    assert "mem_mb_per_cpu=5000 × 40 CPUs" in _msg(Request("relax", tasks=40, tasks_per_node=40, mem_mb_per_cpu=5000), jz)  # fmt: skip
    assert "runtime=1500 min" in _msg(Request("relax", partition="prepost", minutes=1500), jz)
    assert not problems(Request("relax", minutes=6000), jz)


def test_all_problems_reported_once_per_rule_and_resource():
    node = {"debug": Partition("debug", (NodeGroup(1, 2, 8000, 0),), default=True)}
    with pytest.raises(JobsDoNotFit) as err:
        check_requests([Request("relax", tasks=8)] * 7 + [Request("gan_train", cpus_per_task=4)], node)
    text = str(err.value)
    assert "nothing was submitted" in text and "rule relax (7 jobs)" in text and text.count("rule relax") == 1
    assert "rule gan_train: cpus_per_task=4" in text
    check_requests([Request("relax", tasks=2)], node)  # fits: no error


def test_check_jobs_skips_local_and_group_jobs():
    node = {"debug": Partition("debug", (NodeGroup(1, 2, 8000, 0),), default=True)}

    def job(name, local=False, **res):
        return SimpleNamespace(
            rule=SimpleNamespace(name=name), resources=res, threads=1, is_local=local, is_group=lambda: False
        )

    assert check_jobs([job("nye_summary", local=True, tasks=99), job("relax", mpi="srun", tasks=2)], node) == 1
    with pytest.raises(JobsDoNotFit, match="rule relax"):
        check_jobs([job("relax", mpi="srun", tasks=3)], node)
