"""Targets a load balancer cannot reach fail their health checks, in the plan as in apply.

The seed's note: "to integrate to ALB by using dynamic port mapping … remember to let all
traffic coming from your ALB into your EC2 instances".  A bridge service moving from a static
host port (admitted by the instances' security group) to dynamic host ports (32768–61000, not
admitted) starts tasks that ECS stops with ``Task failed ELB health checks in (target-group …)``;
with the circuit breaker the deployment fails after ``breaker_threshold(desired)`` of them and
rolls back; without it, it never reaches steady state.  Counts are derived by hand from
DESIGN §6 (desired 4, 100 %/200 %: all 4 new tasks start in the first move) and the breaker's
threshold ``max(3, ceil(0.5 × 4)) = 3``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecsctl.app.outcome import apply_outcome
from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
from ecsctl.backends.local import check_invariants
from ecsctl.cli.render.plan import render_plan_text
from ecsctl.core.state.ports import Deployment, Task
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import doc, write_stack

ALB = "sg-0aaa000000000000a"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/6d0ecf831eec9f09"
FIX = "allow tcp 32768–61000 from alb on instances"  # the groups as the manifests name them


def stack(host_port: int, *, breaker: bool = True, rollback: bool = True, instance_rules=None) -> list[dict]:
    rules = instance_rules if instance_rules is not None else [
        {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "userIdGroupPairs": [{"groupId": ALB}]}]
    td = {"requiresCompatibilities": ["EC2"], "networkMode": "bridge", "containerDefinitions": [
        {"name": "app", "image": "nginx:1.27", "essential": True, "cpu": 128, "memory": 256,
         "portMappings": [{"containerPort": 80, "hostPort": host_port}]}]}
    deployment = {"minimumHealthyPercent": 100, "maximumPercent": 200}
    if breaker:
        deployment["deploymentCircuitBreaker"] = {"enable": True, "rollback": rollback}
    return [
        doc("SecurityGroup", "alb", {"groupId": ALB, "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]}),
        doc("SecurityGroup", "instances", {"ipPermissions": rules}),
        doc("TargetGroup", "web", {"port": 80, "protocol": "HTTP", "targetType": "instance", "securityGroups": ["alb"]}),
        doc("Cluster", "prod", {"containerInstances": [
            {"name": "general", "count": 4, "instanceType": "m5.large", "availabilityZone": "eu-west-1a",
             "securityGroups": ["instances"]}]}),
        doc("TaskDefinition", "web", td),
        doc("Service", "web", {"cluster": "prod", "taskDefinition": "web", "desiredCount": 4, "launchType": "EC2",
                               "deploymentConfiguration": deployment,
                               "loadBalancers": [{"targetGroupArn": TG_ARN, "containerName": "app", "containerPort": 80}]}),
    ]


@pytest.fixture
def store(tmp_path: Path):
    with SqliteStateStore(str(tmp_path / "state.db")) as s:
        yield s


def plan_of(tmp_path: Path, docs: list[dict], store, name: str = "m"):
    return make_plan(read_manifests([str(write_stack(tmp_path / name, docs))]), store)


def apply(tmp_path: Path, docs: list[dict], store, name: str):
    plan = plan_of(tmp_path, docs, store, name)
    apply_plan(plan, store, backend_for(store))
    assert check_invariants(store) == []
    return plan


def running(store) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in store.find(Task, service="web", last_status="RUNNING"):
        out[t.task_definition] = out.get(t.task_definition, 0) + 1
    return out


def test_static_port_admitted_runs_healthy(tmp_path: Path, store) -> None:
    apply(tmp_path, stack(8080), store, "a")
    assert running(store) == {"web:1": 4}
    assert not [t for t in store.find(Task, service="web") if "health checks" in (t.stop_reason or "")]


def test_dynamic_ports_not_admitted_fail_and_roll_back(tmp_path: Path, store) -> None:
    apply(tmp_path, stack(8080), store, "a")
    plan = plan_of(tmp_path, stack(0), store, "b")
    (dep,) = plan.deployments
    assert dep["outcome"] == "failed"
    assert dep["rolledBackTo"] == "web:1"
    assert "Task failed ELB health checks in (target-group web)" in dep["reason"]
    assert "the circuit breaker would stop it after 3 failed tasks and rollback to web:1" in dep["reason"]
    assert dep["fix"] == FIX
    text = render_plan_text(plan, color=False)
    assert FIX in text

    apply_plan(plan, store, backend_for(store))
    assert check_invariants(store) == []
    # the plan said it: the old revision keeps running (it never dropped below 100 %)
    assert running(store) == {"web:1": 4}
    failed = [t for t in store.find(Task, service="web", task_definition="web:2")]
    assert len(failed) >= 3 and all(t.last_status == "STOPPED" for t in failed)
    assert {t.stop_reason for t in failed} == {f"Task failed ELB health checks in (target-group {TG_ARN})"}
    deps = {d.task_definition: d for d in store.find(Deployment, service="web") if d.task_definition == "web:2"}
    assert deps["web:2"].rollout_state == "FAILED"
    events = [e.message for e in store.service_events("prod", "web")]
    assert any("is unhealthy in (target-group" in e and "due to (reason Request timed out)" in e for e in events)


def test_without_breaker_never_steady(tmp_path: Path, store) -> None:
    apply(tmp_path, stack(8080, breaker=False), store, "a")
    plan = plan_of(tmp_path, stack(0, breaker=False), store, "b")
    (dep,) = plan.deployments
    assert dep["outcome"] == "stalled"  # as apply judges it: the deployment stays IN_PROGRESS
    assert "no deployment circuit breaker: ECS would keep starting tasks that fail" in dep["reason"]
    apply_plan(plan, store, backend_for(store))
    assert running(store) == {"web:1": 4}
    (new,) = [d for d in store.find(Deployment, service="web") if d.task_definition == "web:2"]
    assert new.rollout_state == "IN_PROGRESS"
    [after] = apply_outcome(plan, store)["deployments"]
    assert after["result"] == dep["outcome"]


def test_the_fixed_security_group_lets_the_deployment_finish(tmp_path: Path, store) -> None:
    opened = [{"ipProtocol": "tcp", "fromPort": 32768, "toPort": 61000, "userIdGroupPairs": [{"groupId": "alb"}]}]
    apply(tmp_path, stack(8080), store, "a")
    plan = plan_of(tmp_path, stack(0, instance_rules=opened), store, "b")
    (dep,) = plan.deployments
    assert dep["outcome"] == "complete"
    apply_plan(plan, store, backend_for(store))
    assert running(store) == {"web:2": 4}


def test_closing_a_group_stops_running_tasks(tmp_path: Path, store) -> None:
    """No deployment: the instances' group stops admitting the load balancer; ECS stops the tasks
    as their targets fail, and the replacements fail alike."""
    apply(tmp_path, stack(8080), store, "a")
    plan = plan_of(tmp_path, stack(8080, instance_rules=[]), store, "b")
    (p,) = [p for p in plan.predictions if p["address"] == "service/prod/web"]
    assert (p["wanted"], p["placeable"], p["short"]) == (4, 0, 4)
    assert p["failing"].startswith("Task failed ELB health checks in (target-group web)")
    assert p["fix"] == "allow tcp 8080 from alb on instances"
    apply_plan(plan, store, backend_for(store))
    assert check_invariants(store) == []
    assert running(store) == {}


def test_no_security_groups_declared_means_nothing_is_judged(tmp_path: Path, store) -> None:
    docs = [d for d in stack(0) if d["kind"] != "SecurityGroup"]
    apply(tmp_path, docs, store, "a")
    assert running(store) == {"web:1": 4}
