"""Canonical forms: what a spec means, written one way, so that diffs only show real changes.

``canonical(kind, name, spec)`` returns a new spec (the input is never mutated) in which

* **defaults are filled in** — the policy is *fill*, never *drop*: a field that ECS (or
  ELB, Application Auto Scaling, …) would report with its default value when it was
  omitted is written out with that value, e.g. ``essential: true``, ``protocol: tcp``,
  ``healthCheck.retries: 3``, ``deploymentConfiguration.maximumPercent: 200``.  So a
  manifest that spells out the default and one that omits it plan to the same thing, and
  the canonical spec shows what the resource will really look like (Terraform's provider
  and ecspresso make the same choice, peers.md §1.4, §6.7);
* **units are normalised** — task ``cpu``/``memory`` become strings of integer CPU units /
  MiB (``"0.5 vCPU"`` → ``"512"``, ``1024`` → ``"1024"``, ``"1GB"`` → ``"1024"``), the
  shape RegisterTaskDefinition responses use;
* **order-insensitive lists are sorted** by a stable key (``environment`` by name,
  ``portMappings`` by containerPort and protocol, containers by name, subnets, …) with the
  item's JSON encoding as the final tie-break, so any permutation sorts the same way.
  Order-*sensitive* lists (``command``, ``entryPoint``, ``healthCheck.command``,
  ``dnsServers``, ``dnsSearchDomains``, ``links``, ``placementStrategy``) are never
  reordered — no rule names them;
* **empty values are removed** — ``None``, ``[]`` and ``{}`` (and such items inside lists)
  mean "absent" in ECS (``environment: []`` is no environment), so they are dropped
  everywhere, before and after the rules.

Every normalisation is one named, documented :class:`Rule` in :data:`RULES` (per kind, per
path).  Rules run in table order, except that ``sort`` rules run after every ``fill`` rule
and deepest path first, so a sort's JSON tie-break sees contents already in canonical form.
``canonical`` is idempotent: ``canonical(k, n, canonical(k, n, s)) == canonical(k, n, s)``.

Paths: dot-separated keys; ``[]`` stands for every item of a list, e.g.
``containerDefinitions[].portMappings[]``.  A rule whose path ends in a key that is absent
still runs (it may fill a default); a missing intermediate key skips the rule.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from typing import Any, Callable

from ecsctl.core.units import try_cpu, try_memory

__all__ = ["MISSING", "RULES", "Ctx", "Rule", "apply_rule", "canonical", "no_alarms", "prune", "prune_spec", "rules_for",
           "sort_key"]


class _Missing:
    """An absent key (distinct from an explicit ``None``); a rule returns it to delete a key."""

    _instance = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(slots=True)
class Ctx:
    """What a rule may look at besides its own value: the resource and its whole spec so far
    (``canonical`` moves ``root`` on after each rule)."""

    kind: str
    name: str
    root: dict


Fn = Callable[[Any, Ctx], Any]


@dataclass(frozen=True)
class Rule:
    """One normalisation: ``fn(value, ctx)`` returns the new value at ``path`` in specs of ``kind``.

    ``phase`` is ``fill`` (defaults, units, identities) or ``sort`` (order-insensitive lists).
    """

    id: str
    kind: str
    path: str
    fn: Fn
    doc: str
    phase: str = "fill"

    @property
    def parts(self) -> tuple[str, ...]:
        return _split(self.path)


# --------------------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=None)
def _split(path: str) -> tuple[str, ...]:
    """``"a[].b"`` → ``("a", "[]", "b")``."""
    return tuple(p for p in path.replace("[]", ".[]").split(".") if p)


def _rank(value: Any) -> tuple:
    """A total order over JSON values: None < numbers < strings < everything else (by JSON)."""
    if value is None or value is MISSING:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, _json(value))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def sort_key(*fields: str) -> Callable[[Any], tuple]:
    """Key for a list of objects: the named fields in order, then the whole item's JSON."""

    def key(item: Any) -> tuple:
        if isinstance(item, dict):
            return tuple(_rank(item.get(f)) for f in fields) + (_ByJSON(item),)
        return tuple(_rank(None) for _ in fields) + (_ByJSON(item),)

    return key


