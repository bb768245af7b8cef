"""Hygiene (W7xxx): secrets written in plain text into a container's environment."""

from __future__ import annotations

import json

import pytest

from ecsctl.app.validate import Validator
from ecsctl.core.rules.hygiene.secrets import secret_reason


def taskdef(environment, secrets=None) -> str:
    container = {"name": "web", "image": "nginx:1.27", "environment": environment}
    if secrets:
        container["secrets"] = secrets
    spec = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", "containerDefinitions": [container]}
    return json.dumps({"apiVersion": "ecsctl/v1", "kind": "TaskDefinition", "metadata": {"name": "web"}, "spec": spec})


@pytest.fixture(scope="module")
def validator():
    return Validator()


def w7(validator, tmp_path, environment, secrets=None):
    path = tmp_path / "td.json"
    path.write_text(taskdef(environment, secrets), encoding="utf-8")
    report = validator.validate([str(path)])
    assert not [f for f in report.findings if f.rule.startswith("E1")], report.findings  # the rules did run
    return [f for f in report.findings if f.rule == "W7001"]


PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"

CASES = [
    # id, name, value, fragment (None = no warning)
    ("password", "DB_PASSWORD", "hunter2", "name 'DB_PASSWORD' suggests a secret"),
    ("passwd", "MYSQL_PASSWD", "s3cret!", "suggests a secret"),
    ("secret", "DJANGO_SECRET_KEY", "abc", "suggests a secret"),
    ("token", "GITHUB_TOKEN", "ghp_abc", "suggests a secret"),
    ("api-key", "STRIPE_API_KEY", "sk_live_x", "suggests a secret"),
    ("apikey", "SENDGRID_APIKEY", "SG.x", "suggests a secret"),
    ("credentials", "GOOGLE_CREDENTIALS", "{}x", "suggests a secret"),
    ("auth", "BASIC_AUTH", "user:pass", "suggests a secret"),
    ("lowercase", "db_password", "hunter2", "suggests a secret"),
    ("access-key-value", "REGION_HINT", "AKIAIOSFODNN7EXAMPLE", "AWS access key id"),
    ("private-key", "TLS_KEY_PEM", PRIVATE_KEY, "private key"),
    ("random-token", "SESSION_SEED", "q8Zr4Tn1Vb7Xy2Lm9Kp3Wd6Hs0Gf5Jc8", "random token"),
    ("plain", "LOG_LEVEL", "debug", None),
    ("empty-secret", "DB_PASSWORD", "", None),
    ("placeholder", "DB_PASSWORD", "${DB_PASSWORD}", None),
    ("arn", "DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db", None),
    ("path", "TOKEN_FILE", "/run/secrets/token", None),
    ("url", "AUTH_URL", "https://auth.example.com/login", None),
    ("boolean", "AUTH_ENABLED", "true", None),
    ("port", "AUTH_PORT", "8443", None),
    ("image-digest", "IMAGE", "sha256", None),
    ("low-entropy-long", "GREETING", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", None),
]


@pytest.mark.parametrize("case, name, value, fragment", CASES, ids=[c[0] for c in CASES])
def test_secret_detection(validator, tmp_path, case, name, value, fragment):
    hits = w7(validator, tmp_path, [{"name": "OK", "value": "1"}, {"name": name, "value": value}])
    if fragment is None:
        assert hits == []
    else:
        (hit,) = hits
        assert fragment in hit.message and "move it to 'secrets' with valueFrom" in hit.message
        assert hit.pointer == "/spec/containerDefinitions/0/environment/1/value"


def test_secrets_with_value_from_are_fine(validator, tmp_path):
    secrets = [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db/password"}]
    assert w7(validator, tmp_path, [{"name": "LOG_LEVEL", "value": "info"}], secrets) == []


@pytest.mark.parametrize("name, value, expected", [
    ("DB_PASSWORD", "hunter2", "its name 'DB_PASSWORD' suggests a secret"),
    ("X", "ASIAIOSFODNN7EXAMPLE", "its value looks like an AWS access key id"),
    ("X", "hello world", None),
])
def test_secret_reason(name, value, expected):
    assert secret_reason(name, value) == expected


def test_an_argument_is_named_by_its_list_and_index_in_a_task_definition_and_a_scheduled_task(validator, tmp_path):
    """The message names what holds the value as the path does (``command[1]``), never as an
    environment variable named after the index."""
    doc = json.loads(taskdef([]))
    doc["spec"]["containerDefinitions"][0]["command"] = ["--db-password", "hunter2xyz"]
    doc["spec"]["containerDefinitions"][0]["healthCheck"] = {"command": ["CMD", "check", "--password", "hunter2xyz"]}
    scheduled = {"apiVersion": "ecsctl/v1", "kind": "ScheduledTask", "metadata": {"name": "nightly"},
                 "spec": {"scheduleExpression": "rate(1 day)", "target": {
                     "cluster": "prod", "taskDefinition": "web", "launchType": "FARGATE",
                     "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0a3f5e1c2b4d6e701"]}},
                     "overrides": {"containerOverrides": [
                         {"name": "web", "command": ["report", "--api-token", "q8Zr4Tn1Vb7Xy2Lm"]}]}}}}
    path = tmp_path / "docs.json"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    (tmp_path / "sched.json").write_text(json.dumps(scheduled), encoding="utf-8")
    report = validator.validate([str(path), str(tmp_path / "sched.json")])
    messages = sorted(f.message for f in report.findings if f.rule == "W7001")
    assert len(messages) == 3, report.findings
    assert messages[0].startswith("argument command[1] looks like a plain-text secret")
    assert messages[1].startswith("argument command[2] in its overrides looks like a plain-text secret")
    assert messages[2].startswith("argument healthCheck.command[3] looks like a plain-text secret")
    assert not any(m.startswith("environment variable") for m in messages)
