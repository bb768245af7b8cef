"""Use case: everything the state knows of one object (``ecsctl describe KIND NAME``), as
``kubectl describe`` shows it: the object, then what belongs to it.

    service   its spec (launch, deployment configuration, placement, network), deployments
              with their rollout state, load balancers with their registered targets, its auto
              scaling (the scalable target's current bounds, policies, scheduled actions and last
              scaling activities), its last events and its tasks
    instance  identity and EC2 state, attributes, registered and remaining resources,
              reserved ports, and the tasks on it
    task      identity and lifecycle, containers (image, resources, port mappings with the host
              ports the task holds), network, roles, and why it stopped
    taskdef   one revision (a family: its latest), with every revision of the family
    cluster   its spec, instances per group and zone, services and task counts

Any other managed resource can be named by its plan address (``parameter/"/prod/db"``,
``targetgroup/web``): its last-applied spec.  Values that look like secrets are masked, as
in plans.  Objects are looked up as ``get`` looks them up (``app.lookup``).
"""

from __future__ import annotations

from collections import Counter

from ecsctl.app.get import instance_row, service_row
from ecsctl.app.task_rows import run_lookup, task_order, task_row
from ecsctl.app.lookup import one
from ecsctl.app.backend_of import require_simulation_to_read
from ecsctl.app.state import open_required
from ecsctl.errors import InputError

EVENTS_SHOWN = 20
KINDS = ("services", "instances", "tasks", "taskdefs", "clusters")


def describe(state: str, kind: str, ident: str, *, cluster: str | None = None) -> dict:
    """One object as a dict; ``kind`` is a ``get`` kind (``services``…) or ``resource`` (an address)."""
    with open_required(state) as store:
        if kind == "resource":
            return _resource(store, ident)
        require_simulation_to_read(store, state, kind)
        record = one(store, kind, ident, cluster=cluster)
        return _DESCRIBERS[kind](store, record)


def _masked(value):
    from ecsctl.core.plan.codec import mask_value

    return mask_value(value or {})


def _tasks_of(store, **where) -> list[dict]:
    from ecsctl.core.state.ports import Task

    runs = run_lookup(store)
    return [task_row(t, run=runs(t)) for t in sorted(store.find(Task, **where), key=task_order)]


def _service(store, svc) -> dict:
    from ecsctl.app.rollout import deployment_json
    from ecsctl.core.controller.service import strategy_providers
    from ecsctl.core.plan.references import target_group_name
    from ecsctl.core.state.ports import Cluster, Deployment, TargetRegistration

    tasks = _tasks_of(store, cluster=svc.cluster, service=svc.name)
    statuses = Counter(t["lastStatus"] for t in tasks)
    spec = svc.spec or {}
    cluster = store.get(Cluster, svc.cluster)
    cluster_spec = cluster.spec if cluster is not None else None
    deployments = sorted(store.find(Deployment, cluster=svc.cluster, service=svc.name),
                         key=lambda d: (d.status != "PRIMARY", d.status != "ACTIVE", d.created_at, d.id))
    task_ids = {t["id"] for t in tasks}
    balancers = []
    for lb in spec.get("loadBalancers") or ():
        group = target_group_name(str(lb.get("targetGroupArn") or ""))
        targets = [{"target": r.target_id, "port": r.port, "task": r.task_id}
                   for r in store.find(TargetRegistration, target_group=group) if r.task_id in task_ids]
        balancers.append({"targetGroup": group, "containerName": lb.get("containerName"),
                          "containerPort": lb.get("containerPort"), "targets": sorted(targets, key=lambda t: (t["target"], t["port"]))})
    events = store.service_events(svc.cluster, svc.name)[-EVENTS_SHOWN:]
    config = spec.get("deploymentConfiguration") or {}
    return {
        "kind": "Service",
        **service_row(svc, statuses["RUNNING"], statuses["PENDING"] + statuses["PROVISIONING"], cluster_spec),
        "schedulingStrategy": spec.get("schedulingStrategy", "REPLICA"),
        "capacityProviderStrategy": strategy_providers(spec, cluster_spec) if not spec.get("launchType") else [],
        "createdAt": svc.created_at, "updatedAt": svc.updated_at,
        "deploymentConfiguration": {
            "minimumHealthyPercent": config.get("minimumHealthyPercent", 100),
            "maximumPercent": config.get("maximumPercent", 200),
            "deploymentCircuitBreaker": config.get("deploymentCircuitBreaker") or {"enable": False, "rollback": False},
        },
        "placement": {"constraints": spec.get("placementConstraints") or [], "strategy": spec.get("placementStrategy") or []},
        "networkConfiguration": spec.get("networkConfiguration") or {},
        "deployments": [deployment_json(d) for d in deployments],
        "loadBalancers": balancers,
        "scaling": _scaling(store, svc),
        "events": [{"time": e.at, "message": e.message} for e in events],
        "tasks": tasks,
        "spec": _masked(spec),
    }


