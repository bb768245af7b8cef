"""The service model: what the ECS service scheduler derives from a service's spec.

Every rule here has exactly one copy; the local backend's controller, the plan (which runs
that controller) and the renderers all call these.

    >>> launch_type({"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]}, None)
    'FARGATE'
    >>> launch_type({}, {"defaultCapacityProviderStrategy": [{"capacityProvider": "asg"}]})
    'EC2'
    >>> desired_count({"desiredCount": 4}, before={"desiredCount": 2}, current=7)   # the manifest moved
    4
    >>> desired_count({"desiredCount": 2}, before={"desiredCount": 2}, current=7)   # scaled: kept
    7
    >>> percents({"deploymentConfiguration": {"minimumHealthyPercent": 50}})
    (50, 200)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ecsctl.core.deploy.bounds import DEFAULT_MAX_PCT, DEFAULT_MIN_PCT
from ecsctl.core.scheduling.placement import container_ports, task_definition_constraints

FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
# UpdateService fields that start a new deployment besides the task definition
# (ecs-semantics §5.4: load balancers, network, capacity providers, platform version);
# placement changes do not.
REDEPLOY_FIELDS = ("launchType", "capacityProviderStrategy", "networkConfiguration",
                   "loadBalancers", "platformVersion")
DEFAULT_DESIRED = 1  # CreateService without desiredCount (CloudFormation's default)
DAEMON_MIN_PCT, DAEMON_MAX_PCT = 0, 100  # DAEMON defaults (ecs-semantics §5.3)
_TG_ARN = re.compile(r":targetgroup/([^/]+)/")


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cluster_of(spec: dict | None) -> str:
    """The cluster a service or run names (an ARN names it last; ``default`` when none)."""
    return str((spec or {}).get("cluster") or "default").rsplit("/", 1)[-1]


def group_of(service: str) -> str:
    """The task group of a service's tasks (``service:NAME``, as CQL's ``task:group`` sees it)."""
    return f"service:{service}"


def is_daemon(spec: dict) -> bool:
    return str(spec.get("schedulingStrategy") or "REPLICA").upper() == "DAEMON"


def strategy_providers(spec: dict, cluster_spec: dict | None) -> list[dict]:
    """The capacity provider strategy a service (or run) uses: its own, else the cluster's default."""
    strategy = spec.get("capacityProviderStrategy")
    if not strategy and cluster_spec:
        strategy = cluster_spec.get("defaultCapacityProviderStrategy")
    return [s for s in strategy or () if isinstance(s, dict)]


def launch_type(spec: dict, cluster_spec: dict | None) -> str:
    """``launchType`` if given, else FARGATE when every provider of the strategy is a Fargate
    one, else EC2 (placement on the cluster's container instances)."""
    given = spec.get("launchType")
    if given:
        return str(given).upper()
    providers = {str(s.get("capacityProvider")) for s in strategy_providers(spec, cluster_spec)}
    if providers and providers <= FARGATE_PROVIDERS:
        return "FARGATE"
    return "EC2"


def desired_count(spec: dict, *, before: dict | None, current: int | None) -> int:
    """The desired count a create or update leads to.

    On create (``current`` None) the manifest's ``desiredCount`` (default 1). On update the
    manifest's value only when it differs from the last-applied one (``before``; None: not
    known, so the manifest wins); otherwise the current count, which auto scaling or a person
    may have moved (DESIGN §5: drift the plan does not fight)."""
    value = _whole(spec.get("desiredCount"))
    if current is None:
        return value if value is not None and value >= 0 else DEFAULT_DESIRED
    if before is not None and before.get("desiredCount") == spec.get("desiredCount"):
        return current
    return value if value is not None and value >= 0 else current


def starts_deployment(current_revision: str, current_spec: dict, revision: str, spec: dict, *,
                      failed: bool = False) -> bool:
    """Whether an UpdateService from (``current_revision``, ``current_spec``) to (``revision``,
    ``spec``) starts a new deployment: another revision, or a change of a REDEPLOY_FIELDS field;
    or ``failed``: the service's deployment to ``revision`` FAILED without a rollback (its older
    tasks still run), so applying the manifests again deploys it again, as ``update-service
    --force-new-deployment`` does (the plan shows it: ``app.plan.revision_changes``)."""
    return (revision != current_revision or failed
            or any(current_spec.get(k) != spec.get(k) for k in REDEPLOY_FIELDS))


