"""``apply --wait``: follow each service's deployment on ECS to steady state or failure.

``follow(aws, services, poll=15, timeout=1800, sleep=time.sleep, clock=time.monotonic,
on_update=None)`` polls DescribeServices (10 services per call) every ``poll`` seconds and, for
each service, answers a :class:`Followed`:

* ``COMPLETED`` — the PRIMARY deployment's ``rolloutState`` is COMPLETED (or, without a rollout
  state, it runs its desired count and is the only deployment);
* ``FAILED`` — the rollout FAILED (the circuit breaker), classified from the events and the
  stopped tasks' reasons (``core.aws.stall.classify``);
* ``STALLED`` — ECS says why it cannot progress (a placement failure, a deployment
  configuration that leaves no room, tasks that stop before RUNNING, an image that cannot be
  pulled …) and the counts did not move between two polls: reported at once with the remedy,
  instead of waiting out the timeout;
* ``TIMEOUT`` — nothing conclusive before ``timeout``.

``sleep`` and ``clock`` are injectable, so tests never sleep. ``on_update(cluster, service,
primary)`` is called with the PRIMARY deployment after every poll (for the progress display).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ecsctl.backends.aws.session import Aws
from ecsctl.core.aws.stall import Stall, classify

STOPPED_READ = 10


@dataclass(frozen=True, slots=True)
class Followed:
    cluster: str
    service: str
    outcome: str  # COMPLETED | FAILED | STALLED | TIMEOUT
    task_definition: str = ""
    running: int = 0
    desired: int = 0
    stall: Stall | None = None

    def describe(self) -> str:
        head = f"service/{self.cluster}/{self.service}: {self.outcome}, {self.running}/{self.desired} running ({self.task_definition})"
        return head + (f": {self.stall.describe()}" if self.stall else "")


def _primary(service: dict) -> dict:
    for d in service.get("deployments") or ():
        if d.get("status") == "PRIMARY":
            return d
    return {}


def _stopped_reasons(aws: Aws, cluster: str, name: str, task_definition: str) -> list[str]:
    address = f"service/{cluster}/{name}"
    arns = aws.call("ecs", "ListTasks", address, cluster=cluster, serviceName=name, desiredStatus="STOPPED").get("taskArns", [])
    if not arns:
        return []
    tasks = aws.call("ecs", "DescribeTasks", address, cluster=cluster, tasks=arns[:STOPPED_READ]).get("tasks", [])
    reasons = []
    for t in tasks:
        if task_definition and t.get("taskDefinitionArn") != task_definition:
            continue
        reason = t.get("stoppedReason") or ""
        for c in t.get("containers") or ():
            if c.get("reason"):
                reason = f"{reason}: {c['reason']}" if reason else c["reason"]
        if reason:
            reasons.append(reason)
    return reasons


def follow(aws: Aws, services: list[tuple[str, str]], *, poll: float = 15.0, timeout: float = 1800.0,
           sleep=None, clock=None, on_update=None) -> list[Followed]:
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    start = clock()
    pending = {key: None for key in services}  # (cluster, name) -> counts at the previous poll
    since = {key: None for key in services}  # newest event id seen before following: older ones are history
    done: dict[tuple[str, str], Followed] = {}
    last: dict[tuple[str, str], dict] = {}  # each service as the last poll described it
    while pending:
        by_cluster: dict[str, list[str]] = {}
        for cluster, name in pending:
            by_cluster.setdefault(cluster, []).append(name)
        for cluster, names in by_cluster.items():
            for i in range(0, len(names), 10):
                answer = aws.call("ecs", "DescribeServices", f"cluster/{cluster}", cluster=cluster, services=names[i:i + 10])
                for s in answer.get("services", []):
                    key = (cluster, s["serviceName"])
                    last[key] = s
                    result = _judge(aws, key, s, pending, since, on_update)
                    if result is not None:
                        done[key] = result
                        pending.pop(key, None)
        if not pending:
            break
        if clock() - start >= timeout:
            for key in list(pending):  # where each one stood at the last poll
                done[key] = _timed_out(key, last.get(key) or {})
            break
        sleep(poll)
    return [done[key] for key in services if key in done]


def _counts(service: dict) -> tuple[dict, str, int, int]:
    """A described service's PRIMARY deployment, its revision (``family:N``), running and desired counts."""
    primary = _primary(service)
    td = primary.get("taskDefinition", service.get("taskDefinition", ""))
    running, desired = int(primary.get("runningCount", 0)), int(primary.get("desiredCount", service.get("desiredCount", 0)))
    return primary, td.split("task-definition/", 1)[-1], running, desired


def _timed_out(key: tuple[str, str], service: dict) -> Followed:
    _, ref, running, desired = _counts(service)
    return Followed(key[0], key[1], "TIMEOUT", ref, running, desired)


def _judge(aws: Aws, key, service: dict, pending: dict, since: dict, on_update) -> Followed | None:
    cluster, name = key
    primary, ref, running, desired = _counts(service)
    if on_update:
        on_update(cluster, name, primary)
    td = primary.get("taskDefinition", service.get("taskDefinition", ""))
    state = primary.get("rolloutState")
    events = service.get("events") or []
    if since[key] is None:
        # events older than the deployment are history; ECS lists newest first
        created = primary.get("createdAt")
        since[key] = created
    fresh = [e.get("message", "") for e in events if since[key] is None or _after(e.get("createdAt"), since[key])]
    if state == "COMPLETED" or (state is None and running >= desired and len(service.get("deployments") or ()) == 1):
        return Followed(cluster, name, "COMPLETED", ref, running, desired)
    if state == "FAILED":
        stall = classify(fresh, _stopped_reasons(aws, cluster, name, td), primary.get("rolloutStateReason", "")) or Stall(
            "CIRCUIT_BREAKER", primary.get("rolloutStateReason", "the deployment failed"), "read the stopped tasks' reasons", True)
        return Followed(cluster, name, "FAILED", ref, running, desired, stall)
    counts = (running, int(primary.get("pendingCount", 0)), int(primary.get("failedTasks", 0)))
    previous = pending[key]
    pending[key] = counts
    if previous is None or previous[:2] != counts[:2]:
        return None  # moving (or first look): give it another poll
    stall = classify(fresh, _stopped_reasons(aws, cluster, name, td) if counts[2] or running < desired else [],
                     primary.get("rolloutStateReason", ""))
    if stall is not None:
        return Followed(cluster, name, "FAILED" if stall.failed else "STALLED", ref, running, desired, stall)
    return None


def _after(at, since) -> bool:
    try:
        return at >= since
    except TypeError:
        return True
