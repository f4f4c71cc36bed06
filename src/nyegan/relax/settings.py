"""Typed settings of the relaxation stage, built from the validated ``relax`` config section.

The schema (``nyegan/schemas/config.schema.yaml``, section ``relax``) is the only place where keys are declared and
defaults are set: :meth:`RelaxSettings.from_config` validates a section against it (unknown keys are rejected with
their name), fills the defaults and maps the result onto these frozen dataclasses, which have no defaults of their
own. Tolerances follow LAMMPS ``minimize etol ftol maxiter maxeval``: etol is relative (dimensionless), ftol is
the 2-norm of the global force vector (eV/Å). Temperatures in K, times in ps.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nyegan.config import ConfigError, validate_section


@dataclass(frozen=True)
class MinimizeSettings:
    """One CG minimisation. ``box_relax``: "none", "y" (only the boundary-normal length relaxes to zero pressure
    pyy; x and z stay at the CSL period, a lattice period of both grains at a0) or "aniso"; ``vmax``: largest
    fractional volume change per iteration (LAMMPS ``fix box/relax vmax``); ``fnorm_fail`` (eV/Å): a minimisation
    stopping on maxiter/maxeval above this force norm is an error."""

    etol: float
    ftol: float
    maxiter: int
    maxeval: int
    box_relax: str
    vmax: float
    fnorm_fail: float

    def with_box_relax(self, mode: str) -> MinimizeSettings:
        return replace(self, box_relax=mode)


@dataclass(frozen=True)
class AnnealSettings:
    """Optional short NVT anneal followed by a CG quench (``steps`` = 0 disables it); K, MD steps, ps. In the GB
    search an annealed state whose boundaries moved by more than ``max_boundary_shift`` (Å) is rejected."""

    temperature: float
    steps: int
    timestep: float
    seed: int
    max_boundary_shift: float

    @property
    def enabled(self) -> bool:
        return self.steps > 0


@dataclass(frozen=True)
class SearchSettings:
    """GB search (``nyegan.relax.search``): coarse translations at ``translation_spacing`` (Å) over one CSL period
    (or an explicit ``translations`` grid), every distinct deletion level below ``max_deletion_cutoff`` (fraction
    of d_nn = a0/√2; or explicit ``deletion_cutoffs``; at most ``max_deletion_levels`` per coarse translation,
    0 = all, the others reached by refinement in atom count);
    screening CG (``screen_maxiter``, ``screen_ftol`` eV/Å), full CG of the ``n_full`` best (``maxiter``, ``ftol``,
    ``etol``), refinement around the ``n_refine`` best for at most ``refine_rounds`` rounds until the best γ moves
    by less than ``tolerance`` (mJ/m²); ``anneal_best`` best states annealed (relax.anneal) and quenched;
    ``skip_equivalent``: states that are images of an earlier one under a symmetry of the cell are not relaxed."""

    translation_spacing: tuple[float, float]
    translations: tuple[int, int] | None
    max_deletion_cutoff: float
    deletion_cutoffs: tuple[float, ...] | None
    max_deletion_levels: int
    screen_maxiter: int
    screen_ftol: float
    maxiter: int
    ftol: float
    etol: float
    n_full: int
    n_refine: int
    refine_rounds: int
    tolerance: float
    anneal_best: int
    skip_equivalent: bool


@dataclass(frozen=True)
class MDSettings:
    """Finite-temperature snapshots of the relaxed ground state: NVT at ``temperature`` (K; 0 disables) for
    ``time_ps`` with ``timestep`` (ps), ``snapshots`` evenly spaced frames, quenched by CG when ``quench``."""

    temperature: float
    time_ps: float
    timestep: float
    snapshots: int
    quench: bool
    seed: int

    @property
    def enabled(self) -> bool:
        return self.temperature > 0 and self.snapshots > 0


@dataclass(frozen=True)
class EnsembleSettings:
    """Microstates kept per case: the ``states`` lowest distinct relaxed states within ``max_delta`` (mJ/m²) of
    the lowest, plus MD snapshots (``md``)."""

    states: int
    max_delta: float
    md: MDSettings


@dataclass(frozen=True)
class RelaxSettings:
    """Everything the relaxation stage needs (see the schema's ``relax`` section for each key)."""

    minimize: MinimizeSettings
    anneal: AnnealSettings
    search: SearchSettings
    ensemble: EnsembleSettings
    gb_search: bool
    dislocation_box_relax: str
    ranks_per_state: int
    min_pair_distance: float
    jitter: float
    mpi_tasks: int
    omp_threads: int

    @classmethod
    def from_config(cls, section: dict | None) -> RelaxSettings:
        """Validate ``section`` (the config's ``relax`` mapping, possibly partial) and build the settings."""
        c = validate_section("relax", section)
        if c["etol"] == 0 and c["ftol"] == 0:
            raise ConfigError("config key 'relax.etol' / 'relax.ftol': both are 0, so CG would never stop; set one > 0")
        minimize = MinimizeSettings(
            etol=c["etol"],
            ftol=c["ftol"],
            maxiter=c["maxiter"],
            maxeval=c["maxeval"],
            box_relax=c["box_relax"]["gb"],
            vmax=c["vmax"],
            fnorm_fail=c["fnorm_fail"],
        )
        g = dict(c["gb_search"])
        enabled = g.pop("enabled")
        g["translations"] = tuple(g["translations"]) if g["translations"] is not None else None
        g["translation_spacing"] = tuple(g["translation_spacing"])
        g["deletion_cutoffs"] = tuple(float(x) for x in g["deletion_cutoffs"]) if g["deletion_cutoffs"] else None
        search = SearchSettings(**g)
        e = c["ensemble"]
        ensemble = EnsembleSettings(states=e["states"], max_delta=e["max_delta"], md=MDSettings(**e["md"]))
        return cls(
            minimize=minimize,
            anneal=AnnealSettings(**c["anneal"]),
            search=search,
            ensemble=ensemble,
            gb_search=enabled,
            dislocation_box_relax=c["box_relax"]["dislocation"],
            ranks_per_state=c["ranks_per_state"],
            min_pair_distance=c["min_pair_distance"],
            jitter=c["jitter"],
            mpi_tasks=c["mpi_tasks"],
            omp_threads=c["omp_threads"],
        )

    @classmethod
    def defaults(cls) -> RelaxSettings:
        """The schema's defaults."""
        return cls.from_config({})
