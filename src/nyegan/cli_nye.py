"""``nyegan nye``: Nye tensor field of atoms (LAMMPS dump or data file, extended XYZ; any frame) as netCDF."""

from __future__ import annotations

from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "nye", help="Nye dislocation-density field (G-method) of atoms (LAMMPS dump/data, extended XYZ) -> netCDF"
    )
    p.add_argument(
        "dump",
        help="atoms file: LAMMPS text dump (one or many snapshots), LAMMPS data file or extended XYZ, plain or "
        ".gz (format detected from the content); several snapshots give one field per frame along 'time'",
    )
    p.add_argument("--lattice", default="fcc", choices=["fcc"], help="crystal lattice (fcc)")
    p.add_argument(
        "--a0",
        type=float,
        default=None,
        help="lattice parameter, Å (default: from --metadata 'a0', else from --potential)",
    )
    p.add_argument("--potential", default=None, help="potential whose fcc a0 is used when --a0 is not given")
    p.add_argument(
        "--reference",
        default="auto",
        choices=["auto", "grains"],
        help="auto: grains, boundaries and misorientations detected from the atoms in any frame; "
        "grains: rotations per atom type from --metadata",
    )
    p.add_argument("--metadata", default=None, help="build metadata JSON ('rotations', 'axis', 'gb_y', 'a0')")
    p.add_argument(
        "--format",
        default=None,
        choices=["lammps-dump", "lammps-data", "extxyz"],
        help="input format (default: detected from the content)",
    )
    p.add_argument("--spacing", type=float, default=1.0, help="grid spacing, Å (default 1.0)")
    p.add_argument("--smoothing", type=float, default=2.0, help="Gaussian smoothing width, Å (default 2.0)")
    p.add_argument(
        "--average-along",
        default=None,
        choices=["x", "y", "z", "a", "b", "c"],
        help="average along this straight-defect direction (dimension dropped): a box axis (x, y, z) or a cell "
        "vector (a, b, c); without it the line direction is detected",
    )
    p.add_argument(
        "--max-memory-gb",
        type=float,
        default=None,
        help="refuse a grid whose memory would exceed this, GB (default: the config schema's nye.max_memory_gb)",
    )
    p.add_argument("--atoms", default=None, help="also write per-atom G and alpha to this LAMMPS dump (OVITO)")
    p.add_argument("--png", default=None, help="also write a PNG map of the main components")
    p.add_argument(
        "--vti",
        default=None,
        help="also write VTK ImageData (.vti) for ParaView / FDM codes (trajectories: one per frame + a .pvd)",
    )
    p.add_argument("-o", "--output", required=True, help="output netCDF file")
    p.set_defaults(func=run)


def run(args) -> None:
    from nyegan.nye.case import has_several_frames, nye_from_files, nye_trajectory
    from nyegan.nye.output import plot_field, write_atom_dump, write_field
    from nyegan.nye.vtk import write_vti

    if has_several_frames(args.dump, args.format):
        if args.atoms or args.png:
            raise ValueError(f"{args.dump}: --atoms and --png take a single frame; the input holds several")
        n = nye_trajectory(
            args.dump,
            args.output,
            args.metadata,
            args.a0,
            args.potential,
            args.reference,
            args.spacing,
            args.smoothing,
            args.average_along,
            fmt=args.format,
            vti=args.vti,
            max_memory_gb=args.max_memory_gb,
        )
        print(f"{args.output}: {n} frames along 'time'")
        return
    ds, s, atoms = nye_from_files(
        args.dump,
        args.metadata,
        args.a0,
        args.potential,
        args.reference,
        args.spacing,
        args.smoothing,
        args.average_along,
        return_atoms=bool(args.atoms),
        fmt=args.format,
        max_memory_gb=args.max_memory_gb,
    )
    write_field(ds, args.output)
    if args.vti:
        write_vti(ds, args.vti)
    if args.atoms:
        write_atom_dump(args.atoms, s, atoms)
    if args.png:
        plot_field(ds, args.png, title=ds.attrs.get("case", Path(args.dump).stem))
    print(f"{args.output}: alpha {dict(ds['alpha'].sizes)}, content {ds.attrs.get('burgers_content', '[]')}")
