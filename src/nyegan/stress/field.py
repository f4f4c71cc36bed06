"""FDM stresses of Nye-field files: atomistic fields (Nye stage) and sample files (dataset, generated fields).

Atomistic field (no ``sample`` dim): ``alpha`` (i, j, x, y[, z]) on nodes along the cell vectors (attrs ``cell``,
``pbc``); the difference scheme is the Nye stage's (central) unless the file names one (``difference_scheme``);
the stiffness is the potential's cubic C rotated by the recorded reference lattice (``reference`` attr).
Masked nodes (free surfaces, voids: NaN) count as alpha = 0 and get NaN outputs.

Sample file (``sample`` dim): ``alpha`` (sample, i, j, x, y[, z]) on fractional cell-centred coordinates with
``cell_lengths`` (sample, axis) in Å (orthogonal boxes) and the file's ``difference_scheme``. These files record no
reference lattice: give the rotation (one for all samples) or ``rotations`` per source case (``case`` variable),
e.g. read from the atomistic Nye fields with :func:`rotations_from_fields`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from nyegan.fieldops import SCHEMES
from nyegan.stress.equilibrium import divergence_residual
from nyegan.stress.output import build_stress_dataset, stiffness_source
from nyegan.stress.solve import solve_fdm
from nyegan.stress.stiffness import as_tensor, box_stiffness, check_rotation, rotation_from_field_attrs

AXES = {"x": 0, "y": 1, "z": 2}


def field_scheme(attrs: Mapping, scheme: str = "auto") -> str:
    """The difference scheme of a field: ``scheme`` unless 'auto'; then the file's ``difference_scheme``, else
    'central' for Nye-stage fields (their convention says central differences)."""
    if scheme != "auto":
        if scheme not in SCHEMES:
            raise ValueError(f"scheme {scheme!r} unknown: choose auto or one of {SCHEMES}")
        return scheme
    named = attrs.get("difference_scheme")
    if named in SCHEMES:
        return str(named)
    if "central differences" in str(attrs.get("convention", "")):
        return "central"
    raise ValueError(
        f"cannot tell the field's difference scheme (no 'difference_scheme' attribute): pass scheme = one of {SCHEMES}"
    )


class Stiffness:
    """Where the box-frame stiffness comes from: an explicit tensor, or cubic constants + rotation(s)."""

    def __init__(self, stiffness=None, cubic=None, rotation=None, rotations=None, info=None):
        self.explicit = None if stiffness is None else as_tensor(stiffness)
        self.cubic = cubic  # (c11, c12, c44) GPa
        self.rotation = None if rotation is None else check_rotation(rotation)
        self.rotations = {str(k): check_rotation(v) for k, v in (rotations or {}).items()}
        self.info = info
        if self.explicit is None and self.cubic is None:
            raise ValueError("give a stiffness (6x6 / 3x3x3x3, GPa) or a potential / cubic constants C11 C12 C44")

    def for_sample(self, attrs: Mapping | None, case: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(box stiffness, rotation or None): the case's rotation, else the common one, else the field's
        recorded reference lattice (``attrs``; None for sample files, which record none)."""
        if self.explicit is not None:
            return self.explicit, None
        if case is not None and case in self.rotations:
            rot = self.rotations[case]
        elif self.rotation is not None:
            rot = self.rotation
        elif attrs is not None:
            rot = rotation_from_field_attrs(attrs)
        else:
            raise ValueError(
                f"sample of case {case!r}: no reference rotation; give a rotation for all samples or the Nye "
                "fields of the source cases (rotations per case)"
            )
        return box_stiffness(*self.cubic, rot), rot


def stiffness_from_potential(potential, element: str = "Al", **kw) -> Stiffness:
    """:class:`Stiffness` from a potential's fcc C11, C12, C44 (LAMMPS, cached)."""
    from nyegan.potentials import Potential, cubic_properties, resolve_potential

    pot = potential if isinstance(potential, Potential) else resolve_potential(potential, element)
    p = cubic_properties(pot)
    info = {"potential": pot.name, "element": pot.element, "c11_gpa": p.c11, "c12_gpa": p.c12, "c44_gpa": p.c44}
    return Stiffness(cubic=(p.c11, p.c12, p.c44), info=info, **kw)


