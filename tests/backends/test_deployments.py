"""Stepped (rolling) deployments in the local backend: DESIGN §6, ecs-semantics §5.3–5.4."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local.services import BREAKER_REASON, ordered
from ecsctl.core.deploy.bounds import STUCK_EVENT
from ecsctl.core.deploy.stepper import capacity, roll
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import Deployment, Service, Task
from ecsctl.storage.sqlite_store import SqliteStateStore

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"


def app(image: str = "app:1", cpu: int = 1024, **port) -> dict:
    """m5.large registers 2048 CPU units: two of these tasks per instance."""
    mapping = {"containerPort": 8080, "hostPort": 0, **port}
    return {"family": "app", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
            "containerDefinitions": [{"name": "app", "image": image, "cpu": cpu, "memory": 512,
                                      "portMappings": [mapping]}]}


def cluster_spec(count: int) -> dict:
    return {"containerInstances": [{"name": "general", "count": count, "instanceType": "m5.large",
                                    "availabilityZone": "eu-west-1a"}]}


def service(desired: int, min_pct: int = 100, max_pct: int = 200, **extra) -> dict:
    conf = {"minimumHealthyPercent": min_pct, "maximumPercent": max_pct, **extra.pop("conf", {})}
    return {"cluster": "prod", "taskDefinition": "app", "desiredCount": desired, "launchType": "EC2",
            "deploymentConfiguration": conf, **extra}


_seq = iter(range(1, 100_000))


def step(action: str, kind: str, name: str, spec: dict | None, before: dict | None = None) -> Step:
    return Step(id=f"d{next(_seq)}", action=action, address=address(kind, name, spec or before),
                kind=kind, name=name, spec=spec, before=before)


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStateStore(str(tmp_path / "state.db"))
    yield s
    assert check_invariants(s) == []
    s.close()


def apply(backend: LocalBackend, *steps: Step) -> None:
    """As apply_plan does: every step, then the scheduler settles."""
    for s in steps:
        backend.apply_step(s)
        assert check_invariants(backend.store) == [], s
    backend.settle()
    assert check_invariants(backend.store) == []


def setup(store, instances: int, desired: int, td: dict | None = None, **svc) -> tuple[LocalBackend, dict]:
    backend = LocalBackend(store)
    spec = service(desired, **svc)
    apply(backend, step("create", "Cluster", "prod", cluster_spec(instances)),
          step("create", "TaskDefinition", "app", td or app()),
          step("create", "Service", "app", spec))
    return backend, spec


def redeploy(backend: LocalBackend, spec: dict, new_td: dict, old_td: dict | None = None) -> None:
    apply(backend, step("update", "TaskDefinition", "app", new_td, old_td or app()),
          step("update", "Service", "app", spec, spec))


def running(store, td: str | None = None) -> list[Task]:
    found = store.find(Task, service="app", last_status="RUNNING")
    return [t for t in found if td is None or t.task_definition == td]


def events(store) -> list[str]:
    return [e.message for e in store.service_events("prod", "app")]


def deployments(store) -> list[Deployment]:
    return ordered(store, "prod", "app")


def recorded_steps(store, since: int) -> list[tuple[str, int]]:
    out = []
    for message in events(store)[since:]:
        for word in ("stopped", "started"):
            marker = f"service (app) has {word} "
            if message.startswith(marker):
                out.append((word, int(message[len(marker):].split()[0])))
    return out


def expected_steps(rollout) -> list[tuple[str, int]]:
    out = []
    for s in rollout.steps:
        if s.stop_old:
            out.append(("stopped", s.stop_old))
        if s.start_new:
            out.append(("started", s.start_new))
    return out


# ---------------------------------------------------------------------------------------------


def test_design_example_1_room_for_everything(store):
    backend, spec = setup(store, instances=4, desired=4, min_pct=50, max_pct=200)  # room for 8
    mark = len(events(store))
    redeploy(backend, spec, app("app:2"))
    assert len(running(store, "app:2")) == 4 and running(store, "app:1") == []
    assert recorded_steps(store, mark) == expected_steps(roll(4, 50, 200, 4)) == [
        ("stopped", 2), ("started", 4), ("stopped", 2)]
    old, new = deployments(store)
    assert (old.status, new.status, new.rollout_state) == ("INACTIVE", "PRIMARY", "COMPLETED")
    assert (new.task_definition, new.running_count, new.failed_tasks) == ("app:2", 4, 0)
    assert events(store)[-1] == "service (app) has reached a steady state."
    assert store.get(Service, "prod", "app").running_count == 4


def test_design_example_2_cluster_fits_8(store):
    backend, spec = setup(store, instances=4, desired=6)  # 4 x 2 tasks
    mark = len(events(store))
    redeploy(backend, spec, app("app:2"))
    assert len(running(store, "app:2")) == 6 and running(store, "app:1") == []
    expected = roll(6, 100, 200, 6, start=capacity(8, used=6))
    assert [s.as_tuple() for s in expected.steps] == [(0, 2, 6, 2), (2, 2, 4, 4), (2, 2, 2, 6), (2, 0, 0, 6)]
    assert recorded_steps(store, mark) == expected_steps(expected)
    assert [d.rollout_state for d in deployments(store)] == ["COMPLETED", "COMPLETED"]
    assert [d.status for d in deployments(store)] == ["INACTIVE", "PRIMARY"]


def test_bounds_that_leave_no_room_stall_with_the_ecs_event(store):
    backend, spec = setup(store, instances=2, desired=1, min_pct=100, max_pct=100)
    redeploy(backend, spec, app("app:2"))
    assert len(running(store, "app:1")) == 1 and running(store, "app:2") == []
    old, new = deployments(store)
    assert (old.status, old.running_count) == ("ACTIVE", 1)
    assert (new.status, new.rollout_state) == ("PRIMARY", "IN_PROGRESS")
    assert events(store)[-1] == f"service (app) {STUCK_EVENT}"


def test_stalled_by_ports_then_continued_after_adding_an_instance(store):
    edge = app(cpu=128, hostPort=80)
    backend, spec = setup(store, instances=2, desired=2, td=edge)
    edge2 = app("app:2", cpu=128, hostPort=80)
    redeploy(backend, spec, edge2, edge)
    # port 80 is taken on both instances and no old task may stop (lower = 2)
    assert len(running(store, "app:1")) == 2 and running(store, "app:2") == []
    old, new = deployments(store)
    assert (old.status, new.status, new.rollout_state) == ("ACTIVE", "PRIMARY", "IN_PROGRESS")
    assert "is already using a port required by your task." in events(store)[-1]
    assert events(store)[-1].startswith("service (app) was unable to place a task")

    mark = len(events(store))
    apply(backend, step("update", "Cluster", "prod", cluster_spec(3), cluster_spec(2)))
    assert len(running(store, "app:2")) == 2 and running(store, "app:1") == []
    assert recorded_steps(store, mark) == expected_steps(roll(2, 100, 200, 2, start=capacity(3, used=2)))
    old, new = deployments(store)
    assert (old.status, new.status, new.rollout_state) == ("INACTIVE", "PRIMARY", "COMPLETED")
    assert events(store)[-1] == "service (app) has reached a steady state."


def test_a_partly_done_rollout_continues_from_where_it_is(store):
    # D=4 100/150 (upper 6): 2 instances hold the 4 old tasks, nothing fits; a 3rd instance lets it go on
    backend, spec = setup(store, instances=2, desired=4, min_pct=100, max_pct=150)
    redeploy(backend, spec, app("app:2"))  # the cluster is full: stalled, nothing moved
    assert len(running(store, "app:1")) == 4 and running(store, "app:2") == []
    apply(backend, step("update", "Cluster", "prod", cluster_spec(3), cluster_spec(2)))
    assert len(running(store, "app:2")) == 4 and running(store, "app:1") == []
    assert deployments(store)[-1].rollout_state == "COMPLETED"


def test_desired_count_only_scales_the_primary_deployment(store):
    backend, spec = setup(store, instances=4, desired=2)
    bigger = {**spec, "desiredCount": 5}
    apply(backend, step("update", "Service", "app", bigger, spec))
    [dep] = deployments(store)
    assert (dep.status, dep.rollout_state, dep.running_count, dep.desired_count) == ("PRIMARY", "COMPLETED", 5, 5)


def _repo_setup(store, **conf):
    backend = LocalBackend(store)
    apply(backend, step("create", "Repository", "app", {"registryId": "123456789012", "images": ["1"]}))
    spec = service(2, conf=conf)
    apply(backend, step("create", "Cluster", "prod", cluster_spec(2)),
          step("create", "TaskDefinition", "app", app(f"{ECR}:1")),
          step("create", "Service", "app", spec))
    return backend, spec


def test_missing_image_trips_the_breaker_and_rolls_back(store):
    backend, spec = _repo_setup(store, deploymentCircuitBreaker={"enable": True, "rollback": True})
    first = {t.id for t in running(store)}
    assert len(first) == 2
    redeploy(backend, spec, app(f"{ECR}:2"), app(f"{ECR}:1"))
    failed = store.find(Task, service="app", last_status="STOPPED")
    assert len(failed) == 3  # breaker_threshold(2)
    assert all(t.stop_code == "TaskFailedToStart" and "CannotPullContainerError" in t.stop_reason
               and t.task_definition == "app:2" for t in failed)
    assert {t.id for t in running(store)} == first  # the old tasks never stopped
    original, bad, back = deployments(store)
    assert (bad.task_definition, bad.rollout_state, bad.rollout_state_reason, bad.failed_tasks) == (
        "app:2", "FAILED", BREAKER_REASON, 3)
    assert bad.status == "INACTIVE" and original.status == "INACTIVE"
    assert (back.task_definition, back.status, back.rollout_state, back.running_count) == (
        "app:1", "PRIMARY", "COMPLETED", 2)
    assert store.get(Service, "prod", "app").task_definition == "app:1"
    assert any("rolling back to app:1" in m for m in events(store))
    assert events(store)[-1] == "service (app) has reached a steady state."


def test_the_events_of_a_rollback_are_in_the_order_things_happened(store):
    """min 50 %: the step stops an old task and starts new ones that fail to start; ECS says so
    in that order (the stop, the starts, then the breaker and the rollback), not the stop last."""
    backend, spec = _repo_setup(store, minimumHealthyPercent=50,
                                deploymentCircuitBreaker={"enable": True, "rollback": True})
    mark = len(events(store))
    redeploy(backend, spec, app(f"{ECR}:2"), app(f"{ECR}:1"))
    said = [m.split(":")[0] for m in events(store)[mark:]]
    kinds = ["stopped" if "has stopped" in m else "started" if "has started" in m else
             "failed" if "deployment failed" in m else "back" if "rolling back" in m else None for m in said]
    kinds = [k for k in kinds if k]
    assert kinds.index("stopped") < kinds.index("started") < kinds.index("failed") < kinds.index("back"), said
    failed = {t.id for t in store.find(Task, service="app", last_status="STOPPED", task_definition="app:2")}
    before = " ".join(m for m in events(store)[mark:][:said.index(next(m for m in said if "deployment failed" in m))]
                      if "has started" in m)
    assert failed and all(f"(task {i})" in before for i in failed)  # the starts that failed were started


def test_breaker_without_rollback_fails_and_keeps_the_old_tasks(store):
    backend, spec = _repo_setup(store, deploymentCircuitBreaker={"enable": True, "rollback": False})
    redeploy(backend, spec, app(f"{ECR}:2"), app(f"{ECR}:1"))
    original, bad = deployments(store)
    assert (bad.status, bad.rollout_state, bad.failed_tasks) == ("PRIMARY", "FAILED", 3)
    assert (original.status, original.running_count) == ("ACTIVE", 2)
    backend.settle(["prod"])  # a FAILED deployment launches nothing more
    assert len(store.find(Task, service="app", last_status="STOPPED")) == 3
    assert len(running(store, "app:1")) == 2


def test_failing_starts_without_the_breaker_are_not_work_for_the_plan(store):
    """ECS retries such a deployment forever: counting its failed attempts as scheduler work
    would make every plan report a change (--detailed-exitcode 2) that no apply converges; the
    plan's deployment entry says it is stalled, with the failure, instead."""
    from ecsctl.app.forecast import forecast

    backend, spec = _repo_setup(store)
    redeploy(backend, spec, app(f"{ECR}:2"), app(f"{ECR}:1"))
    ahead = forecast([], store)
    assert ahead.reconcile == []
    [entry] = ahead.deployments
    assert (entry["to"], entry["outcome"]) == ("app:2", "stalled") and "CannotPullContainerError" in entry["reason"]
    # (a lost task to replace is work: tests/cli/test_plan_apply_cli.py)


def test_without_the_breaker_one_round_per_apply(store):
    backend, spec = _repo_setup(store)
    redeploy(backend, spec, app(f"{ECR}:2"), app(f"{ECR}:1"))
    _, dep = deployments(store)
    assert (dep.rollout_state, dep.failed_tasks) == ("IN_PROGRESS", 2)
    assert events(store)[-1] == "service (app) is unable to consistently start tasks successfully."
    backend.settle(["prod"])
    assert deployments(store)[-1].failed_tasks == 4
    assert len(running(store, "app:1")) == 2
    # the image appears: the next reconcile completes the rollout
    apply(backend, step("update", "Repository", "app", {"registryId": "123456789012", "images": ["1", "2"]},
                        {"registryId": "123456789012", "images": ["1"]}))
    backend.settle(["prod"])
    assert len(running(store, "app:2")) == 2 and running(store, "app:1") == []
    assert deployments(store)[-1].rollout_state == "COMPLETED"
