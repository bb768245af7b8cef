"""A queue, minute by minute: arrivals in, consumer tasks draining it, the backlog per task.

The ``Queue`` manifest (DESIGN §3 style, camelCase)::

    kind: Queue
    metadata: {name: orders}              # the SQS queue name
    spec:
      visibilityTimeout: 30               # seconds, SQS's default 30 (0-43200)
      initialMessages: 0                  # visible messages when the queue is created
      arrivals:                           # one of:
        messagesPerMinute: 120            #   a constant rate, or
        series:                           #   a piecewise-constant rate, each from its time on
          - {at: "2026-01-01T08:00:00Z", messagesPerMinute: 600}
          - {at: "2026-01-01T10:00:00Z", messagesPerMinute: 50}
      consumers:                          # the services whose tasks receive and delete messages
        - {service: worker, cluster: prod, messagesPerTaskPerMinute: 30}

One minute of the model (:func:`advance`), for the lead's ``tick``:

1. ``arrivals`` messages arrive (fractions carry over to the next minute, so a rate of 0.5
   gives one message every other minute);
2. the consumers can process ``Σ running tasks × effective rate`` messages (fractions carry
   too); they receive and delete ``min(visible + arrived, capacity)``;
3. ``ApproximateNumberOfMessagesVisible`` is what is left;
   ``ApproximateNumberOfMessagesNotVisible`` the messages in flight at the minute's end
   (one per busy task: a worker receiving one message at a time).

Backlog per task (ecs-semantics §8.3, Application Auto Scaling's "backlog per task"
metric math): ``ApproximateNumberOfMessagesVisible ÷ RunningTaskCount`` of the service;
with no running task there is no value ("division by zero ⇒ no data ⇒ no scaling"), so
:func:`backlog_per_task` returns ``None``.  The acceptable backlog per task, the target
value, is acceptable latency ÷ processing time per message (10 s ÷ 0.1 s = 100).

Visibility timeout (DERIVED): a task needs ``60 ÷ messagesPerTaskPerMinute`` seconds per
message; when that is longer than ``visibilityTimeout`` the message becomes visible again
before it is deleted and is received again, so each message costs ``ceil(processing ÷
timeout)`` receives and a task's effective rate drops by that factor
(:func:`effective_rate`; validation warns about it, W6012).

    >>> state = QueueState(visible=1000)
    >>> m = advance(state, arrivals=100, consumers=[(4, 30)])   # 4 tasks × 30/min = 120 per minute
    >>> m.visible, m.deleted, backlog_per_task(m.visible, 4)
    (980, 120, 245.0)
    >>> m = advance(m.state, arrivals=100, consumers=[(10, 30)])  # more tasks drain it faster
    >>> m.visible, m.deleted
    (780, 300)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

__all__ = [
    "DEFAULT_VISIBILITY_TIMEOUT",
    "QueueMinute",
    "QueueState",
    "advance",
    "arrivals_per_minute",
    "backlog_per_task",
    "consumers_of",
    "effective_rate",
    "initial_state",
    "processing_seconds",
]

DEFAULT_VISIBILITY_TIMEOUT = 30  # seconds (SQS CreateQueue VisibilityTimeout default)
MAX_VISIBILITY_TIMEOUT = 43200  # 12 hours


@dataclass(frozen=True, slots=True)
class QueueState:
    """What the queue holds between minutes; the carries are fractions of a message."""

    visible: int = 0
    arrival_carry: float = 0.0
    capacity_carry: float = 0.0


@dataclass(frozen=True, slots=True)
class QueueMinute:
    """One minute's outcome; ``visible``/``not_visible`` are the two SQS metrics at its end."""

    state: QueueState
    arrived: int
    deleted: int
    visible: int
    not_visible: int


def initial_state(spec: dict) -> QueueState:
    return QueueState(visible=int(spec.get("initialMessages") or 0))


