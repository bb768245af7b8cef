"""A service's load balancers against its task definition and target groups (ecs-semantics §5.5)."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import as_dict, as_list, network_mode, spec_of, target_group_name, task_definition_spec

MAX_TARGET_GROUPS = 5


def _entries(spec: dict):
    for i, lb in enumerate(as_list(spec.get("loadBalancers"))):
        if isinstance(lb, dict):
            yield i, lb


def _container(td: dict, name):
    for c in as_list(td.get("containerDefinitions")):
        if isinstance(c, dict) and c.get("name") == name:
            return c
    return None


def _mapping(container: dict, port):
    for m in as_list(container.get("portMappings")):
        if isinstance(m, dict) and m.get("containerPort") == port:
            return m
    return None


def _target_group(lb: dict, ctx) -> dict | None:
    ref = lb.get("targetGroupArn")
    return spec_of(ctx.get("TargetGroup", target_group_name(ref))) if isinstance(ref, str) and ref else None


@register
class LoadBalancerContainer(Rule):
    """``loadBalancers[].containerName``/``containerPort`` must be a container and one of its port mappings.

    ECS registers the task's container port with the target group; the port has
    to be a ``portMappings[].containerPort`` of the named container in the
    service's task definition.

    Bad::

        loadBalancers: [{targetGroupArn: web, containerName: web, containerPort: 8080}]   # web maps port 80

    Good::

        loadBalancers: [{targetGroupArn: web, containerName: web, containerPort: 80}]
    """

    id = "E3012"
    title = "Load balancer container and port must exist in the task definition"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        entries = list(_entries(spec))
        td = task_definition_spec(spec.get("taskDefinition"), ctx) if entries else None
        if td is None:
            return
        for i, lb in entries:
            name, port = lb.get("containerName"), lb.get("containerPort")
            container = _container(td, name)
            if container is None:
                yield ("loadBalancers", i, "containerName"), f"container '{name}' is not in task definition '{spec.get('taskDefinition')}'"
            elif _mapping(container, port) is None:
                ports = [m.get("containerPort") for m in as_list(container.get("portMappings")) if isinstance(m, dict)]
                have = ", ".join(str(p) for p in ports) if ports else "none"
                yield ("loadBalancers", i, "containerPort"), f"container '{name}' has no port mapping for containerPort {port} (it maps: {have})"


@register
class TargetTypeMatchesNetworkMode(Rule):
    """Target groups of awsvpc tasks use target type ``ip``; bridge and host tasks use ``instance``.

    An awsvpc task has its own ENI and is registered by IP address; a bridge or
    host task is registered as instance id and host port.

    Bad::

        kind: TargetGroup
        spec: {port: 80, protocol: HTTP, targetType: instance}    # used by an awsvpc service

    Good::

        spec: {port: 80, protocol: HTTP, targetType: ip}
    """

    id = "E3013"
    title = "Target group targetType must match the network mode"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        entries = list(_entries(spec))
        td = task_definition_spec(spec.get("taskDefinition"), ctx) if entries else None
        if td is None:
            return
        mode = network_mode(td)
        want = "ip" if mode == "awsvpc" else "instance" if mode in ("bridge", "host") else None
        if want is None:
            return
        for i, lb in entries:
            tg = _target_group(lb, ctx)
            if tg is None:
                continue
            got = tg.get("targetType", "instance")
            if got != want:
                yield ("loadBalancers", i, "targetGroupArn"), f"networkMode '{mode}' needs a target group with targetType '{want}', and '{target_group_name(lb['targetGroupArn'])}' has '{got}'"


@register
class DynamicPortHealthCheck(Rule):
    """With a dynamic host port the target group health check must use ``traffic-port``.

    In bridge mode a mapping with ``hostPort`` 0 or omitted gets a random port
    from the ephemeral range; only ``traffic-port`` follows it.  A fixed
    health-check port would probe a port no task listens on (cfn-lint E3049).

    Bad::

        spec: {targetType: instance, healthCheck: {port: "8080"}}

    Good::

        spec: {targetType: instance, healthCheck: {port: traffic-port}}
    """

    id = "E3014"
    title = "Dynamic host ports need a traffic-port health check"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        entries = list(_entries(spec))
        td = task_definition_spec(spec.get("taskDefinition"), ctx) if entries else None
        if td is None or network_mode(td) != "bridge":
            return
        for i, lb in entries:
            container = _container(td, lb.get("containerName"))
            mapping = _mapping(container, lb.get("containerPort")) if container else None
            if mapping is None or mapping.get("hostPort") not in (None, 0):
                continue
            tg = _target_group(lb, ctx)
            port = as_dict(tg.get("healthCheck")).get("port", "traffic-port") if tg else "traffic-port"
            if str(port) != "traffic-port":
                yield ("loadBalancers", i, "targetGroupArn"), f"container port {lb.get('containerPort')} uses a dynamic host port, so target group health check port must be 'traffic-port', not '{port}'"


@register
class LoadBalancerLimits(Rule):
    """At most 5 target groups per service, and ``healthCheckGracePeriodSeconds`` only with a load balancer.

    The grace period tells the scheduler to ignore load balancer health checks
    for a while after a task starts; without a load balancer ECS rejects it
    (cfn-lint ``healthcheckgraceperiodseconds.json``).  Use the container health
    check's ``startPeriod`` instead.

    Bad::

        spec: {healthCheckGracePeriodSeconds: 60}          # no loadBalancers

    Good::

        spec: {healthCheckGracePeriodSeconds: 60, loadBalancers: [{targetGroupArn: web, containerName: web, containerPort: 80}]}
    """

    id = "E3015"
    title = "At most 5 load balancers; health check grace period needs one"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        lbs = as_list(spec.get("loadBalancers"))
        if len(lbs) > MAX_TARGET_GROUPS:
            yield ("loadBalancers",), f"a service takes at most {MAX_TARGET_GROUPS} target groups, not {len(lbs)}"
        if spec.get("healthCheckGracePeriodSeconds") is not None and not lbs:
            yield ("healthCheckGracePeriodSeconds",), "healthCheckGracePeriodSeconds is only valid for services configured to use load balancers"
