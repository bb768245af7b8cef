"""Services in the simulation: create, update, delete, and keeping the desired count.

Model (documented choices; see also ``backend.py``):

* Tasks start straight in RUNNING (no clock ticks yet); ``started_by`` is the id of the
  deployment that started them (``ecs-svc/<19 digits>``), as in ECS.
* A task that cannot be placed stays **PENDING** (ecs-semantics §2.1): it is created with
  ``last_status`` PENDING, ``desired_status`` RUNNING, no instance, no host ports and no AZ; it
  takes nothing from any instance (its ``cpu``/``memory`` are the task's size, as DescribeTasks
  shows them, but only RUNNING tasks on an instance count against it).  The *reason* is not
  stored on the task (``stop_code``/``stop_reason`` are for STOPPED tasks and stay empty): it is
  the service event ``service (NAME) was unable to place a task because no container instance
  met all of its requirements. The closest matching container-instance ID has insufficient CPU
  units available.`` (Appendix A; the phrase maps one-to-one to RESOURCE:CPU, RESOURCE:MEMORY,
  RESOURCE:PORTS, ATTRIBUTE …, see ``placement``), recorded on every converge that leaves a
  task unplaced (repeats of the last event are de-duplicated, as ECS does).
* PENDING tasks count toward the desired count (running + pending = desired when capacity is
  short) and make the service's ``pending_count``.  Every converge (apply, tick, instance
  start/activate/…) first tries to place them (same task id, now RUNNING on an instance with
  its ports; they are listed in the ``has started N tasks`` event), then starts new tasks; on
  scale-in PENDING tasks are stopped first (newest first, code ``ServiceSchedulerInitiated``,
  the scale-in reason), and only then RUNNING ones.  A new deployment and deleting the service
  stop them too.  Stopped PENDING tasks are not listed in ``has stopped N running tasks``.
  DAEMON services never leave PENDING tasks (a daemon task that cannot be placed is only an
  event).
* Launch type: ``launchType`` if given, else the ``capacityProviderStrategy`` (or the cluster's
  default strategy): only FARGATE / FARGATE_SPOT providers ⇒ Fargate, anything else ⇒ EC2
  placement on the cluster's instances.
* Fargate tasks have no instance.  Their AZs: the service's subnets in sorted order, subnet i
  mapped to the i-th of the cluster's instance AZs (sorted; from registered instances and the
  cluster spec's groups), then ``<region>a``, ``<region>b`` … for the rest (region from those
  AZs, else ``us-east-1``).  Each new task goes to the AZ with the fewest running tasks of the
  service (ties: subnet order).
* awsvpc tasks (Fargate, and EC2 tasks of an ``awsvpc`` task definition) run in the subnet of
  their AZ under that same mapping and get a private IP allocated from it (``network``): both
  are stored on the task (``subnet``, ``private_ip``) when it starts RUNNING, and target groups
  register that IP.
* A new revision (or a change of launchType, capacityProviderStrategy, networkConfiguration,
  loadBalancers or platformVersion) starts a new deployment, **stepped** within the service's
  ``minimumHealthyPercent``/``maximumPercent`` (DESIGN §6) by ``deployments``: the new one is
  PRIMARY (IN_PROGRESS), the previous one ACTIVE until its tasks are replaced.  While the
  PRIMARY deployment is IN_PROGRESS and older tasks remain (or its tasks fail to start),
  ``converge`` hands the service to ``deployments.advance``, which continues it from the tasks
  running now; failed starts, the circuit breaker and rollback are described there.  A
  FAILED PRIMARY deployment (breaker without rollback) starts no new tasks.
* Desired count comes from the spec on create and whenever the spec's ``desiredCount`` differs
  from the last-applied one; otherwise the current (possibly auto-scaled) count is kept.
* DAEMON: one task per ACTIVE, connected instance that satisfies the memberOf constraints; its
  desired count is that number.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ecsctl.backends.local import ids, network
from ecsctl.backends.local.world import World
from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.placement import (
    Placed,
    Placer,
    TaskDemand,
    Unplaced,
    container_ports,
    task_definition_constraints,
)
from ecsctl.core.state.ports import (
    Cluster,
    Deployment,
    Service,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
)
from ecsctl.errors import InputError

FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
# UpdateService fields that start a new deployment besides the task definition.
REDEPLOY_FIELDS = ("launchType", "capacityProviderStrategy", "networkConfiguration",
                   "loadBalancers", "platformVersion")
SCHEDULER = "ServiceSchedulerInitiated"
_TG_ARN = re.compile(r":targetgroup/([^/]+)/")


def cluster_of(spec: dict | None) -> str:
    return str((spec or {}).get("cluster") or "default").rsplit("/", 1)[-1]


def _tasks_text(tasks: list[Task]) -> str:
    return " ".join(f"(task {t.id})" for t in tasks)


# ---------------------------------------------------------------------------------------------
# Launch type, Fargate AZs, load balancers


def launch_type(spec: dict, cluster: Cluster | None) -> str:
    given = spec.get("launchType")
    if given:
        return str(given).upper()
    strategy = spec.get("capacityProviderStrategy")
    if not strategy and cluster is not None:
        strategy = cluster.spec.get("defaultCapacityProviderStrategy")
    providers = {str(s.get("capacityProvider")) for s in strategy or () if isinstance(s, dict)}
    if providers and providers <= FARGATE_PROVIDERS:
        return "FARGATE"
    return "EC2"


def _subnets(spec: dict) -> list[str]:
    vpc = ((spec.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {})
    return sorted(str(s) for s in vpc.get("subnets") or ())


def fargate_azs(world: World, cluster: Cluster | None, spec: dict) -> list[str]:
    """AZ of each subnet of ``spec`` (subnets in sorted order); see the module docstring."""
    name = cluster.name if cluster else cluster_of(spec)
    known = {i.availability_zone for i in world.instances(name) if i.availability_zone}
    for group in (cluster.spec.get("containerInstances") if cluster else None) or ():
        if isinstance(group, dict) and group.get("availabilityZone"):
            known.add(str(group["availabilityZone"]))
    azs = sorted(known)
    region = azs[0][:-1] if azs else "us-east-1"
    wanted = max(len(_subnets(spec)), 1)
    out = azs[:wanted]
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if len(out) >= wanted:
            break
        if f"{region}{letter}" not in out:
            out.append(f"{region}{letter}")
    return out


# (subnets sorted, the AZ of each) of an awsvpc task's network, or None for other tasks
Network = tuple[list[str], list[str]]


def task_network(world: World, cluster: Cluster | None, spec: dict, demand: TaskDemand,
                 lt: str) -> Network | None:
    """The subnets an awsvpc task of ``spec`` may run in and their AZs (None: not awsvpc, or
    no subnets given)."""
    if demand.network_mode != "awsvpc" and lt != "FARGATE":
        return None
    subnets = _subnets(spec)
    if not subnets:
        return None
    return subnets, fargate_azs(world, cluster, spec)


def attach_network(world: World, task: Task, net: Network | None) -> Task:
    """``task`` (about to be RUNNING in its AZ) with its subnet and a free private IP."""
    if net is None:
        return task
    return network.attach(world.store, task, *net)


def target_group_name(lb: dict) -> str | None:
    arn = lb.get("targetGroupArn")
    if arn:
        m = _TG_ARN.search(str(arn))
        return m.group(1) if m else str(arn)
    return str(lb["loadBalancerName"]) if lb.get("loadBalancerName") else None


def _port_index(revision_spec: dict, container: Any, container_port: Any) -> int | None:
    """Index in ``TaskDemand.ports`` of ``containerName``'s mapping of ``containerPort``."""
    if revision_spec.get("networkMode") == "none":
        return None
    index = 0
    for c in revision_spec.get("containerDefinitions") or ():
        for m in (c.get("portMappings") or ()) if isinstance(c, dict) else ():
            if not isinstance(m, dict):
                continue
            for port in container_ports(m):
                if (container is None or c.get("name") == container) and port == container_port:
                    return index
                index += 1
    return None


