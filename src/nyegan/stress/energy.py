"""Elastic energies from FDM stress fields: boundary energies per area and the Read–Shockley form.

Read–Shockley (low-angle tilt boundary, dislocation spacing D = |b| / (2 sin(theta/2))):
gamma_el = E0 theta (A - ln theta), E0 = |b| K / (4 pi), with K the energy factor of the boundary's net dislocation
(E / ln(R / r0) = K |b|^2 / (4 pi) per unit length) and A set by the core cut-off r0 (A = ln(|b| / (2 pi r0)) + const).
Units: GPa, Å, mJ/m^2, angles in radians.
"""

from __future__ import annotations

import numpy as np

from nyegan.elasticity import stroh_solution
from nyegan.units import EV_PER_A2_TO_MJ_PER_M2, EV_PER_A3_TO_GPA


def energy_factor(stiffness_box: np.ndarray, burgers, n_angles: int = 2000) -> float:
    """K (GPa) with E / ln(R / r0) = K |b|^2 / (4 pi) for a straight dislocation along box z (anisotropic, from the
    Stroh field: the energy density times r^2 integrated over the polar angle)."""
    b = np.asarray(burgers, dtype=float)
    stroh = stroh_solution(stiffness_box)
    phi = np.linspace(0.0, 2.0 * np.pi, n_angles, endpoint=False)
    pts = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=1)
    grad = stroh.displacement_gradient(pts, b)
    eps = 0.5 * (grad + np.swapaxes(grad, 1, 2))
    w_r2 = 0.5 * np.einsum("nij,nij->n", stroh.stress(pts, b), eps)  # GPa Å^2 at r = 1 Å
    return float(w_r2.mean() * 2.0 * np.pi * 4.0 * np.pi / float(b @ b))


def read_shockley_e0(stiffness_box: np.ndarray, burgers) -> float:
    """E0 = |b| K / (4 pi) in mJ/m^2 per radian for walls whose net dislocation per period is ``burgers`` (Å)."""
    b = np.asarray(burgers, dtype=float)
    return float(np.linalg.norm(b) * energy_factor(stiffness_box, b) / (4.0 * np.pi) / EV_PER_A3_TO_GPA) * (
        EV_PER_A2_TO_MJ_PER_M2
    )


def read_shockley_fit(theta, gamma) -> tuple[float, float]:
    """(E0, A) of gamma = E0 theta (A - ln theta) by least squares on gamma / theta = E0 A - E0 ln theta."""
    theta = np.asarray(theta, dtype=float)
    gamma = np.asarray(gamma, dtype=float)
    if len(theta) < 2 or (theta <= 0).any():
        raise ValueError("need at least two positive angles (radians) for a Read-Shockley fit")
    slope, intercept = np.polyfit(np.log(theta), gamma / theta, 1)
    return float(-slope), float(-intercept / slope)


def boundary_energy_mj_m2(cell_energy_ev_per_a: float, boundary_length: float, n_boundaries: int = 2) -> float:
    """Elastic energy per boundary area (mJ/m^2) from a 2D cell's elastic energy per unit length along the averaged
    axis (eV/Å) and the boundary length in the cell plane (Å)."""
    return float(cell_energy_ev_per_a / (n_boundaries * boundary_length) * EV_PER_A2_TO_MJ_PER_M2)
