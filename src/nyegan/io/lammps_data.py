"""LAMMPS data files (``atom_style atomic``); atom type = grain id."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nyegan.io.atomic import atomic_path
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


def read_data(path: str | os.PathLike) -> Structure:
    """Read a LAMMPS data file written in ``atom_style atomic`` (id type x y z [ix iy iz])."""
    text = Path(path).read_text().splitlines()
    n_atoms = None
    bounds = {}
    tilt = (0.0, 0.0, 0.0)
    atoms_start = None
    for i, line in enumerate(text):
        words = line.split("#")[0].split()
        if not words:
            continue
        if len(words) == 2 and words[1] == "atoms":
            n_atoms = int(words[0])
        elif len(words) == 4 and words[2].endswith("lo") and words[3].endswith("hi"):
            bounds[words[2][0]] = (float(words[0]), float(words[1]))
        elif len(words) == 6 and words[3:] == ["xy", "xz", "yz"]:
            tilt = tuple(float(w) for w in words[:3])
        elif words[0] == "Atoms":
            atoms_start = i + 1
            break
    if n_atoms is None or atoms_start is None or set(bounds) != {"x", "y", "z"}:
        raise ValueError(f"{path}: not a LAMMPS data file with an Atoms section and a full box")
    rows = []
    for line in text[atoms_start:]:
        words = line.split("#")[0].split()
        if not words:
            if rows:
                break
            continue
        if not words[0].lstrip("-").isdigit():
            break
        rows.append(words)
        if len(rows) == n_atoms:
            break
    table = np.array(rows, dtype=float)
    if len(table) != n_atoms:
        raise ValueError(f"{path}: expected {n_atoms} atoms, found {len(table)}")
    lo = np.array([bounds[k][0] for k in "xyz"])
    hi = np.array([bounds[k][1] for k in "xyz"])
    xy, xz, yz = tilt
    cell = np.array([[hi[0] - lo[0], 0, 0], [xy, hi[1] - lo[1], 0], [xz, yz, hi[2] - lo[2]]])
    pos = table[:, 2:5]
    if table.shape[1] >= 8:  # image flags
        pos = pos + table[:, 5:8] @ cell
    order = np.argsort(table[:, 0], kind="stable")
    return Structure(
        positions=pos[order], cell=cell, grain=table[order, 1].astype(int), origin=lo, ids=table[order, 0].astype(int)
    )
