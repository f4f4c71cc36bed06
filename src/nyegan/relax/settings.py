"""Settings of the relaxation stage, read from ``config["relax"]`` (documented in ``workflow/schemas/config.schema.yaml``).

Tolerances follow LAMMPS ``minimize etol ftol maxiter maxeval``: etol is relative (dimensionless), ftol is the
2-norm of the global force vector (eV/Å). Temperatures in K, times in ps.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

BOX_RELAX_MODES = ("none", "y", "aniso")


@dataclass(frozen=True)
class MinimizeSettings:
    """One CG minimisation. ``box_relax``: "none", "y" (only the boundary-normal length relaxes to zero
    pressure pyy; x and z stay at the CSL period, which is a lattice period of both grains at a0) or "aniso"."""

    etol: float = 1e-10
    ftol: float = 1e-6
    maxiter: int = 5000
    maxeval: int = 50000
    box_relax: str = "y"
    vmax: float = 0.001
    fnorm_fail: float = 1e-2

    def __post_init__(self):
        if self.box_relax not in BOX_RELAX_MODES:
            raise ValueError(f"relax.box_relax = '{self.box_relax}': choose one of {BOX_RELAX_MODES}")
        if self.etol < 0 or self.ftol < 0 or (self.etol == 0 and self.ftol == 0):
            raise ValueError("relax.etol and relax.ftol must be >= 0 and not both 0")
        if self.maxiter < 1 or self.maxeval < 1:
            raise ValueError("relax.maxiter and relax.maxeval must be >= 1")

    def with_box_relax(self, mode: str) -> MinimizeSettings:
        return MinimizeSettings(**{**self.__dict__, "box_relax": mode})


@dataclass(frozen=True)
class AnnealSettings:
    """Optional short NVT anneal followed by a CG quench (``steps`` = 0 disables it)."""

    temperature: float = 300.0
    steps: int = 0
    timestep: float = 0.002
    seed: int = 12345

    @property
    def enabled(self) -> bool:
        return self.steps > 0


@dataclass(frozen=True)
class SearchSettings:
    """GB search: ``translations`` grid points along x and z covering one CSL period each; ``deletion_cutoffs``
    in units of the nearest-neighbour distance a0/√2 (0 = no deletion); the search minimisation may be looser
    than the final one (``maxiter``, ``ftol``)."""

    translations: tuple[int, int] = (3, 2)
    deletion_cutoffs: tuple[float, ...] = (0.0, 0.7)
    maxiter: int = 1000
    ftol: float = 1e-4
    etol: float = 1e-8

    def __post_init__(self):
        if len(self.translations) != 2 or min(self.translations) < 1:
            raise ValueError("relax.gb_search.translations must be two integers >= 1 (points along x and z)")
        if not self.deletion_cutoffs or any(not 0.0 <= c < 1.0 for c in self.deletion_cutoffs):
            raise ValueError(
                "relax.gb_search.deletion_cutoffs must be fractions of the nearest-neighbour distance in [0, 1)"
            )


@dataclass(frozen=True)
class RelaxSettings:
    minimize: MinimizeSettings = field(default_factory=MinimizeSettings)
    anneal: AnnealSettings = field(default_factory=AnnealSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    gb_search: bool = True
    dislocation_box_relax: str = "none"
    ranks_per_state: int = 1
    min_pair_distance: float = 1.0

    @classmethod
    def from_config(cls, cfg: dict | None) -> RelaxSettings:
        """Build from the ``config["relax"]`` mapping (unknown keys are rejected with their name)."""
        cfg = dict(cfg or {})

        def pick(klass, src: dict, section: str):
            names = {f.name for f in fields(klass)}
            unknown = set(src) - names
            if unknown:
                raise ValueError(f"relax.{section}: unknown keys {sorted(unknown)}; known: {sorted(names)}")
            return klass(**{k: tuple(v) if isinstance(v, list) else v for k, v in src.items()})

        box = cfg.pop("box_relax", {"gb": "y", "dislocation": "none"})
        if isinstance(box, str):
            box = {"gb": box, "dislocation": box}
        minimize = pick(
            MinimizeSettings,
            {
                **{k: cfg.pop(k) for k in ("etol", "ftol", "maxiter", "maxeval", "vmax", "fnorm_fail") if k in cfg},
                "box_relax": box.get("gb", "y"),
            },
            "minimize",
        )
        anneal = pick(AnnealSettings, cfg.pop("anneal", {}) or {}, "anneal")
        gbs = dict(cfg.pop("gb_search", {}) or {})
        enabled = bool(gbs.pop("enabled", True))
        search = pick(SearchSettings, gbs, "gb_search")
        cfg.pop("mpi_tasks", None), cfg.pop("omp_threads", None)  # launch options, used by the workflow
        out = cls(
            minimize=minimize,
            anneal=anneal,
            search=search,
            gb_search=enabled,
            dislocation_box_relax=box.get("dislocation", "none"),
            ranks_per_state=int(cfg.pop("ranks_per_state", 1)),
            min_pair_distance=float(cfg.pop("min_pair_distance", 1.0)),
        )
        if cfg:
            raise ValueError(f"relax: unknown keys {sorted(cfg)}")
        if out.dislocation_box_relax not in BOX_RELAX_MODES:
            raise ValueError(f"relax.box_relax.dislocation: choose one of {BOX_RELAX_MODES}")
        if out.ranks_per_state < 1:
            raise ValueError("relax.ranks_per_state must be >= 1")
        return out