def _scaling(store, svc) -> dict | None:
    """The service's scalable target as the clock left it, its policies, and its last activities."""
    from ecsctl.backends.local.scaling import ACTIVITY_KIND, STATE_KIND, service_key
    from ecsctl.core.scaling.activities import minute_iso
    from ecsctl.core.state.ports import HistoryEntry, SimState

    auto = (svc.spec or {}).get("autoScaling")
    if not isinstance(auto, dict):
        return None
    key = service_key(svc.cluster, svc.name)
    saved = store.get(SimState, STATE_KIND, key)
    data = saved.data if saved is not None else {}
    policies = [{"policyName": p.get("policyName"), "policyType": "TargetTrackingScaling",
                 "metric": ((p.get("predefinedMetricSpecification") or {}).get("predefinedMetricType")
                            or (p.get("customizedMetricSpecification") or {}).get("metricName")),
                 "target": p.get("targetValue")} for p in auto.get("targetTracking") or ()]
    policies += [{"policyName": p.get("policyName"), "policyType": "StepScaling",
                  "metric": (p.get("alarm") or {}).get("metricName"), "target": (p.get("alarm") or {}).get("threshold")}
                 for p in auto.get("stepScaling") or ()]
    activities = sorted(store.find(HistoryEntry, kind=ACTIVITY_KIND, name=key), key=lambda h: h.id)[-EVENTS_SHOWN:]
    return {
        "minCapacity": data.get("minCapacity", auto.get("minCapacity")),
        "maxCapacity": data.get("maxCapacity", auto.get("maxCapacity")),
        "lastEvaluated": minute_iso(int(data["minute"])) if "minute" in data else None,
        "policies": policies,
        "scheduledActions": [{"scheduledActionName": a.get("scheduledActionName"), "schedule": a.get("schedule"),
                              "timezone": a.get("timezone", "UTC"),
                              "minCapacity": (a.get("scalableTargetAction") or {}).get("minCapacity"),
                              "maxCapacity": (a.get("scalableTargetAction") or {}).get("maxCapacity")}
                             for a in auto.get("scheduled") or ()],
        "activities": [{"time": h.data.get("time"), "previousDesiredCount": h.data.get("previousDesiredCount"),
                        "desiredCount": h.data.get("desiredCount"),
                        "statusCode": h.data.get("statusCode"), "description": h.data.get("description"),
                        "cause": h.data.get("cause")} for h in activities],
    }


def _instance(store, inst) -> dict:
    from ecsctl.app.instances import instance_extras

    running = _tasks_of(store, instance_id=inst.id, last_status="RUNNING")
    row = instance_row(inst, instance_extras(store).get(inst.id), {t["group"] for t in running})
    return {
        "kind": "ContainerInstance",
        **{k: v for k, v in row.items() if k not in ("registeredResources", "remainingResources", "reservedPorts")},
        "resources": {"registered": row["registeredResources"], "remaining": row["remainingResources"]},
        "ports": {"reserved": row["reservedPorts"]},
        "tasks": running,
    }


def _containers(spec: dict, host_ports: list[int]) -> list[dict]:
    """Each container with its port mappings; the task's host ports are matched to them in order
    (the order the scheduler reserves them in: containers, then their port mappings)."""
    from ecsctl.core.scheduling.placement import container_ports

    mode = spec.get("networkMode") or "bridge"
    out, mappings = [], []
    for c in spec.get("containerDefinitions") or ():
        ports = []
        for m in c.get("portMappings") or () if mode != "none" else ():
            for port in container_ports(m):
                entry = {"containerPort": port, "protocol": str(m.get("protocol") or "tcp").lower(), "hostPort": None}
                ports.append(entry)
                mappings.append(entry)
        out.append({"name": c.get("name"), "image": c.get("image"), "essential": c.get("essential", True),
                    "cpu": c.get("cpu"), "memory": c.get("memory"), "memoryReservation": c.get("memoryReservation"),
                    "portMappings": ports,
                    "environment": [e.get("name") for e in c.get("environment") or ()],
                    "secrets": [{"name": s.get("name"), "valueFrom": s.get("valueFrom")} for s in c.get("secrets") or ()]})
    if len(mappings) == len(host_ports):
        for entry, port in zip(mappings, host_ports):
            entry["hostPort"] = port
    return out


def _task(store, task) -> dict:
    from ecsctl.core.state.ports import HistoryEntry, SimState, TargetRegistration, TaskDefinitionRevision

    family, _, revision = task.task_definition.partition(":")
    rev = store.get(TaskDefinitionRevision, family, int(revision)) if revision.isdigit() else None
    spec = rev.spec if rev is not None else {}
    run = store.get(SimState, "TaskRun", task.id)
    run = run.data if run is not None else {}
    of_run = run_lookup(store)(task)
    lifecycle = sorted(store.find(HistoryEntry, kind="TaskLifecycle", name=task.id), key=lambda h: h.id)
    return {
        "kind": "Task",
        **task_row(task, run=of_run),
        "service": task.service,
        "startedBy": task.started_by,
        "createdAt": task.created_at,
        "stopCode": task.stop_code or None,
        "containers": _containers(spec, list(task.host_ports)),
        "network": {"mode": spec.get("networkMode") or "bridge", "subnet": task.subnet or None,
                    "privateIp": task.private_ip or None, "hostPorts": list(task.host_ports)},
        "roles": {key: of_run[key] for key in ("taskRoleArn", "executionRoleArn")},
        "tags": run.get("tags") or [],
        "essentialContainerExit": ({"container": run.get("container"), "after": f"{run['runFor']}s",
                                    "exitCode": run.get("exitCode", 0)} if "runFor" in run else None),
        "lifecycle": [{"status": h.data.get("status"), "time": h.data.get("time")} for h in lifecycle],
        "targets": [{"targetGroup": r.target_group, "target": r.target_id, "port": r.port}
                    for r in store.find(TargetRegistration, task_id=task.id)],
    }


