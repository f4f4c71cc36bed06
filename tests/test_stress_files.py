"""Stress files, CLI, workflow rules and the atomistic check: the contract, real LAMMPS virial stresses, Snakemake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from nye_helpers import POTENTIAL, oriented_crystal, relax

from nyegan.contracts import STRESS
from nyegan.nye import compute_nye
from nyegan.potentials import cubic_properties, resolve_potential
from nyegan.stress import box_stiffness, solve_fdm
from nyegan.stress.analytic import gaussian_line_alpha
from nyegan.stress.atomistic import atomic_virial_stress, compare_case
from nyegan.stress.field import Stiffness, stiffness_from_potential, stress_of_field
from nyegan.stress.output import read_stress, write_stress
from nyegan.structures.dislocation import build_dislocation_cell

ROOT = Path(__file__).resolve().parents[1]
ROWS = np.array([[1, -1, 0], [1, 1, 1], [-1, -1, 2]], float)
ROT = ROWS / np.linalg.norm(ROWS, axis=1)[:, None]


def _nyegan(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nyegan", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def synthetic_field(mask_box=False) -> xr.Dataset:
    """A Nye-stage-like field: an edge dipole with Gaussian cores, attrs as the Nye stage writes them."""
    Lx, Ly, n = 40.0, 30.0, (40, 30)
    cell = np.diag([Lx, Ly, 8.0])
    b = np.array([2.86, 0.0, 0.0])
    alpha = gaussian_line_alpha(cell, n, [(10.0, 10.0), (30.0, 20.0)], [b, -b], 1.5)
    if mask_box:
        alpha[:, :, :3, :3] = np.nan
    ref = {"method": "grains", "median_rotation_crystal_to_box": ROT.tolist()}
    return xr.Dataset(
        {"alpha": (("i", "j", "x", "y"), alpha, {"units": "1/angstrom"})},
        coords={
            "i": ["x", "y", "z"],
            "j": ["x", "y", "z"],
            "x": ("x", np.arange(n[0]) * Lx / n[0], {"units": "angstrom"}),
            "y": ("y", np.arange(n[1]) * Ly / n[1], {"units": "angstrom"}),
        },
        attrs={
            "convention": "alpha = curl Ue ... derivatives are central differences along the grid axes.",
            "cell": cell.ravel().tolist(),
            "pbc": [1, 1, 1],
            "spacing": 1.0,
            "reference": json.dumps(ref),
            "case": "synthetic-edge",
        },
    )


def test_field_file_follows_the_contract_and_plain_xarray_reads_it(al_props, tmp_path):
    ds = synthetic_field(mask_box=True)
    out = stress_of_field(ds, stiffness_from_potential(POTENTIAL), source="synthetic.nc")
    path = tmp_path / "stress.nc"
    write_stress(out, path)
    with xr.open_dataset(path) as plain:
        for var in STRESS.variables:
            assert var.name in plain and plain[var.name].attrs.get("units") == (var.units or "eV/angstrom")
        assert plain["stress"].dims == ("i", "j", "x", "y")
        assert plain.attrs["difference_scheme"] == "central"  # the Nye stage's scheme, from its convention
        assert plain.attrs["mean_condition"] == "zero_stress"
        C = np.asarray(plain["stiffness_voigt"].values)
        expected = box_stiffness(al_props.c11, al_props.c12, al_props.c44, ROT)
        assert np.allclose(C[0, 0], expected[0, 0, 0, 0]) and np.allclose(C[3, 3], expected[1, 2, 1, 2])
        assert json.loads(plain.attrs["stiffness_source"])["potential"] == POTENTIAL
        sigma = plain["stress"].values
        assert np.isnan(sigma[:, :, :3, :3]).all() and np.isfinite(sigma[:, :, 5:, 5:]).all()
        assert int(plain["mask"].values[:3, :3].sum()) == 0
        assert float(plain["div_stress_residual"]) < 1e-8
        assert np.allclose(sigma[0, 1], sigma[1, 0], equal_nan=True)
    back = read_stress(path)
    assert back.attrs["case"] == "synthetic-edge"


def test_ensemble_field_file_gives_the_stress_of_its_ground_state(al_props, tmp_path):
    # a relaxed case with kept microstates writes one Nye file with a 'state' dimension (ground state first);
    # its per-case stress is the ground state's, with the box and reference lattice of that state
    from nyegan.nye.output import FieldSeriesWriter
    from nyegan.stress.case import stress_case

    ground = synthetic_field()
    ground["mask"] = (("x", "y"), np.ones((ground.sizes["x"], ground.sizes["y"]), np.int8))
    ground.attrs["origin"] = [0.0, 0.0, 0.0]
    other = ground.copy(deep=True)
    other["alpha"] = -2.0 * other["alpha"]
    other.attrs["cell"] = np.diag([40.0, 31.0, 8.0]).ravel().tolist()
    path = tmp_path / "ensemble.nc"
    writer = FieldSeriesWriter(path, frame_dim="state")
    for rank, ds in enumerate((ground, other)):
        writer.append(ds, rank)
    writer.close()
    got = stress_case(path, tmp_path / "stress.nc", potential=POTENTIAL)
    want = stress_of_field(ground, stiffness_from_potential(POTENTIAL))
    assert np.allclose(got["stress"].values, want["stress"].values, rtol=1e-10, atol=1e-14)
    assert np.abs(want["stress"].values).max() > 0


def test_non_periodic_field_is_refused_naming_pbc(al_props):
    ds = synthetic_field()
    ds.attrs["pbc"] = [1, 0, 1]
    with pytest.raises(ValueError, match="not periodic"):
        stress_of_field(ds, stiffness_from_potential(POTENTIAL))


def test_sample_file_uses_each_source_case_rotation(al_props):
    """Generated/dataset layout: (sample, i, j, x, y) on fractional coordinates with cell_lengths; each sample's
    stiffness is rotated into its source case's reference lattice."""
    n = (32, 24)
    lengths = np.array([[40.0, 30.0, 8.0], [48.0, 36.0, 8.0]])
    alphas = []
    for L in lengths:
        b = np.array([0.0, 2.86, 0.0])
        alphas.append(gaussian_line_alpha(np.diag(L), n, [(L[0] / 4, L[1] / 2), (3 * L[0] / 4, L[1] / 2)], [b, -b], 2))
    rot_b = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) @ ROT
    ds = xr.Dataset(
        {
            "alpha": (("sample", "i", "j", "x", "y"), np.stack(alphas).astype(np.float32)),
            "cell_lengths": (("sample", "axis"), lengths),
            "case": ("sample", np.array(["a", "b"], dtype=object)),
        },
        coords={
            "sample": [0, 1],
            "i": ["x", "y", "z"],
            "j": ["x", "y", "z"],
            "axis": ["x", "y", "z"],
            "x": (np.arange(n[0]) + 0.5) / n[0],
            "y": (np.arange(n[1]) + 0.5) / n[1],
        },
        attrs={"difference_scheme": "spectral", "convention": "alpha = curl Ue"},
    )
    cubic = (al_props.c11, al_props.c12, al_props.c44)
    out = stress_of_field(ds, Stiffness(cubic=cubic, rotations={"a": ROT, "b": rot_b}))
    assert out["stress"].dims == ("sample", "i", "j", "x", "y")
    assert out.attrs["difference_scheme"] == "spectral"
    for k, rot in enumerate((ROT, rot_b)):
        direct = solve_fdm(np.stack(alphas)[k].astype(np.float32), lengths[k], box_stiffness(*cubic, rot), "spectral")
        assert np.allclose(out["stress"].values[k], direct.stress, atol=1e-12)
        assert float(out["elastic_energy"].values[k]) == pytest.approx(
            direct.energy_density.mean() * lengths[k, 0] * lengths[k, 1], rel=1e-12
        )
    with pytest.raises(ValueError, match="no reference rotation"):
        stress_of_field(ds, Stiffness(cubic=cubic, rotations={"a": ROT}))