# ---------------------------------------------------------------------------------------------
# Deployments


def primary_deployment(world: World, svc: Service) -> Deployment | None:
    found = world.store.find(Deployment, cluster=svc.cluster, service=svc.name, status="PRIMARY")
    return found[-1] if found else None


def new_deployment(world: World, svc: Service) -> Deployment:
    n = len(world.store.find(Deployment, cluster=svc.cluster, service=svc.name)) + 1
    now = world.now()
    dep = Deployment(
        id=ids.deployment_id(svc.cluster, svc.name, n), cluster=svc.cluster, service=svc.name,
        task_definition=svc.task_definition, status="PRIMARY", desired_count=svc.desired_count,
        created_at=now, updated_at=now,
    )
    world.store.save(dep)
    return dep


def _retire_deployments(world: World, svc: Service) -> None:
    for dep in world.store.find(Deployment, cluster=svc.cluster, service=svc.name):
        if dep.status != "INACTIVE":
            world.store.save(replace(dep, status="INACTIVE", running_count=0, pending_count=0,
                                     updated_at=world.now()))


# ---------------------------------------------------------------------------------------------
# Create / update / delete


def _desired_from(spec: dict, default: int) -> int:
    value = spec.get("desiredCount", default)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def create_service(world: World, name: str, spec: dict) -> None:
    cluster_name = cluster_of(spec)
    existing = world.store.get(Service, cluster_name, name)
    if existing is not None and existing.status != "INACTIVE":
        update_service(world, name, spec, before=None)
        return
    cluster = world.store.get(Cluster, cluster_name)
    if cluster is None or cluster.status != "ACTIVE":
        raise InputError(f"service {name}: cluster {cluster_name} does not exist or is INACTIVE")
    revision = world.resolve_task_definition(spec.get("taskDefinition"), f"service {name}")
    now = world.now()
    svc = Service(cluster=cluster_name, name=name, task_definition=revision.ref,
                  desired_count=_desired_from(spec, 1), spec=spec, created_at=now, updated_at=now)
    world.store.save(svc)
    new_deployment(world, svc)
    converge(world, svc)


