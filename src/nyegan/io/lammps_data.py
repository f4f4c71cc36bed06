"""LAMMPS data files (``atom_style atomic``); atom type = grain id."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nyegan.io.atomic import atomic_path
from nyegan.io.text import LineReader, labels_to_ints, numeric_column, open_binary
from nyegan.structure import Structure


def _box_header(s: Structure) -> list[str]:
    lo = s.origin
    a, b, c = s.cell
    if abs(a[1]) > 1e-10 or abs(a[2]) > 1e-10 or abs(b[2]) > 1e-10:
        raise ValueError("cell must be LAMMPS restricted triclinic: a along x, b in the xy plane")
    lines = [
        f"{lo[0]:.10f} {lo[0] + a[0]:.10f} xlo xhi",
        f"{lo[1]:.10f} {lo[1] + b[1]:.10f} ylo yhi",
        f"{lo[2]:.10f} {lo[2] + c[2]:.10f} zlo zhi",
    ]
    if not s.is_orthogonal:
        lines.append(f"{b[0]:.10f} {c[0]:.10f} {c[1]:.10f} xy xz yz")
    return lines


def write_data(
    path: str | os.PathLike,
    s: Structure,
    comment: str = "nyegan",
    n_types: int | None = None,
    mass: float | None = None,
) -> None:
    """Write ``s`` as a LAMMPS data file (atomic style), atomically. Atom types are the grain ids; ``mass``
    (g/mol, every type) gives a Masses section, None leaves the masses to the potential (``pair_coeff``)."""
    n_types = int(n_types or max(int(s.grain.max()) if s.n_atoms else 1, 1))
    masses = ["Masses", ""] + [f"{t} {mass}" for t in range(1, n_types + 1)] + [""] if mass else []
    header = [
        f"# {comment}",
        "",
        f"{s.n_atoms} atoms",
        f"{n_types} atom types",
        "",
        *_box_header(s),
        "",
        *masses,
        "Atoms # atomic",
        "",
    ]
    table = np.column_stack([s.ids, s.grain, s.positions])
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write("\n".join(header) + "\n")
            np.savetxt(fh, table, fmt=["%d", "%d", "%.10f", "%.10f", "%.10f"])


ATOM_STYLES = {  # columns of the Atoms section (image flags ix iy iz may follow)
    "atomic": ["id", "type", "x", "y", "z"],
    "charge": ["id", "type", "q", "x", "y", "z"],
    "full": ["id", "mol", "type", "q", "x", "y", "z"],
    "molecular": ["id", "mol", "type", "x", "y", "z"],
    "bond": ["id", "mol", "type", "x", "y", "z"],
    "angle": ["id", "mol", "type", "x", "y", "z"],
}


def read_data(path: str | os.PathLike, atom_style: str | None = None) -> Structure:
    """Read a LAMMPS data file (plain or gzip); atom type = grain id.

    Atom styles atomic, charge, full, molecular, bond and angle (from the ``Atoms # style`` comment, ``atom_style``,
    or the column count: 5 or 8 columns are read as atomic), with or without image flags; orthogonal, restricted
    triclinic (``xy xz yz``) or general triclinic (``avec bvec cvec abc origin``) boxes. Errors name the line.
    """
    path = Path(path)
    with open_binary(path) as fh:
        reader = LineReader(fh, path)
        reader.expect_line("the title line of a LAMMPS data file")
        n_atoms, bounds, tilt, vecs, origin = None, {}, (0.0, 0.0, 0.0), {}, None
        style = atom_style
        in_section = False
        while True:
            line = reader.readline()
            if line is None:
                raise reader.error("file ends before an 'Atoms' section")
            body, _, comment = line.partition("#")
            words = body.split()
            if not words:
                continue
            if not _is_number(words[0]):  # a section header: skip sections until 'Atoms'
                if words[0] == "Atoms":
                    style = style or (comment.split()[0] if comment.split() else None)
                    break
                in_section = True
                continue
            if in_section:
                continue
            try:
                if len(words) == 2 and words[1] == "atoms":
                    n_atoms = int(words[0])
                elif len(words) == 4 and words[2] in ("xlo", "ylo", "zlo") and words[3].endswith("hi"):
                    bounds[words[2][0]] = (float(words[0]), float(words[1]))
                elif len(words) == 6 and words[3:] == ["xy", "xz", "yz"]:
                    tilt = tuple(float(w) for w in words[:3])
                elif len(words) == 4 and words[3] in ("avec", "bvec", "cvec"):
                    vecs[words[3]] = [float(w) for w in words[:3]]
                elif len(words) == 5 and words[3:] == ["abc", "origin"]:
                    origin = np.array([float(w) for w in words[:3]])
            except ValueError:
                raise reader.error(f"cannot read header line {line.strip()!r}") from None
        if n_atoms is None:
            raise reader.error("no 'N atoms' line in the header")
        if vecs:
            if set(vecs) != {"avec", "bvec", "cvec"} or origin is None:
                raise reader.error("a general triclinic box needs 'avec', 'bvec', 'cvec' and 'abc origin' lines")
            cell = np.array([vecs["avec"], vecs["bvec"], vecs["cvec"]])
            lo = origin
        else:
            if set(bounds) != {"x", "y", "z"}:
                raise reader.error("the header must give 'xlo xhi', 'ylo yhi' and 'zlo zhi'")
            lo = np.array([bounds[k][0] for k in "xyz"])
            hi = np.array([bounds[k][1] for k in "xyz"])
            xy, xz, yz = tilt
            cell = np.array([[hi[0] - lo[0], 0, 0], [xy, hi[1] - lo[1], 0], [xz, yz, hi[2] - lo[2]]])
        line = reader.expect_line("the blank line after 'Atoms'")
        while not line.split("#")[0].strip():
            line = reader.expect_line("the first atom line")
        n_fields = len(line.split("#")[0].split())
        if style is None:
            style = "atomic" if n_fields in (5, 8) else None
        if style not in ATOM_STYLES:
            raise reader.error(
                f"atom style {style!r} unknown ({n_fields} columns): name it after 'Atoms #' "
                f"(one of {sorted(ATOM_STYLES)})"
            )
        columns = list(ATOM_STYLES[style])
        if n_fields == len(columns) + 3:
            columns += ["ix", "iy", "iz"]
        elif n_fields != len(columns):
            raise reader.error(f"atom style {style!r} has {len(columns)} columns (+3 image flags), found {n_fields}")
        first = reader.lineno
        reader.unread_line()
        table = reader.read_table(n_atoms, columns, "atoms", comment="#")
    ids = numeric_column(table, "id", path, first, int)
    if table["type"].dtype.kind == "f":
        grain = numeric_column(table, "type", path, first, int)
    else:
        grain, _ = labels_to_ints(table["type"])
    pos = np.column_stack([numeric_column(table, c, path, first) for c in "xyz"])
    if "ix" in table:
        pos = pos + np.column_stack([numeric_column(table, c, path, first) for c in ("ix", "iy", "iz")]) @ cell
    order = np.argsort(ids, kind="stable")
    return Structure(positions=pos[order], cell=cell, grain=grain[order], origin=lo, ids=ids[order])


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True
