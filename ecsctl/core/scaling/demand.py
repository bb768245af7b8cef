"""The closed loop: a service's demand, and the metrics it produces on the tasks that run.

A service declares what drives it and what one task serves (``spec.autoScaling.demand``)::

    demand:
      unit: requestsPerSecond        # or cpuSecondsPerSecond, messagesPerSecond
      perTask: 50                    # demand one task serves at 100 % CPU
      daily: {min: 100, max: 900, peakAt: "14:00", timezone: Europe/Paris}
      # or constant: 300 | series: [{time: ..., value: ...}, ...] | file: demand.csv
      memory: {idle: 25, busy: 70}   # optional: memory % at 0 % and at 100 % CPU
      customMetrics: {BacklogPerTask: perTask}   # optional: total | perTask | utilization

Each minute, with demand ``L`` and ``r`` running tasks, the load per task is
``u = L ÷ (r × perTask)`` and the service publishes (r > 0):

* ``ECSServiceAverageCPUUtilization`` = ``min(100, 100 u)`` (a task cannot use more than
  its CPU; demand beyond it queues, so the metric saturates as it does in production);
* ``ECSServiceAverageMemoryUtilization`` = ``idle + (busy − idle) × min(1, u)`` when ``memory`` is given;
* ``ALBRequestCountPerTarget`` = ``L × 60 ÷ r`` (requests per target per minute) for
  ``unit: requestsPerSecond``;
* each ``customMetrics`` name: ``total`` = L, ``perTask`` = L ÷ r, ``utilization`` = the CPU figure.

With no task running, the per-task metrics have no datapoint (CloudWatch has nothing to
average), and only ``total`` custom metrics are published.  A scale-out lowers the
metrics as soon as the new tasks run, which is what makes the loop closed.

    >>> model = DemandModel.from_spec({"unit": "requestsPerSecond", "perTask": 50, "constant": 300,
    ...                                "memory": {"idle": 20, "busy": 60}})
    >>> model.metrics(300.0, 10)
    {'ECSServiceAverageCPUUtilization': 60.0, 'ECSServiceAverageMemoryUtilization': 44.0, 'ALBRequestCountPerTarget': 1800.0}
    >>> model.metrics(300.0, 4)["ECSServiceAverageCPUUtilization"]
    100.0
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from ecsctl.core.scaling.model import parse_time
from ecsctl.core.scaling.schedules import epoch_minute, minute_datetime

CPU = "ECSServiceAverageCPUUtilization"
MEMORY = "ECSServiceAverageMemoryUtilization"
ALB = "ALBRequestCountPerTarget"
UNITS = ("requestsPerSecond", "cpuSecondsPerSecond", "messagesPerSecond")
CUSTOM_KINDS = ("total", "perTask", "utilization")
SOURCES = ("constant", "daily", "series", "file")


@dataclass(frozen=True)
class DemandModel:
    """How demand becomes metrics; ``source`` is the raw demand source mapping (one key of SOURCES)."""

    per_task: float
    unit: str = "requestsPerSecond"
    memory: tuple[float, float] | None = None  # (idle %, busy %)
    custom: tuple[tuple[str, str], ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "DemandModel":
        memory = spec.get("memory")
        return cls(
            per_task=float(spec["perTask"]),
            unit=spec.get("unit", "requestsPerSecond"),
            memory=(float(memory.get("idle", 0)), float(memory.get("busy", 100))) if memory else None,
            custom=tuple(sorted((spec.get("customMetrics") or {}).items())),
            source={k: spec[k] for k in SOURCES if k in spec},
        )

    def published(self) -> tuple[str, ...]:
        """The metric names this demand produces."""
        names = [CPU] + ([MEMORY] if self.memory else []) + ([ALB] if self.unit == "requestsPerSecond" else [])
        return tuple(names) + tuple(name for name, _ in self.custom)

    def metrics(self, load: float, running: int) -> dict[str, float]:
        """The metrics of one minute (a fresh dict; :meth:`deriver` is the fast path)."""
        out: dict[str, float] = {}
        self.deriver(self.published())(load, running, out)
        return out

    def deriver(self, wanted: Sequence[str]) -> Callable[[float, int, dict], None]:
        """A function ``(load, running, out)`` filling ``out`` with the ``wanted`` metrics.

        Built once per service so that a minute costs a few multiplications: metrics no
        policy reads are not computed, and ``out`` is reused (keys with no datapoint this
        minute are removed).
        """
        k = 100.0 / self.per_task
        wanted = [w for w in wanted if w in self.published()]
        custom = dict(self.custom)
        cpu = [w for w in wanted if w == CPU or custom.get(w) == "utilization"]
        memory = MEMORY if MEMORY in wanted else None
        alb = ALB if ALB in wanted else None
        per_task = [w for w in wanted if custom.get(w) == "perTask"]
        totals = [w for w in wanted if custom.get(w) == "total"]
        idle, busy = self.memory or (0.0, 100.0)
        span = (busy - idle) / 100.0
        shares = ([(alb, 60.0)] if alb else []) + [(w, 1.0) for w in per_task]
        per_task_names = [w for w in wanted if w not in totals]

        def derive(load: float, running: int, out: dict) -> None:
            for name in totals:
                out[name] = load
            if not running:
                for name in per_task_names:
                    out.pop(name, None)
                return
            u = load * k / running
            if u > 100.0:
                u = 100.0
            for name in cpu:
                out[name] = u
            if memory:
                out[memory] = idle + span * u
            for name, factor in shares:
                out[name] = load * factor / running

        return derive


# --- demand over time ---------------------------------------------------------


def demand_values(source: Mapping[str, Any], start: int, end: int,
                  points: Sequence[tuple[int, float]] | None = None) -> list[float]:
    """Demand for each minute in ``[start, end)`` (epoch minutes).

    ``source`` is one of ``constant: V``, ``daily: {min, max, peakAt, timezone}`` (a
    sine wave over the local day, highest at ``peakAt``, daylight-saving changes
    followed), ``series: [{time, value}]`` (linear between points, flat beyond them).
    ``points`` (epoch minute, value) replace the source, e.g. a ``file`` read by the caller.

        >>> demand_values({"series": [{"time": "1970-01-01T00:00:00Z", "value": 0},
        ...                           {"time": "1970-01-01T00:04:00Z", "value": 8}]}, 0, 6)
        [0.0, 2.0, 4.0, 6.0, 8.0, 8.0]
        >>> [round(v) for v in demand_values({"daily": {"min": 0, "max": 100, "peakAt": "12:00"}}, 0, 1440)[::360]]
        [0, 50, 100, 50]
    """
    if points is not None:
        return _interpolate(points, start, end)
    if "constant" in source:
        return [float(source["constant"])] * max(0, end - start)
    if "daily" in source:
        return _daily(source["daily"], start, end)
    if "series" in source:
        return _interpolate(series_points(source["series"]), start, end)
    raise ValueError("a demand needs one of constant, daily, series or file")


def series_points(items: Sequence[Mapping[str, Any]]) -> list[tuple[int, float]]:
    """``[{time, value}]`` as sorted (epoch minute, value) points."""
    return sorted((epoch_minute(parse_time(i["time"])), float(i["value"])) for i in items)


def _interpolate(points: Sequence[tuple[int, float]], start: int, end: int) -> list[float]:
    if not points:
        raise ValueError("a demand series needs at least one point")
    times = [t for t, _ in points]
    out = []
    for minute in range(start, end):
        i = bisect_right(times, minute)
        if i == 0:
            out.append(points[0][1])
        elif i == len(points):
            out.append(points[-1][1])
        else:
            (t0, v0), (t1, v1) = points[i - 1], points[i]
            out.append(v0 + (v1 - v0) * (minute - t0) / (t1 - t0))
    return out


def _daily(spec: Mapping[str, Any], start: int, end: int) -> list[float]:
    low, high = float(spec.get("min", 0)), float(spec.get("max", 0))
    hours, _, minutes = str(spec.get("peakAt", "12:00")).partition(":")
    peak = int(hours) * 60 + int(minutes or 0)
    # One value per local minute of the day; the UTC offset is looked up once an hour.
    table = [low + (high - low) * (1 + math.cos(2 * math.pi * (m - peak) / 1440)) / 2 for m in range(1440)]
    zone = ZoneInfo(spec.get("timezone") or "UTC")
    out: list[float] = []
    minute = start
    while minute < end:
        moment = minute_datetime(minute)
        offset = moment.astimezone(zone).utcoffset() // timedelta(minutes=1)
        hour_end = min(end, (minute // 60 + 1) * 60)
        local = (minute + offset) % 1440
        span = hour_end - minute
        if local + span <= 1440:
            out.extend(table[local:local + span])
        else:
            out.extend((table * 2)[local:local + span])
        minute = hour_end
    return out
