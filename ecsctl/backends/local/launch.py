"""Starting and stopping tasks in the simulation: placement, network, load-balancer targets.

* A started task is RUNNING at once (the simulation has no start-up delay), on the instance
  the placer chose (``None`` on Fargate) with the host ports it assigned; an awsvpc task (every
  Fargate task, and EC2 tasks of an ``awsvpc`` task definition) runs in the subnet of its zone
  (``core.controller.zones``) with the lowest free IP of that subnet.  A service task is
  registered in each of the service's target groups: ``instance id : host port`` for bridge and
  host tasks, ``IP : container port`` for awsvpc ones.
* A task whose revision cannot start (``core.deploy.failures.start_failure``) is created
  STOPPED at once with ``stopCode TaskFailedToStart`` and that reason: it holds nothing.
* A stopped task gives back its resources, host ports and IP, and its targets are deregistered.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Sequence

from ecsctl.backends.local.world import RUNNING, STOPPED, ClusterState, World
from ecsctl.core.controller import ids
from ecsctl.core.controller import service as model
from ecsctl.core.controller import zones
from ecsctl.core.scheduling.placement import Placed, TaskDemand, Unplaced
from ecsctl.core.state.ports import Service, TargetRegistration, Task

SCHEDULER = "ServiceSchedulerInitiated"
FAILED_TO_START = "TaskFailedToStart"


@dataclass(frozen=True, slots=True)
class Network:
    """The subnets (sorted) an awsvpc task may run in and the zone of each."""

    subnets: tuple[str, ...]
    zones: tuple[str, ...]


def network_of(cs: ClusterState, spec: dict, demand: TaskDemand, launch: str) -> Network | None:
    """The awsvpc network of a service's (or run's) tasks, or None (not awsvpc, or no subnets)."""
    if not model.uses_awsvpc(demand.network_mode, launch):
        return None
    subnets = model.subnets(spec)
    if not subnets:
        return None
    return Network(tuple(subnets), tuple(zones.subnet_zones(cs.zones(), len(subnets))))


def fargate_zones(cs: ClusterState, spec: dict) -> list[str]:
    return zones.subnet_zones(cs.zones(), len(model.subnets(spec)))


@dataclass(frozen=True, slots=True)
class Launch:
    """What every task of one service (or run) is started with."""

    group: str
    task_definition: str
    started_by: str
    launch_type: str
    demand: TaskDemand
    network: Network | None
    service: Service | None = None


SUBNET_FULL = "InsufficientFreeAddressesInSubnet"


def start(world: World, cs: ClusterState, launch: Launch, where: Placed | None, zone: str) -> Task:
    """A RUNNING task of ``launch`` on ``where`` (``None``: Fargate, in ``zone``)."""
    now = world.now()
    instance_id = where.instance_id if where is not None else None
    if instance_id is not None:
        zone = cs.instances[instance_id].availability_zone
    subnet = ip = ""
    if launch.network is not None:
        subnet = zones.subnet_for_zone(launch.network.subnets, launch.network.zones, zone)
        ip = world.allocate_ip(subnet)
    demand = launch.demand
    task = Task(  # positionally, in the record's field order (tasks start by the thousand)
        cs.new_task_id(launch.group), cs.name, launch.group, launch.task_definition, RUNNING, RUNNING,
        launch.launch_type, instance_id, zone, int(demand.cpu or 0), int(demand.memory or 0),
        where.host_ports if where is not None else (), launch.started_by,
        launch.service.name if launch.service else None, "", "", now, now, "", subnet, ip,
    )
    cs.put_task(task)
    return task


def fail_to_start(world: World, cs: ClusterState, launch: Launch, reason: str) -> Task:
    """A task that never started: STOPPED at once with ``TaskFailedToStart`` and ``reason``."""
    now = world.now()
    task = Task(
        id=cs.new_task_id(launch.group), cluster=cs.name, group=launch.group,
        task_definition=launch.task_definition, last_status=STOPPED, desired_status=STOPPED,
        launch_type=launch.launch_type, cpu=int(launch.demand.cpu or 0), memory=int(launch.demand.memory or 0),
        started_by=launch.started_by, service=launch.service.name if launch.service else None,
        stop_code=FAILED_TO_START, stop_reason=reason, created_at=now, stopped_at=now,
    )
    cs.put_task(task)
    return task


def place_and_start(world: World, cs: ClusterState, launch: Launch, count: int,
                    placement: model.Placement, spread_over: Sequence[Task] = ()) -> tuple[list[Task], Unplaced | None]:
    """Start up to ``count`` tasks of ``launch``: placed by the scheduler on EC2 (the first that
    cannot be placed ends it, every further one would fail alike), spread over zones on Fargate
    (``spread_over``: the tasks of the group already running)."""
    started: list[Task] = []
    if count <= 0:
        return started, None
    if launch.launch_type == "FARGATE":
        spec = launch.service.spec if launch.service else {}
        zone_list = list(launch.network.zones) if launch.network else fargate_zones(cs, spec)
        counts = {z: 0 for z in zone_list}
        for t in spread_over:
            if t.availability_zone in counts:
                counts[t.availability_zone] += 1
        for _ in range(count):
            zone = zones.next_zone(zone_list, counts)
            full = _subnet_full(world, launch, zone)
            if full is not None:
                return started, full
            counts[zone] += 1
            started.append(start(world, cs, launch, None, zone))
        return started, None
    placer = cs.placer
    place = placer.placing(launch.demand, group=launch.group, constraints=placement.constraints,
                           strategies=placement.strategy_list)
    for _ in range(count):
        result = place()
        if isinstance(result, Unplaced):
            return started, result
        full = _subnet_full(world, launch, cs.instances[result.instance_id].availability_zone)
        if full is not None:
            placer.release(result.instance_id, launch.demand, result.host_ports, launch.group)
            return started, full
        started.append(start(world, cs, launch, result, ""))
    return started, None


def _subnet_full(world: World, launch: Launch, zone: str) -> Unplaced | None:
    """Why an awsvpc task cannot get an address in ``zone``'s subnet (None: it can): ECS's ENI
    attachment fails with EC2's ``InsufficientFreeAddressesInSubnet``."""
    if launch.network is None:
        return None
    subnet = zones.subnet_for_zone(launch.network.subnets, launch.network.zones, zone)
    if world.has_free_ip(subnet):
        return None
    return Unplaced(SUBNET_FULL, None, f"was unable to place a task. Reason: {SUBNET_FULL}: The specified subnet "
                                       f"{subnet} does not have enough free addresses to satisfy the request.")


