"""Grain-boundary search that converges by itself: screen many states cheaply, relax the best fully, refine.

1. **Coarse round.** Translations of grain B on a grid over one CSL period at ``translation_spacing`` (Å) along x
   and z, and at each translation ``max_deletion_levels`` of the distinct close-pair deletion levels below
   ``max_deletion_cutoff`` (``nyegan.relax.states``; by default two: no deletion and the largest): both dimensions
   of the state space, the rigid-body translation and the number of atoms in the boundary. States whose starting
   structure is a symmetry image of an earlier one (``skip_equivalent``; :func:`~nyegan.relax.states.geometry_key`)
   are listed, not relaxed.
2. **Screening.** Every state gets a CG of ``screen_maxiter`` iterations at most (``screen_ftol``). Screened
   energies rank the states well enough that the true minimum sits among the first few only after a few hundred
   iterations (measured on Σ33(2-25)[110]: rank correlation with the fully relaxed energies 0.04 after 50
   iterations, 0.86 after 400; docs/gb_search.md), not well enough to pick it alone.
3. **Full relaxation** of the states ranked among the ``n_full`` best screened ones (CG to ``ftol``).
4. **Refinement.** Around the ``n_refine`` best fully relaxed states, translations at half the previous spacing
   (the 8 neighbours in x and z, at the deletion level closest to the parent's atom count) and, when the coarse
   round skipped levels, the parent's translation at the next smaller and larger atom counts are screened, and any
   that enters the ``n_full`` best is fully relaxed. The search so walks the atom density from the coarse levels
   to the best one. Rounds repeat until a round lowers the best energy by less than ``tolerance`` (mJ/m²), or
   ``refine_rounds`` is reached.
5. **Microstates.** The fully relaxed states are de-duplicated (same atom count, energy within 0.05 mJ/m² and the
   same sorted per-atom energies: the same structure up to a lattice translation) and the ``ensemble.states``
   lowest within ``ensemble.max_delta`` of the minimum are relaxed with the final settings (optionally after an
   MD anneal + quench of the ``anneal_best`` best). The lowest is the boundary's ground state. An annealed state
   whose boundaries moved by more than ``anneal.max_boundary_shift`` (``nyegan.relax.migration``) is recorded
   with the reason (``rejected``) and never chosen.

States are compared by γ = (E + N·E_coh)/(2A), not by E, since deletion changes N. MPI ranks form partitions
(``nyegan.relax.parallel``) that evaluate states concurrently; a state is fully relaxed by the partition that
screened it, continuing from its screened structure. Every state's record (stage, round, translation, cutoff,
atoms deleted, γ, iterations) is kept in the output.

**Checkpoint and resume** (``nyegan.relax.checkpoint``). With a checkpoint path, finished screened, fully relaxed
and annealed records are appended to it as they finish; a rerun of the same search loads them and skips those
states. The rounds then replay in the same order, deciding the same way, and new work starts where the killed run
stopped. A structure needed again (a resumed state chosen for full or final relaxation, or for the anneal) is
rebuilt from its state key by replaying its CG runs, which are deterministic on the same MPI layout.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nyegan.potentials import CubicProperties, Potential
from nyegan.progress import progress_bar
from nyegan.relax.checkpoint import SearchCheckpoint, search_identity
from nyegan.relax.energy import gb_energy_mj_m2
from nyegan.relax.engine import LammpsRelaxer, MinimizeResult
from nyegan.relax.migration import boundary_positions, migration_check
from nyegan.relax.parallel import is_root, my_share, split_partitions
from nyegan.relax.settings import MinimizeSettings, RelaxSettings
from nyegan.relax.states import (
    TrialState,
    apply_state,
    deletion_levels,
    geometry_key,
    grid_points,
    neighbour_translations,
    translate,
    translation_grid,
)
from nyegan.structure import Structure

N_FINGERPRINT = 64  # quantiles of the sorted per-atom energies compared for de-duplication
SAME_GAMMA_MJ_M2 = 0.05
SAME_PE_EV = 1e-3
SYNC_STATES = 4  # states each partition screens between two exchanges of records (and checkpoint writes)


def partition_log(log_file, color: int):
    """Partition 0 logs to ``log_file``; partition k to ``log_file.pk`` (appended to it at the end)."""
    if log_file is None:
        return None
    return Path(log_file) if color == 0 else Path(f"{log_file}.p{color}")


def merge_partition_logs(log_file, n_partitions: int):
    """Append the partition logs to the main log and remove them (world rank 0)."""
    if log_file is None:
        return
    main = Path(log_file)
    with open(main, "a") as out:
        for k in range(1, n_partitions):
            part = Path(f"{log_file}.p{k}")
            if part.exists():
                out.write(f"\n# ---- nyegan: LAMMPS log of MPI partition {k} ----\n")
                out.write(part.read_text(errors="replace"))
                part.unlink()


def screen_minimize_settings(settings: RelaxSettings) -> MinimizeSettings:
    m, s = settings.minimize, settings.search
    return MinimizeSettings(etol=s.etol, ftol=s.screen_ftol, maxiter=s.screen_maxiter, maxeval=10 * s.screen_maxiter,
                            box_relax=m.box_relax, vmax=m.vmax, fnorm_fail=np.inf)  # fmt: skip


def search_minimize_settings(settings: RelaxSettings) -> MinimizeSettings:
    m, s = settings.minimize, settings.search
    return MinimizeSettings(etol=s.etol, ftol=s.ftol, maxiter=s.maxiter, maxeval=10 * s.maxiter,
                            box_relax=m.box_relax, vmax=m.vmax, fnorm_fail=np.inf)  # fmt: skip


def fingerprint(s: Structure) -> np.ndarray:
    """Translation-invariant descriptor of a relaxed state: quantiles of its sorted per-atom energies (eV)."""
    pe = np.sort(np.asarray(s.extra["pe"], float))
    return np.quantile(pe, np.linspace(0.0, 1.0, N_FINGERPRINT))


def same_structure(a: dict, b: dict) -> bool:
    """Two fully relaxed state records describe the same structure up to a lattice translation."""
    return (
        a["n_atoms"] == b["n_atoms"]
        and abs(a["gb_energy_mJ_m2"] - b["gb_energy_mJ_m2"]) < SAME_GAMMA_MJ_M2
        and np.max(np.abs(np.asarray(a["fingerprint"]) - np.asarray(b["fingerprint"]))) < SAME_PE_EV
    )


@dataclass
class _Search:
    """State of one GB search on one MPI partition; collective methods run on every rank of ``comm``."""

    base: Structure
    potential: Potential
    props: CubicProperties
    settings: RelaxSettings
    comm: object
    log_file: object
    case: str
    checkpoint_path: object = None
    unperturbed: object = None  # the structure before relax.jitter: deletions and symmetry images are judged on it
    d_nn: float = 0.0
    area: float = 0.0
    screened: dict = field(default_factory=dict)  # state key -> record (all ranks)
    full: dict = field(default_factory=dict)  # state key -> record (all ranks)
    rejected: dict = field(default_factory=dict)  # annealed states whose boundaries migrated (all ranks)
    structures: dict = field(default_factory=dict)  # state key -> Structure (ranks of the owner partition)
    order: list = field(default_factory=list)  # state keys in the order they were screened
    geometries: dict = field(default_factory=dict)  # geometry key of an initial structure -> the state relaxed
    equivalent: list = field(default_factory=list)  # states skipped as images of a relaxed one
    runs: dict = field(default_factory=lambda: dict.fromkeys(("screen", "full", "final", "anneal", "replay"), 0))
    resumed: dict = field(default_factory=dict)  # what came from a checkpoint (world rank 0 reports it)

    def __post_init__(self):
        # deletion levels and symmetry images are judged on the structure before relax.jitter
        self.reference = self.base if self.unperturbed is None else self.unperturbed
        self.d_nn = self.props.a0 / np.sqrt(2.0)
        self.area = float(self.base.cell[0, 0] * self.base.cell[2, 2])
        self.sub, self.color, self.n_part = split_partitions(self.comm, self.settings.ranks_per_state)
        self.relaxer = LammpsRelaxer(self.potential, n_types=2, comm=self.sub,
                                     log_file=partition_log(self.log_file, self.color), case=self.case)  # fmt: skip
        self.checkpoint = None

    # -- records and the checkpoint -------------------------------------------------------------------------
    def _gather(self, records: list[dict]) -> list[dict]:
        if self.comm is None:
            return records
        return [r for part in self.comm.allgather(records) for r in part]

    def _finished(self, event: str, records: list[dict]) -> None:
        """Store records gathered from every partition (all ranks) and append them to the checkpoint (rank 0)."""
        for rec in records:
            key = tuple(rec["key"])
            if event in ("screen", "anneal") and key not in self.screened:
                self.order.append(key)
            if event == "screen":
                self.screened[key] = rec
            else:  # an annealed state whose boundaries migrated is kept on record, never chosen
                (self.rejected if rec.get("rejected") else self.full)[key] = rec
                self.screened.setdefault(key, {**rec, "stage": "anneal"})
        if self.checkpoint is not None:
            self.checkpoint.append(event, records)

    def resume(self) -> None:
        """Open the checkpoint (world rank 0) and take over the records a killed run of this search left in it.
        A resumed state is owned by partition (its screening index mod the partitions): it holds no structure
        until one is needed (:meth:`_structure`)."""
        if self.checkpoint_path is None:
            return
        loaded = None
        if is_root(self.comm):
            ident = search_identity(self.base, self.settings, self.potential.sha256())
            self.checkpoint = SearchCheckpoint(self.checkpoint_path, ident)
            records, note = self.checkpoint.load()
            self.checkpoint.open()
            loaded = (records, note)
        if self.comm is not None:
            loaded = self.comm.bcast(loaded, root=0)
        records, note = loaded
        owner = {}
        for rec in records["screen"]:
            owner.setdefault(tuple(rec["key"]), len(owner) % self.n_part)
        for event in ("screen", "full", "anneal"):
            recs = [{**r, "partition": owner.get(tuple(r["key"][:3]), 0)} for r in records[event]]
            checkpoint, self.checkpoint = self.checkpoint, None  # already in the file
            self._finished(event, recs)
            self.checkpoint = checkpoint
        if note:  # a checkpoint was there: resumed, or ignored as another search's
            self.resumed = {"path": str(self.checkpoint_path), "note": note,
                            **{f"n_{e}": len(records[e]) for e in ("screen", "full", "anneal")}}  # fmt: skip

    # -- structures of finished states ----------------------------------------------------------------------
    def _keep(self, key: tuple) -> Structure:
        s = self.relaxer.structure()  # collective over the partition: every rank keeps it (LAMMPS loads from all)
        self.structures[key] = s
        return s

    def _structure(self, key: tuple) -> Structure:
        """The latest structure of a finished state (owner partition): the stored one, or for a state resumed from
        a checkpoint, rebuilt by replaying its CG runs (screening, then full when it was fully relaxed; an
        annealed state from its parent, with the same seeded anneal)."""
        if key in self.structures:
            return self.structures[key]
        if key[-1] == "anneal":
            self._anneal(self._structure(key[:-1]))
        else:
            rec = self.screened[key]  # the exact translation (the key is rounded)
            s, _ = apply_state(self.base, TrialState(rec["tx"], rec["tz"], rec["cutoff_nn"]), self.d_nn,
                               reference=self.reference)  # fmt: skip
            self.relaxer.load(s)
            self.relaxer.minimize(screen_minimize_settings(self.settings))
            if key in self.full:
                self.relaxer.load(self.relaxer.structure())
                self.relaxer.minimize(search_minimize_settings(self.settings))
        self._count("replay")
        return self._keep(key)

    def _anneal(self, parent: Structure) -> tuple[MinimizeResult, np.ndarray]:
        """Load ``parent``, locate its boundaries (CNA), anneal and quench it (the same steps when a resumed
        search rebuilds the state). Returns the quench's result and the boundary positions before the anneal."""
        self.relaxer.load(parent)
        before = boundary_positions(parent, self.relaxer.cna(self.props.a0))
        self.relaxer.anneal(self.settings.anneal)
        return self.relaxer.minimize(search_minimize_settings(self.settings)), before

    def _count(self, kind: str) -> None:
        if is_root(self.sub):
            self.runs[kind] += 1

    def run_counts(self) -> dict:
        """CG runs of this process by kind, summed over partitions (collective)."""
        if self.comm is None:
            return dict(self.runs)
        parts = self.comm.allgather(self.runs)
        return {k: sum(p[k] for p in parts) for k in self.runs}

    # -- collective steps -----------------------------------------------------------------------------------
    def _gamma(self, res: MinimizeResult) -> float:
        return gb_energy_mj_m2(res.energy, res.n_atoms, self.props.ecoh, self.area)

    def _result(self, res: MinimizeResult) -> dict:
        return {"gb_energy_mJ_m2": self._gamma(res), "energy_eV": res.energy, "n_atoms": res.n_atoms,
                "iterations": res.iterations, "fnorm": res.fnorm, "converged": res.converged,
                "stop_criterion": res.stop_criterion}  # fmt: skip

    def distinct(self, states: list[TrialState], round_: int) -> list[TrialState]:
        """``states`` without those whose initial structure is an image, under a symmetry of the cell, of an earlier
        state's (:func:`~nyegan.relax.states.geometry_key`, on the structure before ``relax.jitter``): the same
        boundary state. The skipped ones are recorded with the state they repeat. Deterministic, so every rank and
        a resumed run agree."""
        if not self.settings.search.skip_equivalent:
            return states
        out = []
        for st in states:
            s, n_deleted = apply_state(self.reference, st, self.d_nn)
            geo = geometry_key(s)
            first = self.geometries.setdefault(geo, st.key)
            if first == st.key:
                out.append(st)
            else:
                self.equivalent.append({**st.to_dict(), "n_deleted": n_deleted, "round": round_,
                                        "same_as": list(first)})  # fmt: skip
        return out

    def screen(self, states: list[TrialState], round_: int) -> None:
        """Cheap CG of every new state; records on every rank, structures kept by the screening partition.
        Partitions exchange their records every ``SYNC_STATES`` states (every state when serial), and rank 0
        appends them to the checkpoint."""
        states = list({st.key: st for st in states if st.key not in self.screened}.values())
        minimize = screen_minimize_settings(self.settings)
        share = my_share(len(states), self.color, self.n_part)
        per_sync = 1 if self.n_part == 1 else SYNC_STATES
        n_sync = math.ceil(math.ceil(len(states) / self.n_part) / per_sync)  # the same on every rank
        desc = f"{self.case}: screening round {round_}"
        with progress_bar(total=len(share), desc=desc, unit="state", show=None if is_root(self.comm) else False) as bar:
            for k in range(n_sync):
                mine = []
                for i in share[k * per_sync : (k + 1) * per_sync]:
                    st = states[i]
                    s, n_deleted = apply_state(self.base, st, self.d_nn, reference=self.reference)
                    self.relaxer.load(s)
                    res = self.relaxer.minimize(minimize)
                    self._count("screen")
                    self._keep(st.key)
                    if is_root(self.sub):
                        mine.append({**st.to_dict(), "key": list(st.key), "n_deleted": n_deleted, "stage": "screen",
                                     "round": round_, "partition": self.color, **self._result(res)})  # fmt: skip
                    bar.update()
                self._finished("screen", self._gather(mine))

    def relax_full(self, keys: list[tuple], minimize: MinimizeSettings, stage: str, round_: int) -> list[dict]:
        """Continue the screened states ``keys`` to a full minimisation (owner partitions); returns their new
        records (all ranks) and stores them in ``self.full`` (``stage`` "full") or returns them only. Each
        partition relaxes one of its states per step; records are exchanged (and checkpointed) after each step."""
        owned = [[k for k in keys if self.screened[k]["partition"] == c] for c in range(self.n_part)]
        records = []
        for step in range(max(map(len, owned), default=0)):  # the same number of steps on every rank
            mine = []
            for key in owned[self.color][step : step + 1]:
                self.relaxer.load(self._structure(key))
                res = self.relaxer.minimize(minimize)
                self._count(stage)
                out = self._keep(key)
                if is_root(self.sub):
                    rec = {**self.screened[key], "stage": stage, "round": round_, **self._result(res),
                           "fingerprint": fingerprint(out).tolist()}  # fmt: skip
                    if stage == "final":
                        rec["convergence"] = {k: v for k, v in res.to_dict().items() if k != "box_lengths"}
                    mine.append(rec)
            got = self._gather(mine)
            if stage == "full":
                self._finished("full", got)
            records += got
        return records

    def anneal(self, keys: list[tuple], round_: int) -> list[dict]:
        """MD anneal (relax.anneal) + quench of fully relaxed states: new candidates (records, all ranks)."""
        mine = []
        for key in keys:
            if self.screened[key]["partition"] != self.color:
                continue
            akey = (*key, "anneal")
            if akey in self.full or akey in self.rejected:  # resumed from a checkpoint
                continue
            res, before = self._anneal(self._structure(key))
            self._count("anneal")
            out = self._keep(akey)
            after = boundary_positions(out, self.relaxer.cna(self.props.a0))
            if is_root(self.sub):
                mine.append({**self.screened[key], "key": list(akey), "stage": "anneal", "round": round_,
                             "anneal_temperature_K": self.settings.anneal.temperature, **self._result(res),
                             **migration_check(before, after, self.settings.anneal.max_boundary_shift),
                             "fingerprint": fingerprint(out).tolist()})  # fmt: skip
        records = self._gather(mine)
        self._finished("anneal", records)
        return records

    def structure_to_root(self, key: tuple) -> Structure | None:
        """The structure of ``key`` on world rank 0 (None elsewhere)."""
        owner = self.screened[key]["partition"]
        if self.comm is None or self.comm.Get_size() == 1:
            return self.structures[key]
        payload = self.structures.get(key) if (self.color == owner and is_root(self.sub)) else None
        root_of_owner = self.comm.allreduce(self.comm.Get_rank() if payload is not None else -1, op=_max_op())
        if root_of_owner == 0:
            return payload if self.comm.Get_rank() == 0 else None
        if self.comm.Get_rank() == root_of_owner:
            self.comm.send(payload, dest=0, tag=71)
        elif self.comm.Get_rank() == 0:
            return self.comm.recv(source=root_of_owner, tag=71)
        return None

    def close(self):
        self.relaxer.close()
        if self.checkpoint is not None:
            self.checkpoint.close()


