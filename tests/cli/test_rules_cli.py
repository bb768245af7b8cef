"""``ecsctl rules``, ``ecsctl rules explain ID`` and ``ecsctl schema export DIR``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecsctl.cli.app import app
from ecsctl.core.manifest.envelope import KINDS

BUILTIN_IDS = [f"E{n:04d}" for n in range(1, 17)]


def test_rules_lists_ids(runner) -> None:
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert ids == sorted(ids)
    assert set(BUILTIN_IDS) <= set(ids)
    assert "E0008   error    *" in result.stdout


def test_rules_json(runner) -> None:
    result = runner.invoke(app, ["rules", "-o", "json"])
    assert result.exit_code == 0
    entries = json.loads(result.stdout)
    assert all(list(e) == ["id", "severity", "kinds", "title", "explanation"] for e in entries)
    assert len({e["id"] for e in entries}) == len(entries)
    assert all(e["severity"] == ("warning" if e["id"].startswith("W") else "error") for e in entries)


@pytest.mark.parametrize("rule_id", ["E0008", "e0008"])
def test_rules_explain(runner, rule_id: str) -> None:
    result = runner.invoke(app, ["rules", "explain", rule_id])
    assert result.exit_code == 0
    assert result.stdout == (
        "E0008 (error, *): Duplicate key\n\n"
        "A mapping repeats a key; YAML would silently keep only the last value.\n"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["rules", "explain", "NOPE"], "error: no rule 'NOPE'; `ecsctl rules` lists them\n"),
        (["rules", "-o", "xml"], "error: unknown output format 'xml' (one of: text, json, yaml)\n"),
    ],
    ids=["unknown-rule", "unknown-format"],
)
def test_rules_usage_errors_are_one_line(runner, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == message
    assert result.stdout == ""


def test_schema_export_writes_every_kind(runner, tmp_path: Path) -> None:
    target = tmp_path / "out" / "schemas"
    result = runner.invoke(app, ["schema", "export", str(target)])
    assert result.exit_code == 0, result.output
    expected = sorted(f"{kind}{suffix}" for kind in KINDS for suffix in (".json", ".manifest.json"))
    assert sorted(p.name for p in target.iterdir()) == expected
    assert sorted(Path(line).name for line in result.stdout.splitlines()) == expected
    manifest = json.loads((target / "TaskDefinition.manifest.json").read_text())
    assert manifest["required"] == ["apiVersion", "kind", "metadata", "spec"]
    assert manifest["properties"]["kind"] == {"const": "TaskDefinition"}
    for kind in KINDS:
        assert isinstance(json.loads((target / f"{kind}.json").read_text()), dict)


def test_exported_manifest_schema_accepts_the_minimal_taskdef(runner, tmp_path: Path, taskdef_text: str) -> None:
    """Editors using the exported schema agree with validate on a clean manifest."""
    import jsonschema
    import yaml

    runner.invoke(app, ["schema", "export", str(tmp_path)])
    schema = json.loads((tmp_path / "TaskDefinition.manifest.json").read_text())
    jsonschema.validate(yaml.safe_load(taskdef_text), schema)
