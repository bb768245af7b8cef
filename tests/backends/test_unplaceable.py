"""Service tasks that cannot be placed: ECS creates no task, records the event, and the service's
running count stays below its desired count until capacity appears (ecs-semantics §2.1, §5.2)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from ecsctl.app import lookup
from ecsctl.app.get import get
from ecsctl.backends.local import LocalBackend, check_invariants, lifecycle
from ecsctl.backends.local.tasks import stop_task
from ecsctl.backends.local.world import subnet_block
from ecsctl.core.controller import ids
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import ContainerInstance, Deployment, Service, TargetRegistration, Task
from ecsctl.storage.sqlite_store import SqliteStateStore

UNABLE = ("was unable to place a task because no container instance met all of its requirements. "
          "The closest matching container-instance ")

# m5.large registers 2048 CPU units: two of these tasks per instance
APP = {
    "family": "app", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{"name": "app", "image": "app:1", "cpu": 1024, "memory": 512,
                              "portMappings": [{"containerPort": 8080, "hostPort": 0}]}],
}
EDGE = {
    "family": "edge", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{"name": "edge", "image": "edge:1", "cpu": 128, "memory": 128,
                              "portMappings": [{"containerPort": 80, "hostPort": 80}]}],
}


def cluster_spec(count: int = 1, **extra) -> dict:
    return {"containerInstances": [{"name": "general", "count": count, "instanceType": "m5.large",
                                    "availabilityZone": "eu-west-1a", **extra}]}


def service(desired: int, td: str = "app", **extra) -> dict:
    return {"cluster": "prod", "taskDefinition": td, "desiredCount": desired, "launchType": "EC2", **extra}


_seq = iter(range(1, 100_000))


def step(action: str, kind: str, name: str, spec: dict | None, before: dict | None = None) -> Step:
    return Step(id=f"p{next(_seq)}", action=action, address=address(kind, name, spec or before),
                kind=kind, name=name, spec=spec, before=before)


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "state.db")


@pytest.fixture
def store(state: str):
    s = SqliteStateStore(state)
    yield s
    assert check_invariants(s) == []
    s.close()


@pytest.fixture
def backend(store) -> LocalBackend:
    b = LocalBackend(store)
    apply(b, step("create", "Cluster", "prod", cluster_spec(2)),
          step("create", "TaskDefinition", "app", APP), step("create", "TaskDefinition", "edge", EDGE))
    return b


def apply(backend: LocalBackend, *steps: Step) -> None:
    """As apply_plan does: every step, then the scheduler settles."""
    for s in steps:
        backend.apply_step(s)
        assert check_invariants(backend.store) == [], s
    backend.settle()
    assert check_invariants(backend.store) == []


def tasks(store, status: str, name: str = "app") -> list[Task]:
    return store.find(Task, service=name, last_status=status)


def counts(store, name: str = "app") -> tuple[int, int, int]:
    svc = store.get(Service, "prod", name)
    return svc.desired_count, svc.running_count, svc.pending_count


def events(store, name: str = "app") -> list[str]:
    return [e.message for e in store.service_events("prod", name)]


def short_of_capacity(backend, desired: int = 6) -> None:
    """Two instances hold four tasks: the rest cannot be placed."""
    apply(backend, step("create", "Service", "app", service(desired)))


# ---------------------------------------------------------------------------------------------


def act(store, action: str, ref: str) -> None:
    backend = LocalBackend(store)
    instance = lookup.one(store, "instances", ref)
    lifecycle.run(backend.world, action, instance)
    backend.commit()
    backend.settle([instance.cluster])


def test_unplaceable_tasks_are_not_created_and_the_event_says_why(store, backend, state):
    short_of_capacity(backend)
    assert counts(store) == (6, 4, 0)  # pendingCount counts placed tasks that are starting: none
    assert store.find(Task, service="app", last_status="PENDING") == []
    assert len(store.find(Task, service="app")) == 4
    for inst in store.find(ContainerInstance):
        assert (inst.remaining_cpu, inst.running_tasks_count, inst.pending_tasks_count) == (0, 2, 0)
    last = events(store)[-1]
    assert last.startswith(f"service (app) {UNABLE}")
    assert last.endswith("has insufficient CPU units available.")
    closest = last[len(f"service (app) {UNABLE}"):].split(" ", 1)[0]
    assert store.get(ContainerInstance, closest) is not None
    assert not any("steady state" in e for e in events(store))
    dep = store.find(Deployment, service="app")[0]
    assert (dep.rollout_state, dep.running_count, dep.pending_count) == ("IN_PROGRESS", 4, 0)

    # what `ecsctl get` shows
    [row] = get(state, "services", "app")
    assert (row["desiredCount"], row["runningCount"], row["pendingCount"]) == (6, 4, 0)
    assert get(state, "tasks", status="PENDING") == []
    assert len(get(state, "tasks")) == 4

    # applying again changes nothing (the tasks still do not fit; the event is not repeated)
    serial, n_events = store.meta().serial, len(events(store))
    apply(backend, step("update", "Service", "app", service(6), service(6)))
    assert store.meta().serial == serial and len(events(store)) == n_events


def test_more_instances_let_the_service_reach_its_desired_count(store, backend):
    short_of_capacity(backend)
    apply(backend, step("update", "Cluster", "prod", cluster_spec(3), cluster_spec(2)))
    assert counts(store) == (6, 6, 0)
    third = ids.container_instance_id("prod", "general", 3)
    placed = store.find(Task, service="app", instance_id=third, last_status="RUNNING")
    assert len(placed) == 2 and all(32768 <= t.host_ports[0] <= 61000 for t in placed)
    started = [e for e in events(store) if e.startswith("service (app) has started 2 tasks")]
    assert started and all(f"(task {t.id})" in started[-1] for t in placed)
    assert events(store)[-1] == "service (app) has reached a steady state."
    assert store.find(Deployment, service="app")[0].rollout_state == "COMPLETED"


def test_scaling_a_short_service_out_and_in(store, backend):
    short_of_capacity(backend)
    running_ids = {t.id for t in tasks(store, "RUNNING")}
    apply(backend, step("update", "Service", "app", service(8), service(6)))
    assert counts(store) == (8, 4, 0)
    apply(backend, step("update", "Service", "app", service(5), service(8)))
    assert counts(store) == (5, 4, 0)
    assert {t.id for t in tasks(store, "RUNNING")} == running_ids  # no RUNNING task went
    assert tasks(store, "STOPPED") == []
    apply(backend, step("update", "Service", "app", service(3), service(5)))
    assert counts(store) == (3, 3, 0)
    stopped = tasks(store, "STOPPED")
    dep = store.find(Deployment, service="app")[0]
    assert len(stopped) == 1 and stopped[0].stop_reason == f"Scaling activity initiated by (deployment {dep.id})"
    assert events(store)[-1] == "service (app) has reached a steady state."


def test_a_new_deployment_on_a_full_cluster_stalls_with_the_placement_event(store, backend):
    short_of_capacity(backend)
    app2 = {**APP, "containerDefinitions": [{**APP["containerDefinitions"][0], "image": "app:2"}]}
    apply(backend, step("update", "TaskDefinition", "app", app2, APP),
          step("update", "Service", "app", service(6), service(6)))
    # stepped (100/200): the 4 old tasks must stay (lower bound 6) and no new one fits
    assert counts(store) == (6, 4, 0)
    assert {t.task_definition for t in tasks(store, "RUNNING")} == {"app:1"}
    primary = store.find(Deployment, service="app", status="PRIMARY")[0]
    assert (primary.task_definition, primary.rollout_state, primary.running_count) == ("app:2", "IN_PROGRESS", 0)
    assert "was unable to place a task" in events(store)[-1]


@pytest.mark.parametrize("spec,phrase", [
    (service(3, "edge"), "is already using a port required by your task."),  # RESOURCE:PORTS
    (service(1, placementConstraints=[{"type": "memberOf", "expression": "attribute:tier == gpu"}]),
     'encountered error "MemberOf placement constraint unsatisfied.".'),
])
def test_other_reasons(store, backend, spec, phrase):
    name = spec["taskDefinition"]
    apply(backend, step("create", "Service", name, spec))
    want = spec["desiredCount"]
    placed = 2 if name == "edge" else 0
    assert counts(store, name) == (want, placed, 0)
    assert events(store, name)[-1].startswith(f"service ({name}) {UNABLE}")
    assert events(store, name)[-1].endswith(phrase)
    if name == "app":  # an instance that satisfies the constraint joins: the task is placed
        gpu = {"containerInstances": cluster_spec(2)["containerInstances"] + [
            {"name": "gpu", "count": 1, "instanceType": "m5.large", "availabilityZone": "eu-west-1b",
             "attributes": {"tier": "gpu"}}]}
        apply(backend, step("update", "Cluster", "prod", gpu, cluster_spec(2)))
        assert counts(store) == (1, 1, 0)
        [t] = tasks(store, "RUNNING")
        assert t.instance_id == ids.container_instance_id("prod", "gpu", 1)


def test_instance_stop_start_and_drain_activate(store, backend):
    short_of_capacity(backend)
    first = ids.container_instance_id("prod", "general", 1)
    second = ids.container_instance_id("prod", "general", 2)
    act(store, "stop", first)
    assert counts(store) == (6, 2, 0)  # its tasks are lost and nowhere else fits
    assert events(store)[-1].startswith(f"service (app) {UNABLE}")
    act(store, "start", first)
    assert counts(store) == (6, 4, 0)
    # a drain moves nothing (no room elsewhere); activating again leaves things as they were
    act(store, "drain", second)
    assert counts(store) == (6, 4, 0)
    act(store, "activate", second)
    assert counts(store) == (6, 4, 0)
    assert check_invariants(store) == []


def test_a_user_stop_is_made_up_for_at_the_next_tick(store, backend):
    short_of_capacity(backend)
    victim = tasks(store, "RUNNING")[0]
    stop_task(backend.world, victim.id, "not needed")
    backend.commit()
    assert store.get(Task, victim.id).last_status == "STOPPED"
    assert counts(store) == (6, 3, 0)
    result = backend.tick(timedelta(seconds=60))
    assert counts(store) == (6, 4, 0)  # the scheduler makes up the desired count again
    assert [t.instance_id for t in result.started] == [victim.instance_id]


def test_a_tick_places_tasks_on_an_instance_that_came_back(store, backend):
    short_of_capacity(backend)
    first = ids.container_instance_id("prod", "general", 1)
    act(store, "stop", first)
    # the agent comes back behind the scheduler's back: the next tick places the tasks
    with store.transaction():
        store.save(replace(store.get(ContainerInstance, first), agent_connected=True))
    result = LocalBackend(store).tick(timedelta(seconds=60))
    assert len(result.started) == 2 and {t.instance_id for t in result.started} == {first}
    assert counts(store) == (6, 4, 0)


VPC_APP = {
    "family": "vpcapp", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{"name": "app", "image": "app:1", "cpu": 1024, "memory": 512,
                              "portMappings": [{"containerPort": 8080}]}],
}


def test_awsvpc_tasks_get_unique_addresses_through_capacity_growth_and_a_drain(store, backend):
    spec = service(6, "vpcapp", networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-z"]}},
                   loadBalancers=[{"targetGroupArn": "vpc-tg", "containerName": "app", "containerPort": 8080}])
    apply(backend, step("create", "TaskDefinition", "vpcapp", VPC_APP), step("create", "Service", "vpcapp", spec))
    assert counts(store, "vpcapp") == (6, 4, 0)
    apply(backend, step("update", "Cluster", "prod", cluster_spec(4), cluster_spec(2)))
    assert counts(store, "vpcapp") == (6, 6, 0)
    running = tasks(store, "RUNNING", "vpcapp")
    base = int(subnet_block("subnet-z").network_address)
    assert sorted(int(ipaddress.IPv4Address(t.private_ip)) - base for t in running) == [4, 5, 6, 7, 8, 9]
    assert all(t.subnet == "subnet-z" for t in running)
    # a drain starts replacements before it stops the drained tasks: new, distinct addresses
    first = ids.container_instance_id("prod", "general", 1)
    act(store, "drain", first)
    now = tasks(store, "RUNNING", "vpcapp")
    assert len(now) == 6 and all(t.instance_id != first for t in now)
    assert len({t.private_ip for t in now}) == 6
    regs = store.find(TargetRegistration, target_group="vpc-tg")
    assert sorted(r.target_id for r in regs) == sorted(t.private_ip for t in now)
