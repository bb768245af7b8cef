"""The plan forecasts what apply will do, from one simulation that sees every step (app.forecast).

Expected counts are derived by hand from the capacities (m5.large registers 2,048 CPU units and
7,985 MiB) and DESIGN §6's rules, then checked against what apply really does.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ecsctl.app.plan import apply_plan, backend_for, load_plan, make_plan, read_manifests, save_plan
from ecsctl.backends.local import check_invariants
from ecsctl.cli.render.plan import closest_phrase, render_plan_json, render_plan_text
from ecsctl.core.state.ports import Service, Task
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import doc, write_stack

UNABLE = "was unable to place a task because no container instance met all of its requirements."


def taskdef(name: str, memory: int, ports: list | None = None, cpu: int = 128, image: str = "nginx:1.27", **extra) -> dict:
    c = {"name": "app", "image": image, "essential": True, "cpu": cpu, "memory": memory,
         "portMappings": ports if ports is not None else [{"containerPort": 8080, "hostPort": 0}]}
    return doc("TaskDefinition", name, {"requiresCompatibilities": ["EC2"], "networkMode": "bridge",
                                        "containerDefinitions": [c], **extra})


def fargate(name: str) -> dict:
    return doc("TaskDefinition", name, {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "4096",
                                        "memory": "30720", "containerDefinitions": [{"name": "app", "image": "nginx:1.27"}]})


def cluster(count: int = 2, **group) -> dict:
    return doc("Cluster", "prod", {"containerInstances": [
        {"name": "general", "count": count, "instanceType": "m5.large", "availabilityZone": "eu-west-1a", **group}]})


def service(name: str, desired: int, td: str | None = None, **extra) -> dict:
    return doc("Service", name, {"cluster": "prod", "taskDefinition": td or name, "desiredCount": desired,
                                 "launchType": "EC2", **extra})


@pytest.fixture
def store(tmp_path: Path):
    with SqliteStateStore(str(tmp_path / "state.db")) as s:
        yield s


def plan_of(tmp_path: Path, docs: list[dict], store):
    return make_plan(read_manifests([str(write_stack(tmp_path / "m", docs))]), store)


def applied(tmp_path: Path, docs: list[dict], store):
    plan = plan_of(tmp_path, docs, store)
    apply_plan(plan, store, backend_for(store))
    assert check_invariants(store) == []
    return plan


def live(store, name: str) -> dict[str, int]:
    """Tasks per revision that a service runs, as apply left them."""
    return dict(Counter(t.task_definition for t in store.find(Task, service=name, last_status="RUNNING")))


def forecast(plan, name: str) -> dict:
    return next(p for p in plan.predictions if p["address"] == f"service/prod/{name}")


# --- placement, from an empty state -----------------------------------------------------------


# (name, cluster instances, task memory, ports, desired, placeable, reason, phrase of the closest instance)
CASES = [
    ("fits", 2, 256, None, 6, 6, "", ""),
    # 7,985 MiB per instance: 3 tasks of 2,048 each, 6 in all
    ("short of memory", 2, 2048, None, 8, 6, "RESOURCE:MEMORY", "has insufficient memory available"),
    # a static host port: one task per instance
    ("static host ports", 3, 128, [{"containerPort": 80, "hostPort": 80}], 4, 3, "RESOURCE:PORTS",
     "is already using a port required by your task"),
]


@pytest.mark.parametrize("name, count, memory, ports, desired, placeable, reason, phrase", CASES, ids=[c[0] for c in CASES])
def test_placement_from_an_empty_state(tmp_path, store, name, count, memory, ports, desired, placeable, reason, phrase):
    docs = [cluster(count), taskdef("worker", memory, ports), service("worker", desired)]
    plan = plan_of(tmp_path, docs, store)
    p = forecast(plan, "worker")
    assert (p["wanted"], p["placeable"], p["unplaceable"], p["reason"]) == (desired, placeable, desired - placeable, reason)
    assert p["tasks"] == {"worker:1": placeable}
    assert closest_phrase(p) == phrase
    if reason:
        assert p["message"] == (f"service (worker) {UNABLE} The closest matching container-instance "
                                f"{p['closestInstance']} {phrase}.")
    apply_plan(plan, store, backend_for(store))
    assert live(store, "worker") == {"worker:1": placeable}
    svc = store.get(Service, "prod", "worker")
    assert (svc.desired_count, svc.running_count, svc.pending_count) == (desired, placeable, 0)


def test_member_of_that_no_instance_satisfies(tmp_path, store):
    docs = [cluster(3, attributes={"tier": "general"}), taskdef("worker", 256),
            service("worker", 2, placementConstraints=[{"type": "memberOf", "expression": "attribute:tier == gpu"}])]
    p = forecast(plan_of(tmp_path, docs, store), "worker")
    assert (p["placeable"], p["unplaceable"], p["reason"]) == (0, 2, "MemberOf placement constraint unsatisfied")
    assert closest_phrase(p) == 'encountered error "MemberOf placement constraint unsatisfied."'


def test_fargate_is_never_blocked_and_no_instances_is_said_so(tmp_path, store):
    docs = [doc("Cluster", "prod", {}), fargate("api"), taskdef("worker", 256),
            doc("Service", "api", {"cluster": "prod", "taskDefinition": "api", "desiredCount": 40, "launchType": "FARGATE",
                                   "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}}),
            service("worker", 2)]
    plan = plan_of(tmp_path, docs, store)
    api, worker = forecast(plan, "api"), forecast(plan, "worker")
    assert (api["placeable"], api["unplaceable"]) == (40, 0)
    assert (worker["placeable"], worker["unplaceable"], worker["reason"]) == (0, 2, "NO_INSTANCES")
    assert "no container instances were found in your cluster" in worker["message"]


def test_services_share_the_cluster(tmp_path, store):
    """Room for 6 tasks of 2,048 MiB (3 per instance): ``a`` reconciles first (name order) and
    takes its 3, ``b`` gets the other 3 of its 4."""
    docs = [cluster(2), taskdef("big", 2048), service("a", 3, "big"), service("b", 4, "big")]
    plan = plan_of(tmp_path, docs, store)
    a, b = forecast(plan, "a"), forecast(plan, "b")
    assert (a["placeable"], b["placeable"], b["unplaceable"]) == (3, 3, 1)
    apply_plan(plan, store, backend_for(store))
    assert (live(store, "a"), live(store, "b")) == ({"big:1": 3}, {"big:1": 3})


def test_a_daemon_wants_one_task_per_eligible_instance(tmp_path, store):
    docs = [doc("Cluster", "prod", {"containerInstances": [
                {"name": "log", "count": 3, "instanceType": "m5.large", "availabilityZone": "eu-west-1a",
                 "attributes": {"role": "log"}},
                {"name": "other", "count": 1, "instanceType": "m5.large", "availabilityZone": "eu-west-1b"}]}),
            taskdef("agent", 512),
            doc("Service", "agent", {"cluster": "prod", "taskDefinition": "agent", "schedulingStrategy": "DAEMON",
                                     "launchType": "EC2", "placementConstraints": [
                                         {"type": "memberOf", "expression": "attribute:role == log"}]})]
    p = forecast(plan_of(tmp_path, docs, store), "agent")
    assert (p["wanted"], p["placeable"], p["unplaceable"]) == (3, 3, 0)


# --- the copies that used to disagree (issue 8) ------------------------------------------------


def test_a_new_service_and_a_redeploy_share_the_last_free_room(tmp_path, store):
    """2 x 7,985 MiB; web runs 4 x 1,800 (2 per instance, 4,385 MiB left on each). A redeploy of web
    (100/200) and a new ``cache`` service of 2 x 4,000 in one plan: ``cache`` reconciles first and
    takes the free room (one per instance), so web cannot start a new task: the plan says the
    deployment stalls with web on its old revision, and apply does exactly that."""
    docs = [cluster(2), taskdef("web", 1800), service("web", 4)]
    applied(tmp_path, docs, store)
    docs[1] = taskdef("web", 1800, image="nginx:1.28")
    docs += [taskdef("cache", 4000), service("cache", 2)]
    plan = plan_of(tmp_path, docs, store)
    [d] = plan.deployments
    assert (d["service"], d["from"], d["to"], d["outcome"]) == ("service/prod/web", "web:1", "web:2", "stalled")
    assert "RESOURCE:MEMORY" in d["reason"] and d["steps"] == []
    assert forecast(plan, "web")["tasks"] == {"web:1": 4}
    assert forecast(plan, "cache")["tasks"] == {"cache:1": 2}
    apply_plan(plan, store, backend_for(store))
    assert live(store, "web") == {"web:1": 4} and live(store, "cache") == {"cache:1": 2}


def test_a_redeploy_on_an_exactly_full_cluster(tmp_path, store):
    """8 tasks of 1,990 MiB fill 2 instances (4 each, 25 MiB left): no new task fits and no old one
    may stop (min 100 %): stalled, no step, the 8 old tasks run on; the placement forecast says the
    same (8 of 8 running, web:1)."""
    docs = [cluster(2), taskdef("web", 1990), service("web", 8)]
    applied(tmp_path, docs, store)
    docs[1] = taskdef("web", 1990, image="nginx:1.28")
    plan = plan_of(tmp_path, docs, store)
    [d] = plan.deployments
    assert (d["outcome"], d["steps"]) == ("stalled", [])
    assert d["reason"] == "new tasks cannot be placed (RESOURCE:MEMORY)"
    assert "add a container instance with room for one more task (128 CPU units, 1990 MiB)" in d["fix"]
    p = forecast(plan, "web")
    assert (p["wanted"], p["placeable"], p["unplaceable"], p["tasks"]) == (8, 8, 0, {"web:1": 8})
    apply_plan(plan, store, backend_for(store))
    assert live(store, "web") == {"web:1": 8}


def test_a_scaled_desired_count_is_the_one_a_redeploy_uses(tmp_path, store):
    """The desired count moved 2 -> 4 behind the manifests' back (as auto scaling does): a redeploy
    keeps 4 (the manifest's own value did not change), and its steps are those of D=4."""
    docs = [cluster(2), taskdef("web", 256), service("web", 2)]
    applied(tmp_path, docs, store)
    with store.transaction():
        svc = store.get(Service, "prod", "web")
        store.save(svc.__class__(**{**{f: getattr(svc, f) for f in svc.__slots__}, "desired_count": 4}))
    applied(tmp_path, docs, store)  # the scheduler brings it to 4; the plan does not fight it
    assert live(store, "web") == {"web:1": 4}
    docs[1] = taskdef("web", 256, image="nginx:1.28")
    plan = plan_of(tmp_path, docs, store)
    [d] = plan.deployments
    assert d["desiredCount"] == 4
    # D=4, 100/200, room for everything: start 4 (upper 8), then stop the 4 old
    assert [(s["stopOld"], s["startNew"], s["oldRunning"], s["newRunning"]) for s in d["steps"]] == [
        (0, 4, 4, 4), (4, 0, 0, 4)]
    assert forecast(plan, "web")["tasks"] == {"web:2": 4}
    apply_plan(plan, store, backend_for(store))
    assert live(store, "web") == {"web:2": 4}


def test_two_services_deploying_at_once_see_each_other(tmp_path, store):
    """2 instances, each with room left for one more 1,900 MiB task (3 x 1,900 of 7,985 used). Two
    services of 3 tasks each redeploy (100/200) in one plan, round by round in name order: ``a``
    starts 2 new tasks in round 1, leaving ``b`` no room; once ``a`` stops old tasks, ``b`` moves:
    a (0,2) (2,1) (1,0); b waits, then (0,1) (1,2) (2,0).  The plan's steps for both, and apply, agree."""
    docs = [cluster(2), taskdef("a", 1900), taskdef("b", 1900), service("a", 3), service("b", 3)]
    applied(tmp_path, docs, store)
    docs[1] = taskdef("a", 1900, image="nginx:1.28")
    docs[2] = taskdef("b", 1900, image="nginx:1.28")
    plan = plan_of(tmp_path, docs, store)
    a, b = sorted(plan.deployments, key=lambda d: d["service"])
    assert (a["outcome"], b["outcome"]) == ("complete", "complete")
    # a: round 1 starts 2 (all the room), round 2 stops 2 and starts the third, round 3 stops the last
    assert [(s["stopOld"], s["startNew"]) for s in a["steps"]] == [(0, 2), (2, 1), (1, 0)]
    # b waits a round, then finds a's freed room
    assert [(s["stopOld"], s["startNew"]) for s in b["steps"]] == [(0, 1), (1, 2), (2, 0)]
    apply_plan(plan, store, backend_for(store))
    assert live(store, "a") == {"a:2": 3} and live(store, "b") == {"b:2": 3}


def test_plan_files_keep_the_forecast_and_apply_honours_it(tmp_path, store):
    docs = [cluster(2), taskdef("worker", 2048), service("worker", 2), taskdef("web", 256), service("web", 2)]
    applied(tmp_path, docs, store)
    docs[2] = service("worker", 8)  # room for 6 workers of 2,048 next to web's 2 x 256
    plan = plan_of(tmp_path, docs, store)
    p = forecast(plan, "worker")
    assert (p["wanted"], p["placeable"], p["unplaceable"], p["reason"]) == (8, 6, 2, "RESOURCE:MEMORY")
    text = render_plan_text(plan)
    assert f"! service/prod/worker: 2 of 8 tasks cannot be placed: RESOURCE:MEMORY (closest instance {p['closestInstance'][:8]}… has insufficient memory available)" in text
    assert text.endswith("Placement: 2 tasks of 1 service cannot be placed.\n")
    assert '"placement": [' in render_plan_json(plan)
    saved = tmp_path / "plan.json"
    save_plan(plan, str(saved))
    assert load_plan(str(saved), restore=False).predictions == plan.predictions
    apply_plan(load_plan(str(saved), restore=False), store, backend_for(store))
    assert live(store, "worker") == {"worker:1": 6}


def test_a_cluster_that_grows_in_the_same_plan(tmp_path, store):
    docs = [cluster(2), taskdef("edge", 256, [{"containerPort": 80, "hostPort": 80}]), service("edge", 3)]
    plan = applied(tmp_path, docs, store)
    assert forecast(plan, "edge")["placeable"] == 2 and live(store, "edge") == {"edge:1": 2}
    docs[0] = cluster(3)  # a third instance registers in the same plan: the third task fits
    plan = plan_of(tmp_path, docs, store)
    p = forecast(plan, "edge")
    assert (p["placeable"], p["unplaceable"]) == (3, 0)
    apply_plan(plan, store, backend_for(store))
    assert live(store, "edge") == {"edge:1": 3}


def test_a_deleted_service_frees_room_for_a_new_one(tmp_path, store):
    docs = [cluster(1), taskdef("old", 7000), service("old", 1)]
    applied(tmp_path, docs, store)
    docs = [cluster(1), taskdef("new", 7000), service("new", 1)]
    p = forecast(plan_of(tmp_path, docs, store), "new")
    assert (p["placeable"], p["unplaceable"]) == (1, 0)


STALL_FIX = "add capacity for at least 1 more task, or lower minimumHealthyPercent so an old task can stop first"


@pytest.mark.parametrize("reason, fix, expected", [
    # a deployment step: an old task stopping first frees room, ports, the instance, an address
    ("RESOURCE:CPU", STALL_FIX, "add a container instance with room for one more task (512 CPU units, 1024 MiB, "
                                "host port 80/tcp), or lower minimumHealthyPercent so an old task can stop first"),
    ("DISTINCT_INSTANCE", STALL_FIX, "add a container instance (distinctInstance runs at most one task of the service "
                                     "on each), or lower minimumHealthyPercent so an old task can stop first"),
    ("InsufficientFreeAddressesInSubnet", STALL_FIX, "give the service more or larger subnets (networkConfiguration."
                                                     "awsvpcConfiguration.subnets), or lower minimumHealthyPercent so an "
                                                     "old task can stop first"),
    # no old task's stop helps: no instance admits the task, or there is none
    ("MemberOf placement constraint unsatisfied", STALL_FIX,
     "register a container instance that the memberOf placement constraints admit, or change the constraints"),
    ("ATTRIBUTE", STALL_FIX, "register a container instance with the attributes the task definition requires "
                             "(requiresAttributes, runtimePlatform), or drop the requirement"),
    ("NO_INSTANCES", STALL_FIX, "register ACTIVE container instances, with a connected agent, in the cluster"),
    # a service short of its count (no stall fix of its own): no dangling ", or "
    ("RESOURCE:MEMORY", "", "add a container instance with room for one more task (512 CPU units, 1024 MiB, host port 80/tcp)"),
])
def test_the_fix_for_unplaceable_tasks_follows_the_schedulers_reason(reason, fix, expected):
    from ecsctl.app.forecast import unplaced_fix
    from ecsctl.core.scheduling.placement import PortNeed, TaskDemand

    assert unplaced_fix(reason, TaskDemand(512, 1024, ports=(PortNeed(80, 80),)), fix) == expected
