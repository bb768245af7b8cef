"""``ecsctl render -f DIR [--to ecs|kubernetes] [--out DIR]``"""

from __future__ import annotations

import importlib.util
import sys
from enum import Enum
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import use_color
from ecsctl.errors import EcsctlError


class Target(str, Enum):
    ecs = "ecs"
    kubernetes = "kubernetes"


class NotBuilt(EcsctlError):
    pass


def _render_ecs(files: List[str], out: Optional[str]) -> None:
    """ECS API request JSON: ``ecsctl.app.render_ecs`` (built separately, wired here once it exists)."""
    if importlib.util.find_spec("ecsctl.app.render_ecs") is None:
        raise NotBuilt("render --to ecs (ECS API request JSON) is not available in this version yet; use --to kubernetes")
    raise NotBuilt("render --to ecs is not wired to ecsctl.app.render_ecs yet; use --to kubernetes")


def _render_kubernetes(files: List[str], out: Optional[str]) -> None:
    from ecsctl.app.plan import ManifestErrors
    from ecsctl.app.render import RenderRefused, render_files, write_files
    from ecsctl.cli.render.findings import render_text

    try:
        rendered = render_files(files)
    except ManifestErrors as exc:
        sys.stderr.write(render_text(exc.report, color=use_color(False, sys.stderr)))
        raise
    except RenderRefused as exc:
        for refusal in exc.refusals:
            sys.stderr.write(f"{refusal}\n")
        raise
    if not rendered:
        sys.stderr.write("no Service or ScheduledTask in the manifests: nothing to render\n")
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
) -> None:
    """Render the manifests for another system: ECS API requests, or Kubernetes objects.

    --to kubernetes writes a Deployment or DaemonSet per service (with its Services, HorizontalPodAutoscaler, ServiceAccount and volumes) and a CronJob per scheduled task, with a comment on every field that has no exact equivalent.

    Exit 1 when the manifests have errors or something cannot be expressed (nothing is written then).
    """
    if to is Target.ecs:
        _render_ecs(files, out)
    else:
        _render_kubernetes(files, out)
