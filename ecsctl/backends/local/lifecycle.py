"""The container-instance lifecycle in the simulation: drain, activate, EC2 stop/start/terminate,
deregister (ecs-semantics §4).

Every action is ``ACTION(world, instance)`` over a ``World``; it changes the instance, and the
caller then lets the controller settle the cluster (``controller.settle``), which moves the
tasks the change concerns.  Bad transitions raise ``InputError`` (one line).

* **drain** — ``ACTIVE`` → ``DRAINING`` (again on ``DRAINING``: nothing new; ``INACTIVE`` is
  refused).  No new task is placed on it; the controller replaces the service tasks on it with
  the same move as a rolling deployment, within each service's ``minimumHealthyPercent`` and
  ``maximumPercent`` (a drain that cannot move records ECS's "unable to stop or start tasks"
  event and leaves the rest RUNNING); drained tasks stop with :data:`DRAINING_REASON`; a
  daemon's task goes last, once the instance's other service tasks are gone; standalone tasks
  are untouched.
* **activate** — ``DRAINING`` → ``ACTIVE``; nothing moves back by itself.
* **stop** (EC2 stop) — status unchanged, ``agentConnected`` false, every task on it stops with
  ``TerminationNotice`` and ``Host EC2 (instance i-…) stopped/terminated``; services replace
  theirs elsewhere.
* **start** — the agent reconnects; nothing comes back by itself.
* **terminate** — with a connected agent the instance deregisters itself (its tasks stop as for
  stop, ``INACTIVE``, agent disconnected); a stopped instance is **not** deregistered: it stays,
  ``agentConnected=false`` — a ghost — until ``deregister`` (or until apply, which replaces
  instances that went away).
* **deregister** — ``INACTIVE``; ECS would orphan its tasks; the simulation stops them with
  ``Container instance deregistered`` and the services replace them.
"""

from __future__ import annotations

from dataclasses import replace

from ecsctl.backends.local.controller import DRAINING_REASON
from ecsctl.backends.local.instances import (DEREGISTERED, deregister as _deregister, ec2_state, mark_ec2,
                                             stop_tasks_on, terminate_ec2)
from ecsctl.backends.local.world import World
from ecsctl.core.controller import ids
from ecsctl.core.state.ports import ContainerInstance
from ecsctl.errors import InputError

HOST_STOP_CODE = "TerminationNotice"
ACTIONS = ("drain", "activate", "stop", "start", "terminate", "deregister")


def host_stopped_reason(inst: ContainerInstance) -> str:
    return f"Host EC2 (instance {ids.ec2_instance_id(inst.id)}) stopped/terminated"


def _updatable(inst: ContainerInstance) -> None:
    if inst.status not in ("ACTIVE", "DRAINING"):
        raise InputError(
            f"container instance {inst.id} is {inst.status}: only ACTIVE or DRAINING container instances "
            "can be updated (UpdateContainerInstancesState)")


def _refuse_gone(world: World, inst: ContainerInstance, action: str) -> None:
    if ec2_state(world, inst) == "terminated":
        raise InputError(f"cannot {action} EC2 instance {ids.ec2_instance_id(inst.id)}: it is terminated")
    if inst.status == "INACTIVE":
        raise InputError(f"cannot {action} container instance {inst.id}: it is INACTIVE (deregistered)")


def drain(world: World, inst: ContainerInstance) -> None:
    _updatable(inst)
    if inst.status != "DRAINING":
        world.state(inst.cluster).put_instance(replace(inst, status="DRAINING"))


def activate(world: World, inst: ContainerInstance) -> None:
    _updatable(inst)
    if inst.status != "ACTIVE":
        world.state(inst.cluster).put_instance(replace(inst, status="ACTIVE"))


def stop(world: World, inst: ContainerInstance) -> None:
    _refuse_gone(world, inst, "stop")
    if not inst.agent_connected:
        raise InputError(f"EC2 instance {ids.ec2_instance_id(inst.id)} is already stopped "
                         f"(container instance {inst.id}: agent disconnected)")
    cs = world.state(inst.cluster)
    stop_tasks_on(world, cs, inst, HOST_STOP_CODE, host_stopped_reason(inst))
    cs.put_instance(replace(cs.instances[inst.id], agent_connected=False))
    mark_ec2(world, inst, "stopped")


def start(world: World, inst: ContainerInstance) -> None:
    _refuse_gone(world, inst, "start")
    if inst.agent_connected:
        raise InputError(f"EC2 instance {ids.ec2_instance_id(inst.id)} is already running "
                         f"(container instance {inst.id}: agent connected)")
    world.state(inst.cluster).put_instance(replace(inst, agent_connected=True))
    mark_ec2(world, inst, None)


def terminate(world: World, inst: ContainerInstance) -> None:
    ec2 = ids.ec2_instance_id(inst.id)
    if ec2_state(world, inst) == "terminated":
        raise InputError(f"EC2 instance {ec2} is already terminated (container instance {inst.id})")
    cs = world.state(inst.cluster)
    if not inst.agent_connected:  # a stopped instance is NOT deregistered: it stays, a ghost
        mark_ec2(world, inst, "terminated")
        return
    if inst.status != "INACTIVE":  # a connected agent deregisters the instance as the host goes away
        stop_tasks_on(world, cs, inst, HOST_STOP_CODE, host_stopped_reason(inst))
    terminate_ec2(world, cs, cs.instances.get(inst.id, inst), host_stopped_reason(inst))


def deregister(world: World, inst: ContainerInstance) -> None:
    if inst.status == "INACTIVE":
        raise InputError(f"container instance {inst.id} is already INACTIVE (deregistered)")
    _deregister(world, world.state(inst.cluster), inst, DEREGISTERED)


def run(world: World, action: str, inst: ContainerInstance) -> None:
    """Run ``action`` (one of :data:`ACTIONS`) on ``inst`` (the controller settles afterwards)."""
    handler = {"drain": drain, "activate": activate, "stop": stop, "start": start,
               "terminate": terminate, "deregister": deregister}.get(action)
    if handler is None:
        raise InputError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    world.now()  # initialise the clock on first use
    current = world.state(inst.cluster).instances.get(inst.id, inst)
    handler(world, current)


__all__ = ["ACTIONS", "DRAINING_REASON", "HOST_STOP_CODE", "activate", "deregister", "drain",
           "host_stopped_reason", "run", "start", "stop", "terminate"]
