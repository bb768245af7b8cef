"""Use case helper: predict, while planning, the tasks each service step could not place.

Split from ``app/plan.py``: this gathers the placement inputs (the local backend's view of
instances and running tasks, or the instances a cluster change will register) and hands
them to the pure simulation in ``core/plan/predict.py``.
"""

from __future__ import annotations

from ecsctl.core.plan.model import Change, Step
from ecsctl.errors import InputError


def predict_placement(changes: list[Change], steps: list[Step], store, services=(), revisions=None) -> list[dict]:
    """How many tasks each service step would start that cannot be placed (``core.plan.predict``).

    Gathers the inputs: per cluster, the placement nodes the local backend would build (its
    instances in the state with their RUNNING tasks, or, for a cluster created or changed in
    this plan, the instances its groups will register, with the same deterministic ids); per
    Service step in plan order, the demand of the revision it will run, its constraints and
    strategies, the tasks that stay and the tasks stopped first (a new deployment stops every
    old task, as the local backend does today). A DAEMON service wants one task per ACTIVE,
    connected instance that meets its constraints.
    """
    from ecsctl.core.plan.predict import ServiceRequest, StoppedTask, predict
    from ecsctl.core.scheduling.placement import TaskDemand, task_definition_constraints

    by_address = {c.address: c for c in changes}
    service_steps = [s for s in steps if s.kind == "Service"]
    if not service_steps:
        return []
    from ecsctl.backends.local.services import REDEPLOY_FIELDS, launch_type
    from ecsctl.core.state.ports import Cluster, Task

    world = _world(store)
    revisions = dict(revisions or {})
    current = {(s.cluster, s.name): s for s in services}
    new_revisions = new_revisions_of(changes, revisions)
    cluster_specs = changed_cluster_specs(changes)
    nodes: dict[str, list] = {}
    instance_ok: dict[str, dict[str, bool]] = {}

    def cluster_nodes(name: str) -> None:
        if name in nodes:
            return
        nodes[name] = placement_nodes(name, world, cluster_specs, store)
        # tasks the scheduler keeps (as converge does: a DRAINING instance's tasks move later, within the bounds)
        instance_ok[name] = {n.id: n.status in ("ACTIVE", "DRAINING") and n.agent_connected for n in nodes[name]}

    def revision_spec(ref: str) -> tuple[str, dict | None]:
        return resolve_revision(ref, new_revisions, store)

    def running(cluster: str, name: str) -> list:
        return store.find(Task, cluster=cluster, service=name, last_status="RUNNING") if store is not None else []

    def stopped(tasks: list) -> tuple:
        out = []
        for t in tasks:
            if t.instance_id is None:
                continue
            demand = task_demand(world, t)
            out.append(StoppedTask(t.instance_id, demand, tuple(t.host_ports), t.group))
        return tuple(out)

    requests = []
    for step in service_steps:
        c = by_address.get(step.address)
        if c is None:
            continue
        cluster_name = step.address.split("/")[1]
        svc = current.get((cluster_name, c.name))
        if svc is not None and svc.status == "INACTIVE":
            svc = None
        if c.action == "delete":
            if svc is not None:
                cluster_nodes(cluster_name)
                requests.append(ServiceRequest(step.address, cluster_name, None, stop=stopped(running(cluster_name, c.name)),
                                               report=False))
            continue
        spec = c.after or {}
        daemon = str(spec.get("schedulingStrategy") or "REPLICA").upper() == "DAEMON"
        cluster_nodes(cluster_name)
        if cluster_name in cluster_specs:
            cluster_record = Cluster(cluster_name, spec=cluster_specs[cluster_name])
        else:
            cluster_record = store.get(Cluster, cluster_name) if store is not None else None
        fargate = launch_type(spec, cluster_record) == "FARGATE"
        ref, td_spec = revision_spec(spec.get("taskDefinition"))
        demand = TaskDemand.from_task_definition(td_spec) if td_spec is not None else None
        constraints = [x for x in spec.get("placementConstraints") or () if isinstance(x, dict)]
        constraints += task_definition_constraints(td_spec or {})
        strategies = tuple(x for x in spec.get("placementStrategy") or () if isinstance(x, dict)) or None
        if svc is None or c.action in ("create", "replace"):
            wanted = _desired_count(spec, 1)
            tasks = running(cluster_name, c.name) if svc is not None else []
            kept, stop = 0, stopped(tasks)
        else:
            before = c.before or {}
            wanted = svc.desired_count
            if before.get("desiredCount") != spec.get("desiredCount"):
                wanted = _desired_count(spec, svc.desired_count)
            tasks = running(cluster_name, c.name)
            redeploy = ref != svc.task_definition or any(svc.spec.get(k) != spec.get(k) for k in REDEPLOY_FIELDS)
            if redeploy:
                kept, stop = 0, stopped(tasks)
            else:
                ok = instance_ok[cluster_name]
                alive = [t for t in tasks if t.instance_id is None or ok.get(t.instance_id, False)]
                kept, stop = len(alive), stopped([t for t in tasks if t not in alive])
        requests.append(ServiceRequest(step.address, cluster_name, demand, wanted=wanted, kept=kept,
                                       constraints=tuple(constraints), strategies=strategies, stop=stop,
                                       fargate=fargate, daemon=daemon))
    return predict(nodes, requests, seed=0)


