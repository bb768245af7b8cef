"""``ecsctl get KIND [NAME]``"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ecsctl.cli import aws as aws_cli
from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import current
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
              ("TASK ROLE", lambda r: _role_name(r.get("taskRoleArn"))), ("EXEC ROLE", lambda r: _role_name(r.get("executionRoleArn"))),
              ("STOP REASON", "stopReason")],
    "targets": [("TARGET GROUP", "targetGroup"), ("TARGET", "target"), ("PORT", "port"), ("TASK", "task")],
    "events": [("TIME", "time"), ("TYPE", "type"), ("SOURCE", "source"), ("MESSAGE", "message")],
    "queues": [("NAME", "name"), ("VISIBLE", "ApproximateNumberOfMessagesVisible"),
               ("IN FLIGHT", "ApproximateNumberOfMessagesNotVisible"), ("RUNNING TASKS", "RunningTaskCount"),
               ("BACKLOG/TASK", lambda r: "-" if r["BacklogPerTask"] is None else f"{r['BacklogPerTask']:.1f}"),
               ("CONSUMERS", lambda r: ",".join(r["consumers"]) or "-"), ("AT", "time")],
    "scaling": [("TIME", "time"), ("SERVICE", lambda r: f"{r['cluster']}/{r['service']}"),
                ("DESIRED", lambda r: f"{r['previousDesiredCount']} -> {r['desiredCount']}"),
                ("MIN-MAX", lambda r: f"{r['minCapacity']}-{r['maxCapacity']}"), ("STATUS", "statusCode"),
                ("DESCRIPTION", "description"), ("CAUSE", "cause")],
}


def _role_name(arn) -> str:
    """``arn:aws:iam::123456789012:role/prod-web`` -> ``prod-web`` (the JSON keeps the ARN)."""
    return str(arn).rsplit("/", 1)[-1] if arn else "-"


@boundary
def get(
    kind: str = typer.Argument(..., help="clusters, instances, taskdefs, services, tasks, targets, scaling, events or queues (or KIND/NAME)."),
    name: Optional[str] = typer.Argument(None, help="Only this one: a name, id, id prefix, i-… id, ARN or family:revision."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="Only this cluster."),
    status: Optional[str] = typer.Option(None, "--status", help="Only this status (tasks: lastStatus, e.g. RUNNING, STOPPED)."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="instances: a Cluster Query Language expression, as ListContainerInstances --filter."),
    everything: bool = typer.Option(False, "--all", help="instances: also the deregistered (INACTIVE) ones; services: also the deleted ones (tasks are listed in every state; --status filters them)."),
    backend: str = aws_cli.backend_option(),
    region: Optional[str] = aws_cli.region_option(),
    profile: Optional[str] = aws_cli.profile_option(),
    endpoint_url: Optional[str] = aws_cli.endpoint_option(),
) -> None:
    """List objects in the state: what the simulation holds now."""
    from ecsctl.app.get import get as get_rows, kind_of
    from ecsctl.cli.render.machine import emit
    from ecsctl.cli.render.table import render_table

    opts = current()
    fmt = opts.format()
    kind, name = split_kind(kind, name)
    kind = kind_of(kind)
    where = None
    if filter_:
        if kind != "instances":
            raise UsageError("--filter applies to instances only")
        where = _cql_filter(filter_)
    aws = aws_cli.connect(backend, region, profile, endpoint_url)
    if aws is not None:
        rows = [r for r in aws_cli.get_rows(aws, kind, name, cluster=cluster, status=status) if where is None or where(r)]
    else:
        rows = get_rows(opts.state_path, kind, name, status=status, cluster=cluster, where=where,
                        everything=everything)
    if fmt == "text":
        sys.stdout.write(render_table(rows, COLUMNS[kind]))
    else:
        emit(rows, fmt)


def split_kind(kind: str, name: str | None) -> tuple[str, str | None]:
    """``service/prod/web`` (a plan address, or kubectl's KIND/NAME) -> ``("service", "prod/web")``."""
    if name is None and "/" in kind and not kind.startswith("arn:"):
        from ecsctl.core.plan.model import KIND_OF_PREFIX, parse_address

        head = kind.split("/", 1)[0]
        if head in KIND_OF_PREFIX:
            try:
                _, parsed, in_cluster = parse_address(kind)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            return head, f"{in_cluster}/{parsed}" if in_cluster else parsed
        return head, kind.split("/", 1)[1]
    return kind, name


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
