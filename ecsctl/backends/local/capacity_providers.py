"""Capacity provider strategies in the simulation: which provider each new task goes to, and
the tasks that wait in PROVISIONING for an Auto Scaling group to grow (ecs-semantics §7).

* A service (or run) without ``launchType`` uses its ``capacityProviderStrategy``, else its
  cluster's ``defaultCapacityProviderStrategy`` (``core.controller.service.strategy_providers``).
  New tasks are shared out by ``core.scaling.capacity.assign_tasks`` (base first, then the
  weights), counting the tasks the deployment already has on each provider.
* ``FARGATE`` / ``FARGATE_SPOT`` tasks start as Fargate tasks do (no instance, spread over the
  subnets' zones).  A task of an Auto Scaling group provider is placed only on that group's
  instances (they carry the attribute ``ecsctl.capacity-provider``; the placer sees it as a
  ``memberOf`` constraint ``attribute:ecsctl.capacity-provider == NAME`` added to the
  service's own).
* A task of a provider with managed scaling ENABLED that cannot be placed for lack of capacity
  (it would fit an empty instance of the group's type) is created in ``PROVISIONING``, without
  an instance, as ECS does; it counts towards the service's desired count and pending count,
  managed scaling (``managed_scaling``) grows the group for it, and the scheduler places it as
  soon as an instance has room (:func:`place_provisioning`, each round).  A task that could
  never fit, or the 301st PROVISIONING task of a cluster (ECS's quota), stays unplaced.
* The provider of a task is recorded as a ``SimState`` of kind :data:`TASK_PROVIDER` named by
  the task id (``{"capacityProvider": NAME}``): the state schema has no column for it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ecsctl.backends.local import launch
from ecsctl.backends.local.launch import Launch
from ecsctl.backends.local.world import RUNNING, ClusterState, World
from ecsctl.core.controller import service as model
from ecsctl.core.controller import zones
from ecsctl.core.controller.cluster import group_resources
from ecsctl.core.scaling.capacity import FARGATE_PROVIDERS, assign_tasks, instances_needed
from ecsctl.core.scheduling.placement import Placed, Unplaced
from ecsctl.core.state.ports import SimState, Task

PROVISIONING = "PROVISIONING"
TASK_PROVIDER = "TaskCapacityProvider"
ATTRIBUTE = "ecsctl.capacity-provider"
GROUP_PREFIX = "asg:"
MAX_PROVISIONING = 300  # PROVISIONING tasks per cluster (ASG providers), ECS's quota


# -- providers -------------------------------------------------------------------------------


def provider_spec(world: World, name: str) -> dict | None:
    """The applied ``CapacityProvider`` spec of ``name`` (None for Fargate ones and unknown names)."""
    entry = world.catalogue_entry("CapacityProvider", name)
    return entry.spec if entry is not None else None


def asg_of(spec: dict | None) -> dict:
    return ((spec or {}).get("autoScalingGroupProvider") or {}).get("autoScalingGroup") or {}


def asg_resources(spec: dict | None):
    """What an instance of the provider's Auto Scaling group registers (``group_resources``)."""
    return group_resources(asg_of(spec))


def managed(spec: dict | None) -> bool:
    scaling = ((spec or {}).get("autoScalingGroupProvider") or {}).get("managedScaling") or {}
    return str(scaling.get("status") or "DISABLED").upper() == "ENABLED"


def protected(spec: dict | None) -> bool:
    value = ((spec or {}).get("autoScalingGroupProvider") or {}).get("managedTerminationProtection")
    return str(value or "DISABLED").upper() == "ENABLED"


def group_name(provider: str) -> str:
    """The container-instance group of a provider's instances (a manifest group cannot contain ':')."""
    return GROUP_PREFIX + provider


def provider_of_group(group: str) -> str | None:
    return group[len(GROUP_PREFIX):] if group.startswith(GROUP_PREFIX) else None


def constraint(provider: str) -> dict:
    return {"type": "memberOf", "expression": f"attribute:{ATTRIBUTE} == {provider}"}


def instance_size(spec: dict | None) -> tuple[int, int, int | None] | None:
    """(CPU units, MiB, awsvpc tasks) an instance of the group registers, None if its type is
    unknown (the last None: no interface limit known)."""
    try:
        res = asg_resources(spec)
    except KeyError:
        return None
    return res.cpu, res.memory, res.task_enis


# -- the provider of a task ------------------------------------------------------------------


def provider_of(world: World, task: Task) -> str | None:
    state = world.sim_state(TASK_PROVIDER, task.id)
    return str(state.data.get("capacityProvider")) if state is not None and state.data else None


def record(world: World, task: Task, provider: str) -> None:
    world.put_sim_state(SimState(TASK_PROVIDER, task.id, {"capacityProvider": provider}))


def strategy(world: World, cs: ClusterState, spec: dict) -> list[dict]:
    """The strategy a service's (or run's) new tasks follow; [] with a ``launchType``."""
    if spec.get("launchType"):
        return []
    cluster = world.cluster(cs.name)
    return model.strategy_providers(spec, cluster.spec if cluster is not None else None)


