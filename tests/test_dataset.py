"""Dataset assembly from per-case Nye files (analytic fields in the atomistic contract)."""

import json
import math

import numpy as np
import pytest
import torch
import xarray as xr

from nyegan import content, fieldops
from nyegan.dataset import build_dataset
from nyegan.dataset.resample import fourier_resample
from nyegan.gan import synthetic


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    root = tmp_path_factory.mktemp("cases")
    names = []
    for k, theta in enumerate((10.0, 20.0, 30.0, 40.0)):
        for s in range(2):
            name = f"gb{theta:g}_{s}"
            # different cell sizes, source grids and boundary positions
            Lx = 18.0 + 4 * s
            synthetic.write_case(
                root,
                name,
                "gb",
                theta,
                (Lx, 70.0 + 10 * s, 4.0),
                grid=(24 + 8 * s, 60 + 8 * k),
                seed=k * 10 + s,
                gb_frac=(0.1 + 0.05 * s, 0.6 + 0.05 * s),
            )
            names.append(name)
    synthetic.write_case(root, "screw", "dislocation", lengths=(40.0, 40.0, 4.0), grid=(32, 32), character="screw")
    names.append("screw")
    nye = [root / "nye" / f"{n}.nc" for n in names]
    meta = [root / "structures" / f"{n}.json" for n in names]
    return root, nye, meta


def test_dataset_contents_follow_theory(cases, tmp_path):
    root, nye, meta = cases
    out = tmp_path / "dataset.nc"
    build_dataset(nye, meta, out, grid=(32, 64), heldout_misorientations=[30.0], validation_fraction=0.2)
    ds = xr.open_dataset(out)  # plain xarray reads it
    assert ds["alpha"].dims == ("sample", "i", "j", "x", "y")
    assert list(ds["i"].values) == ["x", "y", "z"]
    gb = ds["has_gb"].values == 1
    theta = ds["misorientation_deg"].values[gb]
    fb = 2 * np.sin(np.radians(theta) / 2)
    c = ds["content"].values[gb]
    # Frank-Bilby: +2 sin(theta/2) e_y on one boundary, the opposite on the other, after resampling + shifting
    np.testing.assert_allclose(c[:, 0, 1], fb, rtol=2e-4)
    np.testing.assert_allclose(c[:, 1, 1], -fb, rtol=2e-4)
    assert np.abs(c[:, :, [0, 2]]).max() < 1e-5
    # screw dipole: content b along z = a0/sqrt(2) per L_x on the slab of the +b dislocation
    sc = ds["content"].values[~gb][0]
    np.testing.assert_allclose(sc[0, 2], 4.05 / math.sqrt(2) / 40.0, rtol=1e-4)
    # compatibility and zero mean in the dataset's scheme (float32 storage)
    a = torch.from_numpy(ds["alpha"].values.astype(np.float64))
    L = torch.from_numpy(ds["cell_lengths"].values[:, :2])
    assert float(fieldops.relative_divergence(a, L, 2).max()) < 1e-6
    assert float(a.mean(dim=(-2, -1)).abs().max()) < 1e-7
    # boundaries moved to 1/4 and keep their spacing
    np.testing.assert_allclose(ds["gb_frac"].values[gb, 0], 0.25, atol=1e-12)
    np.testing.assert_allclose(ds["gb_frac"].values[gb, 1], 0.75, atol=1e-12)
    prof = ds["alpha"].sel(i="y", j="z").values[gb].mean(1)  # (sample, y)
    assert np.all(np.abs(ds["y"].values[prof.argmax(1)] - 0.25) < 1.5 / 64)
    # whole held-out misorientation, deterministic validation
    split = ds["split"].values
    assert set(split[ds["misorientation_deg"].values == 30.0]) == {"heldout"}
    assert "heldout" not in split[ds["misorientation_deg"].values != 30.0]
    assert (split == "validation").sum() >= 1
    ds2 = build_dataset(
        nye, meta, tmp_path / "again.nc", grid=(32, 64), heldout_misorientations=[30.0], validation_fraction=0.2
    )
    assert list(ds2["split"].values) == list(split)
    assert np.all(ds["alpha_scale"].values > 0)
    ds.close()


