"""``ecsctl metrics put``: open-loop metric datapoints for the simulation's auto scaling."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(help="Metrics the simulation's auto scaling reads (open loop).", no_args_is_help=True)


@app.command("put")
@boundary
def put(
    service: str = typer.Option(..., "--service", help="The service the datapoints are about (name, cluster/name or ARN)."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="The service's cluster (when the name is in several)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric name: ECSServiceAverageCPUUtilization, "
                                                                "ALBRequestCountPerTarget, a custom metricName …"),
    value: Optional[str] = typer.Option(None, "--value", help="The datapoint's value (a finite number)."),
    time: Optional[str] = typer.Option(None, "--time", help="When (ISO 8601 or epoch seconds); default: the simulation's clock."),
    file: Optional[str] = typer.Option(None, "--file", help="A CSV of timestamp,metric,value rows instead of one datapoint."),
) -> None:
    """Feed metric datapoints to the simulation; `ecsctl tick` lets the scaling policies read them.

    A value put at T is the service's metric from T on, until the next value of that metric.
    """
    from ecsctl.app.metrics import put as record

    opts = current()
    fmt = opts.format()
    result = record(opts.state_path, service, cluster=cluster, metric=metric, value=value, time=time, file=file)
    for warning in result["warnings"]:
        sys.stderr.write(f"warning: {warning}\n")
    if fmt != "text":
        emit(result, fmt)
        return
    span = result["from"] if result["from"] == result["to"] else f"{result['from']} .. {result['to']}"
    sys.stdout.write(f"{result['service']}: {result['points']} datapoint(s) of {', '.join(result['metrics'])} at {span}\n")
