"""Reading live ECS: what AWS holds now, as the state's records and as canonical specs.

``read_live(aws, scope)`` looks up exactly the resources a run is about (``Scope``: what the
manifests and the state name) and answers a :class:`LiveSnapshot`:

* ``records`` — the world as ``ecsctl.core.state.ports`` records: ``Cluster``,
  ``ContainerInstance`` (registered/remaining CPU and memory, reserved ports, attributes,
  agent), ``Service``, ``Deployment`` (PRIMARY/ACTIVE with their counts and rollout state),
  ``ServiceEvent``, ``Task`` (RUNNING and PENDING tasks of the services, host ports, subnet
  and IP) and ``TaskDefinitionRevision`` (each family's latest ACTIVE revision and the
  revisions the services run). They can be written into a store and fed to the planner as if
  they were the simulation's.
* ``resources`` — each managed address as AWS sees it (``core.aws.drift.LiveResource``): the
  canonical spec a manifest would need to say to get exactly it (clusters with settings and
  capacity providers, capacity providers, the latest ACTIVE task definition of each family,
  services with their ``autoScaling`` from Application Auto Scaling and CloudWatch,
  EventBridge rules and their targets or Scheduler schedules), and which fields AWS reported.

Calls (all read-only): ecs Describe/List Clusters, CapacityProviders, ContainerInstances,
Services, Tasks, TaskDefinition; application-autoscaling DescribeScalableTargets,
DescribeScalingPolicies, DescribeScheduledActions; cloudwatch DescribeAlarms; events
DescribeRule, ListTargetsByRule; scheduler GetSchedule; and the catalogue checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from ecsctl.backends.aws import catalogue
from ecsctl.backends.aws.session import Aws, AwsError, paged
from ecsctl.core.aws import shapes
from ecsctl.core.aws.drift import LiveResource
from ecsctl.core.normalize import canonical
from ecsctl.core.plan.model import address as address_of
from ecsctl.core.state.ports import (
    Cluster,
    ContainerInstance,
    Deployment,
    Service,
    ServiceEvent,
    Task,
    TaskDefinitionRevision,
)

EVENTS_READ = 20


@dataclass
class Scope:
    """What to look up: names per kind (services per cluster), from manifests and state."""

    clusters: set[str] = field(default_factory=set)
    services: set[tuple[str, str]] = field(default_factory=set)
    families: set[str] = field(default_factory=set)
    capacity_providers: set[str] = field(default_factory=set)
    scheduled: dict[str, dict] = field(default_factory=dict)
    catalogue: dict[str, tuple[str, str, dict]] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Iterable[tuple[str, str, str, dict]]) -> "Scope":
        """``items``: (address, kind, name, spec) from the manifests and the state."""
        scope = cls()
        for address, kind, name, spec in items:
            spec = spec or {}
            if kind == "Cluster":
                scope.clusters.add(name)
            elif kind == "Service":
                cluster = address.split("/")[1]
                scope.clusters.add(cluster)
                scope.services.add((cluster, name))
            elif kind == "TaskDefinition":
                scope.families.add(str(spec.get("family") or name))
            elif kind == "CapacityProvider":
                scope.capacity_providers.add(name)
            elif kind == "ScheduledTask":
                scope.scheduled.setdefault(name, spec)
            elif kind in catalogue.KINDS:
                scope.catalogue[address] = (kind, name, spec)
        return scope


@dataclass
class LiveSnapshot:
    resources: dict[str, LiveResource] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)
    records: list = field(default_factory=list)

    def of_type(self, record_type: type) -> list:
        return [r for r in self.records if isinstance(r, record_type)]


def iso(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "")


def _chunks(items: list, n: int) -> Iterable[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


# ------------------------------------------------------------------------------- the reader


def read_live(aws: Aws, scope: Scope, *, with_tasks: bool = True) -> LiveSnapshot:
    snap = LiveSnapshot()
    _clusters(aws, scope, snap)
    _capacity_providers(aws, scope, snap)
    running_families = _services(aws, scope, snap, with_tasks)
    pinned = {str((spec.get("target") or {}).get("taskDefinition") or "") for spec in scope.scheduled.values()
              if isinstance(spec.get("target") or {}, dict)}
    running_families |= {ref for ref in pinned if shapes.taskdef_ref(ref).rpartition(":")[2].isdigit()}
    _task_definitions(aws, scope.families, running_families, snap)
    _scheduled(aws, scope, snap)
    for addr, (kind, name, spec) in scope.catalogue.items():
        snap.checked.add(addr)
        if catalogue.missing(aws, kind, name, spec, addr) is None:
            snap.resources[addr] = LiveResource(kind, name, canonical(kind, name, spec))
    return snap


def _clusters(aws: Aws, scope: Scope, snap: LiveSnapshot) -> None:
    names = sorted(scope.clusters)
    for chunk in _chunks(names, 100):
        answer = aws.call("ecs", "DescribeClusters", "", clusters=chunk, include=["SETTINGS", "CONFIGURATIONS", "TAGS"])
        for c in answer.get("clusters", []):
            name = c["clusterName"]
            addr = address_of("Cluster", name)
            snap.checked.add(addr)
            spec = canonical("Cluster", name, shapes.spec_from_cluster(c))
            snap.records.append(Cluster(name=name, status=c.get("status", "ACTIVE"), spec=spec))
            if c.get("status") != "ACTIVE":
                continue
            instances = _instances(aws, name)
            snap.records += instances
            groups: dict[str, int] = {}
            for i in instances:
                if i.status == "ACTIVE" and i.agent_connected:
                    groups[f"{i.instance_type}/{i.availability_zone}"] = groups.get(f"{i.instance_type}/{i.availability_zone}", 0) + 1
            snap.resources[addr] = LiveResource("Cluster", name, spec, observed=frozenset(
                k for k in ("settings", "configuration", "capacityProviders", "defaultCapacityProviderStrategy", "tags")
                if k in c or k == "tags"), status=c.get("status", "ACTIVE"), extra={"instances": groups})
        for f in answer.get("failures", []):
            snap.checked.add(address_of("Cluster", shapes.last_segment(f.get("arn", ""))))


def _resource_value(resources: list, name: str) -> Any:
    for r in resources or ():
        if r.get("name") == name:
            if r.get("type") == "STRINGSET":
                return tuple(int(p) for p in r.get("stringSetValue") or () if str(p).isdigit())
            return int(r.get("integerValue") or 0)
    return 0


def _instances(aws: Aws, cluster: str) -> list[ContainerInstance]:
    arns = paged(aws, "ecs", "ListContainerInstances", "containerInstanceArns", f"cluster/{cluster}", cluster=cluster)
    out = []
    for chunk in _chunks(arns, 100):
        answer = aws.call("ecs", "DescribeContainerInstances", f"cluster/{cluster}", cluster=cluster, containerInstances=chunk)
        for ci in answer.get("containerInstances", []):
            attrs = {a["name"]: a.get("value", "") for a in ci.get("attributes") or ()}
            out.append(ContainerInstance(
                id=shapes.last_segment(ci["containerInstanceArn"]), cluster=cluster, group_name="",
                instance_type=attrs.get("ecs.instance-type", ""), availability_zone=attrs.get("ecs.availability-zone", ""),
                registered_cpu=_resource_value(ci.get("registeredResources"), "CPU"),
                registered_memory=_resource_value(ci.get("registeredResources"), "MEMORY"),
                remaining_cpu=_resource_value(ci.get("remainingResources"), "CPU"),
                remaining_memory=_resource_value(ci.get("remainingResources"), "MEMORY"),
                attributes={k: v for k, v in attrs.items() if v}, status=ci.get("status", "ACTIVE"),
                agent_connected=bool(ci.get("agentConnected", True)),
                agent_version=(ci.get("versionInfo") or {}).get("agentVersion", ""),
                reserved_ports=tuple(sorted(set(_resource_value(ci.get("remainingResources"), "PORTS") or ()))),
                running_tasks_count=int(ci.get("runningTasksCount", 0)),
                pending_tasks_count=int(ci.get("pendingTasksCount", 0)), registered_at=iso(ci.get("registeredAt"))))
    return out


def _capacity_providers(aws: Aws, scope: Scope, snap: LiveSnapshot) -> None:
    names = sorted(scope.capacity_providers)
    if not names:
        return
    answer = aws.call("ecs", "DescribeCapacityProviders", "", capacityProviders=names, include=["TAGS"])
    for p in answer.get("capacityProviders", []):
        addr = address_of("CapacityProvider", p["name"])
        snap.checked.add(addr)
        spec = {"autoScalingGroupProvider": dict(p.get("autoScalingGroupProvider") or {})}
        if p.get("tags"):
            spec["tags"] = p["tags"]
        snap.resources[addr] = LiveResource("CapacityProvider", p["name"], canonical("CapacityProvider", p["name"], spec),
                                            status=p.get("status", "ACTIVE"))
    for name in names:
        snap.checked.add(address_of("CapacityProvider", name))


def _services(aws: Aws, scope: Scope, snap: LiveSnapshot, with_tasks: bool) -> set[str]:
    """Services, deployments, events and tasks; answers the task definitions the services run."""
    by_cluster: dict[str, list[str]] = {}
    for cluster, name in sorted(scope.services):
        by_cluster.setdefault(cluster, []).append(name)
    running: set[str] = set()
    for cluster, names in by_cluster.items():
        for name in names:
            snap.checked.add(f"service/{cluster}/{name}")
        for chunk in _chunks(names, 10):
            try:
                answer = aws.call("ecs", "DescribeServices", f"cluster/{cluster}", cluster=cluster, services=chunk, include=["TAGS"])
            except AwsError as exc:
                if exc.code == "ClusterNotFoundException":
                    break
                raise
            for s in answer.get("services", []):
                if s.get("status") == "INACTIVE":
                    continue
                running.add(s.get("taskDefinition", ""))
                _service(aws, cluster, s, snap, with_tasks)
    return running


def _service(aws: Aws, cluster: str, s: dict, snap: LiveSnapshot, with_tasks: bool) -> None:
    name = s["serviceName"]
    addr = f"service/{cluster}/{name}"
    raw = shapes.spec_from_service(s)
    auto = read_auto_scaling(aws, cluster, name, addr)
    if auto:
        raw["autoScaling"] = auto
    spec = canonical("Service", name, raw)
    td = shapes.taskdef_ref(s.get("taskDefinition", ""))
    family = td.split(":")[0]
    observed = shapes.service_observed(s) | {"autoScaling", "tags"}
    snap.resources[addr] = LiveResource("Service", name, spec, observed=observed, status=s.get("status", "ACTIVE"),
                                        running_count=int(s.get("runningCount", 0)),
                                        desired_count=int(s.get("desiredCount", 0)), extra={"family": family})
    snap.records.append(Service(cluster=cluster, name=name, task_definition=td, desired_count=int(s.get("desiredCount", 0)),
                                spec=spec, running_count=int(s.get("runningCount", 0)),
                                pending_count=int(s.get("pendingCount", 0)), status=s.get("status", "ACTIVE"),
                                created_at=iso(s.get("createdAt"))))
    for d in s.get("deployments") or ():
        snap.records.append(Deployment(
            id=d["id"], cluster=cluster, service=name, task_definition=shapes.taskdef_ref(d.get("taskDefinition", "")),
            status=d.get("status", "PRIMARY"), desired_count=int(d.get("desiredCount", 0)),
            rollout_state=d.get("rolloutState", "IN_PROGRESS") or "IN_PROGRESS",
            rollout_state_reason=d.get("rolloutStateReason", "") or "", pending_count=int(d.get("pendingCount", 0)),
            running_count=int(d.get("runningCount", 0)), failed_tasks=int(d.get("failedTasks", 0)),
            created_at=iso(d.get("createdAt")), updated_at=iso(d.get("updatedAt"))))
    for e in list(s.get("events") or ())[:EVENTS_READ][::-1]:
        snap.records.append(ServiceEvent(cluster=cluster, service=name, at=iso(e.get("createdAt")), message=e.get("message", "")))
    if with_tasks:
        snap.records += read_tasks(aws, cluster, name, "RUNNING")


def read_tasks(aws: Aws, cluster: str, service: str, desired_status: str = "RUNNING") -> list[Task]:
    addr = f"service/{cluster}/{service}"
    arns = paged(aws, "ecs", "ListTasks", "taskArns", addr, cluster=cluster, serviceName=service, desiredStatus=desired_status)
    out = []
    for chunk in _chunks(arns, 100):
        for t in aws.call("ecs", "DescribeTasks", addr, cluster=cluster, tasks=chunk).get("tasks", []):
            out.append(task_record(cluster, t))
    return out


def task_record(cluster: str, t: dict) -> Task:
    ports = tuple(sorted({int(b["hostPort"]) for c in t.get("containers") or () for b in c.get("networkBindings") or ()
                          if b.get("hostPort")}))
    subnet = ip = ""
    for a in t.get("attachments") or ():
        details = {d.get("name"): d.get("value") for d in a.get("details") or ()}
        subnet = details.get("subnetId", subnet) or subnet
        ip = details.get("privateIPv4Address", ip) or ip
    group = t.get("group", "")
    instance = t.get("containerInstanceArn")
    return Task(id=shapes.last_segment(t["taskArn"]), cluster=cluster, group=group,
                task_definition=shapes.taskdef_ref(t.get("taskDefinitionArn", "")), last_status=t.get("lastStatus", ""),
                desired_status=t.get("desiredStatus", ""), launch_type=t.get("launchType", "EC2") or "EC2",
                instance_id=shapes.last_segment(instance) if instance else None,
                availability_zone=t.get("availabilityZone", ""), cpu=int(t.get("cpu") or 0), memory=int(t.get("memory") or 0),
                host_ports=ports, started_by=t.get("startedBy", ""),
                service=group.split(":", 1)[1] if group.startswith("service:") else None,
                stop_code=t.get("stopCode", "") or "", stop_reason=t.get("stoppedReason", "") or "",
                created_at=iso(t.get("createdAt")), started_at=iso(t.get("startedAt")), stopped_at=iso(t.get("stoppedAt")),
                subnet=subnet, private_ip=ip)


def read_auto_scaling(aws: Aws, cluster: str, service: str, address: str) -> dict | None:
    """A service's ``autoScaling`` as Application Auto Scaling (and CloudWatch) hold it, or None."""
    aas = "application-autoscaling"
    resource = shapes.scaling_resource_id(cluster, service)
    base = {"ServiceNamespace": "ecs", "ResourceIds": [resource], "ScalableDimension": shapes.SCALABLE_DIMENSION}
    targets = aws.call(aas, "DescribeScalableTargets", address, **base).get("ScalableTargets", [])
    if not targets:
        return None
    one = {"ServiceNamespace": "ecs", "ResourceId": resource, "ScalableDimension": shapes.SCALABLE_DIMENSION}
    policies = paged(aws, aas, "DescribeScalingPolicies", "ScalingPolicies", address, **one)
    actions = paged(aws, aas, "DescribeScheduledActions", "ScheduledActions", address, **one)
    alarms: dict[str, dict] = {}
    steps = [p["PolicyName"] for p in policies if p.get("PolicyType") == "StepScaling"]
    if steps:
        names = {shapes.alarm_name(cluster, service, p): p for p in steps}
        for a in aws.call("cloudwatch", "DescribeAlarms", address, AlarmNames=sorted(names)).get("MetricAlarms", []):
            alarms[names[a["AlarmName"]]] = shapes.alarm_from(a)
    for a in actions:
        for key in ("StartTime", "EndTime"):
            if a.get(key):
                a[key] = iso(a[key])
    return shapes.auto_scaling_from(targets[0], policies, actions, alarms)


