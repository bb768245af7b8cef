"""Schedule expressions of EventBridge and Application Auto Scaling.

    >>> parse_schedule("rate(5 minutes)").period
    datetime.timedelta(seconds=300)
    >>> parse_schedule("rate(1 hours)")
    Traceback (most recent call last):
    ...
    ecsctl.core.events.schedule.ScheduleError: rate(1 hours): use the singular unit 'hour' for a value of 1
    >>> s = parse_schedule("cron(0 9 ? * 3#2 *)")      # 09:00 on the second Tuesday
    >>> s.next_after(datetime(2024, 1, 1, tzinfo=timezone.utc))
    datetime.datetime(2024, 1, 9, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))

Forms (ecs-semantics §6.4, §8.1):

* ``at(yyyy-mm-ddThh:mm:ss)`` — once, in the schedule's timezone;
* ``rate(N unit)`` — N a positive integer, unit ``minute|minutes|hour|hours|day|days``,
  singular exactly when N is 1;
* ``cron(Minutes Hours Day-of-month Month Day-of-week Year)`` — AWS's six fields:
  Minutes 0–59 and Hours 0–23 (``, - * /``), Day-of-month 1–31 (``, - * ? / L W``),
  Month 1–12 or JAN–DEC (``, - * /``), Day-of-week 1–7 or SUN–SAT (``, - * ? L #``),
  Year 1970–2199 (``, - * /``); exactly one of Day-of-month and Day-of-week is ``?``.

Day-of-month ``L`` is the last day of the month and ``nW`` the weekday nearest day n
(within the month); Day-of-week ``L`` alone is Saturday, ``nL`` the last weekday n of
the month and ``n#k`` the k-th weekday n of the month (``#`` at most once).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


class ScheduleError(ValueError):
    """An invalid schedule expression; the message names the expression and the problem."""


# --- timezones ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def valid_timezone(name: object) -> bool:
    """IANA names such as ``Europe/Paris``, ``UTC`` and ``Etc/GMT+9``.

    >>> valid_timezone("Europe/Paris"), valid_timezone("CEST")
    (True, False)
    """
    return isinstance(name, str) and name in _zones()


@lru_cache(maxsize=256)
def _zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


# --- the schedule kinds -------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    text: str

    def next_after(self, after: datetime, tz: str | None = None) -> datetime | None:  # pragma: no cover
        """The first firing strictly after ``after`` (naive = UTC), aware in ``tz``; None if none."""
        raise NotImplementedError


@dataclass(frozen=True)
class AtSchedule(Schedule):
    when: datetime = datetime(1970, 1, 1)  # naive wall-clock time in the schedule's timezone

    def next_after(self, after: datetime, tz: str | None = None) -> datetime | None:
        fire = self.when.replace(tzinfo=_zone(tz))
        return fire if fire > _as_utc(after) else None


@dataclass(frozen=True)
class RateSchedule(Schedule):
    value: int = 1
    unit: str = "minute"
    period: timedelta = timedelta(minutes=1)

    def next_after(self, after: datetime, tz: str | None = None, start: datetime | None = None) -> datetime:
        """Firings are ``start + k*period`` (``start`` defaults to the Unix epoch, so that
        ``rate(1 hour)`` fires on the hour)."""
        anchor = _as_utc(start) if start is not None else datetime(1970, 1, 1, tzinfo=timezone.utc)
        moment = _as_utc(after)
        if moment < anchor:
            return anchor.astimezone(_zone(tz))
        steps = (moment - anchor) // self.period + 1
        return (anchor + steps * self.period).astimezone(_zone(tz))


@dataclass(frozen=True)
class CronSchedule(Schedule):
    minutes: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    months: frozenset[int] = frozenset()
    years: frozenset[int] = frozenset()
    day_of_month: "DayOfMonth | None" = None  # None when the field is '?'
    day_of_week: "DayOfWeek | None" = None

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.day_of_month is not None:
            return self.day_of_month.matches(day)
        return self.day_of_week is not None and self.day_of_week.matches(day)

    def next_after(self, after: datetime, tz: str | None = None) -> datetime | None:
        zone = _zone(tz)
        moment = _as_utc(after)
        local = moment.astimezone(zone)
        day = local.date()
        # wall-clock minute to start from (strictly after `after`)
        start = (local.replace(second=0, microsecond=0) + timedelta(minutes=1)).time()
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                start = time(0, 0)
                continue
            if day.month not in self.months:
                day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
                start = time(0, 0)
                continue
            if self.matches_day(day):
                for hour in self.hours:
                    if hour < start.hour:
                        continue
                    for minute in self.minutes:
                        if hour == start.hour and minute < start.minute:
                            continue
                        fire = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                        if fire.astimezone(timezone.utc) > moment:
                            return fire
            day += timedelta(days=1)
            start = time(0, 0)
        return None


# --- day-of-month / day-of-week matchers --------------------------------------


def aws_weekday(day: date) -> int:
    """AWS numbering: 1 = Sunday … 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass(frozen=True)
