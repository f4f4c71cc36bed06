"""LAMMPS text dump files: one or many snapshots, orthogonal, restricted or general triclinic boxes, gzip.

Reading streams one snapshot at a time (:func:`iter_dump`); each atom block is parsed in blocks of lines by a C
parser, so a 10^7-atom snapshot loads in seconds and a long trajectory never sits in memory at once.
Columns may come in any order with any extra per-atom columns; positions are taken from, in this order of
preference, unwrapped ``xu yu zu``, ``x y z``, scaled unwrapped ``xsu ysu zsu`` or scaled ``xs ys zs``; image
flags ``ix iy iz`` unwrap wrapped positions. Atom types may be numbers or type labels (text, mapped to 1, 2, ...
in sorted order). Atoms are returned sorted by id. A truncated or malformed file raises
:class:`~nyegan.io.text.FileFormatError` naming the file and the line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from nyegan.io.atomic import atomic_path
from nyegan.io.text import (
    FileFormatError,
    LineReader,
    frame_at,
    iter_frames,
    labels_to_ints,
    numeric_column,
)
from nyegan.structure import Structure

POSITION_SETS = (
    (("xu", "yu", "zu"), False),
    (("x", "y", "z"), False),
    (("xsu", "ysu", "zsu"), True),
    (("xs", "ys", "zs"), True),
)


class Frame(NamedTuple):
    """One snapshot of a trajectory: its index in the file, its timestep and its atoms."""

    index: int
    timestep: int
    structure: Structure


def _cell_from_bounds(bounds: np.ndarray, triclinic: bool) -> tuple[np.ndarray, np.ndarray]:
    if not triclinic:
        lo, hi = bounds[:, 0], bounds[:, 1]
        return lo, np.diag(hi - lo)
    xy, xz, yz = bounds[:, 2]
    xlo = bounds[0, 0] - min(0.0, xy, xz, xy + xz)
    xhi = bounds[0, 1] - max(0.0, xy, xz, xy + xz)
    ylo = bounds[1, 0] - min(0.0, yz)
    yhi = bounds[1, 1] - max(0.0, yz)
    zlo, zhi = bounds[2, 0], bounds[2, 1]
    cell = np.array([[xhi - xlo, 0, 0], [xy, yhi - ylo, 0], [xz, yz, zhi - zlo]])
    return np.array([xlo, ylo, zlo]), cell


def _floats(reader: LineReader, line: str, n: int, what: str) -> list[float]:
    words = line.split()
    try:
        values = [float(w) for w in words[:n]]
    except ValueError:
        values = []
    if len(values) != n:
        raise reader.error(f"expected {n} numbers ({what}), found {line.strip()[:80]!r}")
    return values


def _read_box(reader: LineReader, item: str) -> tuple[np.ndarray, np.ndarray, tuple[bool, bool, bool]]:
    words = item.split()[3:]
    flags = words[-3:]
    if len(flags) != 3 or any(len(f) != 2 for f in flags):
        raise reader.error(f"box boundary flags must be three pairs like 'pp pp pp', got {item!r}")
    pbc = tuple(f == "pp" for f in flags)
    rows = [reader.expect_line("a box bounds line") for _ in range(3)]
    if "abc" in words:  # general triclinic: "ax ay az origin_x" per line
        vals = np.array([_floats(reader, r, 4, "cell vector and origin component") for r in rows])
        return vals[:, 3], vals[:, :3], pbc
    triclinic = "xy" in words
    bounds = np.array([_floats(reader, r, 3 if triclinic else 2, "box bounds") for r in rows])
    origin, cell = _cell_from_bounds(bounds, triclinic)
    return origin, cell, pbc


def _positions(table: dict, columns: list[str], cell, origin, reader: LineReader, first: int) -> np.ndarray:
    for names, scaled in POSITION_SETS:
        if all(c in table for c in names):
            pos = np.column_stack([numeric_column(table, c, reader.path, first) for c in names])
            if scaled:
                pos = pos @ cell + origin
            if not names[0].endswith("u") and all(c in table for c in ("ix", "iy", "iz")):
                images = np.column_stack([numeric_column(table, c, reader.path, first) for c in ("ix", "iy", "iz")])
                pos = pos + images @ cell
            return pos
    raise FileFormatError(
        f"{reader.path}: line {first - 1}: no position columns (x y z, xu yu zu, xs ys zs or xsu ysu zsu) "
        f"among {columns}"
    )


def _read_frame(reader: LineReader, index: int) -> Frame | None:
    """Next snapshot, or None at the end of the file."""
    line = reader.readline()
    while line is not None and not line.strip():
        line = reader.readline()
    if line is None:
        return None
    if not line.startswith("ITEM:"):
        raise reader.error(f"expected an 'ITEM:' line of a LAMMPS dump, found {line.strip()[:80]!r}")
    timestep, n_atoms, box = None, None, None
    while True:
        item = line.strip()
        if item.startswith("ITEM: TIMESTEP"):
            timestep = int(_floats(reader, reader.expect_line("the timestep"), 1, "timestep")[0])
        elif item.startswith("ITEM: NUMBER OF ATOMS"):
            n_atoms = int(_floats(reader, reader.expect_line("the number of atoms"), 1, "number of atoms")[0])
        elif item.startswith("ITEM: BOX BOUNDS"):
            box = _read_box(reader, item)
        elif item.startswith("ITEM: ATOMS"):
            break
        elif item.startswith("ITEM:"):  # TIME, UNITS, ...: one value line
            reader.expect_line(item)
        else:
            raise reader.error(f"expected an 'ITEM:' line, found {item[:80]!r}")
        line = reader.expect_line("the next 'ITEM:' line")
    header_line = reader.lineno
    missing = [w for w, v in (("NUMBER OF ATOMS", n_atoms), ("BOX BOUNDS", box)) if v is None]
    if missing:
        raise reader.error(f"snapshot has no 'ITEM: {missing[0]}' before 'ITEM: ATOMS'")
    columns = item.split()[2:]
    if len(set(columns)) != len(columns):
        raise reader.error(f"repeated column names in {columns}")
    origin, cell, pbc = box
    table = reader.read_table(n_atoms, columns, "atoms")
    first = header_line + 1
    pos = _positions(table, columns, cell, origin, reader, first)
    ids = numeric_column(table, "id", reader.path, first, int) if "id" in table else np.arange(1, n_atoms + 1)
    if "type" in table and table["type"].dtype.kind != "f" and not _all_numeric(table["type"]):
        grain, _ = labels_to_ints(table["type"])
    elif "type" in table:
        grain = numeric_column(table, "type", reader.path, first, int)
    else:
        grain = np.ones(n_atoms, dtype=np.int64)
    used = {"id", "type", "ix", "iy", "iz"} | {c for names, _ in POSITION_SETS for c in names}
    extra = {
        c: numeric_column(table, c, reader.path, first) for c in columns if c not in used and table[c].dtype.kind == "f"
    }
    step = np.diff(ids)
    if not np.all(step > 0):  # not in increasing id order yet (LAMMPS writes 'dump_modify sort id' dumps so)
        order = np.argsort(ids, kind="stable")
        pos, grain, ids = pos[order], grain[order], ids[order]
        extra = {k: v[order] for k, v in extra.items()}
        step = np.diff(ids)
    if np.any(step == 0):
        raise reader.error(f"atom ids repeat in the snapshot at timestep {timestep}", header_line)
    s = Structure(positions=pos, cell=cell, grain=grain, origin=origin, pbc=pbc, ids=ids, extra=extra)
    return Frame(index, int(timestep) if timestep is not None else index, s)


def _all_numeric(values: np.ndarray) -> bool:
    try:
        values.astype(float)
    except ValueError:
        return False
    return True


def iter_dump(path: str | os.PathLike) -> Iterator[Frame]:
    """Snapshots of a LAMMPS text dump (plain or gzip), one at a time."""
    return iter_frames(path, _read_frame, "a LAMMPS dump")


def read_dump(path: str | os.PathLike, index: int = 0) -> Structure:
    """Read one snapshot (the first by default) of a LAMMPS text dump. Extra numeric columns go to ``extra``."""
    return frame_at(iter_dump(path), index, path, "snapshot")


def _is_restricted(cell: np.ndarray) -> bool:
    scale = np.abs(cell).max()
    return abs(cell[0, 1]) <= 1e-10 * scale and abs(cell[0, 2]) <= 1e-10 * scale and abs(cell[1, 2]) <= 1e-10 * scale


def dump_text_header(s: Structure, timestep: int, names: list[str]) -> list[str]:
    """Header lines of one snapshot (restricted triclinic as LAMMPS writes it; general cells as 'abc origin')."""
    lo = s.origin
    a, b, c = s.cell
    bcs = " ".join("pp" if p else "ss" for p in s.pbc)
    if s.is_orthogonal:
        box = [f"ITEM: BOX BOUNDS {bcs}"] + [f"{lo[k]:.10f} {lo[k] + s.cell[k, k]:.10f}" for k in range(3)]
    elif _is_restricted(s.cell):
        xy, xz, yz = b[0], c[0], c[1]
        xlo_b = lo[0] + min(0.0, xy, xz, xy + xz)
        xhi_b = lo[0] + a[0] + max(0.0, xy, xz, xy + xz)
        ylo_b = lo[1] + min(0.0, yz)
        yhi_b = lo[1] + b[1] + max(0.0, yz)
        box = [
            f"ITEM: BOX BOUNDS xy xz yz {bcs}",
            f"{xlo_b:.10f} {xhi_b:.10f} {xy:.10f}",
            f"{ylo_b:.10f} {yhi_b:.10f} {xz:.10f}",
            f"{lo[2]:.10f} {lo[2] + c[2]:.10f} {yz:.10f}",
        ]
    else:
        box = [f"ITEM: BOX BOUNDS abc origin {bcs}"] + [
            f"{v[0]:.10f} {v[1]:.10f} {v[2]:.10f} {o:.10f}" for v, o in zip(s.cell, lo)
        ]
    return [
        "ITEM: TIMESTEP",
        str(int(timestep)),
        "ITEM: NUMBER OF ATOMS",
        str(s.n_atoms),
        *box,
        "ITEM: ATOMS " + " ".join(names),
    ]


def _write_frame(fh, s: Structure, timestep: int, columns: list[str]) -> None:
    parts = [s.ids[:, None], s.grain[:, None], s.positions]
    names = ["id", "type", "x", "y", "z"]
    for name in columns:
        values = np.asarray(s.extra[name], dtype=float).reshape(s.n_atoms, -1)
        parts.append(values)
        names += [name] if values.shape[1] == 1 else [f"{name}[{k + 1}]" for k in range(values.shape[1])]
    table = np.column_stack(parts)
    fmt = ["%d", "%d"] + ["%.8g"] * (table.shape[1] - 2)
    fh.write("\n".join(dump_text_header(s, timestep, names)) + "\n")
    np.savetxt(fh, table, fmt=fmt)


def write_dump(path: str | os.PathLike, s: Structure, timestep: int = 0, columns: list[str] | None = None) -> None:
    """Write ``s`` as a LAMMPS text dump (id type x y z + ``extra`` columns), atomically; OVITO reads it."""
    write_dump_frames(path, [s], [timestep], columns)


def write_dump_frames(path: str | os.PathLike, frames: list[Structure], timesteps=None, columns=None) -> None:
    """Write several structures as the frames of one LAMMPS text dump (frame k at TIMESTEP ``timesteps[k]``,
    default k), atomically; frames may differ in atoms and box. OVITO reads it as a trajectory."""
    timesteps = list(range(len(frames))) if timesteps is None else list(timesteps)
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            for s, step in zip(frames, timesteps, strict=True):
                _write_frame(fh, s, int(step), list(s.extra) if columns is None else columns)
