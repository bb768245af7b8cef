"""When scheduled actions fire, behind the one signature the events package will provide.

``FireTimes`` is ``ecsctl/core/events/recurrence.py: fire_times(expression, *, timezone="UTC",
after, until, start=None, end=None) -> Iterator[datetime]`` (built on the ``events-core``
branch).  Until that lands, :func:`fire_times` adapts the schedule parser already in
``ecsctl.core.events.schedule`` to the same signature; the engine takes any function of
that shape, so tests hand in small deterministic ones.

Semantics (ecs-semantics §6.4): firings strictly after ``after`` and no later than
``until``; ``start``/``end`` bound the action (StartTime/EndTime, UTC); ``rate()`` counts
from ``start`` ("first run at start time, then per recurrence"); ``at()`` and ``cron()``
are read in ``timezone``, daylight-saving changes included.

    >>> from datetime import datetime, timezone as tz
    >>> t0 = datetime(2024, 3, 30, 12, 0, tzinfo=tz.utc)
    >>> [t.isoformat() for t in fire_times("cron(0 8 * * ? *)", timezone="Europe/Paris",
    ...                                    after=t0, until=datetime(2024, 4, 1, tzinfo=tz.utc))]
    ['2024-03-31T08:00:00+02:00']
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterator, Protocol


class FireTimes(Protocol):
    def __call__(self, expression: str, *, timezone: str = "UTC", after: datetime, until: datetime,
                 start: datetime | None = None, end: datetime | None = None) -> Iterator[datetime]: ...


def fire_times(expression: str, *, timezone: str = "UTC", after: datetime, until: datetime,
               start: datetime | None = None, end: datetime | None = None) -> Iterator[datetime]:
    """Firings of an AWS schedule expression in ``(after, until]``, within ``[start, end]``."""
    from ecsctl.core.events.schedule import RateSchedule, parse_schedule

    schedule = parse_schedule(expression)
    moment = after
    if start is not None and start > moment:
        moment = start - _TICK  # a firing exactly at start time counts
    while True:
        if isinstance(schedule, RateSchedule):
            fire = schedule.next_after(moment, timezone, start=start)
        else:
            fire = schedule.next_after(moment, timezone)
        if fire is None or fire > until or (end is not None and fire > end):
            return
        yield fire
        moment = fire


def epoch_minute(moment: datetime) -> int:
    """Whole minutes since the Unix epoch (a naive datetime is UTC); seconds are dropped."""
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return int(aware.timestamp()) // 60


def minute_datetime(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)


_TICK = datetime(1970, 1, 1, 0, 0, 1) - datetime(1970, 1, 1)

FireTimesFn = Callable[..., Iterator[datetime]]