def update_service(world: World, name: str, spec: dict, before: dict | None) -> None:
    cluster_name = cluster_of(spec)
    svc = world.store.get(Service, cluster_name, name)
    if svc is None or svc.status == "INACTIVE":
        create_service(world, name, spec)
        return
    revision = world.resolve_task_definition(spec.get("taskDefinition"), f"service {name}")
    desired = svc.desired_count
    if before is None or before.get("desiredCount") != spec.get("desiredCount"):
        desired = _desired_from(spec, svc.desired_count)
    redeploy = revision.ref != svc.task_definition or any(
        svc.spec.get(k) != spec.get(k) for k in REDEPLOY_FIELDS
    )
    if redeploy:
        from ecsctl.backends.local import deployments

        if str(spec.get("schedulingStrategy") or "REPLICA").upper() == "DAEMON":
            # one task per instance: the old ones go first, as before (no rolling for daemons)
            old = primary_deployment(world, svc)
            stopped = world.running_tasks(cluster_name, service=name)
            for task in stopped:
                world.stop_task(task, SCHEDULER,
                                f"Scaling activity initiated by (deployment {old.id if old else 'unknown'})")
            if stopped:
                world.event(cluster_name, name,
                            f"service ({name}) has stopped {len(stopped)} running tasks: {_tasks_text(stopped)}.")

        svc = replace(svc, task_definition=revision.ref, desired_count=desired, spec=spec,
                      updated_at=world.now())
        world.store.save(svc)
        deployments.begin(world, svc)
    else:
        svc = replace(svc, desired_count=desired, spec=spec, updated_at=world.now())
        world.store.save(svc)
    converge(world, svc)


