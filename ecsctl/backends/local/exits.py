"""Standalone tasks whose essential container exits: the clock stops them (a tick handler).

A standalone task started with a ``runFor`` (``x-ecsctl`` on its task definition, its rule's
target or its run; kept in its ``TaskRun`` sim state, ``tasks.task_run``) goes, once that
time has passed, through ECS's stop lifecycle as ``core.events.batch.task_phase`` times it:
``DEACTIVATING`` → ``STOPPING`` → ``DEPROVISIONING`` → ``STOPPED``, with ``desiredStatus``
``STOPPED``, ``stopCode`` ``EssentialContainerExited``, ``stoppedReason`` "Essential
container in task exited" and the container's exit code from the exit on (as DescribeTasks
shows a stopping task).  It holds its CPU,
memory, host ports and IP until ``STOPPED`` (``world.HOLDING_STATUSES``), then gives them
back; nothing replaces it (only a service replaces its tasks, and service tasks are never
finished this way).

Every status it passes is a ``TaskLifecycle`` history entry (name: the task id) with the
moment it began, so ``describe task`` and ``get events`` show the whole way down even when
one tick crosses all of it.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from datetime import datetime, timedelta

from ecsctl.backends.local import tasks
from ecsctl.backends.local.world import STOPPED, TASK_RUN, World
from ecsctl.core.events import batch
from ecsctl.core.state.ports import Task

LIFECYCLE = "TaskLifecycle"  # history kind, name: the task id
ORDER = ("RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED")

# per world: the live standalone tasks, (cluster, id); service tasks (most of a big state) are
# never looked at minute by minute.  Kept up to date by a watcher on every task the world records.
_STANDALONE: "weakref.WeakKeyDictionary[World, set]" = weakref.WeakKeyDictionary()


def _standalone(world: World) -> set:
    found = _STANDALONE.get(world)
    if found is None:
        found = {(name, t.id) for name in world.active_clusters() for t in world.state(name).tasks.values()
                 if not t.service}

        def saw(old: Task | None, new: Task) -> None:
            if not new.service and new.last_status != STOPPED:
                found.add((new.cluster, new.id))

        world.watch(saw)
        _STANDALONE[world] = found
    return found


def run_of(world: World, task: Task) -> batch.BatchRun | None:
    """When ``task``'s essential container exits, or None (it runs until stopped)."""
    if task.service:
        return None
    state = world.sim_state(TASK_RUN, task.id)
    data = state.data if state is not None else {}
    if "runFor" not in data:
        return None
    return batch.BatchRun(timedelta(seconds=int(data["runFor"])), int(data.get("exitCode", 0)),
                          str(data.get("container") or ""))


def finish_exited(world: World, a: datetime, b: datetime) -> None:
    """The tick handler: every live standalone task whose container exited by ``b`` moves on."""
    candidates = _standalone(world)
    for name, task_id in sorted(candidates):
        cs = world.state(name)
        task = cs.tasks.get(task_id)
        if task is None:  # stopped (or its cluster went away)
            candidates.discard((name, task_id))
            continue
        if task.service or task.last_status not in ORDER or not task.started_at:
            continue
        run = run_of(world, task)
        if run is None:  # runs until stopped: nothing for the clock to do, ever
            candidates.discard((name, task_id))
            continue
        revision = world.revision(task.task_definition)
        spec = revision.spec if revision is not None else {}
        phases = batch.stop_phases(spec, run)
        started = tasks.parse_clock(task.started_at)
        phase = batch.task_phase(started, run, b, phases, batch.exiting_container(spec, run))
        if phase.last_status == task.last_status:
            continue
        _record_passage(world, task, phase, phases)
        if phase.last_status == STOPPED:
            _stop(world, cs, task, phase)
        else:
            if task.last_status == "RUNNING":  # DEACTIVATING: load-balancer targets go first
                world.deregister_task(task.id)
            cs.put_task(replace(task, last_status=phase.last_status, desired_status=STOPPED,
                                stop_code=phase.stop_code, stop_reason=phase.stopped_reason,
                                exit_code=phase.exit_code))


def _stop(world: World, cs, task: Task, phase: batch.TaskPhase) -> Task:
    cs.release_placement(task)
    world.deregister_task(task.id)
    world.release_ip(task.subnet, task.private_ip)
    stopped = replace(task, last_status=STOPPED, desired_status=STOPPED, stop_code=phase.stop_code,
                      stop_reason=phase.stopped_reason, exit_code=phase.exit_code,
                      stopped_at=tasks.format_clock(phase.stopped_at))
    cs.put_task(stopped)
    return stopped


def _record_passage(world: World, task: Task, phase: batch.TaskPhase, phases: batch.StopPhases) -> None:
    begins = {"DEACTIVATING": phase.exited_at}
    begins["STOPPING"] = begins["DEACTIVATING"] + phases.deactivating
    begins["DEPROVISIONING"] = begins["STOPPING"] + phases.stopping
    begins["STOPPED"] = begins["DEPROVISIONING"] + phases.deprovisioning
    for status in ORDER[ORDER.index(task.last_status) + 1: ORDER.index(phase.last_status) + 1]:
        data = {"task": task.id, "cluster": task.cluster, "status": status, "time": tasks.format_clock(begins[status])}
        if status == "DEACTIVATING":
            data["message"] = (f"essential container {phase.container or '?'} exited with code {phase.exit_code}")
        if status == STOPPED:
            data.update(stopCode=phase.stop_code, exitCode=phase.exit_code,
                        message=f"{phase.stopped_reason} (exit code {phase.exit_code})")
        world.append_history(LIFECYCLE, task.id, data)


__all__ = ["LIFECYCLE", "finish_exited", "run_of"]
