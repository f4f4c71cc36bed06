"""The converged GB search and microstate ensembles, with real LAMMPS (Al, Mendelev EAM)."""

import numpy as np
import pytest

from nyegan.io.lammps_dump import iter_dump
from nyegan.relax import RelaxSettings, relax_case, run_relax_files
from nyegan.relax.search import same_structure
from nyegan.structures.gb import build_stgb

POT = "Al_mm.eam.fs"


@pytest.fixture(scope="module")
def s5(al_props):
    s, meta = build_stgb((0, 0, 1), (3, 1, 0), a0=al_props.a0, min_size=(10, 40, 8))
    return s, {**meta, "potential": POT, "element": "Al"}


@pytest.mark.slow
def test_default_search_matches_a_dense_search_with_fewer_relaxations(s5):
    s, meta = s5
    d = RelaxSettings.defaults().search
    dense = RelaxSettings.from_config({"gb_search": {
        "translation_spacing": [1.0, 0.5], "screen_maxiter": d.maxiter, "screen_ftol": d.ftol, "n_full": 1,
        "refine_rounds": 0, "max_deletion_levels": 0}})  # fmt: skip
    _, ref = relax_case(s, meta, POT, dense)
    _, rec = relax_case(s, meta, POT, RelaxSettings.defaults())
    # within the search tolerance of the exhaustive grid (every distinct state fully relaxed) or below it, with
    # full relaxations of a few screened states only
    assert rec["gb_energy_mJ_m2"] <= ref["gb_energy_mJ_m2"] + d.tolerance
    assert rec["n_full_relaxations"] <= 0.15 * ref["n_states"]
    # and CG runs (screened + fully relaxed states) for a third of the dense grid's states, images included
    dense_states = ref["n_states"] + len(ref["equivalent_states"])
    assert rec["n_states"] + rec["n_full_relaxations"] <= dense_states / 3
    # both dimensions were sampled: several translations and several boundary densities were screened
    states = rec["states"]
    assert len({(st["tx"], st["tz"]) for st in states}) > 4 and len({st["n_deleted"] for st in states}) > 1
    for st in states:  # every state's record is kept
        assert {"tx", "tz", "cutoff_nn", "n_deleted", "gb_energy_mJ_m2", "n_atoms", "stage", "round"} <= set(st)
    rounds = rec["search_rounds"]
    assert rounds[-1]["best_gb_energy_mJ_m2"] <= rounds[0]["best_gb_energy_mJ_m2"]
    if len(rounds) < d.refine_rounds + 1:  # stopped by the convergence rule
        assert rounds[-2]["best_gb_energy_mJ_m2"] - rounds[-1]["best_gb_energy_mJ_m2"] < d.tolerance


def test_ensemble_keeps_distinct_lowest_states_as_dump_frames(s5, tmp_path):
    from _structures import write_structure_meta

    from nyegan.io import write_data

    s, meta = s5
    data = tmp_path / "s5.data"
    write_data(data, s)
    write_structure_meta(data.with_suffix(".json"), meta)
    settings = RelaxSettings.from_config({"ensemble": {"states": 3, "max_delta": 200.0}})
    rec = run_relax_files(data, tmp_path / "out" / "s5.dump", settings=settings)
    ens = rec["ensemble"]
    assert len(ens) == 3 and [e["rank"] for e in ens] == [0, 1, 2]
    gammas = [e["gb_energy_mJ_m2"] for e in ens]
    assert gammas == sorted(gammas) and gammas[0] == pytest.approx(rec["gb_energy_mJ_m2"])
    assert gammas[-1] - gammas[0] <= 200.0
    frames = list(iter_dump(tmp_path / "out" / "s5.dump"))
    assert [f.timestep for f in frames] == [0, 1, 2]
    for f, e in zip(frames, ens):
        assert f.structure.n_atoms == e["n_atoms"]
    # distinct: no two kept states are the same structure up to a lattice translation
    pe = [np.sort(f.structure.extra["pe"]) for f in frames]
    for i in range(3):
        for j in range(i + 1, 3):
            same_n = len(pe[i]) == len(pe[j])
            assert not (same_n and np.abs(pe[i] - pe[j]).max() < 1e-3 and abs(gammas[i] - gammas[j]) < 0.05)


def test_same_structure_ignores_lattice_translations():
    a = {"n_atoms": 10, "gb_energy_mJ_m2": 500.0, "fingerprint": [0.0, 1.0]}
    assert same_structure(a, {**a, "gb_energy_mJ_m2": 500.01})
    assert not same_structure(a, {**a, "gb_energy_mJ_m2": 500.5})
    assert not same_structure(a, {**a, "n_atoms": 9})
    assert not same_structure(a, {**a, "fingerprint": [0.0, 1.01]})