def _task_definitions(aws: Aws, families: set[str], running: set[str], snap: LiveSnapshot) -> None:
    seen: set[str] = set()
    for family in sorted(families):
        addr = address_of("TaskDefinition", family)
        snap.checked.add(addr)
        td = _describe_td(aws, family, addr)
        if td is None:  # (an endpoint that answers a family with its newest revision, ACTIVE or not)
            top = _highest_revision(aws, family, "ACTIVE", addr)
            td = _describe_td(aws, f"{family}:{top}", addr) if top else None
        active = 0
        if td is not None:
            definition, tags = td
            active = int(definition["revision"])
            spec = canonical("TaskDefinition", family, shapes.spec_from_task_definition(definition, tags))
            snap.resources[addr] = LiveResource("TaskDefinition", family, spec, latest_revision=active)
            snap.records.append(TaskDefinitionRevision(family=family, revision=active, spec=spec, status="ACTIVE",
                                                       registered_at=iso(definition.get("registeredAt"))))
            seen.add(f"{family}:{active}")
        # ECS never gives a number twice: a family whose newest revisions were deregistered (or
        # deleted) registers the next one after those, not after its latest ACTIVE one
        top = max(_highest_revision(aws, family, status, addr) for status in ("INACTIVE", "DELETE_IN_PROGRESS"))
        if top > active:
            record = revision_record(aws, f"{family}:{top}") or TaskDefinitionRevision(
                family=family, revision=top, spec={}, status="INACTIVE")
            snap.records.append(record)
            seen.add(record.ref)
    for ref in sorted({shapes.taskdef_ref(r) for r in running if r} - seen):
        record = revision_record(aws, ref)
        if record is not None:
            snap.records.append(record)
    latest = {r.family: r.revision for r in snap.of_type(TaskDefinitionRevision) if r.status == "ACTIVE"}
    for addr, res in list(snap.resources.items()):
        if res.kind == "Service":
            family = res.extra.get("family", "")
            snap.resources[addr] = LiveResource(res.kind, res.name, res.spec, res.observed, res.status, res.running_count,
                                                res.desired_count, latest.get(family), res.extra)


