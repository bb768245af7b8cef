"""The container-instance lifecycle in the simulation: drain, activate, EC2 stop/start/terminate,
deregister (ecs-semantics §4).

Every action is a function ``ACTION(world, instance) -> list[str]`` over a ``World`` inside the
caller's ``store.transaction()``; it returns the notable service events it recorded (a stuck
drain, a task that could not be placed).  Bad transitions raise ``InputError`` (one line).

Model (documented choices):

* **drain** — ``ACTIVE`` → ``DRAINING`` (again on ``DRAINING``: drain once more, e.g. after the
  service's deployment configuration changed; ``INACTIVE`` is refused).  The placer already skips
  non-ACTIVE instances.  Each REPLICA service with tasks on the instance is drained in steps
  bounded by ``deployment_bounds(desiredCount, minimumHealthyPercent, maximumPercent)``
  (defaults 100/200): start replacements elsewhere while the service has fewer than ``upper``
  RUNNING tasks (the service's PENDING tasks are placed first, as the first replacements; a
  replacement that cannot be placed is not started), then stop draining tasks while
  ``healthy - 1 >= lower`` (every RUNNING task counts as healthy: tasks start RUNNING at once);
  repeat until none is left on the instance or a step can do nothing, which records
  ``service (NAME) was unable to stop or start tasks during a deployment because of the service
  deployment configuration. …`` (or the placement failure) and leaves the rest RUNNING.  Once a
  service has no task left on the instance it is converged to its desired count as usual.
  Drained tasks stop with code ``ServiceSchedulerInitiated`` and reason :data:`DRAINING_REASON`.
  DAEMON tasks on the instance are stopped (last, with the same reason); standalone tasks (no
  service) are untouched.
* **activate** — ``DRAINING`` → ``ACTIVE`` (``ACTIVE`` is a no-op); nothing moves back: the
  services are reconciled and only normal placement may use the instance again.
* **stop** (EC2 stop) — status unchanged, ``agentConnected`` false, every RUNNING task on it
  (standalone and daemon ones too) stops with code ``TerminationNotice`` and reason
  ``Host EC2 (instance i-…) stopped/terminated``; the cluster's services are then reconciled
  (replacements elsewhere).
* **start** — the agent reconnects; no task comes back by itself; services are reconciled (and
  may place on it again if it is ACTIVE).
* **terminate** — with a connected agent the instance deregisters itself: its tasks stop (as for
  stop), status ``INACTIVE``, agent disconnected.  A stopped (agent disconnected) instance is
  **not** deregistered: it stays in its status with ``agentConnected=false`` — a ghost — until
  ``deregister``.
* **deregister** — ``INACTIVE``; ECS would orphan its tasks (running, untracked); the simulation
  stops tracking them by stopping them with reason ``Container instance deregistered``, and the
  services replace them elsewhere.

The EC2 state of an instance (``running`` / ``stopped`` / ``terminated``) is kept as a
``CatalogueEntry`` of kind :data:`EC2_KIND` named by the EC2 instance id (not in the instance's
attributes, which applying the cluster rewrites).  It means something only while the agent is
disconnected: a re-registered (connected) instance is ``running`` whatever an old entry says.

Services with tasks on a DRAINING instance are drained by :func:`reconcile` instead of being
converged (``services.converge`` would stop those tasks outright, ignoring the bounds).
"""

from __future__ import annotations

from dataclasses import replace

from ecsctl.backends.local import ids
from ecsctl.backends.local.instances import DEREGISTERED, deregister as _deregister
from ecsctl.backends.local.services import (
    SCHEDULER,
    _constraints,
    converge,
    launch_type,
    new_deployment,
    primary_deployment,
    promote,
    register_targets,
    registration_events,
    start_task,
    task_network,
)
from ecsctl.backends.local.world import World
from ecsctl.core.deploy.bounds import DEFAULT_MAX_PCT, DEFAULT_MIN_PCT, STUCK_EVENT, deployment_bounds
from ecsctl.core.scheduling.placement import Unplaced
from ecsctl.core.state.ports import (
    CatalogueEntry,
    Cluster,
    ContainerInstance,
    Service,
    StateStore,
    Task,
)
from ecsctl.errors import InputError

DRAINING_REASON = "Task stopped because the container instance is draining"
HOST_STOP_CODE = "TerminationNotice"
EC2_KIND = "Ec2Instance"
ACTIONS = ("drain", "activate", "stop", "start", "terminate", "deregister")
_MAX_STEPS = 10_000  # a drain always ends long before; a guard against a modelling bug