def _max_op():
    from mpi4py import MPI

    return MPI.MAX


def _coarse_states(search: _Search, periods, twist: bool = False) -> tuple[list[TrialState], tuple[float, float]]:
    """The coarse grid: along x and z at ``translation_spacing`` (a twist boundary has no tilt axis in its plane:
    both in-plane directions take the x spacing)."""
    sr = search.settings.search
    spacing = (sr.translation_spacing[0],) * 2 if twist else sr.translation_spacing
    n = tuple(sr.translations) if sr.translations else grid_points(periods, spacing)
    steps = (periods[0] / n[0], periods[1] / n[1])
    states = []
    for tx, tz in translation_grid(periods, n):
        levels = deletion_levels(translate(search.reference, tx, tz), search.d_nn, sr.max_deletion_cutoff,
                                 sr.deletion_cutoffs, sr.max_deletion_levels)  # fmt: skip
        states += [TrialState(float(tx), float(tz), cut) for cut, _ in levels]
    return states, steps


def _refined_states(search: _Search, parents: list[dict], steps, periods) -> list[TrialState]:
    """Neighbour translations at ``steps`` around each parent, at the deletion level closest to its atom count;
    with capped coarse levels also the parent's translation at the neighbouring atom counts (one fewer and one
    more deletion level)."""
    sr = search.settings.search
    out = []
    for p in parents:
        if sr.max_deletion_levels:  # the coarse round skipped levels: try the parent's neighbours in atom count
            levels = deletion_levels(translate(search.reference, p["tx"], p["tz"]), search.d_nn, sr.max_deletion_cutoff,
                                     sr.deletion_cutoffs)  # fmt: skip
            counts = [n for _, n in levels]
            i = counts.index(p["n_deleted"]) if p["n_deleted"] in counts else None
            if i is not None:
                out += [TrialState(p["tx"], p["tz"], levels[j][0]) for j in (i - 1, i + 1) if 0 <= j < len(levels)]
        for tx, tz in neighbour_translations(p["tx"], p["tz"], steps[0], steps[1], periods):
            levels = deletion_levels(translate(search.reference, tx, tz), search.d_nn, sr.max_deletion_cutoff,
                                     sr.deletion_cutoffs)  # fmt: skip
            cut, _ = min(levels, key=lambda lv: (abs(lv[1] - p["n_deleted"]), lv[0]))
            out.append(TrialState(tx, tz, cut))
    return out


