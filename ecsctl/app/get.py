"""Use case: list objects of the simulated world, as plain dicts (the JSON of ``ecsctl get``)."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from ecsctl.app.backend_of import require_simulation_to_read
from ecsctl.app.state import open_required
from ecsctl.app.task_rows import run_lookup, task_order, task_providers, task_row
from ecsctl.core.controller.ids import PREFIX_MIN
from ecsctl.errors import InputError, UsageError


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
    return [instance_row(i, extras.get(i.id), groups.get(i.id, ()))
            for i in sorted(store.find(ContainerInstance), key=lambda i: (i.cluster, i.group_name, i.id))]


def instance_row(i, extra: dict | None, task_groups) -> dict:
    """One container instance as ``get instances -o json`` shows it."""
    return {"id": i.id, **(extra or {"ec2InstanceId": "", "ec2State": "running"}), "cluster": i.cluster, "group": i.group_name,
            "instanceType": i.instance_type, "availabilityZone": i.availability_zone, "attributes": dict(i.attributes),
            "status": i.status, "agentConnected": i.agent_connected, "agentVersion": i.agent_version,
            "runningTasksCount": i.running_tasks_count, "pendingTasksCount": i.pending_tasks_count,
            "registeredResources": {"cpu": i.registered_cpu, "memory": i.registered_memory, "gpu": i.registered_gpu},
            "remainingResources": {"cpu": i.remaining_cpu, "memory": i.remaining_memory},
            "reservedPorts": list(i.reserved_ports), "registeredAt": i.registered_at,
            "taskGroups": sorted(task_groups)}


def _taskdefs(store) -> list[dict]:
    from ecsctl.core.state.ports import TaskDefinitionRevision

    return [
        {"family": r.family, "revision": r.revision, "status": r.status, "registeredAt": r.registered_at,
         "cpu": r.spec.get("cpu"), "memory": r.spec.get("memory"), "networkMode": r.spec.get("networkMode")}
        for r in sorted(store.find(TaskDefinitionRevision), key=lambda r: (r.family, r.revision))
    ]


def _services(store) -> list[dict]:
    from ecsctl.core.state.ports import Cluster, Service, Task

    running: Counter = Counter()
    pending: Counter = Counter()
    for t in store.find(Task):
        if t.service and t.last_status == "RUNNING":
            running[(t.cluster, t.service)] += 1
        elif t.service and t.last_status in ("PENDING", "PROVISIONING"):
            pending[(t.cluster, t.service)] += 1
    clusters = {c.name: c.spec for c in store.find(Cluster)}
    return [service_row(s, running[(s.cluster, s.name)], pending[(s.cluster, s.name)], clusters.get(s.cluster))
            for s in sorted(store.find(Service), key=lambda s: (s.cluster, s.name))]


def service_launch_type(spec: dict, cluster_spec: dict | None) -> str | None:
    """A service's ``launchType`` as DescribeServices returns it: none (``None``) for a service
    placed by a capacity provider strategy, its own or the cluster's default (``cluster_spec``)."""
    from ecsctl.core.controller.service import strategy_providers

    return spec.get("launchType") or (None if strategy_providers(spec, cluster_spec) else "EC2")


def service_row(s, running: int, pending: int, cluster_spec: dict | None = None) -> dict:
    """One service as ``get services -o json`` shows it (counts from its tasks)."""
    return {"name": s.name, "cluster": s.cluster, "status": s.status, "taskDefinition": s.task_definition,
            "desiredCount": s.desired_count, "runningCount": running, "pendingCount": pending,
            "launchType": service_launch_type(s.spec, cluster_spec)}


def _tasks(store) -> list[dict]:
    from ecsctl.core.state.ports import Task

    runs = run_lookup(store)
    providers = task_providers(store)
    return [task_row(t, providers.get(t.id), runs(t)) for t in sorted(store.find(Task), key=task_order)]


def _targets(store) -> list[dict]:
    from ecsctl.core.state.ports import TargetRegistration

    return [
        {"targetGroup": r.target_group, "target": r.target_id, "port": r.port, "task": r.task_id}
        for r in sorted(store.find(TargetRegistration), key=lambda r: (r.target_group, r.target_id, r.port))
    ]


