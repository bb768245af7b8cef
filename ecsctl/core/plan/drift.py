"""Drift: where the simulated world moved away from what was last applied.

Drift is reported apart from changes: auto scaling moving a service's desired
count, tasks that were lost or never placed, instances stopped, drained or
deregistered behind ecsctl's back.  A plan never "fixes" drift on its own; the
reviewer sees it and decides.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from ecsctl.core.plan.model import Drift, service_key
from ecsctl.core.state.ports import ContainerInstance, Service


def detect_drift(
    applied: dict[str, tuple[str, str, dict]],
    services: Iterable[Service],
    running: Counter,
    instances: Iterable[ContainerInstance],
    latest: dict[str, int] | None = None,
) -> list[Drift]:
    """``applied``: address -> (kind, name, last-applied spec); ``running``: (cluster, service) -> RUNNING tasks;
    ``latest``: family -> highest registered revision (a service that follows its family but runs an
    older revision was rolled back by the circuit breaker or ``rollout undo``)."""
    drift: list[Drift] = []
    by_key = {(s.cluster, s.name): s for s in services if s.status == "ACTIVE"}
    healthy = Counter((i.cluster, i.group_name) for i in instances if i.status == "ACTIVE" and i.agent_connected)
    for address, (kind, name, spec) in sorted(applied.items()):
        if kind == "Service":
            cluster, _ = service_key(address)
            record = by_key.get((cluster, name))
            if record is None:
                drift.append(Drift(address, "status", "ACTIVE", "missing", "the service is gone from the simulation"))
                continue
            if spec.get("schedulingStrategy", "REPLICA") == "REPLICA" and "desiredCount" in spec:
                if record.desired_count != spec["desiredCount"]:
                    drift.append(Drift(address, "desiredCount", spec["desiredCount"], record.desired_count,
                                       "desired count changed since the last apply (auto scaling or by hand)"))
            family = str(spec.get("taskDefinition", "")).rsplit("/", 1)[-1]
            if latest and ":" not in family and family in latest and record.task_definition != f"{family}:{latest[family]}":
                drift.append(Drift(address, "taskDefinition", f"{family}:{latest[family]}", record.task_definition,
                                   "the service runs an older revision (rolled back by the circuit breaker or rollout undo)"))
            actual = running[(cluster, name)]
            if actual < record.desired_count:
                drift.append(Drift(address, "runningCount", record.desired_count, actual,
                                   f"{record.desired_count - actual} task(s) lost or not placed"))
        elif kind == "Cluster":
            for group in spec.get("containerInstances", []):
                expected = int(group.get("count", 0))
                actual = healthy[(name, group.get("name"))]
                if actual != expected:
                    drift.append(Drift(address, f"containerInstances[{group.get('name')}]", expected, actual,
                                       "instances stopped, drained or deregistered since the last apply"))
    return drift
