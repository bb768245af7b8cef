"""Scheduled scaling: new min/max, the desired count pulled into them, time zones across DST.

Sources: https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html,
https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-additional-cli-commands.html
(the activity wording), ecs-semantics §6.4.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ecsctl.core.scaling.engine import MinuteInputs, start, step
from ecsctl.core.scaling.schedules import epoch_minute, fire_times
from scaling_helpers import config, run, tt

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
M0 = epoch_minute(T0)


def simple_fire_times(expression, *, timezone="UTC", after, until, start=None, end=None):
    """A deterministic stand-in for events' fire_times: rate(N minutes) from start, at() in UTC."""
    if expression.startswith("at("):
        when = datetime.fromisoformat(expression[3:-1]).replace(tzinfo=timezone_utc)
        if after < when <= until and (end is None or when <= end):
            yield when
        return
    minutes = int(expression[5:].split()[0])
    moment = start or after
    while moment <= until and (end is None or moment <= end):
        if moment > after:
            yield moment
        moment += timedelta(minutes=minutes)


timezone_utc = timezone.utc


def action(name, schedule, lo=None, hi=None, **extra):
    target = {k: v for k, v in (("minCapacity", lo), ("maxCapacity", hi)) if v is not None}
    return {"scheduledActionName": name, "schedule": schedule, "scalableTargetAction": target, **extra}


def test_a_scheduled_action_sets_bounds_and_pulls_desired_in():
    cfg = config(2, 10, scheduled=[action("peak", "at(2024-01-01T00:05:00)", 6, 12),
                                   action("night", "at(2024-01-01T00:10:00)", 1, 3)])
    state, acts = run(cfg, 4, [None] * 12, first=M0, fire_times_fn=simple_fire_times)
    got = [(m - M0, a.description, a.cause) for m, a in acts]
    assert got == [
        (5, "Setting min capacity to 6 and max capacity to 12", "scheduled action name peak was triggered"),
        (5, "Setting desired count to 6.", "minimum capacity was set to 6"),
        (10, "Setting min capacity to 1 and max capacity to 3", "scheduled action name night was triggered"),
        (10, "Setting desired count to 3.", "maximum capacity was set to 3"),
    ]
    assert (state.minimum, state.maximum, state.desired) == (1, 3, 3)
    assert acts[0][1].status_message == "Successfully set min capacity to 6 and max capacity to 12"


def test_one_bound_only_and_a_conflicting_one_fails():
    cfg = config(2, 10, scheduled=[action("cap", "at(2024-01-01T00:01:00)", hi=4),
                                   action("bad", "at(2024-01-01T00:02:00)", lo=6)])
    state, acts = run(cfg, 8, [None] * 3, first=M0, fire_times_fn=simple_fire_times)
    assert [a.description for _, a in acts] == ["Setting max capacity to 4", "Setting desired count to 4.",
                                              "Setting min capacity to 6"]
    assert acts[-1][1].status_code == "Failed"
    assert (state.minimum, state.maximum, state.desired) == (2, 4, 4)


def test_rate_with_start_and_end_time():
    cfg = config(1, 10, scheduled=[action("pulse", "rate(5 minutes)", 3, 10,
                                          startTime="2024-01-01T00:02:00Z", endTime="2024-01-01T00:12:00Z")])
    _, acts = run(cfg, 1, [None] * 20, first=M0, fire_times_fn=simple_fire_times)
    assert sorted({m - M0 for m, a in acts if a.trigger_kind == "ScheduledAction"}) == [2, 7, 12]


def test_scheduled_actions_ignore_cooldowns_and_policies_work_inside_the_new_bounds():
    cfg = config(1, 20, targetTracking=[tt(target=50, scaleOutCooldown=3600)],
                 scheduled=[action("floor", "at(2024-01-01T00:04:00)", 9, 20)])
    _, acts = run(cfg, 2, [90] * 8, first=M0, fire_times_fn=simple_fire_times)
    assert [(m - M0, a.desired_count) for m, a in acts if a.desired_count != a.previous] == [(2, 4), (4, 9)]


def test_suspended_scheduled_scaling_skips_firings():
    cfg = config(1, 10, scheduled=[action("x", "at(2024-01-01T00:01:00)", 5, 10)],
                 suspendedState={"scheduledScalingSuspended": True})
    assert run(cfg, 1, [None] * 3, first=M0, fire_times_fn=simple_fire_times)[1] == []


def test_cron_in_a_time_zone_across_the_spring_daylight_saving_change():
    # 08:00 Europe/Paris is 07:00 UTC in winter and 06:00 UTC from 31 March 2024 (CEST).
    cfg = config(1, 10, scheduled=[action("morning", "cron(0 8 * * ? *)", 4, 10, timezone="Europe/Paris")])
    first = epoch_minute(datetime(2024, 3, 30, 0, 0, tzinfo=timezone.utc))
    days = 2 * 1440
    state = start(cfg, desired=1, minute=first, until=first + days, fire_times_fn=fire_times)
    fired = []
    for minute in range(first, first + days):
        _, acts = step(state, MinuteInputs(minute, {}))
        fired += [datetime.fromtimestamp(minute * 60, timezone.utc).strftime("%m-%d %H:%M") for a in acts
                  if a.cause.startswith("scheduled action")]
    assert fired == ["03-30 07:00", "03-31 06:00"]
    assert state.desired == 4


def test_cron_across_the_autumn_change():
    cfg = config(1, 10, scheduled=[action("evening", "cron(0 18 ? * MON-FRI *)", 1, 2, timezone="America/New_York")])
    first = epoch_minute(datetime(2024, 11, 1, 0, 0, tzinfo=timezone.utc))  # Friday; DST ends Sunday 3 November
    state = start(cfg, desired=5, minute=first, until=first + 5 * 1440)
    fired = []
    for minute in range(first, first + 5 * 1440):
        _, acts = step(state, MinuteInputs(minute, {}))
        if any(a.cause.startswith("scheduled action") for a in acts):
            fired.append(datetime.fromtimestamp(minute * 60, timezone.utc).strftime("%m-%d %H:%M"))
    assert fired == ["11-01 22:00", "11-04 23:00", "11-05 23:00"]  # EDT (UTC-4), then EST (UTC-5)


def test_rate_without_a_start_time_first_fires_one_period_after_the_target_exists():
    """EventBridge's rate syntax, which Application Auto Scaling's schedules share: "A rate
    expression starts when you create the scheduled event rule" (eb-rate-expressions); with a
    start time, "Application Auto Scaling performs the action at this time, and then ... based
    on the specified recurrence" (scheduled-scaling-using-cron-expressions)."""
    def fired(**extra):
        cfg = config(1, 10, scheduled=[action("pulse", "rate(2 hours)", 2, 10, **extra)])
        state = start(cfg, desired=1, minute=M0, until=M0 + 300, fire_times_fn=fire_times)
        minutes = []
        for minute in range(M0, M0 + 300):
            minutes += [minute - M0 for a in step(state, MinuteInputs(minute, {}))[1]
                        if a.cause.startswith("scheduled action")]
        return minutes
    assert fired() == [120, 240]
    assert fired(startTime="2024-01-01T00:00:00Z") == [0, 120, 240]
    assert fired(startTime="2024-01-01T00:30:00Z") == [30, 150, 270]
