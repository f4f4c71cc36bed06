"""Case names match the workflow's wildcard pattern, and nothing else a rule writes does."""

import re
from pathlib import Path

import yaml

from nyegan.config import expand_cases, validate_schema
from nyegan.structures.names import CASE_NAME_PATTERN

ROOT = Path(__file__).resolve().parents[1]


def test_every_case_of_the_configs_matches_the_pattern_and_no_other_output_does():
    names = []
    for cfg in ("config.yaml", "study.yaml"):
        names += list(expand_cases(validate_schema(yaml.safe_load((ROOT / "config" / cfg).read_text()))))
    extra = {"structures": {"grain_boundaries": [{"axis": [0, 0, 1], "planes": [[11, 1, 0]]}],
                            "gb_dislocations": [{"axis": [1, 1, 0], "plane": [1, -1, 3], "character": "edge",
                                                 "distance": 6.25}]}}  # fmt: skip
    names += list(expand_cases(validate_schema(extra)))
    assert any("_" in n for n in names) and any("." in n for n in names)  # multi-digit indices, decimal distance
    for n in names:
        assert re.fullmatch(CASE_NAME_PATTERN, n), n
    # file stems of other rules' outputs in the same folders are never a case: no rule is ambiguous
    for stem in ("generated", "dataset", "summary", "atomistic_comparison", "generated_metrics",
                 "gb-001-S5-310.atomistic", "gbdisl-110-S11-1m13-edge-quadrupole-d6.25.atomistic"):  # fmt: skip
        assert not re.fullmatch(CASE_NAME_PATTERN, stem), stem
