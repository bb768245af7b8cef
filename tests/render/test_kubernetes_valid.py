"""Every object `ecsctl render --to kubernetes` writes is valid Kubernetes.

Checked against Kubernetes' published JSON Schemas (``kubernetes-validate``, strict: no
unknown fields) for the oldest version the renderer targets and the newest the package
ships, and against the API-server rules of ``tests/k8s_checks.py``; for the example stack
in ``manifests/`` and for every task definition of ``../shared/corpus/taskdefs`` that
SOURCES.tsv marks accepted (``yes``/``describe``) and ecsctl validates without errors,
wrapped in a REPLICA service, a DAEMON service and a scheduled task.
"""

from __future__ import annotations

import csv
import os
import socket
from pathlib import Path

import kubernetes_validate
import pytest

from ecsctl.app.render import render_files
from ecsctl.app.validate import Validator
from ecsctl.core.render.kubernetes import MIN_KUBERNETES, Source, Stack, render_kubernetes
from tests.k8s_checks import api_problems

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
# The shared folder beside the checkout (CI, /work/main), or /work/shared from a helper's worktree.
SHARED = [Path(os.environ["ECSCTL_SHARED"])] if os.environ.get("ECSCTL_SHARED") else [ROOT.parent / "shared", Path("/work/shared")]
CORPUS = next((p / "corpus" / "taskdefs" for p in SHARED if (p / "corpus" / "taskdefs" / "SOURCES.tsv").is_file()),
              SHARED[0] / "corpus" / "taskdefs")
VERSIONS = (MIN_KUBERNETES, kubernetes_validate.latest_version())


def schema_errors(obj: dict) -> list[str]:
    out = []
    for version in VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            out.append(f"{obj['kind']}/{obj['metadata'].get('name')} (Kubernetes {version}): {exc.message} at {list(exc.absolute_path)}")
    return out


def assert_valid(files) -> None:
    problems = [p for f in files for o in f.objects for p in schema_errors(o) + [f"{f.path}: {x}" for x in api_problems(o)]]
    assert not problems, "\n".join(problems)


def test_the_validator_refuses_what_kubernetes_refuses():
    """The checks themselves: an unknown field and a bad name are caught."""
    good = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"}}
    assert schema_errors(good) == [] and api_problems(good) == []
    assert schema_errors({**good, "spec": {}})
    assert api_problems({**good, "metadata": {"name": "Web_1"}})


def test_the_schemas_are_read_offline(monkeypatch):
    """kubernetes-validate ships its schemas: validating opens no network connection."""
    def refuse(*args, **kwargs):
        raise AssertionError("kubernetes-validate tried to open a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                           "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    assert schema_errors(deployment) == []


def test_the_example_stack_renders_valid_objects():
    files = render_files([str(MANIFESTS)])
    kinds = sorted({o["kind"] for f in files for o in f.objects})
    assert kinds == ["CronJob", "Deployment", "HorizontalPodAutoscaler", "Job", "Service", "ServiceAccount"]
    assert_valid(files)


def _accepted() -> list[str]:
    if not (CORPUS / "SOURCES.tsv").is_file():
        return []
    with open(CORPUS / "SOURCES.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [f"{r['set']}/{r['filename']}" for r in rows if r["accepted_as_is"] in ("yes", "describe")]


ACCEPTED = _accepted()


@pytest.fixture(scope="module")
def validator():
    return Validator()


def _wrapped(td: dict, family: str) -> Stack:
    service = {"cluster": "prod", "taskDefinition": family, "desiredCount": 3,
               "deploymentConfiguration": {"minimumHealthyPercent": 50, "maximumPercent": 150}}
    if "FARGATE" in (td.get("requiresCompatibilities") or []):
        service["launchType"] = "FARGATE"
    if td.get("networkMode") == "awsvpc":
        service["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    daemon = {k: v for k, v in service.items() if k not in ("desiredCount", "deploymentConfiguration", "launchType")}
    return Stack([
        Source("TaskDefinition", family, td),
        Source("Service", f"{family}-svc", service),
        Source("Service", f"{family}-daemon", {**daemon, "schedulingStrategy": "DAEMON"}),
        Source("ScheduledTask", f"{family}-job", {"scheduleExpression": "cron(0 2 * * ? *)", "scheduleExpressionTimezone": "Europe/Paris",
                                                  "target": {"cluster": "prod", "taskDefinition": family, "taskCount": 2}}),
    ])


@pytest.mark.skipif(not ACCEPTED, reason=f"shared corpus not present at {CORPUS}")
@pytest.mark.parametrize("name", ACCEPTED, ids=[n.split("/", 1)[1] for n in ACCEPTED])
def test_every_accepted_corpus_task_definition_renders_valid_objects(validator, name):
    loaded = validator.load([str(CORPUS / name)])
    report = validator.check(loaded)
    if report.errors:
        pytest.skip(f"{name}: ecsctl validate reports errors (tests/test_corpus.py OVERRIDES says why)")
    (doc,) = [d for d in loaded.documents if d.kind == "TaskDefinition"]
    rendering = render_kubernetes(_wrapped(doc.spec, doc.name or "family"))
    assert rendering.problems == []
    assert [sorted({o["kind"] for o in f.objects} - {"ServiceAccount", "PersistentVolume", "PersistentVolumeClaim"})
            for f in rendering.files] == [["Deployment"], ["DaemonSet"], ["CronJob"]]
    assert_valid(rendering.files)
