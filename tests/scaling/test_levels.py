"""The open-loop rule shared by ``scale simulate --metrics`` and ``tick`` after ``metrics put``:
a value holds from its minute until the next value of its metric (Amazon ECS sends its service
metrics every minute, cloudwatch-metrics.html), several in one minute are averaged
(CloudWatch's Average statistic over a one-minute period)."""

from __future__ import annotations

import pytest

from ecsctl.core.scaling.levels import MetricLevels

POINTS = [(10, "CPU", 60.0), (40, "CPU", 90.0), (40, "CPU", 70.0), (20, "Backlog", 5.0)]


@pytest.mark.parametrize("minute, expected", [
    (9, {}),                                  # nothing put yet: no datapoint
    (10, {"CPU": 60.0}),                      # from its own minute on
    (39, {"CPU": 60.0, "Backlog": 5.0}),      # held until the next value of that metric
    (40, {"CPU": 80.0, "Backlog": 5.0}),      # two values in one minute: their average
    (10_000, {"CPU": 80.0, "Backlog": 5.0}),  # the last value holds on
])
def test_a_value_holds_until_the_next_one(minute, expected) -> None:
    assert MetricLevels(POINTS).get(minute) == expected


def test_a_later_add_is_seen_and_at_fills_the_callers_dict() -> None:
    levels = MetricLevels(POINTS)
    assert levels.get(45)["CPU"] == 80.0
    levels.add(45, "CPU", 20.0)
    out = {"Queue": 3.0}
    assert levels.at(45, out) is out and out == {"Queue": 3.0, "CPU": 20.0, "Backlog": 5.0}
    empty: dict = {}
    assert MetricLevels().get(0, empty) is empty
