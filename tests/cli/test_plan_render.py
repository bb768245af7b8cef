"""Plan renderings, pinned by golden files in tests/golden/plan/ (UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import json

import pytest

from ecsctl.cli.render.plan import display_path, render_plan_json, render_plan_text
from ecsctl.core.plan.graph import build_steps
from ecsctl.core.plan.model import Change, Drift, FieldChange, Plan, address

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
LINEAGE = "5b1e8c1a-7d3f-4e2a-9c61-0d8e4f2b7a10"

CLUSTER = {
    "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
    "settings": [{"name": "containerInsights", "value": "enabled"}],
    "containerInstances": [{"name": "general-a", "count": 2, "instanceType": "m5.large", "attributes": {"stack": "prod"}}],
}
TARGET_GROUP = {"port": 8080, "protocol": "HTTP", "targetType": "ip", "healthCheck": {"path": "/healthz", "intervalSeconds": 15}}


def taskdef(image: str = "nginx:1.26", env: list | None = None) -> dict:
    return {
        "family": "web",
        "cpu": "256",
        "memory": "512",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [
            {
                "name": "web",
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": env if env is not None else [{"name": "DB_NAME", "value": "storefront"}, {"name": "DB_PASSWORD", "value": "hunter2"}],
                "secrets": [
                    {"name": "DB_HOST", "valueFrom": "/prod/web/db-host"},
                    {"name": "DB_USER", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/web/db-Xk9fQ2:username::"},
                ],
            }
        ],
    }


SERVICE = {
    "cluster": "prod",
    "taskDefinition": "web",
    "desiredCount": 3,
    "launchType": "FARGATE",
    "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/6d0e", "containerName": "web", "containerPort": 8080}],
    "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "assignPublicIp": "DISABLED"}},
}


def change(action: str, kind: str, name: str, before=None, after=None, **kw) -> Change:
    return Change(address(kind, name, after or before), kind, name, action, before, after, **kw)


def plan_of(changes: list[Change], *, lineage: str | None = LINEAGE, serial: int = 4, **kw) -> Plan:
    return Plan(lineage, serial, "sha256:0", changes=changes, steps=build_steps(changes, set()), **kw)


def from_empty() -> Plan:
    return plan_of(
        [
            change("create", "Service", "web", after=SERVICE),
            change("create", "TaskDefinition", "web", after=taskdef(f"{ECR}/web:1.4.2")),
            change("create", "Cluster", "prod", after=CLUSTER),
            change("create", "TargetGroup", "web", after=TARGET_GROUP),
            change("create", "Parameter", "/prod/web/db-host", after={"type": "String", "description": "DB host"}),
        ],
        lineage=None,
        serial=0,
    )


def an_update() -> Plan:
    new_env = [{"name": "DB_NAME", "value": "storefront"}, {"name": "DB_PASSWORD", "value": "hunter3"}, {"name": "LOG_LEVEL", "value": "debug"}]
    before, after = taskdef("nginx:1.26"), taskdef("nginx:1.27", new_env)
    return plan_of(
        [
            change(
                "update", "TaskDefinition", "web", before, after,
                fields=(
                    FieldChange(("containerDefinitions", 0, "image"), "change", "nginx:1.26", "nginx:1.27"),
                    FieldChange(("containerDefinitions", 0, "environment", 1, "value"), "change", "hunter2", "hunter3"),
                    FieldChange(("containerDefinitions", "web", "environment", "LOG_LEVEL"), "add", None, {"name": "LOG_LEVEL", "value": "debug"}),
                ),
                reason="task definition changed",
            ),
            change(
                "update", "Service", "web", SERVICE, {**SERVICE, "desiredCount": 4},
                fields=(FieldChange(("desiredCount",), "change", 3, 4),),
            ),
            change("no-op", "Cluster", "prod", CLUSTER, CLUSTER),
            change("no-op", "TargetGroup", "web", TARGET_GROUP, TARGET_GROUP),
        ]
    )


def a_replace() -> Plan:
    after = {**SERVICE, "launchType": "EC2", "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}}
    return plan_of(
        [
            change(
                "replace", "Service", "web", SERVICE, after,
                fields=(
                    FieldChange(("launchType",), "change", "FARGATE", "EC2"),
                    FieldChange(("networkConfiguration", "awsvpcConfiguration", "subnets", 1), "remove", "subnet-2", None),
                ),
                replace_paths=(("launchType",),),
                reason="launchType cannot be changed in place",
            )
        ],
    )


def a_delete() -> Plan:
    return plan_of(
        [
            change("delete", "Service", "old", before={**SERVICE, "taskDefinition": "old"}),
            change("delete", "TaskDefinition", "old", before={**taskdef(), "family": "old"}, reason="no longer in the manifests"),
        ]
    )


def drift_only() -> Plan:
    return plan_of(
        [change("no-op", "Service", "web", SERVICE, SERVICE)],
        drift=[
            Drift("service/prod/web", "desiredCount", 3, 5, "target tracking policy cpu70 scaled out"),
            Drift("cluster/prod", "containerInstances[general-a].count", 2, 1, "an instance was terminated"),
        ],
    )


WORKER = {"cluster": "prod", "taskDefinition": "worker", "desiredCount": 8, "launchType": "EC2"}
CLOSEST = "742cd6db1c5e5a0fa3a0b5d4e1f2c3d4"


def with_placement() -> Plan:
    unable = "was unable to place a task because no container instance met all of its requirements."
    return plan_of(
        [
            change("update", "Service", "worker", {**WORKER, "desiredCount": 4}, WORKER,
                   fields=(FieldChange(("desiredCount",), "change", 4, 8),)),
            change("update", "Service", "web", {**SERVICE, "desiredCount": 3}, {**SERVICE, "desiredCount": 5},
                   fields=(FieldChange(("desiredCount",), "change", 3, 5),)),
        ],
        predictions=[
            {"address": "service/prod/web", "wanted": 5, "placeable": 5, "unplaceable": 0, "reason": "", "message": "",
             "closestInstance": None, "tasks": {"web:3": 2, "web:4": 3}},
            {"address": "service/prod/worker", "wanted": 8, "placeable": 6, "unplaceable": 2, "reason": "RESOURCE:MEMORY",
             "message": f"service (worker) {unable} The closest matching container-instance {CLOSEST} has insufficient memory available.",
             "closestInstance": CLOSEST, "tasks": {"worker:1": 6}},
        ],
    )


def with_deployments() -> Plan:
    """One deployment of each outcome, as ``app.forecast`` builds them (DESIGN §6), one rolled back."""
    api = {**SERVICE, "taskDefinition": "api"}
    return plan_of(
        [
            change("update", "Service", "web", SERVICE, {**SERVICE, "taskDefinition": "web:4"},
                   fields=(FieldChange(("taskDefinition",), "change", "web:3", "web:4"),)),
            change("update", "Service", "api", api, {**api, "taskDefinition": "api:8"},
                   fields=(FieldChange(("taskDefinition",), "change", "api:7", "api:8"),)),
            change("update", "Service", "edge", {**SERVICE, "taskDefinition": "edge"}, {**SERVICE, "taskDefinition": "edge:2"},
                   fields=(FieldChange(("taskDefinition",), "change", "edge:1", "edge:2"),)),
        ],
        deployments=[
            {"service": "service/prod/api", "from": "api:7", "to": "api:8", "desiredCount": 2, "minimumHealthyPercent": 100,
             "maximumPercent": 200, "outcome": "failed",
             "reason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
                       "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:8 not found; the circuit breaker would stop it "
                       "after 3 failed tasks and rollback to api:7",
             "fix": "push the image tag to its repository (the Repository's images) or use a tag it holds",
             "rolledBackTo": "api:7",
             "steps": [{"stopOld": 1, "startNew": 0, "oldRunning": 1, "newRunning": 0},
                       {"stopOld": 0, "startNew": 0, "oldRunning": 2, "newRunning": 0, "startOld": 1, "stopNew": 0,
                        "rollback": True}]},
            {"service": "service/prod/edge", "from": "edge:1", "to": "edge:2", "desiredCount": 2, "minimumHealthyPercent": 100,
             "maximumPercent": 200, "outcome": "stalled", "reason": "new tasks cannot be placed (RESOURCE:PORTS)",
             "fix": "add capacity for at least 1 more task, or lower minimumHealthyPercent so an old task can stop first",
             "steps": []},
            {"service": "service/prod/web", "from": "web:3", "to": "web:4", "desiredCount": 6, "minimumHealthyPercent": 100,
             "maximumPercent": 200, "outcome": "complete", "reason": "", "fix": "",
             "steps": [{"stopOld": 0, "startNew": 2, "oldRunning": 6, "newRunning": 2},
                       {"stopOld": 2, "startNew": 2, "oldRunning": 4, "newRunning": 4},
                       {"stopOld": 2, "startNew": 2, "oldRunning": 2, "newRunning": 6},
                       {"stopOld": 2, "startNew": 0, "oldRunning": 0, "newRunning": 6}]},
        ],
    )


def with_capacity() -> Plan:
    """A group that grows but not enough (maxSize 3), and one already at its maxSize, as
    ``managed_scaling.forecast`` reports them."""
    api = {"cluster": "prod", "taskDefinition": "api", "desiredCount": 8}
    jobs = {"cluster": "batch", "taskDefinition": "jobs", "desiredCount": 12}
    return plan_of(
        [change("update", "Service", "api", {**api, "desiredCount": 2}, api, fields=(FieldChange(("desiredCount",), "change", 2, 8),)),
         change("update", "Service", "jobs", {**jobs, "desiredCount": 10}, jobs,
                fields=(FieldChange(("desiredCount",), "change", 10, 12),))],
        predictions=[
            {"address": "service/batch/jobs", "wanted": 12, "placeable": 10, "unplaceable": 0, "provisioning": 2,
             "reason": "", "message": "", "closestInstance": None, "tasks": {"jobs:1": 10}},
            {"address": "service/prod/api", "wanted": 8, "placeable": 2, "unplaceable": 0, "provisioning": 6,
             "reason": "", "message": "", "closestInstance": None, "tasks": {"api:1": 2}},
        ],
        capacity=[
            {"capacityProvider": "general", "cluster": "prod", "instanceType": "m5.large", "count": 2,
             "zones": ["eu-west-1a", "eu-west-1b"], "from": 1, "to": 3, "reservation": 400.0, "provisioningTasks": 6,
             "message": "2 more m5.large in eu-west-1a/b", "maxSize": 3, "staysProvisioning": 2,
             "services": ["service/prod/api"]},
            {"capacityProvider": "batch", "cluster": "batch", "instanceType": "m5.large", "count": 0, "zones": [],
             "from": 5, "to": 5, "reservation": 120.0, "provisioningTasks": 2, "message": "no instance to launch",
             "maxSize": 3, "staysProvisioning": 2, "services": ["service/batch/jobs"]},
            {"capacityProvider": "spare", "cluster": "prod", "instanceType": "m5.large", "count": 1,
             "zones": ["eu-west-1c"], "from": 2, "to": 3, "reservation": 150.0, "provisioningTasks": 2,
             "message": "1 more m5.large in eu-west-1c", "maxSize": 10, "staysProvisioning": 0, "services": []},
        ],
    )


def no_changes() -> Plan:
    return plan_of([change("no-op", "Cluster", "prod", CLUSTER, CLUSTER)])


PLANS = {
    "from_empty": from_empty,
    "update": an_update,
    "replace": a_replace,
    "delete": a_delete,
    "drift_only": drift_only,
    "no_changes": no_changes,
    "placement": with_placement,
    "deployments": with_deployments,
    "capacity": with_capacity,
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_text(golden, name: str) -> None:
    golden(f"plan/{name}.txt", render_plan_text(PLANS[name]()))


@pytest.mark.parametrize("name", ["update", "delete", "replace"])
def test_text_full(golden, name: str) -> None:
    golden(f"plan/{name}.full.txt", render_plan_text(PLANS[name](), full=True))


def test_text_color(golden) -> None:
    changes = [from_empty().changes[3], an_update().changes[0], a_replace().changes[0], a_delete().changes[1]]
    assert [c.action for c in changes] == ["create", "update", "replace", "delete"]
    golden("plan/mixed.color.txt", render_plan_text(plan_of(changes, drift=drift_only().drift[:1]), color=True))


def test_json(golden) -> None:
    golden("plan/update.json", render_plan_json(an_update()))


def test_json_deployments_are_design_section_6() -> None:
    plan = with_deployments()
    data = json.loads(render_plan_json(plan))
    assert data["deployments"] == plan.deployments
    design = ["service", "from", "to", "desiredCount", "minimumHealthyPercent", "maximumPercent",
              "outcome", "reason", "fix", "steps"]
    for d in data["deployments"]:  # DESIGN's keys in order; a rolled-back one also says where to
        assert [k for k in d if k in design] == design and set(d) - set(design) <= {"rolledBackTo"}
    text = render_plan_text(plan)
    assert text.endswith("Plan: 0 to create, 3 to update, 0 to replace, 0 to destroy. 2 deployments: 1 would stall, 1 would fail.\n")


def test_placement_in_the_text_and_the_json() -> None:
    text = render_plan_text(with_placement())
    assert ("  ! service/prod/worker: 2 of 8 tasks cannot be placed: RESOURCE:MEMORY "
            "(closest instance 742cd6db… has insufficient memory available)") in text
    assert "    service/prod/web: all 5 tasks can be placed" in text
    assert text.endswith("Plan: 0 to create, 2 to update, 0 to replace, 0 to destroy.\n"
                         "Placement: 2 tasks of 1 service cannot be placed.\n")
    assert "\x1b[31m!\x1b[0m service/prod/worker" in render_plan_text(with_placement(), color=True)
    data = json.loads(render_plan_json(with_placement()))
    assert [(p["address"], p["unplaceable"]) for p in data["placement"]] == [("service/prod/web", 0), ("service/prod/worker", 2)]


@pytest.mark.parametrize("name", sorted(PLANS))
def test_color_only_on_request(name: str) -> None:
    assert "\x1b[" not in render_plan_text(PLANS[name]())


@pytest.mark.parametrize(("name", "full"), [("from_empty", False), ("from_empty", True), ("update", False), ("update", True), ("delete", True)])
def test_sensitive_values_are_masked_unless_asked_for(name: str, full: bool) -> None:
    plan = PLANS[name]()
    masked = render_plan_text(plan, full=full)
    assert "hunter" not in masked and "(sensitive" in masked
    assert "hunter" in render_plan_text(plan, full=full, show_sensitive=True)


def test_json_masks_like_the_text() -> None:
    assert "hunter" not in render_plan_json(an_update())
    assert '"hunter3"' in render_plan_json(an_update(), show_sensitive=True)


def test_secret_references_are_shown_as_references() -> None:
    text = render_plan_text(from_empty())
    assert 'valueFrom: "/prod/web/db-host"' in text
    assert 'valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/web/db-Xk9fQ2:username::"' in text


@pytest.mark.parametrize(
    ("plan", "summary"),
    [
        (from_empty(), "Plan: 5 to create, 0 to update, 0 to replace, 0 to destroy.\n"),
        (an_update(), "Plan: 0 to create, 2 to update, 0 to replace, 0 to destroy.\n"),
        (a_replace(), "Plan: 0 to create, 0 to update, 1 to replace, 0 to destroy.\n"),
        (a_delete(), "Plan: 0 to create, 0 to update, 0 to replace, 2 to destroy.\n"),
        (drift_only(), "No changes to apply. The drift above stays as it is.\n"),
        (Plan(None, 0, "h"), "No changes. The state matches the manifests.\n"),
    ],
)
def test_summary_line(plan: Plan, summary: str) -> None:
    assert render_plan_text(plan).endswith(summary)


def test_json_is_the_view() -> None:
    data = json.loads(render_plan_json(an_update()))
    assert data["summary"] == {"create": 0, "update": 2, "replace": 0, "delete": 0, "no_op": 2, "reconcile": 0}
    assert [c["action"] for c in data["changes"]] == ["update", "update", "no-op", "no-op"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("containerDefinitions", 0, "image"), "containerDefinitions[web].image"),
        (("containerDefinitions", "web", "image"), "containerDefinitions[web].image"),
        (("containerDefinitions", 0, "environment", 1, "value"), "containerDefinitions[web].environment[DB_PASSWORD]"),
        (("containerDefinitions", 0, "portMappings", 0, "containerPort"), "containerDefinitions[web].portMappings[0].containerPort"),
        (("requiresCompatibilities", 0), "requiresCompatibilities[0]"),
        (("cpu",), "cpu"),
        (("unknown", "deep", 3), "unknown.deep[3]"),
        ((), ""),
    ],
)
def test_display_path(path: tuple, expected: str) -> None:
    assert display_path(path, taskdef(), None) == expected
