"""Options every command shares, and the one mechanism that gives them to every command.

``--state PATH``, ``-o/--output FORMAT`` and ``--no-color`` are global: they are accepted
before the command's name (``ecsctl -o json get services``), between a group and its
command (``ecsctl state -o json list``) and after the command (``ecsctl get services -o
json``).  :class:`Command` and :class:`Group` add them to every Click command that
:class:`EcsctlTyper` builds and move their values into one :class:`Globals` object on the
context before the command runs; a command reads them with :func:`current`.  The value
nearest the command wins (``ecsctl -o yaml get services -o json`` prints JSON).

Usage errors (a missing argument, an unknown option or command) are one line on stderr,
``error: … (see 'ecsctl get --help')``, exit 2, like every other error of ecsctl.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from ecsctl.errors import UsageError

try:  # newer Typers carry their own copy of Click
    from typer._click import exceptions as _exceptions
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - Typer on the Click package
    from click import exceptions as _exceptions
    from click import get_current_context

ClickException = _exceptions.ClickException
ClickUsageError = _exceptions.UsageError
NoArgsIsHelpError = getattr(_exceptions, "NoArgsIsHelpError", ())


class FindingsFormat(str, Enum):
    text = "text"
    json = "json"
    yaml = "yaml"
    sarif = "sarif"
    junit = "junit"
    github = "github"


# Every command that prints something prints it as text, JSON or YAML.
MACHINE = ("text", "json", "yaml")

STATE_HELP = "State file (default .ecsctl/state.db; env ECSCTL_STATE)."
OUTPUT_HELP = "Output format: text, json or yaml (validate also sarif, junit, github)."
COLOR_HELP = "No ANSI colours (also NO_COLOR)."
_PANEL = "Global options"


def use_color(no_color: bool, stream=None) -> bool:
    stream = stream or sys.stdout
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


@dataclass
class Globals:
    """The global options as given (``None``: not given anywhere on the command line)."""

    state: str | None = None
    output: str | None = None
    no_color: bool = False

    def format(self, allowed: tuple[str, ...] = MACHINE) -> str:
        """The output format, refused with a usage error when this command does not print it."""
        fmt = (self.output or "text").lower()
        if fmt not in allowed:
            raise UsageError(f"unknown output format '{self.output}' (one of: {', '.join(allowed)})")
        return fmt

    def color(self, stream=None) -> bool:
        return use_color(self.no_color, stream)

    @property
    def state_path(self) -> str:
        from ecsctl.app.state import state_path

        return state_path(self.state)


_NAMES = ("state", "output", "no_color")


def _global_params() -> list[TyperOption]:
    def option(*decls, **kw) -> TyperOption:
        return TyperOption(param_decls=list(decls), rich_help_panel=_PANEL, **kw)

    return [
        option("--state", "state", type=str, default=None, metavar="PATH", help=STATE_HELP),
        option("-o", "--output", "output", type=str, default=None, metavar="FORMAT", help=OUTPUT_HELP),
        option("--no-color", "no_color", is_flag=True, default=False, help=COLOR_HELP),
    ]


def _absorb(ctx) -> None:
    """Move the global options out of the command's parameters into the shared Globals."""
    holder = ctx.find_object(Globals)
    if holder is None:
        holder = ctx.find_root().ensure_object(Globals)
    for name in _NAMES:
        value = ctx.params.pop(name, None)
        if value not in (None, False):
            setattr(holder, name, value)


def current() -> Globals:
    """The global options of the command that is running (defaults outside a command)."""
    ctx = get_current_context(silent=True)
    found = ctx.find_object(Globals) if ctx is not None else None
    return found if found is not None else Globals()


@contextmanager
def _usage_in(ctx):
    """Click's parser raises some usage errors (``Option '--state' requires an argument``)
    without the context: give them this one, so that the line names the command's --help."""
    try:
        yield
    except ClickUsageError as exc:
        if exc.ctx is None:
            exc.ctx = ctx
        raise


class Command(TyperCommand):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_params())

    def parse_args(self, ctx, args):
        with _usage_in(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx):
        _absorb(ctx)
        return super().invoke(ctx)


class Group(TyperGroup):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_params())

    def parse_args(self, ctx, args):
        with _usage_in(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx):
        _absorb(ctx)
        return super().invoke(ctx)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # the help is already printed
            sys.exit(exc.exit_code)
        except ClickException as exc:
            sys.stderr.write(usage_line(exc))
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("Aborted.\n")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


# Commands that take their manifests with -f: ``ecsctl plan DIR`` is a slip worth a hint.
TAKES_FILES = ("plan", "destroy")


def manifests_hint(command: str, paths) -> str:
    return f"{command} takes manifests with -f: did you mean `ecsctl {command} -f {' -f '.join(paths)}`?"


def usage_line(exc) -> str:
    """``error: Missing argument 'KIND'. (see 'ecsctl get --help')``: one line."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    name = getattr(getattr(ctx, "command", None), "name", None)
    stray = re.fullmatch(r"Got unexpected extra arguments? ?(?:\(s\))? \((.*)\)", message)
    if name in TAKES_FILES and stray:
        return f"error: {manifests_hint(name, stray.group(1).split())}\n"
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    if re.fullmatch(r"-\d.*", str(getattr(exc, "option_name", "") or "")):  # `tick -1m`: a negative value
        if name == "tick":
            return f"error: the simulated clock only moves forward: give tick a positive DURATION such as 15m{hint}\n"
        message += " (a value that starts with '-' is read as an option: put '--' before it)"
    return f"error: {message}{hint}\n"


class EcsctlTyper(typer.Typer):
    """A Typer whose groups and commands take the global options."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("pretty_exceptions_enable", False)
        super().__init__(**kwargs)

    def command(self, name=None, *, cls=None, **kwargs):
        return super().command(name, cls=cls or Command, **kwargs)
