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
    assert all(list(e) == ["id", "severity", "kinds", "title", "explanation", "url"] for e in entries)
    assert len({e["id"] for e in entries}) == len(entries)
    assert all(e["severity"] == ("warning" if e["id"].startswith("W") else "error") for e in entries)


@pytest.mark.parametrize("rule_id", ["E0008", "e0008"])
def test_rules_explain(runner, rule_id: str) -> None:
    result = runner.invoke(app, ["rules", "explain", rule_id])
    assert result.exit_code == 0
    assert result.stdout == (
        "E0008 (error, *): Duplicate key\n\n"
        "A mapping repeats a key; YAML would silently keep only the last value.\n\n"
        "Error: ecsctl cannot read the document as a manifest.\n"
        "Documentation: https://yaml.org/spec/1.2.2/\n"
    )


def test_every_rule_cites_a_public_page_and_says_its_side(runner) -> None:
    from ecsctl.core.rules.docs import URLS

    entries = json.loads(runner.invoke(app, ["rules", "-o", "json"]).stdout)
    assert set(URLS) == {e["id"] for e in entries}  # one page per rule, none for a rule that is gone
    for e in entries:
        assert e["url"].startswith("https://"), e["id"]
        assert e["explanation"].endswith(f"Documentation: {e['url']}"), e["id"]
        assert "ecs-semantics" not in e["explanation"] and ".md" not in e["url"], e["id"]
        side = e["explanation"].splitlines()[-2]
        assert side.startswith("Warning: ECS accepts" if e["severity"] == "warning" else "Error: "), e["id"]


def test_cited_api_pages_name_shapes_of_the_service_models() -> None:
    """``API_<Shape>.html`` pages exist for the shapes of the API; a typo would cite a 404."""
    import botocore.loaders

    from ecsctl.core.rules import docs

    loader = botocore.loaders.Loader()
    for service, shapes in (("ecs", docs.ECS_SHAPES), ("application-autoscaling", docs.AAS_SHAPES),
                            ("events", docs.EVENTBRIDGE_SHAPES)):
        model = loader.load_service_model(service, "service-2")
        known = set(model["shapes"]) | set(model["operations"])
        assert set(shapes) <= known, (service, set(shapes) - known)
    cited = {u for u in docs.URLS.values() if "/APIReference/API_" in u and "AmazonECS" in u}
    assert cited <= {docs.api(s) for s in docs.ECS_SHAPES}


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


def test_the_readme_lists_every_rule_family(runner) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    entries = json.loads(runner.invoke(app, ["rules", "-o", "json"]).stdout)
    families = {e["id"][:2] for e in entries}
    assert {"W2", "W3"} <= families
    assert [f for f in sorted(families) if f"`{f}xxx`" not in readme] == []
