"""``ecsctl render --to ecs``: the manifests as the requests ``aws ecs ... --cli-input-json`` accepts.

A minimal command (only ``--to ecs``); the fuller one with ``--to kubernetes`` belongs to the
render work and replaces this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.errors import UsageError


@boundary
def render(
    files: List[str] = typer.Option(..., "-f", "--file", help="Manifest files or directories (repeatable)."),
    to: str = typer.Option("ecs", "--to", help="ecs: the ECS API requests (register-task-definition, create-service, create-cluster)."),
    out: Optional[str] = typer.Option(None, "--out", help="Write one request file per resource into DIR."),
) -> None:
    """Print the ECS API request JSON of each cluster, task definition and service."""
    from ecsctl.app.plan import ManifestErrors, read_manifests
    from ecsctl.app.render_ecs import rendered

    if to != "ecs":
        raise UsageError(f"unknown render target '{to}' (ecs)")
    try:
        inputs = read_manifests(files)
    except ManifestErrors as exc:
        from ecsctl.cli.render.findings import render_text

        sys.stderr.write(render_text(exc.report, color=False))
        raise
    items = rendered(inputs)
    if out is None:
        if len(items) == 1:
            sys.stdout.write(json.dumps(items[0].request, indent=2) + "\n")
        else:
            sys.stdout.write(json.dumps([{"address": r.address, "command": f"aws ecs {r.operation}", "request": r.request}
                                         for r in items], indent=2) + "\n")
        return
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for r in items:
        (target / r.filename).write_text(json.dumps(r.request, indent=2) + "\n", encoding="utf-8")
        sys.stderr.write(f"aws ecs {r.operation} --cli-input-json file://{target / r.filename}\n")
