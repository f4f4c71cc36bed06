"""``nyegan nye``: Nye tensor field of a LAMMPS dump (orthogonal or triclinic) as netCDF."""

from __future__ import annotations

from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("nye", help="Nye dislocation-density field (G-method) of a LAMMPS dump -> netCDF")
    p.add_argument("dump", help="LAMMPS text dump (id type x y z ...); atom type = grain id")
    p.add_argument("--lattice", default="fcc", choices=["fcc"], help="crystal lattice (fcc)")
    p.add_argument("--a0", type=float, default=None,
                   help="lattice parameter, Å (default: from --metadata 'a0', else from --potential)")
    p.add_argument("--potential", default=None, help="potential whose fcc a0 is used when --a0 is not given")
    p.add_argument("--reference", default="auto", choices=["auto", "grains"],
                   help="auto: detect grain orientations; grains: rotations per atom type from --metadata")
    p.add_argument("--metadata", default=None, help="build metadata JSON ('rotations', 'axis', 'gb_y', 'a0')")
    p.add_argument("--spacing", type=float, default=1.0, help="grid spacing, Å (default 1.0)")
    p.add_argument("--smoothing", type=float, default=2.0, help="Gaussian smoothing width, Å (default 2.0)")
    p.add_argument("--average-along", default=None, choices=["x", "y", "z"],
                   help="average along this straight-defect direction (dimension dropped)")
    p.add_argument("--atoms", default=None, help="also write per-atom G and alpha to this LAMMPS dump (OVITO)")
    p.add_argument("--png", default=None, help="also write a PNG map of the main components")
    p.add_argument("-o", "--output", required=True, help="output netCDF file")
    p.set_defaults(func=run)


def nye_from_files(dump, metadata=None, a0=None, potential=None, reference="auto", spacing=1.0, smoothing=2.0,
                   average_along=None, return_atoms=False):
    """Read a dump (+ build metadata), compute the field; returns (dataset, structure, atoms or None)."""
    from nyegan.io import read_dump, read_json
    from nyegan.nye import compute_nye

    dump = Path(dump)
    if not dump.is_file():
        raise FileNotFoundError(f"dump file {dump} not found")
    meta = read_json(metadata) if metadata else {}
    if a0 is None:
        a0 = meta.get("a0")
    if a0 is None and potential:
        from nyegan.potentials import cubic_properties

        a0 = cubic_properties(potential).a0
    if a0 is None:
        raise ValueError("lattice parameter unknown: pass --a0 (Å), --potential, or --metadata with 'a0'")
    if reference == "grains" and "rotations" not in meta:
        raise ValueError("--reference grains needs --metadata with 'rotations' ({type: 3x3 crystal->box}); "
                         "or use --reference auto")
    s = read_dump(dump)
    kw = {}
    if meta.get("kind") in ("gb", "gb_dislocation") and "gb_y" in meta and average_along != "y":
        # per-boundary content (half-cells); near-boundary dislocations add their b to the boundary they face
        kw = {"content": "boundaries", "content_kw": {"boundaries": meta["gb_y"]}}
    elif meta.get("dislocations") and average_along == "z":
        # Voronoi regions of the built core positions: each holds one dislocation with both its partials
        kw = {"content": "cores", "content_kw": {"cores": [d["position"][:2] for d in meta["dislocations"]]}}
    # misorientation axis in the box frame: z for tilt boundaries (and dislocation lines), y for twist boundaries
    axis = "y" if meta.get("boundary_type") == "symmetric_twist" else "z"
    result = compute_nye(s, float(a0), reference=reference, rotations=meta.get("rotations"), spacing=spacing,
                         smoothing=smoothing, average_along=average_along, tilt_axis=axis,
                         return_atoms=return_atoms, **kw)
    ds, atoms = result if return_atoms else (result, None)
    ds.attrs["source"] = dump.name
    if meta.get("case"):
        ds.attrs["case"] = meta["case"]
    return ds, s, atoms


def run(args) -> None:
    from nyegan.nye.output import plot_field, write_atom_dump, write_field

    ds, s, atoms = nye_from_files(args.dump, args.metadata, args.a0, args.potential, args.reference, args.spacing,
                                  args.smoothing, args.average_along, return_atoms=bool(args.atoms))
    write_field(ds, args.output)
    if args.atoms:
        write_atom_dump(args.atoms, s, atoms)
    if args.png:
        plot_field(ds, args.png, title=ds.attrs.get("case", Path(args.dump).stem))
    print(f"{args.output}: alpha {dict(ds['alpha'].sizes)}, content {ds.attrs.get('burgers_content', '[]')}")
