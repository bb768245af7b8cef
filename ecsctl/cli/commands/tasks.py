"""``ecsctl run-task``, ``ecsctl stop-task ID``, ``ecsctl tick DURATION``."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import current
from ecsctl.cli.render.machine import emit


def _task_line(t: dict) -> str:
    where = t["instance"] or t["launchType"]
    ports = ",".join(str(p) for p in t["hostPorts"]) or "-"
    return f"{t['id']}  {t['cluster']}  {t['group']}  {t['taskDefinition']}  {where}  {t['availabilityZone']}  ports {ports}"


@boundary
def run_task(
    cluster: str = typer.Option(..., "--cluster", help="Cluster to run the task in."),
    task_definition: str = typer.Option(..., "--task-definition", help="FAMILY (latest ACTIVE revision) or FAMILY:REVISION."),
    count: int = typer.Option(1, "--count", help="How many tasks (1-10)."),
    group: Optional[str] = typer.Option(None, "--group", help="Task group (default family:FAMILY)."),
    launch_type: Optional[str] = typer.Option(None, "--launch-type", help="EC2 or FARGATE (default: the cluster's default capacity provider strategy)."),
    placement_strategy: Optional[List[str]] = typer.Option(None, "--placement-strategy", help="binpack:cpu|memory, spread:instanceId|attribute:NAME, random; repeat, in order (at most 5)."),
    placement_constraint: Optional[List[str]] = typer.Option(None, "--placement-constraint", help="'memberOf:EXPRESSION' or distinctInstance; repeat (at most 10 with the task definition's)."),
    subnets: Optional[List[str]] = typer.Option(None, "--subnets", help="Subnets for awsvpc tasks, comma-separated."),
    run_for: Optional[str] = typer.Option(None, "--run-for", help="Simulation: the essential container exits after this long (90s, 10m, 2h; x-ecsctl runFor)."),
    exit_code: Optional[int] = typer.Option(None, "--exit-code", help="Simulation: the code it exits with (default 0; x-ecsctl exitCode)."),
) -> None:
    """Run standalone tasks, placed like service tasks (ECS RunTask).

    Tasks that cannot be placed are reported as failures and not started; tasks that cannot
    start (an image or secret that is not there) are STOPPED at once with TaskFailedToStart; the
    others run. Either way the command then exits 1 (the AWS CLI exits 0 and leaves the failures
    to the reader): fewer tasks run than were asked for.
    """
    from ecsctl.app.tasks import run_task as run

    opts = current()
    fmt = opts.format()
    result = run(opts.state_path, cluster=cluster, task_definition=task_definition, count=count,
                 group=group, launch_type=launch_type, strategies=placement_strategy or (),
                 constraints=placement_constraint or (), subnets=subnets or (), run_for=run_for, exit_code=exit_code)
    if fmt != "text":
        emit(result, fmt)
    else:
        lines = [f"stopped {_task_line(t)}: {t['stopCode']}: {t['stopReason']}" if t.get("stopCode") == "TaskFailedToStart"
                 else f"started {_task_line(t)}" for t in result["tasks"]]
        lines += [f"failed  {f['reason']}  {f['arn']}  {f['detail']}" for f in result["failures"]]
        sys.stdout.write("".join(line + "\n" for line in lines))
    # not placed (failures), or created and stopped at once because they cannot start (an image
    # or a secret that is not there: ECS returns those as tasks, STOPPED with TaskFailedToStart)
    reasons = [f["reason"] for f in result["failures"]]
    reasons += [t["stopCode"] for t in result["tasks"] if t.get("stopCode") == "TaskFailedToStart"]
    if reasons:
        asked = len(result["failures"]) + len(result["tasks"])
        sys.stderr.write(f"run-task: {len(reasons)} of {asked} tasks were not started ({', '.join(sorted(set(reasons)))})\n")
        raise typer.Exit(1)


@boundary
def stop_task(
    task_id: str = typer.Argument(..., help="Task id (or a unique prefix of at least 6 characters)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Stop reason (default 'Task stopped by user')."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="Only look in this cluster."),
) -> None:
    """Stop a task (ECS StopTask). A service replaces it at the next apply or tick."""
    from ecsctl.app.tasks import stop_task as stop

    opts = current()
    fmt = opts.format()
    result = stop(opts.state_path, task_id, reason, cluster=cluster)
    if fmt != "text":
        emit(result, fmt)
        return
    t = result["task"]
    if result["changed"]:
        sys.stdout.write(f"stopped {t['id']}  {t['cluster']}  {t['group']}: {t['stopReason']}\n")
    else:
        sys.stdout.write(f"{t['id']} was already STOPPED ({t['stopReason'] or 'no reason'})\n")


@boundary
def tick(
    duration: str = typer.Argument(..., help="How far to move the clock: 90s, 15m, 2h, 1d, 1h30m, 2d12h."),
    spot_interruptions: Optional[float] = typer.Option(
        None, "--spot-interruptions", metavar="RATE",
        help="Interrupt FARGATE_SPOT tasks: the share of them interrupted per simulated hour, 0 to 1 "
             "(deterministic; 1 interrupts every Spot task in the first minute)."),
) -> None:
    """Advance the simulation's clock minute by minute.

    Scheduled scaling actions fire, scaling policies evaluate, services then replace lost tasks
    and reach their desired count."""
    from ecsctl.app.tasks import tick as advance

    opts = current()
    fmt = opts.format()
    result = advance(opts.state_path, duration, spot_interruptions)
    if fmt != "text":
        emit(result, fmt)
        _stop_if_interrupted(result)
        return
    # in the order things happened on the simulated clock; within a moment, causes (a rule's
    # firing, a scaling activity) before the starts and stops they lead to, service events last
    timed = [(t["startedAt"] or "", 0, f"started {_task_line(t)}") for t in result["started"]]
    timed += [(t["stoppedAt"] or "", 1, f"stopped {_task_line(t)}") for t in result["stopped"]]
    timed += [(f["time"] or "", -1, f"rule    {f['time']}  {f['message']}") for f in result.get("firings", ())]
    timed += [(a["time"], -1, f"scaling {a['time']}  {a['cluster']}/{a['service']}: {a['previousDesiredCount']} -> "
                             f"{a['desiredCount']}  {a['description']}  cause: {a['cause']}{_failed(a)}")
              for a in result.get("scaling", ())]
    timed += [(a["time"], -1, f"capacity {a['time']}  capacityprovider/{a['capacityProvider']} ({a['cluster']}): "
                             f"{a['previousDesiredCapacity']} -> {a['desiredCapacity']}  {a['description']}")
              for a in result.get("capacity", ())]
    timed += [(e["time"], 2, f"event   {e['time']}  {e['cluster']}/{e['service']}: {e['message']}") for e in result["events"]]
    lines = [f"clock {result['from']} -> {result['to']}"] + [line for _, _, line in sorted(timed, key=lambda x: (x[0], x[1]))]
    sys.stdout.write("".join(line + "\n" for line in lines))
    _stop_if_interrupted(result)


def _failed(activity: dict) -> str:
    """A failed activity's status and message, as DescribeScalingActivities gives them."""
    if activity["statusCode"] == "Successful":
        return ""
    return f"  {activity['statusCode']}: {activity['statusMessage']}" if activity.get("statusMessage") else f"  {activity['statusCode']}"


def _stop_if_interrupted(result: dict) -> None:
    """After the output of a tick Ctrl-C stopped (what its committed minutes did): exit 130, saying
    where the clock stands."""
    if result.get("interrupted"):
        raise KeyboardInterrupt(result["interrupted"])
