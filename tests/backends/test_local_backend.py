"""The local backend: clusters, task definitions, services and their tasks in the simulation."""

from __future__ import annotations

import dataclasses
import ipaddress
import uuid
from pathlib import Path

import pytest

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local.world import subnet_block
from ecsctl.core.controller import ids
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import (
    CatalogueEntry,
    Cluster,
    ContainerInstance,
    Deployment,
    Service,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
)
from ecsctl.errors import EcsctlError
from ecsctl.storage.sqlite_store import SqliteStateStore

AZS = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
SUBNETS = ["subnet-3", "subnet-1", "subnet-2"]


def cluster_spec(per_az: int = 1, instance_type: str = "m5.large", **extra) -> dict:
    return {
        "containerInstances": [
            {"name": f"general-{az[-1]}", "count": per_az, "instanceType": instance_type,
             "availabilityZone": az, "attributes": {"tier": "general"}, **extra}
            for az in AZS
        ],
    }


WORKER = {
    "family": "worker", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [{
        "name": "worker", "image": "worker:1", "cpu": 256, "memory": 512,
        "portMappings": [{"containerPort": 9102, "hostPort": 0, "protocol": "tcp"}],
    }],
}
WEB = {
    "family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
    "cpu": "512", "memory": "1024",
    "containerDefinitions": [{"name": "web", "image": "web:1",
                              "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}],
}


def web_service(**over) -> dict:
    spec = {
        "cluster": "prod", "taskDefinition": "web", "desiredCount": 3, "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": SUBNETS}},
        "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web/abc",
                           "containerName": "web", "containerPort": 8080}],
    }
    spec.update(over)
    return spec


def worker_service(**over) -> dict:
    spec = {
        "cluster": "prod", "taskDefinition": "worker", "desiredCount": 3, "launchType": "EC2",
        "loadBalancers": [{"targetGroupArn": "worker-tg", "containerName": "worker", "containerPort": 9102}],
    }
    spec.update(over)
    return spec


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStateStore(tmp_path / "state.db")
    yield s
    assert check_invariants(s) == []
    s.close()


@pytest.fixture
def backend(store) -> LocalBackend:
    return LocalBackend(store)


_seq = iter(range(1, 10_000))


def step(action: str, kind: str, name: str, spec: dict | None, before: dict | None = None) -> Step:
    return Step(id=f"s{next(_seq)}", action=action, address=address(kind, name, spec or before),
                kind=kind, name=name, spec=spec, before=before)


def apply(backend: LocalBackend, *steps: Step) -> None:
    """As apply_plan does: every step (each committing on its own), then the scheduler settles."""
    for s in steps:
        backend.apply_step(s)
        assert check_invariants(backend.store) == [], s
    backend.settle()
    assert check_invariants(backend.store) == []


def running(store, service: str | None = None) -> list[Task]:
    where = {"service": service} if service else {}
    return store.find(Task, last_status="RUNNING", **where)


def events(store, service: str) -> list[str]:
    return [e.message for e in store.service_events("prod", service)]


def stack(backend: LocalBackend, per_az: int = 1) -> None:
    apply(backend, step("create", "Cluster", "prod", cluster_spec(per_az)),
          step("create", "TaskDefinition", "web", WEB),
          step("create", "TaskDefinition", "worker", WORKER))


# ---------------------------------------------------------------------------------------------


def test_cluster_registers_instances_deterministically(store, backend):
    apply(backend, step("create", "Cluster", "prod", cluster_spec(2)))
    assert store.clock() == "2026-01-01T00:00:00Z"
    insts = store.find(ContainerInstance, cluster="prod")
    assert len(insts) == 6
    assert {i.availability_zone for i in insts} == set(AZS)
    first = store.get(ContainerInstance, uuid.uuid5(ids.NAMESPACE, "prod/general-a/1").hex)
    assert first is not None and len(first.id) == 32
    assert (first.registered_cpu, first.registered_memory) == (2048, 7985)  # m5.large
    assert first.remaining_cpu == 2048 and first.status == "ACTIVE" and first.agent_connected
    assert first.attributes["tier"] == "general"
    assert first.attributes["ecs.availability-zone"] == "eu-west-1a"
    assert first.attributes["ecs.instance-type"] == "m5.large"
    assert first.registered_at == "2026-01-01T00:00:00Z"
    assert ids.ec2_instance_id(first.id).startswith("i-") and len(ids.ec2_instance_id(first.id)) == 19
    assert store.get(Cluster, "prod").status == "ACTIVE"


