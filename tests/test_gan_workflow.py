"""The gan rule file runs end to end under Snakemake; the schema fragment and the library agree on options."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _gan_fixtures import SRC, TINY_GAN, write_tiny_cases

ROOT = Path(__file__).resolve().parents[1]


def test_settings_cover_every_schema_key_once():
    # every key of the gan section belongs to exactly one typed settings class (seed also seeds generation)
    from dataclasses import fields

    from nyegan.config import ConfigError, load_schema
    from nyegan.gan.config import DatasetSettings, GanSettings, GenerateSettings, ModelHParams, TrainerSettings

    schema = load_schema()["properties"]
    names = [f.name for cls in (ModelHParams, TrainerSettings, GenerateSettings) for f in fields(cls)]
    assert sorted(set(names)) == sorted(schema["gan"]["properties"])
    assert len(names) == len(set(names)) + 1 and names.count("seed") == 2
    assert [f.name for f in fields(DatasetSettings)] == list(schema["dataset"]["properties"])
    d = GanSettings.defaults()
    assert d.model.nz == schema["gan"]["properties"]["nz"]["default"]
    assert d.trainer.steps == schema["gan"]["properties"]["steps"]["default"]
    with pytest.raises(ConfigError, match="gan.physics"):
        GanSettings.from_config({"physics": "soft"})
    with pytest.raises(ConfigError, match="'stepz' was unexpected"):
        GanSettings.from_config({"stepz": 3})
    with pytest.raises(ConfigError, match="dataset.grid"):
        DatasetSettings.from_config({"dim": 3, "grid": [16, 16]})


def test_checkpoint_saves_typed_hyperparameters(tmp_path):
    import torch

    from nyegan.dataset import build_dataset
    from nyegan.gan.train import build_model

    nye, meta = write_tiny_cases(tmp_path)
    ds = build_dataset(nye, meta, tmp_path / "d.nc", grid=(16, 32), heldout_misorientations=[])
    model = build_model(ds, {"nz": 4, "width_g": 4, "width_d": 4, "depth": 2, "n_down": 2, "embed": 8})
    assert model.hparams["model"]["nz"] == 4 and model.hparams["data"]["dim"] == 2
    # keys not given take the schema default
    from nyegan.gan.config import GanSettings

    assert model.hp.lr_g == GanSettings.defaults().model.lr_g
    ckpt = tmp_path / "m.ckpt"
    torch.save({"hyper_parameters": dict(model.hparams), "state_dict": model.state_dict()}, ckpt)
    loaded = torch.load(ckpt, weights_only=True)  # plain types only
    assert loaded["hyper_parameters"]["model"]["embed"] == 8


@pytest.mark.slow
def test_gan_rules_run_under_snakemake(tmp_path):
    nye, _ = write_tiny_cases(tmp_path / "results")
    cases = sorted(p.stem for p in nye)
    from nyegan.config import section_defaults, top_level_default

    # the rule file alone (no common.smk): give it validated sections, as common.smk would
    defaults = {sec: section_defaults(sec) for sec in ("dataset", "gan", "benchmark")}
    defaults["potential"] = top_level_default("potential")
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