def new_revisions_of(changes: list[Change], revisions: dict[str, int] | None) -> dict[str, tuple[int, dict]]:
    """``family -> (revision number, spec)`` of every revision the plan registers."""
    revisions = revisions or {}
    return {c.name: (revisions.get(c.name, 0) + 1, c.after or {}) for c in changes
            if c.kind == "TaskDefinition" and c.action in ("create", "update", "replace")}


def changed_cluster_specs(changes: list[Change]) -> dict[str, dict]:
    """``cluster name -> spec`` of every cluster the plan creates or changes."""
    return {c.name: c.after or {} for c in changes if c.kind == "Cluster" and c.action in ("create", "update", "replace")}


def placement_nodes(name: str, world, cluster_specs: dict[str, dict], store) -> list:
    """The placement nodes of cluster ``name`` as the local backend will see them after the
    plan's cluster change (if any): its instances with their RUNNING tasks."""
    existing = world.nodes(name) if world is not None else []
    if name in cluster_specs:
        records = world.instances(name) if world is not None else []
        existing = _cluster_nodes(name, cluster_specs[name], existing, records, store)
    return existing


def resolve_revision(ref, new_revisions: dict[str, tuple[int, dict]], store) -> tuple[str, dict | None]:
    """(``family:rev``, spec) of the revision a service's ``taskDefinition`` resolves to after the plan."""
    from ecsctl.core.state.ports import TaskDefinitionRevision

    text = str(ref or "")
    if text.startswith("arn:") and "task-definition/" in text:
        text = text.rsplit("task-definition/", 1)[-1]
    family, _, rev = text.rpartition(":")
    if not (rev.isdigit() and family):
        family, rev = text, ""
    if family in new_revisions and (not rev or int(rev) == new_revisions[family][0]):
        number, spec = new_revisions[family]
        return f"{family}:{number}", spec
    if store is None:
        return text, None
    if rev:
        found = store.get(TaskDefinitionRevision, family, int(rev))
    else:
        active = store.find(TaskDefinitionRevision, family=family, status="ACTIVE")
        found = max(active, key=lambda r: r.revision) if active else None
    return (found.ref, found.spec) if found is not None else (text, None)


def task_demand(world, task):
    """What a running ``task`` takes from its instance (its revision's demand, else its cpu/memory)."""
    from ecsctl.core.scheduling.placement import TaskDemand

    try:
        return world.demand(task.task_definition)
    except InputError:  # an unknown revision: its cpu/memory are on the task
        return TaskDemand(task.cpu, task.memory)


def _world(store):
    if store is None:
        return None
    from ecsctl.backends.local.world import World

    return World(store)


def _desired_count(spec: dict, default: int) -> int:
    value = spec.get("desiredCount", default)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _attr_value(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cluster_nodes(cluster: str, spec: dict, existing: list, records: list, store) -> list:
    """The placement nodes of a cluster after its spec is applied: the instances its groups
    register, as the local backend's ``apply_cluster`` does (an instance whose id, type, AZ and
    registered resources stay keeps its node and tasks; any other is a fresh registration)."""
    from ecsctl.backends.local import ids
    from ecsctl.core.scheduling.instance_types import builtin_attributes, instance_resources
    from ecsctl.core.scheduling.placement import Node

    def whole(value):
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    nodes = {n.id: n for n in existing}
    records_by_id = {r.id: r for r in records if r.status != "INACTIVE"}
    registered_at = (store.clock() if store is not None else None) or ids.DEFAULT_CLOCK
    out = []
    for group in spec.get("containerInstances") or ():
        if not isinstance(group, dict):
            continue
        name = str(group.get("name") or "default")
        instance_type = str(group.get("instanceType") or "")
        az = str(group.get("availabilityZone") or "us-east-1a")
        try:
            res = instance_resources(instance_type, cpu=whole(group.get("cpu")), memory=whole(group.get("memory")))
        except KeyError:
            continue  # validation reports it; apply refuses it
        attributes = dict(builtin_attributes(instance_type, az))
        for key, value in (group.get("attributes") or {}).items():
            attributes[str(key)] = _attr_value(value)
        agent = str(group.get("agentVersion") or "1.80.0")
        count = whole(group.get("count"))
        for n in range(1, (1 if count is None else count) + 1):
            cid = ids.container_instance_id(cluster, name, n)
            record, node = records_by_id.get(cid), nodes.get(cid)
            if record is not None and node is not None and (
                    record.instance_type, record.availability_zone, record.registered_cpu,
                    record.registered_memory, record.registered_gpu) == (instance_type, az, res.cpu, res.memory, res.gpu):
                node.attributes = attributes
                node.agent_version = agent
                out.append(node)
                continue
            out.append(Node(id=cid, availability_zone=az, attributes=attributes, remaining_cpu=res.cpu,
                            remaining_memory=res.memory, remaining_gpu=res.gpu, agent_version=agent,
                            registered_at=registered_at, ec2_instance_id=ids.ec2_instance_id(cid)))
    return out
