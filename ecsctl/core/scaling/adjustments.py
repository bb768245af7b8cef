"""Step scaling arithmetic: which step an alarm breach falls in, and the capacity it asks for.

Source: Application Auto Scaling User Guide, "Step scaling policies"
(https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html).

Bounds are relative to the alarm threshold.  "If the metric value is above the breach
threshold, the lower bound is inclusive and the upper bound is exclusive.  If the metric
value is below the breach threshold, the lower bound is exclusive and the upper bound is
inclusive."  Exactly at the threshold (difference 0) AWS says nothing; we take the side
of the alarm: a Greater* alarm treats 0 as above (``[0, 10)`` holds it), a Less* alarm as
below (``(-10, 0]`` holds it).

The guide's worked example, threshold 50, capacity 10 (``PercentChangeInCapacity``):

    >>> OUT = ((0, 10, 0), (10, 20, 10), (20, None, 30))
    >>> IN = ((-10, 0, 0), (-20, -10, -10), (None, -20, -30))
    >>> find_step(OUT, 60 - 50, above=True), find_step(IN, 40 - 50, above=False)
    (10, -10)
    >>> new_capacity("PercentChangeInCapacity", 10, 10), new_capacity("PercentChangeInCapacity", 11, 30)
    (11, 14)
    >>> new_capacity("PercentChangeInCapacity", 14, -10), new_capacity("PercentChangeInCapacity", 13, -30)
    (13, 10)
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

_INF = math.inf


def find_step(steps: Iterable[Sequence], difference: float, *, above: bool) -> int | None:
    """The ``scalingAdjustment`` of the step holding ``difference`` (value − threshold).

    ``steps`` are ``(lower, upper, adjustment)`` triples (None = unbounded) or objects with
    ``lower``/``upper``/``adjustment``; ``above`` says which side a difference of exactly 0
    belongs to (the alarm's direction).  None when no step holds it.

        >>> find_step([(0, 50, 1), (50, None, 3)], 50, above=True)
        3
        >>> find_step([(None, -20, -2), (-20, 0, -1)], -20, above=False)
        -2
    """
    upper_inclusive = difference < 0 or (difference == 0 and not above)
    for step in steps:
        lower, upper, adjustment = step if isinstance(step, tuple) else (step.lower, step.upper, step.adjustment)
        lo = -_INF if lower is None else lower
        hi = _INF if upper is None else upper
        if upper_inclusive:
            if lo < difference <= hi:
                return adjustment
        elif lo <= difference < hi:
            return adjustment
    return None


def percent_change(capacity: int, percent: float) -> int:
    """``percent`` % of ``capacity``, rounded as Application Auto Scaling rounds it.

    "Values greater than 1 are rounded down (12.7 → 12).  Values between 0 and 1 are
    rounded to 1 (.67 → 1).  Values between 0 and −1 are rounded to −1 (−.58 → −1).
    Values less than −1 are rounded up (−6.67 → −6)."

        >>> [percent_change(c, p) for c, p in ((127, 10), (67, 1), (58, -1), (667, -1))]
        [12, 1, -1, -6]
        >>> percent_change(0, 50), percent_change(10, 0)
        (0, 0)
    """
    raw = capacity * percent / 100.0
    if raw >= 1:
        return math.floor(raw + 1e-9)
    if raw > 0:
        return 1
    if raw <= -1:
        return math.ceil(raw - 1e-9)
    if raw < 0:
        return -1
    return 0


def new_capacity(adjustment_type: str, capacity: int, adjustment: int, min_magnitude: int | None = None) -> int:
    """The capacity a step asks for from ``capacity`` (before min/max bounds).

    ``minAdjustmentMagnitude`` (PercentChangeInCapacity only) is the smallest change, in
    either direction: "a policy that adds 25 percent and a minimum amount of 2 … a
    capacity of 4 … adds 2".

        >>> new_capacity("PercentChangeInCapacity", 4, 25, min_magnitude=2)
        6
        >>> new_capacity("ChangeInCapacity", 3, 5), new_capacity("ExactCapacity", 3, 5)
        (8, 5)
    """
    if adjustment_type == "ExactCapacity":
        return adjustment
    if adjustment_type == "ChangeInCapacity":
        return capacity + adjustment
    change = percent_change(capacity, adjustment)
    if min_magnitude and change and abs(change) < min_magnitude:
        change = min_magnitude if change > 0 else -min_magnitude
    return capacity + change


def aggregate(values: Sequence[float], how: str) -> float:
    """``metricAggregationType`` (Average, Minimum, Maximum) or a CloudWatch ``statistic``
    (also Sum, SampleCount) over datapoints.

        >>> aggregate([1, 2, 6], "Average"), aggregate([1, 2, 6], "Maximum"), aggregate([1, 2, 6], "SampleCount")
        (3.0, 6, 3)
    """
    if how == "Maximum":
        return max(values)
    if how == "Minimum":
        return min(values)
    if how == "Sum":
        return sum(values)
    if how == "SampleCount":
        return len(values)
    return sum(values) / len(values)
