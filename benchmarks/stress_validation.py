"""Validation figures of the FDM stress solve against theory (the numbers quoted in docs/stress.md).

1. Gaussian-cored edge and screw quadrupoles (Al_mm cubic constants, builder orientation) vs the anisotropic periodic
   Stroh solution: max error per component outside r_core, relative to the largest reference stress there.
2. Frank–Bilby walls of edge dislocations: stress beyond one dislocation spacing / peak stress, FDM and Stroh.
3. Discrete residuals: relative div sigma and |curl Ue - alpha| / |alpha|.
4. Elastic energy of Gaussian-cored tilt walls (b = a0 along the normal) vs Read–Shockley: the slope of
   gamma / theta against ln theta is -E0, E0 = a0 K / (4 pi) with K the Stroh energy factor.

Run: PYTHONPATH=src python benchmarks/stress_validation.py
"""

from __future__ import annotations

import numpy as np

from nyegan import fieldops
from nyegan.elasticity import PeriodicDislocationField, stroh_solution
from nyegan.potentials import cubic_properties, resolve_potential
from nyegan.stress import box_stiffness, divergence_residual, solve_fdm
from nyegan.stress.analytic import distance_to_points, gaussian_line_alpha, node_positions
from nyegan.stress.energy import energy_factor, read_shockley_e0, read_shockley_fit
from nyegan.units import EV_PER_A2_TO_MJ_PER_M2

EDGE = np.array([[1, -1, 0], [1, 1, 1], [-1, -1, 2]], float)
SCREW = np.array([[-1, -1, 2], [1, 1, 1], [-1, 1, 0]], float)
LABELS = ["xx", "yy", "zz", "xy", "xz", "yz"]
IDX = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]


def rot(rows):
    return rows / np.linalg.norm(rows, axis=1)[:, None]