def test_default_heldout_and_bad_heldout(cases, tmp_path):
    root, nye, meta = cases
    ds = build_dataset(nye, meta, tmp_path / "d.nc", grid=(16, 32))
    held = ds.attrs["heldout_misorientations_deg"]
    assert len(held) == 1 and held[0] in (20.0, 30.0)
    with pytest.raises(ValueError, match="heldout_misorientations"):
        build_dataset(nye, meta, tmp_path / "e.nc", grid=(16, 32), heldout_misorientations=[33.0])
    with pytest.raises(ValueError, match="dataset.dim"):
        build_dataset(nye, meta, tmp_path / "f.nc", grid=(16, 32, 8), dim=3)


def test_fourier_resample_is_exact_for_band_limited_fields():
    L = 10.0
    f = lambda x: np.sin(2 * np.pi * x / L) + 0.3 * np.cos(6 * np.pi * x / L)
    for n, m in [(20, 32), (32, 20), (17, 24)]:
        x = (np.arange(n) + 0.5) * L / n
        X = (np.arange(m) + 0.5) * L / m
        np.testing.assert_allclose(fourier_resample(f(x), (m,)), f(X), atol=1e-12)


def test_content_projection_is_exact_and_keeps_compatibility():
    torch.manual_seed(0)
    B, grid, dim = 3, (16, 32), 2
    L = torch.tensor([[20.0, 60.0], [25.0, 80.0], [15.0, 50.0]], dtype=torch.float64)
    W = torch.randn(B, 3, 3, *grid, dtype=torch.float64)
    a = fieldops.curl(W, L, dim)
    gbf = torch.tensor([[0.25, 0.75]] * B, dtype=torch.float64)
    theta = torch.tensor([10.0, 25.0, 50.0], dtype=torch.float64)
    tgt = content.frank_bilby_targets(theta, torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64))
    active = torch.tensor([True, True, False])
    p = content.project_content(a, tgt, active, gbf, L[:, 1], dim)
    got = content.slab_content(p, gbf, L[:, 1], dim)
    np.testing.assert_allclose(got[:2].numpy(), tgt[:2].numpy(), atol=1e-12)
    np.testing.assert_allclose(p[2].numpy(), a[2].numpy())
    assert float(fieldops.divergence(p, L, dim).abs().max()) < 1e-10
    assert float(p.mean(dim=(-2, -1)).abs().max()) < 1e-12


def test_ensemble_metrics_separate_matching_from_different_fields():
    from nyegan.gan import metrics

    a = np.stack([synthetic.tilt_gb_field(20.0, (20.0, 80.0), (32, 64), seed=s) for s in range(4)])
    b = np.stack([synthetic.tilt_gb_field(20.0, (20.0, 80.0), (32, 64), seed=10 + s) for s in range(4)])
    c = np.stack(
        [synthetic.tilt_gb_field(20.0, (20.0, 80.0), (32, 64), seed=s, width=4.0, noise=0.05) for s in range(4)]
    )
    assert metrics.spectrum_distance(a, a) == 0.0 and metrics.correlation_distance(a, a) == 0.0
    assert metrics.spectrum_distance(a, b) < metrics.spectrum_distance(a, c)
    assert metrics.correlation_distance(a, b) < metrics.correlation_distance(a, c)
    # x-averaged mean profile of alpha_yz integrates to the Frank-Bilby content over the first slab
    prof = metrics.mean_profile(a)[1, 2]
    assert abs(prof[:32].sum() * 80.0 / 64 - 2 * np.sin(np.radians(10.0))) < 1e-6


