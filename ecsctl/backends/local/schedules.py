"""Scheduled tasks on the clock: each ``ScheduledTask`` with a ``scheduleExpression`` fires when due.

The tick handler :func:`fire_due` runs every simulated minute ``(a, b]``.  For each ENABLED
rule of the catalogue with a ``scheduleExpression`` it asks ``core.events.recurrence.fire_times``
for the firings in the window, in the rule's ``scheduleExpressionTimezone`` (``cron()`` and
``at()`` in wall-clock time there, daylight-saving gaps skipped and repeated hours fired once),
and fires the target once per firing (``firing.fire``).

``rate()`` counts from the rule's creation, as EventBridge does ("the rate expression starts
when you create the scheduled event rule"): the rule's ``RuleState`` sim state keeps the
moment the clock first saw it (``anchor``) and its last firing (``last``); windows never
overlap (the clock only moves forward), so a rule never fires twice for one moment, and a
rule applied at 10:00 with
``rate(1 hour)`` fires at 11:00, 12:00, 13:00 — three tasks over a three-hour tick.  A rule
whose expression changes (an apply) starts counting again.  A DISABLED rule does not fire;
EventBridge does not catch up on firings missed while it was disabled, and neither does this.
"""

from __future__ import annotations

from datetime import datetime

from ecsctl.backends.local import firing, tasks
from ecsctl.backends.local.world import World
from ecsctl.core.events.recurrence import fire_times
from ecsctl.core.events.schedule import ScheduleError
from ecsctl.core.state.ports import SimState

RULE_STATE = "RuleState"  # sim state kind, name: the rule


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
        if str(spec.get("state") or "ENABLED") == "ENABLED":
            try:
                due = list(fire_times(str(expression), timezone=spec.get("scheduleExpressionTimezone") or "UTC",
                                      after=a, until=b, start=tasks.parse_clock(data["anchor"])))
            except ScheduleError:  # validation refuses it; a hand-made state gets no firing
                due = []
            for _ in due:
                firing.fire(world, name, spec, trigger="schedule")
            if due:
                data["last"] = tasks.format_clock(due[-1])
                changed = True
        if changed:
            world.put_sim_state(SimState(RULE_STATE, name, data))


__all__ = ["RULE_STATE", "fire_due"]
