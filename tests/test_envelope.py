"""The envelope: apiVersion, kind, metadata and spec, and bare ECS task definitions recognised by shape."""

from __future__ import annotations

import pytest

from ecsctl.core.manifest.envelope import DESCRIBE_READ_ONLY, classify, did_you_mean
from ecsctl.core.manifest.loader import load_text

HEAD = "apiVersion: ecsctl/v1\nkind: Service\n"


def _classify(text: str, file: str = "m.yaml"):
    result = load_text(text, file)
    assert result.findings == []
    doc = result.documents[0]
    return doc, classify(doc)


# (id, document, [(rule, line, column, JSON pointer)], a fragment of the first message)
BAD = [
    ("wrong-apiVersion", "apiVersion: v1\nkind: TaskDefinition\nmetadata: {name: web}\nspec: {}\n",
     [("E0012", 1, 1, "/apiVersion")], "unsupported apiVersion 'v1' (expected 'ecsctl/v1')"),
    ("missing-apiVersion", "kind: TaskDefinition\nmetadata: {name: web}\nspec: {}\n",
     [("E0012", 1, 1, "")], "missing 'apiVersion'"),
    ("kind-typo", "apiVersion: ecsctl/v1\nkind: TaskDefinitoin\nmetadata: {name: web}\nspec: {}\n",
     [("E0013", 2, 1, "/kind")], "unknown kind 'TaskDefinitoin' (did you mean 'TaskDefinition'?)"),
    ("kind-unknown", "apiVersion: ecsctl/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n",
     [("E0013", 2, 1, "/kind")], "known kinds: Cluster, CapacityProvider, TaskDefinition"),
    ("missing-kind", "apiVersion: ecsctl/v1\nmetadata: {name: web}\nspec: {}\n",
     [("E0013", 1, 1, "")], "missing 'kind'"),
    ("empty-kind", "apiVersion: ecsctl/v1\nkind:\nmetadata: {name: web}\nspec: {}\n",
     [("E0013", 2, 1, "/kind")], "'kind' has no value"),
    ("missing-metadata", HEAD + "spec: {}\n",
     [("E0014", 1, 1, "")], "'metadata' must be a mapping with a 'name'"),
    ("missing-name", HEAD + "metadata:\n  labels: {team: a}\nspec: {}\n",
     [("E0014", 3, 1, "/metadata")], "metadata.name"),
    ("name-with-space", HEAD + "metadata:\n  name: web app\nspec: {}\n",
     [("E0014", 4, 3, "/metadata/name")], "metadata.name 'web app' must be 1-255 letters, digits, '-' or '_'"),
    ("name-too-long", HEAD + "metadata:\n  name: " + "a" * 256 + "\nspec: {}\n",
     [("E0014", 4, 3, "/metadata/name")], "must be 1-255 letters"),
    ("name-not-a-string", HEAD + "metadata:\n  name: 42\nspec: {}\n",
     [("E0014", 4, 3, "/metadata/name")], "metadata.name 42"),
    ("name-empty", HEAD + "metadata:\n  name: ''\nspec: {}\n",
     [("E0014", 4, 3, "/metadata/name")], "metadata.name ''"),
    ("service-name-is-not-a-path", HEAD + "metadata:\n  name: /prod/web\nspec: {}\n",
     [("E0014", 4, 3, "/metadata/name")], "'/prod/web'"),
    # EventBridge's RuleName: [.\-_A-Za-z0-9]+, 1-64 (a dot is fine, 65 characters are not)
    ("rule-name-too-long", "apiVersion: ecsctl/v1\nkind: ScheduledTask\nmetadata:\n  name: " + "a" * 65 + "\nspec: {}\n",
     [("E0014", 4, 3, "/metadata/name")], "must be 1-64 letters, digits, '.', '-' or '_'"),
    ("unknown-top-level-field", HEAD + "metadata: {name: web}\nspec: {}\nstatus: {}\n",
     [("E0011", 5, 1, "/status")], "unknown top-level field 'status'"),
    ("top-level-typo", HEAD + "metadata: {name: web}\nspce: {}\n",
     [("E0011", 4, 1, "/spce"), ("E0015", 1, 1, "")], "unknown top-level field 'spce' (did you mean 'spec'?)"),
    ("unknown-metadata-field", HEAD + "metadata: {name: web, label: {}}\nspec: {}\n",
     [("E0011", 3, 23, "/metadata/label")], "unknown metadata field 'label' (did you mean 'labels'?)"),
    ("labels-not-strings", HEAD + "metadata: {name: web, labels: {a: 1}}\nspec: {}\n",
     [("E0014", 3, 23, "/metadata/labels")], "metadata.labels must map names to strings"),
    ("missing-spec", HEAD + "metadata: {name: web}\n",
     [("E0015", 1, 1, "")], "'spec' must be a mapping"),
    ("spec-is-a-list", HEAD + "metadata: {name: web}\nspec: [1]\n",
     [("E0015", 4, 1, "/spec")], "'spec' must be a mapping"),
    ("list-document", "- a\n- b\n", [("E0010", 1, 1, "")], "document must be a mapping, not a list"),
    ("scalar-document", "hello\n", [("E0010", 1, 1, "")], "document must be a mapping, not a string"),
    ("null-document", "~\n", [("E0010", 1, 1, "")], "document must be a mapping, not null"),
    ("no-kind-not-a-taskdef", '{"image": "nginx"}', [("E0013", 1, 1, "")], "document has no 'kind' and is not a task definition"),
]