def test_cluster_overrides_and_scaling(store, backend):
    spec = cluster_spec(1, cpu=1000, memory=3000, agentVersion="1.82.1")
    apply(backend, step("create", "Cluster", "prod", spec))
    inst = store.find(ContainerInstance)[0]
    assert (inst.registered_cpu, inst.registered_memory, inst.agent_version) == (1000, 3000, "1.82.1")

    # other registered resources: ECS cannot resize an instance, so #1 is deregistered and
    # new registrations (#2..#4, default m5.large resources) take its place
    apply(backend, step("update", "Cluster", "prod", cluster_spec(3), spec))
    assert len(store.find(ContainerInstance, status="ACTIVE")) == 9
    b = {n: store.get(ContainerInstance, ids.container_instance_id("prod", "general-b", n)) for n in range(1, 5)}
    assert (b[1].status, b[1].registered_cpu) == ("INACTIVE", 1000)
    assert all((b[n].status, b[n].registered_cpu) == ("ACTIVE", 2048) for n in (2, 3, 4))
    apply(backend, step("update", "Cluster", "prod", cluster_spec(2), cluster_spec(3)))
    active = store.find(ContainerInstance, status="ACTIVE")
    assert len(active) == 6
    # scaling down deregisters the highest-numbered registration
    assert store.get(ContainerInstance, ids.container_instance_id("prod", "general-b", 4)).status == "INACTIVE"
    assert store.get(ContainerInstance, ids.container_instance_id("prod", "general-b", 3)).status == "ACTIVE"


def test_unknown_instance_type_is_a_clear_error(store, backend):
    with pytest.raises(EcsctlError, match="unknown instance type 'x9.huge'"):
        backend.apply_step(step("create", "Cluster", "prod", cluster_spec(1, instance_type="x9.huge")))
    assert store.find(Cluster) == [] and store.get_resource("cluster/prod") is None


def test_task_definition_revisions(store, backend):
    apply(backend, step("create", "TaskDefinition", "web", WEB))
    changed = {**WEB, "cpu": "1024", "memory": "2048"}
    apply(backend, step("update", "TaskDefinition", "web", changed, WEB))
    revs = store.find(TaskDefinitionRevision, family="web")
    assert [(r.revision, r.status) for r in revs] == [(1, "ACTIVE"), (2, "ACTIVE")]
    assert revs[1].spec == changed
    apply(backend, step("delete", "TaskDefinition", "web", None, changed))
    assert [r.status for r in store.find(TaskDefinitionRevision, family="web")] == ["INACTIVE"] * 2
    assert store.get_resource("taskdef/web") is None


def test_fargate_service_spreads_over_three_azs(store, backend):
    stack(backend)
    apply(backend, step("create", "TargetGroup", "web", {"targetType": "ip", "port": 8080}),
          step("create", "Service", "web", web_service()))
    tasks = running(store, "web")
    assert len(tasks) == 3
    assert sorted(t.availability_zone for t in tasks) == list(AZS)
    assert all(t.instance_id is None and t.launch_type == "FARGATE" for t in tasks)
    assert all(t.task_definition == "web:1" and t.group == "service:web" for t in tasks)
    svc = store.get(Service, "prod", "web")
    assert (svc.desired_count, svc.running_count, svc.pending_count) == (3, 3, 0)
    dep = store.find(Deployment, service="web")
    assert [(d.status, d.rollout_state) for d in dep] == [("PRIMARY", "COMPLETED")]
    assert all(t.started_by == dep[0].id for t in tasks)
    regs = store.find(TargetRegistration, target_group="web")
    assert sorted(r.task_id for r in regs) == sorted(t.id for t in tasks)
    assert all(r.port == 8080 and r.target_id.startswith("10.") for r in regs)
    log = events(store, "web")
    assert log[0].startswith("service (web) has started 3 tasks: (task ") and log[0].endswith(").")
    assert all(f"(task {t.id})" in log[0] for t in tasks)
    assert log[-1] == "service (web) has reached a steady state."
    assert store.get(CatalogueEntry, "TargetGroup", "web").spec["port"] == 8080


