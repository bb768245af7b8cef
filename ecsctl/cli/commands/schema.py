"""``ecsctl schema export DIR``"""

from __future__ import annotations

import sys

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(help="The JSON Schemas behind validate.", no_args_is_help=True)


@app.command("export")
@boundary
def export(directory: str = typer.Argument(..., help="Folder to write the schemas into (created if missing).")) -> None:
    """Write <Kind>.json (the spec) and <Kind>.manifest.json (a whole manifest) for every kind."""
    from ecsctl.app.schemas import export_schemas

    fmt = current().format()
    written = [str(p) for p in export_schemas(directory)]
    if fmt == "text":
        sys.stdout.write("".join(f"{p}\n" for p in written))
    else:
        emit(written, fmt)
