"""Typed settings of the dataset and GAN stages, built from the validated ``dataset`` and ``gan`` config sections.

The schema (``nyegan/schemas/config.schema.yaml``) declares every key and default; these frozen dataclasses have
no defaults of their own. The ``gan`` section is split by purpose: :class:`ModelHParams` (architecture, losses,
optimiser, augmentation: the LightningModule's saved hyper-parameters), :class:`TrainerSettings` (devices,
steps, checkpoints, logging) and :class:`GenerateSettings` (what ``generate`` produces). Every key of the section
belongs to exactly one of them (``seed`` also seeds generation).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from nyegan.config import ConfigError, validate_section, yaml_problem


@dataclass(frozen=True)
class DatasetSettings:
    """Assembly of per-case Nye fields into the training dataset (see the schema's ``dataset`` section)."""

    dim: int
    grid: tuple[int, ...]
    scheme: str
    project: bool
    heldout_misorientations: tuple[float, ...] | None
    heldout_cases: tuple[str, ...]
    validation_fraction: float
    align_x: bool

    @classmethod
    def from_config(cls, section: dict | None) -> DatasetSettings:
        c = validate_section("dataset", section)
        if len(c["grid"]) != c["dim"]:
            raise ConfigError(f"config key 'dataset.grid': {c['grid']} has {len(c['grid'])} entries but dataset.dim = "
                              f"{c['dim']}; give one grid size per dimension")  # fmt: skip
        held = c["heldout_misorientations"]
        return cls(
            dim=c["dim"],
            grid=tuple(c["grid"]),
            scheme=c["scheme"],
            project=c["project"],
            heldout_misorientations=None if held is None else tuple(float(h) for h in held),
            heldout_cases=tuple(c["heldout_cases"]),
            validation_fraction=c["validation_fraction"],
            align_x=c["align_x"],
        )

    def build_kwargs(self) -> dict:
        """Keyword arguments of :func:`nyegan.dataset.build_dataset`."""
        d = asdict(self)
        d["heldout_misorientations"] = (
            None if self.heldout_misorientations is None else list(self.heldout_misorientations)
        )
        return d


@dataclass(frozen=True)
class ModelHParams:
    """Hyper-parameters of the conditional generator (saved in every checkpoint)."""

    family: str
    physics: str
    nz: int
    noise_channels: int
    width_g: int
    width_d: int
    depth: int
    n_down: int
    embed: int
    lr_g: float
    lr_d: float
    beta1: float
    beta2: float
    n_critic: int
    gp_weight: float
    drift: float
    r1_weight: float
    spectral_norm: bool
    rec_weight: float
    rec_samples: int
    diffusion_sample_steps: int
    penalty_div: float
    penalty_mean: float
    penalty_content: float
    content_width: float
    augment_shift: bool
    augment_mirror_x: bool
    augment_mirror_z: bool
    align_slabs: bool
    wall_map: bool
    wall_residual: bool
    core_residual: bool
    localise: bool
    periodic_x: bool
    band_limit_A: float
    in_plane_2d: bool
    seed: int
    images: bool
    secondary_wall_map: bool
    rec_aligned: bool
    wall_model: str
    secondary_amplitude: float
    secondary_row_offset_A: float

    @classmethod
    def from_saved(cls, saved: dict) -> ModelHParams:
        """The hyper-parameters saved in a checkpoint; keys the schema gained after it was written take their
        schema defaults (the defaults live in the schema only), except those in ``BEHAVIOUR_BEFORE`` whose default
        changes what a model computes: they take the value that reproduces the model as it was trained. Keys the
        schema has since lost are ignored."""
        return _pick(cls, {**validate_section("gan", {}), **BEHAVIOUR_BEFORE, **saved})


# options added with a default that changes a trained network's output: a checkpoint saved before them was trained
# without them
BEHAVIOUR_BEFORE = {"core_residual": False}


@dataclass(frozen=True)
class TrainerSettings:
    """Lightning Trainer set-up: devices, DDP, precision, steps, checkpoints, logging."""

    batch_size: int
    steps: int
    steps_per_epoch: int
    devices: int
    num_nodes: int
    accelerator: str
    strategy: str
    precision: str
    checkpoint_every: int
    log_every: int
    device_resident: bool
    progress_bar: bool
    threads: int


@dataclass(frozen=True)
class GenerateSettings:
    """Generation: fields per condition, the dataset splits whose conditions are generated, the seed, whether
    conditions outside the training range are allowed, and the temperature of the random draws."""

    n_per_condition: int
    generate_splits: tuple[str, ...]
    seed: int
    allow_extrapolation: bool
    temperature: float


def _pick(cls, c: dict):
    return cls(**{f.name: tuple(c[f.name]) if isinstance(c[f.name], list) else c[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class GanSettings:
    """The whole ``gan`` section, typed and split by purpose."""

    model: ModelHParams
    trainer: TrainerSettings
    generate: GenerateSettings

    @classmethod
    def from_config(cls, section: dict | None) -> GanSettings:
        c = validate_section("gan", section)
        return cls(model=_pick(ModelHParams, c), trainer=_pick(TrainerSettings, c), generate=_pick(GenerateSettings, c))

    @classmethod
    def defaults(cls) -> GanSettings:
        return cls.from_config({})


def read_sections(path, gan_overrides: dict | None = None) -> dict:
    """The ``dataset`` and ``gan`` sections of a YAML/JSON config file (other sections are ignored), validated;
    ``None`` gives the defaults. ``gan_overrides`` (keys of the ``gan`` section) are set over the file's before
    validation."""
    if path is None:
        gan = GanSettings.from_config(dict(gan_overrides)) if gan_overrides else GanSettings.defaults()
        return {"dataset": DatasetSettings.from_config({}), "gan": gan}
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"config file {p} not found")
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        import yaml

        try:
            cfg = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: {yaml_problem(exc)}") from None
    else:
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}: malformed JSON: {exc}") from None
    gan = {**(cfg.get("gan") or {}), **(gan_overrides or {})}
    return {"dataset": DatasetSettings.from_config(cfg.get("dataset")), "gan": GanSettings.from_config(gan)}
