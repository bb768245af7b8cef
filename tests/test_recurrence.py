"""Firing times of schedule expressions (core.events.recurrence.fire_times).

Cron examples are the EventBridge / Application Auto Scaling documentation's
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html);
the expected times are read off a calendar, not taken from our output.  Daylight-saving
dates: Europe/Paris 2026-03-29 02:00→03:00 and 2026-10-25 03:00→02:00; America/New_York
2026-03-08 02:00→03:00 and 2026-11-01 02:00→01:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.events.recurrence import fire_times, firings_start
from ecsctl.core.events.schedule import ScheduleError, parse_schedule

UTC = timezone.utc


def z(text: str) -> datetime:
    """``2026-01-05 18:00`` (UTC) -> aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def fmt(moments) -> list[str]:
    return [m.strftime("%a %Y-%m-%d %H:%M") for m in moments]


def first(expr: str, n: int, *, after: str = "2026-01-01 00:00", days: int = 400, tz: str = "UTC") -> list[str]:
    out = []
    for moment in fire_times(expr, timezone=tz, after=z(after), until=z(after) + timedelta(days=days)):
        out.append(moment)
        if len(out) == n:
            break
    return fmt(out)


# 2026-01-01 is a Thursday.
@pytest.mark.parametrize("expr, expected", [
    # "Run at 10:00 am (UTC) every day"
    ("cron(0 10 * * ? *)", ["Thu 2026-01-01 10:00", "Fri 2026-01-02 10:00", "Sat 2026-01-03 10:00"]),
    # "Run at 12:15 pm (UTC) every day"
    ("cron(15 12 * * ? *)", ["Thu 2026-01-01 12:15", "Fri 2026-01-02 12:15", "Sat 2026-01-03 12:15"]),
    # "Run at 6:00 pm (UTC) every Monday through Friday"
    ("cron(0 18 ? * MON-FRI *)", ["Thu 2026-01-01 18:00", "Fri 2026-01-02 18:00", "Mon 2026-01-05 18:00"]),
    # "Run at 8:00 am (UTC) every first day of the month"
    ("cron(0 8 1 * ? *)", ["Thu 2026-01-01 08:00", "Sun 2026-02-01 08:00", "Sun 2026-03-01 08:00"]),
    # "Run every 15 minutes"
    ("cron(0/15 * * * ? *)", ["Thu 2026-01-01 00:15", "Thu 2026-01-01 00:30", "Thu 2026-01-01 00:45"]),
    # "Run every 10 minutes Monday through Friday"
    ("cron(0/10 * ? * MON-FRI *)", ["Thu 2026-01-01 00:10", "Thu 2026-01-01 00:20", "Thu 2026-01-01 00:30"]),
    # "Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC)"
    ("cron(0/5 8-17 ? * MON-FRI *)", ["Thu 2026-01-01 08:00", "Thu 2026-01-01 08:05", "Thu 2026-01-01 08:10"]),
    # "Run at 9 a.m. (UTC) the first Monday of each month" (AWS numbers Sunday 1, so Monday is 2)
    ("cron(0 9 ? * 2#1 *)", ["Mon 2026-01-05 09:00", "Mon 2026-02-02 09:00", "Mon 2026-03-02 09:00"]),
    # L: the last day of the month; 6L: the last Friday; L in day-of-week alone: Saturday
    ("cron(0 12 L * ? *)", ["Sat 2026-01-31 12:00", "Sat 2026-02-28 12:00", "Tue 2026-03-31 12:00"]),
    ("cron(0 9 ? * 6L *)", ["Fri 2026-01-30 09:00", "Fri 2026-02-27 09:00", "Fri 2026-03-27 09:00"]),
    ("cron(0 9 ? * L *)", ["Sat 2026-01-03 09:00", "Sat 2026-01-10 09:00", "Sat 2026-01-17 09:00"]),
    # W: the weekday nearest the 3rd (Jan 3 is a Saturday -> Friday 2nd; Feb 3 Tuesday; Mar 3 Tuesday)
    ("cron(0 9 3W * ? *)", ["Fri 2026-01-02 09:00", "Tue 2026-02-03 09:00", "Tue 2026-03-03 09:00"]),
    # 1W never leaves the month: Feb 1 2026 is a Sunday -> Monday 2nd
    ("cron(0 9 1W FEB ? *)", ["Mon 2026-02-02 09:00", "Mon 2027-02-01 09:00", "Tue 2028-02-01 09:00"]),
    # a list mixing plain days and nW (croniter needs two expressions, merged)
    ("cron(0 9 1,15W * ? *)", ["Thu 2026-01-01 09:00", "Thu 2026-01-15 09:00", "Sun 2026-02-01 09:00"]),
    # plain weekdays with nL in one field (croniter needs two expressions, merged)
    ("cron(0 9 ? * 1,6L *)", ["Sun 2026-01-04 09:00", "Sun 2026-01-11 09:00", "Sun 2026-01-18 09:00"]),
    # names, lists and a range that wraps past Saturday
    ("cron(30 23 ? * SAT,SUN *)", ["Sat 2026-01-03 23:30", "Sun 2026-01-04 23:30", "Sat 2026-01-10 23:30"]),
    ("cron(0 6 ? * FRI-MON *)", ["Fri 2026-01-02 06:00", "Sat 2026-01-03 06:00", "Sun 2026-01-04 06:00"]),
    ("cron(0 0 ? JAN,JUL 2#1 *)", ["Mon 2026-01-05 00:00", "Mon 2026-07-06 00:00", "Mon 2027-01-04 00:00"]),
    # hours wrapping past midnight with an increment: 22, 0, 2
    ("cron(0 22-2/2 * * ? *)", ["Thu 2026-01-01 02:00", "Thu 2026-01-01 22:00", "Fri 2026-01-02 00:00"]),
    # the year field
    ("cron(0 0 1 JAN ? 2027-2028)", ["Fri 2027-01-01 00:00", "Sat 2028-01-01 00:00"]),
    ("cron(0 0 29 FEB ? *)", ["Tue 2028-02-29 00:00"]),
    ("cron(0 0 31 FEB ? *)", []),
    ("cron(0 0 1 1 ? 1999)", []),
])
def test_aws_cron_examples(expr, expected) -> None:
    assert first(expr, 3, days=365 * 3) == expected


