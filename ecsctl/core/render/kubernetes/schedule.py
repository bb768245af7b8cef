"""EventBridge schedule expressions as Kubernetes CronJob schedules (five cron fields).

AWS's cron has six fields (minutes hours day-of-month month day-of-week year), numbers
days of the week 1–7 from Sunday and needs ``?`` in one of the day fields; a CronJob has
five (minutes hours day-of-month month day-of-week), numbers Sunday 0, and no year
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax).
The fields come from ``core.events.recurrence.croniter_expressions`` (the same reading the
simulation fires schedules with), each written from the set of values it covers, so ranges
that wrap (``FRI-MON``) come out right::

    >>> kubernetes_schedule("cron(0 18 ? * MON-FRI *)")[0]
    '0 18 * * 1-5'
    >>> kubernetes_schedule("cron(0/15 * * * ? *)")[0]
    '*/15 * * * *'
    >>> kubernetes_schedule("rate(6 hours)")[0]
    '0 */6 * * *'
    >>> kubernetes_schedule("cron(0 9 ? * 2#1 *)")
    Traceback (most recent call last):
    ...
    ecsctl.core.render.kubernetes.schedule.Untranslatable: cron(0 9 ? * 2#1 *): '#' (the n-th weekday of the month) has no Kubernetes cron equivalent

What a CronJob cannot say is refused with :class:`Untranslatable`: ``L``, ``W``, ``#``, a
year, a one-time ``at()``, and ``rate()`` periods that do not divide the hour or the day.
"""

from __future__ import annotations

from ecsctl.core.events.recurrence import croniter_expressions
from ecsctl.core.events.schedule import AtSchedule, CronSchedule, RateSchedule, ScheduleError, parse_schedule


class Untranslatable(ValueError):
    """Something the Kubernetes object cannot express; the message is one line naming it."""


def compress(values, low: int, high: int) -> str:
    """A cron field for ``values`` within ``low..high``: ``*``, ``*/n``, ``a-high/n``, ranges and lists.

    >>> compress(range(0, 60), 0, 59), compress(range(0, 60, 15), 0, 59), compress({5, 15, 25, 35, 45, 55}, 0, 59)
    ('*', '*/15', '5-59/10')
    >>> compress({1, 2, 3, 5, 7, 8}, 1, 31)
    '1-3,5,7,8'
    """
    got = sorted(set(values))
    if got == list(range(low, high + 1)):
        return "*"
    if len(got) >= 2:
        step = got[1] - got[0]
        if step > 1 and got == list(range(got[0], high + 1, step)):
            return f"*/{step}" if got[0] == low else f"{got[0]}-{high}/{step}"
    parts: list[str] = []
    run: list[int] = []
    for value in got + [None]:
        if run and (value is None or value != run[-1] + 1):
            parts += [f"{run[0]}-{run[-1]}"] if len(run) >= 3 else [str(v) for v in run]
            run = []
        if value is not None:
            run.append(value)
    return ",".join(parts)


FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _cron(raw: str, parsed: CronSchedule) -> str:
    fields = raw[raw.index("(") + 1: raw.rindex(")")].split()
    year = fields[5]
    if parsed.years != frozenset(range(1970, 2200)):
        raise Untranslatable(f"{raw}: the year field '{year}' has no Kubernetes cron equivalent (a CronJob has no year)")
    dom, dow = parsed.day_of_month, parsed.day_of_week
    if dom is not None and dom.last:
        raise Untranslatable(f"{raw}: 'L' (the last day of the month) has no Kubernetes cron equivalent")
    if dom is not None and dom.nearest_weekday:
        raise Untranslatable(f"{raw}: 'W' (the weekday nearest a day) has no Kubernetes cron equivalent")
    if dow is not None and dow.nth is not None:
        raise Untranslatable(f"{raw}: '#' (the n-th weekday of the month) has no Kubernetes cron equivalent")
    if dow is not None and dow.last_of_month:
        raise Untranslatable(f"{raw}: 'nL' (the last given weekday of the month) has no Kubernetes cron equivalent")
    # Without L, W and # the schedule is one standard expression (AWS's 1 = SUN becomes 0, '?' becomes '*');
    # each comma list is then written as compactly as cron allows.
    (expression,) = croniter_expressions(parsed)
    return " ".join(field if field == "*" else compress((int(v) for v in field.split(",")), low, high)
                    for field, (low, high) in zip(expression.split(), FIELD_RANGES))


RATE_HINT = "use a divisor of 60 minutes or of 24 hours, or 1 or 7 days"


def _rate(raw: str, parsed: RateSchedule) -> str:
    minutes = int(parsed.period.total_seconds() // 60)
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes % 60 == 0 and minutes < 24 * 60 and (24 * 60) % minutes == 0:
        hours = minutes // 60
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    if minutes == 24 * 60:
        return "0 0 * * *"
    if minutes == 7 * 24 * 60:
        return "0 0 * * 0"
    raise Untranslatable(f"{raw}: a CronJob cannot fire every {parsed.value} {parsed.unit}{'s' if parsed.value != 1 else ''} "
                         f"(cron steps restart every hour, day or month); {RATE_HINT}")


def kubernetes_schedule(expression: str) -> tuple[str, list[str]]:
    """``(schedule, notes)`` for a ``cron()`` or ``rate()`` expression; :class:`Untranslatable` otherwise."""
    try:
        parsed = parse_schedule(expression)
    except ScheduleError as exc:
        raise Untranslatable(str(exc)) from None
    raw = parsed.text
    if isinstance(parsed, AtSchedule):
        raise Untranslatable(f"{raw}: a one-time at() schedule has no CronJob equivalent (create a Job at that time instead)")
    if isinstance(parsed, RateSchedule):
        schedule = _rate(raw, parsed)
        return schedule, [f"EventBridge {raw} counts from when the rule is created; this CronJob fires on the clock "
                          f"('{schedule}'), at the same rate but not at the same moments"]
    assert isinstance(parsed, CronSchedule)
    return _cron(raw, parsed), [f"EventBridge {raw} (AWS's six fields, 1 = Sunday) in Kubernetes' five (0 = Sunday, no year)"]