def test_cli_writes_netcdf_and_png(tmp_path, al_props):
    field = tmp_path / "field.nc"
    synthetic_field().to_netcdf(field)
    out = _nyegan("stress", str(field), "-o", str(tmp_path / "s.nc"), "--png", str(tmp_path / "s.png"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "s.png").stat().st_size > 10_000
    with xr.open_dataset(tmp_path / "s.nc") as ds:
        assert ds["stress"].attrs["units"] == "GPa"
    strain = ["1e-3", "0", "0", "0", "0", "0"]
    out = _nyegan(
        "stress", str(field), "-o", str(tmp_path / "e.nc"), "--cubic", "100", "60", "30", "--mean-strain", *strain
    )
    assert out.returncode == 0, out.stderr
    with xr.open_dataset(tmp_path / "e.nc") as ds:
        mean = ds["stress"].mean(("x", "y")).values
        C = box_stiffness(100, 60, 30, ROT)
        assert np.allclose(mean, 1e-3 * C[:, :, 0, 0], atol=1e-9)
    bad = synthetic_field()
    bad.attrs["pbc"] = [0, 1, 1]
    bad.to_netcdf(tmp_path / "bad.nc")
    out = _nyegan("stress", str(tmp_path / "bad.nc"), "-o", str(tmp_path / "bad_s.nc"))
    assert out.returncode == 2 and "pbc" in out.stderr
    assert not (tmp_path / "bad_s.nc").exists()


# --- real LAMMPS ------------------------------------------------------------------------------------------------
def test_per_atom_virial_of_a_strained_crystal_is_hookes_law(al_props):
    """Uniformly strained perfect crystal: every atom's virial stress is C : eps (the potential's cubic constants
    rotated into the box), and their mean is LAMMPS's box stress; the FDM solve with that mean strain agrees."""
    a0 = al_props.a0
    s, rot = oriented_crystal(ROWS.astype(int), [3, 2, 2], a0)
    eps = np.array([[1e-3, 4e-4, 0.0], [4e-4, -6e-4, 0.0], [0.0, 0.0, 5e-4]])
    F = np.eye(3) + eps
    strained = s.copy(positions=s.positions @ F.T, cell=s.cell @ F.T)
    if not strained.is_orthogonal:  # LAMMPS wants a along x, b in the xy plane: rotate the strained cell back
        q, r = np.linalg.qr(strained.cell.T)
        sign = np.sign(np.diag(r))
        q = q * sign
        strained = strained.copy(positions=strained.positions @ q, cell=strained.cell @ q)
        eps = q.T @ eps @ q
    sigma, box = atomic_virial_stress(strained, POTENTIAL)
    C = box_stiffness(al_props.c11, al_props.c12, al_props.c44, rot)
    hooke = np.einsum("ijkl,kl->ij", C, eps)
    assert np.allclose(sigma.mean(axis=0), box, atol=1e-9)
    assert np.abs(sigma - sigma.mean(axis=0)).max() < 1e-3 * np.abs(hooke).max()  # uniform
    # the tabulated EAM gives a stiffness that varies by ~2% with the strain amplitude (spline knots)
    assert np.abs(sigma.mean(axis=0) - hooke).max() < 0.05 * np.abs(hooke).max()
    fdm = solve_fdm(np.zeros((3, 3, 6, 6)), strained.cell, C, "central", mean_strain=eps)
    assert np.allclose(fdm.stress[:, :, 0, 0], hooke, atol=1e-12)


@pytest.fixture(scope="module")
def screw_cell(al_props, tmp_path_factory):
    props = cubic_properties(resolve_potential(POTENTIAL))
    s, meta = build_dislocation_cell("screw", al_props.a0, props, min_size=(56.0, 36.0, 9.0))
    relaxed = relax(s, tmp_path_factory.mktemp("stress"), "screw", ftol=1e-4, maxiter=400)
    field = compute_nye(
        relaxed, al_props.a0, reference="grains", rotations=meta["rotations"], average_along="z", content=None
    )
    return relaxed, field


def test_fdm_stress_of_a_relaxed_screw_cell_matches_the_virial_stress(screw_cell):
    """Outside the cores the FDM stress of the atomistic Nye field follows the LAMMPS virial stress coarse-grained
    the same way (the screw's own components)."""
    structure, field = screw_cell
    stress = stress_of_field(field, stiffness_from_potential(POTENTIAL))
    summary, grid_sigma = compare_case(structure, field, stress, POTENTIAL)
    rows = {r["component"]: r for r in summary["components"]}
    for comp in ("xz", "yz"):
        assert rows[comp]["correlation"] > 0.97, rows[comp]
        assert rows[comp]["relative_rmse"] < 0.3, rows[comp]
    assert 0.3 < summary["fraction_outside_cores"] < 0.95
    assert np.allclose(summary["mean_stress_atoms_gpa"], summary["box_stress_lammps_gpa"], atol=1e-9)
    assert grid_sigma.shape == (3, 3) + tuple(field.sizes[d] for d in ("x", "y"))


@pytest.mark.slow
def test_workflow_rules_run_stress_and_atomistic_check(tmp_path):
    """stress.smk with the real pipeline for one boundary: structure -> relax -> Nye -> stress -> comparison."""
    for name in ("workflow", "src", "envs", "config"):
        (tmp_path / name).symlink_to(ROOT / name)
    text = (ROOT / "Snakefile").read_text()
    if "workflow/rules/stress.smk" not in text:
        text = text.replace(
            'include: "workflow/rules/gan.smk"\n',
            'include: "workflow/rules/gan.smk"\ninclude: "workflow/rules/stress.smk"\n',
        )
    (tmp_path / "Snakefile").write_text(text)
    case = "gb-001-S5-310"
    targets = [f"results/stress/{case}.nc", f"results/stress/{case}.png", f"results/stress/{case}.atomistic.json"]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", *targets, "--cores", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    ds = read_stress(tmp_path / f"results/stress/{case}.nc")
    assert ds.attrs["difference_scheme"] == "central" and float(ds["div_stress_residual"]) < 1e-8
    summary = json.loads((tmp_path / f"results/stress/{case}.atomistic.json").read_text())
    assert {r["component"] for r in summary["components"]} == {"xx", "yy", "zz", "xy", "xz", "yz"}


def test_generated_stress_error_against_the_source_case(al_props):
    """The stress-field error is 0 for a copy of the atomistic field, and for alpha scaled by 2 (stress x2, energy x4)
    the relative error is 1, the amplitude ratio 2 and the energy ratio 4."""
    from nyegan.stress.metrics import generated_vs_atomistic

    ds = synthetic_field()
    n = ds.sizes["x"], ds.sizes["y"]
    alpha = ds["alpha"].values
    L = np.array([40.0, 30.0, 8.0])

    def sample_file(scales, cases):
        return xr.Dataset(
            {
                "alpha": (("sample", "i", "j", "x", "y"), np.stack([s * alpha for s in scales])),
                "cell_lengths": (("sample", "axis"), np.stack([L] * len(scales))),
                "case": ("sample", np.array(cases, dtype=object)),
            },
            coords={
                "sample": np.arange(len(scales)),
                "i": ["x", "y", "z"],
                "j": ["x", "y", "z"],
                "x": (np.arange(n[0]) + 0.5) / n[0],
                "y": (np.arange(n[1]) + 0.5) / n[1],
            },
            attrs={"difference_scheme": "central"},
        )

    stiff = Stiffness(cubic=(al_props.c11, al_props.c12, al_props.c44), rotation=ROT)
    ref = stress_of_field(sample_file([1.0], ["c"]), stiff)
    same = generated_vs_atomistic(stress_of_field(sample_file([1.0, 1.0], ["c", "c"]), stiff), ref)
    assert same["cases"]["c"]["relative_rmse_all_components"] < 1e-12
    double = generated_vs_atomistic(stress_of_field(sample_file([2.0], ["c"]), stiff), ref)["cases"]["c"]
    assert double["relative_rmse_all_components"] == pytest.approx(1.0, rel=1e-9)
    assert double["components"]["xx"]["amplitude_ratio"] == pytest.approx(2.0, rel=1e-9)
    assert double["elastic_energy_ratio"] == pytest.approx(4.0, rel=1e-9)
