"""The command line: Typer commands and renderers only.

``main`` answers ``ecsctl --version`` before importing Typer, so that the
commonest probe of an installation costs no more than starting Python.
"""

from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv in (["--version"], ["-V"]):
        from ecsctl import __version__

        sys.stdout.write(f"ecsctl {__version__}\n")
        return
    from ecsctl.cli.app import app

    try:
        app(prog_name="ecsctl")
    except SystemExit as exc:
        from ecsctl.cli.commands.plan import PlanChanges

        if exc.code == 2 and not isinstance(exc, PlanChanges) and _detailed_plan(argv):
            raise SystemExit(1) from None  # 2 means "changes" there: a usage error must not read as one
        raise


def _detailed_plan(argv: list[str]) -> bool:
    """Whether the command line is ``plan … --detailed-exitcode`` (the root takes flags only, so the
    command is the first word that is not one)."""
    words = [a for a in argv if not a.startswith("-")]
    return bool(words) and words[0] == "plan" and "--detailed-exitcode" in argv[argv.index("plan"):]