def host_stopped_reason(inst: ContainerInstance) -> str:
    return f"Host EC2 (instance {ids.ec2_instance_id(inst.id)}) stopped/terminated"


# ---------------------------------------------------------------------------------------------
# Looking instances up, and their EC2 state


def find_instance(store: StateStore, ref: str) -> ContainerInstance:
    """By container-instance id, its ARN, its EC2 instance id (``i-…``) or a unique id prefix."""
    text = str(ref or "").strip()
    if text.startswith("arn:"):
        text = text.rsplit("/", 1)[-1]
    if not text:
        raise InputError("no container instance id given")
    found = store.get(ContainerInstance, text)
    if found is not None:
        return found
    every = store.find(ContainerInstance)
    if text.startswith("i-"):
        matches = [i for i in every
                   if ids.ec2_instance_id(i.id) == text or i.attributes.get("ec2InstanceId") == text]
    else:
        matches = [i for i in every if len(text) >= 6 and i.id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InputError(f"container instance {text!r} is ambiguous: it matches {len(matches)} instances")
    raise InputError(f"container instance {text} not found in the state (see `ecsctl get instances`)")


def ec2_state(store: StateStore, inst: ContainerInstance) -> str:
    """``running``, ``stopped`` or ``terminated`` (the EC2 side of the instance)."""
    if inst.agent_connected:
        return "running"
    entry = store.get(CatalogueEntry, EC2_KIND, ids.ec2_instance_id(inst.id))
    state = (entry.spec.get("state") if entry else None) or "stopped"
    return str(state)


def ec2_states(store: StateStore) -> dict[str, str]:
    """Container-instance id → EC2 state, for every instance (one pass over the records)."""
    marks = {e.name: str(e.spec.get("state") or "stopped") for e in store.find(CatalogueEntry, kind=EC2_KIND)}
    return {
        i.id: "running" if i.agent_connected else marks.get(ids.ec2_instance_id(i.id), "stopped")
        for i in store.find(ContainerInstance)
    }


def _mark(world: World, inst: ContainerInstance, state: str | None) -> None:
    name = ids.ec2_instance_id(inst.id)
    if state is None:
        world.store.delete(CatalogueEntry, EC2_KIND, name)
    else:
        world.store.save(CatalogueEntry(EC2_KIND, name, {"state": state, "containerInstance": inst.id,
                                                         "cluster": inst.cluster}))


def _current(world: World, inst: ContainerInstance) -> ContainerInstance:
    return world.store.get(ContainerInstance, inst.id) or inst


# ---------------------------------------------------------------------------------------------
# Actions


def drain(world: World, inst: ContainerInstance) -> list[str]:
    if inst.status not in ("ACTIVE", "DRAINING"):
        raise InputError(
            f"container instance {inst.id} is {inst.status}: only ACTIVE or DRAINING container instances "
            "can be updated (UpdateContainerInstancesState)")
    if inst.status != "DRAINING":
        world.store.save(replace(inst, status="DRAINING"))
    messages: list[str] = []
    cluster = inst.cluster
    for svc in _services(world, cluster):
        if not _is_daemon(svc) and _tasks_on(world, svc, {inst.id}):
            messages += _drain_service(world, svc, {inst.id})
    for svc in _services(world, cluster):  # daemon tasks go last
        if _is_daemon(svc):
            victims = _tasks_on(world, svc, {inst.id})
            for task in victims:
                world.stop_task(task, SCHEDULER, DRAINING_REASON)
            if victims:
                world.event(cluster, svc.name, _stopped_event(svc.name, victims))
    world.refresh_instances(cluster)
    messages += reconcile(world, cluster)
    return _unique(messages)


def activate(world: World, inst: ContainerInstance) -> list[str]:
    if inst.status not in ("ACTIVE", "DRAINING"):
        raise InputError(
            f"container instance {inst.id} is {inst.status}: only ACTIVE or DRAINING container instances "
            "can be updated (UpdateContainerInstancesState)")
    if inst.status != "ACTIVE":
        world.store.save(replace(inst, status="ACTIVE"))
    return reconcile(world, inst.cluster)


def stop(world: World, inst: ContainerInstance) -> list[str]:
    _refuse_gone(world, inst, "stop")
    if not inst.agent_connected:
        raise InputError(f"EC2 instance {ids.ec2_instance_id(inst.id)} is already stopped "
                         f"(container instance {inst.id}: agent disconnected)")
    _stop_all_on(world, inst, host_stopped_reason(inst))
    world.store.save(replace(_current(world, inst), agent_connected=False))
    _mark(world, inst, "stopped")
    return reconcile(world, inst.cluster)


def start(world: World, inst: ContainerInstance) -> list[str]:
    _refuse_gone(world, inst, "start")
    if inst.agent_connected:
        raise InputError(f"EC2 instance {ids.ec2_instance_id(inst.id)} is already running "
                         f"(container instance {inst.id}: agent connected)")
    world.store.save(replace(inst, agent_connected=True))
    _mark(world, inst, None)
    return reconcile(world, inst.cluster)


def terminate(world: World, inst: ContainerInstance) -> list[str]:
    ec2 = ids.ec2_instance_id(inst.id)
    if ec2_state(world.store, inst) == "terminated":
        raise InputError(f"EC2 instance {ec2} is already terminated (container instance {inst.id})")
    if inst.agent_connected and inst.status != "INACTIVE":
        # a connected agent deregisters the instance as the host goes away
        _stop_all_on(world, inst, host_stopped_reason(inst))
        _deregister(world, replace(_current(world, inst), agent_connected=False), host_stopped_reason(inst))
    elif inst.agent_connected:  # deregistered earlier, the host was still running
        world.store.save(replace(inst, agent_connected=False))
    # a stopped instance (agent disconnected) is NOT deregistered: it stays, a ghost
    _mark(world, inst, "terminated")
    return reconcile(world, inst.cluster)


def deregister(world: World, inst: ContainerInstance) -> list[str]:
    if inst.status == "INACTIVE":
        raise InputError(f"container instance {inst.id} is already INACTIVE (deregistered)")
    _deregister(world, inst, DEREGISTERED)
    return reconcile(world, inst.cluster)


def run(world: World, action: str, inst: ContainerInstance) -> list[str]:
    """Run ``action`` (one of :data:`ACTIONS`) on ``inst``."""
    handler = {"drain": drain, "activate": activate, "stop": stop, "start": start,
               "terminate": terminate, "deregister": deregister}.get(action)
    if handler is None:
        raise InputError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    world.now()  # initialise the clock on first use
    return handler(world, inst)


def _refuse_gone(world: World, inst: ContainerInstance, action: str) -> None:
    if ec2_state(world.store, inst) == "terminated":
        raise InputError(f"cannot {action} EC2 instance {ids.ec2_instance_id(inst.id)}: it is terminated")
    if inst.status == "INACTIVE":
        raise InputError(f"cannot {action} container instance {inst.id}: it is INACTIVE (deregistered)")


def _stop_all_on(world: World, inst: ContainerInstance, reason: str) -> None:
    for task in world.running_tasks(inst.cluster, instance_id=inst.id):
        world.stop_task(task, HOST_STOP_CODE, reason)
    world.refresh_instances(inst.cluster)


# ---------------------------------------------------------------------------------------------
# Reconciling, with draining instances drained within the services' bounds


def reconcile(world: World, cluster: str) -> list[str]:
    """Like ``services.reconcile_cluster``, but a REPLICA service with tasks on a DRAINING
    (connected) instance is drained step by step instead of having those tasks stopped at once."""
    draining = {i.id for i in world.instances(cluster) if i.status == "DRAINING" and i.agent_connected}
    messages: list[str] = []
    for svc in _services(world, cluster):
        if draining and not _is_daemon(svc) and _tasks_on(world, svc, draining):
            messages += _drain_service(world, svc, draining)
        else:
            converge(world, svc)
    world.refresh_instances(cluster)
    return _unique(messages)


def _drain_service(world: World, svc: Service, draining: set[str]) -> list[str]:
    store = world.store
    cluster, name = svc.cluster, svc.name
    group = f"service:{name}"
    revision = world.revision(svc.task_definition)
    demand = world.demand(svc.task_definition)
    cluster_record = store.get(Cluster, cluster)
    lt = launch_type(svc.spec, cluster_record)
    net = task_network(world, cluster_record, svc.spec, demand, lt)
    constraints = _constraints(svc.spec, revision)
    strategies = [s for s in svc.spec.get("placementStrategy") or () if isinstance(s, dict)] or None
    min_pct, max_pct = _percents(svc.spec)
    lower, upper = deployment_bounds(svc.desired_count, min_pct, max_pct)
    dep = primary_deployment(world, svc) or new_deployment(world, svc)
    instances = {i.id: i for i in world.instances(cluster)}
    messages: list[str] = []

    for _ in range(_MAX_STEPS):
        running = world.running_tasks(cluster, service=name)
        on_draining = sorted((t for t in running if t.instance_id in draining), key=lambda t: t.id)
        if not on_draining:
            break
        # 1. replacements elsewhere, while the service may have more tasks
        elsewhere = len(running) - len(on_draining)
        wanted = min(upper - len(running), svc.desired_count - elsewhere)
        started: list[Task] = []
        failure: Unplaced | None = None
        if wanted > 0 and lt != "FARGATE":
            placer = world.placer(cluster)
            pending = world.pending_tasks(cluster, service=name)
            for _ in range(wanted):
                result = placer.place(demand, group=group, constraints=constraints, strategies=strategies)
                if isinstance(result, Unplaced):
                    failure = result
                    break
                inst = instances[result.instance_id]
                if pending:  # a PENDING task of the service is the first replacement
                    started.append(promote(world, pending.pop(0), inst.id, inst.availability_zone,
                                           tuple(result.host_ports), lt, net))
                else:
                    started.append(start_task(world, svc, svc.task_definition, dep.id, lt, inst.id, inst.availability_zone,
                                              tuple(result.host_ports), net))
        # 2. stop draining tasks while the healthy floor allows
        healthy = len(running) + len(started)
        victims = on_draining[:max(0, min(len(on_draining), healthy - lower))]
        for task in victims:
            world.stop_task(task, SCHEDULER, DRAINING_REASON)
        world.refresh_instances(cluster)
        if started:  # replacements come first within a step
            world.event(cluster, name, f"service ({name}) has started {len(started)} tasks: {_tasks_text(started)}.")
            registration_events(world, svc, register_targets(world, svc, svc.task_definition, started))
        if victims:
            world.event(cluster, name, _stopped_event(name, victims))
        if not started and not victims:
            message = f"service ({name}) {failure.message}" if failure is not None else f"service ({name}) {STUCK_EVENT}"
            world.event(cluster, name, message)
            messages.append(message)
            break

    if not any(t.instance_id in draining for t in world.running_tasks(cluster, service=name)):
        converge(world, store.get(Service, cluster, name) or svc)  # back to the desired count
    else:
        running_now = world.running_tasks(cluster, service=name)
        pending_now = world.pending_tasks(cluster, service=name)
        svc = store.get(Service, cluster, name) or svc
        store.save(replace(svc, running_count=len(running_now), pending_count=len(pending_now)))
        store.save(replace(dep, running_count=sum(1 for t in running_now if t.started_by == dep.id),
                           pending_count=sum(1 for t in pending_now if t.started_by == dep.id)))
    return messages


# ---------------------------------------------------------------------------------------------
# Helpers


def _services(world: World, cluster: str) -> list[Service]:
    return sorted(world.store.find(Service, cluster=cluster, status="ACTIVE"), key=lambda s: s.name)


def _is_daemon(svc: Service) -> bool:
    return str(svc.spec.get("schedulingStrategy") or "REPLICA").upper() == "DAEMON"


def _tasks_on(world: World, svc: Service, instance_ids: set[str]) -> list[Task]:
    return sorted((t for t in world.running_tasks(svc.cluster, service=svc.name) if t.instance_id in instance_ids),
                  key=lambda t: t.id)


def _percents(spec: dict) -> tuple[int, int]:
    conf = spec.get("deploymentConfiguration") or {}

    def pct(key: str, default: int) -> int:
        value = conf.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    return pct("minimumHealthyPercent", DEFAULT_MIN_PCT), pct("maximumPercent", DEFAULT_MAX_PCT)


def _tasks_text(tasks: list[Task]) -> str:
    return " ".join(f"(task {t.id})" for t in tasks)


def _stopped_event(name: str, tasks: list[Task]) -> str:
    return f"service ({name}) has stopped {len(tasks)} running tasks: {_tasks_text(tasks)}."


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))


__all__ = [
    "ACTIONS",
    "DRAINING_REASON",
    "EC2_KIND",
    "activate",
    "deregister",
    "drain",
    "ec2_state",
    "ec2_states",
    "find_instance",
    "host_stopped_reason",
    "reconcile",
    "run",
    "start",
    "stop",
    "terminate",
]