class _ByJSON:
    """A sort key's last part, the item's JSON, made only when the fields before it tie (they
    rarely do: names, container names …), since JSON-encoding every item is most of a sort."""

    __slots__ = ("item", "_text")

    def __init__(self, item: Any) -> None:
        self.item, self._text = item, None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _json(self.item)
        return self._text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByJSON) and self.text == other.text

    def __lt__(self, other: "_ByJSON") -> bool:
        return self.text < other.text

    __hash__ = None  # type: ignore[assignment]


def sort_by(*fields: str) -> Fn:
    """Sort a list of objects by ``fields`` (then by JSON); anything but a list is left alone."""
    key = sort_key(*fields)

    def fn(value: Any, ctx: Ctx) -> Any:
        return _sorted(value, key) if isinstance(value, list) else value

    return fn


def _sorted(value: list, key: Callable[[Any], Any]) -> list:
    """``sorted(value, key=key)``, or ``value`` itself when it is in order already (a canonical
    spec canonicalised again, as every plan does to the stored ones, copies nothing)."""
    if len(value) < 2:
        return value
    out = sorted(value, key=key)
    return value if all(a is b for a, b in zip(out, value)) else out


def sort_values(value: Any, ctx: Ctx) -> Any:
    """Sort a list of scalars (a set in disguise)."""
    return _sorted(value, _scalar_key) if isinstance(value, list) else value


def _scalar_key(v: Any) -> tuple:
    return _rank(v), _json(v)


def defaults(create: bool = False, **values: Any) -> Fn:
    """Fill absent keys of an object with ``values``; with ``create`` an absent object is created."""

    def fn(value: Any, ctx: Ctx) -> Any:
        if value is MISSING and create:
            value = {}
        if not isinstance(value, dict):
            return value
        if all(value.get(k) is not None for k in values):
            return value  # nothing to fill: no copy
        out = dict(value)
        for k, v in values.items():
            if out.get(k) is None:
                out[k] = copy.deepcopy(v)
        return out

    return fn


def default(v: Any) -> Fn:
    """Fill an absent scalar with ``v``."""

    def fn(value: Any, ctx: Ctx) -> Any:
        return v if value is MISSING or value is None else value

    return fn


def prune(value: Any) -> Any:
    """Drop ``None``, empty lists and empty objects, recursively (also as list items)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():  # the same filter as the list's below, written out: every plan prunes every spec twice
            if isinstance(v, (dict, list)):
                v = prune(v)
                if not v:
                    continue
            elif v is None or v is MISSING:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        items = []
        for v in value:
            if isinstance(v, (dict, list)):
                v = prune(v)
                if not v:
                    continue
            elif v is None or v is MISSING:
                continue
            items.append(v)
        return items
    return value


def _last_segment(value: str, sep: str) -> str:
    return value.rsplit(sep, 1)[-1]


# --------------------------------------------------------------------------- rule functions


def _family_from_name(value: Any, ctx: Ctx) -> Any:
    """``family`` defaults to ``metadata.name`` (DESIGN §3)."""
    return ctx.name if value is MISSING or value is None else value


def _cpu_units(value: Any, ctx: Ctx) -> Any:
    """Task cpu → string of integer CPU units; unparseable values are left for validation."""
    units = try_cpu(value)
    return value if units is None or value == str(units) else str(units)  # the same object if already so


def _memory_mib(value: Any, ctx: Ctx) -> Any:
    """Task memory → string of integer MiB; unparseable values are left for validation."""
    mib = try_memory(value)
    return value if mib is None or value == str(mib) else str(mib)


def _is_windows(root: dict) -> bool:
    platform = root.get("runtimePlatform")
    family = platform.get("operatingSystemFamily") if isinstance(platform, dict) else None
    return isinstance(family, str) and family.upper().startswith("WINDOWS")


def _network_mode(value: Any, ctx: Ctx) -> Any:
    """Absent networkMode is ``bridge`` on Linux; Windows's ``default`` is not written (not in the schema)."""
    if value is MISSING or value is None:
        return MISSING if _is_windows(ctx.root) else "bridge"
    return value


