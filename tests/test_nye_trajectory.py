"""`nyegan nye` on user files: a relaxed boundary in a frame made elsewhere (tilt axis x, normal z) through the
command line; a multi-snapshot LAMMPS dump (gzip) gives one field per frame along `time`; VTK ImageData export
that parses as XML, round-trips its arrays and is read by VTK itself when installed."""

from __future__ import annotations

import argparse
import gzip
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import xarray as xr
from nye_helpers import relax

from nyegan.io import write_dump
from nyegan.io.lammps_dump import dump_text_header
from nyegan.nye import compute_nye
from nyegan.nye.vtk import read_vti, write_vti
from nyegan.structures.gb import build_stgb

TILT_X_NORMAL_Z = np.array([[0.0, 0, 1], [1, 0, 0], [0, 1, 0]])


@pytest.fixture(scope="module")
def user_gb(al_props, tmp_path_factory):
    """Relaxed Σ11(113)[1-10] with the tilt axis along x and the normal along z, one atom type."""
    a0 = al_props.a0
    work = tmp_path_factory.mktemp("user_gb")
    s, meta = build_stgb([1, -1, 0], [1, 1, 3], a0=a0, min_size=(10.0, 40.0, 8.0))
    s = relax(s, work, "s11")
    cell = np.diag(np.diag(s.cell)[[2, 0, 1]])
    r = s.copy(positions=s.positions @ TILT_X_NORMAL_Z.T, cell=cell, grain=np.ones(s.n_atoms, dtype=int)).wrapped()
    theta = 2 * np.degrees(np.arctan(np.sqrt(2) / 3))  # minimum-angle misorientation about the tilt axis
    return r, a0, 2 * np.sin(np.radians(theta) / 2)


def _cli(args):
    from nyegan.cli_nye import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    ns = parser.parse_args(["nye", *map(str, args)])
    ns.func(ns)


def test_cli_on_a_user_frame_with_vti(user_gb, tmp_path):
    r, a0, expected = user_gb
    write_dump(tmp_path / "user.dump", r)
    out, vti = tmp_path / "user.nc", tmp_path / "user.vti"
    _cli([tmp_path / "user.dump", "--a0", a0, "--reference", "auto", "--average-along", "x", "--vti", vti, "-o", out])
    ds = xr.open_dataset(out)
    assert ds["alpha"].dims == ("i", "j", "y", "z") and "time" not in ds.dims
    content = json.loads(ds.attrs["burgers_content"])
    assert np.allclose([abs(c["content_per_length"][2]) for c in content], expected, rtol=0.01)
    assert np.allclose(np.abs(ds.attrs["boundary_normal"]), [0, 0, 1]) and len(ds.attrs["boundary_positions"]) == 2
    geo = json.loads(ds.attrs["detected_geometry"])
    assert geo["grain_pairs"][0]["character"] == "tilt"
    # VTK ImageData: valid XML header, arrays round-trip in VTK's point order (x fastest)
    raw = vti.read_bytes()
    head = raw[: raw.index(b"<AppendedData")].decode() + "</VTKFile>"
    assert ET.fromstring(head).find("ImageData") is not None
    back = read_vti(vti)
    a = ds["alpha"].transpose("i", "j", "y", "z").values  # x averaged: one layer
    assert back["shape_xyz"] == (1, a.shape[2], a.shape[3])
    got = back["arrays"]["alpha"]  # (nz, ny, nx, 9)
    assert np.array_equal(got[:, :, 0, :].transpose(2, 1, 0).reshape(3, 3, *a.shape[2:]), a, equal_nan=True)
    assert np.array_equal(back["arrays"]["mask"][:, :, 0].T, ds["mask"].transpose("y", "z").values)


