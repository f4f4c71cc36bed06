"""Workflow configuration: the schema, validation with defaults, physical checks, and expansion into named cases.

The JSON schema (``nyegan/schemas/config.schema.yaml``, also reachable as ``workflow/schemas/config.schema.yaml``)
is the one source of every default: the workflow, the CLI and Python callers all get their settings through
:func:`validate_schema` / :func:`validate_section` / :func:`section_defaults`. Every error names the offending key
and what is allowed. ``config/README.md`` is generated from the schema (``nyegan.config_docs``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from nyegan.csl import enumerate_tilt_boundaries, nearest_tilt_boundary, tilt_boundary, twofold_reference
from nyegan.structures.dislocation import default_arrangement
from nyegan.structures.names import (
    dislocation_case_name,
    gb_case_name,
    gb_dislocation_case_name,
    twist_case_name,
)
from nyegan.structures.twist import twist_angles


class ConfigError(ValueError):
    """A configuration problem, with the key path in the message."""


def schema_path() -> Path:
    """The configuration's JSON schema (YAML), shipped inside the package."""
    return Path(str(resources.files("nyegan") / "schemas" / "config.schema.yaml"))


@lru_cache(maxsize=1)
def _schema_cached() -> dict:
    return yaml.safe_load(schema_path().read_text())


def load_schema(path: Path | None = None) -> dict:
    """The schema as a dict (a fresh copy: callers may modify it)."""
    return copy.deepcopy(_schema_cached()) if path is None else yaml.safe_load(Path(path).read_text())


def _key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _fill_defaults(validator_class):
    """A jsonschema validator class that also writes schema defaults into the instance."""
    import jsonschema

    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def validate_schema(config: dict, schema: dict | None = None) -> dict:
    """Validate ``config`` against the schema, fill defaults in place, and return it; ConfigError on failure."""
    import jsonschema

    schema = schema or load_schema()
    if not isinstance(config, dict):
        raise ConfigError(f"the configuration must be a mapping of keys to values, got {type(config).__name__}")
    cls = _fill_defaults(jsonschema.validators.validator_for(schema))
    errors = list(cls(schema).iter_errors(config))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        where = _key_path(err.absolute_path)
        what = err.message
        if err.validator == "additionalProperties":
            allowed = sorted(err.schema.get("properties", {}))
            what += f"; allowed keys here: {', '.join(allowed)}"
        elif err.validator == "oneOf":
            what = "give exactly one of 'planes', 'misorientations' or 'misorientation_range'"
        raise ConfigError(f"config key '{where}': {what}")
    return config


def validate_section(section: str, values: dict | None) -> dict:
    """Validate one config section (e.g. ``"relax"``) against its schema and return a copy with every default
    filled in; ConfigError names ``section.key`` on failure."""
    return validate_schema({section: copy.deepcopy(values or {})}, _top_level_only(section))[section]


def _top_level_only(section: str) -> dict:
    schema = load_schema()
    if section not in schema["properties"]:
        raise KeyError(f"no config section {section!r}; sections: {sorted(schema['properties'])}")
    return {**schema, "properties": {section: schema["properties"][section]}}


def section_defaults(section: str) -> dict:
    """Every default of a config section (``"relax"``, ``"nye"``, ``"gan"``, ...), from the schema."""
    return validate_section(section, {})


def top_level_default(key: str):
    """Default of a top-level key (``potential``, ``element``, ``seed``)."""
    return copy.deepcopy(_schema_cached()["properties"][key]["default"])


