"""Can a service's load balancer reach its targets through the security groups? (W8010–W8012)

The load balancer connects to each target on the port it registered: a dynamic host port
of the instance (bridge mode, ``hostPort`` 0 or omitted), a static host port, or the
container port of an awsvpc task's own network interface; and on the health check port.
The security groups of the instances (``Cluster.containerInstances[].securityGroups``) or of
the awsvpc tasks (``networkConfiguration.awsvpcConfiguration.securityGroups``) must admit
the load balancer's groups (``TargetGroup.securityGroups``) on those ports, and the load
balancer's groups must let the traffic out.  ECS accepts the service either way; the
targets then fail their health checks, and the deployment never reaches steady state.
"""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.network.target_health import (
    Target,
    blocks,
    container_mapping,
    dynamic,
    instance_target,
    task_target,
)
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.network.lookup import awsvpc_security_groups, group_index, instance_groups_for
from ecsctl.core.rules.service.refs import as_dict, as_list, network_mode, spec_of, target_group_name, task_definition_spec

ALB_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html"
ELB_SG_DOC = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html"


class _LoadBalancerAccess(Rule):
    """Shared walk over ``loadBalancers``; subclasses say which targets they check."""

    kinds = ("Service",)
    severity = Severity.WARNING

    def targets(self, spec: dict, td: dict, mapping: dict, tg: dict | None, ctx) -> list[Target]:  # pragma: no cover - interface
        raise NotImplementedError

    def check(self, spec, doc, ctx):
        if not ctx.has_kind("SecurityGroup"):
            return
        td = task_definition_spec(spec.get("taskDefinition"), ctx)
        if td is None:
            return
        index = group_index(ctx)
        for i, lb in enumerate(as_list(spec.get("loadBalancers"))):
            lb = as_dict(lb)
            ref = lb.get("targetGroupArn")
            tg = spec_of(ctx.get("TargetGroup", target_group_name(ref))) if isinstance(ref, str) else None
            lb_refs = tuple(g for g in as_list((tg or {}).get("securityGroups")) if isinstance(g, str))
            mapping = container_mapping(td, lb.get("containerName"), lb.get("containerPort"))
            if not lb_refs or mapping is None:
                continue
            name = target_group_name(ref)
            for target in self.targets(spec, td, mapping, tg, ctx):
                for block in blocks(target, lb_refs, index):
                    yield ("loadBalancers", i), f"target group '{name}': {block.message}"


def _instance_targets(spec: dict, td: dict, mapping: dict, tg: dict | None, ctx) -> list[Target]:
    """One target per distinct set of instance security groups, naming the groups that have it."""
    by_refs: dict[tuple[str, ...], list[str]] = {}
    for _, group in instance_groups_for(spec, td, ctx):
        refs = tuple(g for g in as_list(group.get("securityGroups")) if isinstance(g, str))
        if refs:
            by_refs.setdefault(refs, []).append(str(group.get("name")))
    out = []
    for refs, names in by_refs.items():
        what = ("container-instance group " if len(names) == 1 else "container-instance groups ") + ", ".join(f"'{n}'" for n in names)
        target = instance_target(td, mapping, tg, refs, what)
        if target is not None:
            out.append(target)
    return out


@register
class DynamicPortsAdmitLoadBalancer(_LoadBalancerAccess):
    """Instances running bridge tasks with dynamic host ports must admit the load balancer on the ephemeral range.

    With ``hostPort`` 0 or omitted in ``bridge`` mode, each task's container port is
    bound to a host port from the instance's ephemeral range — 32768–61000 on the
    ECS-optimized AMI, 49153–65535 where ``/proc/sys/net/ipv4/ip_local_port_range``
    is missing — and registered with the target group on that port
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html,
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html).
    The instances' security groups must admit the load balancer's security group on
    the whole range, and the load balancer's groups must allow it out
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html).
    ECS accepts the service, so this is a warning (an error under ``--strict``): the
    targets fail their health checks, tasks are replaced over and over, and the
    deployment never reaches steady state (with the circuit breaker it fails and rolls back).

    Bad::

        kind: SecurityGroup
        metadata: {name: instances}
        spec: {ipPermissions: [{ipProtocol: tcp, fromPort: 80, toPort: 80, userIdGroupPairs: [{groupId: alb}]}]}

    Good::

        spec: {ipPermissions: [{ipProtocol: tcp, fromPort: 32768, toPort: 61000, userIdGroupPairs: [{groupId: alb}]}]}
    """

    id = "W8010"
    title = "Load balancer reaches dynamic host ports through the instances' security groups"

    def targets(self, spec, td, mapping, tg, ctx):
        if network_mode(td) != "bridge" or not dynamic(mapping):
            return []
        return _instance_targets(spec, td, mapping, tg, ctx)


@register
class StaticHostPortAdmitsLoadBalancer(_LoadBalancerAccess):
    """Instances running tasks with a static host port must admit the load balancer on that port.

    A bridge-mode mapping with a fixed ``hostPort``, or any mapping in ``host`` mode
    (where the host port is the container port), is registered with the target group
    on the instance at that port, so the instances' security groups must admit the
    load balancer's security group there, and on the health check port
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html,
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html).  ECS
    accepts the service, so this is a warning: the targets never pass their health checks.

    Bad::

        portMappings: [{containerPort: 80, hostPort: 8080}]    # instances admit the ALB on 80 only

    Good::

        ipPermissions: [{ipProtocol: tcp, fromPort: 8080, toPort: 8080, userIdGroupPairs: [{groupId: alb}]}]
    """

    id = "W8011"
    title = "Load balancer reaches a static host port through the instances' security groups"

    def targets(self, spec, td, mapping, tg, ctx):
        if network_mode(td) not in ("bridge", "host") or (network_mode(td) == "bridge" and dynamic(mapping)):
            return []
        return _instance_targets(spec, td, mapping, tg, ctx)


@register
class AwsvpcTasksAdmitLoadBalancer(_LoadBalancerAccess):
    """awsvpc tasks' own security groups must admit the load balancer on the container port.

    An awsvpc task has its own network interface with the security groups of
    ``networkConfiguration.awsvpcConfiguration.securityGroups``; the target group
    (target type ``ip``) sends traffic to the container port on that interface, so
    those groups must admit the load balancer's security group on the container
    port and on the health check port
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html,
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html).
    ECS accepts the service, so this is a warning: the targets never become healthy.

    Bad::

        awsvpcConfiguration: {securityGroups: [web-tasks]}   # web-tasks admits nothing from the ALB

    Good::

        kind: SecurityGroup
        metadata: {name: web-tasks}
        spec: {ipPermissions: [{ipProtocol: tcp, fromPort: 8080, toPort: 8080, userIdGroupPairs: [{groupId: alb}]}]}
    """

    id = "W8012"
    title = "Load balancer reaches awsvpc tasks through their security groups"

    def targets(self, spec, td, mapping, tg, ctx):
        target = task_target(td, mapping, tg, tuple(awsvpc_security_groups(spec)))
        return [target] if target is not None else []
