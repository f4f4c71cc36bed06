"""``nyegan --help`` and every subcommand's help are complete, and the README agrees with them: each ``nyegan``
command it shows exists with the flags it uses, every subcommand is shown, and its ``make`` and ``snakemake``
lines use targets and options that exist."""

import argparse
import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nyegan.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def command_paths(parser=None, prefix=()) -> dict[tuple, argparse.ArgumentParser]:
    """{("build", "gb"): parser, ...}: every command and nested command of the CLI."""
    parser = parser or build_parser()
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[(*prefix, name)] = sub
                out.update(command_paths(sub, (*prefix, name)))
    return out


COMMANDS = command_paths()


def _help(*path) -> str:
    """What ``nyegan PATH --help`` prints (in this process: nyegan.cli.main, as the entry point calls it)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def helps() -> dict[tuple, str]:
    r = subprocess.run([sys.executable, "-m", "nyegan", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.split() == _help().split(), r.stderr  # the entry point prints the same
    return {path: _help(*path) for path in [(), *COMMANDS]}


def _code_lines(program: str) -> list[str]:
    """Lines of the README's code blocks that run ``program``, comments and continuation removed."""
    blocks = [body for lang, body in re.findall(r"```(\w*)\n(.*?)```", README, re.S) if lang in ("", "bash", "sh")]
    lines = [ln.split("  #")[0].split(" # ")[0].strip() for b in blocks for ln in b.splitlines()]
    return [ln for ln in lines if ln.startswith(program + " ")]


def test_every_command_and_option_has_help(helps):
    assert "COMMAND --help" in helps[()]
    for path, parser in COMMANDS.items():
        assert parser.description, f"nyegan {' '.join(path)}: no description"
        assert parser.description.split()[0] in helps[path], path  # shown by its own --help
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            name = "/".join(action.option_strings) or action.dest
            assert action.help and len(action.help) > 8, f"nyegan {' '.join(path)} {name}: no help text"
    for name in ("build", "relax", "nye", "stress", "dataset", "train", "generate", "evaluate", "check-config"):
        assert (name,) in COMMANDS and name in helps[()]


def test_readme_commands_exist_with_their_flags(helps):
    lines = _code_lines("nyegan")
    assert len(lines) >= len(COMMANDS)
    shown = set()
    for line in lines:
        words = shlex.split(line)[1:]
        path = ()
        for n in range(len(words), 0, -1):
            if tuple(words[:n]) in COMMANDS:
                path = tuple(words[:n])
                break
        assert path, f"README: `{line}` names no nyegan command"
        shown.add(path)
        flags = {w.split("=")[0] for w in words if w.startswith("-") and not re.match(r"-\d", w)}
        offered = set(FLAG.findall(helps[path]))
        assert flags <= offered, (
            f"README: `{line}` uses {sorted(flags - offered)}, not in `nyegan {' '.join(path)} --help`"
        )
    leaves = {p for p in COMMANDS if not any(q[: len(p)] == p and q != p for q in COMMANDS)}
    assert leaves <= shown, f"commands missing from the README: {sorted(' '.join(p) for p in leaves - shown)}"


def test_readme_make_and_snakemake_lines_are_real():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    for line in _code_lines("make"):
        assert shlex.split(line)[1] in targets, line
    assert {"demo", "test"} <= {shlex.split(ln)[1] for ln in _code_lines("make")}
    r = subprocess.run([sys.executable, "-m", "snakemake", "--help"], capture_output=True, text=True, timeout=120)
    options = set(FLAG.findall(r.stdout))
    rules = set(
        re.findall(r"^rule (\w+):", "".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk")), re.M)
    )
    lines = _code_lines("snakemake")
    assert lines
    for line in lines:
        words = shlex.split(line)[1:]
        assert {w for w in words if w.startswith("-")} <= options, line
        for k, w in enumerate(words[:-1]):  # rule names given to --forcerun / --until are rules of the workflow
            if w in ("--forcerun", "-R", "--until", "-U") and not words[k + 1].startswith(("-", "results/")):
                assert words[k + 1] in rules, line
