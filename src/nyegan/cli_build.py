"""``nyegan build``: write one structure (LAMMPS data + JSON metadata) outside the workflow."""

from __future__ import annotations

import argparse

from nyegan.config import load_schema, section_defaults, top_level_default
from nyegan.structures.cases import build_case, write_structure


def _gb_item_default(key: str):
    """Default of a key of ``structures.grain_boundaries[]`` items (the schema is the one source)."""
    return load_schema()["properties"]["structures"]["properties"]["grain_boundaries"]["items"]["properties"][key][
        "default"
    ]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--potential",
        default=top_level_default("potential"),
        help="EAM file shipped with LAMMPS or a path (default: %(default)s)",
    )
    p.add_argument(
        "--element", default=top_level_default("element"), help="element of the potential (default: %(default)s)"
    )
    p.add_argument(
        "--min-size",
        nargs=3,
        type=float,
        metavar=("LX", "LY", "LZ"),
        default=section_defaults("structures")["min_size"],
        help="minimum box lengths in Å (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=top_level_default("seed"),
        help="seed recorded in the metadata (default: %(default)s)",
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT.data", help="LAMMPS data file to write; metadata goes to OUT.json"
    )


def add_parser(subparsers) -> None:
    build = subparsers.add_parser("build", help="build a bicrystal or dislocation cell (LAMMPS data + JSON)")
    kinds = build.add_subparsers(dest="kind", required=True, metavar="{gb,dislocation,gb-dislocation}")

    gb = kinds.add_parser("gb", help="symmetric tilt or twist grain boundaries (two per periodic cell)")
    gb.add_argument("--axis", nargs=3, type=int, required=True, metavar=("U", "V", "W"), help="tilt axis [uvw]")
    which = gb.add_mutually_exclusive_group(required=True)
    which.add_argument("--plane", nargs=3, type=int, metavar=("H", "K", "L"), help="boundary plane of grain A")
    which.add_argument(
        "--misorientation",
        type=float,
        metavar="DEG",
        help="tilt angle; the CSL boundary with Σ <= --sigma-max nearest to it is built",
    )
    gb.add_argument(
        "--type",
        choices=["tilt", "twist"],
        default="tilt",
        help="symmetric tilt (plane contains the axis) or twist (plane normal to the axis; needs "
        "--misorientation, snapped to the nearest CSL rotation)",
    )
    gb.add_argument(
        "--sigma-max",
        type=int,
        default=_gb_item_default("sigma_max"),
        metavar="N",
        help="largest Σ for --misorientation (default: %(default)s)",
    )
    gb.add_argument(
        "--overlap-cutoff", type=float, default=None, metavar="Å", help="delete one atom of pairs closer than this (Å)"
    )
    _common(gb)
    gb.set_defaults(func=run_gb)

    disl = kinds.add_parser("dislocation", help="straight dislocations in a periodic cell (net Burgers zero)")
    disl.add_argument(
        "--character",
        choices=["edge", "screw", "mixed"],
        required=True,
        help="angle between b = a0/2[1-10] and the line in the (111) glide plane: 90°, 0° or 60°",
    )
    disl.add_argument("--line", nargs=3, type=int, metavar=("U", "V", "W"), help="line direction (crystal)")
    disl.add_argument(
        "--arrangement",
        choices=["quadrupolar", "quadrupole", "dipole"],
        default=None,
        help="default: quadrupolar (stable dipole) for edge/mixed, quadrupole for screw",
    )
    _common(disl)
    disl.set_defaults(func=run_dislocation)

    combo = kinds.add_parser("gb-dislocation", help="dislocations at a distance from the boundaries of a bicrystal")
    combo.add_argument(
        "--axis", nargs=3, type=int, required=True, metavar=("U", "V", "W"), help="tilt axis [uvw] of the boundaries"
    )
    combo.add_argument(
        "--plane", nargs=3, type=int, required=True, metavar=("H", "K", "L"), help="boundary plane of grain A"
    )
    combo.add_argument(
        "--character",
        choices=["edge", "screw", "mixed"],
        required=True,
        help="dislocations in grain A with their line along the tilt axis",
    )
    combo.add_argument("--distance", type=float, required=True, metavar="Å", help="core-to-boundary distance (Å)")
    combo.add_argument(
        "--arrangement",
        choices=["quadrupole", "dipole"],
        default="quadrupole",
        help="dislocations per cell, net Burgers vector zero (default: %(default)s)",
    )
    _common(combo)
    combo.set_defaults(func=run_gb_dislocation)


def _build_and_write(args, kind: str, params: dict) -> None:
    structure, meta = build_case(
        kind,
        params,
        potential=args.potential,
        element=args.element,
        min_size=args.min_size,
        overlap_cutoff=getattr(args, "overlap_cutoff", None),
        seed=args.seed,
    )
    json_path = write_structure(structure, meta, args.output)
    extra = f" Σ{meta['sigma']} {meta['misorientation_deg']:.2f}°" if "sigma" in meta else ""
    print(f"{meta['case']}:{extra} {structure.n_atoms} atoms -> {args.output}, {json_path}")
    if meta.get("size_converged") is False:
        print(f"{meta['case']}: {meta['note']}")


def run_gb(args) -> None:
    params = {
        "axis": args.axis,
        "plane": args.plane,
        "misorientation": args.misorientation,
        "sigma_max": args.sigma_max,
    }
    if args.type == "twist":
        from nyegan.csl import nearest_tilt_boundary

        if args.misorientation is None:
            raise ValueError("--type twist needs --misorientation (the boundary plane is normal to the axis)")
        boundary, _ = nearest_tilt_boundary(args.axis, args.misorientation, args.sigma_max)
        params = {"axis": args.axis, "misorientation": boundary.angle_deg, "twist": True}
    _build_and_write(args, "gb", params)


def run_dislocation(args) -> None:
    _build_and_write(
        args,
        "dislocation",
        {"character": args.character, "line": args.line, "arrangement": args.arrangement, "min_size": args.min_size},
    )


def run_gb_dislocation(args) -> None:
    _build_and_write(
        args,
        "gb_dislocation",
        {
            "axis": args.axis,
            "plane": args.plane,
            "character": args.character,
            "distance": args.distance,
            "arrangement": args.arrangement,
        },
    )
