"""``ecsctl rollout status|history|undo SERVICE``"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit
from ecsctl.cli.render.plan import step_text

app = EcsctlTyper(help="Deployments of a service: their state, history, and going back one revision.",
                  no_args_is_help=True)

_SERVICE = typer.Argument(..., help="The service: its name, cluster/name, service/cluster/name or ARN.")


def _cluster_option():
    return typer.Option(None, "--cluster", help="The service's cluster (needed when the name is in several).")




def _dep_line(d: dict) -> str:
    line = (f"{d['status']:<8} {d['taskDefinition']:<16} {d['rolloutState']:<11} desired {d['desiredCount']}  "
            f"running {d['runningCount']}  pending {d['pendingCount']}  failed {d['failedTasks']}  {d['id']}")
    return line + (f"\n         {d['rolloutStateReason']}" if d["rolloutStateReason"] else "")


STEPS_SHOWN = 10


def _step_lines(d: dict, indent: str) -> list[str]:
    """A deployment's last steps, as the plan words them (``step 1: stop 3 old, start 3 new -> …``;
    ``-o json`` has them all)."""
    steps = list(d.get("steps") or ())
    out = [f"{indent}({len(steps) - STEPS_SHOWN} earlier steps; -o json lists them)"] if len(steps) > STEPS_SHOWN else []
    for n, st in enumerate(steps, 1):
        if n <= len(steps) - STEPS_SHOWN:
            continue
        if st.get("phase") == "rollback":
            out.append(f"{indent}step {n} (rollback to {st.get('taskDefinition', '?')}): {st.get('reason', '')}".rstrip())
            continue
        why = f": {st['reason']}" if st.get("reason") else ""
        out.append(f"{indent}step {n} ({st.get('phase', '?')}, {st.get('time', '?')}): {step_text(st)}{why}")
    return out


def _head(r: dict) -> str:
    return (f"service {r['cluster']}/{r['service']}: {r['taskDefinition']}, desired {r['desiredCount']}, "
            f"running {r['runningCount']}, pending {r['pendingCount']}")


@app.command("status")
@boundary
def status(service: str = _SERVICE, cluster: Optional[str] = _cluster_option()) -> None:
    """The service's current deployments (PRIMARY, ACTIVE) and its last events."""
    from ecsctl.app.rollout import status as read

    opts = current()
    fmt = opts.format()
    r = read(opts.state_path, service, cluster=cluster)
    if fmt != "text":
        emit(r, fmt)
        return
    lines = [_head(r), "deployments:"]
    for d in r["deployments"]:
        lines += [f"  {_dep_line(d)}", *_step_lines(d, "           ")]
    if not r["deployments"]:
        lines.append("  (none)")
    lines.append("events:")
    lines += [f"  {e['time']}  {e['message']}" for e in r["events"]] or ["  (none)"]
    sys.stdout.write("".join(line + "\n" for line in lines))


@app.command("history")
@boundary
def history(service: str = _SERVICE, cluster: Optional[str] = _cluster_option()) -> None:
    """Every deployment of the service, oldest first."""
    from ecsctl.app.rollout import history as read

    opts = current()
    fmt = opts.format()
    r = read(opts.state_path, service, cluster=cluster)
    if fmt != "text":
        emit(r, fmt)
        return
    lines = [_head(r)]
    for n, d in enumerate(r["deployments"], 1):
        reason = f"  {d['rolloutStateReason']}" if d["rolloutStateReason"] else ""
        lines.append(f"{n:>3}  {d['taskDefinition']:<16} {d['status']:<8} {d['rolloutState']:<11} "
                     f"created {d['createdAt']}  updated {d['updatedAt']}{reason}")
        lines += _step_lines(d, "       ")
    sys.stdout.write("".join(line + "\n" for line in lines))


@app.command("undo")
@boundary
def undo(service: str = _SERVICE, cluster: Optional[str] = _cluster_option()) -> None:
    """Deploy the service's previous COMPLETED revision (a stepped deployment, like any other).

    The manifests are not changed: the next apply deploys their revision again.
    """
    from ecsctl.app.rollout import undo as run

    opts = current()
    fmt = opts.format()
    r = run(opts.state_path, service, cluster=cluster)
    if fmt != "text":
        emit(r, fmt)
        return
    d = r["deployment"]
    lines = [f"service {r['cluster']}/{r['service']}: {r['from']} -> {r['to']} "
             f"(deployment {d['id']}, {d['rolloutState']})"]
    lines += [f"  {e['message']}" for e in r["events"]]
    sys.stdout.write("".join(line + "\n" for line in lines))
