"""Which tasks a plan would start that cannot be placed (pure: nodes and demands in, counts out).

The app layer (``ecsctl.app.plan``) gathers, per cluster, the placement :class:`Node` of every
container instance the cluster will have when its services' steps run (the instances in the
state with their RUNNING tasks' usage, or the hypothetical instances of a cluster created or
changed in the same plan), and one :class:`ServiceRequest` per service step, **in plan step
order**. :func:`predict` then runs the same :class:`Placer` the local backend uses, request by
request, committing each placement, so a later service sees what an earlier one took:

* the tasks in ``stop`` are released first (a new deployment stops every old task before it
  starts new ones, as the local backend does today; a deleted service frees its tasks);
* then ``wanted - kept`` tasks are placed one at a time; the first that cannot be placed ends
  the request (every further one would fail for the same reason), with the reason of the
  closest instance, as ECS reports it in the service's events.

Fargate requests are never resource-limited: every wanted task is placeable.

    >>> nodes = {"prod": [Node("ci-1", "a", {}, 1024, 1024)]}
    >>> [p["unplaceable"] for p in predict(nodes, [ServiceRequest(
    ...     "service/prod/web", "prod", TaskDemand(256, 512), wanted=3)])]
    [1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.placement import Node, Placer, TaskDemand, Unplaced


@dataclass(frozen=True, slots=True)
class StoppedTask:
    """A running task that stops before a request places anything (its resources come back)."""

    instance_id: str
    demand: TaskDemand
    host_ports: tuple[int, ...] = ()
    group: str = ""


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """One service step of the plan, as placement sees it.

    ``wanted`` is the desired count after the step; ``kept`` the tasks already running that
    stay; ``stop`` the tasks stopped first. ``report`` False: only release ``stop`` (a deleted
    service), nothing predicted.
    """

    address: str  # service/CLUSTER/NAME
    cluster: str
    demand: TaskDemand | None
    wanted: int = 0
    kept: int = 0
    constraints: tuple[dict, ...] = ()
    strategies: tuple[dict, ...] | None = None
    stop: tuple[StoppedTask, ...] = ()
    fargate: bool = False
    report: bool = True
    daemon: bool = False  # one task per ACTIVE, connected instance that meets the constraints

    @property
    def name(self) -> str:
        return self.address.rsplit("/", 1)[-1]

    @property
    def group(self) -> str:
        return f"service:{self.name}"


def predict(nodes: dict[str, list[Node]], requests: Sequence[ServiceRequest], *, seed: int = 0) -> list[dict]:
    """Per reported request: ``{"address", "wanted", "placeable", "unplaceable", "reason",
    "message", "closestInstance"}``; ``nodes`` (per cluster) are mutated as tasks are placed."""
    out: list[dict] = []
    placers: dict[str, Placer] = {}  # one per cluster, kept across requests (its indexes follow every commit)
    for req in requests:
        pool = nodes.setdefault(req.cluster, [])
        placer = placers.get(req.cluster)
        if placer is None or any(s.get("type") == "random" for s in req.strategies or ()):
            # a fresh placer per service step seeds ``random`` as the backend does
            placer = placers[req.cluster] = Placer(pool, seed=seed)
        for t in req.stop:
            placer.release(t.instance_id, t.demand, t.host_ports, t.group or req.group)
        if not req.report:
            continue
        wanted, constraints = req.wanted, list(req.constraints)
        if req.daemon:
            wanted = sum(1 for n in pool if _daemon_eligible(n, req.constraints))
            constraints.append({"type": "distinctInstance"})  # at most one per instance
        kept = min(req.kept, wanted)
        start = wanted - kept
        placed, failure = start, None
        if start and not req.fargate and req.demand is not None:
            results = placer.place_many(req.demand, start, group=req.group, constraints=constraints,
                                        strategies=list(req.strategies) if req.strategies is not None else None)
            placed = sum(1 for r in results if not isinstance(r, Unplaced))
            failure = next((r for r in results if isinstance(r, Unplaced)), None)
        out.append({
            "address": req.address,
            "wanted": wanted,
            "placeable": kept + placed,
            "unplaceable": start - placed,
            "reason": failure.reason if failure else "",
            "message": f"service ({req.name}) {failure.message}" if failure else "",
            "closestInstance": failure.closest_instance if failure else None,
        })
    return out


def _daemon_eligible(node: Node, constraints: Sequence[dict]) -> bool:
    """Whether a DAEMON service wants a task on ``node`` (ACTIVE, connected, memberOf met)."""
    if node.status != "ACTIVE" or not node.agent_connected:
        return False
    view = node.cql_view()
    return all(cql.matches(c["expression"], view) for c in constraints
               if c.get("type") == "memberOf" and isinstance(c.get("expression"), str))


def closest_phrase(prediction: dict) -> str:
    """``has insufficient memory available`` — what the message says of the closest instance."""
    message, closest = str(prediction.get("message") or ""), prediction.get("closestInstance")
    if closest and f"{closest} " in message:
        return message.split(f"{closest} ", 1)[1].rstrip(".")
    return ""
