"""When a schedule expression fires: the firing times of ``rate()``, AWS ``cron()`` and ``at()``.

    >>> from datetime import datetime, timezone
    >>> utc = timezone.utc
    >>> [t.isoformat() for t in fire_times("rate(1 hour)", after=datetime(2026, 1, 1, 10, tzinfo=utc),
    ...                                    until=datetime(2026, 1, 1, 13, tzinfo=utc))]
    ['2026-01-01T11:00:00+00:00', '2026-01-01T12:00:00+00:00', '2026-01-01T13:00:00+00:00']
    >>> [t.isoformat() for t in fire_times("cron(0 18 ? * MON-FRI *)", timezone="Europe/Paris",
    ...                                    after=datetime(2026, 1, 2, tzinfo=utc), until=datetime(2026, 1, 6, tzinfo=utc))]
    ['2026-01-02T17:00:00+00:00', '2026-01-05T17:00:00+00:00']

The one entry point is :func:`fire_times`; its contract (the scaling and the events code
rely on it, keep it stable):

* ``fire_times(expression, *, timezone="UTC", after, until, start=None, end=None)`` yields
  every firing ``t`` with ``after < t <= until`` (and ``start <= t <= end`` when given),
  ascending, as **aware UTC datetimes** at whole minutes (seconds for ``at()``/``rate()``
  anchors are kept as given).  Naive ``after``/``until``/``start``/``end`` are read as UTC.
  It is a lazy generator: the window bounds the work, nothing reads the wall clock.
* A bad expression or an unknown timezone raises
  :class:`ecsctl.core.events.schedule.ScheduleError` (a ``ValueError``) before the first
  value; nothing else is raised for any string input.

The forms (parsing and validation live in :mod:`ecsctl.core.events.schedule`):

* ``rate(N unit)`` fires every N minutes/hours/days of *elapsed* time, ``start + k × period``
  (k ≥ 0).  Where a schedule that exists since ``created`` starts is :func:`firings_start`'s
  one rule, for scheduled tasks and scheduled scaling alike.  Without ``start`` the anchor
  is the Unix epoch, so ``rate(1 hour)`` fires on the hour.  The timezone does not matter: a day is 24 hours, even across a
  daylight-saving change ("days represents a 24-hour duration").
* ``cron(min hour day-of-month month day-of-week year)``: AWS's six fields, evaluated in
  wall-clock time of ``timezone``.  The calendar walk is croniter's; this module is the
  adapter for AWS's dialect: each field is first expanded by ``schedule.parse_schedule``
  (so ranges, lists, increments, wrapping ranges, names and AWS's day-of-week numbering
  1 = SUN … 7 = SAT mean exactly what the validator says), then written as croniter
  5-field expressions (day-of-week ``n`` becomes ``n-1``, ``nL`` becomes ``L(n-1)``,
  ``n#k`` becomes ``(n-1)#k``, ``?`` becomes ``*``).  croniter accepts ``nW`` only alone and
  no mix of ``#``/``L`` with plain weekdays, so such a field is split into several
  expressions whose firings are merged.  The year field, which croniter does not have in
  this form, is applied here.
* ``at(yyyy-mm-ddThh:mm:ss)`` fires once, at that wall-clock time in ``timezone``.

Daylight saving (EventBridge Scheduler, "Daylight saving time" in
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html and
https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst): "When the time
shifts forward in Spring, your schedule invocation gets skipped if the cron expression
falls on a non-existent date and time. When the time shifts back in the Fall, your
schedule runs only once and doesn't repeat its invocation."  So a ``cron()`` wall-clock
time that does not exist that day (02:30 on the night clocks go from 02:00 to 03:00) does
not fire, and one that happens twice (01:30 on the night clocks go from 02:00 back to
01:00) fires once, at its first occurrence (the earlier UTC instant, before the clocks go
back).  ``at()`` follows the same two rules (an ``at()`` inside the skipped hour never
fires; AWS does not document that case — UNCONFIRMED).  ``rate()`` is unaffected.

Bounds: EventBridge Scheduler's ``StartDate``/``EndDate`` and Application Auto Scaling's
``StartTime``/``EndTime`` are UTC instants; firings at exactly ``start`` or ``end`` count.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta, timezone as _tz
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterError

from ecsctl.core.events.schedule import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    ScheduleError,
    parse_schedule,
    valid_timezone,
)

__all__ = ["EPOCH", "fire_times", "firings_start", "croniter_expressions"]

UTC = _tz.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Candidates are walked in naive local time; a wall-clock time maps to an instant at most a
# few hours away from its naive reading, so this slack past ``until`` is always enough.
_SLACK = timedelta(days=1)


def fire_times(
    expression: str,
    *,
    timezone: str = "UTC",
    after: datetime,
    until: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[datetime]:
    """Every firing of ``expression`` in ``(after, until]`` (and ``[start, end]``), ascending, aware UTC.

    Raises :class:`ScheduleError` for a bad expression or timezone (see the module doc).
    """
    schedule = parse_schedule(expression)
    zone = _zone(timezone)
    low, high = _utc(after), _utc(until)
    first = _utc(start) if start is not None else None
    if end is not None:
        high = min(high, _utc(end))
    return _bounded(_candidates(schedule, zone, low, high, first), low, high, first)


def firings_start(expression: str, *, created: datetime, start: datetime | None = None) -> datetime | None:
    """The ``start`` to give :func:`fire_times` for a schedule that exists since ``created``.

    * a start time given: the first firing is at it ("If you specify a start time,
      Application Auto Scaling performs the action at this time, and then performs the action
      based on the specified recurrence", Application Auto Scaling User Guide,
      scheduled-scaling-using-cron-expressions.html; EventBridge Scheduler's ``StartDate``);
    * ``rate()`` without one counts from the creation: "A rate expression starts when you
      create the scheduled event rule, and then it runs on a defined schedule" (EventBridge
      User Guide, eb-rate-expressions.html, the syntax Application Auto Scaling's schedules
      share), so the first firing is one period after ``created``, never at it;
    * ``cron()`` and ``at()`` keep their wall-clock times (None: no bound).

        >>> from datetime import timezone as tz
        >>> t0 = datetime(2026, 1, 1, tzinfo=tz.utc)
        >>> firings_start("rate(2 hours)", created=t0).isoformat()
        '2026-01-01T02:00:00+00:00'
        >>> firings_start("rate(2 hours)", created=t0, start=datetime(2026, 1, 1, 0, 30, tzinfo=tz.utc)).isoformat()
        '2026-01-01T00:30:00+00:00'
        >>> firings_start("cron(0 8 * * ? *)", created=t0) is None
        True

    Raises :class:`ScheduleError` for a bad expression, as :func:`fire_times` does.
    """
    schedule = parse_schedule(expression)
    if start is not None or not isinstance(schedule, RateSchedule):
        return start
    return _utc(created) + schedule.period


def _bounded(moments: Iterable[datetime], low: datetime, high: datetime, start: datetime | None) -> Iterator[datetime]:
    for moment in moments:
        if moment > high:
            return
        if moment > low and (start is None or moment >= start):
            yield moment


def _candidates(schedule, zone: ZoneInfo, low: datetime, high: datetime, start: datetime | None) -> Iterator[datetime]:
    if isinstance(schedule, RateSchedule):
        return _rate(schedule.period, start or EPOCH, low)
    if isinstance(schedule, AtSchedule):
        fire = _instant(schedule.when, zone)
        return iter(() if fire is None else (fire,))
    if isinstance(schedule, CronSchedule):
        return _cron(schedule, zone, max(low, start - timedelta(minutes=1)) if start else low, high)
    raise ScheduleError(f"{schedule.text}: not a schedule this module can iterate")  # pragma: no cover


# --- rate ---------------------------------------------------------------------------------------


def _rate(period: timedelta, anchor: datetime, after: datetime) -> Iterator[datetime]:
    """``anchor + k*period`` for k ≥ 0, the first one strictly after ``after``."""
    k = 0 if after < anchor else (after - anchor) // period + 1
    moment = anchor + k * period
    while True:
        yield moment
        moment += period


# --- cron ---------------------------------------------------------------------------------------


def _cron(schedule: CronSchedule, zone: ZoneInfo, after: datetime, until: datetime) -> Iterator[datetime]:
    base = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    stop = until.astimezone(zone).replace(tzinfo=None) + _SLACK
    years = sorted(schedule.years)
    walks = [_walk(expr, base, stop, years) for expr in croniter_expressions(schedule)]
    previous = None
    for local in heapq.merge(*walks):
        if local == previous:  # two split expressions agree on a minute
            continue
        previous = local
        fire = _instant(local, zone)
        if fire is not None:
            yield fire


def _walk(expr: str, base: datetime, stop: datetime, years: list[int]) -> Iterator[datetime]:
    """croniter's firings of a 5-field ``expr`` after naive ``base``, up to ``stop``, in ``years``."""
    allowed = set(years)
    while True:
        try:
            it = croniter(expr, base)
            while True:
                local = it.get_next(datetime)
                if local > stop:
                    return
                if local.year in allowed:
                    yield local
                    continue
                later = [y for y in years if y > local.year]
                if not later:
                    return
                base = datetime(later[0], 1, 1) - timedelta(minutes=1)
                break  # restart croniter at the next allowed year
        except CroniterError:  # no further date matches (e.g. 31 February)
            return
        if base > stop:
            return


