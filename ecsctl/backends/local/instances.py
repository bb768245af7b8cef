"""Clusters and their container instances in the simulation.

Applying a Cluster brings each group to its ``count`` of registered instances
(``core.controller.cluster.reconcile_group``): a group's ``count`` is a desired count.  Scaling
down deregisters the highest-numbered instances (INACTIVE; their tasks stop with "Container
instance deregistered" and the controller replaces them elsewhere).  An instance that went
away — deregistered, or a ghost whose EC2 instance was terminated while its agent was
disconnected (apply deregisters the ghost) — stays INACTIVE, and a new instance registers in
its place: the group's next number, so a new container-instance id, EC2 id and
``registeredAt``; so does one whose type, zone or registered resources changed in the spec
(ECS cannot change an instance type in place: the old one is deregistered).  A change of
attributes or agent version only updates the record.

Deleting a cluster stops every task, deregisters every instance, makes its services INACTIVE
and keeps the cluster record with status INACTIVE (as DescribeClusters shows it for a while).

The EC2 side of an instance (``running``, ``stopped``, ``terminated``) is a catalogue entry of
kind ``Ec2Instance`` while the agent is disconnected (see ``lifecycle``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ecsctl.backends.local import capacity_providers, launch, services
from ecsctl.backends.local.launch import SCHEDULER
from ecsctl.backends.local.world import ClusterState, World
from ecsctl.core.controller import ids
from ecsctl.core.controller.cluster import desired_groups, reconcile_group
from ecsctl.core.state.ports import CatalogueEntry, Cluster, ContainerInstance, StateStore
from ecsctl.errors import InputError

DEREGISTERED = "Container instance deregistered"
EC2_KIND = "Ec2Instance"


def ec2_state(world: World, inst: ContainerInstance) -> str:
    """``running``, ``stopped`` or ``terminated`` (the EC2 side of the instance)."""
    if inst.agent_connected:
        return "running"
    entry = world.catalogue_entry(EC2_KIND, ids.ec2_instance_id(inst.id))
    return str((entry.spec.get("state") if entry else None) or "stopped")


def ec2_states(store: StateStore, instances: Iterable[ContainerInstance] | None = None) -> dict[str, str]:
    """Container-instance id → EC2 state, for every instance in ``store`` (one pass; ``instances``:
    the store's instances when the caller has read them already)."""
    marks = {e.name: str(e.spec.get("state") or "stopped") for e in store.find(CatalogueEntry, kind=EC2_KIND)}
    return {
        i.id: "running" if i.agent_connected else marks.get(ids.ec2_instance_id(i.id), "stopped")
        for i in (store.find(ContainerInstance) if instances is None else instances)
    }


def mark_ec2(world: World, inst: ContainerInstance, state: str | None) -> None:
    name = ids.ec2_instance_id(inst.id)
    if state is None:
        world.delete_catalogue(EC2_KIND, name)
    else:
        world.put_catalogue(CatalogueEntry(EC2_KIND, name, {"state": state, "containerInstance": inst.id,
                                                            "cluster": inst.cluster}))


def stop_tasks_on(world: World, cs: ClusterState, inst: ContainerInstance, code: str, reason: str) -> None:
    for task in cs.instance_tasks(inst.id):
        launch.stop(world, cs, task, code, reason)


def deregister(world: World, cs: ClusterState, inst: ContainerInstance, reason: str = DEREGISTERED) -> None:
    """INACTIVE; its tasks are stopped (the controller replaces service tasks elsewhere)."""
    stop_tasks_on(world, cs, inst, SCHEDULER, reason)
    cs.put_instance(replace(cs.instances.get(inst.id, inst), status="INACTIVE", running_tasks_count=0,
                            pending_tasks_count=0, remaining_cpu=inst.registered_cpu,
                            remaining_memory=inst.registered_memory))


def terminate_ec2(world: World, cs: ClusterState, inst: ContainerInstance, reason: str = DEREGISTERED) -> None:
    """The EC2 instance goes away with the group that owns it (a Cluster group scaled down or
    removed, an Auto Scaling group's scale-in): deregistered, its tasks stopped, the agent gone
    and the EC2 state ``terminated``."""
    if cs.instances.get(inst.id, inst).status != "INACTIVE":
        deregister(world, cs, inst, reason)
    current = cs.instances.get(inst.id, inst)
    if current.agent_connected:
        cs.put_instance(replace(current, agent_connected=False))
    mark_ec2(world, current, "terminated")


def apply_cluster(world: World, name: str, spec: dict) -> None:
    existing = world.cluster(name)
    created = existing.created_at if existing and existing.status == "ACTIVE" else world.now()
    world.put_cluster(Cluster(name=name, status="ACTIVE", spec=spec, created_at=created))
    try:
        groups = desired_groups(name, spec, world.now())
    except KeyError as exc:
        raise InputError(f"cluster {name}: {exc.args[0]}") from None
    cs = world.state(name)
    records: dict[str, list[ContainerInstance]] = {}
    for cid, inst in sorted(cs.instances.items()):
        if capacity_providers.provider_of_group(inst.group_name):
            continue  # a capacity provider's Auto Scaling group owns it (``asg``)
        if inst.group_name in groups:
            records.setdefault(inst.group_name, []).append(inst)
        elif inst.status != "INACTIVE":
            terminate_ec2(world, cs, inst)  # its group left the spec
    for group_name, group in groups.items():
        members = records.get(group_name, [])
        terminated = {i.id for i in members if i.status != "INACTIVE" and ec2_state(world, i) == "terminated"}
        changes = reconcile_group(group, members, terminated)
        for inst in changes.deregister:
            terminate_ec2(world, cs, inst)  # scaled down (a ghost's EC2 instance is terminated already)
        for inst in changes.update:
            cs.put_instance(inst)
        for fresh in changes.register:
            cs.put_instance(fresh)


def delete_cluster(world: World, name: str) -> None:
    cluster = world.cluster(name)
    if cluster is None:
        return
    cs = world.state(name)
    for svc in list(cs.services.values()):
        if svc.status != "INACTIVE":
            services.retire(world, cs, svc, "Service deleted")
    for task in list(cs.tasks.values()):
        launch.stop(world, cs, task, "UserInitiated", "Cluster deleted")
    for inst in cs.sorted_instances():
        if inst.status == "INACTIVE":
            continue
        if capacity_providers.provider_of_group(inst.group_name):
            deregister(world, cs, inst)  # its Auto Scaling group goes with the capacity provider
        else:
            terminate_ec2(world, cs, inst)  # the cluster's own groups go with it
    world.put_cluster(replace(cluster, status="INACTIVE"))


__all__ = ["DEREGISTERED", "EC2_KIND", "apply_cluster", "delete_cluster", "deregister", "ec2_state", "ec2_states",
           "mark_ec2", "stop_tasks_on", "terminate_ec2"]