def test_vti_read_by_vtk_in_a_triclinic_cell(user_gb, tmp_path):
    vtk = pytest.importorskip("vtk")
    from vtk.util.numpy_support import vtk_to_numpy

    r, a0, _ = user_gb
    cell = r.cell.copy()
    cell[2] += cell[1]  # tilted description of the same crystal
    ds = compute_nye(r.copy(cell=cell).wrapped(), a0, content=None)
    write_vti(ds, tmp_path / "t.vti")
    reader = vtk.vtkXMLImageDataReader()
    reader.SetFileName(str(tmp_path / "t.vti"))
    reader.Update()
    image = reader.GetOutput()
    assert image.GetDimensions() == tuple(ds.sizes[d] for d in ("x", "y", "z"))
    alpha = vtk_to_numpy(image.GetPointData().GetArray("alpha")).reshape(ds.sizes["z"], ds.sizes["y"], ds.sizes["x"], 9)
    a = ds["alpha"].transpose("i", "j", "x", "y", "z").values
    assert np.allclose(alpha.transpose(3, 2, 1, 0).reshape(a.shape), a, equal_nan=True)
    # points at their Cartesian positions: node (i, j, k) = origin + sum_m s_m cell_m
    p = [0.0, 0.0, 0.0]
    image.TransformIndexToPhysicalPoint([2, 3, 4], p)
    n = [ds.sizes[d] for d in ("x", "y", "z")]
    expected = r.origin + sum(s / nm * c for s, nm, c in zip((2, 3, 4), n, cell))
    assert np.allclose(p, expected, atol=1e-9)


def test_multi_frame_gzip_dump_streams_one_field_per_frame(user_gb, tmp_path):
    """Three snapshots (the boundary pair shifted rigidly along the normal between them): one netCDF with a
    time dim (the timesteps), each frame's field and content that of the single-frame computation."""
    r, a0, expected = user_gb
    shifts = [0.0, 1.5, 3.0]
    with gzip.open(tmp_path / "traj.dump.gz", "wt") as fh:
        for k, dz in enumerate(shifts):
            f = r.copy(positions=r.positions + [0.0, 0.0, dz]).wrapped()
            header = dump_text_header(f, 1000 * k, ["id", "type", "x", "y", "z", "c_pe"])
            fh.write("\n".join(header) + "\n")
            table = np.column_stack([f.ids, f.grain, f.positions, np.zeros(f.n_atoms)])
            np.savetxt(fh, table, fmt=["%d", "%d", "%.10f", "%.10f", "%.10f", "%.3f"])
    out = tmp_path / "traj.nc"
    _cli([tmp_path / "traj.dump.gz", "--a0", a0, "--average-along", "x", "--vti", tmp_path / "traj.vti", "-o", out])
    ds = xr.open_dataset(out)
    assert list(ds["time"].values) == [0, 1000, 2000] and ds["alpha"].dims == ("time", "i", "j", "y", "z")
    assert ds.attrs["n_frames"] == 3
    positions = []
    for k, dz in enumerate(shifts):
        content = json.loads(str(ds["burgers_content"].values[k]))
        assert np.allclose([abs(c["content_per_length"][2]) for c in content], expected, rtol=0.01)
        positions.append(sorted(c["position"] for c in content))
        single = compute_nye(r.copy(positions=r.positions + [0.0, 0.0, dz]).wrapped(), a0, average_along="x")
        scale = np.nanmax(np.abs(single["alpha"].values))  # text round trip: positions to 1e-10 Å, fits to ~1e-5
        assert np.allclose(ds["alpha"].isel(time=k).values, single["alpha"].values, equal_nan=True, atol=1e-3 * scale)
    moved = np.diff(np.array(positions), axis=0)
    assert np.allclose(moved, 1.5, atol=0.3)  # the boundaries move with the atoms
    pvd = ET.parse(tmp_path / "traj.pvd").getroot()
    files = [d.get("file") for d in pvd.iter("DataSet")]
    assert files == ["traj_t0.vti", "traj_t1000.vti", "traj_t2000.vti"]
    assert all((tmp_path / f).is_file() for f in files)
