"""The compiled fast path (fastjsonschema) must give jsonschema's verdict on every document.

It only ever says "valid" to skip work; if it accepted something jsonschema
refuses, bulk runs would silently miss errors.  Checked on every snippet of the
schema tests and on the real-world corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecsctl.app.schemas import load_schema
from ecsctl.core.manifest.envelope import DESCRIBE_READ_ONLY
from ecsctl.core.manifest.schema_check import SchemaChecker
from tests.test_schemas import FAIL, PASS

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "taskdefs"

CHECKER = SchemaChecker(load_schema)


def _verdicts(kind: str, spec) -> tuple[bool, bool]:
    slow = not list(CHECKER.iter_messages(kind, spec))
    fast_validator = CHECKER.fast_validator(kind)
    assert fast_validator is not None, f"fastjsonschema cannot compile the {kind} schema"
    try:
        fast_validator(spec)
        fast = True
    except Exception:  # noqa: BLE001
        fast = False
    return slow, fast


@pytest.mark.parametrize(("kind", "spec"), [(k, s) for k, s in PASS] + [(k, s) for k, s, _ in FAIL])
def test_fast_path_agrees_with_jsonschema(kind, spec):
    slow, fast = _verdicts(kind, spec)
    assert fast == slow


def _corpus_specs():
    if not CORPUS.is_dir():
        return []
    out = []
    for path in sorted((CORPUS / "real").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("taskDefinition"), dict):
            data = {k: v for k, v in data["taskDefinition"].items() if k not in DESCRIBE_READ_ONLY}
        out.append(pytest.param(data, id=path.name[:60]))
    return out


@pytest.mark.parametrize("spec", _corpus_specs())
def test_fast_path_agrees_on_the_corpus(spec):
    slow, fast = _verdicts("TaskDefinition", spec)
    assert fast == slow


def test_fast_path_starts_only_after_many_documents_of_a_kind():
    checker = SchemaChecker(load_schema, fast_after=2)
    spec = {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx"}]}
    assert [checker.is_valid_fast("TaskDefinition", spec) for _ in range(4)] == [False, False, True, True]
    assert checker.is_valid_fast("TaskDefinition", {"family": 1}) is False