def delete_service(world: World, name: str, spec: dict | None) -> None:
    cluster_name = cluster_of(spec)
    svc = world.store.get(Service, cluster_name, name)
    if svc is None or svc.status == "INACTIVE":
        return
    stopped = world.running_tasks(cluster_name, service=name)
    for task in stopped + world.pending_tasks(cluster_name, service=name):
        world.stop_task(task, SCHEDULER, "Service deleted")
    if stopped:
        world.event(cluster_name, name,
                    f"service ({name}) has stopped {len(stopped)} running tasks: {_tasks_text(stopped)}.")
    _retire_deployments(world, svc)
    world.store.save(replace(svc, status="INACTIVE", desired_count=0, running_count=0,
                             pending_count=0, updated_at=world.now()))
    world.refresh_instances(cluster_name)


def reconcile_cluster(world: World, cluster: str) -> None:
    """Converge every ACTIVE service of ``cluster`` (after instance changes, or on demand);
    tasks on DRAINING instances move within each service's min/max bounds (lifecycle.reconcile)."""
    from ecsctl.backends.local.lifecycle import reconcile  # lifecycle builds on this module

    reconcile(world, cluster)


# ---------------------------------------------------------------------------------------------
# Convergence: lost tasks out, desired count in


def _constraints(spec: dict, revision: TaskDefinitionRevision | None) -> list[dict]:
    out = [c for c in spec.get("placementConstraints") or () if isinstance(c, dict)]
    if revision is not None:
        out += task_definition_constraints(revision.spec)
    return out


