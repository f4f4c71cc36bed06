"""From atoms to a gridded Nye tensor field: per-atom G -> grid (normalised convolution) -> alpha = curl Ue."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from nyegan.defects.frank_bilby import frank_bilby_content
from nyegan.nye.grid import Grid, curl_of_distortion, divergence_max
from nyegan.nye.lattice_g import AtomCorrespondence, atom_correspondence
from nyegan.nye.reference import AXES, GrainReference, build_reference
from nyegan.structure import Structure

CONVENTION = (
    "alpha = curl Ue, (curl A)_ij = eps_jkl d_k A_il; i = Burgers component, j = line direction; "
    "Burgers vector b_i = integral of alpha_ij n_j dS. Ue = I - G^T with G the Hartley-Mishin lattice "
    "correspondence tensor per atom (P G = Q in least squares over matched first-shell bonds: rows of P actual "
    "neighbour vectors, rows of Q the matched bonds of the median reference lattice), deposited on the grid by "
    "cloud-in-cell + Gaussian normalised convolution; derivatives are central differences along the grid axes."
)


def _axis_index(name, what: str) -> int | None:
    if name is None or (isinstance(name, str) and name.lower() in ("", "none")):
        return None
    if name not in AXES:
        raise ValueError(f"{what} must be one of 'x', 'y', 'z' or None, got {name!r}")
    return AXES[name]


def reference_from_rotations(rotations: dict, tilt_axis="z") -> GrainReference:
    """GrainReference from ``{grain_id: R}`` (crystal -> box, rows = crystal directions along box x, y, z)."""
    if not rotations:
        raise ValueError(
            "reference='grains' needs rotations: {grain id: 3x3 crystal->box rotation} "
            "(the build metadata 'rotations'), or use reference='auto'"
        )
    ids = sorted(int(k) for k in rotations)
    rots = []
    for g in ids:
        r = np.asarray(rotations[g] if g in rotations else rotations[str(g)], dtype=float)
        rots.append(r / np.linalg.norm(r, axis=1, keepdims=True))
    axis = np.eye(3)[AXES[tilt_axis]] if isinstance(tilt_axis, str) else np.asarray(tilt_axis, float)
    return build_reference(ids, rots, axis=axis, method="grains")


def _check_average_axis(cell: np.ndarray, m: int) -> None:
    v = cell[m]
    if np.linalg.norm(v - v[m] * np.eye(3)[m]) > 1e-6 * np.linalg.norm(v):
        raise ValueError(
            f"average_along={'xyz'[m]!r} needs cell vector {m} parallel to box {'xyz'[m]} "
            f"(got {v.tolist()}); average along another axis or pass average_along=None"
        )


def grid_distortion(
    structure: Structure, corr: AtomCorrespondence, grid: Grid, smoothing: float, mask_fraction: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Smoothed G on the grid as its mean (3, 3) plus a float32 deviation field (3, 3, *shape) (NaN where masked),
    the smoothed weight and the mask of usable nodes.

    Normalised convolution: G(node) = mean + smooth(sum w (G_atom - mean)) / smooth(sum w). Only the deviations
    go through the (float32) transforms: a uniform G stays exactly uniform, and the curl, which the constant
    mean does not enter, is taken in float64.
    """
    frac = structure.fractional()
    idx, w = grid.cic(frac)
    w = w * corr.ok[:, None]
    dtype = np.float32
    kernel = grid.gaussian_kernel(smoothing, dtype=dtype) if smoothing > 0 else None
    density = grid.smooth(grid.deposit(idx, w).astype(dtype), kernel, smoothing)
    positive = density[density > 1e-12]
    bulk = float(np.median(positive)) if positive.size else 0.0
    mask = density > mask_fraction * bulk
    if not mask.any():
        raise ValueError("no grid node holds enough atoms: use a larger spacing or smoothing")
    mean = corr.G[corr.ok].mean(axis=0) if corr.ok.any() else np.eye(3)
    deposited = grid.deposit_many(idx, w, (corr.G - mean).reshape(-1, 9), dtype=dtype)
    inv_density = np.zeros(grid.shape, dtype=dtype)
    np.divide(1.0, density, out=inv_density, where=mask)
    for c in range(9):  # smoothed in place: one float32 (9, *shape) buffer
        g = grid.smooth(deposited[c], kernel, smoothing)
        g *= inv_density
        deposited[c] = g
    dev = deposited.reshape((3, 3) + grid.shape)
    dev[:, :, ~mask] = np.nan
    return mean, dev, density, mask


def interpolate_to_atoms(grid: Grid, field: np.ndarray, structure: Structure) -> np.ndarray:
    """Cloud-in-cell interpolation of a grid field (..., *shape) to the atoms, (N, ...)."""
    idx, w = grid.cic(structure.fractional())
    lead = field.shape[: field.ndim - len(grid.shape)]
    flat = field.reshape(lead + (-1,))
    vals = np.einsum("...nc,nc->n...", flat[..., idx], w)
    return vals


