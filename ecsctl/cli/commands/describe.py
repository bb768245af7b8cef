"""``ecsctl describe KIND NAME``"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import current
from ecsctl.errors import UsageError

_KINDS = "service, instance, task, taskdef or cluster"


@boundary
def describe(
    kind: str = typer.Argument(..., help=f"{_KINDS} (or KIND/NAME, or any plan address such as targetgroup/web)."),
    name: Optional[str] = typer.Argument(None, help="Its name, id, id prefix, i-… id, ARN or family:revision."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="The object's cluster (for a service name in several)."),
) -> None:
    """Everything the state knows of one object, as kubectl describe."""
    from ecsctl.app.describe import KINDS, describe as read
    from ecsctl.app.get import ALIASES
    from ecsctl.cli.commands.get import split_kind
    from ecsctl.cli.render.describe import render_describe
    from ecsctl.cli.render.machine import emit
    from ecsctl.core.plan.model import KIND_OF_PREFIX, address

    opts = current()
    fmt = opts.format()
    kind, name = split_kind(kind, name)
    if not name:
        raise UsageError(f"describe needs a name: ecsctl describe KIND NAME (KIND: {_KINDS})")
    plural = ALIASES.get(kind.lower(), kind.lower())
    if plural in KINDS:
        data = read(opts.state_path, plural, name, cluster=cluster)
    elif kind in KIND_OF_PREFIX:
        data = read(opts.state_path, "resource", address(KIND_OF_PREFIX[kind], name))
    else:
        raise UsageError(f"cannot describe '{kind}': one of {_KINDS}, or a plan address")
    if fmt == "text":
        sys.stdout.write(render_describe(data))
    else:
        emit(data, fmt)