def test_dataset_from_nye_stage_fields_of_built_boundaries(tmp_path):
    """Real per-case files: boundaries from the builder, Nye fields from the Nye stage (unrelaxed cells).
    Each slab carries +-2 sin(angle/2) of the lattice correspondence the Nye stage chose (36.87 deg for the
    53.13 deg Σ5 (210) boundary), whatever the sign convention of the case."""
    import subprocess
    import sys

    from nyegan.io import read_data, write_dump

    (tmp_path / "structures").mkdir()
    nye, meta = [], []
    for plane in ("3 1 0", "2 1 0"):
        name = "gb" + plane.replace(" ", "")
        data = tmp_path / "structures" / f"{name}.data"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "nyegan",
                "build",
                "gb",
                "--axis",
                "0",
                "0",
                "1",
                "--plane",
                *plane.split(),
                "-o",
                str(data),
            ],
            check=True,
            capture_output=True,
        )
        write_dump(tmp_path / f"{name}.dump", read_data(data))
        out = tmp_path / "nye" / f"{name}.nc"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "nyegan",
                "nye",
                str(tmp_path / f"{name}.dump"),
                "--metadata",
                str(data.with_suffix(".json")),
                "--average-along",
                "z",
                "-o",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        nye.append(out)
        meta.append(data.with_suffix(".json"))
    ds = build_dataset(nye, meta, tmp_path / "dataset.nc", grid=(32, 64), heldout_misorientations=[])
    angle = np.abs(ds["correspondence_angle_deg"].values)
    np.testing.assert_allclose(angle, np.degrees(2 * np.arctan(1 / 3)), rtol=1e-6)  # Σ5: 36.87 deg both
    fb = 2 * np.sin(np.radians(angle) / 2)
    c = ds["content"].values
    np.testing.assert_allclose(c[:, 0, 1] * ds["content_sign"].values, fb, rtol=1e-5)
    np.testing.assert_allclose(c[:, 1, 1], -c[:, 0, 1], rtol=1e-9)
    from nyegan.dataset.conditions import INDEX

    np.testing.assert_allclose(ds["cond"].values[:, INDEX["fb_content"]], fb, rtol=1e-6)


def test_twist_cases_are_left_out_by_name(tmp_path):

    from _gan_fixtures import write_tiny_cases

    nye, meta = write_tiny_cases(tmp_path, thetas=(10.0, 20.0), seeds=1)
    from nyegan.contracts import STRUCTURE

    twisted = STRUCTURE.read(meta[0])
    twisted["boundary_type"] = "symmetric_twist"
    STRUCTURE.write(meta[0], twisted)
    with pytest.warns(UserWarning, match="twist"):
        ds = build_dataset(nye, meta, tmp_path / "d.nc", grid=(16, 32), heldout_misorientations=[])
    assert ds.sizes["sample"] == 1 and ds.attrs["excluded_cases"] == meta[0].stem


def test_x_alignment_lines_up_boundaries_shifted_along_x():
    # the same boundary translated along x (another rigid-body translation state, or another origin) aligns to
    # one field: the modulation at the CSL period gets zero phase in the first boundary's slab
    from nyegan.dataset.assemble import x_alignment_shift
    from nyegan.dataset.resample import fractional_shift

    base = synthetic.tilt_gb_field(20.0, (20.0, 80.0), (32, 64), n_units=2, modulation=0.6, noise=0.0, seed=3)
    gb = np.array([0.25, 0.75])
    aligned = []
    for shift in (0.0, 0.13, 0.37, 0.71):
        moved = fractional_shift(base, shift, 2)
        s = x_alignment_shift(moved, gb, periods=2, dim=2)
        assert 0.0 <= s < 0.5
        aligned.append(fractional_shift(moved, s, 2))
    for a in aligned[1:]:
        assert np.abs(a - aligned[0]).max() < 1e-9 * np.abs(base).max()
    # no modulation (a flat Frank–Bilby wall): no shift
    flat = synthetic.tilt_gb_field(20.0, (20.0, 80.0), (32, 64), modulation=0.0, noise=0.0)
    assert x_alignment_shift(flat, gb, periods=2, dim=2) == 0.0


