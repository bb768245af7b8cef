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
        if exc.code == 2 and "--detailed-exitcode" in argv:
            from ecsctl.cli.commands.plan import CHANGES_EXIT

            if not CHANGES_EXIT:  # 2 means "changes" there: a usage error must not read as one
                raise SystemExit(1) from None
        raise
