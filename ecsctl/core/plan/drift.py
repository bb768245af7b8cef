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
) -> list[Drift]:
    """``applied``: address -> (kind, name, last-applied spec); ``running``: (cluster, service) -> RUNNING tasks.

    (A service that runs another revision than its manifest asks is a change, not drift: see
    ``app.plan.revision_changes``.)"""
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
            actual = running[(cluster, name)]
            if actual < record.desired_count:
                drift.append(Drift(address, "runningCount", record.desired_count, actual,
                                   f"desired {record.desired_count}, running {actual}: "
                                   f"{record.desired_count - actual} task(s) lost or not placed"))
        elif kind == "Cluster":
            for group in spec.get("containerInstances", []):
                expected = int(group.get("count", 0))
                actual = healthy[(name, group.get("name"))]
                if actual != expected:
                    drift.append(Drift(address, f"containerInstances[{group.get('name')}]", expected, actual,
                                       "instances stopped, drained or deregistered since the last apply"))
    return drift
