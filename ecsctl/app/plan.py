"""Use cases: make a plan from manifests and the state, apply a plan to a backend."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ecsctl.app.validate import Loaded, Validator, discover
from ecsctl.core.findings import ValidationReport
from ecsctl.core.plan.model import Change, Desired, FieldChange, Plan, Step, address
from ecsctl.errors import InputError, StateError


class ManifestErrors(InputError):
    """The manifests have validation errors; ``report`` holds them for the CLI to show."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(f"the manifests have {report.errors} error(s): plan and apply refuse them (see above, or run `ecsctl validate`)")
        self.report = report


class StalePlan(StateError):
    pass


@dataclass
class Inputs:
    desired: list[Desired]
    files: dict[str, bytes]


def read_manifests(paths: list[str]) -> Inputs:
    """Load and validate manifests; refuse them if any error is found."""
    from ecsctl.core.normalize import canonical

    files: dict[str, bytes] = {}

    def read(name: str) -> bytes:
        with open(name, "rb") as fh:
            files[name] = fh.read()
        return files[name]

    validator = Validator()
    loaded: Loaded = validator.load(discover(paths), read)
    report = validator.check(loaded)
    if report.errors:
        raise ManifestErrors(report)
    desired = []
    for doc in loaded.documents:
        if not doc.kind or not doc.name:
            continue
        spec = canonical(doc.kind, doc.name, doc.spec)
        desired.append(Desired(address(doc.kind, doc.name, spec), doc.kind, doc.name, spec))
    return Inputs(desired, files)


def make_plan(inputs: Inputs, store) -> Plan:
    """Diff the manifests against the state (``store`` may be ``None``: nothing applied yet)."""
    from ecsctl.core.plan.codec import manifests_hash
    from ecsctl.core.plan.diff import diff
    from ecsctl.core.plan.drift import detect_drift
    from ecsctl.core.plan.graph import build_steps
    from ecsctl.core.state.ports import ContainerInstance, Service, Task

    applied: dict[str, tuple[str, str, dict]] = {}
    lineage, serial = None, 0
    services: list = []
    instances: list = []
    running: Counter = Counter()
    revisions: dict[str, int] = {}
    if store is not None:
        meta = store.meta()
        lineage, serial = meta.lineage, meta.serial
        applied = {r.address: (r.kind, r.name, r.spec) for r in store.resources()}
        services = store.find(Service)
        instances = store.find(ContainerInstance)
        # counted in SQL: a plan must not read 50,000 task records to learn 2,000 numbers
        for (cluster, service), n in store.tally(Task, ("cluster", "service"), last_status="RUNNING").items():
            if service:
                running[(cluster, service)] = n
        revisions = store.latest_revisions()
    changes = diff(inputs.desired, applied)
    changes = _cascade_revisions(changes, services, revisions)
    steps = build_steps(changes, existing=set(applied))
    drift = detect_drift(applied, services, running, instances)
    predictions = predict_placement(changes, steps, store, services, revisions)
    return Plan(lineage=lineage, serial=serial, manifests_hash=manifests_hash(inputs.files),
                changes=changes, steps=steps, drift=drift, predictions=predictions)


def _cascade_revisions(changes: list[Change], services, revisions: dict[str, int]) -> list[Change]:
    """A service that names a family follows its latest revision: a new revision updates the service."""
    new_revision = {
        c.name: revisions.get(c.name, 0) + 1 for c in changes if c.kind == "TaskDefinition" and c.action in ("create", "update", "replace")
    }
    current = {(s.cluster, s.name): s.task_definition for s in services}
    out = []
    for c in changes:
        if c.kind == "Service" and c.action in ("no-op", "update") and c.after is not None:
            family = str(c.after.get("taskDefinition", "")).rsplit("/", 1)[-1]
            if ":" not in family and family in new_revision:
                cluster = c.address.split("/")[1]
                before = current.get((cluster, c.name), f"{family}:{new_revision[family] - 1}")
                after = f"{family}:{new_revision[family]}"
                field = FieldChange(("taskDefinition",), "change", before, after)
                reason = f"task definition {family} registers revision {new_revision[family]}: a new deployment"
                c = replace(c, action="update", fields=c.fields + (field,), reason=c.reason or reason)
        out.append(c)
    return out


# --- placement prediction ----------------------------------------------------------------------