def _highest_revision(aws: Aws, family: str, status: str, address: str) -> int:
    """The highest revision of exactly ``family`` in ``status`` (0: none). ListTaskDefinitions
    sorts by family, then revision: in DESC order the first of the family is its highest, and
    ``familyPrefix`` also lists other families that start with the name."""
    params = {"familyPrefix": family, "status": status, "sort": "DESC"}
    while True:
        answer = aws.call("ecs", "ListTaskDefinitions", address, **params)
        for arn in answer.get("taskDefinitionArns", []):
            name, _, number = shapes.taskdef_ref(arn).rpartition(":")
            if name == family and number.isdigit():
                return int(number)
        if not answer.get("nextToken"):
            return 0
        params["nextToken"] = answer["nextToken"]


def revision_record(aws: Aws, ref: str) -> TaskDefinitionRevision | None:
    """The revision ``ref`` (``family:revision`` or an ARN) names, as a state record; None if AWS has none."""
    td = _describe_td(aws, ref, "")
    if td is None:
        return None
    definition, tags = td
    family = definition["family"]
    spec = canonical("TaskDefinition", family, shapes.spec_from_task_definition(definition, tags))
    return TaskDefinitionRevision(family=family, revision=int(definition["revision"]), spec=spec,
                                  status=definition.get("status", "ACTIVE"), registered_at=iso(definition.get("registeredAt")))


