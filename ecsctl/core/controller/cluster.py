"""A Cluster spec as the container instances it registers.

Each ``containerInstances`` group is a set of manually run EC2 instances, and its ``count`` is
a desired count: the instances the group should have registered.  The n-th instance the group
ever registers (n from 1, counting every registration, deregistered ones included) has the
container-instance id ``ids.container_instance_id(c, g, n)`` in cluster c, the CPU and memory
ECS registers for its type (``instance_types``; the group's ``cpu`` and ``memory`` override,
and size a type the table does not know), the built-in ``ecs.*`` attributes plus the group's
own, and the group's agent version.  An instance that went away (deregistered, or its EC2
instance terminated) never comes back: ``reconcile_group`` replaces it by a new registration
with the next n, a new id (and so a new EC2 id), while the old record stays INACTIVE.

    >>> (g,) = desired_groups("prod", {"containerInstances": [
    ...     {"name": "g", "count": 2, "instanceType": "m5.large"}]}, "2026-01-01T00:00:00Z").values()
    >>> first = reconcile_group(g, (), ()).register
    >>> [i.id for i in first] == [ids.container_instance_id("prod", "g", n) for n in (1, 2)]
    True
    >>> gone = replace(first[0], status="INACTIVE")  # deregistered: #3 registers in its place
    >>> [i.id for i in reconcile_group(g, (gone, first[1]), ()).register] == [ids.container_instance_id("prod", "g", 3)]
    True
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

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


@dataclass(frozen=True, slots=True)
class Group:
    """One ``containerInstances`` group: its desired ``count`` and what a new registration of it
    looks like (``template``, with an empty id)."""

    name: str
    count: int
    template: ContainerInstance

    def registration(self, n: int) -> ContainerInstance:
        """The group's n-th registration."""
        return replace(self.template, id=ids.container_instance_id(self.template.cluster, self.name, n))


def group_resources(group: dict):
    """What an instance of a group registers: a Cluster's ``containerInstances`` item or a
    CapacityProvider's ``autoScalingGroup`` (its ``instanceType``, sized by its ``cpu``/``memory``
    where given); ``KeyError`` for a type neither known nor sized (``validate``: E4005)."""
    return instance_resources(str(group.get("instanceType") or ""), cpu=_whole(group.get("cpu")),
                              memory=_whole(group.get("memory")))


def desired_groups(cluster: str, spec: dict, now: str) -> dict[str, Group]:
    """The groups of ``spec`` by name, each new registration stamped ``now``.

    Raises ``KeyError`` (with a did-you-mean message) for a type that is neither in the table
    nor sized by the group (``validate`` reports it first: E4005)."""
    out: dict[str, Group] = {}
    for group in spec.get("containerInstances") or ():
        if not isinstance(group, dict):
            continue
        name = str(group.get("name") or "default")
        instance_type = str(group.get("instanceType") or "")
        az = str(group.get("availabilityZone") or DEFAULT_AVAILABILITY_ZONE)
        res = group_resources(group)
        attributes = dict(builtin_attributes(instance_type, az))
        for key, value in (group.get("attributes") or {}).items():
            attributes[str(key)] = attribute_value(value)
        count = _whole(group.get("count"))
        agent = str(group.get("agentVersion") or DEFAULT_AGENT_VERSION)
        out[name] = Group(name, max(0, count) if count is not None else 1, ContainerInstance(
            id="", cluster=cluster, group_name=name, instance_type=instance_type,
            availability_zone=az, registered_cpu=res.cpu, registered_memory=res.memory,
            remaining_cpu=res.cpu, remaining_memory=res.memory, registered_gpu=res.gpu,
            attributes=attributes, agent_version=agent, registered_at=now,
        ))
    return out


def registration_numbers(cluster: str, group: str, instance_ids: Iterable[str]) -> dict[str, int]:
    """The n of each of ``instance_ids`` that is ``ids.container_instance_id(cluster, group, n)``.

    Records are never deleted, so a group's ids are those of n = 1..k; the search stops once it
    has found them all, or (for ids made otherwise, left out) a little past their number."""
    left = set(instance_ids)
    out: dict[str, int] = {}
    limit = 2 * len(left) + 16
    n = 0
    while left and n < limit:
        n += 1
        cid = ids.container_instance_id(cluster, group, n)
        if cid in left:
            left.discard(cid)
            out[cid] = n
    return out


@dataclass(frozen=True, slots=True)
class GroupChanges:
    """What applying a group does: ``deregister`` (ghosts, instances of other hardware, the
    highest-numbered ones beyond ``count``), ``register`` (new registrations, new ids) and
    ``update`` (kept instances whose attributes or agent version change)."""

    deregister: tuple[ContainerInstance, ...] = ()
    register: tuple[ContainerInstance, ...] = ()
    update: tuple[ContainerInstance, ...] = ()


def reconcile_group(group: Group, records: Iterable[ContainerInstance], terminated: Collection[str]) -> GroupChanges:
    """Bring ``group`` to its ``count`` of registered instances.

    ``records``: every record of the group in its cluster, INACTIVE ones included;
    ``terminated``: ids whose EC2 instance is terminated.  An instance that went away (INACTIVE,
    or a ghost: still registered with its EC2 instance terminated, which is deregistered here)
    is not brought back: each missing instance is a new registration with the next number, so
    a new container-instance id and EC2 id."""
    records = list(records)
    numbers = registration_numbers(group.template.cluster, group.name, (r.id for r in records))
    deregister: list[ContainerInstance] = []
    keep: list[ContainerInstance] = []
    for inst in records:
        if inst.status == "INACTIVE":
            continue
        if inst.id in terminated or not same_hardware(inst, group.template):
            deregister.append(inst)  # a ghost, or hardware ECS cannot change in place
        else:
            keep.append(inst)
    keep.sort(key=lambda i: (i.id not in numbers, numbers.get(i.id, 0), i.registered_at, i.id))
    deregister.extend(keep[group.count:])  # scaling down: the highest-numbered go
    keep = keep[:group.count]
    register: list[ContainerInstance] = []
    taken = {r.id for r in records}
    n = max(numbers.values(), default=0)
    while len(keep) + len(register) < group.count:
        n += 1
        fresh = group.registration(n)
        if fresh.id not in taken:
            register.append(fresh)
    attributes, agent = group.template.attributes, group.template.agent_version
    update = [replace(inst, attributes=attributes, agent_version=agent) for inst in keep
              if inst.attributes != attributes or inst.agent_version != agent]  # a copy only where one differs
    return GroupChanges(tuple(deregister), tuple(register), tuple(update))


def same_hardware(a: ContainerInstance, b: ContainerInstance) -> bool:
    """Whether ``b`` can be ``a`` updated in place (ECS cannot change an instance type or zone)."""
    return (a.instance_type, a.availability_zone, a.registered_cpu, a.registered_memory, a.registered_gpu) == (
        b.instance_type, b.availability_zone, b.registered_cpu, b.registered_memory, b.registered_gpu)


__all__ = ["DEFAULT_AGENT_VERSION", "DEFAULT_AVAILABILITY_ZONE", "Group", "GroupChanges", "attribute_value",
           "desired_groups", "group_resources", "reconcile_group", "registration_numbers", "same_hardware"]
