"""Twist boundaries: Frank's formula, two orthogonal sets of screw dislocations of content 2 sin(θ/2) each."""

import json

import numpy as np
import pytest
from _structures import write_structure_meta
from nye_helpers import relax

from nyegan.nye import compute_nye
from nyegan.structures.twist import build_twist


@pytest.mark.parametrize("axis, angle", [((0, 0, 1), 36.869897645844), ((1, 1, 1), 38.213210701738)])
def test_relaxed_twist_boundary_content_is_screw_frank(axis, angle, tmp_path, al_props):
    a0 = al_props.a0
    s, meta = build_twist(axis, angle, a0=a0, min_size=(12.0, 30.0, 12.0))
    s = relax(s, tmp_path, "twist")
    expected = 2 * np.sin(np.radians(angle) / 2)
    # lines along z (average along z) carry b along z; lines along x (average along x) carry b along x
    for line, component in (("z", 2), ("x", 0)):
        ds = compute_nye(
            s,
            a0,
            reference="grains",
            rotations=meta["rotations"],
            tilt_axis="y",
            average_along=line,
            content="boundaries",
            content_kw={"boundaries": meta["gb_y"]},
        )
        assert abs(ds.attrs["correspondence_angle_deg"]) == pytest.approx(angle, abs=1e-6)
        first, second = (np.array(c["content_per_length"]) for c in json.loads(ds.attrs["burgers_content"]))
        assert abs(first[component]) == pytest.approx(expected, rel=0.01)
        assert np.abs(np.delete(first, component)).max() < 0.01 * expected  # pure screw content
        assert np.allclose(first, -second, atol=1e-9)  # the two boundaries carry opposite content


def test_cli_reads_twist_axis_from_metadata(tmp_path, al_props):
    from nyegan.nye.case import nye_from_files

    a0 = al_props.a0
    angle = 36.869897645844
    s, meta = build_twist((0, 0, 1), angle, a0=a0, min_size=(12.0, 30.0, 12.0))
    relax(s, tmp_path, "twist")  # writes twist.dump
    write_structure_meta(tmp_path / "twist.json", meta)
    ds, _, _ = nye_from_files(tmp_path / "twist.dump", tmp_path / "twist.json", reference="grains", average_along="z")
    content = np.array(json.loads(ds.attrs["burgers_content"])[0]["content_per_length"])
    assert abs(content[2]) == pytest.approx(2 * np.sin(np.radians(angle) / 2), rel=0.01)