def rotations_from_fields(paths: Sequence[str | os.PathLike]) -> dict[str, np.ndarray]:
    """{case: reference rotation} read from atomistic Nye fields (case = attr ``case``, else the file stem)."""
    out = {}
    for p in paths:
        with xr.open_dataset(p) as ds:
            attrs = dict(ds.attrs)
        out[str(attrs.get("case", Path(p).stem))] = rotation_from_field_attrs(attrs)
    return out


def _cell_of_field(ds: xr.Dataset, spatial: list[str]) -> np.ndarray:
    if "cell" in ds.attrs:
        return np.asarray(ds.attrs["cell"], dtype=float).reshape(3, 3)
    if "cell_lengths" in ds.attrs:
        return np.diag(np.asarray(ds.attrs["cell_lengths"], dtype=float).ravel()[:3])
    lengths = np.ones(3)
    for d in spatial:
        c = np.asarray(ds[d].values, dtype=float)
        if len(c) < 2:
            raise ValueError(f"coordinate {d!r} has fewer than 2 nodes: cannot infer the box length")
        lengths[AXES[d]] = len(c) * (c[1] - c[0])
    return np.diag(lengths)


def _check_periodic_grid(ds: xr.Dataset, spatial: list[str], cell: np.ndarray, source: str) -> None:
    pbc = ds.attrs.get("pbc")
    if pbc is not None:
        for d in spatial:
            if not int(np.asarray(pbc).ravel()[AXES[d]]):
                raise ValueError(
                    f"{source}: axis {d} is not periodic (attr pbc = {list(np.asarray(pbc).ravel())}); the FDM "
                    "solve needs a periodic grid (rebuild the cell periodic along this axis)"
                )
    for d in spatial:
        c = np.asarray(ds[d].values, dtype=float)
        if len(c) > 1 and ds[d].attrs.get("units") == "angstrom":
            length = np.linalg.norm(cell[AXES[d]])
            if abs(len(c) * (c[1] - c[0]) - length) > 1e-6 * length:
                raise ValueError(
                    f"{source}: {len(c)} nodes of spacing {c[1] - c[0]:.6g} Å along {d} do not tile the cell length "
                    f"{length:.6g} Å: not a periodic grid"
                )


def _spatial_dims(alpha: xr.DataArray, source: str) -> list[str]:
    spatial = [d for d in alpha.dims if d in AXES]
    if not 2 <= len(spatial) <= 3:
        raise ValueError(f"{source}: alpha has spatial dims {spatial}; need two or three of x, y, z")
    return spatial


def stress_of_field(
    ds: xr.Dataset,
    stiffness: Stiffness,
    scheme: str = "auto",
    mean_strain=None,
    mean_stress=None,
    workers: int = 1,
    source: str = "field",
) -> xr.Dataset:
    """Stress dataset (contract :data:`nyegan.contracts.STRESS`) of a Nye-field dataset."""
    if "alpha" not in ds:
        raise ValueError(f"{source}: no variable 'alpha' (Nye field contract)")
    alpha = ds["alpha"]
    spatial = _spatial_dims(alpha, source)
    sample = "sample" in alpha.dims
    lead = ["sample", "i", "j"] if sample else ["i", "j"]
    alpha = alpha.transpose(*lead, *spatial)
    if alpha["i"].dtype.kind in "USO":
        alpha = alpha.sel(i=["x", "y", "z"], j=["x", "y", "z"])
    scheme = field_scheme(ds.attrs, scheme)
    dims = tuple(AXES[d] for d in spatial)
    values = np.asarray(alpha.values, dtype=np.float64)
    coords = {d: ds[d] for d in spatial}
    attrs = {
        "alpha_convention": str(ds.attrs.get("convention", "")),
        "source": source,
    }
    mask = None
    rots = {}
    jobs = []  # (alpha, cell, stiffness) per field
    if not sample:
        cell = _cell_of_field(ds, spatial)
        _check_periodic_grid(ds, spatial, cell, source)
        bad = ~np.isfinite(values).all(axis=(0, 1))
        if bad.any():
            mask = (~bad).astype(np.int8)
            values[:, :, bad] = 0.0
        c4, rot = stiffness.for_sample(ds.attrs)
        if rot is not None:
            rots[str(ds.attrs.get("case", "field"))] = rot
        jobs.append((values, cell, c4))
        if "case" in ds.attrs:
            attrs["case"] = ds.attrs["case"]
        attrs["masked_fraction"] = float(bad.mean())
    else:
        if "cell_lengths" not in ds:
            raise ValueError(f"{source}: sample files need the variable 'cell_lengths' (sample, axis) in Å")
        lengths = np.asarray(ds["cell_lengths"].values, dtype=float)
        if not np.isfinite(values).all():
            raise ValueError(f"{source}: alpha holds NaN values")
        cases = [str(c) for c in ds["case"].values] if "case" in ds else [None] * len(values)
        for k, case in enumerate(cases):
            L = np.ones(3)
            L[: lengths.shape[1]] = lengths[k]
            c4, rot = stiffness.for_sample(None, case)
            if rot is not None:
                rots[case] = rot
            jobs.append((values[k], np.diag(L), c4))
        coords["sample"] = ds["sample"]
    results, energies, residuals = [], [], []
    for a, cell, c4 in jobs:
        sol = solve_fdm(a, cell, c4, scheme, dims, mean_strain, mean_stress, workers)
        residuals.append(divergence_residual(sol.stress_voigt, cell, scheme, dims, workers))
        energies.append(_cell_energy(sol.energy_density, cell, dims))
        results.append(sol)
    attrs["stiffness_source"] = stiffness_source(stiffness.info, rots)
    extra = {}
    if sample:
        for name in ("case", "kind", "split", "misorientation_deg", "cell_lengths"):
            if name in ds:
                extra[name] = ds[name]
        coords.update({d: ds[d] for d in ("axis",) if d in ds.coords})
    return build_stress_dataset(
        results, spatial, coords, sample, attrs, energies, residuals, mask=mask, extra=extra or None
    )


