"""Queues on the clock: messages arrive, the consumer services' tasks drain them (a tick handler).

Each minute ``(a, b]`` (:func:`advance_queues`), for every ``Queue`` of the catalogue
(``core.queue.model`` has the spec and the arithmetic): the messages of the minute arrive
(``arrivals``: a rate or a series, scaled to the window when a tick ends mid-minute), and the
RUNNING tasks of each consumer service receive and delete ``messagesPerTaskPerMinute`` each
(slowed when a message outlasts the visibility timeout).  More tasks drain it faster.

What is kept (the simulation's CloudWatch):

* the queue's ``QueueState`` sim state (name: the queue): the visible messages and the carried
  fractions, and the last minute's metrics;
* a ``QueueMetric`` history entry per minute in which the queue held or moved messages, with
  ``ApproximateNumberOfMessagesVisible``, ``ApproximateNumberOfMessagesNotVisible``, the
  consumers' ``RunningTaskCount`` and ``BacklogPerTask`` (visible ÷ running tasks, None
  without a running task: "no data", ecs-semantics §8.3).

:func:`queue_metrics` and :func:`backlog_per_task` are what a scaling policy reads (target
tracking on backlog per task, ecs-semantics §8.3): the latest datapoint of a queue, or of the
queue a service consumes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ecsctl.backends.local import tasks
from ecsctl.backends.local.world import RUNNING, World
from ecsctl.core.queue import model
from ecsctl.core.state.ports import SimState

QUEUE_STATE = "QueueState"  # sim state kind, name: the queue
QUEUE_METRIC = "QueueMetric"  # history kind, name: the queue
VISIBLE = "ApproximateNumberOfMessagesVisible"
NOT_VISIBLE = "ApproximateNumberOfMessagesNotVisible"
RUNNING_TASKS = "RunningTaskCount"
BACKLOG = "BacklogPerTask"
MINUTE = timedelta(minutes=1)


def _running(world: World, cluster: str, service: str) -> int:
    record = world.cluster(cluster)
    if record is None or record.status != "ACTIVE":
        return 0
    return sum(1 for t in world.state(cluster).by_service.get(service, {}).values() if t.last_status == RUNNING)


def advance_queues(world: World, a: datetime, b: datetime) -> None:
    """The tick handler: one window of every queue (datapoints kept 15 days, as CloudWatch's)."""
    tasks.expire_datapoints(world, QUEUE_METRIC, b)
    fraction = (b - a) / MINUTE
    for name, entry in world.catalogue("Queue").items():
        spec = entry.spec or {}
        found = world.sim_state(QUEUE_STATE, name)
        data = found.data if found is not None else {}
        state = (model.QueueState(int(data.get("visible", 0)), float(data.get("arrivalCarry", 0.0)),
                                  float(data.get("capacityCarry", 0.0)))
                 if found is not None else model.initial_state(spec))
        consumers = [(cluster, service, rate, _running(world, cluster, service))
                     for cluster, service, rate in model.consumers_of(spec)]
        minute = model.advance(state, arrivals=model.arrivals_per_minute(spec, a) * fraction,
                               consumers=[(n, rate * fraction) for _, _, rate, n in consumers])
        running = sum(n for *_, n in consumers)
        metrics = {"time": tasks.format_clock(b), VISIBLE: minute.visible, NOT_VISIBLE: minute.not_visible,
                   RUNNING_TASKS: running, BACKLOG: model.backlog_per_task(minute.visible, running),
                   "arrived": minute.arrived, "deleted": minute.deleted,
                   "consumers": [{"cluster": c, "service": s, RUNNING_TASKS: n} for c, s, _, n in consumers]}
        new = {"visible": minute.state.visible, "arrivalCarry": minute.state.arrival_carry,
               "capacityCarry": minute.state.capacity_carry}
        quiet = (found is not None and minute.arrived == 0 and minute.deleted == 0
                 and all(data.get(k) == v for k, v in new.items()))
        if quiet:
            continue  # nothing arrived, nothing moved: no datapoint (CloudWatch keeps none for an idle queue)
        world.put_sim_state(SimState(QUEUE_STATE, name, {**new, "metrics": metrics}))
        world.append_history(QUEUE_METRIC, name, metrics)


def queue_metrics(world: World, name: str) -> dict | None:
    """The latest datapoint of queue ``name`` (``VISIBLE``, ``NOT_VISIBLE``, ``RUNNING_TASKS``,
    ``BACKLOG`` …), or None before its first minute."""
    found = world.sim_state(QUEUE_STATE, name)
    return dict(found.data.get("metrics") or {}) if found is not None else None


def service_metrics(world: World, cluster: str, service: str) -> dict[str, float]:
    """The queue metrics a scaling policy of ``service`` can read, by CloudWatch metric name:
    ``ApproximateNumberOfMessagesVisible`` and ``BacklogPerTask`` of the queue it consumes
    (the latter only while it runs tasks); ``{}`` when it consumes none or before its first minute.
    ``backends.local.scaling`` reads them every minute, beside the derived and the put ones."""
    for name, entry in world.catalogue("Queue").items():
        if any((c, s) == (cluster, service) for c, s, _ in model.consumers_of(entry.spec or {})):
            metrics = queue_metrics(world, name)
            if metrics is None:
                return {}
            out = {VISIBLE: float(metrics.get(VISIBLE, 0))}
            backlog = backlog_per_task(world, cluster, service)
            if backlog is not None:
                out[BACKLOG] = backlog
            return out
    return {}


def backlog_per_task(world: World, cluster: str, service: str) -> float | None:
    """Backlog per task of the queue ``service`` consumes: its visible messages ÷ the service's
    RUNNING tasks now; None when it consumes no queue, has no datapoint yet or runs no task."""
    for name, entry in world.catalogue("Queue").items():
        for c, s, _ in model.consumers_of(entry.spec or {}):
            if (c, s) == (cluster, service):
                metrics = queue_metrics(world, name)
                if metrics is None:
                    return None
                return model.backlog_per_task(int(metrics.get(VISIBLE, 0)), _running(world, cluster, service))
    return None


__all__ = ["BACKLOG", "NOT_VISIBLE", "QUEUE_METRIC", "QUEUE_STATE", "RUNNING_TASKS", "VISIBLE",
           "advance_queues", "backlog_per_task", "queue_metrics", "service_metrics"]
