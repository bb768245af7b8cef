"""The example stack's batch jobs and queue, through the pure parts the controller will call.

"An object lands in a bucket -> the rule matches -> its task runs with the object's key ->
the container exits -> the task stops", and "the nightly report fires once at 02:00 Paris
time and finishes", and "more worker tasks drain prod-jobs faster", on the documents of
manifests/ (the firing on ``tick`` and ``events put`` is the controller's; this checks
every decision it will delegate).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecsctl.app.validate import Validator, discover
from ecsctl.core.events.batch import batch_status
from ecsctl.core.events.pattern import matches
from ecsctl.core.events.recurrence import fire_times
from ecsctl.core.events.transform import ecs_overrides, transform_input
from ecsctl.core.extensions import strip_extensions
from ecsctl.core.queue.model import advance, arrivals_per_minute, consumers_of, initial_state

MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"
UTC = timezone.utc


@pytest.fixture(scope="module")
def docs():
    loaded = Validator().load(discover([str(MANIFESTS)]))
    return {(d.kind, d.name): d.spec for d in loaded.documents}


UPLOAD = {
    "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
    "source": "aws.s3", "account": "123456789012", "time": "2026-01-01T09:15:00Z", "region": "eu-west-1",
    "resources": ["arn:aws:s3:::acme-prod-uploads"],
    "detail": {"version": "0", "bucket": {"name": "acme-prod-uploads"},
               "object": {"key": "incoming/2026/01/01/batch-0042.csv", "size": 5242880, "etag": "b1946ac92492d2347c6235b4d2611184"},
               "request-id": "57H08PA84AB1JZW0", "requester": "123456789012", "reason": "PutObject"},
}


def test_an_upload_runs_the_ingest_task_which_then_stops(docs) -> None:
    rule = docs[("ScheduledTask", "ingest-on-upload")]
    assert matches(rule["eventPattern"], UPLOAD)
    assert not matches(rule["eventPattern"], {**UPLOAD, "detail": {**UPLOAD["detail"], "object": {"key": "archive/x.csv"}}})
    overrides = ecs_overrides(transform_input(rule["target"]["inputTransformer"], UPLOAD, rule_name="ingest-on-upload"),
                              rule["target"].get("overrides"))
    env = {e["name"]: e["value"] for e in overrides["containerOverrides"][0]["environment"]}
    assert env == {"S3_BUCKET": "acme-prod-uploads", "S3_KEY": "incoming/2026/01/01/batch-0042.csv"}
    td = docs[("TaskDefinition", "ingest")]
    started = datetime(2026, 1, 1, 9, 15, 30, tzinfo=UTC)
    statuses = [batch_status(td, started, started + timedelta(seconds=s), rule["target"]).last_status
                for s in (0, 179, 180, 185, 190, 205)]
    assert statuses == ["RUNNING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]
    assert "x-ecsctl" not in str(strip_extensions(rule["target"]))


def test_the_nightly_report_fires_once_at_two_in_paris_and_finishes(docs) -> None:
    rule = docs[("ScheduledTask", "nightly-report")]
    firings = list(fire_times(rule["scheduleExpression"], timezone=rule["scheduleExpressionTimezone"],
                              after=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2026, 1, 2, tzinfo=UTC)))
    assert firings == [datetime(2026, 1, 1, 1, 0, tzinfo=UTC)]  # 02:00 CET
    summer = list(fire_times(rule["scheduleExpression"], timezone=rule["scheduleExpressionTimezone"],
                             after=datetime(2026, 6, 30, 12, tzinfo=UTC), until=datetime(2026, 7, 1, 12, tzinfo=UTC)))
    assert summer == [datetime(2026, 7, 1, 0, 0, tzinfo=UTC)]  # 02:00 CEST
    phase = batch_status(docs[("TaskDefinition", "report")], firings[0], firings[0] + timedelta(minutes=13), rule["target"])
    assert (phase.last_status, phase.stop_code, phase.exit_code) == ("STOPPED", "EssentialContainerExited", 0)
    assert phase.exited_at == firings[0] + timedelta(minutes=12)


def test_more_workers_drain_prod_jobs_faster(docs) -> None:
    queue = docs[("Queue", "prod-jobs")]
    ((cluster, service, rate),) = consumers_of(queue)
    assert (cluster, service, rate) == ("prod", "worker", 40.0)

    def backlog_after_the_morning(tasks: int) -> int:
        state, t = initial_state(queue), datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        for _ in range(60):
            state = advance(state, arrivals=arrivals_per_minute(queue, t), consumers=[(tasks, rate)]).state
            t += timedelta(minutes=1)
        return state.visible

    # 400 a minute arrive from 08:00; 6 tasks handle 240, 10 exactly 400, 12 more than that
    assert [backlog_after_the_morning(n) for n in (6, 10, 12)] == [60 * 160, 0, 0]
