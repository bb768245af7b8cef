"""``ecsctl instances drain|activate|stop|start|terminate|deregister ID``"""

from __future__ import annotations

import sys

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(
    help="Container-instance lifecycle in the simulation (ID: container-instance id, ARN or EC2 i-… id).",
    no_args_is_help=True,
)

_ID_HELP = "Container-instance id (or its ARN, its EC2 instance id i-…, or a unique id prefix)."


def _run(action: str, instance_id: str) -> None:
    from ecsctl.app.instances import instance_action

    opts = current()
    fmt = opts.format()
    summary = instance_action(opts.state_path, action, instance_id)
    if fmt != "text":
        emit(summary, fmt)
        return
    sys.stdout.write(_line(summary) + "\n")
    for message in summary["events"]:
        sys.stderr.write(f"warning: {message}\n")


def _line(s: dict) -> str:
    status = s["oldStatus"] if s["oldStatus"] == s["newStatus"] else f"{s['oldStatus']} -> {s['newStatus']}"
    agent = "agent connected" if s["agentConnected"] else "agent disconnected"
    text = (f"{s['action']}: container instance {s['id']} ({s['ec2InstanceId']}, {s['cluster']}): {status}, "
            f"{agent}, EC2 {s['ec2State']}; {len(s['tasksStopped'])} task(s) stopped, "
            f"{len(s['tasksStarted'])} started")
    if s["tasksOnInstance"]:
        text += f", {s['tasksOnInstance']} still running on it"
    return text + "."


def _command(action: str, doc: str):
    @boundary
    def command(
        instance_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    ) -> None:
        _run(action, instance_id)

    command.__doc__ = doc
    command.__name__ = action
    return command


app.command("drain")(_command(
    "drain", "ACTIVE -> DRAINING: service tasks move elsewhere within minimumHealthyPercent/maximumPercent."))
app.command("activate")(_command(
    "activate", "DRAINING -> ACTIVE: the instance takes new placements again (nothing moves back)."))
app.command("stop")(_command(
    "stop", "EC2 stop: stays ACTIVE, agent disconnects, its tasks stop; services replace them elsewhere."))
app.command("start")(_command(
    "start", "EC2 start: the agent reconnects; no task comes back by itself."))
app.command("terminate")(_command(
    "terminate", "EC2 terminate: deregisters a running instance; a stopped one stays registered (a ghost)."))
app.command("deregister")(_command(
    "deregister", "INACTIVE: its tasks stop and services replace them elsewhere."))
