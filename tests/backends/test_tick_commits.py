"""A long tick: one transaction per simulated minute that changed something, never one for the
whole tick; tasks that cannot be placed are not placed again every minute when nothing that
placement sees has changed (issue 13, "Concurrency")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ecsctl.backends.local import LocalBackend, check_invariants, controller
from ecsctl.backends.local.tasks import RunTaskRequest, run_task
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import Service, Task
from ecsctl.storage.sqlite_store import SqliteStateStore

APP = {  # m5.large registers 2048 CPU units: eight of these per instance
    "family": "app", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{"name": "app", "image": "app:1", "cpu": 256, "memory": 256,
                              "portMappings": [{"containerPort": 8080, "hostPort": 0}]}],
}
JOB = {  # a Fargate task that a rate(1 minute) rule would run
    "family": "job", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
    "containerDefinitions": [{"name": "job", "image": "job:1", "essential": True}],
}
CLUSTER = {"containerInstances": [{"name": "general", "count": 1, "instanceType": "m5.large",
                                   "availabilityZone": "eu-west-1a"}]}


def step(n: int, kind: str, name: str, spec: dict) -> Step:
    return Step(id=f"s{n}", action="create", address=address(kind, name, spec), kind=kind, name=name, spec=spec)


@pytest.fixture
def backend(tmp_path: Path):
    store = SqliteStateStore(tmp_path / "state.db")
    b = LocalBackend(store)
    for n, (kind, name, spec) in enumerate([("Cluster", "prod", CLUSTER), ("TaskDefinition", "app", APP),
                                            ("TaskDefinition", "job", JOB)]):
        b.apply_step(step(n, kind, name, spec))
    b.apply_step(step(9, "Service", "app", {"cluster": "prod", "taskDefinition": "app", "desiredCount": 114,
                                            "launchType": "EC2"}))
    b.settle()
    svc = store.get(Service, "prod", "app")
    assert (svc.desired_count, svc.running_count) == (114, 8)  # 106 tasks cannot be placed
    yield b
    assert check_invariants(store) == []
    store.close()


def every_minute_a_job(world, a, b) -> None:
    """Something changes in the cluster every minute (a rule firing), nothing placement sees."""
    run_task(world, RunTaskRequest(cluster="prod", task_definition="job", launch_type="FARGATE",
                                   subnets=("subnet-1",)))


def test_a_long_tick_commits_each_minute(backend) -> None:
    store = backend.store
    serials: list[int] = []
    real = store.transaction

    def watched():
        if not store.in_transaction:  # an outermost transaction: one commit
            serials.append(store.meta().serial)
        return real()

    store.transaction = watched
    try:
        backend.tick(timedelta(minutes=30), handlers=[every_minute_a_job])
    finally:
        del store.transaction
    jobs = store.find(Task, group="family:job", last_status="RUNNING")
    assert len(jobs) == 30
    assert len(serials) == 31  # one transaction per minute, and the clock's last move
    assert store.meta().serial == serials[0] + 30  # each of them committed on its own


def test_unplaceable_tasks_are_not_placed_again_every_minute(backend, monkeypatch) -> None:
    placements: list[int] = []
    real = controller.launch.place_and_start

    def counted(world, cs, spec, count, *args, **kwargs):
        if spec.service is not None:  # the service's tasks, not the jobs
            placements.append(count)
        return real(world, cs, spec, count, *args, **kwargs)

    monkeypatch.setattr(controller.launch, "place_and_start", counted)
    backend.tick(timedelta(minutes=30), handlers=[every_minute_a_job])
    assert placements == [106], placements  # tried in the first minute, not again in each of 30
    svc = backend.store.get(Service, "prod", "app")
    assert (svc.running_count, svc.pending_count) == (8, 0)