def converge(world: World, svc: Service) -> None:
    """Stop the service's lost tasks, then stop or start tasks until running = desired."""
    store = world.store
    name, cluster_name = svc.name, svc.cluster
    cluster = store.get(Cluster, cluster_name)
    group = f"service:{name}"
    instances = {i.id: i for i in world.instances(cluster_name)}

    stopped: list[Task] = []
    for task in world.running_tasks(cluster_name, service=name):
        if task.instance_id is None:
            continue
        inst = instances.get(task.instance_id)
        if inst is None or inst.status == "INACTIVE":
            reason = "Container instance deregistered"
        elif inst.status not in ("ACTIVE", "DRAINING"):  # draining is lifecycle's, within the bounds
            reason = f"Container instance {inst.id} is {inst.status}"
        elif not inst.agent_connected:
            reason = f"Container instance {inst.id} agent disconnected"
        else:
            continue
        world.stop_task(task, SCHEDULER, reason)
        stopped.append(task)

    dep = primary_deployment(world, svc) or new_deployment(world, svc)
    daemon = str(svc.spec.get("schedulingStrategy") or "REPLICA").upper() == "DAEMON"
    if not daemon:
        from ecsctl.backends.local import deployments

        if stopped:
            world.refresh_instances(cluster_name)
        if deployments.needs_stepping(world, svc, dep):
            if stopped:
                world.event(cluster_name, name,
                            f"service ({name}) has stopped {len(stopped)} running tasks: {_tasks_text(stopped)}.")
                stopped = []
            if not deployments.advance(world, svc, dep):
                return
            svc = store.get(Service, cluster_name, name) or svc
            dep = primary_deployment(world, svc) or dep
    failed_deployment = dep.rollout_state == "FAILED"
    revision = world.revision(svc.task_definition)
    demand = world.demand(svc.task_definition)
    lt = launch_type(svc.spec, cluster)
    constraints = _constraints(svc.spec, revision)
    strategies = [s for s in svc.spec.get("placementStrategy") or () if isinstance(s, dict)] or None
    net = task_network(world, cluster, svc.spec, demand, lt)

    started: list[Task] = []
    failure: Unplaced | None = None

    def start(instance_id: str | None, az: str, host_ports: tuple[int, ...]) -> None:
        started.append(start_task(world, svc, svc.task_definition, dep.id, lt, instance_id, az, host_ports, net))

    def start_pending() -> None:
        store.insert(pending_task(world, svc, dep.id, lt))

    def place_pending(task: Task, instance_id: str | None, az: str, host_ports: tuple[int, ...]) -> None:
        started.append(promote(world, task, instance_id, az, host_ports, lt, net))

    scale_in_reason = f"Scaling activity initiated by (deployment {dep.id})"
    pending = world.pending_tasks(cluster_name, service=name)
    if daemon:
        for task in pending:  # a daemon's tasks are never left PENDING
            world.stop_task(task, SCHEDULER, scale_in_reason)
        pending = []
        nodes = world.nodes(cluster_name)
        eligible = [n for n in nodes if n.status == "ACTIVE" and n.agent_connected and all(
            cql.matches(str(c.get("expression") or ""), n.cql_view())
            for c in constraints if c.get("type") == "memberOf")]
        eligible_ids = {n.id for n in eligible}
        desired = len(eligible)
        running = world.running_tasks(cluster_name, service=name)
        for task in running:
            if task.instance_id not in eligible_ids:
                world.stop_task(task, SCHEDULER, "Container instance no longer matches the placement constraints")
                stopped.append(task)
        covered = {t.instance_id for t in running if t.instance_id in eligible_ids}
        for node in eligible:
            if node.id in covered:
                continue
            result = Placer([node], seed=world.seed).place(demand, group=group)
            if isinstance(result, Placed):
                start(result.instance_id, node.availability_zone, tuple(result.host_ports))
            elif failure is None:
                failure = result
    else:
        desired = svc.desired_count
        running = world.running_tasks(cluster_name, service=name)
        # scale-in: surplus PENDING tasks go first (newest first), then RUNNING ones
        surplus = min(len(pending), max(0, len(running) + len(pending) - desired))
        for task in reversed(pending[len(pending) - surplus:]):
            world.stop_task(task, SCHEDULER, scale_in_reason)
        pending = pending[:len(pending) - surplus]
        excess = len(running) - desired
        if excess > 0:
            for task in _choose_to_stop(world, cluster_name, running, excess, group, strategies):
                world.stop_task(task, SCHEDULER, scale_in_reason)
                stopped.append(task)
        missing = desired - len(running) - len(pending)
        if failed_deployment:  # a FAILED deployment launches no new tasks
            for task in pending:
                world.stop_task(task, SCHEDULER, scale_in_reason)
            pending, missing = [], 0
        if (pending or missing > 0) and lt == "FARGATE":
            azs = fargate_azs(world, cluster, svc.spec)
            counts = {az: 0 for az in azs}
            for t in running:
                if t.availability_zone in counts:
                    counts[t.availability_zone] += 1

            def next_az() -> str:
                az = min(azs, key=lambda a: (counts[a], azs.index(a)))
                counts[az] += 1
                return az

            for task in pending:  # (only after a launch-type change without a new deployment)
                place_pending(task, None, next_az(), ())
            for _ in range(max(0, missing)):
                start(None, next_az(), ())
        elif pending or missing > 0:
            placer = world.placer(cluster_name)

            def place() -> Placed | None:
                # every task of the service has the same demand: after one failure, all fail
                nonlocal failure
                if failure is not None:
                    return None
                result = placer.place(demand, group=group, constraints=constraints, strategies=strategies)
                if isinstance(result, Unplaced):
                    failure = result
                    return None
                return result

            for task in pending:  # PENDING tasks are placed before new ones are created
                result = place()
                if result is not None:
                    inst = instances[result.instance_id]
                    place_pending(task, result.instance_id, inst.availability_zone, tuple(result.host_ports))
            for _ in range(max(0, missing)):
                result = place()
                if result is None:
                    start_pending()
                else:
                    inst = instances[result.instance_id]
                    start(result.instance_id, inst.availability_zone, tuple(result.host_ports))

    # load balancers
    registered: dict[str, int] = {}
    for label, count in register_targets(world, svc, svc.task_definition, started):
        registered[label] = registered.get(label, 0) + count

    world.refresh_instances(cluster_name)

    # counts, deployment and events
    running_now = world.running_tasks(cluster_name, service=name)
    pending_now = world.pending_tasks(cluster_name, service=name)
    svc = replace(svc, desired_count=desired, running_count=len(running_now), pending_count=len(pending_now))
    store.save(svc)
    dep_running = sum(1 for t in running_now if t.started_by == dep.id)
    dep_pending = sum(1 for t in pending_now if t.started_by == dep.id)
    completed = not failed_deployment and (
        dep.rollout_state == "COMPLETED" or (dep_running >= desired and failure is None))
    newly_completed = completed and dep.rollout_state != "COMPLETED"
    if failed_deployment:
        dep = replace(dep, desired_count=desired, running_count=dep_running, pending_count=dep_pending)
    else:
        dep = replace(
            dep, desired_count=desired, running_count=dep_running, pending_count=dep_pending,
            rollout_state="COMPLETED" if completed else "IN_PROGRESS",
            rollout_state_reason=f"ECS deployment {dep.id} completed." if completed else dep.rollout_state_reason,
        )
    store.save(dep)
    for other in store.find(Deployment, cluster=cluster_name, service=name, status="ACTIVE"):
        mine = sum(1 for t in running_now if t.started_by == other.id)
        if not mine:
            store.save(replace(other, status="INACTIVE", running_count=0, pending_count=0))
        elif mine != other.running_count:
            store.save(replace(other, running_count=mine))

    if stopped:
        world.event(cluster_name, name,
                    f"service ({name}) has stopped {len(stopped)} running tasks: {_tasks_text(stopped)}.")
    if started:
        world.event(cluster_name, name,
                    f"service ({name}) has started {len(started)} tasks: {_tasks_text(started)}.")
    for tg, count in registered.items():
        world.event(cluster_name, name, f"service ({name}) registered {count} targets in (target-group {tg})")
    if failure is not None:
        world.event(cluster_name, name, f"service ({name}) {failure.message}")
    if newly_completed:
        world.event(cluster_name, name, f"service ({name}) (deployment {dep.id}) deployment completed.")
    if failure is None and len(running_now) == desired and completed:
        world.event(cluster_name, name, f"service ({name}) has reached a steady state.")


