"""Validate the shared corpus of real task definitions against its labels.

The corpus lives in ``../shared/corpus/taskdefs`` (never copied here); the
tests skip when it is absent.  ``SOURCES.tsv`` labels every file:

* ``yes`` / ``describe``: must give no errors (warnings are fine);
* ``no`` and everything in ``rejected/``: must give at least one error that
  names the reason, per the table below (derived from the
  ``reason_if_no_or_unsure`` column);
* ``unsure``: must load and check without an internal error (E0900).

Where we disagree with a label, ``OVERRIDES`` says so and why.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from ecsctl.app.validate import Validator
from ecsctl.core.findings import Severity

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "taskdefs"
pytestmark = pytest.mark.skipif(not (CORPUS / "SOURCES.tsv").is_file(), reason="shared corpus not present")

SCHEMA = "E1003"  # the TaskDefinition JSON Schema
AWSLOGS_ROLE = ("E2061", "execution role ARN to support log driver awslogs")
AWSVPC_PORTS = ("E2040", "host ports and container ports in port mappings must match")
NO_MEMORY = ("E2016", "At least one of 'memory' or 'memoryReservation' must be specified")
NO_FAMILY = [(SCHEMA, "family")]
NULL = (SCHEMA, "null")
AS_STRING = (SCHEMA, "not string")
EMPTY_TAGS = (SCHEMA, r"tags.*(can ?not|must not) be empty")

# filename -> acceptable (rule, message fragment) pairs: at least one error must match one pair.
# A fragment matches case-insensitively, as text or as a regular expression.
EXPECTED_ERRORS: dict[str, list[tuple[str, str]]] = {
    "23prime__gokabot__taskdef.json": [NULL],
    "DataDog__documentation__static__resources__json__datadog-agent-ecs-apm-uds.json": [NULL],
    "DataDog__documentation__static__resources__json__datadog-agent-ecs-managed-instances-daemon.json": [(SCHEMA, "family")],
    "DataDog__documentation__static__resources__json__datadog-agent-ecs-win.json": [NULL],
    "EugeneFinch__dirac-backend__ecs-task-definition.json": [NULL, (SCHEMA, "unknown field 'taskDefinitionArn'")],
    "aws-observability__aws-otel-collector__examples__ecs__aws-prometheus__ecs-ec2-task-def.json": [(SCHEMA, "networkMode string 'default'")],
    "aws-samples__amazon-cloudwatch-container-insights__ecs-task-definition-templates__deployment-mode__replica-service__cwagent-prometheus__cwagent-prometheus-task-definition.json":
        [(SCHEMA, "{{networkmode}}"), (SCHEMA, "{{launchtype}}")],
    "aws-samples__aws-containers-task-definitions__gunicorn__gunicorn_fargate.json": [AWSLOGS_ROLE],
    "aws-samples__aws-containers-task-definitions__jetty__jetty_fargate.json": [AWSLOGS_ROLE],
    "aws-samples__aws-containers-task-definitions__kibana__kibana_ec2.json": [AWSVPC_PORTS],
    "aws-samples__aws-containers-task-definitions__kibana__kibana_fargate.json": [AWSLOGS_ROLE],
    "aws-samples__aws-containers-task-definitions__nginx__nginx_fargate.json": [AWSLOGS_ROLE],
    "aws-samples__aws-containers-task-definitions__tomcat__tomcat_ec2.json": [AWSVPC_PORTS],
    "aws-samples__aws-containers-task-definitions__tomcat__tomcat_fargate.json": [AWSLOGS_ROLE],
    "aws-samples__aws-containers-task-definitions__wildfly__wildfly_fargate.json": [NULL, AWSLOGS_ROLE],
    "aws-samples__aws-microservices-deploy-options__apps__ecs__ec2__taskdefs__webapp.json": [AS_STRING],
    "aws__amazon-ecs-agent__agent__functional_tests__testdata__taskdefinitions__iam-roles__task-definition.json": [(SCHEMA, "$$$NETWORK_MODE$$$")],
    "aws__amazon-ecs-agent__agent__functional_tests__testdata__taskdefinitions__nginx-awsvpc__task-definition.json": [(SCHEMA, "portBindings")],
    "aws__amazon-ecs-agent__agent__functional_tests__testdata__taskdefinitions__task-elastic-inference__task-definition.json": [(SCHEMA, "inferenceDevices")],
    "awsdocs__amazon-ecs-developer-guide__doc_source__example_task_definitions.md__block7.json": [NO_MEMORY],
    "awsdocs__amazon-ecs-developer-guide__doc_source__firelens-filtering-logs.md__block0.json":
        NO_FAMILY + [NO_MEMORY, ("E2096", "needs a container with firelensConfiguration")],
    "awsdocs__amazon-ecs-developer-guide__doc_source__firelens-taskdef.md__block2.json": NO_FAMILY + [NO_MEMORY],
    "awsdocs__amazon-ecs-developer-guide__doc_source__secrets-envvar-secrets-manager.md__block3.json":
        NO_FAMILY + [NO_MEMORY, ("E2060", "secrets require the task definition to have an executionRoleArn")],
    "awsdocs__amazon-ecs-developer-guide__doc_source__secrets-envvar-ssm-paramstore.md__block2.json":
        NO_FAMILY + [NO_MEMORY, ("E2060", "secrets require the task definition to have an executionRoleArn")],
    "awsdocs__amazon-ecs-developer-guide__doc_source__secrets-logconfig.md__block0.json": NO_FAMILY + [(SCHEMA, "logConfiguration must be a mapping")],
    "awsdocs__amazon-ecs-developer-guide__doc_source__task-definition-template.md__block0.json":
        NO_FAMILY + [(SCHEMA, "must not be empty"), (SCHEMA, "interval must be at least 5"), (SCHEMA, "sizeInGiB")],
    "awsdocs__amazon-ecs-developer-guide__doc_source__troubleshoot-task-iam-roles.md__block0.json": [NULL],
    "awsdocs__amazon-ecs-developer-guide__doc_source__tutorial-wfsx-volumes.md__block1.json": [("E2071", "sourceVolume 'fsx-windows-dir' is not a volume")],
    "awsdocs__amazon-ecs-developer-guide__doc_source__using_firelens.md__block4.json": NO_FAMILY,
    "bugcrowd__ecs-task-definition-validator__test__fixtures__missing-port-mapping.json": [NO_MEMORY],
    "bugcrowd__ecs-task-definition-validator__test__fixtures__valid-task-definition.json": [(SCHEMA, "string 'string' is not one of")],
    "joozero__fargate-task-definition-validator__examples__fail_task.json": [("E2032", "sizeInGiB 11"), (SCHEMA, "sizeInGiB must be at least 21")],
    "joozero__fargate-task-definition-validator__examples__my_nginx_task.json": [EMPTY_TAGS],
    "kayac__ecspresso__tests__td-plain.json": [EMPTY_TAGS],
    "kayac__ecspresso__tests__td.json": [EMPTY_TAGS],
    # rejected/: the errors AWS tooling reported
    "aws-samples__aws-containers-task-definitions__nginx__nginx_ec2__rev-27b2b2e.json": [AS_STRING],
    "aws-samples__aws-containers-task-definitions__nginx__nginx_fargate__rev-27b2b2e.json": [AS_STRING, NULL],
    "awslabs__ecs-nginx-reverse-proxy__reverse-proxy__task-definition.json": [AS_STRING],
    # Not JSON as quoted (trailing comma); test_boto3_issue_without_trailing_comma checks the reported error.
    "boto__boto3__issue-2436.json": [("E0002", "invalid JSON")],
}

# Files whose label we disagree with: filename -> (expected errors, why).
OVERRIDES: dict[str, tuple[list[tuple[str, str]], str]] = {
    # Labelled `describe`, but its own reason says RegisterTaskDefinition refuses it even
    # after unwrapping: containerDefinitions[1].portMappings is a mapping (with the typo
    # 'Protcol'), not a list.
    "aws-samples__amazon-ecs-firelens-examples__examples__fluent-bit__logstash__task-definition.json":
        ([(SCHEMA, "portMappings must be a list")], "portMappings is a mapping, not a list"),
    # Labelled `describe` (the label notes "also unsure"): proxyConfiguration names 'envoy',
    # which is not a container.  The App Mesh proxy must be a container of the task; a
    # hand-edited test fixture (no ARN, no registeredAt) is no evidence that ECS accepts it.
    "kayac__ecspresso__tests__td-in-tags.json":
        ([("E2101", "containerName 'envoy' is not a container")], "proxyConfiguration names a missing container"),
}


def _labels() -> list[tuple[str, str, str]]:
    if not (CORPUS / "SOURCES.tsv").is_file():
        return []
    with open(CORPUS / "SOURCES.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(row["set"], row["filename"], row["accepted_as_is"]) for row in rows]


LABELS = _labels()


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def _explain(findings) -> str:
    return "\n".join(f"  {f.rule} {f.pointer or '/'}: {f.message}" for f in findings) or "  (no findings)"


def _names(finding, fragment: str) -> bool:
    """The fragment (plain text, or a regex when it looks like one) occurs in the message, ignoring case."""
    text = f"{finding.message}".lower()
    if fragment.lower() in text:
        return True
    try:
        return re.search(fragment, text, re.IGNORECASE) is not None
    except re.error:
        return False


def _expect_errors(report, expected, name):
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert errors, f"{name}: expected an error naming the reason, got none:\n{_explain(report.findings)}"
    ok = any(f.rule == rule and _names(f, fragment) for f in errors for rule, fragment in expected)
    assert ok, f"{name}: no error matches {expected}; got:\n{_explain(errors)}"


@pytest.mark.parametrize("folder, name, label", LABELS, ids=[name for _, name, _ in LABELS])
def test_corpus_file(validator, folder, name, label):
    path = CORPUS / folder / name
    assert path.is_file(), f"{folder}/{name} is listed in SOURCES.tsv but missing"
    report = validator.validate([str(path)])
    internal = [f for f in report.findings if f.rule == "E0900"]
    assert not internal, f"{name}: internal error:\n{_explain(internal)}"
    if name in OVERRIDES:
        _expect_errors(report, OVERRIDES[name][0], name)
    elif folder == "rejected" or label == "no":
        assert name in EXPECTED_ERRORS, f"{name} is labelled '{label}' but has no row in EXPECTED_ERRORS"
        _expect_errors(report, EXPECTED_ERRORS[name], name)
    elif label in ("yes", "describe"):
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        assert not errors, f"{name} is labelled '{label}' but gives errors:\n{_explain(errors)}"
    else:
        assert label == "unsure", f"{name}: unknown label {label!r}"


def test_tables_name_only_corpus_files():
    names = {name for _, name, _ in LABELS}
    if not names:
        pytest.skip("shared corpus not present")
    assert set(EXPECTED_ERRORS) - names == set()
    assert set(OVERRIDES) - names == set()
    assert set(EXPECTED_ERRORS).isdisjoint(OVERRIDES)


def test_boto3_issue_without_trailing_comma(validator):
    """The rejected boto3#2436 definition, once its trailing comma is removed, gets AWS's reported error."""
    raw = (CORPUS / "rejected" / "boto__boto3__issue-2436.json").read_text(encoding="utf-8")
    fixed = re.sub(r",(\s*[}\]])", r"\1", raw).encode("utf-8")
    report = validator.validate(["boto3-2436.json"], read=lambda _: fixed)
    _expect_errors(report, [("E2084", "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container")], "boto3-2436")