def waiting_tasks(cs: ClusterState, service: str) -> list[Task]:
    """The service's PROVISIONING tasks, in id order (one pass, sorted only when there are some)."""
    if not cs.provisioning:
        return []
    found = [t for t in cs.by_service.get(service, {}).values() if t.last_status == PROVISIONING]
    return sorted(found, key=lambda t: t.id) if found else found


# -- starting tasks by strategy --------------------------------------------------------------


def start(world: World, cs: ClusterState, how: Launch, count: int, placement: model.Placement,
          items: Sequence[dict], current: Sequence[Task], spread_over: Sequence[Task] = (), *,
          provision: bool = True) -> tuple[list[Task], list[Task], Unplaced | None]:
    """Start up to ``count`` tasks of ``how`` by the strategy ``items``, given the deployment's
    live tasks ``current``: (started RUNNING, created PROVISIONING, why some could not be placed).
    ``provision`` False (standalone tasks): none waits in PROVISIONING, they are unplaced."""
    have: dict[str, int] = {}
    for task in current:
        name = provider_of(world, task)
        if name is not None:
            have[name] = have.get(name, 0) + 1
    try:
        shares = assign_tasks(count, items, have)
    except ValueError:  # no weight: validate refuses it (E3019); nothing can start
        return [], [], None
    started: list[Task] = []
    waiting: list[Task] = []
    unplaced: Unplaced | None = None
    for item in items:
        name = str(item.get("capacityProvider"))
        n = shares.get(name, 0)
        if n <= 0:
            continue
        if name in FARGATE_PROVIDERS:
            fargate = replace(how, launch_type="FARGATE")
            done, _ = launch.place_and_start(world, cs, fargate, n, placement, spread_over=spread_over)
            missing = None
        else:
            scoped = model.Placement(placement.constraints + (constraint(name),), placement.strategies)
            done, missing = launch.place_and_start(world, cs, replace(how, launch_type="EC2"), n, scoped)
        for task in done:
            record(world, task, name)
        started.extend(done)
        if missing is None:
            continue
        spec = provider_spec(world, name)
        left = n - len(done)
        if provision and managed(spec) and _fits_empty(how, spec):
            room = MAX_PROVISIONING - sum(1 for t in cs.tasks.values() if t.last_status == PROVISIONING)
            for _ in range(max(0, min(left, room))):
                waiting.append(_provision(world, cs, how, name))
            left -= max(0, min(left, room))
        if left > 0 and unplaced is None:
            unplaced = missing
    return started, waiting, unplaced


def _fits_empty(how: Launch, spec: dict | None) -> bool:
    size = instance_size(spec)
    task = (int(how.demand.cpu or 0), int(how.demand.memory or 0), int(how.demand.network_mode == "awsvpc"))
    return size is not None and instances_needed([task], size) > 0


def _provision(world: World, cs: ClusterState, how: Launch, provider: str) -> Task:
    now = world.now()
    task = Task(
        id=cs.new_task_id(how.group), cluster=cs.name, group=how.group, task_definition=how.task_definition,
        last_status=PROVISIONING, desired_status=RUNNING, launch_type="EC2",
        cpu=int(how.demand.cpu or 0), memory=int(how.demand.memory or 0), started_by=how.started_by,
        service=how.service.name if how.service else None, created_at=now,
    )
    cs.put_task(task)
    record(world, task, provider)
    return task


def place_provisioning(world: World, cs: ClusterState, how: Launch, placement: model.Placement,
                       tasks: Sequence[Task]) -> list[Task]:
    """Place the PROVISIONING ``tasks`` (of ``how``'s deployment) that now fit on their provider's
    instances; returns them RUNNING.  The first that does not fit ends its provider's turn."""
    out: list[Task] = []
    full: set[str] = set()
    placer = cs.placer
    for task in tasks:
        name = provider_of(world, task) or ""
        if name in full:
            continue
        result = placer.place(how.demand, group=how.group, constraints=placement.constraints + (constraint(name),),
                              strategies=placement.strategy_list)
        if not isinstance(result, Placed):
            full.add(name)
            continue
        out.append(_run(world, cs, task, how, result))
    return out


def _run(world: World, cs: ClusterState, task: Task, how: Launch, where: Placed) -> Task:
    zone = cs.instances[where.instance_id].availability_zone
    now = world.now()
    running = replace(task, last_status=RUNNING, instance_id=where.instance_id, availability_zone=zone,
                      host_ports=tuple(int(p) for p in where.host_ports), started_at=now)
    if how.network is not None:
        subnet = zones.subnet_for_zone(how.network.subnets, how.network.zones, zone)
        running = replace(running, subnet=subnet, private_ip=world.allocate_ip(subnet))
    cs.put_task(running)
    return running


__all__ = ["ATTRIBUTE", "GROUP_PREFIX", "MAX_PROVISIONING", "PROVISIONING", "TASK_PROVIDER", "asg_of", "asg_resources", "constraint",
           "group_name", "instance_size", "managed", "place_provisioning", "protected", "provider_of",
           "provider_of_group", "provider_spec", "record", "start", "strategy", "waiting_tasks"]
