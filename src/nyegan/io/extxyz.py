"""Extended XYZ files as ASE and OVITO write them: one or many frames, plain or gzip.

Frame layout: a line with the number of atoms, a comment line of ``key=value`` pairs, then one line per atom.
Keys used: ``Lattice="ax ay az bx by bz cx cy cz"`` (cell vectors as rows, Å; any orientation), ``Origin``
(OVITO; default 0), ``pbc="T T T"`` (default: periodic along the lattice vectors given), ``Properties``
(``name:type:count`` triples, type S string, R real, I integer, L logical; default ``species:S:1:pos:R:3``),
and ``Timestep`` / ``step`` / ``Time`` for the frame's time label. Columns ``pos`` give positions (Å);
``type`` (integer) or ``species`` (element names, numbered 1, 2, ... in sorted order) give the atom type; ``id``
the atom ids (default 1..N); other numeric columns go to ``Structure.extra``. Without a ``Lattice`` the atoms
are placed in a non-periodic box spanning them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import numpy as np

from nyegan.io.lammps_dump import Frame
from nyegan.io.text import (
    FileFormatError,
    LineReader,
    frame_at,
    iter_frames,
    labels_to_ints,
    numeric_column,
)
from nyegan.structure import Structure

_PAIR = re.compile(r'([A-Za-z_][\w:-]*)\s*=\s*("(?:[^"\\]|\\.)*"|\{[^}]*\}|\S+)|([A-Za-z_][\w:-]*)')


def parse_comment(line: str) -> dict[str, str]:
    """``key=value`` pairs of an extended-XYZ comment line (quotes and braces removed; bare keys -> 'T')."""
    out = {}
    for m in _PAIR.finditer(line):
        if m.group(1):
            value = m.group(2)
            if value[:1] in '"{':
                value = value[1:-1]
            out[m.group(1)] = value
        else:
            out[m.group(3)] = "T"
    return {k.lower() if k.lower() in ("lattice", "properties", "pbc", "origin") else k: v for k, v in out.items()}


def _properties(spec: str, reader: LineReader) -> list[tuple[str, str, int]]:
    words = spec.split(":")
    if len(words) % 3:
        raise reader.error(f"Properties must be name:type:count triples, got {spec!r}")
    props = []
    for k in range(0, len(words), 3):
        name, kind, count = words[k], words[k + 1].upper(), words[k + 2]
        if kind not in ("S", "R", "I", "L") or not count.isdigit():
            raise reader.error(f"bad Properties entry {name}:{kind}:{count} (type S, R, I or L; integer count)")
        props.append((name, kind, int(count)))
    return props


def _floats(text: str, n: int, key: str, reader: LineReader) -> np.ndarray:
    try:
        values = np.array([float(w) for w in text.split()])
    except ValueError:
        values = np.array([])
    if values.size != n:
        raise reader.error(f"{key} must hold {n} numbers, got {text!r}")
    return values


def _read_frame(reader: LineReader, index: int) -> Frame | None:
    line = reader.readline()
    while line is not None and not line.strip():
        line = reader.readline()
    if line is None:
        return None
    try:
        n_atoms = int(line.split()[0])
    except (ValueError, IndexError):
        raise reader.error(
            f"expected the number of atoms of an extended XYZ frame, found {line.strip()[:80]!r}"
        ) from None
    comment_line = reader.lineno + 1
    info = parse_comment(reader.expect_line("the comment line of an extended XYZ frame"))
    props = _properties(info.get("properties", "species:S:1:pos:R:3"), reader)
    columns = [name if count == 1 else f"{name}[{k}]" for name, _, count in props for k in range(count)]
    if "pos" not in {p[0] for p in props} and "positions" in {p[0] for p in props}:
        props = [("pos" if p[0] == "positions" else p[0], p[1], p[2]) for p in props]
        columns = [c.replace("positions", "pos") for c in columns]
    first = reader.lineno + 1
    table = reader.read_table(n_atoms, columns, "atoms")
    kinds = {name: (kind, count) for name, kind, count in props}
    if kinds.get("pos") != ("R", 3):
        raise FileFormatError(f"{reader.path}: line {comment_line}: Properties has no 'pos:R:3' column: {props}")
    pos = np.column_stack([numeric_column(table, f"pos[{k}]", reader.path, first) for k in range(3)])
    if "lattice" in info:
        cell = _floats(info["lattice"], 9, "Lattice", reader).reshape(3, 3)
        pbc_default = "T T T"
    else:
        lo, hi = (pos.min(axis=0), pos.max(axis=0)) if n_atoms else (np.zeros(3), np.ones(3))
        cell = np.diag(np.maximum(hi - lo, 0.0) + 10.0)
        info.setdefault("origin", " ".join(str(v - 5.0) for v in lo))
        pbc_default = "F F F"
    origin = _floats(info["origin"], 3, "Origin", reader) if "origin" in info else np.zeros(3)
    pbc_words = info.get("pbc", pbc_default).replace(",", " ").split()
    if len(pbc_words) != 3 or any(w.upper() not in ("T", "F", "TRUE", "FALSE", "1", "0") for w in pbc_words):
        raise FileFormatError(f"{reader.path}: line {comment_line}: pbc must be three of T/F, got {info['pbc']!r}")
    pbc = tuple(w.upper() in ("T", "TRUE", "1") for w in pbc_words)
    if "type" in kinds and kinds["type"][0] == "I":
        grain = numeric_column(table, "type", reader.path, first, int)
    elif "species" in kinds or "type" in kinds:
        grain, _ = labels_to_ints(table["species" if "species" in kinds else "type"].astype(str))
    else:
        grain = np.ones(n_atoms, dtype=np.int64)
    id_key = next((k for k in ("id", "ID", "Identifier") if k in kinds), None)
    ids = numeric_column(table, id_key, reader.path, first, int) if id_key else np.arange(1, n_atoms + 1)
    extra = {}
    for name, kind, count in props:
        if name in ("pos", "species", "type", id_key) or kind not in ("R", "I"):
            continue
        cols = [name] if count == 1 else [f"{name}[{k}]" for k in range(count)]
        values = np.column_stack([numeric_column(table, c, reader.path, first) for c in cols])
        extra[name] = values[:, 0] if count == 1 else values
    time = next((info[k] for k in ("Timestep", "timestep", "step", "Step") if k in info), None)
    try:
        timestep = int(float(time)) if time is not None else index
    except ValueError:
        timestep = index
    order = np.argsort(ids, kind="stable")
    s = Structure(
        positions=pos[order],
        cell=cell,
        grain=grain[order],
        origin=origin,
        pbc=pbc,
        ids=ids[order],
        extra={k: v[order] for k, v in extra.items()},
    )
    return Frame(index, timestep, s)


def iter_extxyz(path: str | os.PathLike) -> Iterator[Frame]:
    """Frames of an extended XYZ file (plain or gzip), one at a time."""
    return iter_frames(path, _read_frame, "an extended XYZ file")


def read_extxyz(path: str | os.PathLike, index: int = 0) -> Structure:
    """One frame (the first by default) of an extended XYZ file."""
    return frame_at(iter_extxyz(path), index, path)


def write_extxyz(path: str | os.PathLike, s: Structure, species: str = "Al", timestep: int | None = None) -> None:
    """Write one frame (atom type as integer ``type`` column, element ``species``), atomically."""
    from nyegan.io.atomic import atomic_path

    lattice = " ".join(f"{v:.10f}" for v in s.cell.ravel())
    origin = " ".join(f"{v:.10f}" for v in s.origin)
    pbc = " ".join("T" if p else "F" for p in s.pbc)
    step = f" Timestep={int(timestep)}" if timestep is not None else ""
    comment = f'Lattice="{lattice}" Origin="{origin}" Properties=species:S:1:pos:R:3:id:I:1:type:I:1 pbc="{pbc}"{step}'
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write(f"{s.n_atoms}\n{comment}\n")
            table = np.column_stack([s.positions, s.ids, s.grain])
            np.savetxt(fh, table, fmt=f"{species} %.10f %.10f %.10f %d %d")