def _host_port(value: Any, ctx: Ctx) -> Any:
    """hostPort: absent under awsvpc/host means ``containerPort``; under bridge it means 0 (dynamic)."""
    if not isinstance(value, dict) or value.get("hostPort") is not None or value.get("containerPort") is None:
        return value
    mode = ctx.root.get("networkMode")
    if mode in ("awsvpc", "host"):
        return {**value, "hostPort": value["containerPort"]}
    if mode in ("bridge", "default"):
        return {**value, "hostPort": 0}
    return value


def _cluster_name(value: Any, ctx: Ctx) -> Any:
    """Cluster: absent → ``default``; ``arn:aws:ecs:…:cluster/NAME`` → ``NAME``."""
    if value is MISSING or value is None:
        return "default"
    if isinstance(value, str) and value.startswith("arn:") and "/" in value:
        return _last_segment(value, "/")
    return value


def _task_definition_ref(value: Any, ctx: Ctx) -> Any:
    """taskDefinition: family or family:revision kept; ``arn:…:task-definition/F:R`` → ``F:R``."""
    if isinstance(value, str) and value.startswith("arn:") and ":task-definition/" in value:
        return value.split(":task-definition/", 1)[1]
    return value


def _scheduling_strategy(root: dict) -> str:
    return root.get("schedulingStrategy") or "REPLICA"


def _desired_count(value: Any, ctx: Ctx) -> Any:
    """desiredCount defaults to 1 for REPLICA services (DAEMON ignores it: left as given)."""
    if (value is MISSING or value is None) and _scheduling_strategy(ctx.root) == "REPLICA":
        return 1
    return value


def _controller_type(root: dict) -> str:
    controller = root.get("deploymentController")
    return (controller.get("type") if isinstance(controller, dict) else None) or "ECS"


def no_alarms(alarms: Any) -> bool:
    """A deployment ``alarms`` block that watches nothing: disabled, no rollback, no alarm names
    (DescribeServices reports ``{"alarmNames": [], "enable": false, "rollback": false}`` for a
    service created without one); the same as none."""
    return (isinstance(alarms, dict) and not alarms.get("alarmNames") and alarms.get("enable") in (False, None)
            and alarms.get("rollback") in (False, None))


def _deployment_configuration(value: Any, ctx: Ctx) -> Any:
    """min/max percent 100/200 (REPLICA) or 0/100 (DAEMON); ECS controller: circuit breaker off, ROLLING."""
    if value is MISSING or value is None:
        value = {}
    if not isinstance(value, dict):
        return value
    daemon = _scheduling_strategy(ctx.root) == "DAEMON"
    out = dict(value)
    if no_alarms(out.get("alarms")):
        del out["alarms"]  # what DescribeServices reports for a service without deployment alarms
    out.setdefault("minimumHealthyPercent", 0 if daemon else 100)
    out.setdefault("maximumPercent", 100 if daemon else 200)
    if _controller_type(ctx.root) == "ECS":
        breaker = out.get("deploymentCircuitBreaker")
        if breaker is None:
            breaker = {}
        if isinstance(breaker, dict):
            out["deploymentCircuitBreaker"] = {"enable": False, "rollback": False, **breaker}
        out.setdefault("strategy", "ROLLING")
    return out