def predict_placement(changes: list[Change], steps: list[Step], store, services=(), revisions=None) -> list[dict]:
    """How many tasks each service step would start that cannot be placed (``core.plan.predict``).

    Gathers the inputs: per cluster, the placement nodes the local backend would build (its
    instances in the state with their RUNNING tasks, or, for a cluster created or changed in
    this plan, the instances its groups will register, with the same deterministic ids); per
    Service step in plan order, the demand of the revision it will run, its constraints and
    strategies, the tasks that stay and the tasks stopped first (a new deployment stops every
    old task, as the local backend does today). DAEMON services are not predicted.
    """
    from ecsctl.core.plan.predict import ServiceRequest, StoppedTask, predict
    from ecsctl.core.scheduling.placement import TaskDemand, task_definition_constraints

    by_address = {c.address: c for c in changes}
    service_steps = [s for s in steps if s.kind == "Service"]
    if not service_steps:
        return []
    from ecsctl.backends.local.services import REDEPLOY_FIELDS, launch_type
    from ecsctl.core.state.ports import Cluster, Service, Task, TaskDefinitionRevision

    world = _world(store)
    revisions = dict(revisions or {})
    current = {(s.cluster, s.name): s for s in services}
    new_revisions = {c.name: (revisions.get(c.name, 0) + 1, c.after or {}) for c in changes
                     if c.kind == "TaskDefinition" and c.action in ("create", "update", "replace")}
    cluster_specs = {c.name: c.after or {} for c in changes
                     if c.kind == "Cluster" and c.action in ("create", "update", "replace")}
    nodes: dict[str, list] = {}
    instance_ok: dict[str, dict[str, bool]] = {}

    def cluster_nodes(name: str) -> None:
        if name in nodes:
            return
        existing = world.nodes(name) if world is not None else []
        if name in cluster_specs:
            records = world.instances(name) if world is not None else []
            existing = _cluster_nodes(name, cluster_specs[name], existing, records, store)
        nodes[name] = existing
        # tasks the scheduler keeps (as converge does: a DRAINING instance's tasks move later, within the bounds)
        instance_ok[name] = {n.id: n.status in ("ACTIVE", "DRAINING") and n.agent_connected for n in nodes[name]}

    def revision_spec(ref: str) -> tuple[str, dict | None]:
        """(``family:rev``, spec) of the revision a service's ``taskDefinition`` resolves to after the plan."""
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

    def running(cluster: str, name: str) -> list:
        return store.find(Task, cluster=cluster, service=name, last_status="RUNNING") if store is not None else []

    def stopped(tasks: list) -> tuple:
        out = []
        for t in tasks:
            if t.instance_id is None:
                continue
            try:
                demand = world.demand(t.task_definition)
            except InputError:  # an unknown revision: its cpu/memory are on the task
                demand = TaskDemand(t.cpu, t.memory)
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
        if str(spec.get("schedulingStrategy") or "REPLICA").upper() == "DAEMON":
            continue
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
                                       fargate=fargate))
    return predict(nodes, requests, seed=0)


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


def backend_for(store, name: str = "local"):
    """The backend that executes steps; only the local simulation exists so far."""
    if name != "local":
        raise InputError(f"backend '{name}' is not available (only 'local')")
    from ecsctl.backends.local import LocalBackend

    return LocalBackend(store)


def check_fresh(plan: Plan, store) -> None:
    """A saved plan applies only to the state it was made against."""
    meta = store.meta()
    if plan.lineage is None:
        if meta.serial != 0:
            raise StalePlan(f"the plan was made against an empty state, but the state has since been applied "
                            f"(serial {meta.serial}); run plan again")
        return
    if meta.lineage != plan.lineage:
        raise StalePlan(f"the plan belongs to another state (lineage {plan.lineage}, this state is {meta.lineage}); run plan again")
    if meta.serial != plan.serial:
        raise StalePlan(f"the state moved on since the plan was made (serial {plan.serial} -> {meta.serial}); run plan again")


def clusters_to_reconcile(plan: Plan) -> list[str]:
    """Clusters with services short of their desired count: the scheduler tops them up on apply."""
    return sorted({d.address.split("/")[1] for d in plan.drift if d.field == "runningCount"})


def apply_plan(plan: Plan, store, backend, on_step: Callable[[Step, int, int], None] | None = None) -> int:
    """Execute every step in order, each committing on its own, then let the scheduler replace
    lost tasks (as ECS's service scheduler would). Returns the number of steps applied."""
    check_fresh(plan, store)
    total = len(plan.steps)
    for n, step in enumerate(plan.steps, start=1):
        backend.apply_step(step)
        if on_step:
            on_step(step, n, total)
    for cluster in clusters_to_reconcile(plan):
        backend.reconcile(cluster)
    return total


def save_plan(plan: Plan, path: str) -> None:
    import json

    from ecsctl.core.plan.codec import plan_to_json

    Path(path).write_text(json.dumps(plan_to_json(plan), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_plan(path: str) -> Plan:
    import json

    from ecsctl.core.plan.codec import plan_from_json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a saved plan ({exc})") from None
    return plan_from_json(data)
