"""Elastic energy of low-angle [001] symmetric tilt boundaries from FDM stresses, beside the Read–Shockley form.

For each boundary plane (1 k 0) (theta = 2 atan(1/k)): build the bicrystal (two boundaries per periodic cell),
relax it with the GB search (LAMMPS), take its Nye field (reference grains, averaged along z) and its FDM stress;
the elastic energy per boundary area is the cell's elastic energy / (2 Lx). Read–Shockley:
gamma_el = E0 theta (A - ln theta) with E0 = a0 K / (4 pi), K the anisotropic energy factor of an edge
dislocation along [001] with b along the boundary normal [010] (the net Burgers vector a0 [010] per period of the
a0/2[110] + a0/2[-110] wall), computed from the Stroh stress field of one dislocation: E / ln(R/r0) = K b^2 / (4 pi).
A is fitted (it depends on the core cut-off, here the Nye smoothing), and so is E0 for comparison with theory.

Run: PYTHONPATH=src python benchmarks/stress_read_shockley.py [--k 27 23 19 15 11 9 7 5 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from nyegan.nye.case import nye_from_files
from nyegan.potentials import cubic_properties, resolve_potential
from nyegan.relax.case import run_relax_files
from nyegan.stress import box_stiffness
from nyegan.stress.energy import boundary_energy_mj_m2, energy_factor, read_shockley_e0, read_shockley_fit
from nyegan.stress.field import stiffness_from_potential, stress_of_field
from nyegan.structures.cases import build_case, write_structure

POTENTIAL = "Al_mm.eam.fs"


def boundary(k: int, workdir: Path, min_y: float) -> dict:
    case = f"lagb-001-1{k}0"
    data = workdir / f"{case}.data"
    structure, meta = build_case(
        "gb", {"axis": [0, 0, 1], "plane": [1, k, 0]}, potential=POTENTIAL, min_size=(10.0, min_y, 8.0), name=case
    )
    write_structure(structure, meta, data)
    t = time.perf_counter()
    dump = workdir / "relaxed" / f"{case}.dump"
    record = run_relax_files(data, dump, potential=POTENTIAL)
    t_relax = time.perf_counter() - t
    field, _, _ = nye_from_files(
        dump,
        data.with_suffix(".json"),
        potential=POTENTIAL,
        reference="grains",
        spacing=1.0,
        smoothing=2.0,
        average_along="z",
    )
    stress = stress_of_field(field, stiffness_from_potential(POTENTIAL), source=case)
    cell = np.asarray(field.attrs["cell"]).reshape(3, 3)
    lx = float(np.linalg.norm(cell[0]))
    gamma_el = boundary_energy_mj_m2(float(stress["elastic_energy"]), lx)
    content = json.loads(field.attrs.get("burgers_content", "[]"))
    return {
        "case": case,
        "plane": [1, k, 0],
        "sigma": meta.get("sigma"),
        "theta_deg": float(meta["misorientation_deg"]),
        "correspondence_deg": abs(float(field.attrs["correspondence_angle_deg"])),
        "n_atoms": int(structure.n_atoms),
        "cell_x": lx,
        "cell_y": float(np.linalg.norm(cell[1])),
        "gamma_gb_mJ_m2": record.get("gb_energy_mJ_m2"),
        "gamma_elastic_mJ_m2": gamma_el,
        "content": [c.get("magnitude") for c in content],
        "div_stress_residual": float(stress["div_stress_residual"]),
        "relax_s": t_relax,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", nargs="+", type=int, default=[27, 23, 19, 15, 13, 11, 9, 7, 5, 3])
    ap.add_argument("--min-y", type=float, default=160.0, help="minimum cell length normal to the boundaries (Å)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None, help="also write the rows as JSON")
    ap.add_argument("--fit-max-deg", type=float, default=12.0, help="fit E0 and A on theta below this")
    args = ap.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="nyegan-rs-"))
    workdir.mkdir(parents=True, exist_ok=True)
    props = cubic_properties(resolve_potential(POTENTIAL))
    c_med = box_stiffness(props.c11, props.c12, props.c44, np.eye(3))  # median lattice: x [100], y [010], z [001]
    K = energy_factor(c_med, [0.0, props.a0, 0.0])
    e0_theory = read_shockley_e0(c_med, [0.0, props.a0, 0.0])  # mJ/m^2 per radian
    c11, c12, c44 = props.c11, props.c12, props.c44
    k_hl = (c11 + c12) * np.sqrt(c44 * (c11 - c12) / (c11 * (c11 + c12 + 2 * c44)))  # Hirth & Lothe, <100> edge
    rows = [boundary(k, workdir, args.min_y) for k in args.k]
    th = np.radians([abs(r["correspondence_deg"]) for r in rows])
    g = np.array([r["gamma_elastic_mJ_m2"] for r in rows])
    sel = np.degrees(th) <= args.fit_max_deg
    e0_fit, a_fit = read_shockley_fit(th[sel], g[sel])
    gb = np.array([r["gamma_gb_mJ_m2"] for r in rows], float)
    e0_gb, a_gb = read_shockley_fit(th[sel], gb[sel])
    a_theory_fit = float(np.mean(g[sel] / (e0_theory * th[sel]) + np.log(th[sel])))  # A with E0 from theory
    print(f"K (Stroh) = {K:.2f} GPa, K (Hirth-Lothe <100> edge formula) = {k_hl:.2f} GPa")
    print(f"E0 theory = a0 K / 4 pi = {e0_theory:.1f} mJ/m^2; fit (theta <= {args.fit_max_deg}°): E0 = {e0_fit:.1f}")
    print(f"A fitted = {a_fit:.3f} (with E0 theory: {a_theory_fit:.3f})")
    print(f"LAMMPS GB energies, same fit: E0 = {e0_gb:.1f} mJ/m^2, A = {a_gb:.3f}")
    print("theta(deg)  Sigma  atoms   gamma_GB(LAMMPS)  gamma_el(FDM)  RS(E0 theory, A fit)  content/2sin(θ/2)")
    for r, t, gg in zip(rows, th, g):
        rs = e0_theory * t * (a_theory_fit - np.log(t))
        fb = 2 * np.sin(t / 2)
        cont = np.mean(np.abs(r["content"])) / fb if r["content"] else float("nan")
        print(
            f"{np.degrees(t):9.2f}  {r['sigma']:5d} {r['n_atoms']:6d}  {r['gamma_gb_mJ_m2']:12.1f}  {gg:13.1f}  "
            f"{rs:14.1f}  {cont:10.3f}"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "rows": rows,
                    "K_gpa": K,
                    "E0_theory_mJ_m2": e0_theory,
                    "E0_fit_mJ_m2": e0_fit,
                    "A_fit": a_fit,
                    "A_with_E0_theory": a_theory_fit,
                    "E0_fit_lammps_gb_mJ_m2": e0_gb,
                    "A_fit_lammps_gb": a_gb,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
