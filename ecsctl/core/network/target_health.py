"""Whether a load balancer can reach a service's targets through the security groups.

A load balancer connects to each target on the port it registered (ECS load balancing,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html):

* ``bridge`` mode with ``hostPort`` 0 or omitted: a dynamic host port of the instance, from its
  ephemeral range (``EPHEMERAL_PORTS``), so the instances' security groups must admit the load
  balancer's on the whole range;
* ``bridge`` with a fixed ``hostPort``, or ``host`` mode: that port on the instance;
* ``awsvpc``: the container port on the task's own network interface, whose security groups are
  the service's ``awsvpcConfiguration.securityGroups``;

and on the target group's health check port when it is not ``traffic-port``.  The target's
groups must admit the load balancer's groups there, and the load balancer's groups must let the
traffic out.  When they do not, the targets fail their health checks: ECS stops each such task
("Task failed ELB health checks in (target-group …)") and starts another, which fails alike.

``validate`` warns about it (W8010–W8012, ``core.rules.network.load_balancer_access``); the
simulation fails the tasks (``backends.local.controller``).  Both ask :func:`blocks`::

    >>> from ecsctl.core.network.security_groups import GroupIndex
    >>> index = GroupIndex([("alb", {"groupId": "sg-alb"}), ("instances", {"ipPermissions": []})])
    >>> td = {"networkMode": "bridge", "containerDefinitions": [{"name": "web", "portMappings": [{"containerPort": 80}]}]}
    >>> target = instance_target(td, container_mapping(td, "web", 80), {}, ("instances",), "container-instance group 'a'")
    >>> [b.fix for b in blocks(target, ("alb",), index)]
    ['allow tcp 32768–61000 from alb on instances']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from ecsctl.core.network.security_groups import (
    EPHEMERAL_PORTS,
    FALLBACK_EPHEMERAL_PORTS,
    GroupIndex,
    Ports,
    describe_ports,
    load_balancer_fixes,
)

EPHEMERAL_NOTE = (f"{describe_ports([FALLBACK_EPHEMERAL_PORTS])} on instances without "
                  "/proc/sys/net/ipv4/ip_local_port_range")


@dataclass(frozen=True)
class Target:
    """Where one load balancer entry sends traffic: ``ports`` on the security groups ``refs``."""

    what: str  # "container-instance group 'general-a'" or "the service's awsvpc tasks"
    refs: tuple[str, ...]
    ports: tuple[tuple[Ports, str], ...]  # (ports, description), the health check port last
    protocol: str


@dataclass(frozen=True)
class Block:
    """What one closed path keeps shut: the fix (``allow tcp 32768–61000 from alb on instances``)
    and the sentence that explains it."""

    egress: bool
    fix: str
    problem: str  # "the security groups of … do not admit the load balancer's group alb on …"
    note: str = ""

    @property
    def message(self) -> str:
        return f"{self.problem}: {self.fix}{self.note}"


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def container_mapping(td: Mapping[str, Any], container: Any, port: Any) -> dict | None:
    """The port mapping of ``container`` for ``port`` in the task definition ``td``, or None."""
    for c in _list(td.get("containerDefinitions")):
        if isinstance(c, dict) and c.get("name") == container:
            for m in _list(c.get("portMappings")):
                if isinstance(m, dict) and m.get("containerPort") == port:
                    return m
    return None


def network_mode(td: Mapping[str, Any]) -> str:
    return str(td.get("networkMode") or "bridge")


def protocol_of(mapping: Mapping[str, Any]) -> str:
    return str(mapping.get("protocol") or "tcp").lower()


def dynamic(mapping: Mapping[str, Any]) -> bool:
    return mapping.get("hostPort") in (None, 0)


def instance_traffic(td: Mapping[str, Any], mapping: Mapping[str, Any]) -> tuple[Ports, str] | None:
    """The ports a load balancer reaches an instance's task on, or None (awsvpc, or no host port)."""
    mode = network_mode(td)
    if mode == "bridge" and dynamic(mapping):
        return EPHEMERAL_PORTS, f"the ephemeral port range {describe_ports([EPHEMERAL_PORTS])}"
    if mode == "bridge":
        port = mapping.get("hostPort")
    elif mode == "host":
        port = mapping.get("hostPort") or mapping.get("containerPort")
    else:
        return None
    return (port, f"host port {port}") if isinstance(port, int) else None


def health_check_ports(target_group: Mapping[str, Any] | None, traffic: Ports) -> list[tuple[Ports, str]]:
    """The health check port, when the target group checks another port than the traffic's."""
    check = (target_group or {}).get("healthCheck")
    port = check.get("port", "traffic-port") if isinstance(check, dict) else "traffic-port"
    if str(port).isdigit() and int(port) != traffic:
        return [(int(port), "the health check port")]
    return []


def instance_target(td: Mapping[str, Any], mapping: Mapping[str, Any], target_group: Mapping[str, Any] | None,
                    refs: tuple[str, ...], what: str) -> Target | None:
    """The target an instance of security groups ``refs`` presents, or None (not instance-mode)."""
    traffic = instance_traffic(td, mapping)
    if traffic is None or not refs:
        return None
    return Target(what, refs, (traffic, *health_check_ports(target_group, traffic[0])), protocol_of(mapping))


def task_target(td: Mapping[str, Any], mapping: Mapping[str, Any], target_group: Mapping[str, Any] | None,
                refs: tuple[str, ...]) -> Target | None:
    """The target an awsvpc task of security groups ``refs`` presents, or None."""
    port = mapping.get("containerPort")
    if network_mode(td) != "awsvpc" or not refs or not isinstance(port, int):
        return None
    return Target("the service's awsvpc tasks", refs,
                  ((port, f"container port {port}"), *health_check_ports(target_group, port)), protocol_of(mapping))


def blocks(target: Target, lb_refs: tuple[str, ...], index: GroupIndex) -> Iterator[Block]:
    """What the target's groups and the load balancer's groups leave closed (nothing when a group is
    not in ``index``: it might admit anything)."""
    lb = lb_refs[0]
    for ports, description in target.ports:
        for egress, fix in load_balancer_fixes(index, lb_refs, target.refs, target.protocol, ports) or ():
            if egress:
                yield Block(egress, fix, f"the load balancer's security groups ({', '.join(lb_refs)}) do not let its "
                                         f"traffic out to {target.what} on {description}")
            else:
                yield Block(egress, fix, f"the security groups of {target.what} ({', '.join(target.refs)}) do not admit "
                                         f"the load balancer's group {lb} on {description}",
                            f" ({EPHEMERAL_NOTE})" if ports == EPHEMERAL_PORTS else "")


__all__ = ["EPHEMERAL_NOTE", "Block", "Target", "blocks", "container_mapping", "dynamic", "health_check_ports",
           "instance_target", "instance_traffic", "network_mode", "protocol_of", "task_target"]