def _fargate_platform_version(value: Any, ctx: Ctx) -> Any:
    """A FARGATE launch type without platformVersion runs ``LATEST`` (ecspresso does the same)."""
    if (value is MISSING or value is None) and ctx.root.get("launchType") == "FARGATE":
        return "LATEST"
    return value


def _string(value: Any, ctx: Ctx) -> Any:
    """Integers written as strings (the API reports e.g. a health-check port as a string)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_HTTP = ("HTTP", "HTTPS")


def _tg_health_check(value: Any, ctx: Ctx) -> Any:
    """ELB health-check defaults for the target group's protocol (a target group always has one)."""
    if value is MISSING or value is None:
        value = {}
    if not isinstance(value, dict):
        return value
    protocol = ctx.root.get("protocol") or "HTTP"
    http = protocol in _HTTP
    fill: dict[str, Any] = {
        "enabled": True,
        "port": "traffic-port",
        "protocol": protocol if http else "TCP",
        "intervalSeconds": 30,
        "timeoutSeconds": 5 if http else 10,
        "healthyThresholdCount": 5,
        "unhealthyThresholdCount": 2,
    }
    out = dict(value)
    if http or out.get("protocol") in _HTTP:
        fill["path"] = "/"
        fill["matcher"] = "200"
    for k, v in fill.items():
        if out.get(k) is None:
            out[k] = v
    if isinstance(out.get("port"), int) and not isinstance(out.get("port"), bool):
        out["port"] = str(out["port"])
    if isinstance(out.get("matcher"), dict) and set(out["matcher"]) == {"httpCode"}:
        out["matcher"] = out["matcher"]["httpCode"]
    return out


def _step_bound(item: Any) -> tuple:
    """Step adjustments by lower bound (absent = -infinity), then upper bound (absent = +infinity)."""
    if not isinstance(item, dict):
        return (1, 0.0, 0.0, _json(item))
    lower = item.get("metricIntervalLowerBound")
    upper = item.get("metricIntervalUpperBound")
    lo = float("-inf") if not isinstance(lower, (int, float)) else float(lower)
    hi = float("inf") if not isinstance(upper, (int, float)) else float(upper)
    return (0, lo, hi, _json(item))


def _sort_steps(value: Any, ctx: Ctx) -> Any:
    return sorted(value, key=_step_bound) if isinstance(value, list) else value


