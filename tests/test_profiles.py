"""The SLURM profiles as Snakemake reads them: site settings from the environment or the per-user file, the
flags each site expects, and one shared settings reader. Submission against a real SLURM: tests/test_slurm.py."""

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["slurm", "jean-zay", "explor"]


@pytest.fixture
def site(monkeypatch, tmp_path):
    """Render a profile with Snakemake's own profile parser, under the given settings only."""
    from snakemake.profiles import ProfileConfigFileParser

    def render(profile, user=None, **env):
        for key in [k for k in os.environ if k.startswith("NYEGAN_SLURM_")]:
            monkeypatch.delenv(key)
        settings = tmp_path / "slurm.yaml"
        if user is not None:
            settings.write_text(yaml.safe_dump(user))
        monkeypatch.setenv("NYEGAN_SLURM_SETTINGS", str(settings))
        for k, v in env.items():
            monkeypatch.setenv(f"NYEGAN_SLURM_{k.upper()}", str(v))
        with open(ROOT / "profiles" / profile / "config.yaml") as f:
            args = ProfileConfigFileParser().parse(f)
        default = dict(item.split("=", 1) for item in args["default-resources"])
        per_rule = {}
        for item in args["set-resources"]:
            rule, assign = item.split(":", 1)
            key, value = assign.split("=", 1)
            per_rule.setdefault(rule, {})[key] = value
        return args, default, per_rule

    return render


def test_generic_profile_takes_settings_from_env_over_user_file(site):
    _, default, rules = site("slurm")
    assert "slurm_account" not in default and "slurm_partition" not in default  # nothing guessed or hard-coded
    assert rules["relax"]["tasks"] == "8" and rules["relax"]["mpi"] == "'srun --mpi=pmi2 --kill-on-bad-exit=1'"
    _, default, rules = site("slurm", user={"account": "fromfile", "partition": "cpu", "relax_tasks": 4})
    assert default["slurm_account"] == "'fromfile'" and rules["relax"]["tasks"] == "4"
    assert rules["gan_train"]["slurm_account"] == "'fromfile'"  # GPU jobs default to the CPU settings
    _, default, rules = site("slurm", user={"account": "fromfile"}, account="fromenv", gpu_partition="gpu")
    assert default["slurm_account"] == "'fromenv'"
    assert rules["gan_train"]["slurm_partition"] == "'gpu'" and "slurm_partition" not in default


@pytest.mark.parametrize(
    "gpu, partition, constraint, account, qos, cpus",
    [
        ("v100", "gpu_p13", None, "abc@v100", "qos_gpu-t3", "10"),
        ("v100-32g", "gpu_p13", "v100-32g", "abc@v100", "qos_gpu-t3", "10"),
        ("a100", "gpu_p5", "a100", "abc@a100", "qos_gpu_a100-t3", "8"),
        ("h100", "gpu_p6", "h100", "abc@h100", "qos_gpu_h100-t3", "24"),
    ],
)
def test_jean_zay_accounts_partitions_constraints_qos(site, gpu, partition, constraint, account, qos, cpus):
    _, default, rules = site("jean-zay", project="abc", gpu=gpu)
    assert default["slurm_account"] == "'abc@cpu'" and default["slurm_partition"] == "'cpu_p1'"
    assert default["qos"] == "'qos_cpu-t3'" and "--hint=nomultithread" in default["slurm_extra"]
    train = rules["gan_train"]
    assert train["slurm_account"] == f"'{account}'" and train["slurm_partition"] == f"'{partition}'"
    assert train.get("constraint") == (f"'{constraint}'" if constraint else None)
    assert train["qos"] == f"'{qos}'" and train["cpus_per_task"] == cpus
    assert "--hint=nomultithread" in train["slurm_extra"] and "--signal=SIGUSR1@90" in train["slurm_extra"]
    # memory follows the CPUs: no job may ask for --mem or --mem-per-cpu
    assert default["mem_mb"] == "0" and "mem_mb_per_cpu" not in default
    for rule in ("build_structure", "relax", "nye_field", "gan_train"):
        assert rules[rule]["mem_mb"] == "0" and "mem_mb_per_cpu" not in rules[rule]
    rules_with_memory = set(re.findall(r"rule (\w+):(?:(?!\nrule ).)*?mem_mb=", _rules_text(), re.S))
    assert rules_with_memory <= {r for r, res in rules.items() if res.get("mem_mb") == "0"}


def test_jean_zay_qos_and_missing_project(site):
    _, default, rules = site("jean-zay", project="abc", gpu="h100", qos="dev")
    assert default["qos"] == "'qos_cpu-dev'" and rules["gan_train"]["qos"] == "'qos_gpu_h100-dev'"
    _, default, _ = site("jean-zay", project="abc", cpu_qos="qos_cpu-t4")
    assert default["qos"] == "'qos_cpu-t4'"
    with pytest.raises(Exception, match="NYEGAN_SLURM_PROJECT"):
        site("jean-zay")
    with pytest.raises(Exception, match="Jean Zay GPU types"):
        site("jean-zay", project="abc", gpu="k80")


def test_explor_partitions_gres_and_time(site):
    _, default, rules = site("explor")
    assert default["slurm_partition"] == "'std'" and rules["gan_train"]["slurm_partition"] == "'gpu'"
    assert int(default["runtime"]) > 0  # --time on every job
    assert rules["relax"]["tasks"] == "16" and rules["relax"]["runtime"] == "240"
    _, _, rules = site("explor", relax_runtime=600, train_runtime=1200)
    assert rules["relax"]["runtime"] == "600" and rules["gan_train"]["runtime"] == "1200"


def _rules_text() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "workflow" / "rules").glob("*.smk")))


def test_profiles_share_one_settings_reader_and_know_the_rules():
    defs = [yaml.safe_load((ROOT / "profiles" / p / "config.yaml").read_text())["__definitions__"][0] for p in PROFILES]
    assert defs[0] == defs[1] == defs[2]
    rules = set(re.findall(r"^rule (\w+):", _rules_text(), re.M))
    for p in PROFILES:
        profile = yaml.safe_load((ROOT / "profiles" / p / "config.yaml").read_text())
        assert set(profile["set-resources"]) <= rules, p
        assert profile["executor"] == "slurm" and profile["rerun-incomplete"] is True
