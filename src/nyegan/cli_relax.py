"""``nyegan relax``: relax one structure (GB search for boundaries), write OUT.dump + OUT.json.

``--np N`` (N > 1) re-launches the same command as ``mpiexec -n N python -m mpi4py -m nyegan relax ...`` with the
``mpiexec`` next to the interpreter (``-m mpi4py`` makes an error on one rank abort the whole job instead of
leaving the others waiting). On SLURM launch it yourself: ``srun -n N python -m mpi4py -m nyegan relax ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("relax", help="LAMMPS relaxation (GB translation/deletion search), OUT.dump + OUT.json")
    p.add_argument("data", metavar="IN.data", help="LAMMPS data file (atom types = grain ids)")
    p.add_argument("--metadata", metavar="IN.json", help="builder metadata (default: IN.json next to IN.data)")
    p.add_argument(
        "--potential",
        help="EAM file shipped with LAMMPS or a path (default: from the metadata, else the config default)",
    )
    p.add_argument("--element", default=None, help="element of the potential (default: metadata, else Al)")
    p.add_argument(
        "--gb-search",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="search translations/deletions for boundaries (default: settings, on)",
    )
    p.add_argument(
        "--settings",
        metavar="YAML|JSON",
        help="relax settings: a YAML/JSON file or an inline JSON object (the config 'relax' section)",
    )
    p.add_argument("--np", type=int, default=1, metavar="N", help="MPI ranks; N > 1 re-launches under mpiexec")
    p.add_argument("--log", metavar="LOG", help="LAMMPS log file (kept on failure)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.dump", help="relaxed dump; JSON goes to OUT.json")
    p.set_defaults(func=run)


def load_settings(spec: str | None):
    from nyegan.relax.settings import RelaxSettings

    if not spec:
        return RelaxSettings.defaults()
    text = spec.strip()
    if not text.startswith("{"):
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"--settings {spec}: no such file (give a YAML/JSON file or an inline JSON object)")
        text = path.read_text()
    import yaml

    try:  # JSON first: YAML 1.1 reads exponents without a dot (1e-10) as strings
        data = json.loads(text)
    except json.JSONDecodeError:
        data = yaml.safe_load(text) or {}
    if "relax" in data and isinstance(data["relax"], dict):
        data = data["relax"]
    return RelaxSettings.from_config(data)


def mpiexec_command(n: int, argv: list[str]) -> list[str]:
    """The command line that runs ``nyegan`` with ``argv`` on ``n`` ranks (mpiexec next to the interpreter)."""
    mpiexec = Path(sys.executable).parent / "mpiexec"
    launcher = str(mpiexec) if mpiexec.exists() else "mpiexec"
    return [launcher, "-n", str(n), sys.executable, "-m", "mpi4py", "-m", "nyegan", *argv]


def _relaunch(args) -> None:
    from nyegan.progress import progress_env

    argv = ["relax", args.data, "-o", args.output, "--np", "1"]
    for flag, value in (
        ("--metadata", args.metadata),
        ("--potential", args.potential),
        ("--element", args.element),
        ("--settings", args.settings),
        ("--log", args.log),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if args.gb_search is not None:
        argv.append("--gb-search" if args.gb_search else "--no-gb-search")
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(progress_env())  # the ranks' stderr is a pipe: pass on whether this process shows progress
    proc = subprocess.run(mpiexec_command(args.np, argv), env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)


def run(args) -> None:
    if args.np < 1:
        raise ValueError("--np must be >= 1")
    if args.np > 1:
        return _relaunch(args)
    from nyegan.contracts import STRUCTURE
    from nyegan.relax.case import run_relax_files
    from nyegan.relax.parallel import world_comm

    settings = load_settings(args.settings)
    comm = world_comm()
    comm = comm if comm is not None and comm.Get_size() > 1 else None
    meta_path = Path(args.metadata) if args.metadata else Path(args.data).with_suffix(".json")
    element = args.element or (STRUCTURE.read(meta_path).get("element") if meta_path.exists() else None)
    record = run_relax_files(  # errors (RelaxError, bad files) are reported by nyegan.cli.main: one line, status 2
        args.data,
        args.output,
        metadata_path=args.metadata,
        potential=args.potential,
        settings=settings,
        gb_search=args.gb_search,
        log_file=args.log,
        comm=comm,
        element=element,
    )
    if record is not None:
        gamma = record.get("gb_energy_mJ_m2")
        extra = f", γ = {gamma:.1f} mJ/m²" if gamma is not None else ""
        if record.get("resumed"):
            extra += f" ({record['resumed']['note']})"
        print(
            f"{record['case']}: {record['n_atoms']} atoms, E = {record['energy_eV']:.4f} eV{extra}, "
            f"{record['n_states']} state(s) in {record['wall_time_s']:.1f} s -> {args.output}"
        )
