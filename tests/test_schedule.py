"""Schedule expressions: rate(), at(), AWS 6-field cron() and next firing times."""

from datetime import datetime, timedelta, timezone

import pytest

from ecsctl.core.events.schedule import (AtSchedule, CronSchedule, RateSchedule, ScheduleError, aws_weekday,
                                         parse_schedule, valid_timezone)

UTC = timezone.utc
START = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)  # a Monday


def firings(expr, n=3, start=START, tz="UTC"):
    schedule, out, moment = parse_schedule(expr), [], start
    for _ in range(n):
        moment = schedule.next_after(moment, tz)
        if moment is None:
            break
        out.append(moment.strftime("%a %Y-%m-%d %H:%M"))
    return out


# The AAS guide's cron examples (ecs-semantics §6.4) and the L / # / W forms.
@pytest.mark.parametrize("expr, expected", [
    ("cron(0 10 * * ? *)", ["Mon 2024-01-01 10:00", "Tue 2024-01-02 10:00", "Wed 2024-01-03 10:00"]),
    ("cron(15 12 * * ? *)", ["Mon 2024-01-01 12:15", "Tue 2024-01-02 12:15", "Wed 2024-01-03 12:15"]),
    ("cron(0 18 ? * MON-FRI *)", ["Mon 2024-01-01 18:00", "Tue 2024-01-02 18:00", "Wed 2024-01-03 18:00"]),
    ("cron(0 8 1 * ? *)", ["Mon 2024-01-01 08:00", "Thu 2024-02-01 08:00", "Fri 2024-03-01 08:00"]),
    ("cron(0/15 * * * ? *)", ["Mon 2024-01-01 00:15", "Mon 2024-01-01 00:30", "Mon 2024-01-01 00:45"]),
    ("cron(0/5 8-17 ? * MON-FRI *)", ["Mon 2024-01-01 08:00", "Mon 2024-01-01 08:05", "Mon 2024-01-01 08:10"]),
    ("cron(0 12 L * ? *)", ["Wed 2024-01-31 12:00", "Thu 2024-02-29 12:00", "Sun 2024-03-31 12:00"]),
    ("cron(0 9 ? * 3#2 *)", ["Tue 2024-01-09 09:00", "Tue 2024-02-13 09:00", "Tue 2024-03-12 09:00"]),
    ("cron(0 9 ? * 6L *)", ["Fri 2024-01-26 09:00", "Fri 2024-02-23 09:00", "Fri 2024-03-29 09:00"]),
    ("cron(0 9 ? * L *)", ["Sat 2024-01-06 09:00", "Sat 2024-01-13 09:00", "Sat 2024-01-20 09:00"]),
    ("cron(0 9 6W * ? *)", ["Fri 2024-01-05 09:00", "Tue 2024-02-06 09:00", "Wed 2024-03-06 09:00"]),
    ("cron(0 9 1W * ? *)", ["Mon 2024-01-01 09:00", "Thu 2024-02-01 09:00", "Fri 2024-03-01 09:00"]),
    ("cron(30 23 ? * SAT,SUN *)", ["Sat 2024-01-06 23:30", "Sun 2024-01-07 23:30", "Sat 2024-01-13 23:30"]),
    ("cron(0 0 1 JAN ? 2025-2026)", ["Wed 2025-01-01 00:00", "Thu 2026-01-01 00:00"]),
    ("cron(0 0 29 FEB ? *)", ["Thu 2024-02-29 00:00", "Tue 2028-02-29 00:00", "Sun 2032-02-29 00:00"]),
    ("cron(0 22-2/2 * * ? *)", ["Mon 2024-01-01 02:00", "Mon 2024-01-01 22:00", "Tue 2024-01-02 00:00"]),
    ("cron(0 0 1 1 ? 1999)", []),
])
def test_cron_next_after(expr, expected):
    assert firings(expr) == expected


def test_cron_in_a_timezone_fires_at_local_wall_time():
    first = parse_schedule("cron(0 10 * * ? *)").next_after(START, "Europe/Paris")
    assert first.astimezone(UTC) == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    summer = parse_schedule("cron(0 10 * * ? *)").next_after(datetime(2024, 7, 1, tzinfo=UTC), "Europe/Paris")
    assert summer.astimezone(UTC) == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)


