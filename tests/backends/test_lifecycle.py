"""The container-instance lifecycle in the local simulation (backends/local/lifecycle.py)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from ecsctl.app import lookup
from ecsctl.backends.local import LocalBackend, check_invariants, lifecycle
from ecsctl.backends.local.instances import DEREGISTERED, ec2_states
from ecsctl.core.controller import ids
from ecsctl.core.deploy.bounds import STUCK_EVENT
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import ContainerInstance, Service, TargetRegistration, Task
from ecsctl.errors import InputError
from ecsctl.storage.sqlite_store import SqliteStateStore

A = ids.container_instance_id("prod", "a", 1)
B = ids.container_instance_id("prod", "b", 1)

APP = {
    "family": "app", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{"name": "app", "image": "app:1", "cpu": 256, "memory": 512,
                              "portMappings": [{"containerPort": 8080, "hostPort": 0}]}],
}
AGENT = {
    "family": "agent", "networkMode": "host", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{"name": "agent", "image": "agent:1", "cpu": 64, "memory": 64}],
}


def group(name: str, **extra) -> dict:
    return {"name": name, "count": 1, "instanceType": "m5.large", "availabilityZone": "eu-west-1a", **extra}


def service(desired: int = 4, min_pct: int | None = 100, max_pct: int | None = 200, **extra) -> dict:
    spec = {"cluster": "prod", "taskDefinition": "app", "desiredCount": desired, "launchType": "EC2", **extra}
    conf = {}
    if min_pct is not None:
        conf["minimumHealthyPercent"] = min_pct
    if max_pct is not None:
        conf["maximumPercent"] = max_pct
    if conf:
        spec["deploymentConfiguration"] = conf
    return spec


_seq = iter(range(1, 100_000))


def step(action: str, kind: str, name: str, spec: dict | None, before: dict | None = None) -> Step:
    return Step(id=f"s{next(_seq)}", action=action, address=address(kind, name, spec or before),
                kind=kind, name=name, spec=spec, before=before)


def invariants(store, *, draining_ok: bool = False) -> list[str]:
    """``check_invariants``; with ``draining_ok`` tasks left RUNNING on a DRAINING instance (a
    stuck drain, standalone tasks) are allowed, as ECS allows them."""
    problems = check_invariants(store)
    if draining_ok:
        problems = [p for p in problems if "RUNNING on DRAINING instance" not in p]
    return problems


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStateStore(tmp_path / "state.db")
    yield s
    s.close()


def do(backend: LocalBackend, s: Step) -> None:
    """One step applied as apply_plan applies it: the step, then the scheduler settles."""
    backend.apply_step(s)
    backend.settle()


def world_with(store, svc: dict | None = None, b: dict | None = None, daemon: bool = False) -> LocalBackend:
    """Instance A alone gets every task of ``svc``; then instance B (``b`` overrides) joins."""
    backend = LocalBackend(store)
    first = {"containerInstances": [group("a")]}
    do(backend, step("create", "Cluster", "prod", first))
    do(backend, step("create", "TaskDefinition", "app", APP))
    if daemon:
        do(backend, step("create", "TaskDefinition", "agent", AGENT))
    if svc is not None:
        do(backend, step("create", "Service", "svc", svc))
    if daemon:
        do(backend, step("create", "Service", "agent", {
            "cluster": "prod", "taskDefinition": "agent", "schedulingStrategy": "DAEMON", "launchType": "EC2",
            "deploymentConfiguration": {"minimumHealthyPercent": 0, "maximumPercent": 100}}))
    do(backend, step("update", "Cluster", "prod", {"containerInstances": [group("a"), group("b", **(b or {}))]},
                     first))
    assert invariants(store) == []
    return backend


def act(store, action: str, ref: str) -> list[str]:
    """``ecsctl instances ACTION``: the action commits, then the scheduler settles the cluster;
    the events of a move that could not happen come back."""
    backend = LocalBackend(store)
    world = backend.world
    mark = len(world.history)
    instance = lookup.one(store, "instances", ref)
    lifecycle.run(world, action, instance)
    backend.commit()
    backend.settle([instance.cluster])
    return list(dict.fromkeys(e.message for e in world.history[mark:] if "was unable to" in e.message))


def inst(store, cid: str) -> ContainerInstance:
    return store.get(ContainerInstance, cid)


def on(store, cid: str, service: str | None = "svc") -> list[Task]:
    return [t for t in store.find(Task, last_status="RUNNING", instance_id=cid) if t.service == service]


def events(store, name: str = "svc") -> list[str]:
    return [e.message for e in store.service_events("prod", name)]


def standalone(store, cid: str) -> Task:
    task = Task(id="standalone1", cluster="prod", group="family:app", task_definition="app:1",
                last_status="RUNNING", desired_status="RUNNING", launch_type="EC2", instance_id=cid,
                availability_zone="eu-west-1a", cpu=256, memory=512, host_ports=(40000,))
    backend = LocalBackend(store)
    backend.world.state("prod").put_task(task)
    backend.commit()
    return task


# ---------------------------------------------------------------------------------------------
# drain


@pytest.mark.parametrize("min_pct,max_pct,left_on_a,on_b,first_event", [
    (100, 200, 0, 4, "has started 4 tasks"),      # replacements first, then the draining tasks stop
    (50, 100, 0, 4, "has stopped 2 running tasks"),  # stop half first, then replace
    (None, None, 0, 4, "has started 4 tasks"),    # defaults 100/200
    (0, 100, 0, 4, "has stopped 4 running tasks"),
    (100, 125, 0, 4, "has started 1 tasks"),      # one at a time
    (100, 100, 4, 0, STUCK_EVENT),                # stuck: nothing may stop or start
])
def test_drain_moves_service_tasks_within_the_bounds(store, min_pct, max_pct, left_on_a, on_b, first_event):
    world_with(store, service(4, min_pct, max_pct))
    before = len(events(store))
    messages = act(store, "drain", A)
    assert inst(store, A).status == "DRAINING" and inst(store, A).agent_connected
    assert len(on(store, A)) == left_on_a and len(on(store, B)) == on_b
    new = events(store)[before:]
    assert first_event in new[0]
    assert (messages == [f"service (svc) {STUCK_EVENT}"]) == (left_on_a > 0)
    svc = store.get(Service, "prod", "svc")
    assert svc.running_count == 4 and svc.desired_count == 4
    for t in store.find(Task, instance_id=A, last_status="STOPPED"):
        assert t.stop_reason == lifecycle.DRAINING_REASON and t.stop_code == "ServiceSchedulerInitiated"
    assert invariants(store, draining_ok=left_on_a > 0) == []


def test_drain_50_100_stops_half_before_starting(store):
    world_with(store, service(4, 50, 100))
    before = len(events(store))
    act(store, "drain", A)
    kinds = [("stop" if "has stopped" in e else "start") for e in events(store)[before:]
             if "has stopped" in e or "has started" in e]
    assert kinds[:3] == ["stop", "start", "stop"]


def test_drain_limited_by_capacity_records_the_placement_failure(store):
    world_with(store, service(4, 100, 200), b={"cpu": 512})  # B fits two tasks
    messages = act(store, "drain", A)
    assert len(on(store, A)) == 2 and len(on(store, B)) == 2
    assert messages and messages[0].startswith("service (svc) was unable to place a task")
    assert store.get(Service, "prod", "svc").running_count == 4
    assert invariants(store, draining_ok=True) == []


def test_drain_again_after_the_bounds_change_finishes(store):
    world_with(store, service(4, 100, 100))
    act(store, "drain", A)
    assert len(on(store, A)) == 4
    LocalBackend(store).settle(["prod"])  # the scheduler keeps stuck draining tasks (does not stop them outright)
    assert len(on(store, A)) == 4
    with store.transaction():
        svc = store.get(Service, "prod", "svc")
        store.save(dataclasses.replace(svc, spec=service(4, 50, 100)))
    act(store, "drain", A)
    assert on(store, A) == [] and len(on(store, B)) == 4
    assert invariants(store) == []


def test_drain_leaves_standalone_tasks_and_stops_daemon_tasks(store):
    world_with(store, service(2), daemon=True)
    assert len(on(store, A, "agent")) == 1 and len(on(store, B, "agent")) == 1
    task = standalone(store, A)
    act(store, "drain", A)
    assert store.get(Task, task.id).last_status == "RUNNING"
    assert on(store, A, "agent") == [] and len(on(store, B, "agent")) == 1
    stopped = [t for t in store.find(Task, instance_id=A, last_status="STOPPED") if t.service == "agent"]
    assert [t.stop_reason for t in stopped] == [lifecycle.DRAINING_REASON]
    assert on(store, A) == [] and len(on(store, B)) == 2
    assert store.get(Service, "prod", "agent").desired_count == 1
    assert invariants(store, draining_ok=True) == []


def test_drained_instance_gets_no_new_placements_and_activate_moves_nothing_back(store):
    backend = world_with(store, service(2))
    act(store, "drain", A)
    do(backend, step("update", "Service", "svc", service(6), service(2)))
    assert on(store, A) == [] and len(on(store, B)) == 6
    act(store, "activate", A)
    assert inst(store, A).status == "ACTIVE" and on(store, A) == []
    do(backend, step("update", "Service", "svc", service(8), service(6)))
    assert len(on(store, A)) == 2  # normal placement may use it again
    assert invariants(store) == []


# ---------------------------------------------------------------------------------------------
# EC2 stop / start / terminate, deregister


def test_stop_disconnects_stops_every_task_and_services_replace_them(store):
    world_with(store, service(4))
    task = standalone(store, A)
    act(store, "stop", A)
    a = inst(store, A)
    assert (a.status, a.agent_connected, a.running_tasks_count, a.remaining_cpu) == ("ACTIVE", False, 0, a.registered_cpu)
    ec2 = ids.ec2_instance_id(A)
    stopped = store.find(Task, instance_id=A, last_status="STOPPED")
    assert {t.stop_reason for t in stopped} == {f"Host EC2 (instance {ec2}) stopped/terminated"}
    assert store.get(Task, task.id).last_status == "STOPPED"
    assert len(on(store, B)) == 4
    assert ec2_states(store)[a.id] == "stopped"
    assert invariants(store) == []


def test_start_reconnects_and_nothing_comes_back(store):
    world_with(store, service(4))
    act(store, "stop", A)
    act(store, "start", A)
    a = inst(store, A)
    assert a.agent_connected and a.status == "ACTIVE" and on(store, A) == []
    assert ec2_states(store)[a.id] == "running"
    assert invariants(store) == []


def test_terminate_a_running_instance_deregisters_it(store):
    world_with(store, service(4))
    act(store, "terminate", A)
    a = inst(store, A)
    assert (a.status, a.agent_connected) == ("INACTIVE", False)
    assert ec2_states(store)[a.id] == "terminated"
    assert on(store, A) == [] and len(on(store, B)) == 4
    assert invariants(store) == []


def test_terminating_a_stopped_instance_leaves_a_ghost_until_deregistered(store):
    backend = world_with(store, service(4))
    act(store, "stop", A)
    act(store, "terminate", A)
    a = inst(store, A)
    assert (a.status, a.agent_connected) == ("ACTIVE", False)
    assert ec2_states(store)[a.id] == "terminated"
    assert ec2_states(store) == {A: "terminated", B: "running"}
    with pytest.raises(InputError, match="terminated"):
        act(store, "start", A)
    do(backend, step("update", "Service", "svc", service(6), service(4)))
    assert on(store, A) == []  # placement skips the ghost
    assert invariants(store) == []
    act(store, "deregister", A)
    a = inst(store, A)
    assert (a.status, a.agent_connected) == ("INACTIVE", False)
    assert ec2_states(store)[a.id] == "terminated"
    assert invariants(store) == []


def test_a_group_scaled_down_or_removed_terminates_its_ec2_instances(store):
    # a Cluster group's count is the number of EC2 instances it runs: the instances it no longer
    # needs are terminated, not left running outside the cluster (a user's own deregister is)
    backend = world_with(store, service(2))
    two = {"containerInstances": [group("a", count=2), group("b")]}
    do(backend, step("update", "Cluster", "prod", two, {"containerInstances": [group("a"), group("b")]}))
    a2 = ids.container_instance_id("prod", "a", 2)
    assert ec2_states(store) == {A: "running", a2: "running", B: "running"}
    do(backend, step("update", "Cluster", "prod", {"containerInstances": [group("a")]}, two))  # b removed, a down to 1
    gone = [inst(store, a2), inst(store, B)]
    assert [(i.status, i.agent_connected) for i in gone] == [("INACTIVE", False)] * 2
    assert ec2_states(store) == {A: "running", a2: "terminated", B: "terminated"}
    assert len(on(store, A)) == 2 and invariants(store) == []
    act(store, "deregister", A)  # deregistering a container instance leaves its EC2 instance running
    assert inst(store, A).status == "INACTIVE" and ec2_states(store)[A] == "running"


def test_deregister_stops_its_tasks_and_services_replace_them(store):
    world_with(store, service(4, loadBalancers=[{"targetGroupArn": "app-tg", "containerName": "app",
                                                  "containerPort": 8080}]))
    assert len(store.find(TargetRegistration)) == 4
    act(store, "deregister", A)
    assert inst(store, A).status == "INACTIVE"
    assert {t.stop_reason for t in store.find(Task, instance_id=A, last_status="STOPPED")} == {DEREGISTERED}
    assert len(on(store, B)) == 4
    regs = store.find(TargetRegistration)
    assert len(regs) == 4 and {r.target_id for r in regs} == {ids.ec2_instance_id(B)}
    assert invariants(store) == []


def test_drain_registers_replacements_with_the_target_group(store):
    world_with(store, service(4, loadBalancers=[{"targetGroupArn": "app-tg", "containerName": "app",
                                                  "containerPort": 8080}]))
    act(store, "drain", A)
    regs = store.find(TargetRegistration)
    assert len(regs) == 4 and {r.target_id for r in regs} == {ids.ec2_instance_id(B)}
    assert invariants(store) == []


@pytest.mark.parametrize("setup,action,match", [
    ([], "start", "already running"),
    (["stop"], "stop", "already stopped"),
    (["deregister"], "drain", "is INACTIVE: only ACTIVE or DRAINING"),
    (["deregister"], "activate", "is INACTIVE"),
    (["deregister"], "deregister", "already INACTIVE"),
    (["deregister"], "stop", "INACTIVE"),
    (["terminate"], "terminate", "already terminated"),
    (["stop", "terminate"], "stop", "terminated"),
])
def test_bad_transitions_are_refused_in_one_line(store, setup, action, match):
    world_with(store, service(2))
    for a in setup:
        act(store, a, A)
    serial = store.meta().serial
    with pytest.raises(InputError, match=match) as err:
        act(store, action, A)
    assert "\n" not in str(err.value)
    assert store.meta().serial == serial


def test_activate_on_active_and_drain_on_draining_are_harmless(store):
    world_with(store, service(2))
    act(store, "activate", A)
    assert inst(store, A).status == "ACTIVE"
    act(store, "drain", A)
    act(store, "drain", A)
    assert inst(store, A).status == "DRAINING"
    assert invariants(store) == []


def test_an_instance_is_found_by_ec2_id_arn_and_prefix(store):
    world_with(store)
    assert lookup.one(store, "instances", ids.ec2_instance_id(B)).id == B
    assert lookup.one(store, "instances", f"arn:aws:ecs:eu-west-1:1:container-instance/prod/{A}").id == A
    assert lookup.one(store, "instances", A[:10]).id == A
    with pytest.raises(InputError, match="not found"):
        lookup.one(store, "instances", "i-00000000000000000")


# ---------------------------------------------------------------------------------------------
# Applying the cluster replaces instances that went away: new registrations, never the old ones


def group_of_two(store, svc: dict | None = None) -> tuple[LocalBackend, dict]:
    """Group ``a`` with count 2 (instances #1 = A and #2) and, optionally, service ``svc``."""
    backend = LocalBackend(store)
    spec = {"containerInstances": [group("a", count=2)]}
    do(backend, step("create", "Cluster", "prod", spec))
    do(backend, step("create", "TaskDefinition", "app", APP))
    if svc is not None:
        do(backend, step("create", "Service", "svc", svc))
    return backend, spec


def active_in(store, group_name: str = "a") -> list[ContainerInstance]:
    return [i for i in store.find(ContainerInstance, cluster="prod", group_name=group_name) if i.status != "INACTIVE"]


@pytest.mark.parametrize("actions, ec2", [
    (["terminate"], "terminated"),
    (["stop", "terminate"], "terminated"),  # a ghost: apply deregisters it
    (["deregister"], "running"),            # deregistered by hand: its EC2 instance still runs
])
def test_apply_replaces_an_instance_that_went_away_with_a_new_registration(store, actions, ec2):
    backend, spec = group_of_two(store, service(4))
    old = inst(store, A)
    for action in actions:
        act(store, action, A)
    LocalBackend(store).tick(timedelta(minutes=5))
    backend = LocalBackend(store)
    do(backend, step("update", "Cluster", "prod", spec, spec))

    gone = inst(store, A)
    assert gone.status == "INACTIVE" and ec2_states(store)[A] == ec2  # the old one stays as it was left
    new = inst(store, ids.container_instance_id("prod", "a", 3))  # the group's third registration
    assert new is not None and new.status == "ACTIVE" and new.agent_connected
    assert ids.ec2_instance_id(new.id) != ids.ec2_instance_id(A) and ec2_states(store)[new.id] == "running"
    assert (new.group_name, new.availability_zone, new.instance_type) == ("a", old.availability_zone, old.instance_type)
    assert new.registered_at > old.registered_at and new.registered_at == store.clock()
    assert sorted(i.id for i in active_in(store)) == sorted([ids.container_instance_id("prod", "a", 2), new.id])
    assert len(active_in(store)) == spec["containerInstances"][0]["count"]
    assert invariants(store) == []

    before = store.find(ContainerInstance)
    do(LocalBackend(store), step("update", "Cluster", "prod", spec, spec))  # nothing more went away
    assert store.find(ContainerInstance) == before


def test_the_replacement_gets_the_tasks_that_had_no_room(store):
    backend, spec = group_of_two(store)
    one = {"containerInstances": [group("a", count=1)]}
    do(backend, step("update", "Cluster", "prod", one, spec))  # #2 deregistered: A alone
    do(backend, step("create", "Service", "svc", service(8)))  # 8 × 256 CPU units fill A's 2048
    assert len(on(store, A)) == 8
    act(store, "terminate", A)
    assert store.get(Service, "prod", "svc").running_count == 0  # nowhere to go
    do(LocalBackend(store), step("update", "Cluster", "prod", one, one))
    (new,) = active_in(store)
    assert new.id == ids.container_instance_id("prod", "a", 3) and inst(store, A).status == "INACTIVE"
    assert len(on(store, new.id)) == 8 and store.get(Service, "prod", "svc").running_count == 8
    assert invariants(store) == []


def test_scaling_up_again_registers_new_instances(store):
    backend, spec = group_of_two(store)
    one = {"containerInstances": [group("a", count=1)]}
    do(backend, step("update", "Cluster", "prod", one, spec))
    second = ids.container_instance_id("prod", "a", 2)
    assert inst(store, second).status == "INACTIVE"  # the highest-numbered goes
    do(backend, step("update", "Cluster", "prod", spec, one))
    assert inst(store, second).status == "INACTIVE"
    assert sorted(i.id for i in active_in(store)) == sorted([A, ids.container_instance_id("prod", "a", 3)])
    assert invariants(store) == []