@pytest.mark.parametrize("text, expected, fragment", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_envelope(text: str, expected: list, fragment: str) -> None:
    doc, findings = _classify(text)
    assert [(f.rule, f.line, f.column, f.pointer) for f in findings] == expected
    assert fragment in findings[0].message
    assert all(f.file == "m.yaml" and f.document == 0 for f in findings)
    assert doc.valid is False


# (id, document, kind, name, form, spec_path)
GOOD = [
    ("manifest", HEAD + "metadata: {name: web, labels: {team: a}, annotations: {x: y}}\nspec: {}\n", "Service", "web", "manifest", ("spec",)),
    ("parameter-name-is-a-path", "apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {name: /prod/db/password}\nspec: {}\n",
     "Parameter", "/prod/db/password", "manifest", ("spec",)),
    ("bare-register-task-definition-json", '{"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx"}]}',
     "TaskDefinition", "web", "register", ()),
    ("bare-register-task-definition-yaml", "family: api\ncontainerDefinitions: []\n", "TaskDefinition", "api", "register", ()),
]


def test_bare_task_definition_without_family_is_refused_but_still_checked() -> None:
    doc, findings = _classify("containerDefinitions: []\n")
    assert [(f.rule, f.line, f.column, f.pointer) for f in findings] == [("E1003", 1, 1, "")]
    assert "missing required field 'family'" in findings[0].message
    assert (doc.kind, doc.form, doc.valid) == ("TaskDefinition", "register", True)


@pytest.mark.parametrize("text, kind, name, form, spec_path", [c[1:] for c in GOOD], ids=[c[0] for c in GOOD])
def test_good_envelope(text: str, kind: str, name: str, form: str, spec_path: tuple) -> None:
    doc, findings = _classify(text)
    assert findings == []
    assert (doc.kind, doc.name, doc.form, doc.spec_path, doc.valid) == (kind, name, form, spec_path, True)
    assert doc.address == f"{kind}/{name}"


DESCRIBE = """\
{
  "taskDefinition": {
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3",
    "family": "web",
    "revision": 3,
    "status": "ACTIVE",
    "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "memory": 512}],
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": "2024-05-01T10:00:00.000Z",
    "registeredBy": "arn:aws:iam::123456789012:user/me",
    "cpu": "256"
  },
  "tags": [{"key": "team", "value": "payments"}]
}
"""


def test_describe_task_definition_output_is_recognised() -> None:
    doc, findings = _classify(DESCRIBE, "web.json")
    assert findings == []
    assert (doc.kind, doc.name, doc.form, doc.spec_path) == ("TaskDefinition", "web", "describe", ("taskDefinition",))
    assert doc.dropped == ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt", "registeredBy")
    assert not set(doc.spec) & set(DESCRIBE_READ_ONLY)
    assert doc.spec["tags"] == [{"key": "team", "value": "payments"}]
    assert doc.spec["cpu"] == "256"
    # Positions of spec fields resolve inside "taskDefinition".
    pos = doc.position(doc.spec_path + ("containerDefinitions", 0))
    assert (pos.line, pos.column) == (7, 30)


def test_findings_in_later_documents_point_into_them() -> None:
    text = "apiVersion: ecsctl/v1\nkind: Service\nmetadata: {name: a}\nspec: {}\n---\n" + HEAD + "metadata:\n  name: b c\nspec: {}\n"
    result = load_text(text, "m.yaml")
    first, second = result.documents
    assert classify(first) == []
    [finding] = classify(second)
    assert (finding.rule, finding.line, finding.column, finding.document, finding.pointer) == ("E0014", 9, 3, 1, "/metadata/name")


@pytest.mark.parametrize(
    "word, choices, hint",
    [
        ("TaskDefinitoin", ["TaskDefinition", "Service"], " (did you mean 'TaskDefinition'?)"),
        ("spce", ["apiVersion", "kind", "metadata", "spec"], " (did you mean 'spec'?)"),
        ("zzzz", ["apiVersion", "kind"], ""),
        (42, ["kind"], ""),
    ],
)
def test_did_you_mean(word, choices, hint: str) -> None:
    assert did_you_mean(word, choices) == hint
