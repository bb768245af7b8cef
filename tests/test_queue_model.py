"""The queue model (core.queue.model): arrivals, consumers, ApproximateNumberOfMessagesVisible, backlog per task.

The backlog-per-task arithmetic is Application Auto Scaling's example (ecs-semantics §8.3,
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html):
acceptable latency 10 s ÷ 0.1 s per message = a target of 100 messages per task.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.queue.model import (
    QueueState,
    advance,
    arrivals_per_minute,
    backlog_per_task,
    consumers_of,
    effective_rate,
    initial_state,
)


def run(minutes, *, visible=0, arrivals=0.0, consumers=((1, 10),)):
    state, out = QueueState(visible), []
    for _ in range(minutes):
        m = advance(state, arrivals=arrivals, consumers=list(consumers))
        out.append(m.visible)
        state = m.state
    return out


def test_backlog_per_task_target_from_the_aas_example() -> None:
    """0.1 s per message is 600 messages per task per minute; 10 s of acceptable latency is 100 per task."""
    per_message, latency = 0.1, 10
    target = latency / per_message
    assert target == 100
    assert backlog_per_task(1000, 10) == target  # 1,000 visible over 10 tasks: exactly on target
    assert backlog_per_task(1000, 0) is None  # no running task: no data, no scaling


@pytest.mark.parametrize(("consumers", "expected"), [
    # 1,000 messages, nothing arriving: more tasks drain the queue faster
    (((2, 50),), [900, 800, 700]),
    (((5, 50),), [750, 500, 250]),
    (((10, 50),), [500, 0, 0]),
    (((0, 50),), [1000, 1000, 1000]),  # no task, nothing drains
    (((2, 50), (3, 50)), [750, 500, 250]),  # two consumer services add up
])
def test_more_tasks_drain_faster(consumers, expected) -> None:
    assert run(3, visible=1000, consumers=consumers) == expected


def test_arrivals_faster_than_consumption_grow_the_backlog() -> None:
    assert run(4, arrivals=120, consumers=((2, 50),)) == [20, 40, 60, 80]


def test_fractional_rates_carry_over() -> None:
    """Half a message a minute arrives as one every other minute; 1.5 per minute consumes 3 every 2 minutes."""
    assert [advance(QueueState(), arrivals=0.5, consumers=[]).arrived] == [0]
    assert run(4, arrivals=0.5, consumers=()) == [0, 1, 1, 2]
    assert run(4, visible=10, consumers=((1, 1.5),)) == [9, 7, 6, 4]


def test_idle_capacity_does_not_bank() -> None:
    """An empty queue does not let workers 'save up' for the next minute."""
    state = advance(QueueState(0), arrivals=0, consumers=[(10, 100)]).state
    assert state.capacity_carry == 0
    assert advance(state, arrivals=50, consumers=[(1, 10)]).deleted == 10


def test_in_flight_messages() -> None:
    m = advance(QueueState(100), arrivals=0, consumers=[(4, 10)])
    assert (m.deleted, m.visible, m.not_visible) == (40, 60, 4)
    assert advance(QueueState(0), arrivals=0, consumers=[(4, 10)]).not_visible == 0


@pytest.mark.parametrize(("rate", "timeout", "effective"), [
    (30, 30, 30.0),  # 2 s per message, far below 30 s
    (2, 30, 2.0),  # 30 s per message: just fits
    (1, 30, 0.5),  # 60 s per message: received twice on average
    (0.5, 30, 0.125),  # 120 s: four receives per message
    (1, 0, 1.0),  # no visibility timeout configured: no redelivery model
])
def test_visibility_timeout(rate, timeout, effective) -> None:
    assert effective_rate(rate, timeout) == effective


def test_arrivals_from_a_spec() -> None:
    constant = {"arrivals": {"messagesPerMinute": 7}}
    assert arrivals_per_minute(constant, datetime(2026, 1, 1)) == 7.0
    series = {"arrivals": {"series": [{"at": "2026-01-01T08:00:00Z", "messagesPerMinute": 600},
                                      {"at": "2026-01-01T08:30:00+00:00", "messagesPerMinute": 0}]}}
    at = [datetime(2026, 1, 1, 7, 59), datetime(2026, 1, 1, 8, 0), datetime(2026, 1, 1, 8, 29, tzinfo=timezone.utc),
          datetime(2026, 1, 1, 8, 30)]
    assert [arrivals_per_minute(series, t) for t in at] == [0.0, 600.0, 600.0, 0.0]


def test_consumers_and_initial_state_from_a_spec() -> None:
    spec = {"initialMessages": 250, "visibilityTimeout": 30, "arrivals": {"messagesPerMinute": 1},
            "consumers": [{"service": "worker", "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
                           "messagesPerTaskPerMinute": 1}, {"service": "fast", "messagesPerTaskPerMinute": 60}]}
    assert consumers_of(spec) == [("prod", "worker", 0.5), ("default", "fast", 60.0)]
    assert initial_state(spec) == QueueState(250)


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.integers(0, 10_000), st.floats(0, 1000), st.lists(st.tuples(st.integers(0, 50), st.floats(0, 500)), max_size=3),
       st.integers(1, 30))
def test_messages_are_conserved(visible, arrivals, consumers, minutes) -> None:
    """Nothing is lost or made up: visible + deleted - arrived stays what it was."""
    state, total_arrived, total_deleted = QueueState(visible), 0, 0
    for _ in range(minutes):
        m = advance(state, arrivals=arrivals, consumers=consumers)
        assert m.visible >= 0 and m.deleted >= 0 and 0 <= m.state.arrival_carry < 1 and 0 <= m.state.capacity_carry < 1
        total_arrived, total_deleted, state = total_arrived + m.arrived, total_deleted + m.deleted, m.state
    assert state.visible == visible + total_arrived - total_deleted
