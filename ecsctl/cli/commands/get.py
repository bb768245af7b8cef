"""``ecsctl get KIND [NAME]``"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from ecsctl.cli import aws as aws_cli
from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import state_option
from ecsctl.errors import UsageError

COLUMNS = {
    "clusters": [("NAME", "name"), ("STATUS", "status"), ("INSTANCES", "registeredContainerInstancesCount"),
                 ("SERVICES", "activeServicesCount"), ("RUNNING", "runningTasksCount")],
    "instances": [("ID", "id"), ("CLUSTER", "cluster"), ("GROUP", "group"), ("TYPE", "instanceType"),
                  ("AZ", "availabilityZone"), ("STATUS", "status"), ("EC2", "ec2State"),
                  ("AGENT", lambda r: "connected" if r["agentConnected"] else "DISCONNECTED"),
                  ("TASKS", "runningTasksCount"), ("CPU FREE", lambda r: f"{r['remainingResources']['cpu']}/{r['registeredResources']['cpu']}"),
                  ("MEM FREE", lambda r: f"{r['remainingResources']['memory']}/{r['registeredResources']['memory']}")],
    "taskdefs": [("FAMILY", "family"), ("REVISION", "revision"), ("STATUS", "status"), ("CPU", "cpu"),
                 ("MEMORY", "memory"), ("NETWORK", "networkMode"), ("REGISTERED", "registeredAt")],
    "services": [("NAME", "name"), ("CLUSTER", "cluster"), ("TASK DEFINITION", "taskDefinition"), ("DESIRED", "desiredCount"),
                 ("RUNNING", "runningCount"), ("PENDING", "pendingCount"), ("LAUNCH", "launchType"), ("STATUS", "status")],
    "tasks": [("ID", "id"), ("CLUSTER", "cluster"), ("GROUP", "group"), ("TASK DEFINITION", "taskDefinition"),
              ("INSTANCE", "instance"), ("AZ", "availabilityZone"), ("IP", "privateIp"), ("STATUS", "lastStatus"), ("HOST PORTS", "hostPorts"),
              ("STOP REASON", "stopReason")],
    "targets": [("TARGET GROUP", "targetGroup"), ("TARGET", "target"), ("PORT", "port"), ("TASK", "task")],
}


@boundary
def get(
    kind: str = typer.Argument(..., help="clusters, instances, taskdefs, services, tasks or targets."),
    name: Optional[str] = typer.Argument(None, help="Only this one (name, id, or family:revision)."),
    state: Optional[str] = state_option(),
    output: str = typer.Option("text", "-o", "--output", help="text or json."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="Only this cluster."),
    status: Optional[str] = typer.Option(None, "--status", help="Only this status (tasks: lastStatus, e.g. RUNNING, STOPPED)."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="instances: a Cluster Query Language expression, as ListContainerInstances --filter."),
    backend: str = aws_cli.backend_option(),
    region: Optional[str] = aws_cli.region_option(),
    profile: Optional[str] = aws_cli.profile_option(),
    endpoint_url: Optional[str] = aws_cli.endpoint_option(),
) -> None:
    """List objects in the state: what the simulation holds now."""
    from ecsctl.app.get import ALIASES, get as get_rows
    from ecsctl.app.state import state_path
    from ecsctl.cli.render.table import render_table

    kind = ALIASES.get(kind, kind)
    where = None
    if filter_:
        if kind != "instances":
            raise UsageError("--filter applies to instances only")
        where = _cql_filter(filter_)
    aws = aws_cli.connect(backend, region, profile, endpoint_url)
    if aws is not None:
        rows = [r for r in aws_cli.get_rows(aws, kind, cluster=cluster, status=status) if where is None or where(r)]
        if name:
            rows = [r for r in rows if name in (r.get("name"), r.get("id"), r.get("family"), f"{r.get('family')}:{r.get('revision')}")]
    else:
        rows = get_rows(state_path(state), kind, name, status=status, cluster=cluster, where=where)
    if output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif output == "text":
        sys.stdout.write(render_table(rows, COLUMNS[kind]))
    else:
        raise UsageError(f"unknown output format '{output}' (text or json)")


def _cql_filter(expression: str):
    from ecsctl.core.scheduling.cql import CqlError, parse, evaluate

    try:
        expr = parse(expression)
    except CqlError as exc:
        raise UsageError(f"--filter: invalid expression at column {exc.column}: {exc}") from None

    def where(row: dict) -> bool:
        instance = {
            "ec2InstanceId": row.get("ec2InstanceId") or row["id"],
            "attributes": row["attributes"],
            "agentConnected": row["agentConnected"],
            "agentVersion": row["agentVersion"],
            "registeredAt": row["registeredAt"],
            "runningTasksCount": row["runningTasksCount"],
            "taskGroups": set(row.get("taskGroups", ())),
        }
        return evaluate(expr, instance)

    return where