class DayOfMonth:
    days: frozenset[int] = frozenset()
    last: bool = False
    nearest_weekday: frozenset[int] = frozenset()  # nW

    def matches(self, day: date) -> bool:
        if day.day in self.days:
            return True
        last = _last_day(day.year, day.month)
        if self.last and day.day == last:
            return True
        for n in self.nearest_weekday:
            if _nearest_weekday(day.year, day.month, min(n, last)) == day.day:
                return True
        return False


def _nearest_weekday(year: int, month: int, n: int) -> int:
    """Day of the month of the weekday nearest day ``n``, not leaving the month."""
    wd = date(year, month, n).weekday()  # Mon=0 … Sun=6
    if wd < 5:
        return n
    last = _last_day(year, month)
    if wd == 5:  # Saturday: Friday before, or Monday after on the 1st
        return n - 1 if n > 1 else n + 2
    return n + 1 if n < last else n - 2  # Sunday: Monday after, or Friday before on the last day


@dataclass(frozen=True)
class DayOfWeek:
    days: frozenset[int] = frozenset()  # 1 = SUN … 7 = SAT
    last_of_month: frozenset[int] = frozenset()  # nL
    nth: tuple[int, int] | None = None  # (weekday, k) for n#k

    def matches(self, day: date) -> bool:
        wd = aws_weekday(day)
        if wd in self.days:
            return True
        if wd in self.last_of_month and day.day + 7 > _last_day(day.year, day.month):
            return True
        return self.nth is not None and wd == self.nth[0] and (day.day - 1) // 7 + 1 == self.nth[1]


# --- parsing -----------------------------------------------------------------

MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
WEEKDAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
FIELDS = (  # name, low, high, names
    ("Minutes", 0, 59, None),
    ("Hours", 0, 23, None),
    ("Day-of-month", 1, 31, None),
    ("Month", 1, 12, MONTHS),
    ("Day-of-week", 1, 7, WEEKDAYS),
    ("Year", 1970, 2199, None),
)
MAX_RATE_DAYS = 84_000  # 230 years: no schedule reaches further (cron's years are 1970-2199); timedelta stops at 999,999,999 days
MAX_RATE_MINUTES = MAX_RATE_DAYS * 24 * 60
RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}

_AT_RE = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE_RE = re.compile(r"^rate\(\s*(\S+)\s+(\S+)\s*\)$")
_CRON_RE = re.compile(r"^cron\((.*)\)$")


def parse_schedule(text: object) -> Schedule:
    """Parse ``at(...)``, ``rate(...)`` or ``cron(...)``; raise :class:`ScheduleError`."""
    if not isinstance(text, str):
        raise ScheduleError(f"schedule expression must be a string, not {type(text).__name__}")
    return _parse_cached(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Schedule:
    raw = text.strip()
    if raw.startswith("at("):
        return _parse_at(raw)
    if raw.startswith("rate("):
        return _parse_rate(raw)
    if raw.startswith("cron("):
        return _parse_cron(raw)
    raise ScheduleError(f"{raw}: a schedule is at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(6 fields)")


def _parse_at(raw: str) -> AtSchedule:
    m = _AT_RE.match(raw)
    if not m:
        raise ScheduleError(f"{raw}: write a one-time schedule as at(yyyy-mm-ddThh:mm:ss)")
    try:
        when = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    except ValueError as exc:
        raise ScheduleError(f"{raw}: {exc}") from None
    return AtSchedule(raw, when)


def _parse_rate(raw: str) -> RateSchedule:
    m = _RATE_RE.match(raw)
    if not m:
        raise ScheduleError(f"{raw}: write a rate as rate(value unit), e.g. rate(5 minutes)")
    value_text, unit = m.groups()
    if not re.fullmatch(r"[0-9]+", value_text) or not value_text.strip("0"):
        raise ScheduleError(f"{raw}: the value must be a positive integer, not '{value_text[:40]}'")
    if len(value_text.lstrip("0")) > len(str(MAX_RATE_MINUTES)):
        raise ScheduleError(f"{raw}: the value is too large: a rate may be at most {MAX_RATE_DAYS} days "
                            "(as long as cron's years, 1970-2199, reach)")
    value = int(value_text)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in RATE_UNITS:
        raise ScheduleError(f"{raw}: the unit must be minute(s), hour(s) or day(s), not '{unit}'")
    if value == 1 and unit != singular:
        raise ScheduleError(f"{raw}: use the singular unit '{singular}' for a value of 1")
    if value != 1 and unit == singular:
        raise ScheduleError(f"{raw}: use the plural unit '{singular}s' for a value of {value}")
    if value * RATE_UNITS[singular] // RATE_UNITS["minute"] > MAX_RATE_MINUTES:
        raise ScheduleError(f"{raw}: the value is too large: a rate may be at most {MAX_RATE_DAYS} days "
                            "(as long as cron's years, 1970-2199, reach)")
    return RateSchedule(raw, value, singular, value * RATE_UNITS[singular])


def _parse_cron(raw: str) -> CronSchedule:
    m = _CRON_RE.match(raw)
    body = m.group(1).split() if m else []
    if len(body) != 6:
        extra = " (a leading seconds field is not supported)" if len(body) == 7 else ""
        raise ScheduleError(f"{raw}: cron() needs 6 fields (minutes hours day-of-month month day-of-week year), "
                            f"got {len(body)}{extra}")
    minute, hour, dom, month, dow, year = body
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"{raw}: exactly one of day-of-month ('{dom}') and day-of-week ('{dow}') must be '?'")
    return CronSchedule(
        raw,
        minutes=tuple(sorted(_values(raw, minute, 0))),
        hours=tuple(sorted(_values(raw, hour, 1))),
        months=frozenset(_values(raw, month, 3)),
        years=frozenset(_values(raw, year, 5)),
        day_of_month=None if dom == "?" else _day_of_month(raw, dom),
        day_of_week=None if dow == "?" else _day_of_week(raw, dow),
    )


