"""FARGATE_SPOT interruptions on the simulated clock (ecs-semantics §7.4).

``ecsctl tick DURATION --spot-interruptions RATE`` adds :func:`interruptions` to the minute's
tick handlers: each RUNNING task of the ``FARGATE_SPOT`` capacity provider is interrupted with
probability ``RATE`` per simulated hour (spread evenly over its minutes: ``1 − (1 − RATE)^(1/60)``
a minute; ``RATE`` 1 interrupts every Spot task in the first minute).  The draw is a hash of
the task id and the minute, not a random generator: the same state and the same tick
interrupt the same tasks.

An interrupted task stops with ECS's reason ``Your Spot Task was interrupted.`` and stop code
``SpotInterruption`` (the task state change event of the AWS knowledge-center article "How do I
handle Spot termination notices in AWS Fargate Spot tasks?"; ECS sends the two-minute warning
with stop code ``TerminationNotice`` first, which the simulation folds into the stop), and the
service scheduler replaces it in the same minute, on the providers its strategy gives.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from ecsctl.backends.local import capacity_providers as cp
from ecsctl.backends.local import launch
from ecsctl.backends.local.tasks import TickHandler
from ecsctl.backends.local.world import RUNNING, World

STOP_CODE = "SpotInterruption"
REASON = "Your Spot Task was interrupted."
SPOT = "FARGATE_SPOT"


def per_minute(rate: float) -> float:
    """The chance a minute that gives ``rate`` per hour.

        >>> per_minute(1.0), round(per_minute(0.5), 6)
        (1.0, 0.011486)
    """
    if rate >= 1:
        return 1.0
    return 1 - (1 - rate) ** (1 / 60)


def _draw(task_id: str, at: datetime) -> float:
    digest = hashlib.sha256(f"spot/{task_id}/{at.isoformat()}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def interruptions(rate: float) -> TickHandler:
    """A tick handler that interrupts FARGATE_SPOT tasks at ``rate`` per hour (0 ≤ rate ≤ 1)."""
    chance = per_minute(rate)

    def interrupt_spot_tasks(world: World, a: datetime, b: datetime) -> None:
        if chance <= 0 or b.second or b.microsecond:
            return
        for name in world.active_clusters():
            cs = world.state(name)
            hit = [t for t in sorted(cs.tasks.values(), key=lambda t: t.id)
                   if t.last_status == RUNNING and t.instance_id is None and cp.provider_of(world, t) == SPOT
                   and _draw(t.id, b) < chance]
            by_service: dict[str, list] = {}
            for task in hit:
                stopped = launch.stop(world, cs, task, STOP_CODE, REASON)
                if stopped.service:
                    by_service.setdefault(stopped.service, []).append(stopped)
            for service, tasks in sorted(by_service.items()):
                world.event(name, service, launch.stopped_event(service, tasks))

    return interrupt_spot_tasks


__all__ = ["REASON", "SPOT", "STOP_CODE", "interruptions", "per_minute"]
