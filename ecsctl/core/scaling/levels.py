"""Open-loop metrics: what a ``timestamp,metric,value`` row or a ``metrics put`` value means.

One rule for ``ecsctl scale simulate --metrics`` and for ``tick`` after ``ecsctl metrics
put``: a value given at minute ``T`` is the service's metric **from ``T`` on, until the next
value of that metric** — a level the service keeps publishing, as Amazon ECS sends its
service metrics to CloudWatch every minute ("Amazon ECS metric data is automatically sent
to CloudWatch in 1-minute periods",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html).
Several values of a metric in one minute are averaged (CloudWatch's ``Average`` over the
one-minute period).  So a policy's alarm has a datapoint every minute from the first value
on: a step policy whose alarm stays in ALARM acts each minute its cooldown allows
("For Auto Scaling actions, the alarm continues to invoke the action once per minute that
the alarm remains in the new state",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html).

    >>> levels = MetricLevels([(0, "CPU", 60.0), (30, "CPU", 40.0), (30, "CPU", 50.0)])
    >>> levels.get(-1), levels.get(0), levels.get(29), levels.get(30), levels.get(900)
    ({}, {'CPU': 60.0}, {'CPU': 60.0}, {'CPU': 45.0}, {'CPU': 45.0})
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterable


class MetricLevels:
    """Per metric, the minutes that have values (ascending) and each minute's mean value.

    ``get(minute, default)`` has the shape of ``Mapping.get`` over minute → {metric: value},
    what :func:`ecsctl.core.scaling.whatif.replay` and the compiled walk read; ``at`` fills a
    dict the caller already holds (``tick`` adds derived and queue metrics to the same one).
    """

    __slots__ = ("_raw", "_series")

    def __init__(self, points: Iterable[tuple[int, str, float]] = ()) -> None:
        self._raw: dict[str, dict[int, list[float]]] = {}
        self._series: dict[str, tuple[list[int], list[float]]] | None = None
        for minute, metric, value in points:
            self.add(minute, metric, value)

    def add(self, minute: int, metric: str, value: float) -> None:
        self._raw.setdefault(metric, {}).setdefault(minute, []).append(float(value))
        self._series = None

    def at(self, minute: int, out: dict) -> dict:
        """``out`` with each metric's level at ``minute`` (metrics without a value yet are left out)."""
        series = self._series
        if series is None:
            series = self._series = {}
            for metric, per in self._raw.items():
                minutes = sorted(per)
                series[metric] = (minutes, [sum(per[m]) / len(per[m]) for m in minutes])
        for metric, (minutes, values) in series.items():
            i = bisect_right(minutes, minute)
            if i:
                out[metric] = values[i - 1]
        return out

    def get(self, minute: int, default: dict | None = None) -> dict:
        """The levels at ``minute`` as a new dict (``default``, or an empty dict, when none has a value)."""
        found = self.at(minute, {})
        return found if found or default is None else default


__all__ = ["MetricLevels"]
