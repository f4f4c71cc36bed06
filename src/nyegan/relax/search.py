"""Grain-boundary search: relax every trial state (translation × deletion), keep the lowest boundary energy.

States are compared by γ = (E + N·E_coh)/(2A), not by E, since deletion changes N. The search minimisations
may be looser (``SearchSettings``); the winner is then (optionally annealed and) relaxed with the final
settings. Partitions of the MPI ranks evaluate states concurrently (``nyegan.relax.parallel``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nyegan.potentials import CubicProperties, Potential
from nyegan.relax.energy import gb_energy_mj_m2
from nyegan.relax.engine import LammpsRelaxer, MinimizeResult
from nyegan.relax.parallel import is_root, my_share, split_partitions
from nyegan.relax.settings import MinimizeSettings, RelaxSettings
from nyegan.relax.states import TrialState, apply_state, distinct_states, search_states
from nyegan.structure import Structure


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


def search_minimize_settings(settings: RelaxSettings) -> MinimizeSettings:
    m, s = settings.minimize, settings.search
    return MinimizeSettings(
        etol=s.etol,
        ftol=s.ftol,
        maxiter=s.maxiter,
        maxeval=10 * s.maxiter,
        box_relax=m.box_relax,
        vmax=m.vmax,
        fnorm_fail=np.inf,
    )


def search_gb(
    base: Structure,
    meta: dict,
    potential: Potential,
    props: CubicProperties,
    settings: RelaxSettings,
    comm=None,
    log_file=None,
    case: str = "?",
):
    """Run the GB search on ``comm`` (None: serial). Returns, on world rank 0, (relaxed Structure with pe,
    record dict); (None, None) on the other ranks."""
    t0 = time.perf_counter()
    d_nn = props.a0 / np.sqrt(2.0)
    area = float(base.cell[0, 0] * base.cell[2, 2])
    periods = (meta["periodic_cell"][0], meta["periodic_cell"][2])
    states = distinct_states(base, search_states(periods, settings.search), d_nn)
    sub, color, n_part = split_partitions(comm, settings.ranks_per_state)
    relaxer = LammpsRelaxer(potential, n_types=2, comm=sub, log_file=partition_log(log_file, color), case=case)
    search_min = search_minimize_settings(settings)
    records, best = [], None
    try:
        share = my_share(len(states), color, n_part)
        # progress on a terminal only (disable=None: off when stderr is not a TTY, e.g. in Snakemake logs)
        for i in tqdm(share, desc=f"{case}: GB states", unit="state", disable=None if is_root(comm) else True):
            st = states[i]
            s, n_removed = apply_state(base, st, d_nn)
            relaxer.load(s)
            res = relaxer.minimize(search_min)
            gamma = gb_energy_mj_m2(res.energy, res.n_atoms, props.ecoh, area)
            records.append(
                {
                    **st.to_dict(),
                    "n_deleted": n_removed,
                    "gb_energy_mJ_m2": gamma,
                    "partition": color,
                    **{k: v for k, v in res.to_dict().items() if k != "box_lengths"},
                }
            )
            if best is None or gamma < best[0] - 1e-9:
                best = (gamma, st.index, relaxer.structure())
        all_records = _allgather(comm, records)
        winner = min(all_records, key=lambda r: (r["gb_energy_mJ_m2"], r["index"]))
        final_s = final_res = anneal_info = None
        if winner["partition"] == color:
            assert best is not None and best[1] == winner["index"]
            final_s, final_res, anneal_info = _finish(relaxer, best[2], settings, props, area)
        result = _to_world_root(comm, color, sub, winner["partition"], (final_s, final_res, anneal_info))
    finally:
        relaxer.close()
        if comm is not None:
            comm.Barrier()
    if not is_root(comm):
        return None, None
    merge_partition_logs(log_file, n_part)
    final_s, final_res, anneal_info = result
    gamma = gb_energy_mj_m2(final_res.energy, final_res.n_atoms, props.ecoh, area)
    winner_state = TrialState(winner["index"], winner["tx"], winner["tz"], winner["cutoff_nn"])
    record = {
        "energy_eV": final_res.energy,
        "gb_energy_mJ_m2": gamma,
        "convergence": final_res.to_dict(),
        "chosen_state": {
            **winner_state.to_dict(),
            "deletion_cutoff_A": winner["cutoff_nn"] * d_nn,
            "n_deleted": winner["n_deleted"],
            "search_gb_energy_mJ_m2": winner["gb_energy_mJ_m2"],
        },
        "anneal": anneal_info,
        "n_states": len(states),
        "states": sorted(all_records, key=lambda r: r["index"]),
        "unshifted_gb_energy_mJ_m2": next(r["gb_energy_mJ_m2"] for r in all_records if r["index"] == 0),
        "n_partitions": n_part,
        "ranks_per_state": settings.ranks_per_state if n_part > 1 else (comm.Get_size() if comm else 1),
        "search_wall_time_s": time.perf_counter() - t0,
    }
    return final_s, record


def _finish(relaxer: LammpsRelaxer, s: Structure, settings: RelaxSettings, props, area):
    """Optional anneal + quench of the winner, then the final minimisation."""
    relaxer.load(s)
    anneal_info = None
    if settings.anneal.enabled:
        before = relaxer.minimize(settings.minimize)
        relaxer.anneal(settings.anneal)
        anneal_info = {
            "temperature_K": settings.anneal.temperature,
            "steps": settings.anneal.steps,
            "gb_energy_before_mJ_m2": gb_energy_mj_m2(before.energy, before.n_atoms, props.ecoh, area),
        }
    res = relaxer.minimize(settings.minimize)
    return relaxer.structure(), res, anneal_info


def _allgather(comm, records: list[dict]) -> list[dict]:
    if comm is None:
        return records
    merged = {}
    for part in comm.allgather(records):
        for r in part:
            merged[r["index"]] = r
    return list(merged.values())


def _to_world_root(comm, color, sub, owner_color, payload):
    """Move the owner partition's payload to world rank 0."""
    if comm is None or comm.Get_size() == 1:
        return payload
    world_rank = comm.Get_rank()
    owner_root = None
    if color == owner_color and sub.Get_rank() == 0:
        owner_root = world_rank
    owner_root = comm.allreduce(owner_root if owner_root is not None else -1, op=_max_op())
    if owner_root == 0:
        return payload if world_rank == 0 else None
    if world_rank == owner_root:
        comm.send(payload, dest=0, tag=71)
        return None
    if world_rank == 0:
        return comm.recv(source=owner_root, tag=71)
    return None


