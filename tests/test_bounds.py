"""Rolling-deployment bounds (DESIGN §6, ecs-semantics §5.3)."""

import pytest

from ecsctl.core.deploy.bounds import can_progress, deployment_bounds, smallest_fix


@pytest.mark.parametrize("desired, min_pct, max_pct, lower, upper", [
    (4, 50, 200, 2, 8),
    (4, 100, 200, 4, 8),
    (4, 0, 100, 0, 4),
    (4, 25, 100, 1, 4),
    (4, 100, 125, 4, 5),
    (2, 75, 200, 2, 4),      # ceil(1.5)
    (3, 100, 125, 3, 3),     # floor(3.75)
    (1, 100, 200, 1, 2),
    (1, 100, 100, 1, 1),
    (6, 100, 200, 6, 12),
    (0, 100, 200, 0, 0),
    (3, 33, 100, 1, 3),      # 0.99 -> 1
    (7, 57, 143, 4, 10),     # 3.99 -> 4, 10.01 -> 10, no float error
    (10, 10, 110, 1, 11),
])
def test_bounds_table(desired, min_pct, max_pct, lower, upper):
    assert deployment_bounds(desired, min_pct, max_pct) == (lower, upper)


@pytest.mark.parametrize("desired, min_pct, max_pct, ok", [
    (4, 50, 200, True), (4, 100, 200, True), (4, 0, 100, True), (4, 25, 100, True),
    (4, 100, 125, True), (1, 100, 200, True), (6, 100, 200, True), (0, 100, 100, True),
    (1, 100, 100, False), (3, 100, 125, False), (2, 75, 100, False), (4, 100, 124, False),
    (1, 50, 199, False),   # ceil(0.5) = 1 keeps the only task; floor(1.99) = 1 allows no extra
    (1, 0, 100, True),     # may stop the only task first (downtime, but progress)
])
def test_can_progress(desired, min_pct, max_pct, ok):
    result, reason = can_progress(desired, min_pct, max_pct)
    assert result is ok
    assert (reason == "") is ok


@pytest.mark.parametrize("desired, min_pct, max_pct", [(1, 100, 100), (3, 100, 125), (2, 75, 100), (7, 100, 110)])
def test_smallest_fix_unsticks_and_is_tight(desired, min_pct, max_pct):
    best_min, best_max = smallest_fix(desired, min_pct, max_pct)
    assert can_progress(desired, best_min, max_pct)[0]
    assert can_progress(desired, min_pct, best_max)[0]
    assert not can_progress(desired, best_min + 1, max_pct)[0]
    assert not can_progress(desired, min_pct, best_max - 1)[0]
