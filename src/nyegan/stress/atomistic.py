"""Atomistic check of FDM stresses: LAMMPS per-atom virial stress, coarse-grained onto the Nye grid, compared.

Per-atom stress: LAMMPS ``compute stress/atom`` (virial, bar·Å³; no kinetic part in a relaxed state) divided by
the mean atomic volume V_cell / N, in GPa, tension positive; summed over the atoms it gives the box stress
exactly (``-p_ij`` of LAMMPS). It is put on the Nye field's grid the way the Nye stage puts G there:
cloud-in-cell deposition and Gaussian normalised convolution with the field's own ``smoothing`` (and averaged along
the same axis), so both stresses carry the same smoothing.

Expected differences (see docs/stress.md): inside dislocation cores and boundary cores the atomistic stress is
non-linear and the per-atom volume is not V/N; the FDM stress uses one homogeneous stiffness (the reference
lattice's) in linear elasticity, and sees only the stress of the smoothed dislocation content. Comparisons are
therefore made outside core regions (``core_mask``), on fields centred on their mean over that region (the FDM
mean is a convention, nyegan.stress.mean; boundary cores carry an excess stress that alpha does not describe),
with the offset of the means reported beside.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from nyegan.structure import Structure
from nyegan.units import BAR_TO_GPA

COMPONENTS = [("x", "x"), ("y", "y"), ("z", "z"), ("x", "y"), ("x", "z"), ("y", "z")]
AXES = {"x": 0, "y": 1, "z": 2}


def atomic_virial_stress(structure: Structure, potential, element: str = "Al", comm=None, log_file=None):
    """Per-atom virial stress (N, 3, 3), GPa, of ``structure`` with ``potential`` (LAMMPS, no minimisation) and
    the box stress (3, 3), GPa, reported by LAMMPS (``-pxx`` ...) for a consistency check."""
    from nyegan.potentials import Potential, resolve_potential
    from nyegan.relax.engine import LammpsRelaxer

    pot = potential if isinstance(potential, Potential) else resolve_potential(potential, element)
    n_types = max(int(structure.grain.max()), 1)
    with LammpsRelaxer(pot, n_types=n_types, comm=comm, log_file=log_file, case="stress") as relaxer:
        relaxer.load(structure)
        relaxer.lmp.commands_list(
            [
                "compute nyegan_stress all stress/atom NULL virial",
                "thermo_style custom step pe pxx pyy pzz pxy pxz pyz",
                "run 0",
            ]
        )
        per_atom = np.ctypeslib.as_array(relaxer.lmp.gather("c_nyegan_stress", 1, 6)).reshape(-1, 6).copy()
        box = {k: float(relaxer.lmp.get_thermo(k)) for k in ("pxx", "pyy", "pzz", "pxy", "pxz", "pyz")}
    # LAMMPS order xx yy zz xy xz yz; gathered by atom id = the order of ``structure`` (ids 1..N on load)
    order = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]
    volume_per_atom = structure.volume / structure.n_atoms
    sigma = np.zeros((structure.n_atoms, 3, 3))
    box_sigma = np.zeros((3, 3))
    for c, (i, j) in enumerate(order):
        sigma[:, i, j] = sigma[:, j, i] = per_atom[:, c] * BAR_TO_GPA / volume_per_atom
        key = "p" + "xyz"[i] + "xyz"[j]
        box_sigma[i, j] = box_sigma[j, i] = -box[key] * BAR_TO_GPA
    return sigma, box_sigma


def field_grid(field: xr.Dataset):
    """The Nye stage's :class:`nyegan.nye.grid.Grid` of an atomistic field, rebuilt from its attrs."""
    from nyegan.nye.grid import Grid

    attrs = field.attrs
    missing = [k for k in ("cell", "origin", "pbc", "spacing") if k not in attrs]
    if missing:
        raise ValueError(f"field lacks the attrs {missing} of the Nye stage: not an atomistic Nye field")
    avg = attrs.get("average_along", "none")
    m_avg = AXES.get(avg) if avg in AXES else None
    grid = Grid.build(
        np.asarray(attrs["cell"], float).reshape(3, 3),
        np.asarray(attrs["origin"], float),
        tuple(bool(p) for p in np.asarray(attrs["pbc"]).ravel()),
        float(attrs["spacing"]),
        m_avg,
    )
    spatial = [d for d in field["alpha"].dims if d in AXES]
    shape = tuple(field.sizes[d] for d in spatial)
    if grid.shape != shape:
        raise ValueError(f"rebuilt grid {grid.shape} differs from the field's {shape}: attrs inconsistent")
    return grid