def _number(raw: str, index: int, token: str) -> int:
    name, low, high, names = FIELDS[index]
    upper = token.upper()
    if names and upper in names:
        return names[upper]
    value = _integer(token)
    if value is None:
        hint = f" or {next(iter(names))}–{list(names)[-1]}" if names else ""
        raise ScheduleError(f"{raw}: {name} value '{token}' is not a number {low}–{high}{hint}")
    if not low <= value <= high:
        raise ScheduleError(f"{raw}: {name} value {token if len(token) <= 20 else token[:20] + '...'} is outside {low}–{high}")
    return value


def _integer(text: str) -> int | None:
    """ASCII digits as a number, ``None`` for anything else (``int()`` would take ``١`` and refuse
    ``²`` or 4,300 digits with an exception); a number too long to be a field's counts as 10**18."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0") or "0"
    return int(significant) if len(significant) <= 18 else 10**18


def _values(raw: str, text: str, index: int) -> set[int]:
    """Expand a field of ``, - * /`` items into the set of values it covers."""
    name, low, high, _ = FIELDS[index]
    out: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ScheduleError(f"{raw}: {name} has an empty item in '{text}'")
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            step = _integer(step_text) or 0
            if not step:
                raise ScheduleError(f"{raw}: {name} step '{step_text}' must be a positive integer")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _number(raw, index, a), _number(raw, index, b)
        else:
            first = _number(raw, index, base)
            last = high if step_text else first
        if first <= last:
            out.update(range(first, last + 1, step))
        else:  # a range that wraps, e.g. FRI-MON or 22-2
            span = list(range(first, high + 1)) + list(range(low, last + 1))
            out.update(span[::step])
    return out


def _day_of_month(raw: str, text: str) -> DayOfMonth:
    days: set[int] = set()
    last = False
    nearest: set[int] = set()
    for item in text.split(","):
        if item == "L":
            last = True
        elif item.endswith("W") and _integer(item[:-1]) is not None:
            nearest.add(_number(raw, 2, item[:-1]))
        elif "L" in item or "W" in item:
            raise ScheduleError(f"{raw}: Day-of-month '{item}' is not valid; use L (last day) or nW (weekday nearest day n)")
        else:
            days |= _values(raw, item, 2)
    return DayOfMonth(frozenset(days), last, frozenset(nearest))


def _day_of_week(raw: str, text: str) -> DayOfWeek:
    days: set[int] = set()
    last: set[int] = set()
    nth = None
    if text.count("#") > 1:
        raise ScheduleError(f"{raw}: Day-of-week may use '#' only once")
    for item in text.split(","):
        if item == "L":
            days.add(7)
        elif "#" in item:
            wd, _, k = item.partition("#")
            week = _integer(k)
            if week is None or not 1 <= week <= 5:
                raise ScheduleError(f"{raw}: in Day-of-week '{item}', the week after '#' must be 1–5")
            nth = (_number(raw, 4, wd), week)
        elif item.endswith("L") and len(item) > 1:
            last.add(_number(raw, 4, item[:-1]))
        else:
            days |= _values(raw, item, 4)
    return DayOfWeek(frozenset(days), frozenset(last), nth)