def test_fargate_tasks_get_the_subnet_of_their_az_and_an_ip_from_it(store, backend):
    stack(backend)
    apply(backend, step("create", "TargetGroup", "web", {"targetType": "ip", "port": 8080}),
          step("create", "Service", "web", web_service()))
    tasks = running(store, "web")
    # sorted subnets <-> sorted AZs
    assert sorted((t.availability_zone, t.subnet) for t in tasks) == list(zip(AZS, sorted(SUBNETS)))
    assert len({t.private_ip for t in tasks}) == 3
    for t in tasks:
        block = subnet_block(t.subnet)
        assert ipaddress.IPv4Address(t.private_ip) == block.network_address + 4  # first in each subnet
    regs = store.find(TargetRegistration, target_group="web")
    assert sorted((r.target_id, r.port, r.task_id) for r in regs) == sorted(
        (t.private_ip, 8080, t.id) for t in tasks)


def test_fargate_ips_are_unique_per_subnet_and_reused_after_a_redeploy(store, backend):
    stack(backend)
    spec3 = web_service()
    apply(backend, step("create", "Service", "web", spec3))
    spec6 = web_service(desiredCount=6)
    apply(backend, step("update", "Service", "web", spec6, spec3))
    tasks = running(store, "web")
    per_subnet: dict[str, list[str]] = {}
    for t in tasks:
        per_subnet.setdefault(t.subnet, []).append(t.private_ip)
    assert {s: len(ips) for s, ips in per_subnet.items()} == {s: 2 for s in SUBNETS}
    for subnet, ips in per_subnet.items():
        base = int(subnet_block(subnet).network_address)
        assert sorted(int(ipaddress.IPv4Address(ip)) - base for ip in ips) == [4, 5]
    before = {(t.subnet, t.private_ip) for t in tasks}
    web2 = {**WEB, "cpu": "1024", "memory": "2048"}
    apply(backend, step("update", "TaskDefinition", "web", web2, WEB),
          step("update", "Service", "web", spec6, spec6))
    new = running(store, "web")
    assert not {t.id for t in tasks} & {t.id for t in new}
    # rolling (100/200): the new tasks start while the old ones still hold their IPs
    assert not {(t.subnet, t.private_ip) for t in new} & before
    for subnet in SUBNETS:
        base = int(subnet_block(subnet).network_address)
        assert sorted(int(ipaddress.IPv4Address(t.private_ip)) - base for t in new if t.subnet == subnet) == [6, 7]
    stopped = store.find(Task, service="web", last_status="STOPPED")
    assert len(stopped) == 6 and all(t.private_ip for t in stopped)  # kept, for the record
    regs = store.find(TargetRegistration, target_group="web")
    assert {r.task_id for r in regs} == {t.id for t in new}
    assert {r.target_id for r in regs} == {t.private_ip for t in new}
    # the old tasks' IPs were released: the next deployment reuses them
    web3 = {**WEB, "cpu": "2048", "memory": "4096"}
    apply(backend, step("update", "TaskDefinition", "web", web3, web2),
          step("update", "Service", "web", spec6, spec6))
    assert {(t.subnet, t.private_ip) for t in running(store, "web")} == before


def test_ec2_awsvpc_service_tasks_get_the_subnet_of_their_instances_az(store, backend):
    stack(backend)
    spec = web_service(launchType="EC2", loadBalancers=[])
    apply(backend, step("create", "Service", "web", spec))
    tasks = running(store, "web")
    assert len(tasks) == 3 and all(t.instance_id for t in tasks)
    subnet_of = dict(zip(AZS, sorted(SUBNETS)))
    for t in tasks:
        assert t.availability_zone == store.get(ContainerInstance, t.instance_id).availability_zone
        assert t.subnet == subnet_of[t.availability_zone]
        assert ipaddress.IPv4Address(t.private_ip) in subnet_block(t.subnet)
    assert len({(t.subnet, t.private_ip) for t in tasks}) == 3


def test_bridge_tasks_have_no_subnet_or_ip(store, backend):
    stack(backend)
    apply(backend, step("create", "Service", "worker", worker_service()))
    assert all((t.subnet, t.private_ip) == ("", "") for t in running(store, "worker"))