def _max_op():
    from mpi4py import MPI

    return MPI.MAX


def relax_single(
    s: Structure,
    potential: Potential,
    settings: RelaxSettings,
    minimize: MinimizeSettings,
    comm=None,
    log_file=None,
    case: str = "?",
    cna_a0: float | None = None,
):
    """Relax one structure on all ranks of ``comm`` (one LAMMPS instance). Returns (Structure, MinimizeResult,
    anneal info) on rank 0, (None, None, None) elsewhere. ``cna_a0``: also classify atoms (extra["cna"])."""
    relaxer = LammpsRelaxer(potential, n_types=max(2, int(s.grain.max())), comm=comm, log_file=log_file, case=case)
    try:
        relaxer.load(s)
        anneal_info = None
        if settings.anneal.enabled:
            before = relaxer.minimize(minimize)
            relaxer.anneal(settings.anneal)
            anneal_info = {
                "temperature_K": settings.anneal.temperature,
                "steps": settings.anneal.steps,
                "energy_before_eV": before.energy,
            }
        res: MinimizeResult = relaxer.minimize(minimize)
        out = relaxer.structure()
        if cna_a0:
            out.extra["cna"] = relaxer.cna(cna_a0)
    finally:
        relaxer.close()
    if not is_root(comm):
        return None, None, None
    return out, res, anneal_info
