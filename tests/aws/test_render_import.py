"""``render --to ecs`` passes botocore's own parameter validation for every accepted file of the
shared corpus, and ``import`` then ``plan`` shows zero changes for each."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ecsctl.cli.app import app

# shared/ sits beside the clone (CI), or beside the worktrees' folder (a helper's worktree)
_REPO = Path(__file__).resolve().parents[2]
CORPUS = next((p / "shared" / "corpus" / "taskdefs" for p in (_REPO.parent, _REPO.parent.parent)
               if (p / "shared" / "corpus" / "taskdefs" / "SOURCES.tsv").is_file()), _REPO.parent / "shared" / "corpus" / "taskdefs")


def accepted() -> list[Path]:
    sources = CORPUS / "SOURCES.tsv"
    if not sources.is_file():
        return []
    with sources.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [CORPUS / r["set"] / r["filename"] for r in rows if r["accepted_as_is"] in ("yes", "describe")]


def _overrides() -> dict:
    """Files whose label ecsctl's validator disagrees with, and why (``tests/test_corpus.py``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus_labels", _REPO / "tests" / "test_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OVERRIDES


OVERRIDES = _overrides()
FILES = [p if p.name not in OVERRIDES else pytest.param(p, marks=pytest.mark.skip(
    reason=f"ecsctl refuses it although it is labelled accepted: {OVERRIDES[p.name][1]} (tests/test_corpus.py)"))
    for p in accepted()]
corpus = pytest.mark.skipif(not FILES, reason=f"the shared corpus is not at {CORPUS}")


@pytest.fixture(scope="module")
def register_shape():
    botocore_session = pytest.importorskip("botocore.session")
    return botocore_session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape


def validate(request: dict, shape) -> str:
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(request, shape)
    return report.generate_report() if report.has_errors() else ""


@corpus
def test_the_corpus_has_accepted_files():
    assert len(FILES) >= 50


@corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: getattr(p, "name", str(p)))
def test_render_passes_botocore_validation(path, register_shape, runner):
    from ecsctl.app.plan import read_manifests
    from ecsctl.app.render_ecs import rendered

    items = rendered(read_manifests([str(path)]))
    assert [r.operation for r in items] == ["register-task-definition"]
    assert validate(items[0].request, register_shape) == ""
    printed = runner.invoke(app, ["render", "-f", str(path), "--to", "ecs", "--show-sensitive"])  # as registered
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == items[0].request


@corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: getattr(p, "name", str(p)))
def test_import_then_plan_is_empty(path, runner, tmp_path):
    state = str(tmp_path / "state.db")
    out = tmp_path / "imported"
    imported = runner.invoke(app, ["import", str(path), "--out", str(out), "--state", state])
    assert imported.exit_code == 0, imported.output
    plan = runner.invoke(app, ["plan", "-f", str(out), "--state", state, "--detailed-exitcode"])
    assert plan.exit_code == 0, plan.output


def test_render_of_the_example_services_passes_botocore_validation(runner):
    botocore_session = pytest.importorskip("botocore.session")
    from ecsctl.app.plan import read_manifests
    from ecsctl.app.render_ecs import rendered

    model = botocore_session.get_session().get_service_model("ecs")
    shapes = {"register-task-definition": "RegisterTaskDefinition", "create-service": "CreateService",
              "create-cluster": "CreateCluster"}
    manifests = Path(__file__).resolve().parents[2] / "manifests"
    items = rendered(read_manifests([str(manifests)]))
    assert {r.operation for r in items} == set(shapes)
    for r in items:
        assert validate(r.request, model.operation_model(shapes[r.operation]).input_shape) == "", r.address
    service = next(r.request for r in items if r.address == "service/prod/web")
    assert service["serviceName"] == "web" and "autoScaling" not in service
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_import_of_describe_services_output(runner, tmp_path):
    described = {"services": [{
        "serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/prod/api", "serviceName": "api",
        "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "status": "ACTIVE", "desiredCount": 2,
        "runningCount": 2, "pendingCount": 0, "launchType": "FARGATE", "platformVersion": "LATEST",
        "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7",
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                    "maximumPercent": 200, "minimumHealthyPercent": 100},
        "deployments": [], "events": [], "loadBalancers": [], "serviceRegistries": [], "placementConstraints": [],
        "placementStrategy": [], "schedulingStrategy": "REPLICA", "deploymentController": {"type": "ECS"},
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"],
                                                         "assignPublicIp": "DISABLED"}},
        "enableECSManagedTags": False, "propagateTags": "NONE", "enableExecuteCommand": False}]}
    source = tmp_path / "services.json"
    source.write_text(json.dumps(described))
    taskdef = tmp_path / "taskdef.json"  # the revision the service runs, as describe-task-definition prints it
    taskdef.write_text(json.dumps({"taskDefinition": {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7", "family": "api", "revision": 7,
        "status": "ACTIVE", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
        "containerDefinitions": [{"name": "api", "image": "nginx:1.27", "essential": True}]}}))
    state = str(tmp_path / "state.db")
    out = tmp_path / "imported"
    out.mkdir()
    (out / "cluster.yaml").write_text("apiVersion: ecsctl/v1\nkind: Cluster\nmetadata: {name: prod}\nspec: {}\n")
    assert runner.invoke(app, ["apply", "-f", str(out), "--auto-approve", "--state", state]).exit_code == 0
    imported = runner.invoke(app, ["import", str(taskdef), str(source), "--out", str(out), "--state", state])
    assert imported.exit_code == 0, imported.output
    manifest = (out / "service-prod-api.yaml").read_text()
    assert "taskDefinition: api:7" in manifest and "runningCount" not in manifest
    plan = runner.invoke(app, ["plan", "-f", str(out), "--state", state, "--detailed-exitcode"])
    assert plan.exit_code == 0, plan.output


@pytest.mark.parametrize("name, text", [
    ("tag.yaml", "taskDefinition: {family: x, cpu: !!int a}\n"),          # a scalar tag with bad content
    ("digits.json", '{"taskDefinition": {"family": "x", "cpu": ' + "9" * 5000 + "}}"),  # over Python's int limit
    ("cut.json", '{"taskDefinition": {"family": "x", "cpu": \'\n'),        # neither JSON nor YAML
])
def test_import_of_a_broken_file_is_one_line(runner, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["import", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: not JSON or YAML"), lines
