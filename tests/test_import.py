"""``ecsctl import`` of AWS's own describe-* output into a state of the local simulation.

The inputs are shaped as ``aws ecs describe-task-definition --include TAGS`` and ``aws ecs
describe-services --include TAGS`` print them (the DescribeTaskDefinition / DescribeServices
output shapes of botocore's ECS model); what is asserted comes from those documents — their
revision, desired count, cluster — not from ecsctl's own output.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ecsctl.cli.app import app

ACCOUNT, REGION = "123456789012", "eu-west-1"

# aws ecs describe-task-definition --task-definition api:7 --include TAGS, for an untagged one
DESCRIBED_TASK_DEFINITION = {
    "taskDefinition": {
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/api:7",
        "containerDefinitions": [{
            "name": "api", "image": "nginx:1.27", "cpu": 256, "memory": 512,
            "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
            "essential": True, "environment": [], "mountPoints": [], "volumesFrom": [], "systemControls": [],
        }],
        "family": "api",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
        "networkMode": "awsvpc", "revision": 7, "volumes": [], "status": "ACTIVE",
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"},
                               {"name": "ecs.capability.task-eni"}],
        "placementConstraints": [], "compatibilities": ["EC2", "FARGATE"], "requiresCompatibilities": ["FARGATE"],
        "cpu": "256", "memory": "512",
        "registeredAt": "2024-05-02T10:11:12.345000+00:00", "registeredBy": f"arn:aws:iam::{ACCOUNT}:root",
    },
    "tags": [],
}

# aws ecs describe-services --cluster prod --services api --include TAGS
DESCRIBED_SERVICES = {"services": [{
    "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/api", "serviceName": "api",
    "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod", "loadBalancers": [], "serviceRegistries": [],
    "status": "ACTIVE", "desiredCount": 2, "runningCount": 2, "pendingCount": 0, "launchType": "FARGATE",
    "platformVersion": "LATEST", "platformFamily": "Linux",
    "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/api:7",
    "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": False, "rollback": False},
                                "maximumPercent": 200, "minimumHealthyPercent": 100},
    "deployments": [], "roleArn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
    "events": [], "createdAt": "2024-05-02T10:12:00.000000+00:00", "placementConstraints": [], "placementStrategy": [],
    "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d"], "securityGroups": ["sg-0a1b2c3d"],
                                                     "assignPublicIp": "DISABLED"}},
    "healthCheckGracePeriodSeconds": 0, "schedulingStrategy": "REPLICA", "deploymentController": {"type": "ECS"},
    "createdBy": f"arn:aws:iam::{ACCOUNT}:root", "enableECSManagedTags": False, "propagateTags": "NONE",
    "enableExecuteCommand": False, "tags": [],
}], "failures": []}

SERVICE = DESCRIBED_SERVICES["services"][0]
CLUSTER = "apiVersion: ecsctl/v1\nkind: Cluster\nmetadata:\n  name: prod\nspec: {}\n"


@pytest.fixture
def files(tmp_path: Path) -> dict:
    (tmp_path / "td.json").write_text(json.dumps(DESCRIBED_TASK_DEFINITION, indent=1))
    (tmp_path / "svc.json").write_text(json.dumps(DESCRIBED_SERVICES, indent=1))
    return {"td": str(tmp_path / "td.json"), "svc": str(tmp_path / "svc.json"), "state": str(tmp_path / "s.db"),
            "out": tmp_path / "k"}


def cli(runner, *args, state):
    return runner.invoke(app, [*map(str, args), "--state", state])


def as_json(runner, state, *args):
    result = cli(runner, *args, "-o", "json", state=state)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_import_into_a_state_with_the_cluster_runs_the_service(runner, files, tmp_path):
    """As after ``terraform import``: the imported service exists (in the simulation) with its
    described revision and desired count, and plan shows no changes and no drift."""
    state, out = files["state"], files["out"]
    out.mkdir()
    (out / "cluster.yaml").write_text(CLUSTER)
    assert cli(runner, "apply", "-f", out, "--auto-approve", state=state).exit_code == 0
    imported = cli(runner, "import", files["td"], files["svc"], "--out", out, state=state)
    assert imported.exit_code == 0, imported.output
    family, revision = SERVICE["taskDefinition"].rsplit("/", 1)[-1].split(":")
    taskdefs = as_json(runner, state, "get", "taskdefs")
    assert [(t["family"], t["revision"], t["status"]) for t in taskdefs] == [(family, int(revision), "ACTIVE")]
    (svc,) = as_json(runner, state, "get", "services")
    assert (svc["cluster"], svc["name"], svc["taskDefinition"]) == ("prod", SERVICE["serviceName"], f"{family}:{revision}")
    assert svc["desiredCount"] == svc["runningCount"] == SERVICE["desiredCount"]
    plan = as_json(runner, state, "plan", "-f", out)
    assert plan["drift"] == [] and all(c["action"] == "no-op" for c in plan["changes"]), plan
    assert cli(runner, "plan", "-f", out, "--detailed-exitcode", state=state).exit_code == 0
    again = cli(runner, "import", files["td"], files["svc"], "--out", out, state=state)  # converges: nothing new
    assert again.exit_code == 0, again.output
    assert len(as_json(runner, state, "get", "tasks", "--status", "RUNNING")) == SERVICE["desiredCount"]


def test_import_before_its_cluster_exists_then_apply_creates_the_service(runner, files):
    """The service of a cluster the simulation does not hold is not recorded (it says so): once a
    Cluster manifest declares the cluster, apply creates it and its tasks run; no drift stays."""
    state, out = files["state"], files["out"]
    imported = cli(runner, "import", files["td"], files["svc"], "--out", out, state=state)
    assert imported.exit_code == 0, imported.output
    assert "service/prod/api: cluster prod is not in the simulation" in imported.stderr
    listed = cli(runner, "state", "list", state=state)
    assert listed.stdout.split() == ["taskdef/api"]
    (out / "cluster.yaml").write_text(CLUSTER)
    plan = as_json(runner, state, "plan", "-f", out)
    assert {(c["address"], c["action"]) for c in plan["changes"] if c["action"] != "no-op"} == {
        ("cluster/prod", "create"), ("service/prod/api", "create")}
    assert plan["drift"] == []
    applied = cli(runner, "apply", "-f", out, "--auto-approve", state=state)
    assert applied.exit_code == 0, applied.output
    (svc,) = as_json(runner, state, "get", "services")
    assert svc["runningCount"] == SERVICE["desiredCount"] and svc["taskDefinition"] == "api:7"
    after = as_json(runner, state, "plan", "-f", out)
    assert after["drift"] == [] and all(c["action"] == "no-op" for c in after["changes"])


def test_a_service_without_its_task_definition_is_not_recorded(runner, files, tmp_path):
    state = files["state"]
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(CLUSTER)
    assert cli(runner, "apply", "-f", cluster, "--auto-approve", state=state).exit_code == 0
    imported = cli(runner, "import", files["svc"], "--no-state", state=state)
    assert imported.exit_code == 0 and "Imported" not in imported.stderr
    imported = cli(runner, "import", files["svc"], state=state)
    assert imported.exit_code == 0, imported.output
    assert "task definition api:7 is not registered" in imported.stderr
    assert cli(runner, "state", "list", state=state).stdout.split() == ["cluster/prod"]
    assert as_json(runner, state, "get", "services") == []


def test_a_register_request_imported_twice_registers_one_revision(runner, tmp_path):
    request = copy.deepcopy(DESCRIBED_TASK_DEFINITION["taskDefinition"])
    for key in ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
                "registeredAt", "registeredBy"):
        request.pop(key)
    path = tmp_path / "register.json"
    path.write_text(json.dumps(request))
    state = str(tmp_path / "s.db")
    for _ in range(2):
        assert cli(runner, "import", path, "--out", tmp_path / "k", state=state).exit_code == 0
    assert [(t["family"], t["revision"]) for t in as_json(runner, state, "get", "taskdefs")] == [("api", 1)]


def test_force_replaces_the_simulated_service_too(runner, files, tmp_path):
    state, out = files["state"], files["out"]
    out.mkdir()
    (out / "cluster.yaml").write_text(CLUSTER)
    assert cli(runner, "apply", "-f", out, "--auto-approve", state=state).exit_code == 0
    assert cli(runner, "import", files["td"], files["svc"], "--out", out, state=state).exit_code == 0
    scaled = copy.deepcopy(DESCRIBED_SERVICES)
    scaled["services"][0]["desiredCount"] = 3
    (tmp_path / "svc3.json").write_text(json.dumps(scaled))
    refused = cli(runner, "import", tmp_path / "svc3.json", "--out", out, state=state)
    assert refused.exit_code == 1 and "service/prod/api already in the state" in refused.stderr
    forced = cli(runner, "import", tmp_path / "svc3.json", "--out", out, "--force", state=state)
    assert forced.exit_code == 0, forced.output
    (svc,) = as_json(runner, state, "get", "services")
    assert svc["desiredCount"] == svc["runningCount"] == 3
    assert cli(runner, "plan", "-f", out, "--detailed-exitcode", state=state).exit_code == 0
    # a described revision that differs from the one the simulation holds is named once, with its number
    changed = copy.deepcopy(DESCRIBED_TASK_DEFINITION)
    changed["taskDefinition"]["containerDefinitions"][0]["image"] += "-other"
    (tmp_path / "td2.json").write_text(json.dumps(changed))
    refused = cli(runner, "import", tmp_path / "td2.json", "--out", out, state=state)
    assert refused.exit_code == 1
    line = refused.stderr.strip()
    assert line.count("taskdef/") == 1 and "(revision 7 in the simulation) already in the state" in line, line


# -- AWS's empty lists ---------------------------------------------------------------------------


def test_untagged_describe_task_definition_output_imports_without_tags(runner, files, tmp_path):
    """``"tags": []`` is how DescribeTaskDefinition says "no tags" (botocore's Tags shape has no
    minimum); only a RegisterTaskDefinition request must not send an empty list."""
    assert DESCRIBED_TASK_DEFINITION["tags"] == []
    result = cli(runner, "import", files["td"], "--out", files["out"], state=files["state"])
    assert result.exit_code == 0, result.output
    assert "tags" not in (files["out"] / "taskdef-api.yaml").read_text()
    assert cli(runner, "validate", files["td"], state=files["state"]).exit_code == 0
    assert cli(runner, "plan", "-f", files["out"], "--detailed-exitcode", state=files["state"]).exit_code == 0


def test_tagged_describe_output_keeps_its_tags(runner, files, tmp_path):
    tagged = {**DESCRIBED_TASK_DEFINITION, "tags": [{"key": "team", "value": "payments"}]}
    (tmp_path / "tagged.json").write_text(json.dumps(tagged))
    result = cli(runner, "import", tmp_path / "tagged.json", "--no-state", state=files["state"])
    assert result.exit_code == 0, result.output
    assert "key: team" in result.stdout


def test_an_empty_tags_list_in_a_register_request_is_still_refused(runner, tmp_path):
    request = {"family": "api", "containerDefinitions": [{"name": "api", "image": "nginx:1.27", "memory": 128}],
               "tags": []}
    (tmp_path / "register.json").write_text(json.dumps(request))
    result = cli(runner, "import", tmp_path / "register.json", "--no-state", state=str(tmp_path / "s.db"))
    assert result.exit_code == 1 and "tags must not be empty" in result.stderr


def test_untagged_describe_services_output_imports_without_tags(runner, files):
    result = cli(runner, "import", files["svc"], "--no-state", state=files["state"])
    assert result.exit_code == 0, result.output
    assert "tags" not in result.stdout


def test_a_null_grace_period_without_a_load_balancer_is_dropped(runner, files, tmp_path):
    """DescribeServices prints healthCheckGracePeriodSeconds 0 for a service without a load
    balancer; a manifest that says so is refused (E3015), so the import leaves the default out."""
    assert SERVICE["healthCheckGracePeriodSeconds"] == 0 and SERVICE["loadBalancers"] == []
    result = cli(runner, "import", files["svc"], "--out", files["out"], "--no-state", state=files["state"])
    assert result.exit_code == 0, result.output
    assert "healthCheckGracePeriodSeconds" not in (files["out"] / "service-prod-api.yaml").read_text()
    assert cli(runner, "validate", files["out"], state=files["state"]).exit_code == 0


def test_the_disabled_alarms_block_describe_services_prints_is_no_alarms(runner, files, tmp_path):
    """DescribeServices reports ``alarms: {alarmNames: [], enable: false, rollback: false}`` for a
    service created without deployment alarms; kept (less its empty list) it would be refused for
    the missing alarmNames. It is left out, and a manifest that writes it plans no change."""
    described = json.loads(json.dumps(DESCRIBED_SERVICES))
    described["services"][0]["deploymentConfiguration"]["alarms"] = {"alarmNames": [], "enable": False, "rollback": False}
    (tmp_path / "svc.json").write_text(json.dumps(described))
    state, out = files["state"], files["out"]
    out.mkdir()
    (out / "cluster.yaml").write_text(CLUSTER)
    assert cli(runner, "apply", "-f", out, "--auto-approve", state=state).exit_code == 0
    result = cli(runner, "import", files["td"], str(tmp_path / "svc.json"), "--out", out, state=state)
    assert result.exit_code == 0, result.output
    assert "alarms" not in (out / "service-prod-api.yaml").read_text()
    assert cli(runner, "validate", out, state=state).exit_code == 0
    written = out / "service-prod-api.yaml"
    written.write_text(written.read_text().replace(
        "  deploymentConfiguration:\n", "  deploymentConfiguration:\n    alarms: {alarmNames: [], enable: false, rollback: false}\n"))
    assert "alarms" in written.read_text()
    plan = as_json(runner, state, "plan", "-f", out)
    assert all(c["action"] == "no-op" for c in plan["changes"]), plan["changes"]


# -- nothing to import ---------------------------------------------------------------------------


@pytest.mark.parametrize("described, says", [
    ({"services": [], "failures": []}, "nothing to import"),
    # what describe-services prints for a service it does not know
    ({"services": [], "failures": [{"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/gone", "reason": "MISSING"}]},
     "failures: gone MISSING"),
])
def test_describe_services_output_with_no_services_is_a_data_error(runner, tmp_path, described, says):
    path = tmp_path / "none.json"
    path.write_text(json.dumps(described))
    result = runner.invoke(app, ["import", str(path), "--out", str(tmp_path / "k"), "--state", str(tmp_path / "s.db")])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}: ") and says in line, line
    assert not (tmp_path / "k").exists() and not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("file, data, message", [
    ("svc.json", {"services": [{**SERVICE, "serviceName": 5}]},
     "svc.json: services[0].serviceName must be 1-255 letters, digits, '-' or '_', not 5"),
    ("svc.json", {"services": [{**SERVICE, "serviceName": "web api"}]},
     "svc.json: services[0].serviceName must be 1-255 letters, digits, '-' or '_', not \"web api\""),
    ("td.json", {"taskDefinition": {**DESCRIBED_TASK_DEFINITION["taskDefinition"], "revision": -1}},
     "td.json: taskDefinition.revision must be a positive integer (as ECS numbers revisions from 1), not -1"),
    ("td.json", {"taskDefinition": {**DESCRIBED_TASK_DEFINITION["taskDefinition"], "revision": "7"}},
     "td.json: taskDefinition.revision must be a positive integer (as ECS numbers revisions from 1), not \"7\""),
])
def test_import_refuses_what_it_could_not_write_back_faithfully(runner, tmp_path, file, data, message):
    """A name that is no manifest name, or a revision ECS never gives, was imported (a manifest
    validate then refused, or revision 1 in the state for a described -1): one line instead."""
    path = tmp_path / file
    path.write_text(json.dumps(data))
    result = cli(runner, "import", path, "--out", tmp_path / "k", state=str(tmp_path / "s.db"))
    assert (result.exit_code, result.stderr) == (1, f"error: {tmp_path / file}"[: -len(file)] + message + "\n")
    assert not (tmp_path / "k").exists() and not (tmp_path / "s.db").exists()
