"""The envelope every manifest shares, and recognition of bare ECS documents.

    apiVersion: ecsctl/v1
    kind: TaskDefinition
    metadata: {name: web, labels: {...}}
    spec: {...}

A document without ``apiVersion``/``kind`` is accepted when its shape is a
RegisterTaskDefinition request (``family``/``containerDefinitions`` at the
top) or describe-task-definition output (``{"taskDefinition": {...}}``); the
read-only fields of describe output are dropped before checking.
"""

from __future__ import annotations

import difflib
import re

from ecsctl.core.findings import Finding, Severity
from ecsctl.core.manifest.document import Document

API_VERSION = "ecsctl/v1"

KINDS = (
    "Cluster",
    "CapacityProvider",
    "TaskDefinition",
    "Service",
    "TargetGroup",
    "ScheduledTask",
    "Parameter",
    "Secret",
    "EnvironmentFile",
    "Repository",
    "Queue",
    "SecurityGroup",
)

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# Parameter and secret names are paths (``/prod/db/password``), not ECS names.
PATH_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-/+=@]{1,2048}$")
PATH_NAMED_KINDS = frozenset({"Parameter", "Secret", "EnvironmentFile", "Repository"})
# EventBridge's RuleName and Scheduler's Name: [.\-_A-Za-z0-9]+, 1 to 64 characters
RULE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def name_rule(kind: str) -> tuple[re.Pattern, str]:
    """The names a document of ``kind`` may have (E0014), and how a message says so."""
    if kind in PATH_NAMED_KINDS:
        return PATH_NAME_RE, "1-2048 characters of letters, digits and _.-/+=@"
    if kind == "ScheduledTask":
        return RULE_NAME_RE, "1-64 letters, digits, '.', '-' or '_'"
    return NAME_RE, "1-255 letters, digits, '-' or '_'"

ENVELOPE_KEYS = ("apiVersion", "kind", "metadata", "spec")
METADATA_KEYS = ("name", "labels", "annotations")

# Fields DescribeTaskDefinition returns that RegisterTaskDefinition refuses.
DESCRIBE_READ_ONLY = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "deleteRequestedAt",
)


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def classify(doc: Document) -> list[Finding]:
    """Fill in ``kind``, ``name``, ``spec`` and ``spec_path``; return envelope findings."""
    data = doc.data

    def err(rule: str, message: str, path=()) -> Finding:
        pos = doc.position(path)
        return Finding(rule, Severity.ERROR, message, doc.file, tuple(path), pos.line, pos.column, doc.index)

    if not isinstance(data, dict):
        doc.valid = False
        what = type(data).__name__ if data is not None else "null"
        what = {"list": "a list", "str": "a string", "int": "a number", "float": "a number", "bool": "a boolean"}.get(what, what)
        return [err("E0010", f"document must be a mapping, not {what}")]

    if "apiVersion" not in data and "kind" not in data:
        return _classify_bare(doc, err)

    findings: list[Finding] = []
    for key in data:
        if key not in ENVELOPE_KEYS:
            findings.append(err("E0011", f"unknown top-level field '{key}'{did_you_mean(key, ENVELOPE_KEYS)}", (key,)))
    api = data.get("apiVersion")
    if api != API_VERSION:
        if api is None:
            findings.append(err("E0012", f"missing 'apiVersion' (expected '{API_VERSION}')"))
        else:
            findings.append(err("E0012", f"unsupported apiVersion '{api}' (expected '{API_VERSION}')", ("apiVersion",)))
    kind = data.get("kind")
    if kind not in KINDS:
        if kind is None:  # absent, or written with no value (``kind:``): that line, when it is there
            findings.append(err("E0013", "missing 'kind'" if "kind" not in data else "'kind' has no value",
                                ("kind",) if "kind" in data else ()))
        else:
            findings.append(err("E0013", f"unknown kind '{kind}'{did_you_mean(kind, KINDS)}; known kinds: {', '.join(KINDS)}", ("kind",)))
        doc.valid = False
        return findings
    doc.kind = kind
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        findings.append(err("E0014", "'metadata' must be a mapping with a 'name'", ("metadata",) if "metadata" in data else ()))
    else:
        for key in metadata:
            if key not in METADATA_KEYS:
                findings.append(err("E0011", f"unknown metadata field '{key}'{did_you_mean(key, METADATA_KEYS)}", ("metadata", key)))
        name = metadata.get("name")
        pattern, rule = name_rule(kind)
        if not isinstance(name, str) or not pattern.match(name):
            where = ("metadata", "name") if "name" in metadata else ("metadata",)
            message = f"metadata.name is required: {rule}" if name is None else f"metadata.name {name!r} must be {rule}"
            findings.append(err("E0014", message, where))
        else:
            doc.name = name
        labels = metadata.get("labels")
        if labels is not None and not (isinstance(labels, dict) and all(isinstance(v, str) for v in labels.values())):
            findings.append(err("E0014", "metadata.labels must map names to strings", ("metadata", "labels")))
    spec = data.get("spec")
    if not isinstance(spec, dict):
        findings.append(err("E0015", "'spec' must be a mapping", ("spec",) if "spec" in data else ()))
    else:
        doc.spec, doc.spec_path = spec, ("spec",)
    if findings:
        doc.valid = False
    return findings


def _classify_bare(doc: Document, err) -> list[Finding]:
    data = doc.data
    inner = data.get("taskDefinition")
    if isinstance(inner, dict) and "containerDefinitions" in inner:
        # describe-task-definition output: {"taskDefinition": {...}, "tags": [...]}
        spec = {k: v for k, v in inner.items() if k not in DESCRIBE_READ_ONLY}
        # AWS prints "tags": [] for an untagged task definition (--include TAGS): that is no tags,
        # not the empty list RegisterTaskDefinition refuses (Tags is the only output list the
        # request schema requires non-empty, minItems 1; botocore's model has no minimum on it)
        if "tags" in data and "tags" not in spec and data["tags"] != []:
            spec["tags"] = data["tags"]
        doc.kind, doc.form = "TaskDefinition", "describe"
        doc.spec, doc.spec_path = spec, ("taskDefinition",)
        doc.dropped = tuple(k for k in inner if k in DESCRIBE_READ_ONLY)
        doc.name = spec.get("family") if isinstance(spec.get("family"), str) else ""
        return _require_family(doc, err)
    if "containerDefinitions" in data or "family" in data:
        doc.kind, doc.form = "TaskDefinition", "register"
        doc.spec, doc.spec_path = data, ()
        doc.name = data.get("family") if isinstance(data.get("family"), str) else ""
        return _require_family(doc, err)
    doc.valid = False
    return [err("E0013", "document has no 'kind' and is not a task definition: add apiVersion: ecsctl/v1 and kind")]


def _require_family(doc: Document, err) -> list[Finding]:
    """A manifest's family defaults to metadata.name; a bare request has no such default."""
    if "family" in doc.spec:
        return []
    return [err("E1003", "missing required field 'family' (RegisterTaskDefinition requires it)", doc.spec_path)]
