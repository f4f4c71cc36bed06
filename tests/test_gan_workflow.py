"""The gan rule file runs end to end under Snakemake; the schema fragment and the library agree on options."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _gan_fixtures import SRC, TINY_GAN, write_tiny_cases

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_validate_and_match_the_library():
    from nyegan.config import ConfigError, load_schema, validate_schema
    from nyegan.gan.config import dataset_kwargs
    from nyegan.gan.train import split_options

    schema = load_schema()
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    defaults = {sec: config[sec] for sec in ("dataset", "gan")}
    validate_schema(config)
    for sec in ("dataset", "gan"):
        props = schema["properties"][sec]["properties"]
        assert set(props) == set(defaults[sec])
        assert all(props[k]["default"] == defaults[sec][k] for k in props)
    dataset_kwargs(defaults["dataset"])
    split_options(defaults["gan"])
    with pytest.raises(ConfigError, match="gan.physics"):
        validate_schema({"gan": {"physics": "soft"}})
    with pytest.raises(ValueError, match="unknown gan options"):
        split_options({"stepz": 3})


@pytest.mark.slow
def test_gan_rules_run_under_snakemake(tmp_path):
    nye, _ = write_tiny_cases(tmp_path / "results")
    cases = sorted(p.stem for p in nye)
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    defaults = {sec: config[sec] for sec in ("dataset", "gan")}
    defaults["dataset"].update(grid=[16, 32], heldout_misorientations=[20.0])
    defaults["gan"].update({k: v for k, v in TINY_GAN.items()}, steps=4, accelerator="cpu")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(defaults))
    (tmp_path / "Snakefile").write_text(
        f'configfile: "config.yaml"\nNYE_CASES = {cases!r}\n'
        f'include: "{ROOT / "workflow/rules/gan.smk"}"\n'
        'rule all:\n    input: "results/gan/metrics.json"\n'
    )
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1")
    r = subprocess.run(
        [sys.executable, "-m", "snakemake", "-c1", "--snakefile", "Snakefile"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    for p in (
        "results/dataset.nc",
        "results/gan/checkpoints/last.ckpt",
        "results/gan/generated.nc",
        "results/gan/metrics.json",
        "results/gan/mean_profiles.png",
    ):
        assert (tmp_path / p).exists(), p
