"""Step scaling: the Application Auto Scaling guide's worked example and its rounding rules, as tables.

Source: https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html
"""

from __future__ import annotations

import pytest

from ecsctl.core.scaling.adjustments import find_step, new_capacity, percent_change
from scaling_helpers import config, counts, run

# The guide's example: threshold 50 %, capacity 10, PercentChangeInCapacity.
OUT = [{"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 10, "scalingAdjustment": 0},
       {"metricIntervalLowerBound": 10, "metricIntervalUpperBound": 20, "scalingAdjustment": 10},
       {"metricIntervalLowerBound": 20, "scalingAdjustment": 30}]
IN = [{"metricIntervalLowerBound": -10, "metricIntervalUpperBound": 0, "scalingAdjustment": 0},
      {"metricIntervalLowerBound": -20, "metricIntervalUpperBound": -10, "scalingAdjustment": -10},
      {"metricIntervalUpperBound": -20, "scalingAdjustment": -30}]


def policy(name, steps, op, **extra):
    return {"policyName": name, "adjustmentType": "PercentChangeInCapacity", "cooldown": 0,
            "alarm": {"metricName": "CPUUtilization", "threshold": 50, "comparisonOperator": op},
            "stepAdjustments": steps, **extra}


GUIDE = config(1, 100, stepScaling=[policy("out", OUT, "GreaterThanOrEqualToThreshold"),
                                    policy("in", IN, "LessThanOrEqualToThreshold")])


def test_the_guides_worked_example_minute_by_minute():
    # "If the metric value gets to 60 … by 1, to 11 … rises to 70 … by 3, to 14 … gets to 40 …
    #  by 1, to 13 … falls to 30 … by 3, to 10"
    series = [{"CPUUtilization": v} for v in (55, 60, 70, 45, 40, 30)]
    _, acts = run(GUIDE, 10, series)
    assert counts(acts) == [(1, 11), (2, 14), (4, 13), (5, 10)]
    assert acts[0][1].cause == "monitor alarm out in state ALARM triggered policy out"
    assert acts[-1][1].description == "Setting desired count to 10."


@pytest.mark.parametrize(
    "value, above, adjustment",
    [
        (60, True, 10),    # difference 10: lower bound inclusive above the threshold
        (59.9, True, 0),
        (70, True, 30),
        (50, True, 0),     # exactly at the threshold, Greater* alarm: the [0, 10) step
        (40, False, -10),  # difference -10: upper bound inclusive below the threshold
        (40.1, False, 0),
        (30, False, -30),
        (50, False, 0),    # exactly at the threshold, Less* alarm: the (-10, 0] step
    ],
)
def test_bounds_are_inclusive_as_documented(value, above, adjustment):
    steps = [(s.get("metricIntervalLowerBound"), s.get("metricIntervalUpperBound"), s["scalingAdjustment"])
             for s in (OUT if above else IN)]
    assert find_step(steps, value - 50, above=above) == adjustment


@pytest.mark.parametrize(
    "capacity, percent, change",
    [
        (127, 10, 12),   # 12.7 → 12 ("values greater than 1 are rounded down")
        (67, 1, 1),      # .67 → 1
        (58, -1, -1),    # -.58 → -1
        (667, -1, -6),   # -6.67 → -6 ("values less than -1 are rounded up")
        (10, 10, 1),     # the guide: 10 % of 10 adds 1
        (11, 30, 3),     # 3.3 → 3
        (14, -10, -1),   # -1.4 → -1
        (13, -30, -3),   # -3.9 → -3
    ],
)
def test_percent_change_rounding(capacity, percent, change):
    assert percent_change(capacity, percent) == change


def test_min_adjustment_magnitude():
    # "a policy that adds 25 percent and … a minimum amount of 2 … capacity of 4 … adds 2"
    assert new_capacity("PercentChangeInCapacity", 4, 25, 2) == 6
    assert new_capacity("PercentChangeInCapacity", 4, -25, 2) == 2


@pytest.mark.parametrize(
    "kind, capacity, adjustment, result",
    [("ChangeInCapacity", 3, 5, 8), ("ChangeInCapacity", 3, -2, 1), ("ExactCapacity", 3, 5, 5)],
)
def test_change_and_exact_capacity(kind, capacity, adjustment, result):
    # the guide: "current capacity is 3 and the adjustment is 5" → 8 / 5
    assert new_capacity(kind, capacity, adjustment) == result


def test_cooldown_counts_the_capacity_already_added():
    # "increase the capacity by 2 … during the cooldown period … a more aggressive step
    #  adjustment of 3, the previous increase of 2 is considered part of the current
    #  capacity.  Therefore, only 1 is added."
    steps = [{"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 10, "scalingAdjustment": 2},
             {"metricIntervalLowerBound": 10, "scalingAdjustment": 3}]
    cfg = config(1, 100, stepScaling=[{"policyName": "q", "adjustmentType": "ChangeInCapacity", "cooldown": 300,
                                       "alarm": {"metricName": "Q", "threshold": 100,
                                                 "comparisonOperator": "GreaterThanOrEqualToThreshold"},
                                       "stepAdjustments": steps}])
    series = [{"Q": 105}, {"Q": 105}, {"Q": 115}, {"Q": 115}] + [{"Q": 115}] * 5
    _, acts = run(cfg, 10, series)
    # +2 at once; same step again: nothing; the larger step: +1 only; after 300 s from
    # the last scale-out (minute 2), the +3 step applies to the new capacity.
    assert counts(acts) == [(0, 12), (2, 13), (7, 16)]


def test_m_of_n_alarm_and_aggregation():
    steps = [{"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 20, "scalingAdjustment": 1},
             {"metricIntervalLowerBound": 20, "scalingAdjustment": 4}]
    cfg = config(1, 100, stepScaling=[{
        "policyName": "lat", "adjustmentType": "ChangeInCapacity", "cooldown": 0, "metricAggregationType": "Maximum",
        "alarm": {"metricName": "L", "threshold": 100, "comparisonOperator": "GreaterThanThreshold",
                  "evaluationPeriods": 3, "datapointsToAlarm": 2},
        "stepAdjustments": steps}])
    # one breach of 3: OK; the second breach puts the alarm in ALARM; Maximum of the
    # window (130 - 100 = 30) picks the +4 step although the latest value is 110.
    _, acts = run(cfg, 5, [{"L": 130}, {"L": 90}, {"L": 110}])
    assert counts(acts) == [(2, 9)]


def test_exact_capacity_scales_in_and_out_and_respects_bounds():
    cfg = config(2, 6, stepScaling=[{
        "policyName": "night", "adjustmentType": "ExactCapacity", "cooldown": 0,
        "alarm": {"metricName": "R", "threshold": 10, "comparisonOperator": "LessThanThreshold"},
        "stepAdjustments": [{"metricIntervalUpperBound": 0, "scalingAdjustment": 1}]}])
    _, acts = run(cfg, 5, [{"R": 3}])
    assert counts(acts) == [(0, 2)]  # ExactCapacity 1, held at minCapacity 2
