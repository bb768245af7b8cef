"""Fuzzing the event pattern matcher and the schedule iterator (hypothesis, fixed seed, bounded work).

Whatever the input, ``pattern_issues`` returns, ``matches`` returns a bool or raises
``PatternError``, and ``fire_times`` raises ``ScheduleError`` or yields ascending aware UTC
datetimes inside its window.  Every example's work is bounded (windows of at most a few
days, at most 400 firings read), so nothing can hang; no timing is asserted.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsctl.core.events.pattern import OPERATORS, PatternError, matches, pattern_issues
from ecsctl.core.events.recurrence import fire_times
from ecsctl.core.events.schedule import ScheduleError

FUZZ = settings(max_examples=400, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- event patterns ----------------------------------------------------------------------------

KEYS = st.sampled_from(["source", "detail", "state", "a", "b", "$or", "", "equals-ignore-case", *OPERATORS])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["10.0.0.1", "2001:db8::1", "a*b", "\\", "**", "10.0.0.0/8"]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
                    max_leaves=25)

STRING = st.text(alphabet="ab*\\.-/", max_size=6)
NUMBER = st.one_of(st.integers(-100, 100), st.floats(-1e3, 1e3, allow_nan=False))
OPERATOR = st.one_of(
    st.builds(lambda v: {"prefix": v}, st.one_of(STRING, st.builds(lambda s: {"equals-ignore-case": s}, STRING))),
    st.builds(lambda v: {"suffix": v}, st.one_of(STRING, st.builds(lambda s: {"equals-ignore-case": s}, STRING))),
    st.builds(lambda v: {"equals-ignore-case": v}, STRING),
    st.builds(lambda v: {"wildcard": v}, STRING),
    st.builds(lambda v: {"anything-but": v}, st.one_of(STRING, NUMBER, st.lists(STRING, min_size=1, max_size=3),
                                                     st.lists(NUMBER, min_size=1, max_size=3),
                                                     st.dictionaries(st.sampled_from(["prefix", "suffix", "wildcard",
                                                                                      "equals-ignore-case"]),
                                                                     st.one_of(STRING, st.lists(STRING, max_size=2)),
                                                                     min_size=1, max_size=1))),
    st.builds(lambda op, n: {"numeric": [op, n]}, st.sampled_from(["=", ">", ">=", "<", "<=", "!"]), NUMBER),
    st.builds(lambda lo, hi: {"numeric": [">=", lo, "<", hi]}, NUMBER, NUMBER),
    st.builds(lambda v: {"exists": v}, st.one_of(st.booleans(), STRING)),
    st.builds(lambda v: {"cidr": v}, st.sampled_from(["10.0.0.0/24", "10.0.0.0/33", "2001:db8::/32", "x"])),
)
LEAF = st.lists(st.one_of(SCALARS, OPERATOR), min_size=1, max_size=3)
PATTERN = st.recursive(
    st.dictionaries(st.sampled_from(["source", "state", "a", "b", "n", "ip"]), LEAF, min_size=1, max_size=3),
    lambda inner: st.one_of(
        st.dictionaries(st.sampled_from(["detail", "a", "b"]), inner, min_size=1, max_size=2),
        st.builds(lambda alts, rest: {**rest, "$or": alts}, st.lists(inner, min_size=2, max_size=3),
                  st.dictionaries(st.sampled_from(["source", "a"]), LEAF, max_size=1)),
    ),
    max_leaves=6,
)
EVENT_KEYS = st.sampled_from(["source", "detail", "state", "a", "b", "n", "ip"])
EVENT_VALUE = st.recursive(st.one_of(STRING, NUMBER, st.none(), st.sampled_from(["10.0.0.1", "2001:db8::1"])),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(EVENT_KEYS, inner, max_size=3)),
                           max_leaves=12)
EVENT = st.dictionaries(EVENT_KEYS, st.one_of(JSON, EVENT_VALUE), max_size=5)


def check_pattern(pattern, event) -> None:
    """The matcher's contract on any input: ``pattern_issues`` accepts exactly the patterns
    ``matches`` takes, and ``matches`` answers a bool."""
    issues = pattern_issues(pattern)
    assert isinstance(issues, list)
    try:
        result = matches(pattern, event)
    except PatternError:
        assert issues, "matches raised PatternError for a pattern pattern_issues accepts"
        return
    assert issues == [] and isinstance(result, bool)


@FUZZ
@given(JSON, JSON)
def test_any_json_pattern_and_event(pattern, event) -> None:
    check_pattern(pattern, event)


@FUZZ
@given(PATTERN, EVENT)
def test_well_formed_patterns(pattern, event) -> None:
    check_pattern(pattern, event)


# --- schedules ---------------------------------------------------------------------------------

FIELD = st.sampled_from(["*", "?", "0", "5", "59", "60", "0/15", "*/5", "1-5", "5-1", "L", "6L", "15W", "W", "3#2", "#",
                         "MON-FRI", "JAN", "FOO", "1,2,3", ",", "2026", "2026-2030", "1/0", "-1", "32", "L,15", "LW"])
CRON = st.builds(lambda fields: "cron(" + " ".join(fields) + ")", st.lists(FIELD, min_size=5, max_size=7))
RATE = st.builds(lambda n, unit: f"rate({n} {unit})", st.sampled_from(["0", "1", "2", "15", "-1", "1.5", "x"]),
                 st.sampled_from(["minute", "minutes", "hour", "hours", "day", "days", "week"]))
AT = st.builds(lambda d: f"at({d})", st.sampled_from(["2026-03-08T02:30:00", "2026-01-01T00:00:00", "2026-02-30T00:00:00", "soon"]))
VALID_CRON = st.builds(
    lambda m, h, dom, mon, dow, y: f"cron({m} {h} {dom} {mon} {'?' if dom != '?' else dow} {y})",
    st.sampled_from(["0", "*/7", "0/20", "5,35", "10-12"]), st.sampled_from(["*", "2", "1-3", "22-2", "0/6"]),
    st.sampled_from(["?", "*", "1", "L", "15W", "31", "29", "1,15W"]), st.sampled_from(["*", "FEB", "MAR,OCT,NOV", "11-2"]),
    st.sampled_from(["MON-FRI", "1", "6L", "2#1", "L", "1,6L"]), st.sampled_from(["*", "2026", "2025/3"]))
EXPRESSION = st.one_of(VALID_CRON, CRON, RATE, AT, st.text(max_size=20))
ZONE = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Mars/Base", ""])
MOMENT = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(timezone.utc))


@FUZZ
@given(EXPRESSION, ZONE, MOMENT, st.integers(0, 72 * 60), st.one_of(st.none(), MOMENT), st.one_of(st.none(), MOMENT))
def test_fire_times(expression, zone, after, window_minutes, start, end) -> None:
    until = after + timedelta(minutes=window_minutes)
    try:
        times = list(itertools.islice(fire_times(expression, timezone=zone, after=after, until=until, start=start, end=end), 400))
    except ScheduleError:
        return
    assert times == sorted(times) and len(set(times)) == len(times)
    for t in times:
        assert t.tzinfo == timezone.utc and after < t <= until
        assert start is None or t >= start
        assert end is None or t <= end