def test_rate_one_hour_over_three_hours_gives_three() -> None:
    times = list(fire_times("rate(1 hour)", after=z("2026-01-01 10:00"), until=z("2026-01-01 13:00")))
    assert fmt(times) == ["Thu 2026-01-01 11:00", "Thu 2026-01-01 12:00", "Thu 2026-01-01 13:00"]


def test_rate_from_a_start_time_fires_at_the_start_first() -> None:
    times = fire_times("rate(10 minutes)", after=z("2026-01-01 00:00"), until=z("2026-01-01 00:30"),
                       start=z("2026-01-01 00:07"))
    assert fmt(times) == ["Thu 2026-01-01 00:07", "Thu 2026-01-01 00:17", "Thu 2026-01-01 00:27"]


# Where a schedule that exists since 10:00 starts.  EventBridge: "A rate expression starts when
# you create the scheduled event rule, and then it runs on a defined schedule" (eb-rate-expressions);
# Application Auto Scaling: "If you specify a start time, Application Auto Scaling performs the
# action at this time, and then performs the action based on the specified recurrence"
# (scheduled-scaling-using-cron-expressions).
@pytest.mark.parametrize("expr, start, first_two", [
    ("rate(1 hour)", None, ["11:00", "12:00"]),
    ("rate(2 hours)", None, ["12:00", "14:00"]),
    ("rate(5 minutes)", None, ["10:05", "10:10"]),
    ("rate(2 hours)", datetime(2026, 1, 1, 10, 0, tzinfo=UTC), ["10:00", "12:00"]),
    ("rate(2 hours)", datetime(2026, 1, 1, 10, 30, tzinfo=UTC), ["10:30", "12:30"]),
    ("cron(0 18 * * ? *)", None, ["18:00", "18:00"]),
])
def test_firings_start_from_the_creation_or_the_start_time(expr, start, first_two) -> None:
    created = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    begin = firings_start(expr, created=created, start=start)
    # the window opens just before the creation, as a clock that first sees the schedule at 10:00
    times = fire_times(expr, after=created - timedelta(seconds=1), until=created + timedelta(days=2), start=begin)
    assert [t.strftime("%H:%M") for t in (next(times), next(times))] == first_two