def test_fargate_without_instances_uses_region_letters(store, backend):
    apply(backend, step("create", "Cluster", "c", {}), step("create", "TaskDefinition", "web", WEB),
          step("create", "Service", "web", web_service(cluster="c", loadBalancers=[])))
    assert sorted(t.availability_zone for t in running(store, "web")) == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_ec2_bridge_service_dynamic_ports_and_targets(store, backend):
    stack(backend)
    apply(backend, step("create", "Service", "worker", worker_service(desiredCount=6)))
    tasks = running(store, "worker")
    assert len(tasks) == 6
    per_instance: dict[str, list[Task]] = {}
    for t in tasks:
        per_instance.setdefault(t.instance_id, []).append(t)
        assert 32768 <= t.host_ports[0] <= 61000
        assert (t.cpu, t.memory) == (256, 512)
    assert len(per_instance) == 3  # default spread: AZ, then instance
    for iid, on in per_instance.items():
        assert len({t.host_ports[0] for t in on}) == len(on)
        inst = store.get(ContainerInstance, iid)
        assert inst.remaining_cpu == inst.registered_cpu - 256 * len(on)
        assert inst.running_tasks_count == len(on)
    regs = store.find(TargetRegistration, target_group="worker-tg")
    assert {(r.target_id, r.port) for r in regs} == {
        (ids.ec2_instance_id(t.instance_id), t.host_ports[0]) for t in tasks}
    assert any(m.startswith("service (worker) registered 6 targets in (target-group worker-tg)")
               for m in events(store, "worker"))


def test_unplaceable_service_records_the_event_once(store, backend):
    stack(backend)
    big = {**WORKER, "family": "big", "containerDefinitions": [{**WORKER["containerDefinitions"][0], "cpu": 4096}]}
    apply(backend, step("create", "TaskDefinition", "big", big))
    svc_step = step("create", "Service", "big", worker_service(taskDefinition="big", loadBalancers=[]))
    apply(backend, svc_step)
    assert running(store, "big") == []
    svc = store.get(Service, "prod", "big")
    # ECS creates no task for a task it cannot place: the running count stays below the desired count
    assert (svc.desired_count, svc.running_count, svc.pending_count) == (3, 0, 0)
    assert store.find(Task, service="big") == []
    log = events(store, "big")
    assert len(log) == 1
    assert log[0].startswith("service (big) was unable to place a task because no container instance "
                             "met all of its requirements. The closest matching container-instance ")
    assert log[0].endswith("has insufficient CPU units available.")
    assert store.find(Deployment, service="big")[0].rollout_state == "IN_PROGRESS"
    serial = store.meta().serial
    apply(backend, svc_step)
    assert store.meta().serial == serial and len(events(store, "big")) == 1


def test_missing_task_definition_is_a_clear_error(store, backend):
    apply(backend, step("create", "Cluster", "prod", cluster_spec(1)))
    with pytest.raises(EcsctlError, match="task definition family 'nope' has no ACTIVE revision"):
        backend.apply_step(step("create", "Service", "x", worker_service(taskDefinition="nope")))
    with pytest.raises(EcsctlError, match="worker:7 is not registered"):
        backend.apply_step(step("create", "Service", "x", worker_service(taskDefinition="worker:7")))
    assert store.find(Service) == []


def test_scale_out_and_in(store, backend):
    stack(backend)
    spec3 = worker_service()
    apply(backend, step("create", "Service", "worker", spec3))
    spec5 = worker_service(desiredCount=5)
    apply(backend, step("update", "Service", "worker", spec5, spec3))
    assert len(running(store, "worker")) == 5
    assert store.get(Service, "prod", "worker").running_count == 5
    spec2 = worker_service(desiredCount=2)
    apply(backend, step("update", "Service", "worker", spec2, spec5))
    left = running(store, "worker")
    assert len(left) == 2
    assert len({t.availability_zone for t in left}) == 2  # scale-in keeps the AZs balanced
    stopped = store.find(Task, service="worker", last_status="STOPPED")
    dep = store.find(Deployment, service="worker", status="PRIMARY")[0]
    assert len(stopped) == 3
    assert all(t.stop_reason == f"Scaling activity initiated by (deployment {dep.id})" for t in stopped)
    assert len(store.find(TargetRegistration, target_group="worker-tg")) == 2
    assert len(store.find(Deployment, service="worker")) == 1  # no new deployment for a count change


