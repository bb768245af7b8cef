"""Use case: the view model of ``ecsctl view``, one plain dict for the page to draw.

``build_view(state, files)`` reads the state (and, with manifest ``files``, makes the plan)
and returns::

    {"version": 1,
     "state": {"path", "exists", "serial", "lineage", "clock"},
     "clusters": [{"name", "status", "deregistered",
                   "zones": [{"name",
                              "instances": [{"id", "ec2InstanceId", "instanceType", "group", "status",
                                             "agentConnected", "ec2State", "agentVersion",
                                             "registered": {"cpu", "memory"}, "remaining": {"cpu", "memory"},
                                             "attributes", "tasks": [TASK, ...]}],
                              "fargate": [TASK, ...]}],
                   "pending": [TASK, ...]}],           # EC2 tasks waiting for an instance
     "services": [{"cluster", "name", "status", "launchType", "schedulingStrategy", "taskDefinition",
                   "desiredCount", "runningCount", "pendingCount", "revisions": {"web:1": 3},
                   "deploymentConfiguration": {"minimumHealthyPercent", "maximumPercent"},
                   "deployments": [{"id", "status", "taskDefinition", "rolloutState", "rolloutStateReason",
                                    "desiredCount", "runningCount", "pendingCount", "failedTasks"}],
                   "loadBalancers": [{"targetGroup", "containerName", "containerPort"}],
                   "targets": [{"targetGroup", "target", "port", "task"}],
                   "stopped": {"count", "recent": [{"id", "stoppedAt", "stopReason"}]},
                   "events": [{"at", "message"}]}],     # oldest first, the last EVENTS_SHOWN
     "plan": None | the ``plan -o json`` view (sensitive values masked) plus "files",
     "scaling": [{"service", "points": [{"time", "desiredCount", "runningCount", "metric", "value"}],
                  "activities": [{"time", "cause", "from", "to"}]}]}

where TASK is ``{"id", "group", "service", "taskDefinition", "lastStatus", "launchType", "cpu",
"memory", "hostPorts", "privateIp", "startedAt"}``.  Deregistered (INACTIVE) instances are only
counted.  The serial is read before and after the state, and the read repeated when a writer
moved it in between, so the picture is of one serial.  ``scaling`` holds the activities
``tick`` recorded (``get scaling``), a point of the desired count at each (``runningCount``
None: the state keeps no per-minute series).
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

from ecsctl.app.state import open_existing

VERSION = 1
EVENTS_SHOWN = 20
STOPPED_SHOWN = 5
SNAPSHOT_TRIES = 5


def build_view(state: str, files: list[str] | None = None) -> dict:
    """The view model of the state at ``state`` (a missing file is an empty state) and, with
    manifest ``files``, of the plan that ``ecsctl plan -f FILES`` would print."""
    inputs = _read_inputs(files) if files else None
    store = open_existing(state)
    if store is None:
        return _model(state, None, _plan_view(inputs, None) if inputs is not None else None)
    with store, paused_gc():
        for _ in range(SNAPSHOT_TRIES):
            serial = store.meta().serial
            world = _read_world(store)
            plan = _plan_view(inputs, store) if inputs is not None else None
            if store.meta().serial == serial:
                break
        return _model(state, world, plan)


@contextmanager
def paused_gc():
    """No cyclic garbage collection inside: reading 50,000 tasks makes ~1M objects that all
    live on, and the collector re-walking them more than doubles the time (bench/view.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def state_serial(state: str) -> tuple[int, str | None]:
    """``(serial, lineage)`` of the state at ``state``; ``(0, None)`` while there is none."""
    store = open_existing(state)
    if store is None:
        return 0, None
    with store:
        meta = store.meta()
    return meta.serial, meta.lineage


def manifests_fingerprint(files: list[str] | None) -> str:
    """Changes when a manifest file is added, removed or rewritten (names, sizes, mtimes)."""
    if not files:
        return ""
    from ecsctl.app.validate import discover

    parts = []
    for name in discover(files):
        try:
            st = Path(name).stat()
        except OSError:
            continue
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# The plan


def _read_inputs(files: list[str]):
    from ecsctl.app.plan import read_manifests

    return read_manifests(files)


def _plan_view(inputs, store) -> dict:
    from ecsctl.app.plan import make_plan
    from ecsctl.core.plan.codec import plan_json_view

    view = plan_json_view(make_plan(inputs, store))
    view["files"] = sorted(inputs.files)
    return view


# ---------------------------------------------------------------------------------------------
# The state


def _read_world(store) -> dict:
    from ecsctl.app.instances import instance_extras
    from ecsctl.core.state.ports import Cluster, ContainerInstance, Deployment, Service, Task, TargetRegistration

    services = store.find(Service)
    return {
        "meta": store.meta(),
        "clock": store.clock(),
        "clusters": store.find(Cluster),
        "instances": store.find(ContainerInstance),
        "extras": instance_extras(store),
        "services": services,
        "deployments": store.find(Deployment),
        "tasks": store.find(Task),
        "targets": store.find(TargetRegistration),
        "events": {(s.cluster, s.name): store.service_events(s.cluster, s.name)[-EVENTS_SHOWN:] for s in services},
        "scaling": _scaling_history(store),
    }


def _scaling_history(store) -> list:
    from ecsctl.backends.local.scaling import ACTIVITY_KIND
    from ecsctl.core.state.ports import HistoryEntry

    return sorted(store.find(HistoryEntry, kind=ACTIVITY_KIND), key=lambda h: (h.name, h.id))


def _scaling(world: dict) -> list[dict]:
    """The scaling activities ``tick`` recorded, per service: each one a point of the desired
    count (and the metric value that decided) and a marker."""
    out: dict[str, dict] = {}
    for entry in world.get("scaling", ()):
        d = entry.data
        item = out.setdefault(entry.name, {"service": f"service/{entry.name}", "points": [], "activities": []})
        item["points"].append({"time": d.get("time"), "desiredCount": d.get("desiredCount"), "runningCount": None,
                               # the policy whose metric decided (an activity does not name the metric)
                               "metric": d.get("trigger") if d.get("metricValue") is not None else None,
                               "value": d.get("metricValue")})
        item["activities"].append({"time": d.get("time"), "cause": d.get("cause"),
                                   "from": d.get("previousDesiredCount"), "to": d.get("desiredCount")})
    return [out[k] for k in sorted(out)]


def _model(path: str, world: dict | None, plan: dict | None) -> dict:
    if world is None:
        state = {"path": path, "exists": False, "serial": 0, "lineage": None, "clock": None}
        return {"version": VERSION, "state": state, "clusters": [], "services": [], "plan": plan, "scaling": []}
    meta = world["meta"]
    state = {"path": path, "exists": True, "serial": meta.serial, "lineage": meta.lineage, "clock": world["clock"]}
    return {"version": VERSION, "state": state, "clusters": _clusters(world), "services": _services(world),
            "plan": plan, "scaling": _scaling(world)}


def task_json(t) -> dict:
    return {"id": t.id, "group": t.group, "service": t.service, "taskDefinition": t.task_definition,
            "lastStatus": t.last_status, "launchType": t.launch_type, "cpu": t.cpu, "memory": t.memory,
            "hostPorts": list(t.host_ports), "privateIp": t.private_ip or None, "startedAt": t.started_at or None}


def _task_order(t) -> tuple:
    return (t.group, t.task_definition, t.created_at, t.id)


def _tasks_json(tasks) -> list[dict]:
    return [task_json(t) for t in sorted(tasks, key=_task_order)]


def _clusters(world: dict) -> list[dict]:
    on_instance: dict[str, list] = defaultdict(list)
    fargate: dict[tuple[str, str], list] = defaultdict(list)
    pending: dict[str, list] = defaultdict(list)
    for t in world["tasks"]:
        if t.last_status == "STOPPED":
            continue
        if t.instance_id:
            on_instance[t.instance_id].append(t)
        elif t.launch_type == "FARGATE":
            fargate[(t.cluster, t.availability_zone)].append(t)
        else:
            pending[t.cluster].append(t)
    zones: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    deregistered: Counter = Counter()
    extras = world["extras"]
    for i in world["instances"]:
        if i.status == "INACTIVE":
            deregistered[i.cluster] += 1
            continue
        extra = extras.get(i.id, {})
        zones[i.cluster][i.availability_zone].append({
            "id": i.id, "ec2InstanceId": extra.get("ec2InstanceId", ""), "instanceType": i.instance_type,
            "group": i.group_name, "status": i.status, "agentConnected": i.agent_connected,
            "ec2State": extra.get("ec2State", "running"), "agentVersion": i.agent_version,
            "registered": {"cpu": i.registered_cpu, "memory": i.registered_memory},
            "remaining": {"cpu": i.remaining_cpu, "memory": i.remaining_memory},
            "attributes": {k: v for k, v in i.attributes.items() if not k.startswith("ecs.")},
            "tasks": _tasks_json(on_instance.get(i.id, ())),
        })
    for cluster, zone in fargate:
        zones[cluster].setdefault(zone, [])
    out = []
    for c in sorted(world["clusters"], key=lambda c: c.name):
        by_zone = zones.get(c.name, {})
        out.append({
            "name": c.name, "status": c.status, "deregistered": deregistered[c.name],
            "zones": [{"name": z or "(no zone)", "instances": by_zone[z], "fargate": _tasks_json(fargate.get((c.name, z), ()))}
                      for z in sorted(by_zone)],
            "pending": _tasks_json(pending.get(c.name, ())),
        })
    return out


def _services(world: dict) -> list[dict]:
    from ecsctl.app.get import service_launch_type
    from ecsctl.core.plan.references import target_group_name

    revisions: dict[tuple[str, str], Counter] = defaultdict(Counter)
    running: Counter = Counter()
    pending: Counter = Counter()
    stopped: dict[tuple[str, str], list] = defaultdict(list)
    service_of_task: dict[str, tuple[str, str]] = {}
    for t in world["tasks"]:
        if not t.service:
            continue
        key = (t.cluster, t.service)
        service_of_task[t.id] = key
        if t.last_status == "STOPPED":
            stopped[key].append(t)
            continue
        if t.last_status == "RUNNING":
            running[key] += 1
        else:
            pending[key] += 1
        revisions[key][t.task_definition] += 1
    targets: dict[tuple[str, str], list] = defaultdict(list)
    for r in sorted(world["targets"], key=lambda r: (r.target_group, r.target_id, r.port)):
        key = service_of_task.get(r.task_id)
        if key:
            targets[key].append({"targetGroup": r.target_group, "target": r.target_id, "port": r.port, "task": r.task_id})
    deployments: dict[tuple[str, str], list] = defaultdict(list)
    for d in sorted(world["deployments"], key=lambda d: (d.created_at, d.id)):
        deployments[(d.cluster, d.service)].append({
            "id": d.id, "status": d.status, "taskDefinition": d.task_definition, "rolloutState": d.rollout_state,
            "rolloutStateReason": d.rollout_state_reason, "desiredCount": d.desired_count,
            "runningCount": d.running_count, "pendingCount": d.pending_count, "failedTasks": d.failed_tasks})
    cluster_specs = {c.name: c.spec for c in world["clusters"]}
    out = []
    for s in sorted(world["services"], key=lambda s: (s.cluster, s.name)):
        key = (s.cluster, s.name)
        config = s.spec.get("deploymentConfiguration") or {}
        gone = sorted(stopped.get(key, ()), key=lambda t: (t.stopped_at, t.id))
        out.append({
            "cluster": s.cluster, "name": s.name, "status": s.status,
            "launchType": service_launch_type(s.spec, cluster_specs.get(s.cluster)) or "CAPACITY_PROVIDER",
            "schedulingStrategy": s.spec.get("schedulingStrategy") or "REPLICA",
            "taskDefinition": s.task_definition, "desiredCount": s.desired_count,
            "runningCount": running[key], "pendingCount": pending[key],
            "revisions": dict(sorted(revisions[key].items())),
            "deploymentConfiguration": {"minimumHealthyPercent": config.get("minimumHealthyPercent", 100),
                                        "maximumPercent": config.get("maximumPercent", 200)},
            "deployments": deployments.get(key, []),
            "loadBalancers": [{"targetGroup": target_group_name(lb.get("targetGroupArn") or lb.get("loadBalancerName") or ""),
                               "containerName": lb.get("containerName"), "containerPort": lb.get("containerPort")}
                              for lb in s.spec.get("loadBalancers") or ()],
            "targets": targets.get(key, []),
            "stopped": {"count": len(gone), "recent": [{"id": t.id, "stoppedAt": t.stopped_at, "stopReason": t.stop_reason}
                                                       for t in gone[-STOPPED_SHOWN:]]},
            "events": [{"at": e.at, "message": e.message} for e in world["events"].get(key, ())],
        })
    return out
