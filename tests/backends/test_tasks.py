"""Standalone tasks (run-task, stop-task) and the clock (tick) in the local simulation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local import tasks as local_tasks
from ecsctl.backends.local.tasks import RunTaskRequest, run_task, stop_task
from ecsctl.backends.local.world import subnet_block
from ecsctl.app.tasks import parse_constraint, parse_duration, parse_strategy
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import ContainerInstance, Service, TargetRegistration, Task
from ecsctl.errors import EcsctlError, InputError, UsageError
from ecsctl.storage.sqlite_store import SqliteStateStore

AZS = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
SUBNETS = ["subnet-3", "subnet-1", "subnet-2"]

WORKER = {
    "family": "worker", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{
        "name": "worker", "image": "worker:1", "cpu": 256, "memory": 512,
        "portMappings": [{"containerPort": 9102, "hostPort": 0, "protocol": "tcp"}],
    }],
}
STATIC = {  # a static host port: one per instance
    "family": "static", "networkMode": "bridge",
    "containerDefinitions": [{"name": "s", "image": "s:1", "cpu": 128, "memory": 128,
                              "portMappings": [{"containerPort": 80, "hostPort": 8080}]}],
}
HUGE = {
    "family": "huge", "networkMode": "bridge",
    "containerDefinitions": [{"name": "h", "image": "h:1", "cpu": 128, "memory": 100_000}],
}
PINNED = {  # the task definition's own memberOf
    "family": "pinned", "networkMode": "bridge",
    "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.availability-zone == eu-west-1b"}],
    "containerDefinitions": [{"name": "p", "image": "p:1", "cpu": 128, "memory": 128}],
}
WEB = {
    "family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
    "cpu": "512", "memory": "1024",
    "containerDefinitions": [{"name": "web", "image": "web:1",
                              "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}],
}


def cluster_spec(per_az: int = 1) -> dict:
    return {"containerInstances": [
        {"name": f"general-{az[-1]}", "count": per_az, "instanceType": "m5.large",
         "availabilityZone": az, "attributes": {"tier": "general" if az != "eu-west-1c" else "batch"}}
        for az in AZS]}


_seq = iter(range(1, 100_000))


def step(action: str, kind: str, name: str, spec: dict) -> Step:
    return Step(id=f"s{next(_seq)}", action=action, address=address(kind, name, spec),
                kind=kind, name=name, spec=spec, before=None)


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStateStore(tmp_path / "state.db")
    backend = LocalBackend(s)
    for st in (step("create", "Cluster", "prod", cluster_spec(1)),
               *(step("create", "TaskDefinition", td["family"], td) for td in (WORKER, STATIC, HUGE, PINNED, WEB)),
               step("create", "Service", "worker", {"cluster": "prod", "taskDefinition": "worker",
                                                    "desiredCount": 3, "launchType": "EC2",
                                                    "loadBalancers": [{"targetGroupArn": "worker-tg", "containerName": "worker",
                                                                       "containerPort": 9102}]})):
        backend.apply_step(st)
    backend.settle()
    assert check_invariants(s) == []
    yield s
    assert check_invariants(s) == []
    s.close()


def run(store, **kw) -> local_tasks.RunTaskResult:
    kw.setdefault("cluster", "prod")
    backend = LocalBackend(store)
    result = run_task(backend.world, RunTaskRequest(**kw))
    backend.commit()
    assert check_invariants(store) == []
    return result


def stop(store, task_id: str, reason: str | None = None):
    backend = LocalBackend(store)
    out = stop_task(backend.world, task_id, reason)
    backend.commit()
    return out


def instance_az(store, inst_id: str) -> str:
    return store.get(ContainerInstance, inst_id).availability_zone


# ---------------------------------------------------------------------------------------------
# run-task


def test_run_task_on_ec2_bridge_with_dynamic_ports(store):
    result = run(store, task_definition="worker", count=3)
    assert result.failures == [] and len(result.tasks) == 3
    for t in result.tasks:
        stored = store.get(Task, t.id)
        assert stored.last_status == "RUNNING" and stored.service is None
        assert stored.started_by == "ecsctl run-task" and stored.group == "family:worker"
        assert stored.task_definition == "worker:1" and stored.launch_type == "EC2"
        assert stored.instance_id and len(stored.host_ports) == 1 and 32768 <= stored.host_ports[0] <= 61000
        assert stored.availability_zone == instance_az(store, stored.instance_id)
    # default spread: one per AZ
    assert {t.availability_zone for t in result.tasks} == set(AZS)
    inst = store.get(ContainerInstance, result.tasks[0].instance_id)
    assert inst.running_tasks_count == 2  # a worker service task and ours


def test_run_task_on_fargate_spreads_over_the_subnets_azs(store):
    result = run(store, task_definition="web", count=4, launch_type="FARGATE", subnets=SUBNETS)
    assert result.failures == []
    assert [t.instance_id for t in result.tasks] == [None] * 4
    assert all(t.launch_type == "FARGATE" and t.host_ports == () for t in result.tasks)
    azs = [t.availability_zone for t in result.tasks]
    assert sorted(azs) == sorted(["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a"])


def test_run_task_awsvpc_tasks_get_an_ip_from_one_of_the_given_subnets(store):
    import ipaddress

    result = run(store, task_definition="web", count=4, launch_type="FARGATE", subnets=SUBNETS)
    subnet_of = dict(zip(AZS, sorted(SUBNETS)))
    for t in result.tasks:
        stored = store.get(Task, t.id)
        assert stored == t and stored.subnet == subnet_of[stored.availability_zone]
        assert ipaddress.IPv4Address(stored.private_ip) in subnet_block(stored.subnet)
    assert len({(t.subnet, t.private_ip) for t in result.tasks}) == 4
    # EC2 awsvpc: the subnet of the instance's AZ; a stopped task's address is handed out again
    ec2 = run(store, task_definition="web", count=3, launch_type="EC2", subnets=["subnet-9", "subnet-8", "subnet-7"])
    assert len(ec2.tasks) == 3 and all(t.instance_id for t in ec2.tasks)
    ec2_subnets = dict(zip(AZS, ["subnet-7", "subnet-8", "subnet-9"]))
    assert all(t.subnet == ec2_subnets[t.availability_zone] for t in ec2.tasks)
    first = ec2.tasks[0]
    stop(store, first.id)
    again = run(store, task_definition="web", count=1, launch_type="EC2", subnets=[first.subnet])
    assert again.tasks[0].subnet == first.subnet  # its AZ's subnet, or else the first one given
    assert again.tasks[0].private_ip == first.private_ip
    # bridge tasks take none
    worker = run(store, task_definition="worker", count=1)
    assert (worker.tasks[0].subnet, worker.tasks[0].private_ip) == ("", "")


@pytest.mark.parametrize("kw, message", [
    (dict(task_definition="worker", count=11), "count must be between 1 and 10"),
    (dict(task_definition="worker", count=0), "count must be between 1 and 10"),
    (dict(task_definition="web", launch_type="FARGATE"),
     "Network Configuration must be provided when networkMode 'awsvpc' is specified."),
    (dict(task_definition="worker", subnets=["s-1"]), "Network Configuration is not valid"),
    (dict(task_definition="worker", launch_type="FARGATE"), "does not support launch_type FARGATE"),
    (dict(task_definition="worker", launch_type="EXTERNAL"), "launch type must be EC2 or FARGATE"),
    (dict(task_definition="nope"), "has no ACTIVE revision"),
    (dict(task_definition="worker:7"), "is not registered"),
    (dict(task_definition="worker", cluster="other"), "Cluster not found"),
    (dict(task_definition="worker", constraints=[{"type": "memberOf", "expression": "attribute:x =="}]), "memberOf"),
    (dict(task_definition="worker", constraints=[{"type": "memberOf", "expression": "attribute:a == b"}] * 11),
     "at most 10 placement constraints"),
    (dict(task_definition="pinned", constraints=[{"type": "distinctInstance"}] * 10),
     "at most 10 placement constraints"),
    (dict(task_definition="worker", strategies=[{"type": "random"}] * 6), "at most 5 placement strategies"),
    (dict(task_definition="worker", strategies=[{"type": "binpack", "field": "disk"}]), "binpack"),
    (dict(task_definition="worker", group="x" * 256), "group must be"),
])
def test_run_task_refusals(store, kw, message):
    before = len(store.find(Task))
    with pytest.raises(EcsctlError, match=None) as info:
        run(store, **kw)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert len(store.find(Task)) == before


def test_count_over_ten_is_a_usage_error(store):
    with pytest.raises(UsageError, match="count must be between 1 and 10"):
        run(store, task_definition="worker", count=11)


def test_group_default_and_custom(store):
    default = run(store, task_definition="worker").tasks[0]
    custom = run(store, task_definition="worker", group="batch-jobs").tasks[0]
    assert default.group == "family:worker" and custom.group == "batch-jobs"


def test_member_of_is_honoured_and_combined_with_the_task_definitions(store):
    result = run(store, task_definition="worker", count=4,
                 constraints=[{"type": "memberOf", "expression": "attribute:tier == general"}])
    assert {t.availability_zone for t in result.tasks} == {"eu-west-1a", "eu-west-1b"}
    pinned = run(store, task_definition="pinned", count=2)
    assert {t.availability_zone for t in pinned.tasks} == {"eu-west-1b"}
    # the task definition's constraint and ours together: nothing matches both
    none = run(store, task_definition="pinned",
               constraints=[{"type": "memberOf", "expression": "attribute:tier == batch"}])
    assert none.tasks == [] and none.failures[0]["reason"] == "MemberOf placement constraint unsatisfied"


def test_distinct_instance_leaves_failures_beyond_one_per_instance(store):
    result = run(store, task_definition="worker", count=5, group="g", constraints=[{"type": "distinctInstance"}])
    assert len(result.tasks) == 3 and len({t.instance_id for t in result.tasks}) == 3
    assert len(result.failures) == 2
    assert {f["reason"] for f in result.failures} == {"DISTINCT_INSTANCE"}


def test_static_ports_and_memory_failures_carry_ecs_reasons(store):
    result = run(store, task_definition="static", count=5)
    assert len(result.tasks) == 3
    assert {t.host_ports for t in result.tasks} == {(8080,)}
    assert [f["reason"] for f in result.failures] == ["RESOURCE:PORTS"] * 2
    assert all(f["instance"] and f["arn"] == f["instance"] for f in result.failures)
    assert "is already using a port required by your task" in result.failures[0]["detail"]
    huge = run(store, task_definition="huge")
    assert huge.tasks == [] and huge.failures[0]["reason"] == "RESOURCE:MEMORY"


def test_strategies_are_used(store):
    packed = run(store, task_definition="worker", count=3, group="packed",
                 strategies=[{"type": "binpack", "field": "memory"}])
    assert len({t.instance_id for t in packed.tasks}) == 1


def test_empty_cluster_is_an_error(tmp_path):
    s = SqliteStateStore(tmp_path / "empty.db")
    backend = LocalBackend(s)
    backend.apply_step(step("create", "Cluster", "empty", {}))
    backend.apply_step(step("create", "TaskDefinition", "worker", WORKER))
    with pytest.raises(InputError, match="No Container Instances were found in your cluster."):
        run_task(LocalBackend(s).world, RunTaskRequest(cluster="empty", task_definition="worker"))
    s.close()


# ---------------------------------------------------------------------------------------------
# stop-task and tick


def test_stop_task_releases_resources_and_targets(store):
    task = store.find(Task, service="worker", last_status="RUNNING")[0]
    assert store.find(TargetRegistration, task_id=task.id)
    stopped, changed = stop(store, task.id, None)
    assert changed and stopped.last_status == "STOPPED" and stopped.desired_status == "STOPPED"
    assert stopped.stop_code == "UserInitiated" and stopped.stop_reason == "Task stopped by user"
    assert stopped.stopped_at == store.clock()
    assert store.find(TargetRegistration, task_id=task.id) == []
    assert store.get(Service, "prod", "worker").running_count == 2
    assert store.get(ContainerInstance, task.instance_id).running_tasks_count == 0
    again, changed = stop(store, task.id, "other")  # again: nothing changes
    assert not changed and again.stop_reason == "Task stopped by user"
    assert check_invariants(store) == []


def test_stop_task_unknown_id(store):
    with pytest.raises(InputError, match="The referenced task was not found"):
        stop(store, "0123456789abcdef", None)


def test_stop_then_tick_brings_the_service_back_with_a_new_task(store):
    victim = store.find(Task, service="worker", last_status="RUNNING")[0]
    stop(store, victim.id, "testing")
    assert store.get(Task, victim.id).stop_reason == "testing"
    result = LocalBackend(store).tick(timedelta(seconds=90))
    assert (result.from_time, result.to_time) == ("2026-01-01T00:00:00Z", "2026-01-01T00:01:30Z")
    assert store.clock() == "2026-01-01T00:01:30Z"
    assert len(result.started) == 1 and result.started[0].id != victim.id
    assert result.started[0].started_at == "2026-01-01T00:01:00Z"  # replaced at the first simulated minute
    running = store.find(Task, service="worker", last_status="RUNNING")
    assert len(running) == 3 and victim.id not in {t.id for t in running}
    assert store.get(Service, "prod", "worker").running_count == 3
    assert any("has started 1 tasks" in e.message for e in result.events)
    assert check_invariants(store) == []
    quiet = LocalBackend(store).tick(timedelta(hours=2))  # nothing lost: a tick only moves the clock
    assert quiet.started == [] and quiet.stopped == []
    assert store.clock() == "2026-01-01T02:01:30Z"


def test_tick_handlers_are_called_minute_by_minute(store):
    seen = []
    handler = lambda w, a, b: seen.append((w.now(), a, b))  # noqa: E731
    LocalBackend(store).tick(timedelta(minutes=15, seconds=30), handlers=[handler])
    assert len(seen) == 16 and seen[0][0] == "2026-01-01T00:01:00Z" and seen[-1][0] == "2026-01-01T00:15:30Z"
    assert all(b - a == timedelta(minutes=1) for _, a, b in seen[:-1]) and seen[-1][2] - seen[-1][1] == timedelta(seconds=30)
    assert all(seen[k][2] == seen[k + 1][1] for k in range(15))  # the windows (a, b] follow each other
    assert handler not in local_tasks.TICK_HANDLERS  # handlers given to one tick are not registered
    from ecsctl.backends.local import managed_scaling, scaling

    # Service Auto Scaling is registered by importing the backend, before capacity providers scale
    # (issue 10: "scaling policies evaluate, capacity providers scale, services replace lost tasks").
    handlers = local_tasks.TICK_HANDLERS
    assert handlers.index(scaling.scale_services) < handlers.index(managed_scaling.scale_capacity_providers)
    # the registered handlers: finished batch tasks stop before due scheduled tasks fire
    from ecsctl.backends.local import exits, schedules
    registered = local_tasks.TICK_HANDLERS
    assert registered.index(exits.finish_exited) < registered.index(schedules.fire_due)


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("0s", 0),
    ("1h30m", 5400), ("2d12h", 216000), ("1d2h3m4s", 93784), ("1h90m", 9000), ("0", 0), ("00", 0), ("0m", 0),
    ("0000000000001s", 1),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "90", "s", "1.5h", "-1m", "30m1h", "1h1h", "1h 30m", " 2h", "2h ", "2H", "1w", "2 h", "١٢s", "99999d"])
def test_parse_duration_refuses(text):
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["99999d", "99999999999d", "1" + "0" * 5000 + "s"])
def test_a_duration_too_long_says_so_not_that_the_number_is_malformed(text):
    with pytest.raises(UsageError, match="is too long"):
        parse_duration(text)


@pytest.mark.parametrize("text, want", [
    ("distinctInstance", {"type": "distinctInstance"}),
    ("memberOf:attribute:tier == general", {"type": "memberOf", "expression": "attribute:tier == general"}),
])
def test_parse_constraint(text, want):
    assert parse_constraint(text) == want


@pytest.mark.parametrize("text", ["memberOf", "memberOf:", "distinctInstance:x", "affinity:x"])
def test_parse_constraint_refuses(text):
    with pytest.raises(UsageError):
        parse_constraint(text)


@pytest.mark.parametrize("text, want", [
    ("binpack:memory", {"type": "binpack", "field": "memory"}),
    ("spread:attribute:ecs.availability-zone", {"type": "spread", "field": "attribute:ecs.availability-zone"}),
    ("random", {"type": "random"}),
])
def test_parse_strategy(text, want):
    assert parse_strategy(text) == want


@pytest.mark.parametrize("text", ["binpack", "spread:", "random:x", "pack:cpu"])
def test_parse_strategy_refuses(text):
    with pytest.raises(UsageError):
        parse_strategy(text)
