"""Test structures for the Nye-field tests: oriented fcc crystals, bicrystals, dislocation quadrupoles, relaxation.

Dislocation quadrupoles: two glide dipoles in an orthogonal periodic cell: +b at (Lx/4, Ly/4) and -b at
(3Lx/4, Ly/4), +b at (Lx/4, 3Ly/4) and -b at (3Lx/4, 3Ly/4). Like signs stack along y (the stable wall
position, so the dipoles do not glide together and annihilate during relaxation). Each dipole's cut lies on its
glide plane between its two cores (no material inserted or removed); the two cuts together slip the cell by one
full Burgers vector, so the cell stays orthogonal and periodic. Displacement u = b phi / 2 pi with phi the angle
function of the periodic arrangement (closed form along x, image rows summed along y).
Relaxation: LAMMPS conjugate gradient at fixed box.
"""

from __future__ import annotations

import numpy as np

from nyegan.io import read_dump, write_data
from nyegan.lattice import fcc_repeat_length, fill_box_with_lattice, rotation_from_rows
from nyegan.lmp import new_lammps
from nyegan.potentials import resolve_potential
from nyegan.structure import Structure

POTENTIAL = "Al_mm.eam.fs"


def oriented_crystal(rows, repeats, a0) -> tuple[Structure, np.ndarray]:
    """Crystal with integer crystal directions ``rows`` along box x, y, z; ``repeats`` periods along each."""
    rot = rotation_from_rows(*rows)
    lengths = np.array([fcc_repeat_length(r, a0) * n for r, n in zip(rows, repeats)])
    pos = fill_box_with_lattice(rot, lengths, a0)
    return Structure(positions=pos, cell=np.diag(lengths), grain=np.ones(len(pos), dtype=int)), rot


def dipole_angle(x, y, plus, minus, Lx, Ly, n_rows=4):
    """Angle function (radians) of a glide dipole (+ at ``plus``, - at ``minus``, same y) with its periodic images.

    arg(sin(pi (z - z+) / Lx) / sin(pi (z - z-) / Lx)) jumps by 2 pi only on the segment between the cores.
    """
    total = np.zeros_like(x)
    for k in range(-n_rows, n_rows + 1):
        zz = x + 1j * (y - k * Ly)
        ratio = np.sin(np.pi * (zz - complex(*plus)) / Lx) / np.sin(np.pi * (zz - complex(*minus)) / Lx)
        total += np.angle(ratio)
    return total


def quadrupole(rows, repeats, a0, burgers_crystal):
    """Dislocation quadrupole; returns structure, rotation, Burgers vector (box, Å), cores (4, 2), signs (4,)."""
    s, rot = oriented_crystal(rows, repeats, a0)
    b = rot @ (0.5 * a0 * np.asarray(burgers_crystal, float))
    Lx, Ly = s.cell[0, 0], s.cell[1, 1]
    plane = a0 / np.sqrt(3.0)  # (111) spacing; cores placed midway between glide planes
    cores = np.array([[Lx / 4, Ly / 4], [3 * Lx / 4, Ly / 4], [Lx / 4, 3 * Ly / 4], [3 * Lx / 4, 3 * Ly / 4]])
    cores[:, 0] += 0.37
    cores[:, 1] = (np.floor(cores[:, 1] / plane) + 0.5) * plane
    signs = np.array([1, -1, 1, -1])
    x, y = s.positions[:, 0], s.positions[:, 1]
    phi = dipole_angle(x, y, cores[0], cores[1], Lx, Ly) + dipole_angle(x, y, cores[2], cores[3], Lx, Ly)
    pos = s.positions + np.outer(phi / (2 * np.pi), b)
    return s.copy(positions=pos).wrapped(), rot, b, cores, signs


def relax(s: Structure, workdir, name: str, etol: float = 0.0, ftol: float = 1e-6, maxiter: int = 2000) -> Structure:
    """LAMMPS CG minimisation at fixed box with Al_mm.eam.fs; returns the relaxed structure read from its dump."""
    pot = resolve_potential(POTENTIAL)
    data = workdir / f"{name}.data"
    dump = workdir / f"{name}.dump"
    write_data(data, s)
    n_types = int(s.grain.max())
    bnd = " ".join("p" if p else "s" for p in s.pbc)
    lmp = new_lammps()
    try:
        lmp.commands_list(
            [
                "units metal",
                "atom_style atomic",
                f"boundary {bnd}",
                f"read_data {data}",
                *pot.pair_commands(n_types),
                "neighbor 1.0 bin",
                "min_style cg",
                f"minimize {etol} {ftol} {maxiter} {10 * maxiter}",
                f"write_dump all custom {dump} id type x y z modify sort id format float %.10g",
            ]
        )
    finally:
        lmp.close()
    out = read_dump(dump)
    return out
