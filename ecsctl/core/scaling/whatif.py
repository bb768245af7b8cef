"""Replaying minutes through the engine without a cluster: the what-if of ``ecsctl scale simulate``.

Two ways to feed it (issue 10):

* open loop: metric datapoints per minute (minute → {metric: value}, absent minutes
  without datapoints; a CSV of ``timestamp,metric,value`` is read as held levels,
  :class:`~ecsctl.core.scaling.levels.MetricLevels`), the same whatever the policies do;
* closed loop: demand per minute and a :class:`~ecsctl.core.scaling.demand.DemandModel`;
  the metrics are derived from demand ÷ running tasks, so a scale-out lowers them.

Without a real cluster the running count follows the desired count (DERIVED, documented
in the README): a task asked for at minute ``t`` runs from minute ``t + startup``
(default 2 minutes: a Fargate task's provisioning, image pull and start, plus a target
group's first health checks); a scale-in stops tasks at once (the newest not yet running
first); ``capacity`` optionally caps how many tasks can run or start at all, as a full
cluster would.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from ecsctl.core.scaling.activities import ScalingActivity, minute_iso
from ecsctl.core.scaling.demand import DemandModel
from ecsctl.core.scaling.engine import MinuteInputs, start as start_engine, step
from ecsctl.core.scaling.model import ScalingConfig
from ecsctl.core.scaling.schedules import FireTimesFn, fire_times

DEFAULT_STARTUP_MINUTES = 2


@dataclass
class Timeline:
    """What a replay produced: the activities, and per-minute samples when asked."""

    config: ScalingConfig
    start: int
    end: int
    metric_name: str | None
    target: float | None
    activities: list[ScalingActivity] = field(default_factory=list)
    running_at: list[int] = field(default_factory=list)  # running count at each activity
    metric_at: list[float | None] = field(default_factory=list)  # primary metric at each activity
    minutes: int = 0
    metric: list[float | None] | None = None  # per minute, when recorded
    desired: list[int] | None = None
    running: list[int] | None = None

    def points(self) -> list[dict]:
        """``[{"time", "desiredCount", "reason", …}]``: one entry per activity (DESIGN §4)."""
        out = []
        for act, running, value in zip(self.activities, self.running_at, self.metric_at):
            out.append({
                "time": minute_iso(act.minute),
                "desiredCount": act.desired_count,
                "reason": act.cause,
                "description": act.description,
                "runningCount": running,
                "metricName": self.metric_name,
                "metricValue": None if value is None else round(value, 4),
                "minCapacity": act.min_capacity,
                "maxCapacity": act.max_capacity,
                "statusCode": act.status_code,
            })
        return out


def primary_metric(config: ScalingConfig) -> tuple[str | None, float | None]:
    """The metric a timeline shows: the first target-tracking policy's (with its target),
    else the first step policy's alarm metric (with its threshold)."""
    if config.target_tracking:
        return config.target_tracking[0].metric, config.target_tracking[0].target
    if config.step_scaling:
        return config.step_scaling[0].alarm.metric, config.step_scaling[0].alarm.threshold
    return None, None


class _Fleet:
    """The running count following the desired count after a start-up delay."""

    __slots__ = ("running", "starting", "pending", "startup", "capacity")

    def __init__(self, running: int, startup: int, capacity: int | None) -> None:
        self.running = running
        self.starting: deque = deque()  # [ready minute, count], oldest first
        self.pending = 0
        self.startup = startup
        self.capacity = capacity

    def arrive(self, minute: int) -> None:
        starting = self.starting
        while starting and starting[0][0] <= minute:
            self.running += starting.popleft()[1]
        self.pending = sum(c for _, c in starting)

    def follow(self, desired: int, minute: int) -> None:
        goal = desired if self.capacity is None else min(desired, self.capacity)
        total = self.running + self.pending
        if goal > total:
            if self.startup <= 0:
                self.running += goal - total
            else:
                self.starting.append([minute + self.startup, goal - total])
                self.pending += goal - total
        elif goal < total:
            excess = total - goal
            while excess and self.starting:
                last = self.starting[-1]
                take = min(excess, last[1])
                last[1] -= take
                excess -= take
                self.pending -= take
                if not last[1]:
                    self.starting.pop()
            self.running -= excess


def replay(config: ScalingConfig, *, start: int, end: int, desired: int,
           metrics: Mapping[int, Mapping[str, float]] | None = None,
           demand: DemandModel | None = None, demand_series: Sequence[float] | None = None,
           startup_minutes: int = DEFAULT_STARTUP_MINUTES, capacity: int | None = None,
           record: bool = False, fire_times_fn: FireTimesFn = fire_times) -> Timeline:
    """Step every minute of ``[start, end)`` (epoch minutes) and collect what scaled.

    Give ``metrics`` (minute → {metric: value}) for the open loop, or ``demand`` and
    ``demand_series`` (one demand value per minute from ``start``) for the closed loop.
    ``desired`` is the desired count at ``start``; its tasks are running then.
    """
    if (metrics is None) == (demand is None):
        raise ValueError("give metrics (open loop) or a demand (closed loop), not both")
    name, target = primary_metric(config)
    timeline = Timeline(config, start, end, name, target)
    state = start_engine(config, desired=desired, minute=start, until=end, fire_times_fn=fire_times_fn)
    fleet = _Fleet(desired, startup_minutes, capacity)
    fleet.follow(desired, start)
    closed = demand is not None
    current: dict = {}
    inputs = MinuteInputs(start, current)
    derive = demand.deriver(config.metrics) if closed else None
    series = demand_series if closed else ()
    empty: dict = {}
    rec_metric: list = []
    rec_desired: list = []
    rec_running: list = []
    activities = timeline.activities
    if closed:
        feed = zip(range(start, end), series)
    else:
        feed = ((minute, metrics.get(minute, empty)) for minute in range(start, end))
    running = fleet.running
    for minute, given in feed:
        if fleet.starting:
            fleet.arrive(minute)
            running = fleet.running
        if closed:
            derive(given, running, current)
        else:
            inputs.metrics = given
        inputs.minute = minute
        before = state.desired
        acts = step(state, inputs)[1]
        if acts:
            value = inputs.metrics.get(name) if name else None
            for act in acts:
                activities.append(act)
                timeline.running_at.append(running)
                timeline.metric_at.append(value)
            fleet.follow(state.desired, minute)
            running = fleet.running
        elif state.desired != before:
            fleet.follow(state.desired, minute)
            running = fleet.running
        if record:
            rec_metric.append(inputs.metrics.get(name) if name else None)
            rec_desired.append(state.desired)
            rec_running.append(running)
    timeline.minutes = max(0, end - start)
    if record:
        timeline.metric, timeline.desired, timeline.running = rec_metric, rec_desired, rec_running
    return timeline
