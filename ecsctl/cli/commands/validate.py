"""``ecsctl validate PATH...``"""

from __future__ import annotations

import sys
from typing import List

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import FindingsFormat, use_color


@boundary
def validate(
    paths: List[str] = typer.Argument(..., help="Manifest files or directories (recursing into *.yaml, *.yml, *.json); '-' reads stdin."),
    output: FindingsFormat = typer.Option(FindingsFormat.text, "-o", "--output", help="text, json, sarif, junit or github."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail the run too."),
    no_color: bool = typer.Option(False, "--no-color", help="No ANSI colours (also NO_COLOR)."),
) -> None:
    """Check manifests offline: schema, ECS's own rules, references between documents.

    Exit 0 when clean, 1 on errors (or warnings with --strict), 2 on usage errors.
    """
    from ecsctl.app.validate import validate_paths
    from ecsctl.cli.render import findings as render

    report = validate_paths(paths)
    text = render.RENDERERS[output.value](report, color=use_color(no_color))
    sys.stdout.write(text)
    failed = report.errors > 0 or (strict and report.warnings > 0)
    raise typer.Exit(1 if failed else 0)
