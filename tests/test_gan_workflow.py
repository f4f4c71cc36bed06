"""The gan rule file runs end to end under Snakemake; the schema fragment and the library agree on options."""

import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from _gan_fixtures import SRC, TINY_GAN, write_tiny_cases

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_validate_and_match_the_library():
    from nyegan.gan.config import dataset_kwargs
    from nyegan.gan.train import split_options

    schema = yaml.safe_load((ROOT / "workflow/schemas/gan.schema.yaml").read_text())
    defaults = yaml.safe_load((ROOT / "config/gan_defaults.yaml").read_text())
    jsonschema.validate(defaults, schema)
    for sec in ("dataset", "gan"):
        props = schema["properties"][sec]["properties"]
        assert set(props) == set(defaults[sec])
        assert all(props[k]["default"] == defaults[sec][k] for k in props)
    dataset_kwargs(defaults["dataset"])
    split_options(defaults["gan"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gan": {"physics": "soft"}}, schema)
    with pytest.raises(ValueError, match="unknown gan options"):
        split_options({"stepz": 3})


@pytest.mark.slow
def test_gan_rules_run_under_snakemake(tmp_path):
    nye, _ = write_tiny_cases(tmp_path / "results")
    cases = sorted(p.stem for p in nye)
    defaults = yaml.safe_load((ROOT / "config/gan_defaults.yaml").read_text())
    defaults["dataset"].update(grid=[16, 32], heldout_misorientations=[20.0])
    defaults["gan"].update({k: v for k, v in TINY_GAN.items()}, steps=4, accelerator="cpu")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(defaults))
    (tmp_path / "Snakefile").write_text(
        f'configfile: "config.yaml"\nNYE_CASES = {cases!r}\n'
        f'include: "{ROOT / "workflow/rules/gan.smk"}"\n'
        'rule all:\n    input: "results/gan/metrics.json"\n')
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "snakemake", "-c1", "--snakefile", "Snakefile"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    for p in ("results/dataset.nc", "results/gan/checkpoints/last.ckpt", "results/gan/generated.nc",
              "results/gan/metrics.json", "results/gan/mean_profiles.png"):
        assert (tmp_path / p).exists(), p