def _cell_energy(energy_density: np.ndarray, cell: np.ndarray, dims: tuple) -> float:
    """Integral of the energy density over the cell: eV (3D) or eV per Å along the averaged axis (2D)."""
    if len(dims) == 3:
        measure = abs(np.linalg.det(cell))
    else:
        a, b = cell[dims[0]], cell[dims[1]]
        measure = float(np.linalg.norm(np.cross(a, b)))
    return float(np.nanmean(energy_density) * measure)


def ground_state(ds: xr.Dataset) -> xr.Dataset:
    """The ground state of a Nye-field file of a microstate ensemble (dimension ``state``, ground state first:
    contract ``nye_field``) as a single field (:func:`nyegan.nye.output.frame_as_field`); any other file
    unchanged. The per-case stress and its virial check are of the ground state (frame 0 of the relaxed dump)."""
    from nyegan.nye.output import frame_as_field

    return frame_as_field(ds, 0) if "state" in ds.dims else ds


def stress_from_file(
    field_path,
    potential=None,
    element: str = "Al",
    stiffness=None,
    rotation=None,
    rotations: Mapping | None = None,
    scheme: str = "auto",
    mean_strain=None,
    mean_stress=None,
    workers: int = 1,
    cubic=None,
) -> xr.Dataset:
    """Read a Nye-field netCDF (atomistic, dataset or generated) and return its stress dataset.

    Stiffness, first given wins: ``stiffness`` (box frame, used as is), ``cubic`` = (C11, C12, C44) GPa or the
    ``potential``'s constants, rotated by ``rotations[case]``, ``rotation`` or the field's reference lattice."""
    field_path = Path(field_path)
    if not field_path.is_file():
        raise FileNotFoundError(f"field file {field_path} not found")
    with xr.open_dataset(field_path) as ds:
        ds = ground_state(ds.load())
    if stiffness is not None:
        stiff = Stiffness(stiffness=stiffness, info=None)
    elif cubic is not None:
        c11, c12, c44 = (float(v) for v in cubic)
        info = {"c11_gpa": c11, "c12_gpa": c12, "c44_gpa": c44}
        stiff = Stiffness(cubic=(c11, c12, c44), rotation=rotation, rotations=rotations, info=info)
    elif potential is not None:
        stiff = stiffness_from_potential(potential, element, rotation=rotation, rotations=rotations)
    else:
        raise ValueError("give a potential (its cubic constants, rotated into the reference lattice) or a stiffness")
    return stress_of_field(ds, stiff, scheme, mean_strain, mean_stress, workers, source=field_path.name)
