"""The rolling deployments a plan starts (DESIGN §6): steps, stalls, failures, rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsctl.app.plan import apply_plan, backend_for, load_plan, make_plan, read_manifests, save_plan
from ecsctl.cli.render.plan import render_plan_text
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import doc, write_stack

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web"


def taskdef(name: str, *, image: str = "nginx:1.27", memory: int = 256, host_port: int = 0, **extra) -> dict:
    c = {"name": "app", "image": image, "essential": True, "cpu": 128, "memory": memory,
         "portMappings": [{"containerPort": 8080, "hostPort": host_port}]}
    return doc("TaskDefinition", name, {"requiresCompatibilities": ["EC2"], "networkMode": "bridge",
                                        "containerDefinitions": [c], **extra})


def cluster(count: int = 2, instance_type: str = "m5.large") -> dict:
    return doc("Cluster", "prod", {"containerInstances": [
        {"name": "general", "count": count, "instanceType": instance_type, "availabilityZone": "eu-west-1a"}]})


def service(name: str, desired: int, min_pct: int = 100, max_pct: int = 200, **extra) -> dict:
    return doc("Service", name, {"cluster": "prod", "taskDefinition": name, "desiredCount": desired, "launchType": "EC2",
                                 "deploymentConfiguration": {"minimumHealthyPercent": min_pct, "maximumPercent": max_pct},
                                 **extra})


def plan_of(tmp_path: Path, docs: list[dict], store):
    return make_plan(read_manifests([str(write_stack(tmp_path / "m", docs))]), store)


def deployed(tmp_path: Path, store, docs: list[dict]) -> None:
    apply_plan(plan_of(tmp_path, docs, store), store, backend_for(store))


def steps(d: dict) -> list[tuple]:
    return [(s["stopOld"], s["startNew"], s["oldRunning"], s["newRunning"]) for s in d["steps"]]


@pytest.fixture
def store(tmp_path: Path):
    with SqliteStateStore(str(tmp_path / "state.db")) as s:
        yield s


def test_new_image_with_room_for_everything_is_design_example_1(tmp_path: Path, store) -> None:
    docs = [cluster(2), taskdef("web"), service("web", 4, min_pct=50)]
    deployed(tmp_path, store, docs)
    docs[1] = taskdef("web", image="nginx:1.28")
    plan = plan_of(tmp_path, docs, store)
    [d] = plan.deployments
    assert {k: d[k] for k in ("service", "from", "to", "desiredCount", "minimumHealthyPercent", "maximumPercent", "outcome")} == {
        "service": "service/prod/web", "from": "web:1", "to": "web:2", "desiredCount": 4,
        "minimumHealthyPercent": 50, "maximumPercent": 200, "outcome": "complete"}
    assert steps(d) == [(2, 4, 2, 4), (2, 0, 0, 4)]
    text = render_plan_text(plan)
    assert "~ deployment of service/prod/web: web:1 -> web:2 (desired 4, min 50%, max 200%)" in text
    assert "step 1: stop 2 old, start 4 new -> 2 old, 4 new running" in text
    assert "complete in 2 steps" in text
    saved = tmp_path / "plan.json"  # plan files keep their deployments
    save_plan(plan, str(saved))
    assert load_plan(str(saved), restore=False).deployments == plan.deployments
    apply_plan(plan, store, backend_for(store))


def test_a_cluster_that_fits_8_tasks_is_design_example_2(tmp_path: Path, store) -> None:
    # m5.large registers 7,479 MiB: 4 tasks of 1,800 MiB each, 8 on two instances
    docs = [cluster(2), taskdef("web", memory=1800), service("web", 6)]
    deployed(tmp_path, store, docs)
    docs[1] = taskdef("web", memory=1800, image="nginx:1.28")
    [d] = plan_of(tmp_path, docs, store).deployments
    assert (d["outcome"], d["desiredCount"], d["minimumHealthyPercent"], d["maximumPercent"]) == ("complete", 6, 100, 200)
    assert steps(d) == [(0, 2, 6, 2), (2, 2, 4, 4), (2, 2, 2, 6), (2, 0, 0, 6)]


def test_static_host_port_on_every_instance_stalls_on_ports(tmp_path: Path, store) -> None:
    docs = [cluster(2), taskdef("edge", host_port=80), service("edge", 2)]
    deployed(tmp_path, store, docs)
    docs[1] = taskdef("edge", host_port=80, image="nginx:1.28")
    [d] = plan_of(tmp_path, docs, store).deployments
    assert d["outcome"] == "stalled"
    assert d["steps"] == []
    assert "RESOURCE:PORTS" in d["reason"]
    assert "lower minimumHealthyPercent" in d["fix"]
    assert d["fix"].startswith("add a container instance with room for one more task (") and "host port 80/tcp" in d["fix"]


def test_min_100_max_100_leaves_no_room(tmp_path: Path, store) -> None:
    """CreateService accepts such bounds (validate warns, W3017); the plan shows the stall and its fix."""
    docs = [cluster(2), taskdef("web"), service("web", 2, max_pct=100)]
    deployed(tmp_path, store, docs)
    docs[1] = taskdef("web", image="nginx:1.28")
    plan = plan_of(tmp_path, docs, store)
    [d] = plan.deployments
    assert (d["outcome"], d["steps"], d["maximumPercent"]) == ("stalled", [], 100)
    assert d["reason"].startswith("minimumHealthyPercent/maximumPercent leave no room")
    assert d["fix"] == "lower minimumHealthyPercent to 50 or raise maximumPercent to 150"
    text = render_plan_text(plan)
    assert "STALLED: minimumHealthyPercent/maximumPercent leave no room" in text
    assert "fix: lower minimumHealthyPercent to 50 or raise maximumPercent to 150" in text
    assert text.rstrip().endswith("1 deployment: 1 would stall.")


def test_max_below_100_caps_the_deployment_after_the_old_tasks_are_gone(tmp_path: Path, store) -> None:
    """D=4, m=0, M=50 (upper = 2): step 1 stops the 4 old tasks and starts 2 new; then
    old + new < upper no longer holds, so the deployment stalls at 2 (DESIGN §6, rule 2), in
    the plan and in apply alike, rather than scaling to 4 once no old task is left."""
    from ecsctl.core.state.ports import Task

    docs = [cluster(4), taskdef("web"), service("web", 4, min_pct=0, max_pct=100)]
    deployed(tmp_path, store, docs)
    docs[1], docs[2] = taskdef("web", image="nginx:1.28"), service("web", 4, min_pct=0, max_pct=50)
    plan = plan_of(tmp_path, docs, store)
    [d] = plan.deployments
    assert (d["outcome"], steps(d)) == ("stalled", [(4, 2, 0, 2)])
    assert d["fix"] == "raise maximumPercent to 100 or more"
    [p] = [p for p in plan.predictions if p["address"] == "service/prod/web"]
    assert (p["short"], p["tasks"], p["fix"]) == (2, {"web:2": 2}, "raise maximumPercent to 100 or more")
    apply_plan(plan, store, backend_for(store))
    running = [t.task_definition for t in store.find(Task, last_status="RUNNING")]
    assert running == ["web:2", "web:2"]  # what the plan said


def test_awsvpc_tasks_on_ec2_are_bounded_by_the_instances_network_interfaces(tmp_path: Path, store) -> None:
    """An m5.large attaches 3 network interfaces, one the instance's own: 2 awsvpc tasks each
    (without ENI trunking). 2 instances of it run 4 of the 6; the plan says RESOURCE:ENI first."""
    from ecsctl.core.state.ports import Task

    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    docs = [cluster(2), taskdef("web", networkMode="awsvpc"), service("web", 6, networkConfiguration=net)]
    docs[1]["spec"]["containerDefinitions"][0]["portMappings"] = [{"containerPort": 8080}]
    plan = plan_of(tmp_path, docs, store)
    [p] = [p for p in plan.predictions if p["address"] == "service/prod/web"]
    assert (p["placeable"], p["unplaceable"], p["reason"]) == (4, 2, "RESOURCE:ENI")
    apply_plan(plan, store, backend_for(store))
    assert len(store.find(Task, last_status="RUNNING")) == 4


def test_an_instance_with_eni_trunking_is_not_limited_by_its_interfaces(tmp_path: Path, store) -> None:
    """ENI trunking (the instance carries ecs.awsvpc-trunk-id) multiplies the awsvpc tasks an
    instance takes; ecsctl does not model its limits, so it sets none (rather than forecasting
    RESOURCE:ENI for an account that has it, as real instances read with --backend aws do)."""
    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    trunked = doc("Cluster", "prod", {"containerInstances": [
        {"name": "general", "count": 2, "instanceType": "m5.large", "availabilityZone": "eu-west-1a",
         "attributes": {"ecs.awsvpc-trunk-id": "eni-0123456789abcdef0"}}]})
    docs = [trunked, taskdef("web", networkMode="awsvpc"), service("web", 6, networkConfiguration=net)]
    docs[1]["spec"]["containerDefinitions"][0]["portMappings"] = [{"containerPort": 8080}]
    [p] = [p for p in plan_of(tmp_path, docs, store).predictions if p["address"] == "service/prod/web"]
    assert (p["placeable"], p["unplaceable"]) == (6, 0)


def test_create_service_accepts_bounds_that_leave_no_room(tmp_path: Path) -> None:
    """The issue's example: desiredCount 2, minimumHealthyPercent 75, maximumPercent 100 (lower =
    ceil(1.5) = 2, upper = 2): a warning, and --strict makes it fail."""
    from ecsctl.app.validate import validate_paths

    docs = [cluster(2), taskdef("web"), service("web", 2, min_pct=75, max_pct=100)]
    directory = write_stack(tmp_path / "m", docs)
    report = validate_paths([str(directory)])
    assert report.errors == 0
    assert [f.rule for f in report.findings] == ["W3017"]
    strict = validate_paths([str(directory)], strict=True)
    assert (strict.errors, strict.warnings, [f.rule for f in strict.findings]) == (1, 0, ["W3017"])


def test_an_ecr_tag_missing_from_its_repository_fails(tmp_path: Path, store) -> None:
    repo = doc("Repository", "web", {"images": ["1.0"]})
    docs = [cluster(2), repo, taskdef("web", image=f"{ECR}:1.0"),
            service("web", 2, deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})]
    deployed(tmp_path, store, docs)
    docs[2] = taskdef("web", image=f"{ECR}:2.0")
    plan = plan_of(tmp_path, docs, store)
    [d] = plan.deployments
    # D=2 at 100/200: no old task stops; new ones are started and fail until the breaker's 3 (the
    # threshold is at least 3), each step ending with the old two running
    assert d["outcome"] == "failed"
    assert d["steps"] == [{"stopOld": 0, "startNew": 2, "oldRunning": 2, "newRunning": 0, "failedNew": 2},
                          {"stopOld": 0, "startNew": 1, "oldRunning": 2, "newRunning": 0, "failedNew": 1}]
    assert d["reason"].startswith("CannotPullContainerError:") and f"{ECR}:2.0 not found" in d["reason"]
    assert "the circuit breaker would stop it after 3 failed tasks and rollback to web:1" in d["reason"]
    assert "FAILED: CannotPullContainerError" in render_plan_text(plan)
    # the plan pushes the tag in the same run: nothing fails
    docs[1] = doc("Repository", "web", {"images": ["1.0", "2.0"]})
    [d] = plan_of(tmp_path, docs, store).deployments
    assert d["outcome"] == "complete"


def test_a_desired_count_change_is_no_deployment(tmp_path: Path, store) -> None:
    docs = [cluster(2), taskdef("web"), service("web", 2)]
    deployed(tmp_path, store, docs)
    docs[2] = service("web", 3)
    plan = plan_of(tmp_path, docs, store)
    assert plan.has_changes and plan.deployments == []
    assert plan_of(tmp_path, [cluster(2), taskdef("web"), service("web", 2), taskdef("api"), service("api", 1)], store).deployments == []  # a create


def test_a_redeploy_field_starts_a_deployment_and_fargate_is_not_blocked(tmp_path: Path, store) -> None:
    fargate_td = doc("TaskDefinition", "api", {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256",
                                               "memory": "512", "containerDefinitions": [{"name": "app", "image": "nginx:1.27"}]})
    net = {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}
    api = doc("Service", "api", {"cluster": "prod", "taskDefinition": "api", "desiredCount": 3, "launchType": "FARGATE",
                                 "networkConfiguration": net})
    docs = [cluster(1), fargate_td, api]
    deployed(tmp_path, store, docs)
    api2 = json.loads(json.dumps(api))
    api2["spec"]["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": ["subnet-b"]}}
    [d] = plan_of(tmp_path, [cluster(1), fargate_td, api2], store).deployments
    assert (d["from"], d["to"], d["outcome"]) == ("api:1", "api:1", "complete")
    assert steps(d) == [(0, 3, 3, 3), (3, 0, 0, 3)]


def test_cli_shows_a_stalled_deployment_in_text_and_json(tmp_path: Path, store, monkeypatch) -> None:
    from ecsctl.cli.app import app

    docs = [cluster(2), taskdef("edge", host_port=80), service("edge", 2)]
    deployed(tmp_path, store, docs)
    docs[1] = taskdef("edge", host_port=80, image="nginx:1.28")
    manifests = write_stack(tmp_path / "m", docs)
    store.close()
    runner = CliRunner()
    state = str(tmp_path / "state.db")
    text = runner.invoke(app, ["plan", "-f", str(manifests), "--state", state])
    assert "~ deployment of service/prod/edge: edge:1 -> edge:2 (desired 2, min 100%, max 200%)" in text.output, text.output
    assert "STALLED: new tasks cannot be placed (RESOURCE:PORTS)" in text.output
    assert "fix: add a container instance with room for one more task" in text.output
    assert "1 deployment: 1 would stall." in text.output
    out = runner.invoke(app, ["plan", "-f", str(manifests), "--state", state, "-o", "json"])
    [d] = json.loads(out.output)["deployments"]
    assert list(d) == ["service", "from", "to", "desiredCount", "minimumHealthyPercent", "maximumPercent",
                       "outcome", "reason", "fix", "steps"]
    assert (d["outcome"], d["steps"]) == ("stalled", [])


def test_a_task_larger_than_any_instance_is_not_told_to_wait_for_room(tmp_path: Path, store) -> None:
    """A revision needing more memory than an m5.large registers cannot be placed on any instance
    of the cluster, however many there are or however many old tasks stop: the fix says so
    (and that ECS accepts the task definition: it is the placement that fails, RESOURCE:MEMORY)."""
    deployed(tmp_path, store, [cluster(2), taskdef("web"), service("web", 2, min_pct=50)])
    plan = plan_of(tmp_path, [cluster(2), taskdef("web", memory=16384), service("web", 2, min_pct=50)], store)
    [d] = plan.deployments
    assert d["outcome"] == "stalled" and d["reason"] == "new tasks cannot be placed (RESOURCE:MEMORY)"
    assert d["fix"].startswith("no container instance of the cluster can hold one task (128 CPU units, 16384 MiB; "
                               "the largest registers 2048 CPU units, ")
    assert "minimumHealthyPercent" not in d["fix"] and d["fix"].endswith("of a larger instance type")


def test_rolling_forward_over_a_stalled_revision_deploys_from_what_runs(tmp_path: Path, store) -> None:
    """web:2 stalled (too large to place: its old web:1 tasks keep running); the fix, web:3, is
    planned from web:1, the revision of the tasks it replaces, not from web:2, which never ran."""
    deployed(tmp_path, store, [cluster(2), taskdef("web"), service("web", 2, min_pct=100)])
    stalled = plan_of(tmp_path, [cluster(2), taskdef("web", memory=16384), service("web", 2, min_pct=100)], store)
    apply_plan(stalled, store, backend_for(store))
    plan = plan_of(tmp_path, [cluster(2), taskdef("web", memory=512), service("web", 2, min_pct=100)], store)
    [d] = plan.deployments
    assert (d["from"], d["to"], d["outcome"]) == ("web:1", "web:3", "complete")
    assert "deployment of service/prod/web: web:1 -> web:3" in render_plan_text(plan)


def test_from_is_the_newest_deployment_with_tasks_in_sequence_not_by_hash(tmp_path: Path, store) -> None:
    """api:2 stalled half-way (one api:1 and one api:2 task running): api:3 deploys from api:2,
    the newer of the two. Deployments made in one apply share their createdAt and their ids are
    hashes, so only their sequence orders them (for 'api' the hashes sort the other way round)."""
    deployed(tmp_path, store, [cluster(1), taskdef("api"), service("api", 2, min_pct=100, max_pct=150)])
    half = plan_of(tmp_path, [cluster(1), taskdef("api", memory=5000), service("api", 2, min_pct=100, max_pct=150)], store)
    apply_plan(half, store, backend_for(store))
    plan = plan_of(tmp_path, [cluster(1), taskdef("api", memory=512), service("api", 2, min_pct=100, max_pct=150)], store)
    [d] = plan.deployments
    assert (d["from"], d["to"]) == ("api:2", "api:3")
