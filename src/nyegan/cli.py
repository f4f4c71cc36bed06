"""The ``nyegan`` command: each pipeline stage usable outside Snakemake (same library functions)."""

from __future__ import annotations

import argparse
import sys

from nyegan import __version__, cli_build, cli_gan, cli_nye, cli_relax, cli_stress
from nyegan.config import ConfigError, load_config

STAGES = [cli_build, cli_relax, cli_nye, cli_stress, cli_gan]


def _add_check_config(subparsers) -> None:
    p = subparsers.add_parser("check-config", help="validate a workflow config and list the cases it builds")
    p.add_argument("config", help="YAML config file (e.g. config/config.yaml)")
    p.set_defaults(func=_run_check_config)


def _run_check_config(args) -> None:
    from nyegan.config import check_config

    config = load_config(args.config)
    cases = check_config(config)
    print(f"{args.config}: valid, {len(cases)} cases")
    for case in cases.values():
        print(f"  {case.name}  ({case.kind})")


def _add_generated_docs(subparsers) -> None:
    for name, module, what in (
        ("config-docs", "nyegan.config_docs", "the configuration reference (config/README.md) from the schema"),
        ("contracts-docs", "nyegan.contracts", "the file-contract reference (docs/contracts.md)"),
    ):
        p = subparsers.add_parser(name, help=f"write {what}")
        p.add_argument("-o", "--output", help="file to write (default: print)")
        p.set_defaults(func=_run_docs, render=module)


def _run_docs(args) -> None:
    import importlib

    from nyegan.io import atomic_path

    text = importlib.import_module(args.render).render_markdown()
    if not args.output:
        print(text, end="")
        return
    with atomic_path(args.output) as tmp:
        tmp.write_text(text)
    print(f"{args.output}: written")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nyegan",
        description="Atomistic defects -> LAMMPS relaxation -> Nye fields -> stresses, dataset -> generative model: "
        "each stage of the workflow as one command, calling the same library function as its Snakemake rule. "
        "Units: Å, eV, GPa, mJ/m²; angles in degrees.",
        epilog="Help of a command: nyegan COMMAND --help (nyegan build gb --help). The whole pipeline: "
        "snakemake --cores all (README.md).",
    )
    parser.add_argument("--version", action="version", version=f"nyegan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for stage in STAGES:
        stage.add_parser(sub)
    _add_check_config(sub)
    _add_generated_docs(sub)
    _describe(sub)
    return parser


def _describe(subparsers) -> None:
    """Each command's one-line help is also the description its own --help starts with (nested commands too)."""
    for choice in subparsers._choices_actions:
        p = subparsers.choices[choice.dest]
        if not p.description:
            p.description = choice.help
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                _describe(action)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "bad input" (config, files, potentials, requests) or a failed computation that names
    its case: reported as one line with exit status 2, never as a traceback. ``ValueError`` covers
    ``ContractError``, ``FileFormatError`` and ``CheckpointError``; ``OSError`` covers missing or unreadable files."""
    from nyegan.contracts import ContractError
    from nyegan.relax.errors import RelaxError

    return (ConfigError, ContractError, ValueError, OSError, RelaxError)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (LAMMPS and YAML messages span several)."""
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip()) or type(exc).__name__


def _mpi_rank() -> int:
    if "mpi4py" not in sys.modules:
        return 0
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank() if MPI.Is_initialized() else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except user_errors() as exc:
        if _mpi_rank() == 0:  # every rank raises the same error: say it once
            print(f"nyegan {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
