"""``nyegan stress``: FDM stress of a Nye field (atomistic, dataset or generated) as netCDF (+ PNG, atomistic check)."""

from __future__ import annotations

from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "stress", help="stress of a Nye field (spectral Field Dislocation Mechanics elastic solve) -> netCDF"
    )
    p.add_argument("field", help="Nye-field netCDF: atomistic (nyegan nye), dataset or generated (sample dim)")
    p.add_argument("-o", "--output", required=True, help="output netCDF file")
    p.add_argument("--png", default=None, help="also write a PNG map of the stress components")
    p.add_argument(
        "--potential",
        default="Al_mm.eam.fs",
        help="potential whose cubic C11, C12, C44 are used (default: %(default)s)",
    )
    p.add_argument("--element", default="Al", help="element of the potential (default: %(default)s)")
    p.add_argument(
        "--cubic",
        nargs=3,
        type=float,
        metavar=("C11", "C12", "C44"),
        default=None,
        help="cubic elastic constants in GPa instead of the potential's",
    )
    p.add_argument(
        "--rotation",
        nargs=9,
        type=float,
        default=None,
        metavar="R",
        help="crystal->box rotation of the reference lattice (row-major, rows = crystal directions along box x, y, "
        "z); default: the field's recorded reference lattice (atomistic fields)",
    )
    p.add_argument(
        "--rotations-from",
        nargs="+",
        default=None,
        metavar="NYE.nc",
        help="atomistic Nye fields giving the reference rotation of each sample's source case (generated files)",
    )
    p.add_argument(
        "--scheme",
        default="auto",
        choices=["auto", "spectral", "central", "forward"],
        help="difference scheme (default auto: the field's own; central for Nye-stage fields)",
    )
    mean = p.add_mutually_exclusive_group()
    mean.add_argument(
        "--mean-strain",
        nargs=6,
        type=float,
        default=None,
        metavar="E",
        help="imposed cell-average elastic strain, xx yy zz yz xz xy (tensor components); default zero mean stress",
    )
    mean.add_argument(
        "--mean-stress", nargs=6, type=float, default=None, metavar="S", help="imposed cell-average stress, GPa"
    )
    p.add_argument("--workers", type=int, default=1, help="FFT threads (default 1)")
    p.add_argument(
        "--atomistic",
        default=None,
        metavar="DUMP",
        help="relaxed dump of the field: compare with the LAMMPS virial stress (writes OUTPUT.atomistic.json/.png)",
    )
    p.set_defaults(func=run)


def run(args) -> None:
    import numpy as np

    from nyegan.stress.case import atomistic_case, mean_condition, stress_case

    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    mean = (
        mean_condition("strain", mean_strain=args.mean_strain)
        if args.mean_strain
        else mean_condition("stress", mean_stress=args.mean_stress)
        if args.mean_stress
        else {}
    )
    rotation = np.asarray(args.rotation).reshape(3, 3) if args.rotation else None
    ds = stress_case(
        args.field,
        args.output,
        args.png,
        potential=args.potential,
        element=args.element,
        cubic=args.cubic,
        rotation=rotation,
        rotation_fields=args.rotations_from,
        scheme=args.scheme,
        mean=mean,
        workers=args.workers,
    )
    s = ds["stress"].values
    print(
        f"{args.output}: stress {dict(ds['stress'].sizes)}, max |sigma| {np.nanmax(np.abs(s)):.3g} GPa, "
        f"div sigma residual {float(np.max(ds['div_stress_residual'].values)):.1e}, scheme {ds.attrs['difference_scheme']}"
    )
    if args.atomistic:
        out = Path(args.output)
        summary = atomistic_case(
            args.atomistic,
            args.field,
            args.output,
            out.with_suffix(".atomistic.json"),
            args.potential,
            args.element,
            png_path=out.with_suffix(".atomistic.png"),
        )
        for r in summary["components"]:
            print(f"  sigma_{r['component']}: correlation {r['correlation']:.3f}, rmse {r['rmse_gpa']:.3f} GPa")