def coarse_grain(structure: Structure, values: np.ndarray, field: xr.Dataset) -> np.ndarray:
    """Per-atom ``values`` (N, ...) on the field's grid, (..., *grid): cloud-in-cell + Gaussian normalised
    convolution with the field's ``smoothing`` (Å), the Nye stage's operator."""
    grid = field_grid(field)
    smoothing = float(field.attrs.get("smoothing", 0.0))
    if not np.allclose(structure.cell, grid.cell, atol=1e-6):
        raise ValueError("the structure's cell differs from the field's: use the dump the Nye field was made from")
    values = np.asarray(values, dtype=float)
    lead = values.shape[1:]
    flat = values.reshape(len(values), -1)
    idx, w = grid.cic(structure.fractional())
    kernel = grid.gaussian_kernel(smoothing) if smoothing > 0 else None
    density = grid.smooth(grid.deposit(idx, w), kernel, smoothing)
    out = np.empty((flat.shape[1],) + grid.shape)
    for c in range(flat.shape[1]):
        out[c] = grid.smooth(grid.deposit(idx, w, flat[:, c]), kernel, smoothing) / density
    return out.reshape(lead + grid.shape)


def core_mask(field: xr.Dataset, radius: float = 4.0, threshold: float = 0.1) -> np.ndarray:
    """True at grid nodes *outside* core regions: farther than ``radius`` Å from every node where |alpha|
    (Frobenius) exceeds ``threshold`` times its maximum (periodic distances in the cell metric)."""
    alpha = field["alpha"]
    spatial = [d for d in alpha.dims if d in AXES]
    a = np.nan_to_num(np.asarray(alpha.transpose("i", "j", *spatial).values, float))
    mag = np.sqrt((a**2).sum(axis=(0, 1)))
    core = mag > threshold * mag.max() if mag.max() > 0 else np.zeros(mag.shape, bool)
    cell = np.asarray(field.attrs["cell"], float).reshape(3, 3)
    shape = mag.shape
    # periodic offsets of every node from node 0, in Å through the cell metric
    fr = np.meshgrid(*[np.fft.fftfreq(n, d=1.0) * 1.0 for n in shape], indexing="ij")  # in (-0.5, 0.5]
    disp = sum(f[..., None] * cell[AXES[d]] for f, d in zip(fr, spatial))
    kernel = ((disp**2).sum(-1) <= radius**2).astype(float)
    dil = np.fft.ifftn(np.fft.fftn(core.astype(float)) * np.fft.fftn(kernel)).real
    return dil < 0.5


def compare(fdm: np.ndarray, atomistic: np.ndarray, keep: np.ndarray) -> list[dict]:
    """Per component (xx yy zz xy xz yz) over the nodes ``keep``, stresses (3, 3, *grid) in GPa: Pearson
    correlation, RMS difference of the two fields each centred on its mean over ``keep`` (GPa), the offset of
    the means (FDM - atoms, GPa: the FDM mean is a convention, nyegan.stress.mean), the standard deviations and
    the relative centred RMS error (over the atomistic standard deviation)."""
    rows = []
    for i, j in COMPONENTS:
        f = fdm[AXES[i], AXES[j]][keep]
        a = atomistic[AXES[i], AXES[j]][keep]
        ok = np.isfinite(f) & np.isfinite(a)
        f, a = f[ok], a[ok]
        fc, ac = f - f.mean(), a - a.mean()
        sf, sa = float(fc.std()), float(ac.std())
        rmse = float(np.sqrt(((fc - ac) ** 2).mean()))
        corr = float((fc * ac).mean() / (sf * sa)) if sf > 0 and sa > 0 else float("nan")
        rows.append(
            {
                "component": i + j,
                "correlation": corr,
                "rmse_gpa": rmse,
                "offset_gpa": float(f.mean() - a.mean()),
                "std_atomistic_gpa": sa,
                "std_fdm_gpa": sf,
                "relative_rmse": rmse / sa if sa > 0 else float("nan"),
            }
        )
    return rows


def compare_case(structure: Structure, field: xr.Dataset, stress: xr.Dataset, potential, element="Al", **mask_kw):
    """Atomistic vs FDM stress of one case: (summary dict, atomistic grid stress (3, 3, *grid))."""
    sigma_atoms, box = atomic_virial_stress(structure, potential, element)
    grid_sigma = coarse_grain(structure, sigma_atoms, field)
    spatial = [d for d in field["alpha"].dims if d in AXES]
    fdm = np.asarray(stress["stress"].transpose("i", "j", *spatial).values, float)
    keep = core_mask(field, **mask_kw)
    rows = compare(fdm, grid_sigma, keep)
    summary = {
        "case": str(field.attrs.get("case", "")),
        "n_atoms": int(structure.n_atoms),
        "fraction_outside_cores": float(keep.mean()),
        "core_mask": {"radius_angstrom": mask_kw.get("radius", 4.0), "threshold": mask_kw.get("threshold", 0.1)},
        "mean_stress_atoms_gpa": sigma_atoms.mean(axis=0).tolist(),
        "box_stress_lammps_gpa": box.tolist(),
        "fdm_mean_condition": str(stress.attrs.get("mean_condition", "")),
        "smoothing_angstrom": float(field.attrs.get("smoothing", 0.0)),
        "components": rows,
    }
    return summary, grid_sigma