def _describe_td(aws: Aws, ref: str, address: str) -> tuple[dict, list] | None:
    try:
        answer = aws.call("ecs", "DescribeTaskDefinition", address, taskDefinition=ref, include=["TAGS"])
    except AwsError as exc:
        if exc.code in ("ClientException", "InvalidParameterException"):
            return None
        raise
    definition = answer.get("taskDefinition") or {}
    if ":" not in ref and definition.get("status") != "ACTIVE":
        return None
    return definition, answer.get("tags") or []


def _scheduled(aws: Aws, scope: Scope, snap: LiveSnapshot) -> None:
    for name, hint in sorted(scope.scheduled.items()):
        addr = address_of("ScheduledTask", name)
        snap.checked.add(addr)
        order = ("scheduler", "events") if shapes.uses_scheduler(hint) else ("events", "scheduler")
        for source in order:
            spec = _read_schedule(aws, source, name, addr)
            if spec is not None:
                snap.resources[addr] = LiveResource("ScheduledTask", name, canonical("ScheduledTask", name, spec))
                break


def _read_schedule(aws: Aws, source: str, name: str, address: str) -> dict | None:
    try:
        if source == "scheduler":
            return shapes.spec_from_schedule(aws.call("scheduler", "GetSchedule", address, Name=name))
        rule = aws.call("events", "DescribeRule", address, Name=name)
        targets = aws.call("events", "ListTargetsByRule", address, Rule=name).get("Targets", [])
        return shapes.spec_from_rule(rule, targets)
    except AwsError as exc:
        if exc.code == "ResourceNotFoundException":
            return None
        raise
