"""File formats: LAMMPS data and dump files, extended XYZ, JSON metadata; all writes are atomic (temp file +
rename); readers stream frames and name the file and line of any malformed input."""

from nyegan.io.atomic import atomic_path, read_json, write_json
from nyegan.io.atoms import detect_format, iter_frames, read_atoms
from nyegan.io.extxyz import iter_extxyz, read_extxyz, write_extxyz
from nyegan.io.lammps_data import read_data, write_data
from nyegan.io.lammps_dump import Frame, iter_dump, read_dump, write_dump
from nyegan.io.text import FileFormatError

__all__ = [
    "atomic_path",
    "write_json",
    "read_json",
    "read_data",
    "write_data",
    "read_dump",
    "write_dump",
    "iter_dump",
    "read_extxyz",
    "write_extxyz",
    "iter_extxyz",
    "detect_format",
    "iter_frames",
    "read_atoms",
    "Frame",
    "FileFormatError",
]
