"""``ecsctl scale simulate``: a what-if of a service's scaling policies, changing nothing."""

from __future__ import annotations

import json
import sys
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import use_color
from ecsctl.errors import UsageError

app = typer.Typer(help="Service Auto Scaling what-ifs (nothing in the state changes).", no_args_is_help=True)


@app.command("simulate")
@boundary
def simulate(
    files: List[str] = typer.Option(..., "-f", "--file", help="Manifest files or directories (repeatable)."),
    service: str = typer.Option(..., "--service", help="The service whose policies to replay."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="The service's cluster (when the name is in several)."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Open loop: CSV of timestamp,metric,value rows."),
    demand: Optional[str] = typer.Option(None, "--demand", help="Closed loop: CSV of timestamp,value demand rows "
                                                               "(default: the manifest's autoScaling.demand)."),
    start: Optional[str] = typer.Option(None, "--from", help="Start (ISO 8601, UTC when no offset); default: the series' first row."),
    end: Optional[str] = typer.Option(None, "--to", help="End, excluded; default: the series' last row (a day for a pattern)."),
    task_startup: Optional[str] = typer.Option(None, "--task-startup", help="How long a new task takes to run (default 2m)."),
    capacity: Optional[int] = typer.Option(None, "--capacity", help="At most this many tasks can run (a full cluster)."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Draw metric, target and desired/running counts to FILE.png or .svg."),
    output: str = typer.Option("text", "-o", "--output", help="text or json."),
    no_color: bool = typer.Option(False, "--no-color", help="No chart or colours on a terminal (also NO_COLOR)."),
) -> None:
    """Replay a service's scaling policies over a metric series or a demand, minute by minute."""
    from ecsctl.app.plan import ManifestErrors
    from ecsctl.app.scaling import simulate as run
    from ecsctl.cli.render.scaling import render_chart, render_text, write_plot

    if output not in ("text", "json"):
        raise UsageError(f"unknown output format '{output}' (text or json)")
    chart = output == "text" and use_color(no_color)
    try:
        sim = run(files, service, cluster=cluster, metrics_file=metrics, demand_file=demand, start=start, end=end,
                  startup=task_startup, capacity=capacity, record=bool(plot) or chart)
    except ManifestErrors as exc:
        from ecsctl.cli.render.findings import render_text as findings_text

        sys.stderr.write(findings_text(exc.report, color=use_color(no_color, sys.stderr)))
        raise
    for warning in sim.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if plot:
        write_plot(sim, plot)
        sys.stderr.write(f"wrote {plot}\n")
    if output == "json":
        sys.stdout.write(json.dumps(sim.points(), indent=2) + "\n")
        return
    sys.stdout.write(render_text(sim))
    if chart:
        sys.stdout.write("\n" + render_chart(sim))
