"""``ecsctl scale simulate``: a what-if of a service's scaling policies, changing nothing."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(help="Service Auto Scaling what-ifs (nothing in the state changes).", no_args_is_help=True)


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
    end: Optional[str] = typer.Option(None, "--to", help="End, excluded; default: just after the series' last row (a day for a pattern)."),
    task_startup: Optional[str] = typer.Option(None, "--task-startup", help="How long a new task takes to run (default 2m)."),
    capacity: Optional[int] = typer.Option(None, "--capacity", help="At most this many tasks can run (a full cluster)."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Draw metric, target and desired/running counts to FILE.png or .svg."),
) -> None:
    """Replay a service's scaling policies over a metric series or a demand, minute by minute."""
    from ecsctl.app.plan import ManifestErrors
    from ecsctl.app.scaling import simulate as run
    from ecsctl.cli.render.scaling import render_chart, render_text, write_plot

    opts = current()
    output = opts.format()
    chart = output == "text" and opts.color()  # --no-color (or NO_COLOR): no chart either
    try:
        sim = run(files, service, cluster=cluster, metrics_file=metrics, demand_file=demand, start=start, end=end,
                  startup=task_startup, capacity=capacity, record=bool(plot) or chart)
    except ManifestErrors as exc:
        from ecsctl.cli.render.findings import render_text as findings_text

        sys.stderr.write(findings_text(exc.report, color=opts.color(sys.stderr)))
        raise
    for warning in sim.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if plot:
        write_plot(sim, plot)
        sys.stderr.write(f"wrote {plot}\n")
    if output != "text":
        emit(sim.points(), output)
        return
    sys.stdout.write(render_text(sim))
    if chart:
        sys.stdout.write("\n" + render_chart(sim))