def compute_nye(
    structure: Structure,
    a0: float,
    reference: str | GrainReference = "auto",
    rotations=None,
    spacing: float = 1.0,
    smoothing: float = 2.0,
    average_along: str | None = None,
    tilt_axis: str = "z",
    cone_deg: float = 27.0,
    mask_fraction: float = 0.5,
    content: str | None = "auto",
    content_kw: dict | None = None,
    return_atoms: bool = False,
    workers: int = 1,
):
    """Nye tensor field of an fcc structure as an ``xarray.Dataset`` (variable ``alpha``, 1/Å).

    structure: atoms (Å) in an orthogonal or triclinic box; a0: lattice parameter (Å).
    reference: 'grains' (rotation per grain id from ``rotations`` = {id: R crystal->box}), 'auto' (orientations
      detected from the atoms and clustered into grains) or a ready :class:`GrainReference`.
    spacing, smoothing: grid spacing and Gaussian width, Å. average_along: 'x' | 'y' | 'z' | None, a direction
      of invariance (straight defect line) averaged away and dropped from the output dims.
    content: 'boundaries', 'cores', 'auto' (boundaries for several grains, cores otherwise) or None: integrated
      net Burgers content stored in attrs (``content_kw`` passed on to :func:`burgers_content`).
    return_atoms: also return per-atom results (G, ok flag, alpha interpolated to atoms).
    """
    if not isinstance(structure, Structure):
        raise TypeError("structure must be a nyegan.structure.Structure (read one with nyegan.io.read_dump)")
    if structure.n_atoms == 0:
        raise ValueError("structure holds no atoms")
    if smoothing < 0:
        raise ValueError(f"smoothing must be >= 0 Å, got {smoothing}")
    m_avg = _axis_index(average_along, "average_along")
    if m_avg is not None:
        _check_average_axis(structure.cell, m_avg)
    if isinstance(reference, GrainReference):
        ref = reference
    elif reference == "grains":
        ref = reference_from_rotations(rotations, tilt_axis)
    elif reference == "auto":
        from nyegan.nye.orientation import detect_reference

        ref, grain = detect_reference(structure, a0, tilt_axis=tilt_axis, cone_deg=cone_deg, workers=workers)
        structure = structure.copy(grain=grain)
    else:
        raise ValueError(f"reference must be 'grains', 'auto' or a GrainReference, got {reference!r}")

    corr = atom_correspondence(structure, a0, ref, cone_deg=cone_deg, workers=workers)
    grid = Grid.build(structure.cell, structure.origin, structure.pbc, spacing, m_avg, workers=workers)
    _, G_dev, density, mask = grid_distortion(structure, corr, grid, smoothing, mask_fraction)
    del density
    alpha = curl_of_distortion(grid, G_dev)  # the uniform mean of G has no curl
    del G_dev
    mask = np.isfinite(alpha).all(axis=(0, 1))  # supported by atoms and a full difference stencil
    alpha[:, :, ~mask] = np.nan
    steps = grid.steps
    finite = mask.any()
    scale = np.nanmax(np.abs(alpha)) / steps[list(grid.dims)].min() if finite else 0.0
    div_rel = float(divergence_max(grid, alpha) / scale) if scale > 0 else 0.0

    names = [("x", "y", "z")[m] for m in grid.dims]
    coords = {
        name: structure.origin[m] + grid.fractions(m) * np.linalg.norm(structure.cell[m])
        for name, m in zip(names, grid.dims)
    }
    coords.update(i=["x", "y", "z"], j=["x", "y", "z"])
    orthogonal = structure.is_orthogonal
    attrs = {
        "units": "1/angstrom",
        "long_name": "Nye dislocation density tensor",
        "convention": CONVENTION,
        "source": "atomistic",
        "difference_scheme": "central",
        "lattice": "fcc",
        "a0_angstrom": float(a0),
        "spacing": float(spacing),
        "grid_steps_angstrom": steps.tolist(),
        "smoothing": float(smoothing),
        "smoothing_kind": "Gaussian normalised convolution, sigma in angstrom",
        "mask_fraction": float(mask_fraction),
        "matching_cone_deg": float(cone_deg),
        "average_along": average_along if m_avg is not None else "none",
        "cell": structure.cell.ravel().tolist(),
        "cell_lengths": structure.lengths.tolist(),
        "origin": structure.origin.tolist(),
        "pbc": [int(p) for p in structure.pbc],
        "grid_frame": (
            "cartesian"
            if orthogonal
            else "cell vectors: coordinate m = origin_m + s_m |cell_m| with s the fractional coordinate; "
            "Cartesian position = origin + sum_m s_m cell_m"
        ),
        "reference": json.dumps(ref.attrs()),
        "reference_method": ref.method,
        "correspondence_angle_deg": float(ref.correspondence_angle_deg),
        "n_atoms": int(structure.n_atoms),
        "n_atoms_unmatched": int((~corr.ok).sum()),
        "div_alpha_relative_residual": div_rel,
    }
    ds = xr.Dataset(
        {
            "alpha": (("i", "j", *names), alpha, {"units": "1/angstrom", "long_name": "Nye tensor alpha_ij"}),
            "mask": (
                tuple(names),
                mask.astype(np.int8),
                {
                    "long_name": "1 where atoms support the field and its derivatives, 0 (alpha NaN) at and beyond free surfaces or voids"
                },
            ),
        },
        coords=coords,
        attrs=attrs,
    )
    for name in names:
        ds[name].attrs["units"] = "angstrom"
    ds.attrs["burgers_content"] = "[]"
    if content == "auto":
        content = "boundaries" if len(ref.grain_ids) > 1 else "cores"
    if content:
        kw = dict(content_kw or {})
        if content == "boundaries" and "normal" not in kw:
            kw["normal"] = "y"
        if "line" not in kw:  # the averaged direction, else the tilt axis
            kw["line"] = average_along or (tilt_axis if isinstance(tilt_axis, str) else "z")
        if content == "boundaries" and ref.correspondence_angle_deg:
            kw.setdefault("frank_bilby", frank_bilby_content(abs(ref.correspondence_angle_deg)))
        from nyegan.nye.burgers import burgers_content

        ds.attrs["burgers_content"] = json.dumps(burgers_content(ds, kind=content, **kw))
    if not return_atoms:
        return ds
    atoms = {
        "G": corr.G,
        "ok": corr.ok,
        "n_matched": corr.n_matched,
        "alpha": interpolate_to_atoms(grid, alpha, structure),
        "grain": structure.grain,
    }
    return ds, atoms