def test_microstates_of_a_case_become_samples_with_its_split(tmp_path):
    # a Nye file with a `state` dim (relax.ensemble) gives one sample per state, sharing conditions and split
    from nyegan.contracts import NYE_FIELD

    nye, meta = [], []
    for k, theta in enumerate((10.0, 20.0, 30.0)):
        n, m = synthetic.write_case(tmp_path, f"gb{k}", "gb", theta, (18.0, 70.0, 4.0), grid=(24, 48), seed=k)
        nye.append(n)
        meta.append(m)
    one = NYE_FIELD.open(nye[1])
    states = xr.concat([one.assign(alpha=one["alpha"] * (1 + 0.01 * r)) for r in range(3)], dim="state")
    states = states.assign_coords(state=[0, 1, 2])
    states["gb_energy_mJ_m2"] = ("state", [400.0, 410.0, 455.0])
    states["temperature_K"] = ("state", [0.0, 0.0, 300.0])
    NYE_FIELD.write(states, nye[1])
    ds = build_dataset(nye, meta, tmp_path / "d.nc", grid=(16, 32), heldout_misorientations=[],
                       heldout_cases=["gb1"])  # fmt: skip
    assert ds.sizes["sample"] == 5
    mine = ds.where(ds.case == "gb1", drop=True)
    assert list(mine.state_rank.values) == [0, 1, 2] and set(mine.split.values) == {"heldout"}
    assert list(mine.gb_energy_mJ_m2.values) == [400.0, 410.0, 455.0]
    assert list(mine.temperature_K.values) == [0.0, 0.0, 300.0]
    assert np.allclose(mine.cond.values, mine.cond.values[0])  # the conditions of a boundary are shared
    assert set(ds.split.values[ds.case.values != "gb1"]) <= {"train", "validation"}
    with pytest.raises(ValueError, match=r"heldout_cases \['nope'\] match no case"):
        build_dataset(nye, meta, tmp_path / "e.nc", grid=(16, 32), heldout_cases=["nope"])