def yaml_problem(exc) -> str:
    """A YAML parse error as one line: where (line, column) and what, without the parser's context dump."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"malformed YAML{where}: {problem}" + (f" ({context})" if context else "")


def load_config(path: str | Path) -> dict:
    """Read a YAML config file (clear error on malformed YAML) and validate it."""
    try:
        config = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {yaml_problem(exc)}") from None
    validate_schema(config)
    check_config(config)
    return config


@dataclass
class Case:
    """One structure of the sweep: a stable name, its kind and the builder parameters."""

    name: str
    kind: str  # "gb" | "dislocation" | "gb_dislocation"
    params: dict = field(default_factory=dict)


def _twist_angles(spec: dict) -> list[tuple[float, int, float | None]]:
    """(angle, Σ, requested angle) of the CSL twist rotations requested by ``spec``."""
    options = twist_angles(spec["axis"], spec["sigma_max"])
    if "planes" in spec:
        raise ValueError("twist boundaries lie normal to the axis: give misorientations or misorientation_range")
    if "misorientations" in spec:
        return [min(options, key=lambda o: (abs(o[0] - m), o[1])) + (m,) for m in spec["misorientations"]]
    lo, hi = spec["misorientation_range"]
    return [o + (None,) for o in options if lo <= o[0] <= hi]


def _gb_boundaries(spec: dict, where: str):
    axis = spec["axis"]
    try:
        twofold_reference(axis)
        if spec.get("type", "tilt") == "twist":
            found = _twist_angles(spec)
            if not found:
                raise ValueError(f"no twist rotation with Σ <= {spec['sigma_max']} in the range; widen it")
            return found
        if "planes" in spec:
            return [(tilt_boundary(axis, p), None) for p in spec["planes"]]
        if "misorientations" in spec:
            return [nearest_tilt_boundary(axis, m, spec["sigma_max"]) + (m,) for m in spec["misorientations"]]
        lo, hi = spec["misorientation_range"]
        if lo > hi:
            raise ValueError(f"misorientation_range [{lo}, {hi}] has min > max")
        found = [(b, None) for b in enumerate_tilt_boundaries(axis, spec["sigma_max"]) if lo <= b.angle_deg <= hi]
        if not found:
            raise ValueError(
                f"no boundary with Σ <= {spec['sigma_max']} between {lo} and {hi} degrees; "
                f"widen the range or raise sigma_max"
            )
        return found
    except ValueError as exc:
        raise ConfigError(f"config key '{where}': {exc}") from None


def expand_cases(config: dict) -> dict[str, Case]:
    """All cases of the sweep by name (validated config). Boundaries chosen twice are built once."""
    structures = config["structures"]
    cases: dict[str, Case] = {}
    for i, spec in enumerate(structures["grain_boundaries"]):
        if spec.get("type", "tilt") == "twist":
            for angle, sigma, _ in _gb_boundaries(spec, f"structures.grain_boundaries[{i}]"):
                name = twist_case_name(spec["axis"], sigma, angle)
                cases.setdefault(
                    name, Case(name, "gb", {"axis": list(spec["axis"]), "misorientation": angle, "twist": True})
                )
            continue
        for entry in _gb_boundaries(spec, f"structures.grain_boundaries[{i}]"):
            boundary = entry[0]
            name = gb_case_name(boundary.axis, boundary.sigma, boundary.plane)
            cases.setdefault(name, Case(name, "gb", {"axis": list(boundary.axis), "plane": list(boundary.plane)}))
    for i, spec in enumerate(structures["dislocations"]):
        arrangement = spec.get("arrangement") or default_arrangement(spec["character"])
        name = dislocation_case_name(spec["character"], arrangement, spec.get("line"))
        if name in cases:
            raise ConfigError(f"config key 'structures.dislocations[{i}]': duplicate of case '{name}'")
        cases[name] = Case(
            name,
            "dislocation",
            {
                "character": spec["character"],
                "arrangement": arrangement,
                "line": spec.get("line"),
                "min_size": spec.get("min_size", structures["min_size"]),
            },
        )
    for i, spec in enumerate(structures["gb_dislocations"]):
        where = f"structures.gb_dislocations[{i}]"
        ((boundary, _),) = _gb_boundaries({"axis": spec["axis"], "planes": [spec["plane"]]}, where)
        arrangement = spec.get("arrangement", "quadrupole")
        if arrangement not in ("quadrupole", "dipole"):
            raise ConfigError(
                f"config key '{where}.arrangement': near a boundary only 'quadrupole' or 'dipole' "
                f"are available, got '{arrangement}'"
            )
        _check_line_along_axis(spec["character"], boundary.axis, f"{where}.character")
        name = gb_dislocation_case_name(
            boundary.axis, boundary.sigma, boundary.plane, spec["character"], arrangement, spec["distance"]
        )
        cases[name] = Case(
            name,
            "gb_dislocation",
            {
                "axis": list(boundary.axis),
                "plane": list(boundary.plane),
                "character": spec["character"],
                "arrangement": arrangement,
                "distance": float(spec["distance"]),
                "min_size": spec.get("min_size", structures["min_size"]),
            },
        )
    return cases


def _check_line_along_axis(character: str, axis, key: str) -> None:
    """A dislocation near a tilt boundary runs along the tilt axis: refuse a character no a0/2<110> Burgers
    vector has about that axis (e.g. screw about [001]) before anything is built."""
    problem = _line_along_axis_problem(character, tuple(int(v) for v in axis))
    if problem:
        raise ConfigError(f"config key '{key}': {problem}")


@cache
def _line_along_axis_problem(character: str, axis: tuple) -> str | None:
    """Why no ``character`` dislocation line runs along ``axis`` (None if one does); cached: a sweep repeats a few
    (character, axis) pairs over many distances."""
    from nyegan.structures.combined import gb_slip_system

    z = np.asarray(axis, float) / np.linalg.norm(axis)
    x = np.cross(z, [0.0, 0.0, 1.0] if abs(z[2]) < 0.9 else [1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    try:
        gb_slip_system(character, np.array([x, np.cross(z, x), z]))
    except ValueError as exc:
        return str(exc)
    return None


def check_config(config: dict) -> dict[str, Case]:
    """Physical checks beyond the schema (potential exists, planes contain axes, cell sizes and Nye grids within
    their limits, held-out misorientations present in the sweep); returns the cases. Nothing is built."""
    from nyegan.potentials import resolve_potential

    try:
        potential = resolve_potential(config["potential"], config["element"])
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(f"config key 'potential': {exc}") from None
    cases = expand_cases(config)
    if not cases:
        raise ConfigError(
            "config key 'structures': no structures requested; add grain_boundaries, dislocations or gb_dislocations"
        )
    check_cell_sizes(config, cases, potential)
    check_heldout(config, cases)
    return cases


def _lattice_constant(potential) -> float:
    """a0 (Å) from the potential file's header, else computed with LAMMPS (cached)."""
    from nyegan.potentials.files import eam_lattice_constant

    a0 = eam_lattice_constant(potential.path, potential.element)
    if a0 is None:
        from nyegan.potentials import cubic_properties

        a0 = cubic_properties(potential).a0
    return a0