def _top_keys(records: dict, n: int) -> list[tuple]:
    return [k for k, _ in sorted(records.items(), key=lambda kv: (kv[1]["gb_energy_mJ_m2"], kv[0]))[:n]]


def select_ensemble(full_records: list[dict], n_states: int, max_delta: float) -> list[dict]:
    """The ``n_states`` lowest distinct records within ``max_delta`` (mJ/m²) of the lowest, in order."""
    chosen: list[dict] = []
    for rec in sorted(full_records, key=lambda r: r["gb_energy_mJ_m2"]):
        if chosen and rec["gb_energy_mJ_m2"] - chosen[0]["gb_energy_mJ_m2"] > max_delta:
            break
        if any(same_structure(rec, c) for c in chosen):
            continue
        chosen.append(rec)
        if len(chosen) == n_states:
            break
    return chosen


def _final_states(search: _Search, ens, full_min: MinimizeSettings, n_full: int, round_: int) -> list[dict]:
    """Relax candidates with the final settings, best first, until ``ens.states`` distinct ones lie within
    ``ens.max_delta`` of the lowest: states that differ after the search relaxation may still fall into one
    minimum under the tight one, so distinctness is judged on final structures. More screened states are fully
    relaxed when the pool runs out."""
    finals: list[dict] = []
    tried: set = set()
    while True:
        chosen = select_ensemble(finals, ens.states, ens.max_delta)
        if len(chosen) >= ens.states:
            return chosen
        lowest = chosen[0]["gb_energy_mJ_m2"] if chosen else None
        pool = sorted(search.full.values(), key=lambda r: r["gb_energy_mJ_m2"])
        batch = [tuple(r["key"]) for r in pool if tuple(r["key"]) not in tried
                 and (lowest is None or r["gb_energy_mJ_m2"] - lowest <= ens.max_delta + 10.0)][: ens.states - len(chosen)]  # fmt: skip
        if batch:
            tried.update(batch)
            finals += search.relax_full(batch, search.settings.minimize, "final", round_)
            continue
        todo = [k for k in _top_keys(search.screened, len(search.screened)) if k not in search.full][:n_full]
        if not todo or (lowest is not None and min(search.screened[k]["gb_energy_mJ_m2"] for k in todo) - lowest
                        > 2 * ens.max_delta):  # fmt: skip
            return chosen  # fewer distinct states than asked exist within the window
        search.relax_full(todo, full_min, "full", round_)


