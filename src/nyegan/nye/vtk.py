"""VTK ImageData (``.vti``, XML, appended raw binary) export of Nye fields for ParaView and FDM codes.

The grid is the field's own: nodes at origin + sum_m s_m cell_m with s_m = i_m / n_m. ``Origin`` is the box
origin, ``Spacing`` the node step along each cell vector (Å) and ``Direction`` the unit cell vectors as columns
(identity for orthogonal boxes; ParaView >= 5.10 honours it), so points sit at their Cartesian positions in any
frame. A field averaged along a cell vector is written as a single layer along it.

Point data: ``alpha`` (9 components, row-major alpha_ij: xx xy xz yx ... zz; 1/Å; NaN where masked) and ``mask``
(uint8). VTK orders points with the first grid index fastest. A ``.pvd`` collection lists the frames of a
trajectory with their timesteps.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import xarray as xr

from nyegan.io import atomic_path

DIMS = ("x", "y", "z")


def _grid_layout(ds: xr.Dataset):
    cell = np.asarray(ds.attrs["cell"], float).reshape(3, 3)
    origin = np.asarray(ds.attrs["origin"], float)
    present = [d for d in DIMS if d in ds["alpha"].dims]
    sizes = [ds.sizes[d] if d in present else 1 for d in DIMS]
    spacing = []
    for m, d in enumerate(DIMS):
        if d in present and ds.sizes[d] > 1:
            spacing.append(float(ds[d].values[1] - ds[d].values[0]))
        else:
            spacing.append(float(np.linalg.norm(cell[m])))
    direction = (cell / np.linalg.norm(cell, axis=1)[:, None]).T  # columns = unit cell vectors
    return origin, sizes, spacing, direction, present


def _arrays(ds: xr.Dataset, present: list[str]) -> dict[str, np.ndarray]:
    a = ds["alpha"].transpose("i", "j", *present).values
    full = a.reshape((3, 3) + tuple(ds.sizes[d] if d in present else 1 for d in DIMS))  # (3, 3, nx, ny, nz)
    alpha = np.ascontiguousarray(full.transpose(4, 3, 2, 0, 1).reshape(-1, 9))  # z slowest, x fastest
    out = {"alpha": alpha.astype(np.float64)}
    if "mask" in ds:
        m = ds["mask"].transpose(*present).values.reshape(full.shape[2:])
        out["mask"] = np.ascontiguousarray(m.transpose(2, 1, 0).reshape(-1)).astype(np.uint8)
    return out


_VTK_TYPES = {np.dtype(np.float64): "Float64", np.dtype(np.float32): "Float32", np.dtype(np.uint8): "UInt8"}


def write_vti(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write the field of ``ds`` (dims i, j and two or three of x, y, z) as a ``.vti`` file, atomically."""
    origin, sizes, spacing, direction, present = _grid_layout(ds)
    arrays = _arrays(ds, present)
    extent = " ".join(f"0 {n - 1}" for n in sizes)
    offset = 0
    headers = []
    for name, arr in arrays.items():
        ncomp = 1 if arr.ndim == 1 else arr.shape[1]
        headers.append(
            f'        <DataArray type="{_VTK_TYPES[arr.dtype]}" Name={quoteattr(name)} '
            f'NumberOfComponents="{ncomp}" format="appended" offset="{offset}"/>'
        )
        offset += 8 + arr.nbytes
    units = quoteattr(f"alpha: {ds['alpha'].attrs.get('units', '1/angstrom')}; coordinates: angstrom")
    xml = "\n".join(
        [
            '<?xml version="1.0"?>',
            '<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">',
            f'  <ImageData WholeExtent="{extent}" Origin="{" ".join(f"{v:.12g}" for v in origin)}" '
            f'Spacing="{" ".join(f"{v:.12g}" for v in spacing)}" '
            f'Direction="{" ".join(f"{v:.12g}" for v in direction.ravel())}">',
            f'    <Piece Extent="{extent}">',
            '      <PointData Tensors="alpha" Scalars="mask">',
            *headers,
            "      </PointData>",
            "    </Piece>",
            "  </ImageData>",
            f"  <!-- nyegan Nye field; {units[1:-1]}; alpha components row-major xx xy xz yx yy yz zx zy zz -->",
            '  <AppendedData encoding="raw">',
        ]
    )
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(xml.encode() + b"\n   _")
            for arr in arrays.values():
                data = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
                fh.write(np.uint64(data.nbytes).astype("<u8").tobytes())
                fh.write(data.tobytes())
            fh.write(b"\n  </AppendedData>\n</VTKFile>\n")


def read_vti(path: str | os.PathLike) -> dict:
    """Read a ``.vti`` file written by :func:`write_vti` (raw appended data): extent, origin, spacing,
    direction and the point arrays, each reshaped to (nz, ny, nx[, ncomp])."""
    import xml.etree.ElementTree as ET

    raw = Path(path).read_bytes()
    start = raw.index(b'<AppendedData encoding="raw">')
    head = raw[:start].decode() + "</VTKFile>"
    root = ET.fromstring(head)
    image = root.find("ImageData")
    extent = [int(v) for v in image.get("WholeExtent").split()]
    shape = tuple(extent[2 * k + 1] - extent[2 * k] + 1 for k in range(3))
    data = raw[raw.index(b"_", start) + 1 :]
    out = {
        "shape_xyz": shape,
        "origin": np.array([float(v) for v in image.get("Origin").split()]),
        "spacing": np.array([float(v) for v in image.get("Spacing").split()]),
        "direction": np.array([float(v) for v in image.get("Direction").split()]).reshape(3, 3),
        "arrays": {},
    }
    types = {"Float64": "<f8", "Float32": "<f4", "UInt8": "u1"}
    for arr in image.iter("DataArray"):
        off = int(arr.get("offset"))
        nbytes = int(np.frombuffer(data[off : off + 8], "<u8")[0])
        values = np.frombuffer(data[off + 8 : off + 8 + nbytes], types[arr.get("type")])
        ncomp = int(arr.get("NumberOfComponents", "1"))
        out["arrays"][arr.get("Name")] = values.reshape(shape[::-1] + ((ncomp,) if ncomp > 1 else ()))
    return out


def write_pvd(path: str | os.PathLike, entries: list[tuple[int, str]]) -> None:
    """ParaView collection of (timestep, .vti file name relative to the .pvd) pairs, atomically."""
    lines = ['<?xml version="1.0"?>', '<VTKFile type="Collection" version="1.0">', "  <Collection>"]
    lines += [f'    <DataSet timestep="{t}" part="0" file={quoteattr(f)}/>' for t, f in entries]
    lines += ["  </Collection>", "</VTKFile>", ""]
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(lines))
