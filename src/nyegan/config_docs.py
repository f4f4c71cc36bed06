"""``config/README.md``, generated from the config schema: one table row per key (type, default, unit, meaning).

Run ``nyegan config-docs -o config/README.md`` after editing the schema; a test fails when the file is stale.
Units come from the schema's ``x-unit`` annotation of each key.
"""

from __future__ import annotations

import json

from nyegan.config import load_schema

HEADER = """# Configuration keys

Generated from `workflow/schemas/config.schema.yaml` by `nyegan config-docs -o config/README.md`; do not edit by
hand. A workflow config (`config/config.yaml`, or any file passed with `--configfile`) sets only what differs from
these defaults; unknown keys are rejected before any job runs, with the key named. Lengths in Å, energies in eV,
angles in degrees.
"""


def _resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        ref = node["$ref"].split("/")[-1]
        node = {**defs[ref], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _type(node: dict, defs: dict) -> str:
    node = _resolve(node, defs)
    t = node.get("type")
    if "enum" in node:
        return " or ".join(json.dumps(v) for v in node["enum"])
    if isinstance(t, list):
        return " or ".join(t)
    if t == "array":
        items = _resolve(node.get("items", {}), defs)
        n = ""
        if node.get("minItems") is not None and node.get("minItems") == node.get("maxItems"):
            n = f"{node['minItems']} × "
        inner = _type(items, defs) if items.get("type") == "array" else items.get("type", "object")
        return f"list of {n}{inner}"
    return t or "object"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _default(node: dict, required: bool) -> str:
    if "default" in node:
        return json.dumps(node["default"], ensure_ascii=False)
    return "(required)" if required else "(optional)"


def _rows(node: dict, path: str, defs: dict, out: list, required: bool = False, top: bool = False) -> None:
    node = _resolve(node, defs)
    props = node.get("properties")
    if props is None and node.get("type") == "array" and isinstance(node.get("items"), dict):
        items = _resolve(node["items"], defs)
        if items.get("properties"):
            out.append((path, "list of mappings", _default(node, required), "", _cell(node.get("description", ""))))
            _rows(items, f"{path}[]", defs, out, top=True)
            return
    if props is None:
        out.append(
            (
                path,
                _type(node, defs),
                _default(node, required),
                node.get("x-unit", ""),
                _cell(node.get("description", "")),
            )
        )
        return
    if not top:
        out.append((path, "mapping", "", "", _cell(node.get("description", ""))))
    needed = set(node.get("required", []))
    for key, sub in props.items():
        _rows(sub, f"{path}.{key}" if path else key, defs, out, required=key in needed)


def render_markdown(schema: dict | None = None) -> str:
    """The config reference as Markdown."""
    schema = schema or load_schema()
    defs = schema.get("$defs", {})
    lines = [HEADER]
    for section, node in schema["properties"].items():
        rows: list = []
        _rows(node, section, defs, rows, top=True)
        desc = _resolve(node, defs).get("description", "")
        lines.append(f"## `{section}`\n")
        if desc and len(rows) > 1:
            lines.append(_cell(desc) + "\n")
        lines.append("| key | type | default | unit | meaning |")
        lines.append("|---|---|---|---|---|")
        for key, typ, default, unit, meaning in rows:
            lines.append(f"| `{key}` | {_cell(typ)} | {_cell(default)} | {unit} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
