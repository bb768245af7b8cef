"""EventBridge schedule expressions as CronJob schedules.

The worked examples are the EventBridge user guide's ("Cron expressions" and "Rate
expressions", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html);
the property compares the firings of ecsctl's own AWS-cron reader (core.events.schedule)
with croniter's reading of the five fields written, for random expressions.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.events.schedule import parse_schedule
from ecsctl.core.render.kubernetes import schedule as module
from ecsctl.core.render.kubernetes.schedule import Untranslatable, compress, kubernetes_schedule

AWS_EXAMPLES = [
    # EventBridge example, its meaning, the CronJob schedule
    ("cron(0 10 * * ? *)", "10:00 UTC every day", "0 10 * * *"),
    ("cron(15 12 * * ? *)", "12:15 UTC every day", "15 12 * * *"),
    ("cron(0 18 ? * MON-FRI *)", "18:00 Monday to Friday", "0 18 * * 1-5"),
    ("cron(0 8 1 * ? *)", "08:00 on the first day of every month", "0 8 1 * *"),
    ("cron(0/15 * * * ? *)", "every 15 minutes", "*/15 * * * *"),
    ("cron(0/10 * ? * MON-FRI *)", "every 10 minutes Monday to Friday", "*/10 * * * 1-5"),
    ("cron(0/5 8-17 ? * MON-FRI *)", "every 5 minutes 08:00-17:55 Monday to Friday", "*/5 8-17 * * 1-5"),
    ("cron(0 2 * * ? *)", "the example stack's nightly report", "0 2 * * *"),
    ("cron(0 20 ? * FRI-MON *)", "a range that wraps the week", "0 20 * * 0,1,5,6"),
    ("cron(0 0 ? * 1 *)", "Sunday is 1 in AWS, 0 in cron", "0 0 * * 0"),
    ("cron(0 0 ? * L *)", "L alone in day-of-week is Saturday", "0 0 * * 6"),
    ("rate(5 minutes)", "every 5 minutes", "*/5 * * * *"),
    ("rate(1 hour)", "every hour", "0 * * * *"),
    ("rate(12 hours)", "every 12 hours", "0 */12 * * *"),
    ("rate(1 day)", "every day", "0 0 * * *"),
    ("rate(7 days)", "every week", "0 0 * * 0"),
]


@pytest.mark.parametrize("expression, meaning, expected", AWS_EXAMPLES, ids=[e[0] for e in AWS_EXAMPLES])
def test_aws_examples(expression, meaning, expected):
    schedule, notes = kubernetes_schedule(expression)
    assert schedule == expected, meaning
    assert notes and expression in notes[0]


REFUSED = [
    ("cron(0 9 ? * 2#1 *)", "'#'"),  # EventBridge: 09:00 on the first Monday of each month
    ("cron(15 10 ? * 6L 2019-2022)", "year"),  # the last Friday of every month, 2019 to 2022
    ("cron(0 0 ? * 6L *)", "'nL'"),
    ("cron(0 0 L * ? *)", "'L'"),
    ("cron(0 0 15W * ? *)", "'W'"),
    ("cron(0 12 * * ? 2026)", "year"),
    ("at(2026-03-01T09:00:00)", "one-time"),
    ("rate(7 minutes)", "every 7 minutes"),
    ("rate(90 minutes)", "every 90 minutes"),
    ("rate(5 hours)", "every 5 hours"),
    ("rate(2 days)", "every 2 days"),
]


@pytest.mark.parametrize("expression, fragment", REFUSED, ids=[e[0] for e in REFUSED])
def test_what_a_cronjob_cannot_say_is_refused_in_one_line(expression, fragment):
    with pytest.raises(Untranslatable) as info:
        kubernetes_schedule(expression)
    message = str(info.value)
    assert message.startswith(expression) and fragment in message and "\n" not in message


def test_a_year_field_covering_every_year_is_no_year():
    assert kubernetes_schedule("cron(0 2 * * ? 1970-2199)")[0] == "0 2 * * *"


def test_compress_is_exact():
    for values, low, high in [({0, 30}, 0, 59), (set(range(1, 32, 2)), 1, 31), ({3, 4, 5, 9}, 0, 23), ({1, 12}, 1, 12)]:
        text = compress(values, low, high)
        assert _expand(text, low, high) == values, text


def _expand(text: str, low: int, high: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        first, last = (low, high) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
        out |= set(range(first, last + 1, int(step or 1)))
    return out


def test_module_doctests():
    import doctest

    assert doctest.testmod(module).failed == 0


# --- property: the same firings ------------------------------------------------------------


def _field(values: list[int]) -> str:
    return ",".join(str(v) for v in values)


CRON = st.builds(
    lambda minutes, hours, dom, months, dow, by_dom: (
        f"cron({_field(minutes)} {_field(hours)} {_field(dom) if by_dom else '?'} {_field(months)} "
        f"{'?' if by_dom else _field(dow)} *)"),
    st.lists(st.integers(0, 59), min_size=1, max_size=4, unique=True),
    st.lists(st.integers(0, 23), min_size=1, max_size=3, unique=True),
    st.lists(st.integers(1, 28), min_size=1, max_size=3, unique=True),
    st.lists(st.integers(1, 12), min_size=1, max_size=12, unique=True),
    st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True),
    st.booleans(),
)
START = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1))


@settings(max_examples=150, deadline=None)
@given(CRON, START)
def test_the_cronjob_fires_when_eventbridge_would(expression, start):
    schedule, _ = kubernetes_schedule(expression)
    aws = parse_schedule(expression)
    ours, theirs = [], []
    moment = start.replace(tzinfo=timezone.utc)
    it = croniter(schedule, moment)
    for _ in range(12):
        moment = aws.next_after(moment)
        ours.append(moment.astimezone(timezone.utc).replace(tzinfo=None))
        theirs.append(it.get_next(datetime).astimezone(timezone.utc).replace(tzinfo=None))
    assert ours == theirs, schedule


@pytest.mark.parametrize("expression", [e for e, _, _ in AWS_EXAMPLES if e.startswith("rate(")])
def test_a_rate_keeps_its_period(expression):
    schedule, _ = kubernetes_schedule(expression)
    period = parse_schedule(expression).period
    it = croniter(schedule, datetime(2024, 1, 1, 0, 0, 30))
    times = [it.get_next(datetime) for _ in range(5)]
    assert {b - a for a, b in zip(times, times[1:])} == {period}
