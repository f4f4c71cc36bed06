"""Relax one case (GB or dislocation cell) end to end: checks, LAMMPS, energies, outputs.

Non-convergence policy: a final minimisation that stops on a converged criterion (energy/force tolerance,
line search exhausted at machine precision) is accepted. One that stops on ``maxiter``/``maxeval`` is accepted
with a warning (recorded in the JSON ``warnings``) when the force norm is below ``fnorm_fail`` (eV/Å; the energy
is then converged to well below 1 mJ/m² for the cells used here), and is an error above it. Search states are
never errors: they are screened, and their convergence is recorded per state.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

import nyegan
from nyegan.config import top_level_default
from nyegan.contracts import RELAXED, STRUCTURE
from nyegan.defects.partials import dislocation_partials
from nyegan.io import atomic_path, read_data
from nyegan.io.atomic import _to_jsonable
from nyegan.io.lammps_dump import write_dump_frames
from nyegan.potentials import Potential, cubic_properties, resolve_potential
from nyegan.provenance import provenance
from nyegan.relax.checkpoint import checkpoint_path_for
from nyegan.relax.energy import excess_energy, gb_energy_mj_m2
from nyegan.relax.ensemble import md_snapshots
from nyegan.relax.errors import RelaxError
from nyegan.relax.parallel import is_root
from nyegan.relax.search import relax_single, search_gb
from nyegan.relax.settings import RelaxSettings
from nyegan.structure import Structure


def check_min_distance(s: Structure, min_distance: float, case: str):
    """Raise if two atoms are closer than ``min_distance`` (Å): an overlapping ("blown-up") input."""
    if min_distance <= 0 or s.n_atoms < 2:
        return
    w = s.wrapped()
    box = np.where(s.pbc, np.diag(s.cell), np.inf) if s.is_orthogonal and all(s.pbc) else None
    pts = w.positions - s.origin
    if box is not None:
        pts = np.mod(pts, box)
    pairs = cKDTree(pts, boxsize=box).query_pairs(min_distance, output_type="ndarray")
    if len(pairs):
        i, j = pairs[0]
        d = np.linalg.norm(s.minimum_image((s.positions[i] - s.positions[j])[None]))
        raise RelaxError(
            case,
            f"{len(pairs)} atom pair(s) closer than relax.min_pair_distance = {min_distance} Å "
            f"(e.g. atoms {s.ids[i]} and {s.ids[j]} at {d:.3f} Å): the input structure "
            f"overlaps; rebuild it (overlap_cutoff) or lower min_pair_distance",
        )


def check_convergence(res, fnorm_fail: float, case: str, log_file) -> list[str]:
    if res.converged:
        return []
    msg = (
        f"final minimisation stopped on '{res.stop_criterion}' after {res.iterations} iterations with force "
        f"norm {res.fnorm:.3g} eV/Å"
    )
    if res.fnorm > fnorm_fail:
        raise RelaxError(
            case, msg + f" > relax.fnorm_fail = {fnorm_fail} eV/Å: not converged; raise relax.maxiter", log_file
        )
    warnings.warn(f"case '{case}': {msg} (below fnorm_fail, accepted)", stacklevel=2)
    return [msg]


def relax_case(
    s: Structure,
    meta: dict,
    potential: str | Potential,
    settings: RelaxSettings,
    *,
    gb_search: bool | None = None,
    comm=None,
    log_file=None,
    element: str | None = None,
    checkpoint=None,
) -> tuple[list[Structure] | None, dict | None]:
    """Relax ``s`` described by ``meta`` (builder metadata). GB cells (meta["kind"] == "gb") get the translation
    / deletion search unless ``gb_search`` is False; other cells a plain CG (box relaxation per settings). With
    ``relax.ensemble`` the kept metastable states and MD snapshots follow the ground state.
    ``potential``: a Potential or a name/path resolved for ``element``. ``checkpoint``: path where the GB search
    appends its finished states, and resumes from (``nyegan.relax.checkpoint``). Collective over ``comm``; returns
    (the frames: relaxed Structures with extra["pe"], ground state first; record) on rank 0, (None, None) else."""
    t0 = time.perf_counter()
    case = str(meta.get("case", "structure"))
    got = None
    if is_root(comm):  # one rank computes (or reads the cached) properties; all ranks get the same answer
        try:
            pot = potential if isinstance(potential, Potential) else resolve_potential(potential, element)
            got = (pot, cubic_properties(pot))
        except (FileNotFoundError, ValueError) as exc:
            got = RelaxError(case, f"bad potential: {exc}")
        except Exception as exc:  # noqa: BLE001 - LAMMPS failing on the potential file
            got = RelaxError(case, f"bad potential {potential}: LAMMPS says: {str(exc).strip()}")
    if comm is not None:
        got = comm.bcast(got, root=0)
    if isinstance(got, Exception):
        raise got
    pot, props = got
    check_min_distance(s, settings.min_pair_distance, case)
    unperturbed = s  # the GB search judges which states are symmetry images on the structure without jitter
    if settings.jitter > 0:  # same displacements on every rank: seeded by the structure's own seed
        rng = np.random.default_rng([int(meta.get("seed", 0)), 7919])
        s = s.copy(positions=s.positions + rng.normal(0.0, settings.jitter, size=s.positions.shape))
    is_gb = meta.get("kind") == "gb"  # bicrystals; gb_dislocation cells relax without a search
    do_search = is_gb and (settings.gb_search if gb_search is None else gb_search)
    if "a0" in meta and abs(float(meta["a0"]) - props.a0) > 1e-3 * props.a0:
        warnings.warn(
            f"case '{case}': structure built with a0 = {meta['a0']} Å but {pot.name} has a0 = "
            f"{props.a0:.5f} Å; the grains start strained",
            stacklevel=2,
        )
    area = float(s.cell[0, 0] * s.cell[2, 2])
    minimize = settings.minimize if is_gb else settings.minimize.with_box_relax(settings.dislocation_box_relax)
    if do_search:
        members, rec = search_gb(
            s,
            meta,
            pot,
            props,
            settings,
            comm=comm,
            log_file=log_file,
            case=case,
            checkpoint=checkpoint,
            unperturbed=unperturbed,
        )
    else:
        disl = meta.get("dislocations")
        out, res, anneal = relax_single(
            s,
            pot,
            settings,
            minimize,
            comm=comm,
            log_file=log_file,
            case=case,
            cna_a0=props.a0 if disl else None,
            boundaries_a0=props.a0 if is_gb else None,
        )
        members, rec = None, None
        if is_root(comm):
            conv = {k: v for k, v in res.to_dict().items() if k != "box_lengths"}
            first = {"stage": "final", "energy_eV": res.energy, "n_atoms": res.n_atoms, "convergence": conv}
            rec = {"anneal": anneal, "n_states": 1}
            if disl:
                rec["partials"] = dislocation_partials(out, meta, pot, props)
            if is_gb:
                first.update(tx=0.0, tz=0.0, cutoff_nn=0.0, n_deleted=0)
                first["gb_energy_mJ_m2"] = gb_energy_mj_m2(res.energy, res.n_atoms, props.ecoh, area)
                rec["chosen_state"] = {"index": 0, "tx": 0.0, "tz": 0.0, "cutoff_nn": 0.0, "deletion_cutoff_A": 0.0,
                                       "n_deleted": 0}  # fmt: skip
            members = [(first, out)]
    if settings.ensemble.md.enabled:  # collective: the ground state goes to every rank first
        ground = members[0][1] if is_root(comm) else None
        if comm is not None:
            ground = comm.bcast(ground, root=0)
        snaps = md_snapshots(ground, pot, settings, minimize, comm=comm, log_file=log_file, case=case)
        if is_root(comm):
            for snap_rec, snap in snaps:
                if is_gb:
                    snap_rec["gb_energy_mJ_m2"] = gb_energy_mj_m2(snap_rec["energy_eV"], snap.n_atoms, props.ecoh, area)
                members.append((snap_rec, snap))
    if not is_root(comm):
        return None, None
    best_rec, best = members[0]
    rec["energy_eV"] = best_rec["energy_eV"]
    rec["convergence"] = best_rec["convergence"]
    if "gb_energy_mJ_m2" in best_rec:
        rec["gb_energy_mJ_m2"] = best_rec["gb_energy_mJ_m2"]
    from nyegan.relax.engine import MinimizeResult

    warn = []
    for m_rec, _ in members:
        if "convergence" in m_rec:
            warn += check_convergence(MinimizeResult(**m_rec["convergence"], box_lengths=[]),
                                      settings.minimize.fnorm_fail, case, log_file)  # fmt: skip
    rec["warnings"] = warn
    rec["ensemble"] = [
        {k: v for k, v in m.items() if k not in ("convergence", "fingerprint", "key", "partition")}
        | {"rank": i, "temperature_K": m.get("temperature_K", 0.0)}
        for i, (m, _) in enumerate(members)
    ]
    n = best.n_atoms
    record = {
        "case": case,
        "kind": meta.get("kind", "gb" if is_gb else "other"),
        **rec,
        "n_atoms": n,
        "n_frames": len(members),
        "excess_energy_eV": excess_energy(rec["energy_eV"], n, props.ecoh),
        "cell": best.cell,
        "gb_search": bool(do_search),
        "potential": {"name": pot.name, "path": str(pot.path), "sha256": pot.sha256(), "pair_style": pot.pair_style},
        "a0": props.a0,
        "ecoh_eV": props.ecoh,
        "settings": asdict(settings),
        "mpi_ranks": comm.Get_size() if comm is not None else 1,
        "wall_time_s": time.perf_counter() - t0,
        "build": meta,
        "nyegan_version": nyegan.__version__,
    }
    record.update(core_size_convergence(meta, settings))
    return [m for _, m in members], record


def core_size_convergence(meta: dict, settings: RelaxSettings) -> dict:
    """For dislocation cells: whether the relaxed cores are size-converged (``size_converged``, the builder's
    verdict on the cell size, and for screw cores also the jitter that lets them dissociate) and why not
    (``size_note``); {} for other cells."""
    from nyegan.structures.dislocation import CONVERGED_SCREW_JITTER

    if "size_converged" not in meta:
        return {}
    ok, notes = bool(meta["size_converged"]), [meta["note"]] if meta.get("note") else []
    if meta.get("character") == "screw" and settings.jitter <= 0:
        ok = False
        notes.append(
            f"relax.jitter = 0: the symmetric Volterra screw core can stay compact (a saddle); the size-converged "
            f"screw cell was measured with relax.jitter = {CONVERGED_SCREW_JITTER} Å"
        )
    return {"size_converged": ok, **({"size_note": "; ".join(notes)} if notes else {})}


def json_path_for(dump_path) -> Path:
    """OUT.dump -> OUT.json."""
    p = Path(dump_path)
    return p.with_suffix(".json")


def write_outputs(frames: Structure | list[Structure], record: dict, dump_path, json_path=None) -> dict:
    """Write the dump (id type x y z pe; one frame per kept state, ground state first, the frame's TIMESTEP is
    its rank) and the JSON record (``nyegan.contracts.RELAXED``, checked) together: both appear, or neither.
    Returns the record as written."""
    import json

    frames = [frames] if isinstance(frames, Structure) else list(frames)
    json_path = json_path or json_path_for(dump_path)
    record = RELAXED.check(_to_jsonable(RELAXED.stamp(record)), json_path)
    with atomic_path(dump_path) as tmp_dump, atomic_path(json_path) as tmp_json:
        write_dump_frames(tmp_dump, frames, columns=["pe"])
        tmp_json.write_text(json.dumps(record, indent=2) + "\n")
    return record


def run_relax_files(
    data_path,
    out_dump,
    *,
    metadata_path=None,
    potential: str | None = None,
    settings: RelaxSettings | None = None,
    gb_search: bool | None = None,
    log_file=None,
    comm=None,
    element: str | None = None,
):
    """File-level entry (CLI, workflow): read IN.data (+ IN.json), relax, write OUT.dump + OUT.json on rank 0.

    Stale outputs are removed first, so a failed run leaves none behind; the LAMMPS log is kept. A GB search
    appends its finished states to OUT.search.jsonl as it goes: a rerun after a kill resumes from it, and it is
    removed once the outputs are written."""
    settings = settings or RelaxSettings.defaults()
    data_path = Path(data_path)
    metadata_path = Path(metadata_path) if metadata_path else data_path.with_suffix(".json")
    json_path = json_path_for(out_dump)
    case = data_path.stem
    if json_path.resolve() == metadata_path.resolve() or Path(out_dump).resolve() == data_path.resolve():
        raise RelaxError(
            case,
            f"output {out_dump} would overwrite the input ({data_path}, {metadata_path}); "
            f"write the relaxed files elsewhere",
        )
    payload = None
    if is_root(comm):  # read once and broadcast: every rank must take the same branch
        for p in (Path(out_dump), json_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        try:
            meta = STRUCTURE.read(metadata_path) if metadata_path.exists() else {}
            meta.setdefault("case", case)
            if not data_path.exists():
                raise RelaxError(meta["case"], f"input structure {data_path} does not exist")
            payload = (read_data(data_path), meta)
        except Exception as exc:  # noqa: BLE001 - re-raised on every rank below
            payload = exc
    if comm is not None:
        payload = comm.bcast(payload, root=0)
    if isinstance(payload, Exception):
        raise payload
    s, meta = payload
    potential = potential or meta.get("potential") or top_level_default("potential")
    checkpoint = checkpoint_path_for(out_dump)
    out, record = relax_case(
        s,
        meta,
        potential,
        settings,
        gb_search=gb_search,
        comm=comm,
        log_file=log_file,
        element=element,
        checkpoint=checkpoint,
    )
    if is_root(comm):
        meta_in = metadata_path if metadata_path.exists() else None
        record["input"] = {"data": str(data_path), "metadata": str(meta_in) if meta_in else None}
        section = {**asdict(settings), "potential": str(potential), "element": element, "gb_search_override": gb_search}
        record["provenance"] = provenance("relax", section, inputs=[data_path, meta_in, record["potential"]["path"]])
        write_outputs(out, record, out_dump, json_path)
        checkpoint.unlink(missing_ok=True)  # the case is finished: nothing left to resume
    return record
