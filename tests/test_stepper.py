"""The rolling-deployment stepper (DESIGN section 6): worked examples and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.deploy.bounds import deployment_bounds
from ecsctl.core.deploy.stepper import breaker_threshold, capacity, roll

# (desired, min%, max%, capacity or None, steps as (stopOld, startNew, oldRunning, newRunning), outcome)
EXAMPLES = [
    (4, 50, 200, None, [(2, 4, 2, 4), (2, 0, 0, 4)], "complete"),                                   # DESIGN 1
    (6, 100, 200, 8, [(0, 2, 6, 2), (2, 2, 4, 4), (2, 2, 2, 6), (2, 0, 0, 6)], "complete"),        # DESIGN 2
    (4, 100, 200, None, [(0, 4, 4, 4), (4, 0, 0, 4)], "complete"),                                 # no capacity dip
    (4, 0, 100, None, [(4, 4, 0, 4)], "complete"),                                                 # downtime
    (4, 25, 100, None, [(3, 3, 1, 3), (1, 1, 0, 4)], "complete"),
    (4, 100, 125, None, [(0, 1, 4, 1), (1, 1, 3, 2), (1, 1, 2, 3), (1, 1, 1, 4), (1, 0, 0, 4)], "complete"),  # one at a time
    (1, 100, 200, None, [(0, 1, 1, 1), (1, 0, 0, 1)], "complete"),
    (1, 100, 100, None, [], "stalled"),
    (3, 100, 125, None, [], "stalled"),                                                            # floor(3.75) = 3
    (2, 75, 100, None, [], "stalled"),                                                             # ceil(1.5) = 2
    (0, 100, 200, None, [], "complete"),
    (4, 100, 200, 4, [], "stalled"),                                                               # full cluster, min 100
    (4, 0, 50, None, [(4, 2, 0, 2)], "stalled"),                   # upper 2 < D: the old gone, still capped
    (4, 50, 50, None, [(2, 0, 2, 0)], "stalled"),
    (2, 150, 200, None, [(0, 2, 2, 2), (1, 0, 1, 2)], "stalled"),  # lower 3 > D: the last old task never stops
]


@pytest.mark.parametrize(("desired", "lo", "hi", "fits", "steps", "outcome"), EXAMPLES)
def test_worked_examples(desired, lo, hi, fits, steps, outcome):
    start = capacity(fits, used=desired) if fits is not None else None
    result = roll(desired, lo, hi, desired, start=start)
    assert [s.as_tuple() for s in result.steps] == steps
    assert result.outcome == outcome


def test_a_stall_names_the_reason_and_the_smallest_fix():
    bounds = roll(3, 100, 125, 3)
    assert "leave no room" in bounds.reason and bounds.fix == "lower minimumHealthyPercent to 66 or raise maximumPercent to 134"
    placement = roll(4, 100, 200, 4, start=lambda n: (0, "RESOURCE:PORTS"))
    assert placement.outcome == "stalled" and "RESOURCE:PORTS" in placement.reason and "capacity" in placement.fix


@pytest.mark.parametrize(("desired", "lo", "hi", "reason", "fix"), [
    (4, 0, 50, "maximumPercent 50 allows 2 tasks, fewer than the desired count 4", "raise maximumPercent to 100 or more"),
    (4, 50, 50, "maximumPercent 50 allows 2 tasks, fewer than the desired count 4", "raise maximumPercent to 100 or more"),
    (2, 150, 200, "minimumHealthyPercent 150 keeps 3 tasks running, more than the desired count 2, so the last old "
                  "task may not stop", "lower minimumHealthyPercent to 100 or less"),
])
def test_a_stall_of_percents_out_of_range_names_the_change_that_unblocks_it(desired, lo, hi, reason, fix):
    """Below 100 %, maximumPercent never lets the desired count exist; above 100 %,
    minimumHealthyPercent never lets the last old task stop: the fix names that side only
    (lowering a minimum of 50 to 75, or "raising" 200 to 150, would not help)."""
    result = roll(desired, lo, hi, desired)
    assert result.reason == f"minimumHealthyPercent/maximumPercent leave no room: {reason}" and result.fix == fix
    unblocked = roll(desired, lo if "maximumPercent" in fix else 100, 100 if "maximumPercent" in fix else hi, desired)
    assert unblocked.outcome == "complete"


@pytest.mark.parametrize(("desired", "lo", "hi", "fix", "unblocked"), [
    # at maximumPercent 100 a minimum of 100 still holds every task: name the value that works
    (4, 100, 50, "raise maximumPercent to 125 or more (or to 100, and lower minimumHealthyPercent to 75)", (100, 125)),
    (1, 100, 90, "raise maximumPercent to 200 or more (or to 100, and lower minimumHealthyPercent to 0)", (100, 200)),
    (2, 150, 100, "lower minimumHealthyPercent to 50 or less (or to 100, and raise maximumPercent to 150)", (50, 100)),
])
def test_a_stall_fix_names_a_change_that_unblocks_it(desired, lo, hi, fix, unblocked):
    assert roll(desired, lo, hi, desired).fix == fix
    assert roll(desired, *unblocked, desired).outcome == "complete"


def test_circuit_breaker_threshold():
    assert [breaker_threshold(d) for d in (0, 1, 5, 6, 7, 25, 399, 400, 5000)] == [3, 3, 3, 3, 4, 13, 200, 200, 200]


@settings(max_examples=300, deadline=None)
@given(desired=st.integers(0, 40), lo=st.integers(0, 100), hi=st.integers(100, 300), extra=st.integers(0, 50))
def test_never_below_the_floor_never_above_the_ceiling_and_always_ends(desired, lo, hi, extra):
    lower, upper = deployment_bounds(desired, lo, hi)
    room = capacity(desired + extra, used=desired)
    result = roll(desired, lo, hi, desired, start=room)
    healthy = desired
    for s in result.steps:
        assert healthy - s.stop_old >= min(lower, healthy)  # stops never go below the floor
        assert s.old_running + s.new_running <= max(upper, desired)  # starts never pass the ceiling
        healthy = s.old_running + s.new_running
    assert result.outcome in ("complete", "stalled")
    if result.outcome == "complete":
        assert (result.old_running, result.new_running) == (0, desired)
    else:
        assert result.reason and result.fix
    assert len(result.steps) <= 2 * desired + 2  # never loops