def test_md_snapshots_are_seeded_and_reproducible(s5):
    s, meta = s5
    cfg = {"gb_search": {"enabled": False}, "ensemble": {"md": {"temperature": 300.0, "time_ps": 0.2,
                                                                "snapshots": 2, "seed": 7}}}  # fmt: skip
    frames1, rec1 = relax_case(s, meta, POT, RelaxSettings.from_config(cfg))
    frames2, rec2 = relax_case(s, meta, POT, RelaxSettings.from_config(cfg))
    assert len(frames1) == 3 and [e["temperature_K"] for e in rec1["ensemble"]] == [0.0, 300.0, 300.0]
    for a, b in zip(frames1, frames2):
        assert np.array_equal(a.positions, b.positions)  # serial runs: bitwise identical
    # quenched snapshots are local minima near the ground state: same atoms, energies close to it
    g0 = rec1["gb_energy_mJ_m2"]
    for e in rec1["ensemble"][1:]:
        assert e["quenched"] and e["n_atoms"] == s.n_atoms and abs(e["gb_energy_mJ_m2"] - g0) < 100.0
    cfg["ensemble"]["md"]["seed"] = 8
    frames3, _ = relax_case(s, meta, POT, RelaxSettings.from_config(cfg))
    assert not np.array_equal(frames3[1].positions, frames1[1].positions)


def test_nye_stage_writes_one_field_per_kept_state(s5, tmp_path):
    from _structures import write_structure_meta

    from nyegan.contracts import NYE_FIELD
    from nyegan.io import write_data
    from nyegan.nye.case import nye_relaxed_case

    s, meta = s5
    data = tmp_path / "s5.data"
    write_data(data, s)
    write_structure_meta(data.with_suffix(".json"), meta)
    settings = RelaxSettings.from_config({"ensemble": {"states": 2, "max_delta": 200.0}})
    rec = run_relax_files(data, tmp_path / "out" / "s5.dump", settings=settings)
    n = nye_relaxed_case(tmp_path / "out" / "s5.dump", data.with_suffix(".json"), tmp_path / "out" / "s5.json",
                         tmp_path / "nye.nc", png=tmp_path / "nye.png", reference="grains", average_along="z")  # fmt: skip
    assert n == 2
    ds = NYE_FIELD.open(tmp_path / "nye.nc")
    assert ds["alpha"].dims[:3] == ("state", "i", "j") and list(ds["state"].values) == [0, 1]
    assert np.allclose(ds["gb_energy_mJ_m2"].values, [e["gb_energy_mJ_m2"] for e in rec["ensemble"]])
    import json

    for k in range(2):  # every state carries the boundary's Frank–Bilby content, 2 sin(36.87°/2)
        content = json.loads(str(ds["burgers_content"].values[k]))
        for c in content:
            assert abs(c["content_per_length"][1]) == pytest.approx(2 * np.sin(np.radians(36.8699) / 2), rel=0.01)


def test_geometry_key_is_blind_to_cell_symmetries_only(s5):
    from nyegan.relax.states import geometry_key, translate

    s, _ = s5
    box = np.diag(s.cell)
    key = geometry_key(s)
    shifted = s.copy(positions=s.positions + np.array([1.234, 0.0, 0.777]))  # a rigid shift of the whole cell
    mirrored = s.copy(positions=s.positions * np.array([-1.0, 1.0, 1.0]) + np.array([box[0], 0.0, 0.0]))
    assert geometry_key(shifted) == key and geometry_key(mirrored) == key
    # a different rigid-body translation of one grain is a different boundary
    assert geometry_key(translate(s, 1.0, 0.0)) != key and geometry_key(translate(s, 0.0, 0.5)) != key


@pytest.mark.slow
def test_states_skipped_as_equivalent_are_images_of_the_state_they_repeat(s5):
    """A skipped state's starting structure has the energy and the force norm of the state it repeats (LAMMPS,
    no relaxation: an isometry changes neither), and an unrelated state has not. (Relaxed, the two may end in
    different minima: CG from overlapping atoms is sensitive to rounding, a mirror image included.)"""
    from nyegan.potentials import cubic_properties, resolve_potential
    from nyegan.relax.engine import LammpsRelaxer
    from nyegan.relax.states import TrialState, apply_state

    s, meta = s5
    _, rec = relax_case(s, meta, POT, RelaxSettings.defaults())
    skipped = rec["equivalent_states"]
    assert skipped and rec["search_rounds"][-1]["n_equivalent"] == len(skipped)
    assert len(skipped) > 0.3 * rec["n_states"]  # the mirror-symmetric grid of a symmetric tilt boundary
    screened = {(round(st["tx"], 6), round(st["tz"], 6), round(st["cutoff_nn"], 6)) for st in rec["states"]}
    assert all(tuple(e["same_as"]) in screened for e in skipped)
    pot = resolve_potential(POT)
    d_nn = cubic_properties(pot).a0 / np.sqrt(2)

    def static(state):
        x, _ = apply_state(s, TrialState(*state), d_nn)
        r.load(x)
        r.lmp.command("run 0")
        return float(r.lmp.get_thermo("pe")), float(r.lmp.get_thermo("fnorm"))

    with LammpsRelaxer(pot, n_types=2) as r:
        for e in skipped[:: max(1, len(skipped) // 5)]:
            (e1, f1), (e2, f2) = static((e["tx"], e["tz"], e["cutoff_nn"])), static(tuple(e["same_as"]))
            assert e1 == pytest.approx(e2, abs=1e-4) and f1 == pytest.approx(f2, rel=1e-5), e  # eV, of ~1000
        other = static((0.37, 0.21, 0.0))  # a translation off the grid: another structure, another energy
        assert abs(other[0] - e1) > 1e-2