def _taskdef(store, rev) -> dict:
    from ecsctl.core.state.ports import Service, Task, TaskDefinitionRevision

    revisions = sorted(store.find(TaskDefinitionRevision, family=rev.family), key=lambda r: r.revision)
    return {
        "kind": "TaskDefinition",
        "family": rev.family, "revision": rev.revision, "status": rev.status, "registeredAt": rev.registered_at,
        "revisions": [{"revision": r.revision, "status": r.status, "registeredAt": r.registered_at} for r in revisions],
        "services": sorted(f"{s.cluster}/{s.name}" for s in store.find(Service, task_definition=rev.ref)),
        "runningTasks": store.count(Task, task_definition=rev.ref, last_status="RUNNING"),
        "spec": _masked(rev.spec),
    }


def _cluster(store, cluster) -> dict:
    from ecsctl.core.state.ports import ContainerInstance, Service, Task

    instances = store.find(ContainerInstance, cluster=cluster.name)
    groups: dict[tuple, Counter] = {}
    for i in instances:
        groups.setdefault((i.group_name, i.instance_type, i.availability_zone), Counter())[i.status] += 1
    services = store.find(Service, cluster=cluster.name)
    tasks = Counter(t.last_status for t in store.find(Task, cluster=cluster.name))
    return {
        "kind": "Cluster",
        "name": cluster.name, "status": cluster.status, "createdAt": cluster.created_at,
        "capacityProviders": (cluster.spec or {}).get("capacityProviders") or [],
        "defaultCapacityProviderStrategy": (cluster.spec or {}).get("defaultCapacityProviderStrategy") or [],
        "instances": [{"group": g, "instanceType": t, "availabilityZone": az, "byStatus": dict(sorted(c.items()))}
                      for (g, t, az), c in sorted(groups.items())],
        "services": [{"name": s.name, "status": s.status, "taskDefinition": s.task_definition, "desiredCount": s.desired_count}
                     for s in sorted(services, key=lambda s: s.name)],
        "tasks": dict(sorted(tasks.items())),
        "autoScalingGroups": _groups(store, cluster.name, instances),
        "spec": _masked(cluster.spec),
    }


ACTIVITIES_SHOWN = 10


def _groups(store, cluster: str, instances) -> list[dict]:
    """The Auto Scaling groups of the cluster's capacity providers: size, booting instances and
    the last managed scaling activities (``backends.local.asg``, ``managed_scaling``)."""
    from ecsctl.backends.local.asg import GROUP_ACTIVITY_KIND, KIND, bounds
    from ecsctl.backends.local.capacity_providers import group_name
    from ecsctl.core.state.ports import CatalogueEntry, HistoryEntry, SimState

    out = []
    for state in sorted(store.find(SimState, kind=KIND), key=lambda s: s.name):
        if (state.data or {}).get("cluster") != cluster:
            continue
        mine = [i for i in instances if i.group_name == group_name(state.name) and i.status != "INACTIVE"]
        history = sorted(store.find(HistoryEntry, kind=GROUP_ACTIVITY_KIND, name=state.name), key=lambda h: h.id)
        entry = store.get(CatalogueEntry, "CapacityProvider", state.name)
        low, high = bounds(entry.spec if entry is not None else None)
        out.append({
            "capacityProvider": state.name, "minSize": low, "maxSize": high, "desiredCapacity": state.data.get("desired"),
            "registered": len(mine), "booting": len(state.data.get("booting") or ()),
            "activities": [{"time": h.at, "description": h.data.get("description"), "cause": h.data.get("cause")}
                           for h in history[-ACTIVITIES_SHOWN:]],
        })
    return out


def _resource(store, text: str) -> dict:
    from ecsctl.core.plan.model import address, parse_address

    try:
        kind, name, cluster = parse_address(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    addr = address(kind, name, {"cluster": cluster} if cluster else None)
    found = next((r for r in store.resources() if address(r.kind, r.name, r.spec) == addr), None)
    if found is None:
        raise InputError(f"{addr} is not in the state (`ecsctl state list` lists what is)")
    return {"kind": found.kind, "address": addr, "name": found.name, "appliedSerial": found.applied_serial,
            "spec": _masked(found.spec)}


_DESCRIBERS = {
    "services": _service,
    "instances": _instance,
    "tasks": _task,
    "taskdefs": _taskdef,
    "clusters": _cluster,
}