def advance(state: QueueState, *, arrivals: float, consumers: Sequence[tuple[int, float]]) -> QueueMinute:
    """One minute: ``arrivals`` messages arrive, ``consumers`` ``(running tasks, messages per task per
    minute)`` receive and delete what they can (rates already :func:`effective_rate` when needed)."""
    incoming = max(0.0, float(arrivals)) + state.arrival_carry
    arrived = math.floor(incoming + 1e-9)
    capacity = sum(max(0, int(n)) * max(0.0, float(rate)) for n, rate in consumers)
    available = state.visible + arrived
    can = capacity + state.capacity_carry
    deleted = min(available, math.floor(can + 1e-9))
    # only the fraction of a message carries over; capacity left idle on an empty queue does not
    carry = 0.0 if deleted == available else can - deleted
    visible = available - deleted
    busy = sum(max(0, int(n)) for n, rate in consumers if rate > 0)
    not_visible = min(busy, deleted)
    # floor() above allows 1e-9 of rounding; keep the carries in [0, 1)
    arrival_carry = min(max(incoming - arrived, 0.0), 0.999999999)
    capacity_carry = min(max(carry, 0.0), 0.999999999)
    return QueueMinute(QueueState(visible, arrival_carry, capacity_carry), arrived, deleted, visible, not_visible)


def backlog_per_task(visible: int, running_tasks: int) -> float | None:
    """``ApproximateNumberOfMessagesVisible ÷ RunningTaskCount``; None (no data) with no running task."""
    if running_tasks <= 0:
        return None
    return visible / running_tasks


def processing_seconds(per_task_per_minute: float) -> float:
    """Seconds one task spends on one message."""
    return math.inf if per_task_per_minute <= 0 else 60.0 / per_task_per_minute


def effective_rate(per_task_per_minute: float, visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT) -> float:
    """A task's rate of *deleted* messages when processing outlasts the visibility timeout (DERIVED).

    >>> effective_rate(30, 30), effective_rate(1, 30), effective_rate(1, 0)
    (30.0, 0.5, 1.0)
    """
    seconds = processing_seconds(per_task_per_minute)
    if visibility_timeout <= 0 or math.isinf(seconds) or seconds <= visibility_timeout:
        return float(per_task_per_minute)
    return per_task_per_minute / math.ceil(seconds / visibility_timeout)


def arrivals_per_minute(spec: dict, minute: datetime) -> float:
    """Messages arriving in the minute that starts at ``minute`` (aware, or naive UTC).

    >>> spec = {"arrivals": {"series": [{"at": "2026-01-01T08:00:00Z", "messagesPerMinute": 600},
    ...                                 {"at": "2026-01-01T10:00:00Z", "messagesPerMinute": 50}]}}
    >>> [arrivals_per_minute(spec, datetime(2026, 1, 1, h, tzinfo=timezone.utc)) for h in (7, 8, 9, 10, 23)]
    [0.0, 600.0, 600.0, 50.0, 50.0]
    """
    arrivals = spec.get("arrivals") or {}
    if "messagesPerMinute" in arrivals:
        return float(arrivals["messagesPerMinute"])
    moment = minute.replace(tzinfo=timezone.utc) if minute.tzinfo is None else minute.astimezone(timezone.utc)
    rate = 0.0
    for point in arrivals.get("series") or ():
        if parse_time(point["at"]) <= moment:
            rate = float(point["messagesPerMinute"])
        else:
            break
    return rate


def consumers_of(spec: dict) -> list[tuple[str, str, float]]:
    """``(cluster, service, effective messages per task per minute)`` for each consumer."""
    timeout = spec.get("visibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT)
    out = []
    for c in spec.get("consumers") or ():
        cluster = str(c.get("cluster") or "default").rsplit("/", 1)[-1]
        out.append((cluster, str(c["service"]), effective_rate(float(c["messagesPerTaskPerMinute"]), timeout)))
    return out


def parse_time(text: Any) -> datetime:
    """``2026-01-01T08:00:00Z`` (or with an offset) -> aware UTC; raises ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not an ISO 8601 time such as 2026-01-01T08:00:00Z")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time such as 2026-01-01T08:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
