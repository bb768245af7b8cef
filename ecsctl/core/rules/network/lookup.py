"""What the security-group rules look up in the other documents; no rules live here.

* :func:`group_index`: the run's ``SecurityGroup`` documents by id and name;
* :func:`security_group_references`: every place a document names a security group;
* :func:`instance_groups_for`: the container-instance groups a service's tasks may run on
  (:func:`member_of` one group).
"""

from __future__ import annotations

from typing import Any, Iterator

from ecsctl.core.controller.service import security_groups
from ecsctl.core.network.security_groups import GroupIndex
from ecsctl.core.rules.service.refs import as_dict, as_list, cluster_name, spec_of
from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.instance_types import builtin_attributes


def group_index(ctx) -> GroupIndex:
    """The ``SecurityGroup`` documents of the run that passed their own checks."""
    return GroupIndex((doc.name, spec) for doc in ctx.all("SecurityGroup") if (spec := spec_of(doc)) is not None)


def _awsvpc_groups(network: Any) -> list:
    return as_list(as_dict(as_dict(network).get("awsvpcConfiguration")).get("securityGroups"))


def security_group_references(kind: str, spec: dict) -> Iterator[tuple[tuple, str]]:
    """``(path, reference)`` for every security group ``spec`` names."""
    if kind == "Cluster":
        for i, group in enumerate(as_list(spec.get("containerInstances"))):
            for j, ref in enumerate(as_list(as_dict(group).get("securityGroups"))):
                yield ("containerInstances", i, "securityGroups", j), ref
    elif kind == "TargetGroup":
        for j, ref in enumerate(as_list(spec.get("securityGroups"))):
            yield ("securityGroups", j), ref
    elif kind in ("Service", "ScheduledTask"):
        base: tuple = ("target",) if kind == "ScheduledTask" else ()
        owner = as_dict(spec.get("target")) if kind == "ScheduledTask" else spec
        for j, ref in enumerate(_awsvpc_groups(owner.get("networkConfiguration"))):
            yield base + ("networkConfiguration", "awsvpcConfiguration", "securityGroups", j), ref
    elif kind == "SecurityGroup":
        for field in ("ipPermissions", "ipPermissionsEgress"):
            for i, permission in enumerate(as_list(spec.get(field))):
                for j, pair in enumerate(as_list(as_dict(permission).get("userIdGroupPairs"))):
                    pair = as_dict(pair)
                    if pair.get("userId"):
                        continue  # another account's group: nothing here can describe it
                    key = "groupId" if pair.get("groupId") else "groupName"
                    yield (field, i, "userIdGroupPairs", j, key), pair.get(key)


def awsvpc_security_groups(spec: dict) -> list[str]:
    """The security groups a service gives its awsvpc tasks."""
    return security_groups(spec)


def group_view(group: dict) -> dict:
    """What a Cluster Query Language expression sees of an instance of ``group``."""
    instance_type = str(group.get("instanceType") or "")
    zone = str(group.get("availabilityZone") or "")
    try:
        attributes: dict = dict(builtin_attributes(instance_type, zone))
    except KeyError:  # an unknown type: E4xxx / the backend say so
        attributes = {"ecs.instance-type": instance_type, "ecs.availability-zone": zone}
    for key, value in as_dict(group.get("attributes")).items():
        attributes[str(key)] = None if value is None else str(value)
    return {"attributes": attributes, "agentConnected": True, "agentVersion": group.get("agentVersion"),
            "runningTasksCount": 0, "taskGroups": set(), "ec2InstanceId": ""}


def member_of(expressions: list[str], group: dict) -> bool:
    """Whether instances of ``group`` can satisfy every ``memberOf`` expression."""
    view = group_view(group)
    for text in expressions:
        try:
            if not cql.matches(text, view):
                return False
        except (cql.CqlError, ValueError):
            continue  # E3011 reports a malformed expression
    return True


def member_of_expressions(service: dict, task_definition: dict) -> list[str]:
    """The ``memberOf`` expressions of a service (or RunTask target) and of its task definition."""
    return [c["expression"] for c in as_list(service.get("placementConstraints")) + as_list(task_definition.get("placementConstraints"))
            if isinstance(c, dict) and c.get("type") == "memberOf" and isinstance(c.get("expression"), str)]


def instance_groups_for(service: dict, task_definition: dict, ctx) -> list[tuple[int, dict]]:
    """``(index, group)`` of the service's cluster's container-instance groups its tasks may run on.

    A group is left out when a ``memberOf`` constraint (the service's or the task
    definition's) cannot match its instances.
    """
    cluster = spec_of(ctx.get("Cluster", cluster_name(service)))
    if cluster is None:
        return []
    expressions = member_of_expressions(service, task_definition)
    return [(i, g) for i, g in enumerate(as_list(cluster.get("containerInstances")))
            if isinstance(g, dict) and member_of(expressions, g)]
