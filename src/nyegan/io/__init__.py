"""File formats: LAMMPS data and dump files, JSON metadata; all writes are atomic (temp file + rename)."""

from nyegan.io.atomic import atomic_path, read_json, write_json
from nyegan.io.lammps_data import read_data, write_data
from nyegan.io.lammps_dump import read_dump, write_dump

__all__ = ["atomic_path", "write_json", "read_json", "read_data", "write_data", "read_dump", "write_dump"]