def start_task(world: World, svc: Service, task_definition: str, started_by: str, lt: str,
               instance_id: str | None, az: str, host_ports: tuple[int, ...], net: Network | None) -> Task:
    """A RUNNING task of ``svc`` placed on ``instance_id`` (``None`` on Fargate), with its network."""
    demand = world.demand(task_definition)
    now = world.now()
    group = f"service:{svc.name}"
    task = Task(
        id=world.new_task_id(svc.cluster, group), cluster=svc.cluster, group=group,
        task_definition=task_definition, last_status="RUNNING", desired_status="RUNNING",
        launch_type=lt, instance_id=instance_id, availability_zone=az,
        cpu=int(demand.cpu or 0), memory=int(demand.memory or 0),
        host_ports=tuple(int(p) for p in host_ports), started_by=started_by, service=svc.name,
        created_at=now, started_at=now,
    )
    task = attach_network(world, task, net)
    world.store.insert(task)
    return task


def register_targets(world: World, svc: Service, task_definition: str, started: list[Task]) -> list[tuple[str, int]]:
    """Register ``started`` in each of the service's target groups; per load balancer, the
    target group as the service names it and how many targets it received (only non-zero)."""
    revision = world.revision(task_definition)
    if not started or revision is None:
        return []
    demand = world.demand(task_definition)
    out: list[tuple[str, int]] = []
    for lb in svc.spec.get("loadBalancers") or ():
        if not isinstance(lb, dict):
            continue
        tg = target_group_name(lb)
        if tg is None:
            continue
        count = 0
        for task in started:
            target = _target(world, task, lb, demand, revision)
            if target is not None:
                world.store.save(TargetRegistration(tg, target[0], target[1], task.id))
                count += 1
        if count:
            out.append((lb.get("targetGroupArn") or tg, count))
    return out


