"""Atoms from any supported file, format detected from the content (extension as a hint): LAMMPS text dumps
(one or many snapshots), LAMMPS data files and extended XYZ (ASE, OVITO), each plain or gzip-compressed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from nyegan.io.extxyz import iter_extxyz
from nyegan.io.lammps_data import read_data
from nyegan.io.lammps_dump import Frame, iter_dump
from nyegan.io.text import FileFormatError, head_lines
from nyegan.structure import Structure

FORMATS = ("lammps-dump", "lammps-data", "extxyz")
_EXTENSIONS = {
    ".dump": "lammps-dump",
    ".lammpstrj": "lammps-dump",
    ".lammpsdump": "lammps-dump",
    ".data": "lammps-data",
    ".lmp": "lammps-data",
    ".xyz": "extxyz",
    ".extxyz": "extxyz",
}


def detect_format(path: str | os.PathLike) -> str:
    """'lammps-dump', 'lammps-data' or 'extxyz', from the first lines of the file (gzip is looked through)."""
    path = Path(path)
    lines = head_lines(path, 3)
    if not lines:
        raise FileFormatError(f"{path}: line 1: empty file")
    if lines[0].startswith("ITEM:"):
        return "lammps-dump"
    words = lines[0].split()
    if len(words) == 1 and words[0].isdigit() and len(lines) > 1:
        return "extxyz"
    if len(lines) > 1 and any(len(w.split()) >= 2 and w.split()[1] == "atoms" for w in lines[1:]):
        return "lammps-data"
    suffixes = [s for s in path.suffixes if s != ".gz"]
    hint = _EXTENSIONS.get(suffixes[-1].lower()) if suffixes else None
    if hint:
        return hint
    raise FileFormatError(
        f"{path}: line 1: format not recognised (LAMMPS dump 'ITEM: TIMESTEP', LAMMPS data file, or extended XYZ "
        f"starting with the number of atoms); found {lines[0][:80]!r}"
    )


def iter_frames(path: str | os.PathLike, fmt: str | None = None) -> Iterator[Frame]:
    """Frames of a file, streamed one at a time (a data file is a single frame at timestep 0)."""
    fmt = fmt or detect_format(path)
    if fmt == "lammps-dump":
        yield from iter_dump(path)
    elif fmt == "extxyz":
        yield from iter_extxyz(path)
    elif fmt == "lammps-data":
        yield Frame(0, 0, read_data(path))
    else:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def read_atoms(path: str | os.PathLike, fmt: str | None = None, index: int = 0) -> Structure:
    """One frame (the first by default) of any supported file."""
    for frame in iter_frames(path, fmt):
        if frame.index == index:
            return frame.structure
    raise ValueError(f"{path}: has no frame number {index} (counting from 0)")
