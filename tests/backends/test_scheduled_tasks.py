"""Scheduled tasks on the clock and batch tasks that finish, in the local simulation.

Worked examples: EventBridge's "rate expression starts when you create the rule" and the
Scheduler's daylight-saving rules ("your schedule invocation gets skipped if the cron
expression falls on a non-existent date and time ... runs only once and doesn't repeat",
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html); ECS's stop
lifecycle and ``EssentialContainerExited`` ("Task lifecycle", "stopped task error codes").
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local.exits import LIFECYCLE
from ecsctl.backends.local.firing import RULE_FIRING
from ecsctl.backends.local.world import LIVE_STATUSES
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import ContainerInstance, Task
from ecsctl.core.state.ports import HistoryEntry
from ecsctl.storage.sqlite_store import SqliteStateStore

SUBNETS = ["subnet-1", "subnet-2"]
CLUSTER = {"containerInstances": [{"name": "general", "count": 1, "instanceType": "m5.large",
                                   "availabilityZone": "eu-west-1a"}]}
REPORT = {  # Fargate, awsvpc: a job that runs 10 minutes
    "family": "report", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
    "containerDefinitions": [{"name": "report", "image": "report:1", "essential": True}],
    "x-ecsctl": {"runFor": "10m"},
}
PORTJOB = {  # EC2 bridge with a static host port: one per instance
    "family": "portjob", "networkMode": "bridge",
    "containerDefinitions": [{"name": "job", "image": "job:1", "cpu": 512, "memory": 1024, "essential": True,
                              "portMappings": [{"containerPort": 80, "hostPort": 8080}]},
                             {"name": "sidecar", "image": "side:1", "cpu": 128, "memory": 128, "essential": False,
                              "stopTimeout": 10}],
    "x-ecsctl": {"runFor": "10m", "exitCode": 3},
}
FOREVER = {"family": "forever", "networkMode": "bridge",
           "containerDefinitions": [{"name": "f", "image": "f:1", "cpu": 128, "memory": 128}],
           "x-ecsctl": {"runFor": "1m"}}

_seq = iter(range(1, 100_000))


def step(kind: str, name: str, spec: dict) -> Step:
    return Step(id=f"s{next(_seq)}", action="create", address=address(kind, name, spec), kind=kind, name=name,
                spec=spec, before=None)


def rule(name: str, expression: str, taskdef: str = "report", tz: str | None = None, **target) -> Step:
    spec = {"scheduleExpression": expression, "target": {
        "cluster": "prod", "taskDefinition": taskdef, "taskCount": 1, "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": SUBNETS}}, **target}}
    if tz:
        spec["scheduleExpressionTimezone"] = tz
    return step("ScheduledTask", name, spec)


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStateStore(tmp_path / "state.db")
    backend = LocalBackend(s)
    for st in (step("Cluster", "prod", CLUSTER),
               *(step("TaskDefinition", td["family"], td) for td in (REPORT, PORTJOB, FOREVER))):
        backend.apply_step(st)
    yield s
    assert check_invariants(s) == []
    s.close()


def set_clock(store, now: str) -> None:
    with store.transaction():
        store.set_clock(now)


def apply(store, *steps: Step) -> None:
    backend = LocalBackend(store)
    for st in steps:
        backend.apply_step(st)


def tick(store, duration: timedelta):
    return LocalBackend(store).tick(duration)


def firings(store, name: str) -> list[dict]:
    return [h.data for h in sorted(store.find(HistoryEntry, kind=RULE_FIRING, name=name), key=lambda h: h.id)]


def live(store) -> list[Task]:
    return [t for s in LIVE_STATUSES for t in store.find(Task, last_status=s)]


# -------------------------------------------------------------------------------- schedules


def test_rate_one_hour_over_a_three_hour_tick_runs_three_tasks(store):
    set_clock(store, "2026-01-01T10:00:00Z")
    apply(store, rule("hourly", "rate(1 hour)"))
    result = tick(store, timedelta(hours=3))
    assert [f["time"] for f in firings(store, "hourly")] == [
        "2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"]
    ran = [t for t in store.find(Task) if t.group == "family:report"]
    assert len(ran) == 3 and all(t.started_by == "events-rule/hourly" for t in ran)
    assert sorted(t.started_at for t in ran) == ["2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"]
    # the first two finished (10 minutes each), the last one has just started
    assert sorted(t.last_status for t in ran) == ["RUNNING", "STOPPED", "STOPPED"]
    assert len(result.started) == 3


def test_a_second_tick_continues_the_rate_from_the_rules_creation(store):
    set_clock(store, "2026-01-01T10:20:00Z")
    apply(store, rule("hourly", "rate(1 hour)"))
    tick(store, timedelta(minutes=30))
    tick(store, timedelta(minutes=30))
    tick(store, timedelta(hours=1))
    assert [f["time"] for f in firings(store, "hourly")] == ["2026-01-01T11:20:00Z", "2026-01-01T12:20:00Z"]


@pytest.mark.parametrize("expression, tz, start, hours, expected", [
    # midnight in Paris is 23:00 UTC in winter: the firing crosses the UTC day boundary
    ("cron(0 0 * * ? *)", "Europe/Paris", "2026-01-01T20:00:00Z", 6, ["2026-01-01T23:00:00Z"]),
    # 23:30 and 00:30 New York time, across its midnight (UTC-5 in January)
    ("cron(30 23,0 * * ? *)", "America/New_York", "2026-01-02T03:00:00Z", 4,
     ["2026-01-02T04:30:00Z", "2026-01-02T05:30:00Z"]),
    # spring forward in Paris, 2026-03-29 02:00 -> 03:00: 02:30 does not exist that night, skipped
    ("cron(30 2 * * ? *)", "Europe/Paris", "2026-03-28T00:00:00Z", 72,
     ["2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"]),
    # fall back in Paris, 2026-10-25 03:00 -> 02:00: 02:30 happens twice, fires once (the first)
    ("cron(30 2 * * ? *)", "Europe/Paris", "2026-10-24T12:00:00Z", 24, ["2026-10-25T00:30:00Z"]),
    # an hourly cron in wall-clock time across the spring change: 02:00 local never comes
    ("cron(0 1-3 29 3 ? 2026)", "Europe/Paris", "2026-03-28T22:00:00Z", 4,
     ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"]),
])
def test_cron_in_its_timezone_across_midnight_and_daylight_saving(store, expression, tz, start, hours, expected):
    set_clock(store, start)
    apply(store, rule("nightly", expression, tz=tz))
    tick(store, timedelta(hours=hours))
    assert [f["time"] for f in firings(store, "nightly")] == expected
    assert len([t for t in store.find(Task) if t.group == "family:report"]) == len(expected)


def test_at_fires_once_and_a_disabled_rule_never(store):
    set_clock(store, "2026-05-01T00:00:00Z")
    once = rule("once", "at(2026-05-01T09:30:00)", tz="Europe/Paris")
    off = rule("off", "rate(5 minutes)")
    off = replace(off, spec={**off.spec, "state": "DISABLED"})
    apply(store, once, off)
    tick(store, timedelta(days=2))
    assert [f["time"] for f in firings(store, "once")] == ["2026-05-01T07:30:00Z"]
    assert firings(store, "off") == []


def test_the_target_runs_through_run_task_with_its_group_overrides_and_tags(store):
    apply(store, rule("tagged", "rate(5 minutes)", group="nightly-jobs", taskCount=2,
                      tags=[{"key": "team", "value": "finance"}],
                      overrides={"containerOverrides": [{"name": "report", "command": ["--dry-run"]}]}))
    tick(store, timedelta(minutes=5))
    ran = store.find(Task, group="nightly-jobs")
    assert len(ran) == 2 and {t.launch_type for t in ran} == {"FARGATE"}
    assert {t.subnet for t in ran} == set(SUBNETS)  # spread over the subnets' zones
    from ecsctl.core.state.ports import SimState
    data = store.get(SimState, "TaskRun", ran[0].id).data
    assert data["tags"] == [{"key": "team", "value": "finance"}]
    assert data["overrides"]["containerOverrides"][0]["command"] == ["--dry-run"]


def test_every_failure_to_run_is_recorded(store):
    apply(store, rule("no-network", "rate(1 minute)", networkConfiguration=None),
          rule("too-big", "rate(1 minute)", taskdef="portjob", launchType="EC2", networkConfiguration=None,
               taskCount=2))
    tick(store, timedelta(minutes=1))
    (f,) = firings(store, "no-network")
    assert f["tasks"] == [] and "Network Configuration must be provided" in f["error"]
    (g,) = firings(store, "too-big")  # one static port 8080 per instance: the second is not placed
    assert len(g["tasks"]) == 1 and [x["reason"] for x in g["failures"]] == ["RESOURCE:PORTS"]
    assert "1 not placed: RESOURCE:PORTS" in g["message"]


# ---------------------------------------------------------------------------- batch tasks


def test_a_batch_task_goes_through_the_stop_lifecycle_and_gives_everything_back(store):
    inst = store.find(ContainerInstance)[0]
    apply(store, rule("job", "rate(1 minute)", taskdef="portjob", launchType="EC2", networkConfiguration=None))
    tick(store, timedelta(minutes=1))  # fires at 00:01
    apply(store, replace(rule("job", "rate(1 minute)"), action="delete", spec=None))
    (task,) = store.find(Task, group="family:portjob")
    held = store.get(ContainerInstance, inst.id)
    assert held.remaining_cpu == inst.registered_cpu - 640 and 8080 in held.reserved_ports
    tick(store, timedelta(minutes=10))  # the container exits at 00:11:00 sharp: DEACTIVATING
    t = store.get(Task, task.id)
    assert (t.last_status, t.desired_status) == ("DEACTIVATING", "STOPPED")
    assert store.get(ContainerInstance, inst.id).remaining_cpu == held.remaining_cpu  # still held
    tick(store, timedelta(minutes=1))
    t = store.get(Task, task.id)
    assert (t.last_status, t.stop_code, t.stop_reason, t.exit_code) == (
        "STOPPED", "EssentialContainerExited", "Essential container in task exited", 3)
    # 5 s DEACTIVATING, the sidecar's 10 s stopTimeout STOPPING, 5 s DEPROVISIONING (bridge)
    assert t.stopped_at == "2026-01-01T00:11:20Z"
    steps = [(h.data["status"], h.data["time"]) for h in sorted(store.find(HistoryEntry, kind=LIFECYCLE), key=lambda h: h.id)]
    assert steps == [("DEACTIVATING", "2026-01-01T00:11:00Z"), ("STOPPING", "2026-01-01T00:11:05Z"),
                     ("DEPROVISIONING", "2026-01-01T00:11:15Z"), ("STOPPED", "2026-01-01T00:11:20Z")]
    freed = store.get(ContainerInstance, inst.id)
    assert (freed.remaining_cpu, freed.remaining_memory) == (inst.registered_cpu, inst.registered_memory)
    assert 8080 not in freed.reserved_ports
    assert live(store) == []  # not replaced


def test_service_tasks_are_never_finished_by_the_extension(store):
    apply(store, step("Service", "svc", {"cluster": "prod", "taskDefinition": "forever", "desiredCount": 2,
                                         "launchType": "EC2"}))
    LocalBackend(store).settle()
    tick(store, timedelta(minutes=30))
    running = store.find(Task, last_status="RUNNING")
    assert len(running) == 2 and all(t.service == "svc" for t in running)
    assert store.find(Task, last_status="STOPPED") == []


def test_a_scheduled_job_runs_ends_and_the_cluster_is_empty_again(store):
    set_clock(store, "2026-01-01T00:30:00Z")
    apply(store, rule("nightly-report", "cron(0 2 * * ? *)", tz="Europe/Paris"))
    result = tick(store, timedelta(hours=1))
    assert [t.id for t in result.started] == [t.id for t in result.stopped] and len(result.started) == 1
    (job,) = store.find(Task, group="family:report")
    assert (job.started_at, job.stopped_at, job.stop_code) == (
        "2026-01-01T01:00:00Z", "2026-01-01T01:10:25Z", "EssentialContainerExited")
    assert live(store) == []
    assert job.private_ip  # kept on the stopped task, as describe-tasks shows its attachment


# ------------------------------------------------------------------------------ event rules

EVENT_RULES = {  # the comparison operators of "Content filtering in EventBridge event patterns"
    "big-csv": {"source": ["aws.s3"], "detail": {"object": {"key": [{"suffix": ".csv"}],
                                                             "size": [{"numeric": [">", 1048576]}]}}},
    "not-test": {"source": ["aws.s3"], "detail": {"bucket": {"name": [{"anything-but": {"prefix": "test-"}}]}}},
    "either": {"source": ["aws.s3"], "$or": [{"detail": {"reason": ["CopyObject"]}},
                                             {"detail": {"object": {"key": [{"wildcard": "incoming/*/urgent-*"}]}}}]},
    "ignore-case": {"detail-type": [{"equals-ignore-case": "object created"}], "detail": {"version-id": [{"exists": False}]}},
}


@pytest.mark.parametrize("bucket, key, size, reason, fired", [
    ("prod-uploads", "incoming/a.csv", 5242880, "PutObject", ["big-csv", "ignore-case", "not-test"]),
    ("test-uploads", "incoming/a.csv", 100, "PutObject", ["ignore-case"]),
    ("test-uploads", "incoming/2026/urgent-1.json", 100, "PutObject", ["either", "ignore-case"]),
    ("prod-uploads", "x.json", 1, "CopyObject", ["either", "ignore-case", "not-test"]),
])
def test_each_matching_event_rule_runs_its_task(store, bucket, key, size, reason, fired):
    from ecsctl.backends.local.event_bus import make_event, put_event

    apply(store, *(replace(rule(name, ""), spec={"eventPattern": pattern, "target": rule(name, "").spec["target"]})
                   for name, pattern in EVENT_RULES.items()))
    backend = LocalBackend(store)
    event = make_event(backend.world, "aws.s3", "Object Created",
                       {"bucket": {"name": bucket}, "object": {"key": key, "size": size}, "reason": reason})
    delivery = put_event(backend.world, event)
    backend.commit()
    assert delivery.matched == fired
    assert sorted(t.started_by for t in store.find(Task)) == [f"events-rule/{name}" for name in fired]
    assert all(firings(store, name)[0]["eventId"] == event["id"] for name in fired)


def test_a_rule_deleted_and_created_again_counts_its_rate_from_the_new_creation(store):
    set_clock(store, "2026-01-01T10:00:00Z")
    apply(store, rule("hourly", "rate(1 hour)"))
    tick(store, timedelta(minutes=90))
    apply(store, replace(rule("hourly", "rate(1 hour)"), action="delete", spec=None))
    tick(store, timedelta(minutes=10))
    apply(store, rule("hourly", "rate(1 hour)"))  # at 11:40
    tick(store, timedelta(hours=1))
    assert [f["time"] for f in firings(store, "hourly")] == ["2026-01-01T11:00:00Z", "2026-01-01T12:40:00Z"]


def test_a_capacity_provider_strategy_target_runs_on_fargate(store):
    apply(store, rule("spot", "rate(5 minutes)", launchType=None,
                      capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}]))
    spec = rule("spot", "rate(5 minutes)").spec
    assert spec["target"]["launchType"] == "FARGATE"  # the helper's default; the rule above overrode it
    tick(store, timedelta(minutes=5))
    (task,) = store.find(Task, group="family:report")
    assert (task.launch_type, task.instance_id) == ("FARGATE", None)
