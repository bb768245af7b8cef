"""Options shared by commands."""

from __future__ import annotations

import os
import sys
from enum import Enum


class FindingsFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"


def use_color(no_color: bool, stream=None) -> bool:
    stream = stream or sys.stdout
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


STATE_HELP = "State file (default .ecsctl/state.db; env ECSCTL_STATE)."


def state_option():
    import typer

    return typer.Option(None, "--state", envvar="ECSCTL_STATE", help=STATE_HELP, show_default=False)
