"""The queue pattern on the clock: messages arrive, a service's tasks drain them, backlog per task.

The metric is Application Auto Scaling's "backlog per task" (metric math
``ApproximateNumberOfMessagesVisible / RunningTaskCount``, "Target tracking with metric math",
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html);
no running task gives no data.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local import queues
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state.ports import HistoryEntry
from ecsctl.storage.sqlite_store import SqliteStateStore

_seq = iter(range(1, 100_000))
WORKER = {"family": "worker", "networkMode": "bridge",
          "containerDefinitions": [{"name": "w", "image": "w:1", "cpu": 64, "memory": 64}]}


def step(kind: str, name: str, spec: dict, action: str = "create") -> Step:
    return Step(id=f"s{next(_seq)}", action=action, address=address(kind, name, spec), kind=kind, name=name,
                spec=spec, before=None)


def queue(initial: int = 0, rate: float = 400, per_task: float = 40) -> dict:
    return {"visibilityTimeout": 30, "initialMessages": initial, "arrivals": {"messagesPerMinute": rate},
            "consumers": [{"service": "worker", "cluster": "prod", "messagesPerTaskPerMinute": per_task}]}


@pytest.fixture
def make(tmp_path: Path):
    made = []

    def build(tasks: int, spec: dict) -> SqliteStateStore:
        s = SqliteStateStore(tmp_path / f"state-{len(made)}.db")
        made.append(s)
        backend = LocalBackend(s)
        for st in (step("Cluster", "prod", {"containerInstances": [
                       {"name": "big", "count": 2, "instanceType": "m5.4xlarge", "availabilityZone": "eu-west-1a"}]}),
                   step("TaskDefinition", "worker", WORKER), step("Queue", "jobs", spec),
                   step("Service", "worker", {"cluster": "prod", "taskDefinition": "worker", "desiredCount": tasks,
                                              "launchType": "EC2"})):
            backend.apply_step(st)
        backend.settle()
        return s

    yield build
    for s in made:
        assert check_invariants(s) == []
        s.close()


def visible(store) -> int:
    return LocalBackend(store).world.sim_state(queues.QUEUE_STATE, "jobs").data["visible"]


@pytest.mark.parametrize("tasks, after_an_hour", [
    (6, 1000 + 60 * (400 - 240)),   # 6 x 40 = 240 a minute: the queue grows by 160 a minute
    (10, 1000),                     # 400 a minute: it holds
    (12, 0),                        # 480: 80 a minute of the backlog, gone after 12.5 minutes
])
def test_more_tasks_drain_the_queue_faster(make, tasks, after_an_hour):
    store = make(tasks, queue(initial=1000))
    LocalBackend(store).tick(timedelta(hours=1))
    assert visible(store) == after_an_hour


def test_the_minute_it_empties_depends_on_the_tasks(make):
    def emptied_after(tasks: int) -> int:
        store = make(tasks, queue(initial=1200, rate=0))
        LocalBackend(store).tick(timedelta(hours=1))
        points = sorted(store.find(HistoryEntry, kind=queues.QUEUE_METRIC, name="jobs"), key=lambda h: h.id)
        return next(k for k, h in enumerate(points, 1) if h.data[queues.VISIBLE] == 0)

    assert [emptied_after(n) for n in (3, 6, 10)] == [10, 5, 3]  # 1200 ÷ (n × 40), rounded up


def test_backlog_per_task_is_visible_over_running_tasks(make):
    store = make(4, queue(initial=1000, rate=100, per_task=30))  # the core model's worked example
    LocalBackend(store).tick(timedelta(minutes=1))
    metrics = queues.queue_metrics(LocalBackend(store).world, "jobs")
    assert (metrics[queues.VISIBLE], metrics[queues.NOT_VISIBLE], metrics[queues.RUNNING_TASKS]) == (980, 4, 4)
    assert metrics[queues.BACKLOG] == 245.0
    assert queues.backlog_per_task(LocalBackend(store).world, "prod", "worker") == 245.0
    assert queues.backlog_per_task(LocalBackend(store).world, "prod", "other") is None
    assert queues.service_metrics(LocalBackend(store).world, "prod", "worker") == {
        "ApproximateNumberOfMessagesVisible": 980.0, "BacklogPerTask": 245.0}
    assert queues.service_metrics(LocalBackend(store).world, "prod", "other") == {}


def test_without_a_running_task_there_is_no_backlog_per_task(make):
    store = make(0, queue(initial=10, rate=1))
    LocalBackend(store).tick(timedelta(minutes=5))
    metrics = queues.queue_metrics(LocalBackend(store).world, "jobs")
    assert metrics[queues.VISIBLE] == 15 and metrics[queues.BACKLOG] is None
    assert queues.backlog_per_task(LocalBackend(store).world, "prod", "worker") is None


def test_a_tick_that_ends_mid_minute_takes_that_share_of_the_minute(make):
    store = make(0, queue(rate=60))
    LocalBackend(store).tick(timedelta(seconds=30))
    assert visible(store) == 30
    LocalBackend(store).tick(timedelta(seconds=90))
    assert visible(store) == 120


def test_get_queues_shows_the_metrics(make):
    from ecsctl.cli.app import app

    store = make(6, queue(initial=600))
    LocalBackend(store).tick(timedelta(minutes=10))
    import json
    rows = json.loads(CliRunner().invoke(app, ["get", "queues", "--state", str(store.path), "-o", "json"]).stdout)
    assert rows == [{"name": "jobs", "time": "2026-01-01T00:10:00Z", "ApproximateNumberOfMessagesVisible": 2200,
                     "ApproximateNumberOfMessagesNotVisible": 6, "RunningTaskCount": 6,
                     "BacklogPerTask": pytest.approx(2200 / 6), "consumers": ["prod/worker"]}]
    missing = CliRunner().invoke(app, ["get", "queues", "nope", "--state", str(store.path)])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == 'error: queue "nope" not found (`ecsctl get queues` lists them)'


def test_datapoints_are_kept_as_long_as_cloudwatch_keeps_them(make, monkeypatch):
    """CloudWatch keeps 1-minute datapoints for 15 days: once a simulated hour, the older ones go,
    so a long tick's state stops growing (here the retention is 2 hours, to tick 5 of them)."""
    from ecsctl.backends.local import tasks

    monkeypatch.setattr(tasks, "METRIC_RETENTION", timedelta(hours=2))
    store = make(6, queue(initial=1000))  # the queue grows: a datapoint every minute
    LocalBackend(store).tick(timedelta(hours=5))
    points = sorted(h.at for h in store.find(HistoryEntry, kind=queues.QUEUE_METRIC, name="jobs"))
    clock = tasks.parse_clock(store.clock())
    # pruned at the last full hour, 5:00, of everything before 3:00; kept from then to 5:00
    assert tasks.parse_clock(points[0]) == clock - timedelta(hours=2) and points[-1] == store.clock()
    assert len(points) == 2 * 60 + 1
