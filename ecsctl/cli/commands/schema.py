"""``ecsctl schema export DIR``"""

from __future__ import annotations

from pathlib import Path

import typer

from ecsctl.cli.boundary import boundary

app = typer.Typer(help="The JSON Schemas behind validate.", no_args_is_help=True)


@app.command("export")
@boundary
def export(directory: Path = typer.Argument(..., help="Folder to write the schemas into (created if missing).")) -> None:
    """Write <Kind>.json (the spec) and <Kind>.manifest.json (a whole manifest) for every kind."""
    from ecsctl.app.schemas import export_schemas

    for path in export_schemas(directory):
        typer.echo(str(path))
