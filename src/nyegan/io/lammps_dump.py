"""LAMMPS text dump files (one snapshot): orthogonal or triclinic boxes, any per-atom columns.

Reading is vectorised (one ``numpy`` conversion of the whole atom block), so 10^6-atom dumps load in seconds.
Positions may be given as x y z, xu yu zu, or scaled xs ys zs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nyegan.io.atomic import atomic_path
from nyegan.structure import Structure


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


def read_dump(path: str | os.PathLike) -> Structure:
    """Read the first snapshot of a LAMMPS text dump. Columns other than id/type/positions go to ``extra``."""
    path = Path(path)
    with open(path) as fh:
        lines = fh.read().split("\n")
    try:
        i_n = lines.index("ITEM: NUMBER OF ATOMS")
    except ValueError:
        raise ValueError(f"{path}: not a LAMMPS text dump (no 'ITEM: NUMBER OF ATOMS')") from None
    n = int(lines[i_n + 1])
    i_box = next(i for i, line in enumerate(lines) if line.startswith("ITEM: BOX BOUNDS"))
    box_words = lines[i_box].split()[3:]
    triclinic = "xy" in box_words
    pbc = tuple(w.startswith("pp") for w in box_words[-3:])
    bounds = np.array([[float(v) for v in lines[i_box + k].split()] for k in (1, 2, 3)])
    origin, cell = _cell_from_bounds(bounds, triclinic)
    i_atoms = next(i for i, line in enumerate(lines) if line.startswith("ITEM: ATOMS"))
    columns = lines[i_atoms].split()[2:]
    block = " ".join(lines[i_atoms + 1 : i_atoms + 1 + n])
    table = np.array(block.split(), dtype=float).reshape(n, len(columns))
    col = {name: k for k, name in enumerate(columns)}
    for names, scaled in ((("x", "y", "z"), False), (("xu", "yu", "zu"), False), (("xs", "ys", "zs"), True)):
        if all(c in col for c in names):
            pos = table[:, [col[c] for c in names]]
            if scaled:
                pos = pos @ cell + origin
            used = set(names)
            break
    else:
        raise ValueError(f"{path}: dump has no position columns (x y z, xu yu zu or xs ys zs); found {columns}")
    if all(c in col for c in ("ix", "iy", "iz")):
        pos = pos + table[:, [col["ix"], col["iy"], col["iz"]]] @ cell
        used |= {"ix", "iy", "iz"}
    ids = table[:, col["id"]].astype(int) if "id" in col else np.arange(1, n + 1)
    grain = table[:, col["type"]].astype(int) if "type" in col else np.ones(n, dtype=int)
    used |= {"id", "type"}
    extra = {name: table[:, k] for name, k in col.items() if name not in used}
    order = np.argsort(ids, kind="stable")
    return Structure(
        positions=pos[order],
        cell=cell,
        grain=grain[order],
        origin=origin,
        pbc=pbc,
        ids=ids[order],
        extra={k: v[order] for k, v in extra.items()},
    )


def write_dump(path: str | os.PathLike, s: Structure, timestep: int = 0, columns: list[str] | None = None) -> None:
    """Write ``s`` as a LAMMPS text dump (id type x y z + ``extra`` columns), atomically; OVITO reads it."""
    columns = list(s.extra) if columns is None else columns
    lo = s.origin
    a, b, c = s.cell
    bcs = " ".join("pp" if p else "ss" for p in s.pbc)
    if s.is_orthogonal:
        box = [f"ITEM: BOX BOUNDS {bcs}"] + [f"{lo[k]:.10f} {lo[k] + s.cell[k, k]:.10f}" for k in range(3)]
    else:
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
    parts = [s.ids[:, None], s.grain[:, None], s.positions]
    names = ["id", "type", "x", "y", "z"]
    for name in columns:
        values = np.asarray(s.extra[name], dtype=float).reshape(s.n_atoms, -1)
        parts.append(values)
        names += [name] if values.shape[1] == 1 else [f"{name}[{k + 1}]" for k in range(values.shape[1])]
    table = np.column_stack(parts)
    fmt = ["%d", "%d"] + ["%.8g"] * (table.shape[1] - 2)
    header = [
        "ITEM: TIMESTEP",
        str(timestep),
        "ITEM: NUMBER OF ATOMS",
        str(s.n_atoms),
        *box,
        "ITEM: ATOMS " + " ".join(names),
    ]
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write("\n".join(header) + "\n")
            np.savetxt(fh, table, fmt=fmt)
