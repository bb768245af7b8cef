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

        if exc.code == 2 and not isinstance(exc, PlanChanges) and _detailed_plan(argv, _valued_root_options(app)):
            raise SystemExit(1) from None  # 2 means "changes" there: a usage error must not read as one
        raise


def _valued_root_options(app) -> set[str]:
    """The root's options that take a value (``--state PATH``, ``-o FORMAT``)."""
    import typer

    return {name for p in typer.main.get_command(app).params if not getattr(p, "is_flag", True)
            for name in p.opts}


def _detailed_plan(argv: list[str], valued: set[str]) -> bool:
    """Whether the command line is ``plan … --detailed-exitcode``: the command is the first word
    that is neither a root flag nor the value of a root option (``ecsctl --state s.db plan``)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in valued else 1
    return i < len(argv) and argv[i] == "plan" and "--detailed-exitcode" in argv[i:]
