"""An EventBridge rule's ``state`` (PutRule's RuleState) and what each value does.

``ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`` is an enabled rule that also matches
CloudTrail's read-only management events; EventBridge Scheduler (``at()`` and time-zoned
schedules) knows only ``ENABLED`` and ``DISABLED``.
"""

from __future__ import annotations

from typing import Any

RULE_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
SCHEDULE_STATES = ("ENABLED", "DISABLED")


def enabled(spec: Any) -> bool:
    """Whether a ScheduledTask's rule fires (its ``state``, ENABLED when absent).

    >>> enabled({}), enabled({"state": "DISABLED"}), enabled({"state": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"})
    (True, False, True)
    """
    state = str((spec or {}).get("state") or "ENABLED")
    return state != "DISABLED" and state in RULE_STATES


__all__ = ["RULE_STATES", "SCHEDULE_STATES", "enabled"]