def _event_pattern(value: Any, ctx: Ctx) -> Any:
    """EventBridge pattern arrays are "any of" sets: every array in the pattern is sorted, except
    a ``numeric`` filter's, which is operator-value pairs in order (``[">=", 0, "<", 5]``)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (v if k == "numeric" and isinstance(v, list) else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            items = [walk(v) for v in node]
            return sorted(items, key=lambda v: (_rank(v), _json(v)))
        return node

    return walk(value) if isinstance(value, dict) else value


# --------------------------------------------------------------------------- the table


def _r(kind: str, path: str, fn: Fn, doc: str, rid: str | None = None, phase: str = "fill") -> Rule:
    return Rule(id=rid or f"{kind}:{path}", kind=kind, path=path, fn=fn, doc=doc, phase=phase)


def _s(kind: str, path: str, fn: Fn, doc: str) -> Rule:
    return _r(kind, path, fn, doc, rid=f"{kind}:sort:{path}", phase="sort")


_TD = "TaskDefinition"
_C = "containerDefinitions[]"
_SVC = "Service"
_ST = "ScheduledTask"

RULES: tuple[Rule, ...] = (
    # ---------------------------------------------------------------- TaskDefinition: fill
    _r(_TD, "family", _family_from_name, "family defaults to metadata.name"),
    _r(_TD, "cpu", _cpu_units, "task cpu: '0.5 vCPU', 512 or '512' → '512' (CPU units, as a string)"),
    _r(_TD, "memory", _memory_mib, "task memory: '1GB', 1024 or '1024' → '1024' (MiB, as a string)"),
    _r(_TD, "networkMode", _network_mode, "networkMode defaults to bridge (Linux)"),
    _r(_TD, f"{_C}.essential", default(True), "container essential defaults to true"),
    _r(_TD, f"{_C}.cpu", default(0), "container cpu defaults to 0 (what DescribeTaskDefinition reports)"),
    _r(_TD, f"{_C}.portMappings[].protocol", default("tcp"), "port mapping protocol defaults to tcp"),
    _r(_TD, f"{_C}.portMappings[]", _host_port, "hostPort defaults to containerPort (awsvpc/host) or 0 (bridge: dynamic)", rid=f"{_TD}:{_C}.portMappings[].hostPort"),
    _r(_TD, f"{_C}.healthCheck", defaults(interval=30, timeout=5, retries=3), "health check interval 30 s, timeout 5 s, retries 3"),
    _r(_TD, f"{_C}.mountPoints[].readOnly", default(False), "mount point readOnly defaults to false"),
    _r(_TD, f"{_C}.volumesFrom[].readOnly", default(False), "volumesFrom readOnly defaults to false"),
    _r(_TD, "volumes[].efsVolumeConfiguration", defaults(rootDirectory="/", transitEncryption="DISABLED"), "EFS volume: rootDirectory '/', transitEncryption DISABLED"),
    # ---------------------------------------------------------------- TaskDefinition: sort
    _s(_TD, f"{_C}.environment", sort_by("name"), "environment variables by name"),
    _s(_TD, f"{_C}.secrets", sort_by("name"), "secrets by name"),
    _s(_TD, f"{_C}.portMappings", sort_by("containerPort", "protocol", "containerPortRange"), "port mappings by containerPort, protocol"),
    _s(_TD, f"{_C}.mountPoints", sort_by("containerPath", "sourceVolume"), "mount points by containerPath"),
    _s(_TD, f"{_C}.volumesFrom", sort_by("sourceContainer"), "volumesFrom by sourceContainer"),
    _s(_TD, f"{_C}.ulimits", sort_by("name"), "ulimits by name"),
    _s(_TD, f"{_C}.systemControls", sort_by("namespace"), "systemControls by namespace"),
    _s(_TD, f"{_C}.extraHosts", sort_by("hostname", "ipAddress"), "extraHosts by hostname"),
    _s(_TD, f"{_C}.dependsOn", sort_by("containerName"), "dependsOn by containerName"),
    _s(_TD, f"{_C}.resourceRequirements", sort_by("type"), "resource requirements by type"),
    _s(_TD, f"{_C}.logConfiguration.secretOptions", sort_by("name"), "log secretOptions by name"),
    _s(_TD, f"{_C}.linuxParameters.capabilities.add", sort_values, "added capabilities as a set"),
    _s(_TD, f"{_C}.linuxParameters.capabilities.drop", sort_values, "dropped capabilities as a set"),
    _s(_TD, f"{_C}.linuxParameters.devices", sort_by("hostPath", "containerPath"), "devices by hostPath"),
    _s(_TD, f"{_C}.linuxParameters.tmpfs", sort_by("containerPath"), "tmpfs mounts by containerPath"),
    _s(_TD, f"{_C}.restartPolicy.ignoredExitCodes", sort_values, "ignored exit codes as a set"),
    _s(_TD, "containerDefinitions", sort_by("name"), "containers by name (container order means nothing to ECS)"),
    _s(_TD, "volumes", sort_by("name"), "volumes by name"),
    _s(_TD, "requiresCompatibilities", sort_values, "requiresCompatibilities as a set"),
    _s(_TD, "placementConstraints", sort_by("type", "expression"), "placement constraints by type, expression"),
    _s(_TD, "inferenceAccelerators", sort_by("deviceName"), "inference accelerators by deviceName"),
    _s(_TD, "proxyConfiguration.properties", sort_by("name"), "proxy properties by name"),
    _s(_TD, "tags", sort_by("key"), "tags by key"),
    # ---------------------------------------------------------------- Service: fill
    _r(_SVC, "cluster", _cluster_name, "cluster defaults to 'default'; a cluster ARN becomes its name"),
    _r(_SVC, "taskDefinition", _task_definition_ref, "taskDefinition kept as family or family:revision; an ARN becomes family:revision"),
    _r(_SVC, "schedulingStrategy", default("REPLICA"), "schedulingStrategy defaults to REPLICA"),
    _r(_SVC, "desiredCount", _desired_count, "desiredCount defaults to 1 for REPLICA"),
    _r(_SVC, "deploymentController", defaults(create=True, type="ECS"), "deploymentController.type defaults to ECS"),
    _r(_SVC, "deploymentConfiguration", _deployment_configuration, "min/max percent 100/200 (DAEMON 0/100); circuit breaker off; strategy ROLLING"),
    _r(_SVC, "platformVersion", _fargate_platform_version, "Fargate platformVersion defaults to LATEST"),
    _r(_SVC, "healthCheckGracePeriodSeconds", default(0), "healthCheckGracePeriodSeconds defaults to 0"),
    _r(_SVC, "enableECSManagedTags", default(False), "enableECSManagedTags defaults to false"),
    _r(_SVC, "enableExecuteCommand", default(False), "enableExecuteCommand defaults to false"),
    _r(_SVC, "propagateTags", default("NONE"), "propagateTags defaults to NONE"),
    _r(_SVC, "networkConfiguration.awsvpcConfiguration.assignPublicIp", default("DISABLED"), "assignPublicIp defaults to DISABLED"),
    _r(_SVC, "capacityProviderStrategy[]", defaults(base=0, weight=0), "capacity provider base and weight default to 0 (API default)"),
    _r(_SVC, "autoScaling.targetTracking[]", defaults(scaleOutCooldown=300, scaleInCooldown=300, disableScaleIn=False), "target tracking: cooldowns 300 s, disableScaleIn false"),
    _r(_SVC, "autoScaling.stepScaling[]", defaults(cooldown=300, metricAggregationType="Average"), "step scaling: cooldown 300 s, metricAggregationType Average"),
    _r(_SVC, "autoScaling.scheduled[].timezone", default("UTC"), "scheduled action timezone defaults to UTC"),
    # ---------------------------------------------------------------- Service: sort
    _s(_SVC, "placementConstraints", sort_by("type", "expression"), "placement constraints by type, expression (placementStrategy is order-sensitive: kept)"),
    _s(_SVC, "networkConfiguration.awsvpcConfiguration.subnets", sort_values, "subnets as a set"),
    _s(_SVC, "networkConfiguration.awsvpcConfiguration.securityGroups", sort_values, "security groups as a set"),
    _s(_SVC, "loadBalancers", sort_by("targetGroupArn", "loadBalancerName", "containerName", "containerPort"), "load balancers by target group, container, port"),
    _s(_SVC, "serviceRegistries", sort_by("registryArn", "containerName", "containerPort"), "service registries by registryArn"),
    _s(_SVC, "capacityProviderStrategy", sort_by("capacityProvider"), "capacity provider strategy by provider (the split depends on base/weight, not order)"),
    _s(_SVC, "deploymentConfiguration.alarms.alarmNames", sort_values, "deployment alarm names as a set"),
    _s(_SVC, "autoScaling.stepScaling[].stepAdjustments", _sort_steps, "step adjustments by interval bounds"),
    _s(_SVC, "autoScaling.stepScaling[].alarm.dimensions", sort_by("name"), "alarm dimensions by name"),
    _s(_SVC, "autoScaling.targetTracking", sort_by("policyName"), "target tracking policies by policyName"),
    _s(_SVC, "autoScaling.stepScaling", sort_by("policyName"), "step scaling policies by policyName"),
    _s(_SVC, "autoScaling.scheduled", sort_by("scheduledActionName"), "scheduled actions by scheduledActionName"),
    _s(_SVC, "tags", sort_by("key"), "tags by key"),
    # ---------------------------------------------------------------- Cluster
    _s("Cluster", "containerInstances", sort_by("name"), "container instance groups by name"),
    _s("Cluster", "capacityProviders", sort_values, "capacity providers as a set"),
    _s("Cluster", "defaultCapacityProviderStrategy", sort_by("capacityProvider"), "default strategy by provider"),
    _r("Cluster", "defaultCapacityProviderStrategy[]", defaults(base=0, weight=0), "default strategy base and weight default to 0"),
    _s("Cluster", "settings", sort_by("name"), "settings by name"),
    _s("Cluster", "tags", sort_by("key"), "tags by key"),
    # ---------------------------------------------------------------- CapacityProvider
    _r("CapacityProvider", "autoScalingGroupProvider.managedScaling", defaults(targetCapacity=100, minimumScalingStepSize=1, maximumScalingStepSize=10000, instanceWarmupPeriod=300), "managed scaling: target 100, steps 1..10000, warm-up 300 s"),
    _r("CapacityProvider", "autoScalingGroupProvider.managedTerminationProtection", default("DISABLED"), "managedTerminationProtection defaults to DISABLED", rid="CapacityProvider:autoScalingGroupProvider.managedTerminationProtection"),
    _s("CapacityProvider", "autoScalingGroupProvider.autoScalingGroup.availabilityZones", sort_values, "availability zones as a set"),
    # ---------------------------------------------------------------- TargetGroup
    _r("TargetGroup", "protocol", default("HTTP"), "protocol defaults to HTTP"),
    _r("TargetGroup", "targetType", default("instance"), "targetType defaults to instance (ELB's default)"),
    _r("TargetGroup", "healthCheck", _tg_health_check, "health check defaults per protocol (HTTP: /, 200, 30 s, 5 s, 5/2)"),
    _r("TargetGroup", "deregistrationDelay", default(300), "deregistrationDelay defaults to 300 s"),
    # ---------------------------------------------------------------- ScheduledTask
    _r(_ST, "state", default("ENABLED"), "rule state defaults to ENABLED"),
    _r(_ST, "target.cluster", _cluster_name, "target cluster defaults to 'default'; an ARN becomes its name"),
    _r(_ST, "target.taskDefinition", _task_definition_ref, "target taskDefinition ARN → family:revision"),
    _r(_ST, "target.taskCount", default(1), "target taskCount defaults to 1"),
    _r(_ST, "target.networkConfiguration.awsvpcConfiguration.assignPublicIp", default("DISABLED"), "assignPublicIp defaults to DISABLED"),
    _r(_ST, "target.capacityProviderStrategy[]", defaults(base=0, weight=0), "capacity provider base and weight default to 0"),
    _r(_ST, "eventPattern", _event_pattern, "event pattern arrays are 'any of' sets: sorted"),
    _s(_ST, "target.networkConfiguration.awsvpcConfiguration.subnets", sort_values, "subnets as a set"),
    _s(_ST, "target.networkConfiguration.awsvpcConfiguration.securityGroups", sort_values, "security groups as a set"),
    _s(_ST, "target.placementConstraints", sort_by("type", "expression"), "placement constraints by type, expression"),
    _s(_ST, "target.capacityProviderStrategy", sort_by("capacityProvider"), "capacity provider strategy by provider"),
    _s(_ST, "target.tags", sort_by("key"), "tags by key"),
    # ---------------------------------------------------------------- Parameter, Secret, EnvironmentFile, Repository
    _r("Parameter", "type", default("String"), "parameter type defaults to String"),
    _r("Parameter", "tier", default("Standard"), "parameter tier defaults to Standard"),
    _r("Parameter", "dataType", default("text"), "parameter dataType defaults to text"),
    _s("Secret", "keys", sort_values, "secret JSON keys as a set"),
    _s("Secret", "versionStages", sort_values, "version stages as a set"),
    _s("Secret", "versionIds", sort_values, "version ids as a set"),
    _s("EnvironmentFile", "variables", sort_values, "variable names as a set"),
    _s("Repository", "images", sort_values, "image tags as a set"),
)


def _ordered(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    fills = [r for r in rules if r.phase != "sort"]
    sorts = sorted((r for r in rules if r.phase == "sort"), key=lambda r: -len(r.parts))  # stable
    return tuple(fills + sorts)


_BY_KIND: dict[str, tuple[Rule, ...]] = {}
for _rule in RULES:
    _BY_KIND.setdefault(_rule.kind, ())
for _kind in list(_BY_KIND):
    _BY_KIND[_kind] = _ordered(tuple(r for r in RULES if r.kind == _kind))


def rules_for(kind: str) -> tuple[Rule, ...]:
    """The rules of ``kind`` in the order ``canonical`` applies them."""
    return _BY_KIND.get(kind, ())


# --------------------------------------------------------------------------- engine


@functools.lru_cache(maxsize=None)
def _walker(parts: tuple[str, ...], fn: Fn) -> Fn:
    """``fn`` applied at ``parts`` of a node, as one function per path step made once per rule
    (every plan canonicalises every stored spec again: no path is sliced or re-read per call).
    A step that changes nothing below returns its node itself, so nothing is copied."""
    if not parts:
        return fn
    head, inner = parts[0], _walker(parts[1:], fn)
    if head == "[]":
        def each(node: Any, ctx: Ctx) -> Any:
            if not isinstance(node, list):
                return node
            items = [inner(item, ctx) for item in node]
            for a, b in zip(items, node):
                if a is not b:
                    return [item for item in items if item is not MISSING]
            return node  # nothing changed below: no copy (canonical works on its own deep copy)
        return each
    leaf = len(parts) == 1

    def key(node: Any, ctx: Ctx) -> Any:
        if not isinstance(node, dict):
            return node
        old = node.get(head, MISSING)
        if old is MISSING and not leaf and head not in node:
            return node  # nothing to walk into (a leaf's fn may still fill it)
        new = inner(old, ctx)
        if new is old:
            return node
        out = dict(node)
        if new is MISSING:
            out.pop(head, None)
        else:
            out[head] = new
        return out
    return key


def apply_rule(rule: Rule, name: str, spec: dict) -> dict:
    """One rule on a whole spec (a new dict); used by ``canonical`` and by the per-rule tests."""
    return _walker(rule.parts, rule.fn)(spec, Ctx(rule.kind, name, spec))


# Fields whose ``null`` is a value, not an absence: an EventBridge pattern's ``[null]`` matches
# a field that is null, and ``{"n": [null]}`` pruned to ``{}`` would match every event of the source.
VERBATIM = {"ScheduledTask": "eventPattern"}


def prune_spec(kind: str, spec: dict) -> dict:
    """``prune(spec)`` (a deep copy) but for the kind's :data:`VERBATIM` field, copied as written."""
    verbatim = VERBATIM.get(kind)
    held = spec.get(verbatim) if verbatim else None
    out = prune(spec)  # prune rebuilds every dict and list: a deep copy
    if held is not None:
        out[verbatim] = copy.deepcopy(held)
    return out


def canonical(kind: str, name: str, spec: dict | None) -> dict:
    """The canonical form of ``spec`` (see the module docstring); the input is not mutated."""
    out = prune_spec(kind, spec if isinstance(spec, dict) else {})
    ctx = Ctx(kind, name, out)
    for rule in rules_for(kind):
        ctx.root = out  # the spec so far
        out = _walker(rule.parts, rule.fn)(out, ctx)
    return prune_spec(kind, out)