def test_new_revision_replaces_all_tasks(store, backend):
    stack(backend)
    apply(backend, step("create", "Service", "web", web_service()))
    old_ids = {t.id for t in running(store, "web")}
    web2 = {**WEB, "cpu": "1024", "memory": "2048"}
    apply(backend, step("update", "TaskDefinition", "web", web2, WEB),
          step("update", "Service", "web", web_service(), web_service()))
    new = running(store, "web")
    assert len(new) == 3 and not old_ids & {t.id for t in new}
    assert {t.task_definition for t in new} == {"web:2"}
    assert store.get(Service, "prod", "web").task_definition == "web:2"
    deps = {d.status: d for d in store.find(Deployment, service="web")}
    assert set(deps) == {"PRIMARY", "INACTIVE"} and deps["PRIMARY"].task_definition == "web:2"
    assert deps["PRIMARY"].rollout_state == "COMPLETED"
    assert len(store.find(TargetRegistration, target_group="web")) == 3
    assert any("deployment completed" in m for m in events(store, "web"))


def test_delete_service(store, backend):
    stack(backend)
    spec = worker_service()
    apply(backend, step("create", "Service", "worker", spec))
    apply(backend, step("delete", "Service", "worker", None, spec))
    assert running(store) == []
    assert {t.stop_reason for t in store.find(Task)} == {"Service deleted"}
    assert store.get(Service, "prod", "worker").status == "INACTIVE"
    assert store.find(TargetRegistration) == []
    assert all(i.remaining_cpu == i.registered_cpu for i in store.find(ContainerInstance))
    assert store.get_resource("service/prod/worker") is None


def test_reconcile_after_instances_are_removed(store, backend):
    stack(backend, per_az=2)
    apply(backend, step("create", "Service", "worker", worker_service(desiredCount=6)))
    apply(backend, step("update", "Cluster", "prod", cluster_spec(1), cluster_spec(2)))
    tasks = running(store, "worker")
    assert len(tasks) == 6
    active = {i.id for i in store.find(ContainerInstance, status="ACTIVE")}
    assert all(t.instance_id in active for t in tasks)
    lost = [t for t in store.find(Task, last_status="STOPPED")]
    assert lost and all(t.stop_reason == "Container instance deregistered" for t in lost)
    # an instance whose agent disconnects: reconcile moves its tasks
    victim = store.get(ContainerInstance, sorted(active)[0])
    with store.transaction():
        store.save(dataclasses.replace(victim, agent_connected=False))
    backend.settle(["prod"])
    tasks = running(store, "worker")
    assert len(tasks) == 6 and all(t.instance_id != victim.id for t in tasks)


def test_delete_cluster(store, backend):
    stack(backend)
    apply(backend, step("create", "Service", "worker", worker_service()),
          step("delete", "Cluster", "prod", None, cluster_spec(1)))
    assert running(store) == []
    assert store.get(Cluster, "prod").status == "INACTIVE"
    assert {i.status for i in store.find(ContainerInstance)} == {"INACTIVE"}


def test_daemon_service_one_task_per_instance(store, backend):
    stack(backend)
    apply(backend, step("create", "Service", "agent", worker_service(
        schedulingStrategy="DAEMON", desiredCount=None, loadBalancers=[])))
    tasks = running(store, "agent")
    assert len({t.instance_id for t in tasks}) == len(tasks) == 3
    assert store.get(Service, "prod", "agent").desired_count == 3


def test_reapplying_steps_changes_nothing(store, backend):
    steps = [
        step("create", "Cluster", "prod", cluster_spec(1)),
        step("create", "TaskDefinition", "web", WEB),
        step("create", "TaskDefinition", "worker", WORKER),
        step("create", "TargetGroup", "web", {"targetType": "ip"}),
        step("create", "Service", "web", web_service()),
        step("create", "Service", "worker", worker_service()),
    ]
    apply(backend, *steps)
    before = store.export()
    for s in steps:
        backend.apply_step(s)
    backend.settle()
    after = store.export()
    assert after["serial"] == before["serial"]
    assert after == before
    assert len(store.find(TaskDefinitionRevision, family="web")) == 1