def croniter_expressions(schedule: CronSchedule) -> list[str]:
    """The croniter 5-field expressions whose union is the AWS schedule (year aside).

    >>> croniter_expressions(parse_schedule("cron(0/30 9 ? * MON-FRI *)"))
    ['0,30 9 * * 1,2,3,4,5']
    >>> croniter_expressions(parse_schedule("cron(0 9 ? * 6L *)"))
    ['0 9 * * L5']
    >>> croniter_expressions(parse_schedule("cron(0 9 1,15W * ? *)"))
    ['0 9 1 * *', '0 9 15W * *']
    """
    minutes = _field(schedule.minutes, 0, 59)
    hours = _field(schedule.hours, 0, 23)
    months = _field(schedule.months, 1, 12)
    head = f"{minutes} {hours}"
    if schedule.day_of_month is not None:
        dom = schedule.day_of_month
        items = [str(d) for d in sorted(dom.days)] + (["L"] if dom.last else [])
        days = [",".join(items)] if items else []
        days += [f"{n}W" for n in sorted(dom.nearest_weekday)]
        return [f"{head} {d} {months} *" for d in days]
    dow = schedule.day_of_week
    assert dow is not None  # the parser guarantees exactly one of the two is '?'
    fields = [_field({d - 1 for d in dow.days}, 0, 6)] if dow.days else []
    fields += [f"L{d - 1}" for d in sorted(dow.last_of_month)]
    if dow.nth is not None:
        fields.append(f"{dow.nth[0] - 1}#{dow.nth[1]}")
    return [f"{head} * {months} {f}" for f in fields]


def _field(values: Iterable[int], low: int, high: int) -> str:
    """``*`` for the whole range, else the values as a comma list."""
    ordered = sorted(set(values))
    return "*" if ordered == list(range(low, high + 1)) else ",".join(str(v) for v in ordered)


# --- time zones ---------------------------------------------------------------------------------


def _zone(name: object) -> ZoneInfo:
    if not valid_timezone(name):
        raise ScheduleError(f"timezone {name!r} is not an IANA time zone name (e.g. Europe/Paris, UTC, Etc/GMT+9)")
    return ZoneInfo(str(name))


def _utc(moment: datetime) -> datetime:
    if not isinstance(moment, datetime):
        raise ScheduleError(f"expected a datetime, not {type(moment).__name__}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _instant(local: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of naive wall-clock ``local`` in ``zone``: None when the clocks skip it,
    the first occurrence when it happens twice (see the module doc)."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) != local:
        return None  # inside the hour the clocks jump over
    return first