def percents(spec: dict) -> tuple[int, int]:
    """``(minimumHealthyPercent, maximumPercent)`` with ECS's defaults (DAEMON: 0 and 100)."""
    conf = spec.get("deploymentConfiguration") or {}
    daemon = is_daemon(spec)
    low = _whole(conf.get("minimumHealthyPercent"))
    high = _whole(conf.get("maximumPercent"))
    if low is None:
        low = DAEMON_MIN_PCT if daemon else DEFAULT_MIN_PCT
    if high is None:
        high = DAEMON_MAX_PCT if daemon else DEFAULT_MAX_PCT
    return low, high


def circuit_breaker(spec: dict) -> tuple[bool, bool]:
    """``(enable, rollback)`` of ``deploymentConfiguration.deploymentCircuitBreaker``."""
    cb = (spec.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
    if not isinstance(cb, dict):
        return False, False
    return cb.get("enable") is True, cb.get("rollback") is True


@dataclass(frozen=True, slots=True)
class Placement:
    """What a service's (or run's) tasks are placed with: constraints (the service's and the task
    definition's memberOf) and strategies (None: the default spread of DESIGN §7)."""

    constraints: tuple[dict, ...] = ()
    strategies: tuple[dict, ...] | None = None

    @property
    def strategy_list(self) -> list[dict] | None:
        return None if self.strategies is None else list(self.strategies)


def placement(spec: dict, task_definition: dict | None) -> Placement:
    constraints = [c for c in spec.get("placementConstraints") or () if isinstance(c, dict)]
    constraints += task_definition_constraints(task_definition or {})
    strategies = tuple(s for s in spec.get("placementStrategy") or () if isinstance(s, dict)) or None
    return Placement(tuple(constraints), strategies)


def subnets(spec: dict) -> list[str]:
    """The service's (or run's) awsvpc subnets, sorted (subnet i belongs to zone i, see zones)."""
    vpc = ((spec.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {})
    return sorted(str(s) for s in vpc.get("subnets") or ())


def security_groups(spec: dict) -> list[str]:
    """The security groups the service (or run) gives its awsvpc tasks, as written (anything else
    in the way, as an unvalidated document may have it, counts as none)."""
    network = spec.get("networkConfiguration")
    vpc = network.get("awsvpcConfiguration") if isinstance(network, dict) else None
    groups = vpc.get("securityGroups") if isinstance(vpc, dict) else None
    return [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else []


def uses_awsvpc(network_mode: str, launch: str) -> bool:
    return network_mode == "awsvpc" or launch == "FARGATE"


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    """One ``loadBalancers[]`` entry: the target group as the service names it (its ARN or the
    classic load balancer's name), the target group's short name, the container and port."""

    label: str
    target_group: str
    container: str | None
    container_port: int | None


def target_group_name(lb: dict) -> str | None:
    arn = lb.get("targetGroupArn")
    if arn:
        m = _TG_ARN.search(str(arn))
        return m.group(1) if m else str(arn)
    return str(lb["loadBalancerName"]) if lb.get("loadBalancerName") else None


def load_balancers(spec: dict) -> list[LoadBalancer]:
    out = []
    for lb in spec.get("loadBalancers") or ():
        if not isinstance(lb, dict):
            continue
        tg = target_group_name(lb)
        if tg is None:
            continue
        port = _whole(lb.get("containerPort"))
        container = lb.get("containerName")
        out.append(LoadBalancer(str(lb.get("targetGroupArn") or tg), tg,
                                str(container) if container is not None else None, port))
    return out


def port_index(task_definition: dict, container: str | None, container_port: int | None) -> int | None:
    """Index, among the task's port needs (``TaskDemand.ports`` order), of ``container``'s mapping
    of ``container_port`` (None: no such mapping, or network mode ``none``)."""
    if task_definition.get("networkMode") == "none" or container_port is None:
        return None
    index = 0
    for c in task_definition.get("containerDefinitions") or ():
        for m in (c.get("portMappings") or ()) if isinstance(c, dict) else ():
            if not isinstance(m, dict):
                continue
            for port in container_ports(m):
                if (container is None or c.get("name") == container) and port == container_port:
                    return index
                index += 1
    return None


__all__ = [
    "DEFAULT_DESIRED",
    "FARGATE_PROVIDERS",
    "REDEPLOY_FIELDS",
    "LoadBalancer",
    "Placement",
    "circuit_breaker",
    "cluster_of",
    "desired_count",
    "group_of",
    "is_daemon",
    "launch_type",
    "load_balancers",
    "percents",
    "placement",
    "security_groups",
    "port_index",
    "starts_deployment",
    "strategy_providers",
    "subnets",
    "target_group_name",
    "uses_awsvpc",
]