def stop(world: World, cs: ClusterState, task: Task, code: str, reason: str) -> Task:
    """Stop a live task now: resources, ports and IP back, targets deregistered."""
    cs.release_placement(task)
    world.deregister_task(task.id)
    if task.subnet:
        world.release_ip(task.subnet, task.private_ip)
    stopped = Task(*_TASK_VALUES(task))  # replace() walks the fields anew each call; tasks stop by the thousand
    stopped.last_status = stopped.desired_status = STOPPED
    stopped.stop_code, stopped.stop_reason, stopped.stopped_at = code, reason, world.now()
    cs.put_task(stopped)
    return stopped


_TASK_VALUES = attrgetter(*(f.name for f in fields(Task)))  # a task's field values, in order, in one call


def register_targets(world: World, svc: Service, started: Sequence[Task]) -> list[tuple[str, int]]:
    """Register ``started`` in the service's target groups: per load balancer, the target group as
    the service names it and how many targets it received (only non-zero)."""
    out: list[tuple[str, int]] = []
    balancers = model.load_balancers(svc.spec)
    if not started or not balancers:
        return out
    by_revision: dict[str, list[Task]] = {}
    for task in started:
        by_revision.setdefault(task.task_definition, []).append(task)
    counts: dict[str, int] = {}
    for ref, tasks in by_revision.items():
        revision = world.revision(ref)
        if revision is None:
            continue
        demand = world.demand(ref)
        for lb in balancers:
            for task in tasks:
                target = _target(task, lb, demand, revision.spec)
                if target is not None:
                    world.register_target(TargetRegistration(lb.target_group, target[0], target[1], task.id))
                    counts[lb.label] = counts.get(lb.label, 0) + 1
    return [(label, n) for label, n in counts.items() if n]


def _target(task: Task, lb: model.LoadBalancer, demand: TaskDemand, revision_spec: dict) -> tuple[str, int] | None:
    if demand.network_mode == "awsvpc" or task.instance_id is None:
        if lb.container_port is None or not task.private_ip:
            return None
        return task.private_ip, lb.container_port
    index = model.port_index(revision_spec, lb.container, lb.container_port)
    if index is None or index >= len(task.host_ports):
        return None
    return ids.ec2_instance_id(task.instance_id), int(task.host_ports[index])


def tasks_text(tasks: Sequence[Task]) -> str:
    return " ".join(f"(task {t.id})" for t in tasks)


def stopped_event(name: str, tasks: Sequence[Task]) -> str:
    return f"service ({name}) has stopped {len(tasks)} running tasks: {tasks_text(tasks)}."


def started_event(name: str, tasks: Sequence[Task]) -> str:
    return f"service ({name}) has started {len(tasks)} tasks: {tasks_text(tasks)}."


__all__ = ["FAILED_TO_START", "SCHEDULER", "Launch", "Network", "fail_to_start", "fargate_zones",
           "network_of", "place_and_start", "register_targets", "start", "started_event", "stop",
           "stopped_event", "tasks_text"]