def _queues(store) -> list[dict]:
    """Each Queue with its latest datapoint (ApproximateNumberOfMessagesVisible, NotVisible, the
    consumers' running tasks, backlog per task) as the clock left it."""
    from ecsctl.backends.local.queues import BACKLOG, NOT_VISIBLE, QUEUE_STATE, RUNNING_TASKS, VISIBLE
    from ecsctl.core.queue.model import consumers_of, initial_state
    from ecsctl.core.state.ports import CatalogueEntry, SimState

    rows = []
    for q in sorted(store.find(CatalogueEntry, kind="Queue"), key=lambda e: e.name):
        found = store.get(SimState, QUEUE_STATE, q.name)
        metrics = (found.data.get("metrics") or {}) if found is not None else {}
        rows.append({"name": q.name, "time": metrics.get("time"),
                     VISIBLE: metrics.get(VISIBLE, initial_state(q.spec or {}).visible),
                     NOT_VISIBLE: metrics.get(NOT_VISIBLE, 0), RUNNING_TASKS: metrics.get(RUNNING_TASKS),
                     BACKLOG: metrics.get(BACKLOG),
                     "consumers": [f"{c}/{s}" for c, s, _ in consumers_of(q.spec or {})]})
    return rows


def _events(store) -> list[dict]:
    from ecsctl.app.events import event_rows

    return event_rows(store)


def _scaling(store) -> list[dict]:
    """Scaling activities the simulated clock recorded (DescribeScalingActivities), oldest first per service."""
    from ecsctl.backends.local.scaling import ACTIVITY_KIND
    from ecsctl.core.state.ports import HistoryEntry

    rows = []
    for entry in sorted(store.find(HistoryEntry, kind=ACTIVITY_KIND), key=lambda h: (h.name, h.id)):
        cluster, _, service = entry.name.partition("/")
        rows.append(scaling_row(cluster, service, entry.data))
    return rows


def scaling_row(cluster: str, service: str, data: dict) -> dict:
    """One scaling activity as ``get scaling -o json`` shows it: DescribeScalingActivities' fields,
    plus ``cluster``, ``service`` and the desired count before and after."""
    return {"cluster": cluster, "service": service, **data}


LISTERS: dict[str, Callable] = {
    "clusters": _clusters,
    "instances": _instances,
    "taskdefs": _taskdefs,
    "services": _services,
    "tasks": _tasks,
    "targets": _targets,
    "events": _events,
    "queues": _queues,
    "scaling": _scaling,
}
ALIASES = {"cluster": "clusters", "instance": "instances", "taskdef": "taskdefs", "task-definitions": "taskdefs",
           "task-definition": "taskdefs", "service": "services", "task": "tasks", "target": "targets",
           "container-instance": "instances", "container-instances": "instances",
           "scaling-activities": "scaling", "activities": "scaling", "event": "events", "queue": "queues"}
NAME_KEY = {"clusters": "name", "instances": "id", "taskdefs": "family", "services": "name", "tasks": "id", "targets": "targetGroup",
            "scaling": "service"}
# The values ECS reports for each kind (botocore's enums, plus what Describe* shows: INACTIVE
# instances, the task lifecycle of "Amazon ECS task lifecycle"); ``--status`` must be one of them.
STATUSES = {
    "clusters": ("ACTIVE", "PROVISIONING", "DEPROVISIONING", "FAILED", "INACTIVE"),
    "instances": ("ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED", "INACTIVE"),
    "taskdefs": ("ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"),
    "services": ("ACTIVE", "DRAINING", "INACTIVE"),
    "tasks": ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING",
              "STOPPED", "DELETED"),
    # ScalingActivity.StatusCode (Application Auto Scaling)
    "scaling": ("Pending", "InProgress", "Successful", "Overridden", "Unfulfilled", "Failed"),
}


def kind_of(kind: str) -> str:
    """``service`` -> ``services``; an unknown kind is a usage error."""
    kind = ALIASES.get(str(kind).lower(), str(kind).lower())
    if kind not in LISTERS:
        from ecsctl.core.plan.model import KIND_OF_PREFIX

        if kind in KIND_OF_PREFIX:  # an address prefix of `state list`: applied, but not an ECS object
            raise UsageError(f"get lists what ECS runs ({', '.join(LISTERS)}); `ecsctl describe {kind}/NAME` "
                             f"shows a {KIND_OF_PREFIX[kind]}, `ecsctl state list` lists them")
        raise UsageError(f"unknown kind '{kind}'{_did_you_mean(kind, LISTERS)}; one of: {', '.join(LISTERS)}")
    return kind


