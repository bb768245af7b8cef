"""The capacity a target-tracking policy asks for.

Source: Application Auto Scaling User Guide, "Target tracking scaling policies"
(https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html).
AWS documents the behaviour, not the formula: it "scales out proportionally to the
metric as fast as it can, but scales in more gradually", "acts conservatively by rounding
up or down … to prevent adding insufficient capacity or removing too much capacity", and
removes capacity "only when utilization passes a threshold that is far enough below the
target value (usually more than 10 % lower)".  What we do (DERIVED, ecs-semantics §6.2):

* scale-out: ``ceil(capacity × metric ÷ target)`` on the latest datapoint, once the
  high alarm (metric > target, 3 of 3 one-minute datapoints) is in ALARM;
* scale-in: ``ceil(capacity × peak ÷ target)`` where ``peak`` is the highest of the 15
  datapoints that put the low alarm (metric < 90 % of target, 15 of 15) in ALARM.
  Rounding up and taking the peak remove the least capacity the evidence allows; the
  result can never push the metric back over the target (AWS refuses such a scale-in as
  ``AutoScalingAnticipatedFlapping``).

    >>> scale_out_capacity(4, 90.0, 60.0)          # 4 × 1.5 = 6
    6
    >>> scale_out_capacity(10, 63.0, 60.0)         # 10.5, rounded up
    11
    >>> scale_in_capacity(10, 30.0, 60.0)          # 10 × 0.5 = 5
    5
    >>> scale_in_capacity(3, 41.0, 60.0)           # 2.05 → 3: nothing to remove
    3
"""

from __future__ import annotations

import math

_EPS = 1e-9  # 3 × 70 / 70 must stay 3, not become 4 through float noise


def proportional(capacity: int, metric: float, target: float) -> int:
    """``ceil(capacity × metric ÷ target)``, robust to float noise."""
    return math.ceil(capacity * metric / target - _EPS)


def scale_out_capacity(capacity: int, metric: float, target: float) -> int:
    """Capacity asked for when the high alarm fires; at least ``capacity + 1``
    (the alarm only fires on metric > target, so one more task is always warranted)."""
    return max(capacity + 1, proportional(capacity, metric, target))


def scale_in_capacity(capacity: int, peak: float, target: float) -> int:
    """Capacity asked for when the low alarm fires; never more than ``capacity``."""
    return min(capacity, proportional(capacity, peak, target))
