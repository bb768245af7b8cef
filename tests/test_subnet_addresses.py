"""A subnet with no free address left: awsvpc tasks cannot start there (EC2's
``InsufficientFreeAddressesInSubnet``), in the plan as in apply; never a crash.

The subnet is made small by lowering the simulation's last host offset (a /20 holds 4,091
task addresses; five are enough to show the rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
from ecsctl.backends.local import check_invariants
from ecsctl.backends.local import world as world_module
from ecsctl.core.state.ports import Service, Task
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import doc, write_stack

ADDRESSES = 5  # host offsets FIRST_HOST .. FIRST_HOST + 4


def stack(desired: int, image: str = "nginx:1.27") -> list[dict]:
    return [
        doc("Cluster", "prod", {}),
        doc("TaskDefinition", "api", {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256",
                                      "memory": "512", "containerDefinitions": [{"name": "app", "image": image, "essential": True}]}),
        doc("Service", "api", {"cluster": "prod", "taskDefinition": "api", "desiredCount": desired, "launchType": "FARGATE",
                               "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-only"]}}}),
    ]


@pytest.fixture
def small_subnets(monkeypatch):
    monkeypatch.setattr(world_module, "LAST_HOST", world_module.FIRST_HOST + ADDRESSES - 1)


def test_tasks_beyond_the_subnets_addresses_do_not_start(tmp_path: Path, small_subnets):
    directory = write_stack(tmp_path / "m", stack(desired=8))
    with SqliteStateStore(tmp_path / "state.db") as store:
        plan = make_plan(read_manifests([str(directory)]), store)
        (p,) = [p for p in plan.predictions if p["address"] == "service/prod/api"]
        assert p["placeable"] == ADDRESSES and p["wanted"] == 8
        apply_plan(plan, store, backend_for(store))
        running = store.find(Task, last_status="RUNNING")
        assert len(running) == ADDRESSES
        assert len({t.private_ip for t in running}) == ADDRESSES
        assert store.get(Service, "prod", "api").running_count == ADDRESSES
        events = [e.message for e in store.service_events("prod", "api")]
        assert any("InsufficientFreeAddressesInSubnet" in m and "subnet-only" in m for m in events), events
        assert check_invariants(store) == []


def test_a_deployment_that_needs_more_addresses_than_the_subnet_has_stalls(tmp_path: Path, small_subnets):
    """Desired 4 at 100 %/200 %: the deployment wants 4 new tasks beside the 4 old ones, but one
    address is free, so one new task starts and the roll goes on as addresses come back."""
    directory = write_stack(tmp_path / "m", stack(desired=4))
    with SqliteStateStore(tmp_path / "state.db") as store:
        apply_plan(make_plan(read_manifests([str(directory)]), store), store, backend_for(store))
        write_stack(directory, stack(desired=4, image="nginx:1.28"))
        plan = make_plan(read_manifests([str(directory)]), store)
        apply_plan(plan, store, backend_for(store))  # no crash; the plan said what apply does
        running = store.find(Task, last_status="RUNNING")
        (p,) = [p for p in plan.predictions if p["address"] == "service/prod/api"]
        after = {}
        for t in running:
            after[t.task_definition] = after.get(t.task_definition, 0) + 1
        assert after == p["tasks"]
        assert after.get("api:2", 0) >= 1  # the free address went to a new task
        assert len(running) <= ADDRESSES
        assert check_invariants(store) == []
