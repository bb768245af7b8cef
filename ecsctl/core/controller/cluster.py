"""A Cluster spec as the container instances it registers.

Each ``containerInstances`` group is a set of manually run EC2 instances: instance n (from 1)
of group g in cluster c has the container-instance id ``ids.container_instance_id(c, g, n)``,
the CPU and memory ECS registers for its type (``instance_types``; the group's ``cpu`` and
``memory`` override, and size a type the table does not know), the built-in ``ecs.*``
attributes plus the group's own, and the group's agent version.  A group's ``count`` is a
desired count: the instances the cluster should have registered.

    >>> sorted(i.group_name for i in desired_instances("prod", {"containerInstances": [
    ...     {"name": "g", "count": 2, "instanceType": "m5.large"}]}, "2026-01-01T00:00:00Z").values())
    ['g', 'g']
"""

from __future__ import annotations

from ecsctl.core.controller import ids
from ecsctl.core.scheduling.instance_types import builtin_attributes, instance_resources
from ecsctl.core.state.ports import ContainerInstance

DEFAULT_AGENT_VERSION = "1.80.0"
DEFAULT_AVAILABILITY_ZONE = "us-east-1a"


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def attribute_value(value: object) -> str | None:
    """A manifest attribute value as ECS stores it (text; ``true``/``false``; None: name only)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def desired_instances(cluster: str, spec: dict, now: str) -> dict[str, ContainerInstance]:
    """Every container instance ``spec`` asks for, keyed by id, as a fresh registration at ``now``.

    Raises ``KeyError`` (with a did-you-mean message) for a type that is neither in the table
    nor sized by the group (``validate`` reports it first: E4005)."""
    out: dict[str, ContainerInstance] = {}
    for group in spec.get("containerInstances") or ():
        if not isinstance(group, dict):
            continue
        name = str(group.get("name") or "default")
        instance_type = str(group.get("instanceType") or "")
        az = str(group.get("availabilityZone") or DEFAULT_AVAILABILITY_ZONE)
        res = instance_resources(instance_type, cpu=_whole(group.get("cpu")), memory=_whole(group.get("memory")))
        attributes = dict(builtin_attributes(instance_type, az))
        for key, value in (group.get("attributes") or {}).items():
            attributes[str(key)] = attribute_value(value)
        count = _whole(group.get("count"))
        agent = str(group.get("agentVersion") or DEFAULT_AGENT_VERSION)
        for n in range(1, (count if count is not None else 1) + 1):
            cid = ids.container_instance_id(cluster, name, n)
            out[cid] = ContainerInstance(
                id=cid, cluster=cluster, group_name=name, instance_type=instance_type,
                availability_zone=az, registered_cpu=res.cpu, registered_memory=res.memory,
                remaining_cpu=res.cpu, remaining_memory=res.memory, registered_gpu=res.gpu,
                attributes=attributes, agent_version=agent, registered_at=now,
            )
    return out


def same_hardware(a: ContainerInstance, b: ContainerInstance) -> bool:
    """Whether ``b`` can be ``a`` updated in place (ECS cannot change an instance type or zone)."""
    return (a.instance_type, a.availability_zone, a.registered_cpu, a.registered_memory, a.registered_gpu) == (
        b.instance_type, b.availability_zone, b.registered_cpu, b.registered_memory, b.registered_gpu)


def group_counts(spec: dict) -> dict[str, int]:
    """``group name -> count`` of a Cluster spec."""
    out: dict[str, int] = {}
    for group in spec.get("containerInstances") or ():
        if isinstance(group, dict):
            count = _whole(group.get("count"))
            out[str(group.get("name") or "default")] = count if count is not None else 1
    return out


__all__ = ["DEFAULT_AGENT_VERSION", "DEFAULT_AVAILABILITY_ZONE", "attribute_value", "desired_instances",
           "group_counts", "same_hardware"]
