"""Service tasks that cannot be placed stay PENDING (ecs-semantics §2.1) and are placed first later."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from ecsctl.app.get import get
from ecsctl.backends.local import LocalBackend, check_invariants, ids, lifecycle
from ecsctl.backends.local.tasks import stop_task, tick
from ecsctl.backends.local.world import World
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import ContainerInstance, Deployment, Service, Task
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
    for s in steps:
        backend.apply_step(s)
        assert check_invariants(backend.store) == [], s


def tasks(store, status: str, name: str = "app") -> list[Task]:
    return store.find(Task, service=name, last_status=status)


def counts(store, name: str = "app") -> tuple[int, int, int]:
    svc = store.get(Service, "prod", name)
    return svc.desired_count, svc.running_count, svc.pending_count


def events(store, name: str = "app") -> list[str]:
    return [e.message for e in store.service_events("prod", name)]


def short_of_capacity(backend, desired: int = 6) -> None:
    """Two instances hold four tasks: the rest stay PENDING."""
    apply(backend, step("create", "Service", "app", service(desired)))


# ---------------------------------------------------------------------------------------------


def test_unplaceable_tasks_stay_pending_with_the_ecs_event(store, backend, state):
    short_of_capacity(backend)
    assert counts(store) == (6, 4, 2)
    pending = tasks(store, "PENDING")
    assert len(pending) == 2
    for t in pending:
        assert (t.instance_id, t.host_ports, t.availability_zone) == (None, (), "")
        assert (t.desired_status, t.stop_code, t.stop_reason, t.started_at) == ("RUNNING", "", "", "")
        assert t.group == "service:app" and t.task_definition == "app:1"
    for inst in store.find(ContainerInstance):  # pending tasks take nothing
        assert (inst.remaining_cpu, inst.running_tasks_count, inst.pending_tasks_count) == (0, 2, 0)
    last = events(store)[-1]
    assert last.startswith(f"service (app) {UNABLE}")
    assert last.endswith("has insufficient CPU units available.")
    closest = last[len(f"service (app) {UNABLE}"):].split(" ", 1)[0]
    assert store.get(ContainerInstance, closest) is not None
    assert not any("steady state" in e for e in events(store))
    dep = store.find(Deployment, service="app")[0]
    assert (dep.rollout_state, dep.running_count, dep.pending_count) == ("IN_PROGRESS", 4, 2)

    # what `ecsctl get` shows
    [row] = get(state, "services", "app")
    assert (row["desiredCount"], row["runningCount"], row["pendingCount"]) == (6, 4, 2)
    listed = get(state, "tasks", status="PENDING")
    assert sorted(r["id"] for r in listed) == sorted(t.id for t in pending)
    assert all(r["instance"] is None and r["hostPorts"] == [] and r["stopReason"] is None for r in listed)
    assert len(get(state, "tasks")) == 6

    # applying again changes nothing (the pending tasks still do not fit; the event is not repeated)
    serial, n_events = store.meta().serial, len(events(store))
    backend.apply_step(step("update", "Service", "app", service(6), service(6)))
    assert store.meta().serial == serial and len(events(store)) == n_events


def test_more_instances_place_the_pending_tasks_first(store, backend):
    short_of_capacity(backend)
    pending_ids = {t.id for t in tasks(store, "PENDING")}
    n_tasks = len(store.find(Task))
    apply(backend, step("update", "Cluster", "prod", cluster_spec(3), cluster_spec(2)))
    assert counts(store) == (6, 6, 0)
    assert tasks(store, "PENDING") == []
    assert len(store.find(Task)) == n_tasks  # placed, not replaced by new tasks
    third = ids.container_instance_id("prod", "general", 3)
    for tid in pending_ids:
        t = store.get(Task, tid)
        assert (t.last_status, t.instance_id, t.availability_zone) == ("RUNNING", third, "eu-west-1a")
        assert len(t.host_ports) == 1 and 32768 <= t.host_ports[0] <= 61000
        assert t.started_at
    started = [e for e in events(store) if e.startswith("service (app) has started 2 tasks")]
    assert started and all(f"(task {tid})" in started[-1] for tid in pending_ids)
    assert events(store)[-1] == "service (app) has reached a steady state."
    assert store.find(Deployment, service="app")[0].rollout_state == "COMPLETED"


def test_scale_out_when_short_adds_pending_and_scale_in_removes_pending_first(store, backend):
    short_of_capacity(backend)
    running_ids = {t.id for t in tasks(store, "RUNNING")}
    apply(backend, step("update", "Service", "app", service(8), service(6)))
    assert counts(store) == (8, 4, 4)
    apply(backend, step("update", "Service", "app", service(5), service(8)))
    assert counts(store) == (5, 4, 1)
    assert {t.id for t in tasks(store, "RUNNING")} == running_ids  # no RUNNING task went
    stopped = tasks(store, "STOPPED")
    assert len(stopped) == 3 and all(t.instance_id is None for t in stopped)
    dep = store.find(Deployment, service="app")[0]
    assert {(t.stop_code, t.stop_reason) for t in stopped} == {
        ("ServiceSchedulerInitiated", f"Scaling activity initiated by (deployment {dep.id})")}
    assert not any("has stopped" in e for e in events(store))  # they never ran
    apply(backend, step("update", "Service", "app", service(3), service(5)))
    assert counts(store) == (3, 3, 0)
    assert len(tasks(store, "STOPPED")) == 5
    assert events(store)[-1] == "service (app) has reached a steady state."


def test_delete_stops_pending_tasks_too(store, backend):
    short_of_capacity(backend)
    apply(backend, step("delete", "Service", "app", None, service(6)))
    assert tasks(store, "PENDING") == [] and tasks(store, "RUNNING") == []
    stopped = tasks(store, "STOPPED")
    assert len(stopped) == 6 and {t.stop_reason for t in stopped} == {"Service deleted"}
    assert counts(store) == (0, 0, 0)
    assert events(store)[-1] == "service (app) has stopped 4 running tasks: " + " ".join(
        f"(task {t.id})" for t in stopped if t.instance_id is not None) + "."


def test_a_new_deployment_stops_the_old_pending_tasks(store, backend):
    short_of_capacity(backend)
    old_pending = {t.id for t in tasks(store, "PENDING")}
    app2 = {**APP, "containerDefinitions": [{**APP["containerDefinitions"][0], "image": "app:2"}]}
    apply(backend, step("update", "TaskDefinition", "app", app2, APP),
          step("update", "Service", "app", service(6), service(6)))
    # stepped (100/200): the 4 old tasks must stay (lower bound 6) and no new one fits,
    # so the deployment stalls with the placement event; the old PENDING tasks are gone
    assert counts(store) == (6, 4, 0)
    assert {t.task_definition for t in tasks(store, "RUNNING")} == {"app:1"}
    assert all(store.get(Task, tid).last_status == "STOPPED" for tid in old_pending)
    primary = store.find(Deployment, service="app", status="PRIMARY")[0]
    assert (primary.task_definition, primary.rollout_state, primary.running_count) == ("app:2", "IN_PROGRESS", 0)
    assert "was unable to place a task" in events(store)[-1]


@pytest.mark.parametrize("spec,phrase", [
    (service(3, "edge"), "is already using a port required by your task."),  # RESOURCE:PORTS
    (service(1, placementConstraints=[{"type": "memberOf", "expression": "attribute:tier == gpu"}]),
     'encountered error "MemberOf placement constraint unsatisfied.".'),  # ATTRIBUTE
])
def test_other_reasons(store, backend, spec, phrase):
    name = spec["taskDefinition"]
    apply(backend, step("create", "Service", name, spec))
    want = spec["desiredCount"]
    placed = 2 if name == "edge" else 0
    assert counts(store, name) == (want, placed, want - placed)
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


def act(store, action: str, ref: str) -> list[str]:
    with store.transaction():
        return lifecycle.run(World(store), action, lifecycle.find_instance(store, ref))


def test_instance_stop_start_and_drain_activate(store, backend):
    short_of_capacity(backend)
    first = ids.container_instance_id("prod", "general", 1)
    second = ids.container_instance_id("prod", "general", 2)
    messages = act(store, "stop", first)
    assert counts(store) == (6, 2, 4)  # the lost tasks wait PENDING
    assert check_invariants(store) == []
    assert messages == [] and events(store)[-1].startswith(f"service (app) {UNABLE}")
    act(store, "start", first)
    assert counts(store) == (6, 4, 2)
    assert check_invariants(store) == []
    # a drain moves nothing (no room elsewhere); activating again leaves things as they were
    act(store, "drain", second)
    assert counts(store) == (6, 4, 2)
    act(store, "activate", second)
    assert counts(store) == (6, 4, 2)
    assert check_invariants(store) == []


def test_user_stop_of_a_pending_task_and_tick(store, backend):
    short_of_capacity(backend)
    victim = tasks(store, "PENDING")[0]
    with store.transaction():
        stop_task(World(store), victim.id, "not needed")
    assert store.get(Task, victim.id).last_status == "STOPPED"
    assert counts(store) == (6, 4, 1)
    assert check_invariants(store) == []
    with store.transaction():
        tick(store, timedelta(seconds=60))
    assert counts(store) == (6, 4, 2)  # the scheduler makes up the desired count again
    assert victim.id not in {t.id for t in tasks(store, "PENDING")}
    assert check_invariants(store) == []


def test_a_tick_that_places_pending_tasks_reports_them_as_started(store, backend):
    short_of_capacity(backend)
    first = ids.container_instance_id("prod", "general", 1)
    act(store, "stop", first)
    pending = {t.id for t in tasks(store, "PENDING")}
    # the agent comes back without the lifecycle's own reconcile: the next tick places the tasks
    with store.transaction():
        inst = store.get(ContainerInstance, first)
        store.save(replace(inst, agent_connected=True))
    with store.transaction():
        result = tick(store, timedelta(seconds=60))
    placed = {t.id for t in result.started}
    assert placed and placed <= pending
    assert counts(store) == (6, 4, 2)


def test_deleting_a_cluster_stops_pending_tasks_too(store, backend):
    from ecsctl.backends.local.instances import delete_cluster

    short_of_capacity(backend)
    assert tasks(store, "PENDING")
    with store.transaction():
        delete_cluster(World(store), "prod")
    assert tasks(store, "PENDING") == [] and tasks(store, "RUNNING") == []
    assert check_invariants(store) == []


VPC_APP = {
    "family": "vpcapp", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{"name": "app", "image": "app:1", "cpu": 1024, "memory": 512,
                              "portMappings": [{"containerPort": 8080}]}],
}


def test_awsvpc_tasks_get_their_ip_when_placed_and_keep_them_unique_through_a_drain(store, backend):
    import ipaddress

    from ecsctl.backends.local import network
    from ecsctl.core.state import TargetRegistration

    spec = service(6, "vpcapp", networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-z"]}},
                   loadBalancers=[{"targetGroupArn": "vpc-tg", "containerName": "app", "containerPort": 8080}])
    apply(backend, step("create", "TaskDefinition", "vpcapp", VPC_APP), step("create", "Service", "vpcapp", spec))
    assert counts(store, "vpcapp") == (6, 4, 2)
    pending = tasks(store, "PENDING", "vpcapp")
    assert all((t.subnet, t.private_ip) == ("", "") for t in pending)  # nothing held while PENDING
    apply(backend, step("update", "Cluster", "prod", cluster_spec(4), cluster_spec(2)))
    assert counts(store, "vpcapp") == (6, 6, 0)
    running = tasks(store, "RUNNING", "vpcapp")
    assert {t.id for t in pending} <= {t.id for t in running}
    base = int(network.subnet_block("subnet-z").network_address)
    assert sorted(int(ipaddress.IPv4Address(t.private_ip)) - base for t in running) == [4, 5, 6, 7, 8, 9]
    assert all(t.subnet == "subnet-z" for t in running)
    # a drain starts replacements before it stops the drained tasks: new, distinct addresses
    first = ids.container_instance_id("prod", "general", 1)
    act(store, "drain", first)
    assert check_invariants(store) == []
    now = tasks(store, "RUNNING", "vpcapp")
    assert len(now) == 6 and all(t.instance_id != first for t in now)
    assert len({t.private_ip for t in now}) == 6
    regs = store.find(TargetRegistration, target_group="vpc-tg")
    assert sorted(r.target_id for r in regs) == sorted(t.private_ip for t in now)
