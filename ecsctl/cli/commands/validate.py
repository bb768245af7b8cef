"""``ecsctl validate PATH...``"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import FindingsFormat, current


def write_notes(notes: list[str]) -> None:
    """Files skipped as not being manifests, one ``note:`` line each on stderr."""
    for note in notes:
        sys.stderr.write(f"note: {note}\n")


@boundary
def validate(
    paths: Optional[List[str]] = typer.Argument(None, help="Manifest files or directories (recursing into *.yaml, *.yml, *.json); '-' reads stdin."),
    files: Optional[List[str]] = typer.Option(None, "-f", "--file", help="Also these files or directories (as plan -f)."),
    strict: bool = typer.Option(False, "--strict", help="Count warnings as errors: they fail the run, and every format reports them as errors."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", metavar="GLOB", help="Leave out paths matching GLOB (repeatable; also lines of .ecsctlignore)."),
    skip_non_manifests: bool = typer.Option(False, "--skip-non-manifests", help="Skip named files that are neither ecsctl manifests nor task definitions, as a directory scan does (the pre-commit hook)."),
) -> None:
    """Check manifests offline: schema, ECS's own rules, references between documents.

    Exit 0 when clean, 1 on errors (with --strict warnings are errors), 2 on usage errors.
    Under a directory, YAML that is not for ecsctl (workflows, docker-compose, …) is skipped with a note.
    """
    from ecsctl.app.validate import validate_paths
    from ecsctl.cli.render import findings as render
    from ecsctl.errors import UsageError

    opts = current()
    fmt = opts.format(tuple(f.value for f in FindingsFormat))
    every = [*(paths or ()), *(files or ())]
    if not every:
        raise UsageError("validate needs files or directories: ecsctl validate PATH...")
    notes: list[str] = []
    report = validate_paths(every, exclude or (), notes, skip_named=skip_non_manifests, strict=strict)
    if not report.files and not notes:  # an empty folder (a skipped file says so itself)
        notes.append(f"no manifests in {', '.join(every)}: nothing was checked")
    write_notes(notes)
    sys.stdout.write(render.RENDERERS[fmt](report, color=opts.color()))
    # under --strict the warnings are errors in the report itself: exit code and output agree
    raise typer.Exit(1 if report.errors else 0)