def test_rate_days_are_24_hours_across_a_dst_change() -> None:
    """'days represents a 24-hour duration': the Paris clock reads 02:00 then 03:00."""
    times = list(fire_times("rate(1 day)", timezone="Europe/Paris", after=z("2026-03-27 23:00"),
                            until=z("2026-03-30 01:00"), start=z("2026-03-28 01:00")))
    assert fmt(times) == ["Sat 2026-03-28 01:00", "Sun 2026-03-29 01:00", "Mon 2026-03-30 01:00"]


def test_window_is_open_below_and_closed_above() -> None:
    times = fire_times("cron(0 * * * ? *)", after=z("2026-01-01 10:00"), until=z("2026-01-01 12:00"))
    assert fmt(times) == ["Thu 2026-01-01 11:00", "Thu 2026-01-01 12:00"]


def test_start_and_end_bound_a_cron_inclusively() -> None:
    times = fire_times("cron(0 * * * ? *)", after=z("2026-01-01 00:00"), until=z("2026-01-02 00:00"),
                       start=z("2026-01-01 10:00"), end=z("2026-01-01 12:00"))
    assert fmt(times) == ["Thu 2026-01-01 10:00", "Thu 2026-01-01 11:00", "Thu 2026-01-01 12:00"]


# --- time zones, midnight and daylight saving --------------------------------------------------


def test_midnight_in_paris_across_the_spring_change() -> None:
    """Local midnight is 23:00 UTC the day before in winter, 22:00 UTC in summer."""
    times = fire_times("cron(0 0 * * ? *)", timezone="Europe/Paris", after=z("2026-03-27 12:00"),
                       until=z("2026-03-31 12:00"))
    assert fmt(times) == ["Fri 2026-03-27 23:00", "Sat 2026-03-28 23:00", "Sun 2026-03-29 22:00", "Mon 2026-03-30 22:00"]


def test_day_of_week_is_read_in_the_schedules_timezone() -> None:
    """Monday 00:30 in Paris is Sunday 23:30 UTC."""
    times = fire_times("cron(30 0 ? * MON *)", timezone="Europe/Paris", after=z("2026-01-01 00:00"),
                       until=z("2026-01-13 00:00"))
    assert fmt(times) == ["Sun 2026-01-04 23:30", "Sun 2026-01-11 23:30"]


def test_paris_skipped_time_does_not_fire() -> None:
    """02:30 does not exist in Paris on 29 March 2026: the invocation is skipped."""
    times = fire_times("cron(30 2 * * ? *)", timezone="Europe/Paris", after=z("2026-03-27 12:00"),
                       until=z("2026-03-31 12:00"))
    assert fmt(times) == ["Sat 2026-03-28 01:30", "Mon 2026-03-30 00:30", "Tue 2026-03-31 00:30"]


def test_paris_repeated_time_fires_once_at_its_first_occurrence() -> None:
    """02:30 happens twice in Paris on 25 October 2026 (00:30 and 01:30 UTC): it runs once, the first."""
    times = fire_times("cron(30 2 * * ? *)", timezone="Europe/Paris", after=z("2026-10-24 12:00"),
                       until=z("2026-10-26 12:00"))
    assert fmt(times) == ["Sun 2026-10-25 00:30", "Mon 2026-10-26 01:30"]


def test_new_york_spring_forward() -> None:
    """09:00 in New York is 14:00 UTC under EST and 13:00 UTC under EDT; 02:00 on 8 March is skipped."""
    nine = fire_times("cron(0 9 * * ? *)", timezone="America/New_York", after=z("2026-03-06 18:00"),
                      until=z("2026-03-09 18:00"))
    assert fmt(nine) == ["Sat 2026-03-07 14:00", "Sun 2026-03-08 13:00", "Mon 2026-03-09 13:00"]
    two = fire_times("cron(0 2 * * ? *)", timezone="America/New_York", after=z("2026-03-07 00:00"),
                     until=z("2026-03-10 00:00"))
    assert fmt(two) == ["Sat 2026-03-07 07:00", "Mon 2026-03-09 06:00"]


def test_new_york_fall_back_runs_each_wall_clock_time_once() -> None:
    """On 1 November 2026 01:00–01:59 happens twice; every 30 minutes it fires at 01:00 and 01:30 EDT only."""
    times = fire_times("cron(0/30 0-2 * * ? *)", timezone="America/New_York", after=z("2026-11-01 03:00"),
                       until=z("2026-11-01 08:00"))
    # 00:00/00:30 EDT = 04:00/04:30 UTC, 01:00/01:30 EDT = 05:00/05:30 UTC, then 02:00/02:30 EST = 07:00/07:30 UTC
    assert fmt(times) == ["Sun 2026-11-01 04:00", "Sun 2026-11-01 04:30", "Sun 2026-11-01 05:00",
                          "Sun 2026-11-01 05:30", "Sun 2026-11-01 07:00", "Sun 2026-11-01 07:30"]


