"""Batch tasks that finish (core.events.batch) and the x-ecsctl extension (core.extensions).

The states and their order are the ECS "Task lifecycle" page's
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html);
stopCode/stoppedReason the "stopped task error codes" page's.  The durations are the
module's documented modelling choice (AWS publishes none).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecsctl.core.events.batch import (
    BatchRun,
    batch_run,
    batch_status,
    extension_issues,
    parse_run_for,
    stop_phases,
    task_phase,
)
from ecsctl.core.extensions import strip_extensions

T0 = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)

FARGATE = {"networkMode": "awsvpc", "containerDefinitions": [{"name": "report", "essential": True}],
           "x-ecsctl": {"runFor": "10m"}}
WITH_SIDECARS = {"networkMode": "bridge", "containerDefinitions": [
    {"name": "job"}, {"name": "log", "essential": False, "stopTimeout": 10}, {"name": "proxy", "stopTimeout": 45}]}


@pytest.mark.parametrize(("spec", "seconds", "status"), [
    # awsvpc, one container: exits at 600 s, DEACTIVATING 5 s, STOPPING 5 s, DEPROVISIONING 15 s
    (FARGATE, 0, "RUNNING"),
    (FARGATE, 599, "RUNNING"),
    (FARGATE, 600, "DEACTIVATING"),
    (FARGATE, 605, "STOPPING"),
    (FARGATE, 610, "DEPROVISIONING"),
    (FARGATE, 624, "DEPROVISIONING"),
    (FARGATE, 625, "STOPPED"),
    (FARGATE, 86400, "STOPPED"),
])
def test_stop_lifecycle(spec, seconds, status) -> None:
    phase = batch_status(spec, T0, T0 + timedelta(seconds=seconds))
    assert phase.last_status == status
    assert phase.desired_status == ("RUNNING" if status == "RUNNING" else "STOPPED")


def test_stopping_lasts_the_other_containers_longest_stop_timeout() -> None:
    run = BatchRun(timedelta(minutes=1))
    phases = stop_phases(WITH_SIDECARS, run)
    assert (phases.deactivating, phases.stopping, phases.deprovisioning) == (
        timedelta(seconds=5), timedelta(seconds=45), timedelta(seconds=5))
    # without stopTimeout a container gets ECS's default 30 s
    assert stop_phases({"containerDefinitions": [{"name": "a"}, {"name": "b"}]}, run).stopping == timedelta(seconds=30)


def test_a_stopped_task_says_how_it_stopped() -> None:
    phase = batch_status(WITH_SIDECARS, T0, T0 + timedelta(hours=1), {"x-ecsctl": {"runFor": "90s", "exitCode": 2}})
    assert (phase.last_status, phase.stop_code, phase.stopped_reason, phase.exit_code, phase.container) == (
        "STOPPED", "EssentialContainerExited", "Essential container in task exited", 2, "job")
    assert phase.exited_at == T0 + timedelta(seconds=90)
    assert phase.stopped_at == T0 + timedelta(seconds=90 + 5 + 45 + 5)
    assert phase.next_change is None


def test_a_running_task_says_when_it_will_change() -> None:
    phase = batch_status(FARGATE, T0, T0 + timedelta(minutes=3))
    assert (phase.stop_code, phase.exit_code, phase.next_change) == ("", None, T0 + timedelta(minutes=10))


def test_overrides_apply_key_by_key_in_order() -> None:
    td = {"containerDefinitions": [{"name": "a"}], "x-ecsctl": {"runFor": "10m", "exitCode": 1}}
    rule_target = {"x-ecsctl": {"runFor": "5m"}}
    run = {"x-ecsctl": {"exitCode": 0}}
    assert batch_run(td) == BatchRun(timedelta(minutes=10), 1)
    assert batch_run(td, rule_target) == BatchRun(timedelta(minutes=5), 1)
    assert batch_run(td, rule_target, run) == BatchRun(timedelta(minutes=5), 0)
    assert batch_run({"containerDefinitions": []}, None, {}) is None


def test_without_run_for_a_task_runs_until_stopped() -> None:
    assert batch_status({"containerDefinitions": [{"name": "a"}]}, T0, T0 + timedelta(days=9)) is None


@pytest.mark.parametrize(("value", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), (0, 0), (45, 45)])
def test_run_for(value, seconds) -> None:
    assert parse_run_for(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["10 m", "10min", "-5s", -1, True, "1.5h", "", None, "99999d"])
def test_bad_run_for(value) -> None:
    with pytest.raises(ValueError):
        parse_run_for(value)


@pytest.mark.parametrize(("value", "fragment"), [
    ({"runFor": "10m", "exitCode": 0, "container": "job"}, None),
    ("10m", "must be a mapping"),
    ({"runfor": "10m"}, "has no field 'runfor'"),
    ({"runFor": "soon"}, "is not a duration"),
    ({"runFor": "1m", "exitCode": 256}, "0-255"),
    ({"runFor": "1m", "exitCode": "0"}, "0-255"),
    ({"runFor": "1m", "container": "log"}, "'log' is not an essential container"),
    ({"runFor": "1m", "container": "ghost"}, "'ghost' is not an essential container"),
])
def test_extension_issues(value, fragment) -> None:
    issues = extension_issues(value, WITH_SIDECARS)
    if fragment is None:
        assert issues == []
    else:
        assert any(fragment in message for _, message in issues), issues


def test_strip_extensions_removes_every_x_ecsctl_and_nothing_else() -> None:
    spec = {"family": "report", "x-ecsctl": {"runFor": "10m"},
            "containerDefinitions": [{"name": "r", "x-ecsctl": {"a": 1}, "environment": [{"name": "x-ecsctl", "value": "kept"}]}]}
    stripped = strip_extensions(spec)
    assert stripped == {"family": "report", "containerDefinitions": [
        {"name": "r", "environment": [{"name": "x-ecsctl", "value": "kept"}]}]}
    assert "x-ecsctl" in spec  # the input is untouched


def test_task_phase_reports_the_container_it_is_given() -> None:
    run = BatchRun(timedelta(seconds=10), 0)
    phase = task_phase(T0, run, T0 + timedelta(seconds=11), stop_phases(FARGATE, run), "report")
    assert (phase.last_status, phase.container) == ("DEACTIVATING", "report")
