"""``ecsctl render -f DIR [--to ecs|kubernetes] [--out DIR]``"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from enum import Enum
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import current, use_color
from ecsctl.errors import InputError


class Target(str, Enum):
    ecs = "ecs"
    kubernetes = "kubernetes"


def _manifest_errors(exc) -> None:
    from ecsctl.cli.render.findings import render_text

    sys.stderr.write(render_text(exc.report, color=use_color(False, sys.stderr)))


def _render_ecs(files: List[str], out: Optional[str], fmt: str, show_sensitive: bool) -> None:
    """The requests ``aws ecs register-task-definition|create-service|create-cluster --cli-input-json`` accept
    (JSON unless ``-o yaml``); refused while one would hold a plain-text secret, unless ``show_sensitive``."""
    from ecsctl.app.plan import ManifestErrors, read_manifests
    from ecsctl.app.render_ecs import plain_text_secrets, rendered
    from ecsctl.cli.render.machine import emit

    try:
        inputs = read_manifests(files)
    except ManifestErrors as exc:
        _manifest_errors(exc)
        raise
    items = rendered(inputs)
    secrets = [] if show_sensitive else plain_text_secrets(inputs, items)
    if secrets:
        more = f" (and {len(secrets) - 1} more request{'s' if len(secrets) > 2 else ''})" if len(secrets) > 1 else ""
        raise InputError(f"{secrets[0]}{more}; render would write it out in plain text, so nothing was written: "
                         "pass --show-sensitive to write it anyway")
    if out is None:
        if len(items) == 1:
            emit(items[0].request, "yaml" if fmt == "yaml" else "json")
        else:
            emit([{"address": r.address, "command": f"aws ecs {r.operation}", "request": r.request} for r in items],
                 "yaml" if fmt == "yaml" else "json")
        return
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for r in items:
        (target / r.filename).write_text(json.dumps(r.request, indent=2) + "\n", encoding="utf-8")
        sys.stderr.write(f"aws ecs {r.operation} --cli-input-json file://{target / r.filename}\n")


def _render_kubernetes(files: List[str], out: Optional[str], fmt: str) -> None:
    from ecsctl.app.plan import ManifestErrors
    from ecsctl.app.render import RenderRefused, render_files, write_files

    try:
        rendered = render_files(files)
    except ManifestErrors as exc:
        _manifest_errors(exc)
        raise
    except RenderRefused as exc:
        for refusal in exc.refusals:
            sys.stderr.write(f"{refusal}\n")
        raise
    if not rendered:
        sys.stderr.write("no Service or ScheduledTask in the manifests: nothing to render\n")
        return
    if out is None and fmt != "text":  # one document: the files and their objects (no comments)
        from ecsctl.cli.render.machine import emit

        emit([{"file": str(f.path), "objects": f.objects} for f in rendered], fmt)
        return
    if out is None:
        for f in rendered:
            sys.stdout.write(f"# File: {f.path}\n{f.text}")
        return
    for f, path in zip(rendered, write_files(rendered, out)):
        kinds = ", ".join(o["kind"] for o in f.objects)
        sys.stderr.write(f"wrote {path} ({kinds})\n")
    if any(f.needs for f in rendered):
        sys.stderr.write("the Secrets and ConfigMaps to create first are listed at the top of each file\n")


@boundary
def render(
    files: List[str] = typer.Option(..., "-f", "--file", help="Manifest files or directories (repeatable)."),
    to: Target = typer.Option(Target.ecs, "--to", help="ecs (ECS API request JSON) or kubernetes (one YAML file per service or scheduled task)."),
    out: Optional[str] = typer.Option(None, "--out", help="Write the files into DIR instead of printing them."),
    show_sensitive: bool = typer.Option(False, "--show-sensitive", help="--to ecs: write values that look like "
                                        "secrets (W7001) into the requests instead of refusing."),
) -> None:
    """Render the manifests for another system: ECS API requests, or Kubernetes objects.

    --to kubernetes writes a Deployment or DaemonSet per service (with its Services, HorizontalPodAutoscaler, ServiceAccount and volumes) and a CronJob per scheduled task, with a comment on every field that has no exact equivalent.

    Exit 1 when the manifests have errors or something cannot be expressed, or (--to ecs) when a
    request would hold a plain-text secret without --show-sensitive; nothing is written then.
    """
    fmt = current().format()
    if to is Target.ecs:
        _render_ecs(files, out, fmt, show_sensitive)
    else:
        _render_kubernetes(files, out, fmt)
