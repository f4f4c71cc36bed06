"""Test helper: builder metadata written as a structures-stage file (contract-checked), as `nyegan build` does."""

from nyegan.contracts import STRUCTURE


def write_structure_meta(path, meta: dict, potential: str = "Al_mm.eam.fs", element: str = "Al") -> dict:
    """Write ``meta`` (a builder's metadata) with the potential keys that ``build_case`` adds."""
    return STRUCTURE.write(path, {"potential": potential, "element": element, **meta})
