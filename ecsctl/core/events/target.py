"""A ScheduledTask's ``target`` as RunTask reads it: how many tasks a firing asks for."""

from __future__ import annotations

from typing import Any

MAX_RUN_COUNT = 10  # RunTask's count: 1 to 10 (EventBridge's PutTargets takes more: W6013)


def is_count(value: Any) -> bool:
    """Whether ``value`` is an integer count (a YAML ``true`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def task_count(target: Any) -> int:
    """The ``taskCount`` a firing asks RunTask for (1 when absent or not a count).

    >>> task_count({"taskCount": 3}), task_count({}), task_count({"taskCount": True})
    (3, 1, 1)
    """
    count = target.get("taskCount", 1) if isinstance(target, dict) else 1
    return count if is_count(count) else 1


__all__ = ["MAX_RUN_COUNT", "is_count", "task_count"]