def _did_you_mean(word: str, choices) -> str:
    from ecsctl.core.manifest.envelope import did_you_mean

    return did_you_mean(word, choices)


def check_status(kind: str, status: str) -> str:
    allowed = STATUSES.get(kind)
    if allowed is None:
        raise UsageError(f"--status does not apply to {kind}")
    value = str(status).upper()
    if kind == "scaling":  # StatusCode is CamelCase
        value = next((a for a in allowed if a.upper() == value), value)
    if value not in allowed:
        raise UsageError(f"--status {status!r} is not a status of {kind}; one of: {', '.join(allowed)}")
    return value


def get(state: str, kind: str, name: str | None = None, *, status: str | None = None,
        cluster: str | None = None, where: Callable[[dict], bool] | None = None,
        everything: bool = False) -> list[dict]:
    """The rows of ``ecsctl get KIND [NAME]``.

    Instances that were deregistered (INACTIVE) are left out, as ListContainerInstances leaves
    them out without a status filter, and services that were deleted (DRAINING, INACTIVE), as
    ListServices does; ``everything``, a ``status`` or a ``name`` asks for them.  Tasks are
    listed in every state, the STOPPED ones with their ``stopReason`` (DESIGN §4: where a task
    went is what ``get tasks`` is read for); ``status`` filters them.

    ``name`` is any identifier the acting commands take (see :mod:`ecsctl.app.lookup`); one
    that matches nothing is an ``InputError`` (exit 1), as ``kubectl get`` does.
    """
    from ecsctl.app.lookup import keys_of, select

    kind = kind_of(kind)
    if status is not None:
        status = check_status(kind, status)
    with open_required(state) as store:
        require_simulation_to_read(store, state, kind)
        by = "services" if kind == "scaling" else kind  # a service's activities: named as the service
        keys = keys_of(by, select(store, by, name, cluster=cluster)) if name and kind not in ("events", "queues") else None
        rows = LISTERS[kind](store)
    if kind == "events" and name:  # a rule, a task id (or prefix), or a service
        rows = [r for r in rows if _event_of(r, name)]
        if not rows:
            raise InputError(f"no events of {name!r} in the state (NAME: a rule, a task id or a prefix of {PREFIX_MIN}+ "
                             "characters, or a service as NAME, CLUSTER/NAME or service/CLUSTER/NAME)")
    if kind == "queues" and name:
        rows = [r for r in rows if r["name"] == name]
        if not rows:
            raise InputError(f'queue "{name}" not found (`ecsctl get queues` lists them)')
    if keys is not None:
        rows = [r for r in rows if row_key(kind, r) in keys]
    if cluster:
        rows = [r for r in rows if r.get("cluster") == cluster]
    if kind == "instances" and not (everything or status or name):
        rows = [r for r in rows if r.get("status") != "INACTIVE"]
    if kind == "services" and not (everything or status or name):  # ListServices: deleted ones are not listed
        rows = [r for r in rows if r.get("status") == "ACTIVE"]
    if status:
        key = {"tasks": "lastStatus", "scaling": "statusCode"}.get(kind, "status")
        rows = [r for r in rows if str(r.get(key, "")).upper() == status.upper()]
    if where:
        rows = [r for r in rows if where(r)]
    return rows


def _event_of(row: dict, name: str) -> bool:
    """Whether a ``get events`` row is about ``name``: its source (a rule, ``cluster/service``,
    a task id), a service's name alone, or a task id prefix (6+ characters)."""
    text = name[len("service/"):] if name.startswith("service/") else name
    source, tasks = str(row.get("source") or ""), row.get("tasks") or ()
    if source == text or text in tasks:
        return True
    if "/" not in text and row.get("type") == "service" and source.endswith("/" + text):
        return True
    return len(text) >= PREFIX_MIN and "/" not in text and (source.startswith(text) or any(t.startswith(text) for t in tasks))


def row_key(kind: str, row: dict) -> tuple:
    if kind == "taskdefs":
        return (row["family"], row["revision"])
    if kind == "services":
        return (row["cluster"], row["name"])
    if kind == "scaling":
        return (row["cluster"], row["service"])
    return (row[NAME_KEY[kind]],)