def registration_events(world: World, svc: Service, registered: list[tuple[str, int]]) -> None:
    for label, count in registered:
        world.event(svc.cluster, svc.name, f"service ({svc.name}) registered {count} targets in (target-group {label})")


def pending_task(world: World, svc: Service, started_by: str, lt: str) -> Task:
    """A new PENDING task of ``svc`` (not placed: no instance, no ports, nothing consumed)."""
    demand = world.demand(svc.task_definition)
    group = f"service:{svc.name}"
    return Task(
        id=world.new_task_id(svc.cluster, group), cluster=svc.cluster, group=group,
        task_definition=svc.task_definition, last_status="PENDING", desired_status="RUNNING",
        launch_type=lt, instance_id=None, availability_zone="", cpu=int(demand.cpu or 0),
        memory=int(demand.memory or 0), host_ports=(), started_by=started_by, service=svc.name,
        created_at=world.now(),
    )


def promote(world: World, task: Task, instance_id: str | None, az: str, host_ports: tuple[int, ...],
            lt: str, net: Network | None = None) -> Task:
    """A PENDING task placed at last: RUNNING (same id) on ``instance_id`` with ``host_ports``
    (and, for awsvpc, a subnet and IP from ``net``, see :func:`task_network`)."""
    placed = replace(task, last_status="RUNNING", launch_type=lt, instance_id=instance_id,
                     availability_zone=az, host_ports=tuple(int(p) for p in host_ports),
                     started_at=world.now())
    placed = attach_network(world, placed, net)
    world.store.save(placed)
    return placed


def _target(world: World, task: Task, lb: dict, demand: TaskDemand,
            revision: TaskDefinitionRevision) -> tuple[str, int] | None:
    container_port = lb.get("containerPort")
    if demand.network_mode == "awsvpc" or task.instance_id is None:
        if container_port is None or not task.private_ip:
            return None
        return task.private_ip, int(container_port)
    index = _port_index(revision.spec, lb.get("containerName"), container_port)
    if index is None or index >= len(task.host_ports):
        return None
    return ids.ec2_instance_id(task.instance_id), int(task.host_ports[index])


def _choose_to_stop(world: World, cluster: str, running: list[Task], count: int, group: str,
                    strategies: list[dict] | None) -> list[Task]:
    by_id = {t.id: t for t in running}
    on_instances = [t for t in running if t.instance_id is not None]
    if len(on_instances) == len(running):
        chosen = world.placer(cluster).choose_to_stop(
            [(t.id, t.instance_id) for t in running], count, group=group, strategies=strategies)
        return [by_id[i] for i in chosen]
    # Fargate (or mixed): from the AZ with the most tasks of the service, newest id last.
    pool = sorted(running, key=lambda t: t.id)
    chosen: list[Task] = []
    for _ in range(count):
        per_az: dict[str, int] = {}
        for t in pool:
            per_az[t.availability_zone] = per_az.get(t.availability_zone, 0) + 1
        az = max(sorted(per_az), key=lambda a: per_az[a])
        victim = [t for t in pool if t.availability_zone == az][-1]
        pool.remove(victim)
        chosen.append(victim)
    return chosen


__all__ = [
    "converge",
    "create_service",
    "delete_service",
    "reconcile_cluster",
    "update_service",
]
