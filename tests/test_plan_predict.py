"""The plan predicts the tasks it would start that cannot be placed (core.plan.predict, app.plan)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from ecsctl.app.plan import apply_plan, backend_for, load_plan, make_plan, read_manifests, save_plan
from ecsctl.cli.render.plan import render_plan_json, render_plan_text
from ecsctl.core.plan.predict import ServiceRequest, StoppedTask, closest_phrase, predict
from ecsctl.core.scheduling.placement import Node, PortNeed, TaskDemand
from ecsctl.core.state.ports import Task
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import doc, write_stack

ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def nodes(n: int, *, cpu: int = 2048, memory: int = 4096, attrs: dict | None = None) -> list[Node]:
    out = []
    for k in range(n):
        az = ZONES[k % 3]
        out.append(Node(f"ci-{k:02d}", az, {"ecs.availability-zone": az, **(attrs or {})}, cpu, memory))
    return out


def request(wanted: int, demand: TaskDemand | None = None, **kw) -> ServiceRequest:
    return ServiceRequest("service/prod/worker", "prod", demand or TaskDemand(256, 512), wanted=wanted, **kw)


HOST_80 = TaskDemand(128, 128, ports=(PortNeed(80, 80),))
MEMBER_OF = ({"type": "memberOf", "expression": "attribute:tier == gpu"},)

# (name, nodes, request, placeable, reason, closest phrase)
WORLDS = [
    ("fits", nodes(3), request(6), 6, "", ""),
    ("one short of memory", nodes(3, memory=2048), request(7, TaskDemand(256, 1024)), 6, "RESOURCE:MEMORY",
     "has insufficient memory available"),
    ("static host ports, as many tasks as instances", nodes(3), request(4, HOST_80), 3, "RESOURCE:PORTS",
     "is already using a port required by your task"),
    ("memberOf that no instance satisfies", nodes(3, attrs={"tier": "general"}), request(2, constraints=MEMBER_OF), 0,
     "ATTRIBUTE", 'encountered error "MemberOf placement constraint unsatisfied."'),
    ("Fargate is never blocked", [], request(50, TaskDemand(4096, 30720), fargate=True), 50, "", ""),
    ("no instances at all", [], request(2), 0, "NO_INSTANCES", ""),
]


@pytest.mark.parametrize(("name", "world", "req", "placeable", "reason", "phrase"), WORLDS, ids=[w[0] for w in WORLDS])
def test_small_worlds(name, world, req, placeable, reason, phrase) -> None:
    [p] = predict({"prod": world}, [req])
    assert p["address"] == "service/prod/worker"
    assert (p["wanted"], p["placeable"], p["unplaceable"], p["reason"]) == (req.wanted, placeable, req.wanted - placeable, reason)
    assert closest_phrase(p) == phrase
    if reason and reason != "NO_INSTANCES":
        assert p["message"] == (
            "service (worker) was unable to place a task because no container instance met all of its requirements. "
            f"The closest matching container-instance {p['closestInstance']} {phrase}.")
    elif reason == "NO_INSTANCES":
        assert p["message"].startswith("service (worker) was unable to place a task because no container instances")


def test_requests_share_the_cluster_in_step_order() -> None:
    world = {"prod": nodes(2, memory=2048)}  # room for 4 tasks of 1024
    first = ServiceRequest("service/prod/a", "prod", TaskDemand(256, 1024), wanted=3)
    second = ServiceRequest("service/prod/b", "prod", TaskDemand(256, 1024), wanted=3)
    a, b = predict(world, [first, second])
    assert (a["placeable"], b["placeable"], b["unplaceable"]) == (3, 1, 2)


def test_kept_tasks_count_and_stopped_tasks_free_their_resources() -> None:
    world = nodes(1, memory=2048)
    world[0].remaining_memory = 0  # two tasks of 1024 already run there
    world[0].groups["service:worker"] = 2
    stop = tuple(StoppedTask("ci-00", TaskDemand(256, 1024)) for _ in range(2))
    [kept] = predict({"prod": copy.deepcopy(world)}, [request(3, TaskDemand(256, 1024), kept=2)])
    assert (kept["placeable"], kept["unplaceable"]) == (2, 1)  # the running two stay, a third does not fit
    [redeploy] = predict({"prod": world}, [request(2, TaskDemand(256, 1024), stop=stop)])
    assert (redeploy["placeable"], redeploy["unplaceable"]) == (2, 0)


def test_a_deleted_service_is_not_reported_but_frees_room() -> None:
    world = nodes(1, memory=1024)
    world[0].remaining_memory = 0
    gone = ServiceRequest("service/prod/old", "prod", None, stop=(StoppedTask("ci-00", TaskDemand(256, 1024), group="service:old"),),
                          report=False)
    [p] = predict({"prod": world}, [gone, request(1, TaskDemand(256, 1024))])
    assert (p["address"], p["placeable"]) == ("service/prod/worker", 1)


# --- through make_plan ----------------------------------------------------------------------------


def taskdef(name: str, memory: int, ports: list | None = None, **extra) -> dict:
    c = {"name": "app", "image": "nginx:1.27", "essential": True, "cpu": 128, "memory": memory,
         "portMappings": ports if ports is not None else [{"containerPort": 8080, "hostPort": 0}]}
    return doc("TaskDefinition", name, {"requiresCompatibilities": ["EC2"], "networkMode": "bridge",
                                        "containerDefinitions": [c], **extra})


def cluster(count: int = 2, **group) -> dict:
    # m5.large registers 2048 CPU units and 7,479 MiB
    return doc("Cluster", "prod", {"containerInstances": [
        {"name": "general", "count": count, "instanceType": "m5.large", "availabilityZone": "eu-west-1a", **group}]})


def service(name: str, desired: int, **extra) -> dict:
    return doc("Service", name, {"cluster": "prod", "taskDefinition": name, "desiredCount": desired, "launchType": "EC2", **extra})


def plan_dir(tmp_path: Path, docs: list[dict], store):
    return make_plan(read_manifests([str(write_stack(tmp_path / "m", docs))]), store)


def running(store, name: str) -> int:
    return len(store.find(Task, cluster="prod", service=name, last_status="RUNNING"))


def pending(store, name: str) -> int:
    return len(store.find(Task, cluster="prod", service=name, last_status="PENDING"))


def test_a_cluster_created_in_the_same_plan(tmp_path: Path) -> None:
    docs = [cluster(2), taskdef("worker", 2048), service("worker", 8),
            doc("TaskDefinition", "api", {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "4096",
                                          "memory": "30720", "containerDefinitions": [{"name": "app", "image": "nginx:1.27"}]}),
            doc("Service", "api", {"cluster": "prod", "taskDefinition": "api", "desiredCount": 40, "launchType": "FARGATE",
                                   "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}})]
    plan = plan_dir(tmp_path, docs, None)
    by = {p["address"]: p for p in plan.predictions}
    assert (by["service/prod/worker"]["placeable"], by["service/prod/worker"]["reason"]) == (6, "RESOURCE:MEMORY")
    assert (by["service/prod/api"]["placeable"], by["service/prod/api"]["unplaceable"]) == (40, 0)


def test_end_to_end_prediction_matches_the_apply(tmp_path: Path) -> None:
    with SqliteStateStore(str(tmp_path / "state.db")) as store:
        docs = [cluster(2), taskdef("worker", 2048), service("worker", 2), taskdef("web", 256), service("web", 2)]
        first = plan_dir(tmp_path, docs, store)
        assert [(p["address"], p["placeable"], p["unplaceable"]) for p in first.predictions] == [
            ("service/prod/web", 2, 0), ("service/prod/worker", 2, 0)]
        apply_plan(first, store, backend_for(store))

        # 2 x 7,479 MiB, web holds 2 x 256: room for 6 workers of 2,048 in all
        docs[2] = service("worker", 8)
        plan = plan_dir(tmp_path, docs, store)
        [p] = plan.predictions
        assert (p["address"], p["wanted"], p["placeable"], p["unplaceable"], p["reason"]) == (
            "service/prod/worker", 8, 6, 2, "RESOURCE:MEMORY")
        assert "has insufficient memory available" in p["message"]
        text = render_plan_text(plan)
        assert f"! service/prod/worker: 2 of 8 tasks cannot be placed: RESOURCE:MEMORY (closest instance {p['closestInstance'][:8]}… has insufficient memory available)" in text
        assert text.endswith("Placement: 2 tasks of 1 service cannot be placed.\n")
        assert '"placement": [' in render_plan_json(plan)

        saved = tmp_path / "plan.json"
        save_plan(plan, str(saved))
        assert load_plan(str(saved)).predictions == plan.predictions
        apply_plan(plan, store, backend_for(store))
        assert running(store, "worker") == p["placeable"]
        assert pending(store, "worker") == p["unplaceable"]

        # a new revision re-places every task (the old ones stop first): still 6
        docs[1] = taskdef("worker", 2048, [{"containerPort": 9090, "hostPort": 0}])
        redeploy = plan_dir(tmp_path, docs, store)
        [p] = redeploy.predictions
        assert (p["placeable"], p["unplaceable"]) == (6, 2)
        apply_plan(redeploy, store, backend_for(store))
        # stepped (100/200): 6 healthy < lower 8, so no old task may stop and no new one fits:
        # the 6 old tasks keep running, the old PENDING ones are gone, the rollout stalls
        assert running(store, "worker") == 6
        assert pending(store, "worker") == 0


def test_end_to_end_ports_and_cluster_growth(tmp_path: Path) -> None:
    with SqliteStateStore(str(tmp_path / "state.db")) as store:
        docs = [cluster(2), taskdef("edge", 256, [{"containerPort": 80, "hostPort": 80}]), service("edge", 3)]
        plan = plan_dir(tmp_path, docs, store)
        [p] = plan.predictions
        assert (p["placeable"], p["reason"]) == (2, "RESOURCE:PORTS")
        apply_plan(plan, store, backend_for(store))
        assert running(store, "edge") == 2
        assert pending(store, "edge") == 1
        docs[0] = cluster(3)  # a third instance registers in the same plan: the third task fits
        docs[2] = service("edge", 3, placementStrategy=[{"type": "binpack", "field": "memory"}])
        plan = plan_dir(tmp_path, docs, store)
        [p] = plan.predictions
        assert (p["placeable"], p["unplaceable"]) == (3, 0)
        apply_plan(plan, store, backend_for(store))
        assert running(store, "edge") == 3
        assert pending(store, "edge") == 0


def test_a_daemon_wants_one_task_per_eligible_instance():
    world = nodes(4, attrs={"role": "log"}) + [Node("ci-99", "eu-west-1a", {"ecs.availability-zone": "eu-west-1a"}, 2048, 4096)]
    world[1].remaining_memory = 256  # too full for the daemon
    world[2].agent_connected = False  # not a candidate at all
    daemon = ServiceRequest("service/prod/agent", "prod", TaskDemand(128, 512), daemon=True,
                            constraints=({"type": "memberOf", "expression": "attribute:role == log"},))
    [got] = predict({"prod": world}, [daemon])
    assert (got["wanted"], got["placeable"], got["unplaceable"]) == (3, 2, 1)
    assert got["reason"] == "RESOURCE:MEMORY" and got["closestInstance"] == "ci-01"
