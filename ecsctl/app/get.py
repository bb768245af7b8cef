"""Use case: list objects of the simulated world, as plain dicts (the JSON of ``ecsctl get``)."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from ecsctl.app.state import open_existing
from ecsctl.errors import UsageError


def _clusters(store) -> list[dict]:
    from ecsctl.core.state.ports import Cluster, ContainerInstance, Service, Task

    instances = Counter(i.cluster for i in store.find(ContainerInstance) if i.status != "INACTIVE")
    services = Counter(s.cluster for s in store.find(Service) if s.status == "ACTIVE")
    running = Counter(t.cluster for t in store.find(Task, last_status="RUNNING"))
    return [
        {"name": c.name, "status": c.status, "registeredContainerInstancesCount": instances[c.name],
         "activeServicesCount": services[c.name], "runningTasksCount": running[c.name]}
        for c in sorted(store.find(Cluster), key=lambda c: c.name)
    ]


def _instances(store) -> list[dict]:
    from ecsctl.app.instances import instance_extras
    from ecsctl.core.state.ports import ContainerInstance, Task

    extras = instance_extras(store)
    groups: dict[str, set] = {}
    for t in store.find(Task, last_status="RUNNING"):
        if t.instance_id:
            groups.setdefault(t.instance_id, set()).add(t.group)
    return [
        {"id": i.id, **extras.get(i.id, {"ec2InstanceId": "", "ec2State": "running"}), "cluster": i.cluster, "group": i.group_name,
         "instanceType": i.instance_type, "availabilityZone": i.availability_zone, "attributes": dict(i.attributes),
         "status": i.status, "agentConnected": i.agent_connected, "agentVersion": i.agent_version,
         "runningTasksCount": i.running_tasks_count, "pendingTasksCount": i.pending_tasks_count,
         "registeredResources": {"cpu": i.registered_cpu, "memory": i.registered_memory, "gpu": i.registered_gpu},
         "remainingResources": {"cpu": i.remaining_cpu, "memory": i.remaining_memory},
         "reservedPorts": list(i.reserved_ports), "registeredAt": i.registered_at,
         "taskGroups": sorted(groups.get(i.id, ()))}
        for i in sorted(store.find(ContainerInstance), key=lambda i: (i.cluster, i.group_name, i.id))
    ]


def _taskdefs(store) -> list[dict]:
    from ecsctl.core.state.ports import TaskDefinitionRevision

    return [
        {"family": r.family, "revision": r.revision, "status": r.status, "registeredAt": r.registered_at,
         "cpu": r.spec.get("cpu"), "memory": r.spec.get("memory"), "networkMode": r.spec.get("networkMode")}
        for r in sorted(store.find(TaskDefinitionRevision), key=lambda r: (r.family, r.revision))
    ]


def _services(store) -> list[dict]:
    from ecsctl.core.state.ports import Service, Task

    running: Counter = Counter()
    pending: Counter = Counter()
    for t in store.find(Task):
        if t.service and t.last_status == "RUNNING":
            running[(t.cluster, t.service)] += 1
        elif t.service and t.last_status in ("PENDING", "PROVISIONING"):
            pending[(t.cluster, t.service)] += 1
    return [
        {"name": s.name, "cluster": s.cluster, "status": s.status, "taskDefinition": s.task_definition,
         "desiredCount": s.desired_count, "runningCount": running[(s.cluster, s.name)],
         "pendingCount": pending[(s.cluster, s.name)],
         "launchType": s.spec.get("launchType") or ("EC2" if not s.spec.get("capacityProviderStrategy") else None)}
        for s in sorted(store.find(Service), key=lambda s: (s.cluster, s.name))
    ]


def _tasks(store) -> list[dict]:
    from ecsctl.core.state.ports import Task

    return [
        {"id": t.id, "cluster": t.cluster, "group": t.group, "taskDefinition": t.task_definition,
         "launchType": t.launch_type, "instance": t.instance_id, "availabilityZone": t.availability_zone,
         "subnet": t.subnet or None, "privateIp": t.private_ip or None, "lastStatus": t.last_status, "desiredStatus": t.desired_status, "stopReason": t.stop_reason or None,
         "hostPorts": list(t.host_ports), "cpu": t.cpu, "memory": t.memory, "startedAt": t.started_at or None,
         "stoppedAt": t.stopped_at or None}
        for t in sorted(store.find(Task), key=lambda t: (t.cluster, t.group, t.created_at, t.id))
    ]


def _targets(store) -> list[dict]:
    from ecsctl.core.state.ports import TargetRegistration

    return [
        {"targetGroup": r.target_group, "target": r.target_id, "port": r.port, "task": r.task_id}
        for r in sorted(store.find(TargetRegistration), key=lambda r: (r.target_group, r.target_id, r.port))
    ]


LISTERS: dict[str, Callable] = {
    "clusters": _clusters,
    "instances": _instances,
    "taskdefs": _taskdefs,
    "services": _services,
    "tasks": _tasks,
    "targets": _targets,
}
ALIASES = {"cluster": "clusters", "instance": "instances", "taskdef": "taskdefs", "task-definitions": "taskdefs",
           "service": "services", "task": "tasks", "target": "targets"}
NAME_KEY = {"clusters": "name", "instances": "id", "taskdefs": "family", "services": "name", "tasks": "id", "targets": "targetGroup"}


def get(state: str, kind: str, name: str | None = None, *, status: str | None = None,
        cluster: str | None = None, where: Callable[[dict], bool] | None = None) -> list[dict]:
    kind = ALIASES.get(kind, kind)
    if kind not in LISTERS:
        raise UsageError(f"unknown kind '{kind}'; one of: {', '.join(LISTERS)}")
    store = open_existing(state)
    if store is None:
        return []
    with store:
        rows = LISTERS[kind](store)
    if name:
        rows = [r for r in rows if r[NAME_KEY[kind]] == name or (kind == "taskdefs" and f"{r['family']}:{r['revision']}" == name)]
    if cluster:
        rows = [r for r in rows if r.get("cluster") == cluster]
    if status:
        key = "lastStatus" if kind == "tasks" else "status"
        rows = [r for r in rows if str(r.get(key, "")).upper() == status.upper()]
    if where:
        rows = [r for r in rows if where(r)]
    return rows