def test_starting_inside_the_repeated_hour_does_not_fire_it_again() -> None:
    times = fire_times("cron(0/30 0-2 * * ? *)", timezone="America/New_York", after=z("2026-11-01 06:10"),
                       until=z("2026-11-01 08:00"))
    assert fmt(times) == ["Sun 2026-11-01 07:00", "Sun 2026-11-01 07:30"]


@pytest.mark.parametrize("expr, tz, expected", [
    ("at(2026-06-01T10:00:00)", "UTC", ["Mon 2026-06-01 10:00"]),
    ("at(2026-06-01T10:00:00)", "Europe/Paris", ["Mon 2026-06-01 08:00"]),
    ("at(2026-03-08T02:30:00)", "America/New_York", []),  # inside the skipped hour
    ("at(2025-06-01T10:00:00)", "UTC", []),  # before the window
])
def test_at(expr, tz, expected) -> None:
    assert fmt(fire_times(expr, timezone=tz, after=z("2026-01-01 00:00"), until=z("2027-01-01 00:00"))) == expected


def test_naive_datetimes_are_utc() -> None:
    times = fire_times("cron(0 10 * * ? *)", after=datetime(2026, 1, 1), until=datetime(2026, 1, 1, 11))
    assert [t.tzinfo for t in times] == [UTC]


@pytest.mark.parametrize("expr, tz", [
    ("cron(0 10 * * * *)", "UTC"),
    ("rate(1 hours)", "UTC"),
    ("cron(0 10 * * ? *)", "Mars/Olympus"),
    ("cron(0 10 * * ? *)", None),
])
def test_errors_are_schedule_errors(expr, tz) -> None:
    with pytest.raises(ScheduleError):
        list(fire_times(expr, timezone=tz, after=z("2026-01-01 00:00"), until=z("2026-01-02 00:00")))


# --- croniter agrees with the independent walk in schedule.py ----------------------------------

MINUTES = st.sampled_from(["0", "15", "0/20", "5,35", "*/30", "10-12"])
HOURS = st.sampled_from(["*", "0", "9", "8-17", "22-2", "0/6", "12,18"])
DOM = st.sampled_from(["?", "*", "1", "L", "15W", "1W", "10-20/5", "31", "1,15"])
MONTH = st.sampled_from(["*", "JAN", "2", "MAR-MAY", "NOV-FEB", "1/3"])
DOW = st.sampled_from(["MON-FRI", "1", "7", "6L", "2#1", "3#5", "L", "SAT,SUN", "FRI-MON", "2/2"])
YEAR = st.sampled_from(["*", "2026", "2026-2027", "2027/2"])
ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(MINUTES, HOURS, DOM, MONTH, DOW, YEAR, ZONES, st.integers(0, 700))
def test_agrees_with_schedule_next_after(minute, hour, dom, month, dow, year, tz, day) -> None:
    """Two implementations, one answer: croniter via the adapter and schedule.py's own day walk.

    schedule.py's walk knows nothing of skipped or repeated wall-clock times, so the
    comparison drops the instants whose local reading is not the cron time (skipped) or
    that repeat an earlier local reading.
    """
    dow_field = dow if dom == "?" else "?"
    expr = f"cron({minute} {hour} {dom} {month} {dow_field} {year})"
    after = z("2026-01-01 00:00") + timedelta(days=day)
    until = after + timedelta(days=40)
    ours = list(fire_times(expr, timezone=tz, after=after, until=until))
    schedule, theirs, moment = parse_schedule(expr), [], after
    seen_local = set()
    while True:
        moment = schedule.next_after(moment, tz)
        if moment is None or moment.astimezone(UTC) > until:
            break
        local = moment.replace(tzinfo=None)
        exists = moment.astimezone(UTC).astimezone(moment.tzinfo).replace(tzinfo=None) == local
        if exists and local not in seen_local and moment.fold == 0:
            theirs.append(moment.astimezone(UTC))
        seen_local.add(local)
    assert ours == theirs
