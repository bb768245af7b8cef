"""Clusters and their container instances in the simulation.

Each ``containerInstances`` group of a Cluster spec is a set of manually run EC2 instances:
instance n (from 1) of group g in cluster c has the container-instance id
``ids.container_instance_id(c, g, n)``.  Applying the cluster makes exactly ``count`` of them
registered; scaling down deregisters the highest-numbered ones (INACTIVE; tasks on them are
stopped with "Container instance deregistered", and the services of the cluster then start
replacements elsewhere).  Scaling back up registers the same ids again (a fresh registration).
An instance whose type, AZ or registered resources changed in the spec is deregistered and
registered afresh (ECS cannot change an instance type in place); a change of attributes or
agent version only updates the record.

Deleting a cluster stops every task, deregisters every instance, makes its services INACTIVE
and keeps the cluster record with status INACTIVE (so ``get clusters`` shows it as INACTIVE,
like DescribeClusters does for a while after DeleteCluster).
"""

from __future__ import annotations

from dataclasses import replace

from ecsctl.backends.local.services import SCHEDULER, reconcile_cluster
from ecsctl.backends.local import ids
from ecsctl.backends.local.world import World
from ecsctl.core.scheduling.instance_types import builtin_attributes, instance_resources
from ecsctl.core.state.ports import (
    Cluster,
    ContainerInstance,
    Deployment,
    Service,
)
from ecsctl.errors import InputError

DEFAULT_AGENT_VERSION = "1.80.0"
DEFAULT_AVAILABILITY_ZONE = "us-east-1a"
DEREGISTERED = "Container instance deregistered"


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _attr_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _desired_instances(world: World, cluster: str, spec: dict) -> dict[str, ContainerInstance]:
    """Every container instance the spec asks for, keyed by id, as a fresh registration."""
    out: dict[str, ContainerInstance] = {}
    now = world.now()
    for group in spec.get("containerInstances") or ():
        if not isinstance(group, dict):
            continue
        name = str(group.get("name") or "default")
        instance_type = str(group.get("instanceType") or "")
        az = str(group.get("availabilityZone") or DEFAULT_AVAILABILITY_ZONE)
        try:
            res = instance_resources(instance_type, cpu=_int_or_none(group.get("cpu")),
                                     memory=_int_or_none(group.get("memory")))
        except KeyError:
            raise InputError(
                f"cluster {cluster}: container instance group {name}: unknown instance type "
                f"{instance_type!r}"
            ) from None
        attributes = dict(builtin_attributes(instance_type, az))
        for key, value in (group.get("attributes") or {}).items():
            attributes[str(key)] = _attr_value(value)
        count = _int_or_none(group.get("count"))
        for n in range(1, (count if count is not None else 1) + 1):
            cid = ids.container_instance_id(cluster, name, n)
            out[cid] = ContainerInstance(
                id=cid, cluster=cluster, group_name=name, instance_type=instance_type,
                availability_zone=az, registered_cpu=res.cpu, registered_memory=res.memory,
                remaining_cpu=res.cpu, remaining_memory=res.memory, registered_gpu=res.gpu,
                attributes=attributes,
                agent_version=str(group.get("agentVersion") or DEFAULT_AGENT_VERSION),
                registered_at=now,
            )
    return out


def _stop_tasks_on(world: World, inst: ContainerInstance, reason: str) -> None:
    for task in world.running_tasks(inst.cluster, instance_id=inst.id):
        world.stop_task(task, SCHEDULER, reason)


def deregister(world: World, inst: ContainerInstance, reason: str = DEREGISTERED) -> None:
    """INACTIVE; its tasks are stopped (their services replace them on reconcile)."""
    _stop_tasks_on(world, inst, reason)
    world.store.save(replace(inst, status="INACTIVE", running_tasks_count=0, pending_tasks_count=0,
                             remaining_cpu=inst.registered_cpu,
                             remaining_memory=inst.registered_memory))


def apply_cluster(world: World, name: str, spec: dict) -> None:
    store = world.store
    existing = store.get(Cluster, name)
    created = existing.created_at if existing and existing.status == "ACTIVE" else world.now()
    store.save(Cluster(name=name, status="ACTIVE", spec=spec, created_at=created))

    wanted = _desired_instances(world, name, spec)
    current = {i.id: i for i in world.instances(name)}
    for cid, inst in current.items():
        if inst.status != "INACTIVE" and cid not in wanted:
            deregister(world, inst)
    for cid, fresh in wanted.items():
        inst = current.get(cid)
        if inst is None or inst.status == "INACTIVE":
            store.save(fresh)
            continue
        same_hardware = (
            inst.instance_type == fresh.instance_type
            and inst.availability_zone == fresh.availability_zone
            and inst.registered_cpu == fresh.registered_cpu
            and inst.registered_memory == fresh.registered_memory
            and inst.registered_gpu == fresh.registered_gpu
        )
        if not same_hardware:
            _stop_tasks_on(world, inst, DEREGISTERED)
            store.save(fresh)
            continue
        updated = replace(inst, attributes=fresh.attributes, agent_version=fresh.agent_version)
        if updated != inst:
            store.save(updated)
    world.refresh_instances(name)
    reconcile_cluster(world, name)


def delete_cluster(world: World, name: str) -> None:
    store = world.store
    cluster = store.get(Cluster, name)
    if cluster is None:
        return
    for svc in store.find(Service, cluster=name):
        for task in world.running_tasks(name, service=svc.name) + world.pending_tasks(name, service=svc.name):
            world.stop_task(task, SCHEDULER, "Service deleted")
        for dep in store.find(Deployment, cluster=name, service=svc.name):
            if dep.status != "INACTIVE":
                store.save(replace(dep, status="INACTIVE", running_count=0, pending_count=0))
        if svc.status != "INACTIVE":
            store.save(replace(svc, status="INACTIVE", desired_count=0, running_count=0,
                               pending_count=0, updated_at=world.now()))
    for task in world.running_tasks(name):
        world.stop_task(task, "UserInitiated", "Cluster deleted")
    for inst in world.instances(name):
        if inst.status != "INACTIVE":
            deregister(world, inst)
    world.refresh_instances(name)
    store.save(replace(cluster, status="INACTIVE"))