def search_gb(base: Structure, meta: dict, potential: Potential, props: CubicProperties, settings: RelaxSettings,
              comm=None, log_file=None, case: str = "?", checkpoint=None, unperturbed=None):  # fmt: skip
    """Run the GB search on ``comm`` (None: serial). Returns, on world rank 0, (relaxed structures of the kept
    states, lowest first, each with ``extra["pe"]``; record dict); (None, None) on the other ranks.
    ``checkpoint``: path of the search's checkpoint (resumed when it holds records of this same search; left in
    place at the end: the caller removes it once its outputs are written). ``unperturbed``: ``base`` before
    ``relax.jitter`` (default: ``base``), on which the atoms to delete are chosen and symmetry-equivalent states
    recognised."""
    t0 = time.perf_counter()
    sr, ens = settings.search, settings.ensemble
    periods = (float(meta["periodic_cell"][0]), float(meta["periodic_cell"][2]))
    search = _Search(base, potential, props, settings, comm, log_file, case, checkpoint, unperturbed=unperturbed)
    n_full = max(sr.n_full, 2 * ens.states)
    full_min = search_minimize_settings(settings)
    history = []
    try:
        search.resume()
        states, steps = _coarse_states(search, periods, meta.get("boundary_type") == "symmetric_twist")
        for round_ in range(sr.refine_rounds + 1):
            states = search.distinct(states, round_)
            search.screen(states, round_)
            todo = [k for k in _top_keys(search.screened, n_full) if k not in search.full]
            search.relax_full(todo, full_min, "full", round_)
            best = min(r["gb_energy_mJ_m2"] for r in search.full.values())
            history.append({"round": round_, "n_screened": len(search.screened), "n_full": len(search.full),
                            "n_equivalent": len(search.equivalent),
                            "best_gb_energy_mJ_m2": best, "translation_step_A": list(steps)})  # fmt: skip
            if round_ > 0 and history[-2]["best_gb_energy_mJ_m2"] - best < sr.tolerance:
                break
            steps = (steps[0] / 2, steps[1] / 2)
            parents = [search.full[k] for k in _top_keys(search.full, sr.n_refine)]
            states = list({st.key: st for st in _refined_states(search, parents, steps, periods)  # once each
                           if st.key not in search.screened}.values())  # fmt: skip
            if not states:
                break
        if settings.anneal.enabled and sr.anneal_best > 0:
            search.anneal(_top_keys(search.full, sr.anneal_best), len(history))
        final = _final_states(search, ens, full_min, n_full, len(history))
        members = [(rec, search.structure_to_root(tuple(rec["key"]))) for rec in final]
        result = members if is_root(comm) else None
        runs = search.run_counts()
    finally:
        search.close()
        if comm is not None:
            comm.Barrier()
    if not is_root(comm):
        return None, None
    merge_partition_logs(log_file, search.n_part)
    all_records = [
        {k: v for k, v in search.screened[key].items() if k not in ("fingerprint", "key")}
        | {"full_gb_energy_mJ_m2": search.full[key]["gb_energy_mJ_m2"] if key in search.full else None}
        for key in search.order
    ]
    for i, r in enumerate(all_records):
        r["index"] = i
    best_rec, _ = result[0]
    unshifted = search.screened.get(TrialState(0.0, 0.0, 0.0).key)
    record = {
        "gb_energy_mJ_m2": best_rec["gb_energy_mJ_m2"],
        "chosen_state": {
            **{k: best_rec[k] for k in ("tx", "tz", "cutoff_nn", "n_deleted", "stage", "round")},
            "index": search.order.index(tuple(best_rec["key"][:3])),
            "deletion_cutoff_A": best_rec["cutoff_nn"] * search.d_nn,
            "search_gb_energy_mJ_m2": search.full[tuple(best_rec["key"])]["gb_energy_mJ_m2"],
        },  # fmt: skip
        "n_states": len(search.screened),
        "n_full_relaxations": len(search.full),
        "cg_runs": runs,  # CG runs of this process by kind ("replay": structures rebuilt after a resume)
        "resumed": search.resumed or None,
        "search_rounds": history,
        "states": all_records,
        "equivalent_states": search.equivalent,
        "unshifted_gb_energy_mJ_m2": unshifted["gb_energy_mJ_m2"] if unshifted else None,
        "n_partitions": search.n_part,
        "ranks_per_state": settings.ranks_per_state if search.n_part > 1 else (comm.Get_size() if comm else 1),
        "search_wall_time_s": time.perf_counter() - t0,
    }
    return result, record