def quadrupole_errors(props, character, scheme, width=0.5, h=0.25, L=48.0, radii=(6, 8, 12)):
    C = box_stiffness(props.c11, props.c12, props.c44, rot(EDGE if character == "edge" else SCREW))
    b = props.a0 / np.sqrt(2)
    bvec = np.array([b, 0, 0]) if character == "edge" else np.array([0, 0, b])
    n = (int(round(L / h)),) * 2
    cell = np.diag([L, L, 10.0])
    p1, p2, p3, p4 = (np.array(v) * L for v in ([0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]))
    pairs = [(p1, p2), (p3, p4)]
    alpha = gaussian_line_alpha(cell, n, [p1, p2, p3, p4], [bvec, -bvec, bvec, -bvec], width)
    sol = solve_fdm(alpha, cell, C, scheme)
    ref = PeriodicDislocationField(stroh_solution(C), bvec, (L, L), pairs)
    step = max(1, n[0] // 96)
    pts = node_positions(cell, n)[::step, ::step].reshape(-1, 3)
    dist = distance_to_points(cell, n, [p1, p2, p3, p4])[::step, ::step].ravel()
    out = {}
    for r in radii:
        far = dist > r * width
        s_ref = ref.stress(pts[far])
        s_fdm = sol.stress[:, :, ::step, ::step].reshape(3, 3, -1)[:, :, far].transpose(2, 0, 1)
        scale = np.abs(s_ref).max()
        out[r] = [np.abs(s_fdm[:, i, j] - s_ref[:, i, j]).max() / scale for i, j in IDX]
        out[r, "ref"] = [np.abs(s_ref[:, i, j]).max() for i, j in IDX]
    div = divergence_residual(sol.stress_voigt, cell, scheme)
    curl = fieldops.curl(sol.distortion, (L, L), 2, scheme)
    curl_err = np.abs(curl - alpha).max() / np.abs(alpha).max()
    return out, div, curl_err


def wall(props, theta_deg, width=0.5):
    C = box_stiffness(props.c11, props.c12, props.c44, np.eye(3))
    b = props.a0 / np.sqrt(2)
    D = b / (2 * np.sin(np.radians(theta_deg) / 2))
    Lx, Ly, h = D, 4 * D, width / 2
    n = (int(round(Lx / h)), int(round(Ly / h)))
    cell = np.diag([Lx, Ly, 10.0])
    pos = [(Lx / 2, Ly / 4), (Lx / 2, 3 * Ly / 4)]
    sol = solve_fdm(gaussian_line_alpha(cell, n, pos, [(0, b, 0), (0, -b, 0)], width), cell, C, "spectral")
    pts = node_positions(cell, n)
    dy = np.minimum(np.abs(pts[..., 1] - Ly / 4), np.abs(pts[..., 1] - 3 * Ly / 4))
    smax = np.abs(sol.stress).max(axis=(0, 1))
    stroh = stroh_solution(C)
    up = PeriodicDislocationField(stroh, (0, b, 0), (Lx, Ly), [(pos[0], pos[1])])
    down = PeriodicDislocationField(stroh, (0, b, 0), (Lx, Ly), [(pos[0], (pos[1][0], pos[1][1] - Ly))])
    beyond = pts.reshape(-1, 3)[(dy >= D).ravel()]
    ref_far = np.abs(0.5 * (up.stress(beyond) + down.stress(beyond))).max()
    half = (dy >= D / 2) & (dy < D)
    return D, smax.max(), smax[dy >= D].max() / smax.max(), ref_far / smax.max(), smax[half].max() / smax.max()


def wall_energies(props, width, degrees=(1, 2, 3, 4, 6, 8, 10)):
    """(theta rad, gamma_el mJ/m^2) of periodic Gaussian-cored walls of edge dislocations b = a0 [010]."""
    C = box_stiffness(props.c11, props.c12, props.c44, np.eye(3))
    b = props.a0
    out = []
    for deg in degrees:
        t = np.radians(deg)
        D = b / (2 * np.sin(t / 2))
        Lx, Ly, h = D, 4 * D, min(width / 2, 0.5)
        n = (int(round(Lx / h)), int(round(Ly / h)))
        cell = np.diag([Lx, Ly, 10.0])
        alpha = gaussian_line_alpha(cell, n, [(Lx / 2, Ly / 4), (Lx / 2, 3 * Ly / 4)], [(0, b, 0), (0, -b, 0)], width)
        sol = solve_fdm(alpha, cell, C, "spectral")
        out.append((t, sol.energy_density.mean() * Ly / 2 * EV_PER_A2_TO_MJ_PER_M2))
    return np.array(out)


def main() -> None:
    props = cubic_properties(resolve_potential("Al_mm.eam.fs"))
    print(f"Al_mm: a0 = {props.a0:.4f} Å, C11 {props.c11:.1f}, C12 {props.c12:.1f}, C44 {props.c44:.1f} GPa")
    print("\n1. Gaussian-cored quadrupoles (width 0.5 Å, h = 0.25 Å, 48 Å cell) vs periodic Stroh")
    print("   max |FDM - Stroh| / max |Stroh| outside r_core, per component (xx yy zz xy xz yz)")
    for character in ("edge", "screw"):
        for scheme in ("spectral", "central", "forward"):
            res, div, curl_err = quadrupole_errors(props, character, scheme)
            for r in (6, 8, 12):
                vals = " ".join(
                    f"{100 * e:5.2f}%" if ref > 0.05 * max(res[r, "ref"]) else "   -  "
                    for e, ref in zip(res[r], res[r, "ref"])
                )
                print(f"   {character:5s} {scheme:8s} r_core = {r:2d} widths: {vals}")
            print(
                f"   {character:5s} {scheme:8s} div sigma residual {div:.1e}, |curl Ue - alpha| / max|alpha| {curl_err:.1e}"
            )
    print("\n2. Frank-Bilby walls (edge, b along the normal, width 0.5 Å): stress beyond one spacing D / peak")
    for theta in (2.0, 5.0, 10.0, 15.0):
        D, peak, far, ref_far, half = wall(props, theta)
        print(
            f"   theta {theta:4.1f}°  D = {D:6.2f} Å  peak {peak:6.2f} GPa  |sigma|(>= D)/peak FDM {100 * far:.3f}%  "
            f"Stroh {100 * ref_far:.3f}%   (D/2..D: {100 * half:.2f}%)"
        )

    c_cubic = box_stiffness(props.c11, props.c12, props.c44, np.eye(3))
    K = energy_factor(c_cubic, [0.0, props.a0, 0.0])
    e0 = read_shockley_e0(c_cubic, [0.0, props.a0, 0.0])
    print(f"\n4. Read-Shockley on Gaussian-cored walls: E0 theory = a0 K / 4 pi = {e0:.1f} mJ/m^2 (K = {K:.2f} GPa)")
    for width in (0.5, 1.0, 2.0):
        tg = wall_energies(props, width)
        e0_fit, a_fit = read_shockley_fit(tg[:, 0], tg[:, 1])
        print(
            f"   width {width:.1f} Å: E0 fit {e0_fit:7.1f} mJ/m^2 ({100 * (e0_fit / e0 - 1):+.2f}%), A = "
            f"{a_fit:6.3f}; gamma_el(1..10°) = {np.round(tg[:, 1], 1).tolist()}"
        )


if __name__ == "__main__":
    main()
