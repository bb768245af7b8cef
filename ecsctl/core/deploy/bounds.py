"""The two bounds a rolling deployment works between (DESIGN §6, ecs-semantics §5.3).

``lower = ceil(D*m/100)`` healthy tasks must stay; ``upper = floor(D*M/100)``
tasks may exist.  Integer arithmetic only, so ``D*m`` never meets float error:

    >>> deployment_bounds(4, 50, 200)
    (2, 8)
    >>> deployment_bounds(2, 75, 200)      # ceil(1.5)
    (2, 4)
    >>> deployment_bounds(3, 100, 125)     # floor(3.75)
    (3, 3)
    >>> can_progress(1, 100, 100)
    (False, 'minimumHealthyPercent 100 keeps all 1 tasks running and maximumPercent 100 allows no extra task')
"""

from __future__ import annotations

DEFAULT_MIN_PCT = 100
DEFAULT_MAX_PCT = 200

STUCK_EVENT = ("was unable to stop or start tasks during a deployment because of the service deployment configuration. "
               "Update the minimumHealthyPercent or maximumPercent value and try again.")


def deployment_bounds(desired: int, min_pct: int, max_pct: int) -> tuple[int, int]:
    """``(lower, upper)``: tasks that must stay healthy, tasks that may exist at once."""
    lower = -(-desired * min_pct // 100)
    upper = desired * max_pct // 100
    return lower, upper


def can_progress(desired: int, min_pct: int, max_pct: int) -> tuple[bool, str]:
    """Whether a deployment whose old tasks all run can make its first move.

    It can if it may stop one old task (``D - 1 >= lower``) or start one new
    task (``upper > D``); ``D = 0`` completes trivially.

    >>> can_progress(4, 100, 125)
    (True, '')
    >>> can_progress(0, 100, 100)
    (True, '')
    """
    if desired <= 0:
        return True, ""
    lower, upper = deployment_bounds(desired, min_pct, max_pct)
    if desired - 1 >= lower or upper > desired:
        return True, ""
    return False, (f"minimumHealthyPercent {min_pct} keeps all {lower} tasks running"
                   f" and maximumPercent {max_pct} allows no extra task")


def smallest_fix(desired: int, min_pct: int, max_pct: int) -> tuple[int, int]:
    """For a stuck configuration: the highest ``minimumHealthyPercent`` that lets one
    task stop, and the lowest ``maximumPercent`` that lets one task start.

    >>> smallest_fix(1, 100, 100)
    (0, 200)
    >>> smallest_fix(4, 100, 124)
    (75, 125)
    >>> smallest_fix(3, 100, 125)
    (66, 134)
    """
    # ceil(D*m/100) <= D-1  <=>  D*m <= 100*(D-1)
    best_min = 100 * (desired - 1) // desired if desired > 0 else 100
    # floor(D*M/100) >= D+1  <=>  D*M >= 100*(D+1)
    best_max = -(-100 * (desired + 1) // desired) if desired > 0 else DEFAULT_MAX_PCT
    return best_min, best_max
