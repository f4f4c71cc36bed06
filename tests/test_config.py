"""A bad configuration stops early with a message naming the key and what is allowed."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nyegan.config import ConfigError, check_config, load_config, validate_schema

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_default_config_is_valid_and_covers_the_required_sweep():
    config = load_config(ROOT / "config" / "config.yaml")
    cases = check_config(config)
    gbs = [c for c in cases.values() if c.kind == "gb"]
    assert len(gbs) >= 3 and len({tuple(c.params["axis"]) for c in gbs}) >= 2
    characters = {c.params["character"] for c in cases.values() if c.kind == "dislocation"}
    assert {"edge", "screw"} <= characters
    assert any(c.kind == "gb_dislocation" for c in cases.values())


def test_defaults_are_filled():
    config = validate_schema({"structures": {"dislocations": [{"character": "edge"}]}})
    assert config["potential"] == "Al_mm.eam.fs"
    assert config["structures"]["min_size"] == [20.0, 60.0, 8.0]
    (case,) = check_config(config).values()
    assert case.params["arrangement"] == "quadrupolar" and case.name == "disl-edge-quadrupolar"


@pytest.mark.parametrize(
    "text, key, hint",
    [
        ("potential: NoSuch.eam.fs\nstructures: {dislocations: [{character: edge}]}", "potential", "Al_mm.eam.fs"),
        ("potential: Cu_zhou.eam.alloy\nstructures: {dislocations: [{character: edge}]}", "potential", "'Al'"),
        (
            "structures: {grain_boundaries: [{axis: [0,0,1], misorientations: [190]}]}",
            "structures.grain_boundaries[0].misorientations[0]",
            "maximum",
        ),
        (
            "structures: {grain_boundaries: [{axis: [0,0,1], misorientation_range: [-5, 30]}]}",
            "structures.grain_boundaries[0].misorientation_range[0]",
            "minimum",
        ),
        (
            "structures: {grain_boundaries: [{axis: [0,0,1], planes: [[3, 1.5, 0]]}]}",
            "structures.grain_boundaries[0].planes[0][1]",
            "integer",
        ),
        (
            "structures: {grain_boundaries: [{axis: [1,1,0], planes: [[1,1,3]]}]}",
            "structures.grain_boundaries[0]",
            "(1 -1 3)",
        ),
        ("structures: {min_size: [10, -4, 8], dislocations: [{character: edge}]}", "structures.min_size[1]", "minimum"),
        ("structures: {min_size: [10, 0, 8], dislocations: [{character: edge}]}", "structures.min_size[1]", "minimum"),
        (
            "structures: {gb_dislocations: [{axis: [1,1,0], plane: [1,-1,3], character: edge, distance: 0}]}",
            "structures.gb_dislocations[0].distance",
            "minimum",
        ),
        ("structures: {dislocations: [{character: edge, colour: red}]}", "structures.dislocations[0]", "colour"),
        ("potentail: Al_mm.eam.fs\nstructures: {dislocations: [{character: edge}]}", "(top level)", "potential"),
        ("structures: {dislocations: [{character: wedge}]}", "structures.dislocations[0].character", "screw"),
        (
            "structures: {grain_boundaries: [{axis: [1,2,3], planes: [[1,1,-1]]}]}",
            "structures.grain_boundaries[0]",
            "2-fold",
        ),
        (
            "structures: {grain_boundaries: [{axis: [0,0,1], planes: [[3,1,0]], misorientations: [30]}]}",
            "structures.grain_boundaries[0]",
            "exactly one",
        ),
        (
            "structures: {grain_boundaries: [{axis: [0,0,1], misorientation_range: [10, 12], sigma_max: 5}]}",
            "structures.grain_boundaries[0]",
            "widen",
        ),
        ("structures: {}", "structures", "no structures"),
        (
            "structures: {gb_dislocations: [{axis: [1,1,0], plane: [1,-1,3], character: edge, distance: 9, "
            "arrangement: quadrupolar}]}",
            "structures.gb_dislocations[0].arrangement",
            "dipole",
        ),
        (  # no a0/2<110> lies along [001]: a screw line cannot run along that tilt axis
            "structures: {gb_dislocations: [{axis: [0,0,1], plane: [3,1,0], character: screw, distance: 9}]}",
            "structures.gb_dislocations[0].character",
            "screw",
        ),
    ],
)
def test_bad_config_names_key(tmp_path, text, key, hint):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    message = str(err.value)
    assert f"'{key}'" in message and hint in message


def test_twist_boundaries_by_angle():
    config = validate_schema(
        {
            "structures": {
                "grain_boundaries": [
                    {"type": "twist", "axis": [0, 0, 1], "misorientations": [36.0]},
                    {"type": "twist", "axis": [1, 1, 1], "misorientation_range": [30, 61], "sigma_max": 7},
                ]
            }
        }
    )
    names = sorted(check_config(config))
    assert names == ["twist-001-S5-36p87", "twist-111-S3-60p00", "twist-111-S7-38p21"]


def test_twist_with_planes_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"'structures.grain_boundaries\[0\]'.*misorientations"):
        load_config(
            _write(tmp_path, "structures: {grain_boundaries: [{type: twist, axis: [0,0,1], planes: [[0,0,1]]}]}")
        )


def test_malformed_yaml(tmp_path):
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_config(_write(tmp_path, "structures: [unclosed\n  - x"))


def test_snakemake_stops_before_any_job(tmp_path):
    bad = _write(
        tmp_path, yaml.safe_dump({"structures": {"grain_boundaries": [{"axis": [1, 1, 0], "planes": [[1, 1, 3]]}]}})
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--cores",
            "1",
            "--configfile",
            str(bad),
            "--directory",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "structures.grain_boundaries[0]" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()


def test_config_reference_is_generated_from_the_schema():
    # config/README.md is the schema rendered; regenerate with `nyegan config-docs -o config/README.md`
    from nyegan.config_docs import render_markdown

    assert (ROOT / "config" / "README.md").read_text() == render_markdown(), (
        "config/README.md is stale: run `nyegan config-docs -o config/README.md`"
    )
    text = render_markdown()
    assert "| `relax.gb_search.ftol` | number | 0.0001 | eV/Å |" in text
    assert "| `structures.grain_boundaries[].axis` | list of 3 × integer | (required) |" in text