def relax_single(s: Structure, potential: Potential, settings: RelaxSettings, minimize: MinimizeSettings,
                 comm=None, log_file=None, case: str = "?", cna_a0: float | None = None,
                 boundaries_a0: float | None = None):  # fmt: skip
    """Relax one structure on all ranks of ``comm`` (one LAMMPS instance). Returns (Structure, MinimizeResult,
    anneal info) on rank 0, (None, None, None) elsewhere. ``cna_a0``: also classify atoms (extra["cna"]).
    ``boundaries_a0``: the cell is a bicrystal (boundaries at Ly/4 and 3Ly/4, lattice constant in Å): with an
    anneal, its boundaries are located before and after (``nyegan.relax.migration``), and when one moved by more
    than ``anneal.max_boundary_shift`` the annealed structure is dropped for the one relaxed before the anneal."""
    relaxer = LammpsRelaxer(potential, n_types=max(2, int(s.grain.max())), comm=comm, log_file=log_file, case=case)
    try:
        relaxer.load(s)
        anneal_info = None
        if settings.anneal.enabled:
            before = relaxer.minimize(minimize)
            unannealed = relaxer.structure() if boundaries_a0 else None
            y0 = boundary_positions(unannealed, relaxer.cna(boundaries_a0)) if boundaries_a0 else None
            relaxer.anneal(settings.anneal)
            anneal_info = {"temperature_K": settings.anneal.temperature, "steps": settings.anneal.steps,
                           "energy_before_eV": before.energy}  # fmt: skip
        res: MinimizeResult = relaxer.minimize(minimize)
        out = relaxer.structure()
        if anneal_info is not None and boundaries_a0:
            after = boundary_positions(out, relaxer.cna(boundaries_a0))
            anneal_info.update(migration_check(y0, after, settings.anneal.max_boundary_shift))
            if "rejected" in anneal_info:
                anneal_info["rejected"] += ": the structure relaxed before the anneal is kept"
                relaxer.load(unannealed)
                res = relaxer.minimize(minimize)
                out = relaxer.structure()
        if cna_a0:
            out.extra["cna"] = relaxer.cna(cna_a0)
    finally:
        relaxer.close()
    if not is_root(comm):
        return None, None, None
    return out, res, anneal_info
