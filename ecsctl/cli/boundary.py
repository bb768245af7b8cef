"""The one error boundary: every failure reaches the user as one line and an exit code."""

from __future__ import annotations

import functools
import os
import sys
import traceback

import typer

from ecsctl.app.state import report_notes_to
from ecsctl.errors import EcsctlError

INTERNAL_ERROR = 3


def _note(line: str) -> None:
    sys.stderr.write(f"note: {line}\n")


def boundary(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        report_notes_to(_note)  # the state store's notes (a stale lock taken over, …) go to stderr
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except EcsctlError as exc:
            sys.stderr.write(f"error: {exc}\n")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:  # a command may say where it stopped (tick: the clock)
            sys.stderr.write(f"interrupted: {exc}\n" if str(exc) else "interrupted\n")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise typer.Exit(1) from None
        except OSError as exc:  # a path the user gave cannot be read or written: theirs to fix
            where = f"{exc.filename}: " if exc.filename else ""
            sys.stderr.write(f"error: {where}{exc.strerror or exc}\n")
            raise typer.Exit(1) from None
        except Exception as exc:  # our bug: one line, the traceback only on request
            if os.environ.get("ECSCTL_DEBUG"):
                traceback.print_exc()
                sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n")
            else:  # the exception's text may quote an input value (a secret): only on request
                sys.stderr.write(f"internal error: {type(exc).__name__} (set ECSCTL_DEBUG=1 for its message and the "
                                 "traceback)\n")
            raise typer.Exit(INTERNAL_ERROR) from None

    return wrapper
