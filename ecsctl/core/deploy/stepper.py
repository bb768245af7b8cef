"""The rolling-deployment stepper of DESIGN section 6: one move per reconcile, pure.

For a REPLICA service with desired count ``D`` and bounds ``lower``/``upper``
(``bounds.deployment_bounds``), each step, in this order:

1. stops old tasks while ``healthy - 1 >= lower`` (``healthy`` = old + new tasks running at the
   start of the step);
2. starts new tasks while ``old + new < upper`` and ``new < D``, each placed by the scheduler
   (a task that cannot be placed is not started);
3. tasks started in the step count as healthy from the next step on.

The deployment completes when ``new == D`` and ``old == 0``.  :func:`move` answers one step
from an observation of the service (how many old and new tasks run now): the controller stops
that many old tasks, then tries to start that many new ones, and observes again at its next
reconcile, so rule 3 holds by construction.  Draining uses the same move, with the tasks on
draining instances as the old ones.  A step that can neither stop nor start while work remains
is **stalled**: :func:`stall` says why (the bounds, or the placement reason) and the smallest
change that unblocks it.

:func:`roll` runs moves to the end against a capacity model, for tables and documentation:

    >>> [s.as_tuple() for s in roll(4, 50, 200, 4).steps]          # DESIGN, example 1
    [(2, 4, 2, 4), (2, 0, 0, 4)]
    >>> r = roll(6, 100, 200, 6, start=capacity(8, used=6))          # DESIGN, example 2
    >>> [s.as_tuple() for s in r.steps], r.outcome
    ([(0, 2, 6, 2), (2, 2, 4, 4), (2, 2, 2, 6), (2, 0, 0, 6)], 'complete')
    >>> r = roll(1, 100, 100, 1)
    >>> r.outcome, r.reason
    ('stalled', 'minimumHealthyPercent/maximumPercent leave no room: minimumHealthyPercent 100 keeps all 1 tasks running and maximumPercent 100 allows no extra task')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ecsctl.core.deploy.bounds import can_progress, deployment_bounds, smallest_fix

# start(n) -> (started, reason): try to place n new tasks; reason says why fewer were placed.
StartFn = Callable[[int], tuple[int, str]]
# stop(n) -> None: n old tasks stop (the caller frees their resources and picks which).
StopFn = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Move:
    """One step of a deployment or a drain: stop ``stop`` old tasks, then start up to ``start`` new ones."""

    stop: int
    start: int


def move(desired: int, lower: int, upper: int, old: int, new: int) -> Move | None:
    """The next step from ``old`` old and ``new`` new tasks running (all healthy), or None when
    the deployment is complete (``new >= desired`` and ``old == 0``).

    >>> move(4, 2, 8, old=4, new=0), move(4, 2, 8, old=2, new=4), move(4, 2, 8, old=0, new=4)
    (Move(stop=2, start=4), Move(stop=2, start=0), None)
    >>> move(1, 1, 1, old=1, new=0)                                   # no room: a stall
    Move(stop=0, start=0)
    """
    if new >= desired and old == 0:
        return None
    stop = min(old, max(0, old + new - lower))
    start = max(0, min(upper - (old - stop + new), desired - new))
    return Move(stop, start)


@dataclass(frozen=True, slots=True)
class RollStep:
    """Counts *after* the step, as ``plan -o json`` shows them."""

    stop_old: int
    start_new: int
    old_running: int
    new_running: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.stop_old, self.start_new, self.old_running, self.new_running)

    def as_json(self) -> dict:
        return {"stopOld": self.stop_old, "startNew": self.start_new,
                "oldRunning": self.old_running, "newRunning": self.new_running}


@dataclass(frozen=True, slots=True)
class Rollout:
    desired: int
    min_pct: int
    max_pct: int
    lower: int
    upper: int
    steps: tuple[RollStep, ...] = ()
    outcome: str = "complete"  # complete | stalled | failed
    reason: str = ""
    fix: str = ""
    old_running: int = 0
    new_running: int = 0


@dataclass
class _Capacity:
    free: int

    def __call__(self, n: int) -> tuple[int, str]:
        placed = min(n, self.free)
        self.free -= placed
        return placed, "" if placed == n else "RESOURCE:MEMORY"

    def release(self, n: int) -> None:
        self.free += n


def capacity(total: int, used: int = 0) -> _Capacity:
    """A ``start`` callback for a cluster that fits ``total`` tasks (``used`` taken): for tables."""
    return _Capacity(total - used)


def roll(desired: int, min_pct: int, max_pct: int, old: int, *, new: int = 0,
         start: StartFn | None = None, stop: StopFn | None = None, max_steps: int = 10_000) -> Rollout:
    """Step a deployment from ``old`` old-revision tasks (and ``new`` new ones already
    running) to ``desired`` new ones with :func:`move`.  ``start`` defaults to unlimited room;
    when ``start`` is a :func:`capacity`, stopped tasks give their room back to it."""
    lower, upper = deployment_bounds(desired, min_pct, max_pct)
    start = start or (lambda n: (n, ""))
    if stop is None and isinstance(start, _Capacity):
        stop = start.release
    steps: list[RollStep] = []
    base = dict(desired=desired, min_pct=min_pct, max_pct=max_pct, lower=lower, upper=upper)
    for _ in range(max_steps):
        step = move(desired, lower, upper, old, new)
        if step is None:
            return Rollout(**base, steps=tuple(steps), old_running=old, new_running=new)
        if step.stop and stop:
            stop(step.stop)
        old -= step.stop
        started, why = start(step.start) if step.start else (0, "")
        new += started
        if step.stop == 0 and started == 0:
            reason, fix = stall(desired, min_pct, max_pct, old, new, upper, step.start, why)
            return Rollout(**base, steps=tuple(steps), outcome="stalled", reason=reason, fix=fix,
                           old_running=old, new_running=new)
        steps.append(RollStep(step.stop, started, old, new))
    return Rollout(**base, steps=tuple(steps), outcome="stalled", reason="no progress after many steps",
                   old_running=old, new_running=new)


def stall(desired: int, min_pct: int, max_pct: int, old: int, new: int, upper: int, want: int, why: str) -> tuple[str, str]:
    """``(reason, fix)`` of a step that could neither stop nor start: ``want`` > 0 means the bounds
    allowed starts the scheduler could not place (``why``: its reason)."""
    if want > 0:  # room under the bounds, but the scheduler could not place
        return (f"new tasks cannot be placed ({why or 'no capacity'})",
                "add capacity for at least 1 more task, or lower minimumHealthyPercent so an old task can stop first")
    room = "minimumHealthyPercent/maximumPercent leave no room"
    lower, _ = deployment_bounds(desired, min_pct, max_pct)
    if upper < desired:  # fewer tasks may exist than the service asks for: new ones never reach it
        fix = "raise maximumPercent to 100 or more"
        if not can_progress(desired, min_pct, 100)[0]:  # at 100 the minimum still holds every task
            best_min, best_max = smallest_fix(desired, min_pct, 100)
            fix = (f"raise maximumPercent to {best_max} or more (or to 100, and lower minimumHealthyPercent "
                   f"to {best_min})")
        return f"{room}: maximumPercent {max_pct} allows {upper} tasks, fewer than the desired count {desired}", fix
    if lower > desired:  # more must stay healthy than the service runs: the last old task never stops
        fix = "lower minimumHealthyPercent to 100 or less"
        if not can_progress(desired, 100, max_pct)[0]:  # at 100 no extra task may start either
            best_min, best_max = smallest_fix(desired, 100, max_pct)
            fix = (f"lower minimumHealthyPercent to {best_min} or less (or to 100, and raise maximumPercent "
                   f"to {best_max})")
        return (f"{room}: minimumHealthyPercent {min_pct} keeps {lower} tasks running, more than the desired count "
                f"{desired}, so the last old task may not stop", fix)
    ok, detail = can_progress(desired, min_pct, max_pct)
    best_min, best_max = smallest_fix(desired, min_pct, max_pct)
    detail = detail or f"{old + new} tasks already at maximumPercent {max_pct} ({upper}) and none may stop"
    return (f"{room}: {detail}", f"lower minimumHealthyPercent to {best_min} or raise maximumPercent to {best_max}")


def breaker_threshold(desired: int) -> int:
    """Deployment circuit breaker: ``min(200, max(3, ceil(0.5 * desired)))`` failed tasks.

    >>> [breaker_threshold(d) for d in (1, 6, 25, 400, 800)]
    [3, 3, 13, 200, 200]
    """
    return min(200, max(3, -(-desired // 2)))
