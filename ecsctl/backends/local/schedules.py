"""Scheduled tasks on the clock: each ``ScheduledTask`` with a ``scheduleExpression`` fires when due.

The tick handler :func:`fire_due` runs every simulated minute ``(a, b]``.  For each ENABLED
rule of the catalogue with a ``scheduleExpression`` it asks ``core.events.recurrence.fire_times``
for the firings in the window, in the rule's ``scheduleExpressionTimezone`` (``cron()`` and
``at()`` in wall-clock time there, daylight-saving gaps skipped and repeated hours fired once),
and fires the target once per firing (``firing.fire``).

``rate()`` counts from the rule's creation, as EventBridge does ("the rate expression starts
when you create the scheduled event rule"; ``recurrence.firings_start``): the rule's
``RuleState`` sim state keeps the moment the clock first saw it (``anchor``) and its last
firing (``last``); windows never
overlap (the clock only moves forward), so a rule never fires twice for one moment, and a
rule applied at 10:00 with
``rate(1 hour)`` fires at 11:00, 12:00, 13:00 — three tasks over a three-hour tick.  A rule
whose expression changes (an apply) starts counting again.  A DISABLED rule does not fire;
EventBridge does not catch up on firings missed while it was disabled, and neither does this.
"""

from __future__ import annotations

import weakref
from datetime import datetime, timedelta

from ecsctl.backends.local import firing, tasks
from ecsctl.backends.local.world import World
from ecsctl.core.events import rule_state
from ecsctl.core.events.recurrence import fire_times, firings_start
from ecsctl.core.events.schedule import ScheduleError
from ecsctl.core.state.ports import SimState

RULE_STATE = "RuleState"  # sim state kind, name: the rule
HORIZON = timedelta(days=366 * 5)  # how far ahead the next firing is looked for (cron's year field)

# per world: rule -> (what the firing was computed from, the next firing after it or None)
_NEXT: "weakref.WeakKeyDictionary[World, dict]" = weakref.WeakKeyDictionary()


def _next_firing(world: World, name: str, key: tuple, a: datetime) -> datetime | None:
    """The first firing after ``a`` (looked up once, then kept until it has passed)."""
    cache = _NEXT.setdefault(world, {})
    known = cache.get(name)
    if known is not None and known[0] == key and known[2] <= a:
        if (known[1] is not None and known[1] > a) or (known[1] is None and a < known[2] + HORIZON / 2):
            return known[1]
    expression, timezone, anchor = key
    try:
        start = firings_start(expression, created=anchor)
        found = next(fire_times(expression, timezone=timezone, after=a, until=a + HORIZON, start=start), None)
    except ScheduleError:  # validation refuses it; a hand-made state gets no firing
        found = None
    cache[name] = (key, found, a)
    return found


def fire_due(world: World, a: datetime, b: datetime) -> None:
    for name, entry in world.catalogue("ScheduledTask").items():
        spec = entry.spec or {}
        expression = spec.get("scheduleExpression")
        if not expression:
            continue
        state = world.sim_state(RULE_STATE, name)
        data = dict(state.data) if state is not None else {}
        changed = False
        if data.get("expression") != expression or data.get("timezone") != spec.get("scheduleExpressionTimezone"):
            data = {"expression": expression, "timezone": spec.get("scheduleExpressionTimezone"),
                    "anchor": tasks.format_clock(a)}
            changed = True
        if rule_state.enabled(spec):
            key = (str(expression), spec.get("scheduleExpressionTimezone") or "UTC", tasks.parse_clock(data["anchor"]))
            due = []
            moment = _next_firing(world, name, key, a)
            while moment is not None and moment <= b:  # a window is at most a minute: once, as a rule
                due.append(moment)
                moment = _next_firing(world, name, key, moment)
            for _ in due:
                firing.fire(world, name, spec, trigger="schedule")
            if due:
                data["last"] = tasks.format_clock(due[-1])
                changed = True
        if changed:
            world.put_sim_state(SimState(RULE_STATE, name, data))


__all__ = ["RULE_STATE", "fire_due"]