def test_x_alignment_uses_the_strongest_harmonic_of_the_period():
    # two units per period (mode 2m) and almost nothing at the fundamental m, whose phase differs from sample to
    # sample (as for a boundary whose projected structure has two units per period): every shifted copy aligns
    # its units onto the same x; phasing the weak fundamental instead would scatter them over the period
    import torch

    from nyegan.dataset.align import alignment_shifts, shift_x

    nx, ny, m = 32, 32, 1
    x = torch.arange(nx, dtype=torch.float64) / nx
    y = (torch.arange(ny, dtype=torch.float64) + 0.5) / ny
    band = torch.exp(-(((y - 0.25) / 0.05) ** 2))[None, :]
    rng = np.random.default_rng(0)
    fields = []
    for phase in rng.uniform(0, 2 * np.pi, 5):
        a = torch.zeros(3, 3, nx, ny, dtype=torch.float64)
        a[1, 2] = (1.0 + torch.cos(2 * torch.pi * 2 * m * x) + 0.01 * torch.cos(2 * torch.pi * m * x + phase))[
            :, None
        ] * band
        fields.append(shift_x(a[None], torch.tensor([rng.uniform()]), 2)[0])
    alpha = torch.stack(fields)
    gb = torch.tensor([[0.25, 0.75]] * len(fields), dtype=torch.float64)
    s = alignment_shifts(alpha, gb, torch.full((len(fields),), float(m)), 2)
    assert bool(((s >= 0) & (s < 1.0 / (2 * m))).all())
    aligned = shift_x(alpha, s, 2)[:, 1, 2, :, 8]  # the boundary row
    units = aligned.argmax(dim=1)
    assert set(units.tolist()) <= {0, nx // 2, nx - 1, nx // 2 - 1}  # units at x = 0 and 1/2 in every sample
    spread = (aligned - aligned.mean(0)).abs().max() / aligned.abs().max()
    assert spread < 0.03  # the samples coincide up to the weak fundamental


def test_ensemble_file_gives_the_frank_bilby_content_of_its_lattice_correspondence(tmp_path):
    # a 77.32 deg [001] boundary is a 12.68 deg one in the other cubic description; the Nye stage measures its
    # field against that lattice correspondence (content 2 sin(12.68/2) = 0.22, not 2 sin(77.32/2) = 1.25) and, in
    # an ensemble file (relax.ensemble), stores the angle per state as a variable: the dataset's conditions (the
    # content the generator's physics imposes) and the Nye summary read it there
    from nyegan.contracts import NYE_FIELD
    from nyegan.dataset.conditions import INDEX
    from nyegan.nye.checks import write_checks
    from nyegan.nye.output import FieldSeriesWriter, summary_row

    nye, meta = synthetic.write_case(tmp_path, "gb77", "gb", 77.32, (18.0, 70.0, 4.0), grid=(24, 48), seed=0)
    one = NYE_FIELD.open(nye)
    one.attrs.update(correspondence_angle_deg=-12.68, cell=np.diag([18.0, 70.0, 4.0]).ravel().tolist(),
                     origin=[0.0, 0.0, 0.0])  # fmt: skip
    one.attrs.pop("misorientation_angle_deg", None)
    fb = 2 * np.sin(np.radians(12.68) / 2)
    boundary = {"kind": "boundary", "normal": "y", "line": "z", "position": 17.5, "magnitude": fb,
                "content_per_length": [0.0, fb, 0.0]}  # fmt: skip
    one.attrs.update(burgers_content=json.dumps([boundary]), n_atoms=100, n_atoms_unmatched=0)
    one["mask"] = (("x", "y"), np.zeros((one.sizes["x"], one.sizes["y"]), np.int8))
    ens = tmp_path / "ensemble.nc"
    w = FieldSeriesWriter(ens, frame_dim="state")
    for rank in range(2):
        w.append(one, timestep=rank)
    w.close()
    assert "correspondence_angle_deg" not in NYE_FIELD.open(ens).attrs  # a per-state variable
    ds = build_dataset([ens], [meta], tmp_path / "d.nc", grid=(16, 32), heldout_misorientations=[])
    expected = 2 * np.sin(np.radians(12.68) / 2)
    assert np.allclose(ds.cond.values[:, INDEX["fb_content"]], expected)
    assert np.allclose(ds.correspondence_angle_deg.values, -12.68)
    assert summary_row("gb77", NYE_FIELD.open(ens))["correspondence_angle_deg"] == pytest.approx(-12.68)
    rows, _ = write_checks({"gb77": ens})  # the Frank-Bilby check reads the first state too
    assert len(rows) == 1 and rows[0]["relative_error"] < 1e-9


def test_core_inputs_follow_the_dislocations_of_the_relaxed_field(tmp_path):
    # a dipole whose cores sit where the metadata says keeps them; the same field with metadata positions a
    # quarter cell away (as after the dislocations glided during the relaxation) gives a warning naming the case
    # and core inputs where the field has them; a field with no dislocation (annihilated) leaves no core input
    import json

    from nyegan.dataset.cores import dislocations_present

    Lx, Ly = 30.0, 40.0
    nye, meta = [], []
    for name, (fx, fy) in (("kept", (0.5, 0.25)), ("moved", (0.0, 0.5)), ("annihilated", (0.5, 0.25))):
        n, m = synthetic.write_case(tmp_path, name, "dislocation", lengths=(Lx, Ly, 4.0), grid=(32, 32), seed=1)
        md = json.loads(m.read_text())
        md["dislocations"] = [
            {"position": [fx * Lx, fy * Ly], "sign": 1},
            {"position": [fx * Lx, (fy + 0.5) * Ly], "sign": -1},
        ]
        if name == "annihilated":
            md["burgers_box"] = [0.0, 0.0, 2.86]  # the field's dipole is edge (b along x): no such screw dislocation
        m.write_text(json.dumps(md))
        nye.append(n)
        meta.append(m)
    with pytest.warns(UserWarning) as warned:
        ds = build_dataset(nye, meta, tmp_path / "d.nc", grid=(32, 32), heldout_misorientations=[])
    text = " ".join(str(w.message) for w in warned)
    assert (
        "case moved: dislocations not in the relaxed field where the build put them (state 0: 2 moved, 0 lost" in text
    )
    assert "case annihilated: dislocations not in the relaxed field" in text and "0 moved, 2 lost of 2" in text
    assert "case kept" not in text
    cores = {str(c): ds.cores.values[k] for k, c in enumerate(ds.case.values)}
    assert np.isnan(cores["annihilated"][:, 0]).all()
    # the moved cores sit on the field's dislocations, within one grid step of them, with their signs
    step = np.array([1 / 32, 1 / 32])
    for got, want in zip(cores["moved"][:2], cores["kept"][:2]):
        assert np.all(np.abs((got[:2] - want[:2] + 0.5) % 1.0 - 0.5) <= step + 1e-9) and got[2] == want[2]
    # the check itself: the sign matters (a core of the opposite sign is not the dislocation asked for)
    alpha = synthetic.dislocation_dipole_field((2.86, 0.0, 0.0), (Lx, Ly), (32, 32), noise=0.0)
    full = np.zeros((3, 3, 32, 32))
    full[:, 2] = alpha[:, 2]
    at = np.array([[0.5, 0.25, 1.0], [0.5, 0.75, -1.0], [0.5, 0.25, -1.0], [np.nan] * 3])
    assert dislocations_present(full, at, (Lx, Ly), (2.86, 0.0, 0.0), 2).tolist() == [True, True, False, False]


def test_locate_cores_moves_glided_dislocations_and_drops_absorbed_ones():
    from nyegan.dataset.cores import BOUNDARY_CLEARANCE_A, dislocations_present, locate_cores

    Lx, Ly, n = 40.0, 80.0, 64
    b = (2.86, 0.0, 0.0)
    gb = np.array([0.25, 0.75])
    blobs = ((0.5, 0.45), (0.2, 0.25 + 0.5 * BOUNDARY_CLEARANCE_A / Ly))  # +b in the grain, -b at 3.5 Å from gb 1
    alpha = synthetic.dislocation_dipole_field(b, (Lx, Ly), (n, n), positions=blobs, noise=0.0)
    field = np.zeros((3, 3, n, n))
    field[:, 2] = alpha[:, 2]
    # +b where it is; +b that glided 10 Å along x; -b near the boundary (absorbed); a second +b claiming the
    # same blob as the first; a +b asked where the -b is
    cores = np.array([[0.5, 0.45, 1.0], [np.nan] * 3])
    assert np.array_equal(locate_cores(field, cores, (Lx, Ly), b, 2, gb), cores, equal_nan=True)
    glided = locate_cores(field, np.array([[0.25, 0.45, 1.0]]), (Lx, Ly), b, 2, gb)
    assert abs(glided[0, 0] - 0.5) <= 1 / n and abs(glided[0, 1] - 0.45) <= 1 / n and glided[0, 2] == 1.0
    assert dislocations_present(field, glided, (Lx, Ly), b, 2).all()
    absorbed = locate_cores(field, np.array([[0.6, 0.4, -1.0]]), (Lx, Ly), b, 2, gb)
    assert np.isnan(absorbed).all()
    # without boundaries the same -b is found
    assert np.isfinite(locate_cores(field, np.array([[0.6, 0.4, -1.0]]), (Lx, Ly), b, 2)).all()
    two = locate_cores(field, np.array([[0.25, 0.45, 1.0], [0.75, 0.45, 1.0]]), (Lx, Ly), b, 2, gb)
    assert np.isfinite(two[0]).all() and np.isnan(two[1]).all()  # one dislocation, one core input
    assert np.isnan(locate_cores(-field, np.array([[0.25, 0.45, 1.0]]), (Lx, Ly), b, 2, gb)).all()
