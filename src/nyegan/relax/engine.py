"""One reused LAMMPS instance that loads structures from numpy, minimises them and hands back numpy arrays.

States are loaded without any file round trip: the box is reset (``reset_box``) and the atoms are created from
numpy buffers through ``lammps_create_atoms`` (every rank passes the same arrays; each keeps the atoms of its
sub-domain). Between states the atoms are deleted and the potential, computes and settings stay in place, so a
state costs only its minimisation. Per-atom energies come from ``compute pe/atom`` (eV), gathered by atom id.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nyegan.lmp import import_lammps, new_lammps
from nyegan.potentials import Potential
from nyegan.relax.errors import RelaxError
from nyegan.relax.settings import AnnealSettings, MDSettings, MinimizeSettings
from nyegan.structure import Structure

CONVERGED_CRITERIA = (
    "energy tolerance",
    "force tolerance",
    "linesearch alpha is zero",
    "forces are zero",
    "quadratic factors are zero",
    "search direction is not downhill",
)
_STOP_RE = re.compile(r"Stopping criterion = (.+)")


@dataclass
class MinimizeResult:
    """Outcome of one minimisation: energy (eV), iterations, final force 2-norm and max component (eV/Å)."""

    energy: float
    n_atoms: int
    iterations: int
    fnorm: float
    fmax: float
    stop_criterion: str
    converged: bool
    box_lengths: list

    def to_dict(self) -> dict:
        return asdict(self)


class LammpsRelaxer:
    """A LAMMPS instance on ``comm`` (mpi4py communicator or None) bound to one potential.

    Every method is collective over ``comm``. ``case`` only labels error messages.
    """

    def __init__(
        self,
        potential: Potential,
        n_types: int = 2,
        comm=None,
        log_file: str | os.PathLike | None = None,
        case: str = "?",
    ):
        self.potential = potential
        self.n_types = int(n_types)
        self.comm = comm
        self.case = case
        self.log_file = Path(log_file) if log_file else None
        self._tmp_log = None
        if self.log_file:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
        else:  # a private log still tells the stop criterion of each minimisation
            fd, name = tempfile.mkstemp(prefix="nyegan-lammps-", suffix=".log")
            os.close(fd)
            self._tmp_log = self.log_file = Path(name)
        self.lmp = new_lammps(comm=comm, log_file=self.log_file)
        self._triclinic: bool | None = None
        self._log_offset = 0

    @property
    def user_log(self):
        """The log file the caller asked for (None when only a private temporary log exists)."""
        return None if self._tmp_log else self.log_file

    # -- helpers ---------------------------------------------------------------------------------------------
    def _run(self, commands: list[str], what: str):
        try:
            self.lmp.commands_list(commands)
        except Exception as exc:  # the LAMMPS module raises plain Exception carrying LAMMPS's own message
            raise RelaxError(self.case, f"LAMMPS failed while {what}: {str(exc).strip()}", self.user_log) from exc

    def _setup(self, s: Structure):
        tri = not s.is_orthogonal
        lo, hi = s.origin, s.origin + np.diag(s.cell)
        xy, xz, yz = s.cell[1, 0], s.cell[2, 0], s.cell[2, 1]
        region = (
            f"region box prism {lo[0]} {hi[0]} {lo[1]} {hi[1]} {lo[2]} {hi[2]} {xy} {xz} {yz}"
            if tri
            else f"region box block {lo[0]} {hi[0]} {lo[1]} {hi[1]} {lo[2]} {hi[2]}"
        )
        bnd = " ".join("p" if p else "s" for p in s.pbc)
        self._run(
            [
                "clear",
                "units metal",
                f"boundary {bnd}",
                "atom_style atomic",
                "atom_modify map array sort 0 0.0",
                region,
                f"create_box {self.n_types} box",
            ],
            "creating the box",
        )
        self._run(self.potential.pair_commands(self.n_types), f"reading the potential {self.potential.path}")
        self._run(
            [
                "neighbor 2.0 bin",
                "neigh_modify delay 0 every 1 check yes",
                "compute peatom all pe/atom",
                "thermo_style custom step pe fnorm fmax lx ly lz pxx pyy pzz",
                "thermo_modify lost error norm no",
                "thermo 100",
                "min_style cg",
            ],
            "setting up",
        )
        self._triclinic = tri

    # -- public API ------------------------------------------------------------------------------------------
    def load(self, s: Structure):
        """Replace the atoms and box by those of ``s`` (grain ids become atom types)."""
        if s.n_atoms == 0:
            raise RelaxError(self.case, "structure has no atoms")
        if int(s.grain.max()) > self.n_types or int(s.grain.min()) < 1:
            raise RelaxError(self.case, f"grain ids must be in 1..{self.n_types}, got {s.grain.min()}..{s.grain.max()}")
        tri = not s.is_orthogonal
        if self._triclinic is None or tri != self._triclinic:
            self._setup(s)
        else:
            self._run(["delete_atoms group all", "reset_timestep 0"], "clearing the previous state")
            lo, hi = s.origin, s.origin + np.diag(s.cell)
            self.lmp.reset_box(list(lo), list(hi), float(s.cell[1, 0]), float(s.cell[2, 1]), float(s.cell[2, 0]))
        w = s.wrapped()
        n = w.n_atoms
        tag = np.ascontiguousarray(np.arange(1, n + 1), dtype=np.dtype(self.lmp.c_tagint))
        typ = np.ascontiguousarray(w.grain, dtype=np.intc)
        pos = np.ascontiguousarray(w.positions, dtype=np.double)
        lib = self.lmp.lib
        lib.lammps_create_atoms.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_int,
        ]
        try:
            with import_lammps().core.ExceptionCheck(self.lmp):
                created = lib.lammps_create_atoms(
                    self.lmp.lmp, n, tag.ctypes.data, typ.ctypes.data, pos.ctypes.data, None, None, 0
                )
        except Exception as exc:
            raise RelaxError(self.case, f"LAMMPS failed creating atoms: {str(exc).strip()}", self.user_log) from exc
        natoms = self.lmp.get_natoms()
        if created != n or natoms != n:
            raise RelaxError(self.case, f"LAMMPS created {natoms} of {n} atoms (atoms outside the box?)", self.user_log)
        self._ids = s.ids.copy()
        self._template = s

    def _log_tail_criterion(self) -> str | None:
        if self.log_file is None or not self.log_file.exists():
            return None
        self.lmp.flush_buffers()
        with open(self.log_file, errors="replace") as fh:
            fh.seek(self._log_offset)
            text = fh.read()
            self._log_offset = fh.tell()
        found = _STOP_RE.findall(text)
        return found[-1].strip() if found else None

    def _stop_criterion(self, iterations: int, s: MinimizeSettings) -> str:
        crit = None
        if self.comm is None or self.comm.Get_rank() == 0:
            crit = self._log_tail_criterion()
        if self.comm is not None:
            crit = self.comm.bcast(crit, root=0)
        if crit:
            return crit
        return "max iterations" if iterations >= s.maxiter else "unknown (no log)"

    def minimize(self, s: MinimizeSettings) -> MinimizeResult:
        """CG minimisation with optional box relaxation; raises on NaN energy or lost atoms."""
        if self.log_file and (self.comm is None or self.comm.Get_rank() == 0) and self.log_file.exists():
            self.lmp.flush_buffers()
            self._log_offset = self.log_file.stat().st_size
        cmds = ["reset_timestep 0"]
        if s.box_relax == "y":
            cmds.append(f"fix nyegan_box all box/relax y 0.0 vmax {s.vmax}")
        elif s.box_relax == "aniso":
            cmds.append(f"fix nyegan_box all box/relax aniso 0.0 vmax {s.vmax}")
        cmds.append(f"minimize {s.etol} {s.ftol} {s.maxiter} {s.maxeval}")
        try:
            self._run(cmds, "minimising")
        finally:
            if s.box_relax != "none":
                self.lmp.command("unfix nyegan_box") if self._has_fix("nyegan_box") else None
        if s.box_relax != "none":
            # with box/relax the minimiser's last state includes the box dof; a plain 0-step run makes
            # pe/atom and forces consistent with the final box
            self._run(["run 0"], "evaluating the relaxed state")
        energy = float(self.lmp.get_thermo("pe"))
        iterations = int(self.lmp.extract_global("ntimestep"))
        fnorm = float(self.lmp.get_thermo("fnorm"))
        fmax = float(self.lmp.get_thermo("fmax"))
        natoms = int(self.lmp.get_natoms())
        if not (math.isfinite(energy) and math.isfinite(fnorm)):
            raise RelaxError(
                self.case,
                f"energy or force is not finite after minimisation (pe={energy}, fnorm={fnorm}): the structure blew up",
                self.user_log,
            )
        if natoms != len(self._ids):
            raise RelaxError(self.case, f"lost atoms: {len(self._ids)} -> {natoms}", self.user_log)
        crit = self._stop_criterion(iterations, s)
        converged = any(crit.startswith(c) for c in CONVERGED_CRITERIA) or fnorm <= s.ftol
        box = [float(self.lmp.get_thermo(k)) for k in ("lx", "ly", "lz")]
        return MinimizeResult(energy, natoms, iterations, fnorm, fmax, crit, bool(converged), box)

    def _has_fix(self, fix_id: str) -> bool:
        try:
            return bool(self.lmp.has_id("fix", fix_id))
        except Exception:
            return True

    def anneal(self, a: AnnealSettings):
        """NVT at ``a.temperature`` for ``a.steps`` steps (box fixed), velocities zeroed afterwards."""
        self._run(
            [
                f"velocity all create {2 * a.temperature} {a.seed} dist gaussian mom yes rot no",
                f"timestep {a.timestep}",
                f"fix nyegan_nvt all nvt temp {a.temperature} {a.temperature} {100 * a.timestep}",
                f"run {a.steps}",
                "unfix nyegan_nvt",
                "velocity all set 0 0 0",
            ],
            f"annealing at {a.temperature} K",
        )
        e = float(self.lmp.get_thermo("pe"))
        if not math.isfinite(e):
            raise RelaxError(self.case, "energy is not finite after the anneal", self.user_log)

    def md_snapshots(self, md: MDSettings) -> list[Structure]:
        """NVT at ``md.temperature`` (K) for ``md.time_ps`` from the loaded state (box fixed, seeded velocities);
        ``md.snapshots`` evenly spaced snapshots, the last at the end, each with ``extra["pe"]`` (eV/atom)."""
        n_steps = max(md.snapshots, int(round(md.time_ps / md.timestep)))
        every = max(1, n_steps // md.snapshots)
        self._run([f"velocity all create {md.temperature} {md.seed} dist gaussian mom yes rot no loop geom",
                   f"timestep {md.timestep}",
                   f"fix nyegan_md all nvt temp {md.temperature} {md.temperature} {100 * md.timestep}",
                   "reset_timestep 0"], f"starting MD at {md.temperature} K")  # fmt: skip
        snaps = []
        for _ in range(md.snapshots):
            self._run([f"run {every}"], f"running MD at {md.temperature} K")
            if not math.isfinite(float(self.lmp.get_thermo("pe"))):
                raise RelaxError(self.case, f"energy is not finite during MD at {md.temperature} K", self.user_log)
            snaps.append(self.structure())
        self._run(["unfix nyegan_md", "velocity all set 0 0 0"], "stopping MD")
        return snaps

    def structure(self) -> Structure:
        """Current atoms as a Structure (ids and order of the loaded one), with ``extra["pe"]`` (eV/atom)."""
        x = np.ctypeslib.as_array(self.lmp.gather("x", 1, 3)).reshape(-1, 3).copy()
        pe = np.ctypeslib.as_array(self.lmp.gather("c_peatom", 1, 1)).copy()
        boxlo, boxhi, xy, yz, xz, _, _ = self.lmp.extract_box()
        lo, hi = np.array(boxlo), np.array(boxhi)
        cell = np.array([[hi[0] - lo[0], 0, 0], [xy, hi[1] - lo[1], 0], [xz, yz, hi[2] - lo[2]]])
        t = self._template
        return Structure(
            positions=x, cell=cell, grain=t.grain.copy(), origin=lo, pbc=t.pbc, ids=self._ids.copy(), extra={"pe": pe}
        )

    def cna(self, a0: float) -> np.ndarray:
        """Common-neighbour-analysis class per atom (LAMMPS ``cna/atom``, cutoff 0.854·a0 for fcc):
        1 fcc, 2 hcp, 3 bcc, 4 icosahedral, 5 other; ordered like ``structure()``."""
        self._run([f"compute nyegan_cna all cna/atom {0.854 * a0}", "run 0"], "classifying atoms (CNA)")
        out = np.ctypeslib.as_array(self.lmp.gather("c_nyegan_cna", 1, 1)).copy()
        self._run(["uncompute nyegan_cna"], "classifying atoms (CNA)")
        return out.astype(int)

    def close(self):
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None
        if self._tmp_log is not None:
            self._tmp_log.unlink(missing_ok=True)
            self._tmp_log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
