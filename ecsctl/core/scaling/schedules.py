"""When scheduled actions fire: ``ecsctl.core.events.recurrence.fire_times``, and minute helpers.

The engine takes any function with the signature of
``fire_times(expression, *, timezone="UTC", after, until, start=None, end=None) -> Iterator[datetime]``
(firings strictly after ``after``, up to ``until``, within ``[start, end]``); the default
is the events package's, which reads AWS's ``cron()``/``rate()``/``at()`` in a time zone
across daylight-saving changes.  Tests hand in small deterministic ones.

    >>> from datetime import datetime, timezone as tz
    >>> t0 = datetime(2024, 3, 30, 12, 0, tzinfo=tz.utc)
    >>> [t.isoformat() for t in fire_times("cron(0 8 * * ? *)", timezone="Europe/Paris",
    ...                                    after=t0, until=datetime(2024, 4, 1, tzinfo=tz.utc))]
    ['2024-03-31T06:00:00+00:00']
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterator

from ecsctl.core.events.recurrence import fire_times, firings_start

__all__ = ["FireTimesFn", "epoch_minute", "fire_times", "firings_start", "minute_datetime"]

FireTimesFn = Callable[..., Iterator[datetime]]


def epoch_minute(moment: datetime) -> int:
    """Whole minutes since the Unix epoch (a naive datetime is UTC); seconds are dropped."""
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return int(aware.timestamp()) // 60


def minute_datetime(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)
