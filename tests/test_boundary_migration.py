"""Boundary positions from CNA (nyegan.relax.migration) and the GB search's rejection of migrated anneals,
with real LAMMPS (Al, Mendelev EAM)."""

import numpy as np
import pytest

from nyegan.potentials import resolve_potential
from nyegan.relax import RelaxSettings, relax_case
from nyegan.relax.engine import LammpsRelaxer
from nyegan.relax.migration import boundary_positions, boundary_shift
from nyegan.structures.gb import build_stgb

POT = "Al_mm.eam.fs"


@pytest.fixture(scope="module")
def s5(al_props):
    s, meta = build_stgb((0, 0, 1), (3, 1, 0), a0=al_props.a0, min_size=(10, 40, 8))
    return s, {**meta, "potential": POT, "element": "Al"}


def _cna(s, a0):
    with LammpsRelaxer(resolve_potential(POT), n_types=2) as relaxer:
        relaxer.load(s)
        return relaxer.cna(a0)


def test_boundaries_are_found_where_built_and_follow_a_rigid_shift_across_the_wrap(s5, al_props):
    s, _ = s5
    ly = s.cell[1, 1]
    cna = _cna(s, al_props.a0)
    assert (cna != 1).sum() > 0 and (cna == 1).mean() > 0.5  # grains are fcc, the boundaries are not
    pos = boundary_positions(s, cna)
    # built at Ly/4 and 3Ly/4 (the boundary planes lie between atomic planes: within one plane spacing)
    assert np.allclose(pos, [0.25 * ly, 0.75 * ly], atol=1.0)
    for dy in (2.5, -4.0):  # a rigid shift: grain B's atoms cross the periodic wrap
        moved = s.copy(positions=s.positions + [0.0, dy, 0.0]).wrapped()
        shift = boundary_shift(pos, boundary_positions(moved, _cna(moved, al_props.a0)))
        wrapped = np.mod(shift - dy + 0.5 * ly, ly) - 0.5 * ly
        assert np.allclose(wrapped, 0.0, atol=1e-6), shift


def test_boundary_positions_need_one_class_per_atom(s5):
    s, _ = s5
    with pytest.raises(ValueError, match="one class per atom"):
        boundary_positions(s, np.ones(s.n_atoms - 1, int))


def test_search_rejects_annealed_states_whose_boundaries_moved_too_far(s5):
    s, meta = s5
    cfg = {
        "gb_search": {"translation_spacing": [8.0, 4.0], "refine_rounds": 0, "n_full": 2, "anneal_best": 2,
                      "max_deletion_levels": 1},
        "anneal": {"steps": 300, "temperature": 400.0, "max_boundary_shift": 1e-6},
    }  # fmt: skip
    _, rec = relax_case(s, meta, POT, RelaxSettings.from_config(cfg))
    annealed = [st for st in rec["states"] if st["stage"] == "anneal"]
    assert len(annealed) == 2
    for st in annealed:
        shift = np.asarray(st["boundary_shift_A"])
        # a short anneal moves the boundaries a little (thermal noise, quenched), never by a plane spacing...
        assert shift.shape == (2,) and np.all(np.abs(shift) < 1.0) and np.any(shift != 0.0)
        # ...but more than this test's 1e-6 Å allows: rejected, with the reason, and never chosen
        assert "max_boundary_shift" in st["rejected"] and st["full_gb_energy_mJ_m2"] is None
    assert rec["chosen_state"]["stage"] != "anneal"


def test_single_relaxation_keeps_the_unannealed_structure_when_a_boundary_moved(s5):
    s, meta = s5
    base = {"gb_search": {"enabled": False}}
    _, plain = relax_case(s, meta, POT, RelaxSettings.from_config(base))
    anneal = {"steps": 300, "temperature": 400.0}
    _, kept = relax_case(s, meta, POT, RelaxSettings.from_config({**base, "anneal": anneal}))
    _, dropped = relax_case(s, meta, POT, RelaxSettings.from_config({**base, "anneal": {**anneal,
                                                                                       "max_boundary_shift": 1e-6}}))  # fmt: skip
    for rec in (kept, dropped):
        assert len(rec["anneal"]["boundary_shift_A"]) == 2
    assert "rejected" not in kept["anneal"] and np.all(np.abs(kept["anneal"]["boundary_shift_A"]) < 0.5)
    assert "max_boundary_shift" in dropped["anneal"]["rejected"]
    # rejected: the structure relaxed before the anneal, i.e. the energy of the same case relaxed without one
    assert dropped["gb_energy_mJ_m2"] == pytest.approx(plain["gb_energy_mJ_m2"], abs=0.01)