def test_next_after_is_strictly_after():
    at_ten = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert parse_schedule("cron(0 10 * * ? *)").next_after(at_ten) == datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
    assert parse_schedule("rate(1 hour)").next_after(at_ten) == datetime(2024, 1, 1, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("expr, after, expected", [
    ("rate(5 minutes)", datetime(2024, 1, 1, 0, 3), datetime(2024, 1, 1, 0, 5, tzinfo=UTC)),
    ("rate(1 day)", datetime(2024, 1, 1, 0, 0), datetime(2024, 1, 2, 0, 0, tzinfo=UTC)),
    ("rate(2 hours)", datetime(2024, 1, 1, 1, 0), datetime(2024, 1, 1, 2, 0, tzinfo=UTC)),
    ("at(2024-03-01T10:00:00)", datetime(2024, 1, 1), datetime(2024, 3, 1, 10, 0, tzinfo=UTC)),
    ("at(2024-03-01T10:00:00)", datetime(2024, 3, 1, 10, 0), None),
])
def test_rate_and_at_next_after(expr, after, expected):
    assert parse_schedule(expr).next_after(after) == expected


def test_rate_from_a_start_time():
    start = datetime(2024, 1, 1, 0, 7, tzinfo=UTC)
    assert parse_schedule("rate(10 minutes)").next_after(datetime(2024, 1, 1, 0, 20, tzinfo=UTC), start=start) == \
        datetime(2024, 1, 1, 0, 27, tzinfo=UTC)


@pytest.mark.parametrize("expr, kind", [
    ("rate(1 minute)", RateSchedule), ("rate(15 minutes)", RateSchedule), ("rate(1 hour)", RateSchedule),
    ("rate(12 hours)", RateSchedule), ("rate(1 day)", RateSchedule), ("rate(7 days)", RateSchedule),
    ("at(2030-12-31T23:59:59)", AtSchedule),
    ("cron(0 10 * * ? *)", CronSchedule), ("cron(0 18 ? * MON-FRI *)", CronSchedule),
    ("cron(0,30 8-17/3 ? JAN-MAR,DEC 2-6 2024/2)", CronSchedule),
])
def test_valid_expressions(expr, kind):
    assert isinstance(parse_schedule(expr), kind)


def test_rate_period():
    assert parse_schedule("rate(5 minutes)").period == timedelta(minutes=5)


@pytest.mark.parametrize("expr, fragment", [
    ("rate(1 hours)", "use the singular unit 'hour' for a value of 1"),
    ("rate(5 minute)", "use the plural unit 'minutes' for a value of 5"),
    ("rate(0 minutes)", "positive integer"),
    ("rate(-1 minutes)", "positive integer"),
    ("rate(1.5 hours)", "positive integer"),
    ("rate(2 weeks)", "minute(s), hour(s) or day(s)"),
    ("rate(5)", "rate(value unit)"),
    ("at(2024-03-01 10:00:00)", "at(yyyy-mm-ddThh:mm:ss)"),
    ("at(2024-02-30T10:00:00)", "out of range"),
    ("every 5 minutes", "a schedule is at("),
    ("cron(0 10 * * ?)", "needs 6 fields"),
    ("cron(0 0 10 * * ? *)", "leading seconds"),
    ("cron(0 10 * * * *)", "exactly one of day-of-month"),
    ("cron(0 10 ? * ? *)", "exactly one of day-of-month"),
    ("cron(60 10 * * ? *)", "Minutes value 60 is outside 0–59"),
    ("cron(0 24 * * ? *)", "Hours value 24"),
    ("cron(0 10 32 * ? *)", "Day-of-month value 32"),
    ("cron(0 10 * 13 ? *)", "Month value 13"),
    ("cron(0 10 * FOO ? *)", "Month value 'FOO'"),
    ("cron(0 10 ? * 8 *)", "Day-of-week value 8"),
    ("cron(0 10 ? * 3#2,4#1 *)", "'#' only once"),
    ("cron(0 10 ? * 3#6 *)", "must be 1–5"),
    ("cron(0 10 * * ? 1969)", "Year value 1969"),
    ("cron(0/0 10 * * ? *)", "step '0'"),
    ("cron(0 10 LW * ? *)", "Day-of-month 'LW'"),
    ("cron(0 10 1,,2 * ? *)", "empty item"),
])
def test_invalid_expressions(expr, fragment):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(expr)
    assert fragment in str(info.value)


def test_non_string_is_an_error():
    with pytest.raises(ScheduleError):
        parse_schedule(5)


@pytest.mark.parametrize("name, ok", [
    ("UTC", True), ("Europe/Paris", True), ("Etc/GMT+9", True), ("Pacific/Tahiti", True),
    ("CEST", False), ("Europe/Pariss", False), ("", False), (None, False),
])
def test_timezones(name, ok):
    assert valid_timezone(name) is ok


@pytest.mark.parametrize("day, expected", [(datetime(2024, 1, 7), 1), (datetime(2024, 1, 1), 2), (datetime(2024, 1, 6), 7)])
def test_aws_weekday_numbering(day, expected):
    assert aws_weekday(day.date()) == expected
