"""Use case: the container-instance lifecycle (``ecsctl instances ACTION ID``).

Each action runs under the state's write lock, in one transaction, on the local simulation
(see ``ecsctl.backends.local.lifecycle`` for the model), and returns a summary dict.
"""

from __future__ import annotations

from ecsctl.app.state import open_simulation
from ecsctl.errors import UsageError

ACTIONS = ("drain", "activate", "stop", "start", "terminate", "deregister")


def instance_action(state_path: str, action: str, instance_id: str, *, seed: int = 0) -> dict:
    """Run ``action`` on the container instance ``instance_id`` (its id, ARN or EC2 ``i-…`` id).

    Returns ``{"action", "id", "ec2InstanceId", "cluster", "oldStatus", "newStatus",
    "agentConnected", "ec2State", "tasksStopped", "tasksStarted", "tasksOnInstance", "events"}``
    (task lists are ids, sorted; ``events`` are the notable service events it recorded).
    """
    if action not in ACTIONS:
        raise UsageError(f"unknown action '{action}'; one of: {', '.join(ACTIONS)}")
    from ecsctl.app import lookup
    from ecsctl.backends.local import LocalBackend, instances, lifecycle
    from ecsctl.core.controller import ids
    from ecsctl.core.state.ports import ContainerInstance, Task

    with open_simulation(state_path, f"instances {action}") as store:
        with store.locked(f"ecsctl instances {action} {instance_id}"):
            before = lookup.one(store, "instances", instance_id)
            cluster = before.cluster
            running_before = {t.id for t in store.find(Task, cluster=cluster, last_status="RUNNING")}
            backend = LocalBackend(store, seed=seed)
            world = backend.world
            mark = len(world.history)
            lifecycle.run(world, action, before)
            backend.commit()
            backend.settle([cluster])
            messages = list(dict.fromkeys(e.message for e in world.history[mark:] if _notable(e.message)))
            after = store.get(ContainerInstance, before.id) or before
            running_after = {t.id for t in store.find(Task, cluster=cluster, last_status="RUNNING")}
            on_instance = len(store.find(Task, instance_id=before.id, last_status="RUNNING"))
            state = instances.ec2_states(store).get(before.id, "running")
    return {
        "action": action,
        "id": before.id,
        "ec2InstanceId": ids.ec2_instance_id(before.id),
        "cluster": cluster,
        "oldStatus": before.status,
        "newStatus": after.status,
        "agentConnected": after.agent_connected,
        "ec2State": state,
        "tasksStopped": sorted(running_before - running_after),
        "tasksStarted": sorted(running_after - running_before),
        "tasksOnInstance": on_instance,
        "events": messages,
    }


def instance_extras(store) -> dict[str, dict]:
    """Extra ``get instances`` fields per container-instance id: ``ec2InstanceId`` (derived as
    the simulation does) and ``ec2State`` (``running`` | ``stopped`` | ``terminated``; a terminated
    instance still ACTIVE with its agent disconnected is a ghost awaiting ``deregister``)."""
    from ecsctl.backends.local import instances
    from ecsctl.core.controller import ids

    return {
        cid: {"ec2InstanceId": ids.ec2_instance_id(cid), "ec2State": state}
        for cid, state in instances.ec2_states(store).items()
    }


def _notable(message: str) -> bool:
    """Events worth telling the user who acted: a move that could not happen."""
    return "was unable to" in message or "is unable to" in message