def check_cell_sizes(config: dict, cases: dict[str, Case], potential) -> None:
    """Refuse cells beyond ``structures.max_atoms`` and Nye grids beyond ``nye.max_memory_gb``, estimated from
    the cell geometry (:mod:`nyegan.structures.size`) without building anything."""
    from nyegan.grid_memory import check_grid_memory
    from nyegan.structures.combined import check_core_separation
    from nyegan.structures.size import atom_count, case_lengths

    a0 = _lattice_constant(potential)
    s, nye = config["structures"], config["nye"]
    avg = {"x": 0, "y": 1, "z": 2}.get(nye["average_along"])
    for name, case in cases.items():
        try:
            lengths = case_lengths(case, a0, s["min_size"])
        except ValueError as exc:  # e.g. a dislocation line outside its glide plane
            raise ConfigError(f"config key 'structures': case '{name}': {exc}") from None
        box = " x ".join(f"{v:.1f}" for v in lengths)
        if case.kind == "gb_dislocation":  # two grains of equal thickness along y
            try:
                check_core_separation(lengths[1] / 2.0, case.params["distance"])
            except ValueError as exc:
                raise ConfigError(f"config key 'structures.gb_dislocations': case '{name}': {exc}") from None
        n = atom_count(lengths, a0)
        if n > s["max_atoms"]:
            raise ConfigError(
                f"config key 'structures.max_atoms': case '{name}' would hold about {n:,} atoms (box {box} Å) > "
                f"structures.max_atoms = {s['max_atoms']:,}; lower its min_size or raise structures.max_atoms"
            )
        shape = [max(3, int(round(v / nye["spacing"]))) for k, v in enumerate(lengths) if k != avg]
        try:
            check_grid_memory(shape, nye["spacing"], nye["max_memory_gb"], f"case '{name}' (box {box} Å)")
        except ValueError as exc:
            raise ConfigError(f"config key 'nye.spacing': {exc}") from None


def case_misorientation(case: Case) -> float | None:
    """Tilt angle (degrees) of a boundary case as the dataset sees it; None for dislocations and twist cells
    (left out of the dataset)."""
    if case.kind not in ("gb", "gb_dislocation") or case.params.get("twist"):
        return None
    return tilt_boundary(case.params["axis"], case.params["plane"]).angle_deg


def check_heldout(config: dict, cases: dict[str, Case], tol_deg: float = 0.05) -> None:
    """Every ``dataset.heldout_misorientations`` entry must match a boundary of the sweep (same tolerance as the
    dataset stage), and something must be left to train on."""
    held = config.get("dataset", {}).get("heldout_misorientations")
    if not held:
        return
    angles = {name: case_misorientation(c) for name, c in cases.items()}
    available = sorted({round(a, 2) for a in angles.values() if a is not None})
    for k, h in enumerate(held):
        if not any(a is not None and abs(a - h) <= tol_deg for a in angles.values()):
            raise ConfigError(
                f"config key 'dataset.heldout_misorientations[{k}]': {h}° matches no tilt boundary of the sweep "
                f"(misorientations: {available or 'none'}); choose among them, or [] to hold out none"
            )
    left = [n for n, c in cases.items() if not c.params.get("twist")]
    left = [n for n in left if angles[n] is None or all(abs(angles[n] - h) > tol_deg for h in held)]
    if not left:
        raise ConfigError(
            "config key 'dataset.heldout_misorientations': every case of the sweep is held out, nothing is left "
            "to train on; hold out fewer misorientations"
        )
