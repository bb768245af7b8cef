"""The rule engine: issues become findings with positions; a crashing rule is reported, not raised."""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.manifest.envelope import classify
from ecsctl.core.manifest.loader import load_text
from ecsctl.core.rules.base import Rule
from ecsctl.core.rules.context import RuleContext
from ecsctl.core.rules.engine import RuleEngine, duplicate_names

MANIFEST = """\
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  containerDefinitions:
    - name: app
      image: nginx
"""


def _docs(text: str, file: str = "m.yaml"):
    docs = load_text(text, file).documents
    for d in docs:
        assert classify(d) == []
    return docs


class Flags(Rule):
    id = "W9001"
    title = "test rule"
    kinds = ("TaskDefinition",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        yield ("containerDefinitions", 0, "image"), "image flagged"


class Crashes(Rule):
    id = "E9002"
    title = "crashing rule"
    kinds = ("TaskDefinition",)

    def check(self, spec, doc, ctx):
        raise KeyError("boom")


def test_issue_paths_are_prefixed_with_the_spec_and_located():
    [doc] = _docs(MANIFEST)
    [finding] = RuleEngine([Flags]).check(doc, RuleContext([doc]))
    assert finding.path == ("spec", "containerDefinitions", 0, "image")
    assert finding.pointer == "/spec/containerDefinitions/0/image"
    assert (finding.line, finding.column) == (7, 7)
    assert finding.severity is Severity.WARNING and finding.rule == "W9001"


def test_a_crashing_rule_becomes_an_internal_error_finding():
    [doc] = _docs(MANIFEST)
    [finding] = RuleEngine([Crashes]).check(doc, RuleContext([doc]))
    assert finding.rule == "E0900"
    assert "E9002" in finding.message and "KeyError" in finding.message


def test_rules_only_run_on_their_kinds():
    [doc] = _docs(MANIFEST.replace("TaskDefinition", "Cluster").replace("  containerDefinitions:\n    - name: app\n      image: nginx\n", "  {}\n"))
    assert RuleEngine([Flags, Crashes]).check(doc, RuleContext([doc])) == []


def test_duplicate_manifest_names_are_reported_at_the_second():
    docs = _docs(MANIFEST + "---\n" + MANIFEST)
    [finding] = duplicate_names(docs)
    assert finding.rule == "E0016" and finding.line == 11 and "first at m.yaml:1" in finding.message


def test_bare_task_definitions_of_one_family_clash():
    """Plan takes one spec per family (issue 13: validate passed two such files, plan crashed)."""
    text = '{"family": "web", "containerDefinitions": [{"name": "a", "image": "x"}]}'
    docs = _docs(text, "a.json") + _docs("{\n  " + text[1:], "b.json")
    [finding] = duplicate_names(docs)
    assert (finding.rule, finding.file, finding.line, finding.column) == ("E0016", "b.json", 2, 3)
    assert "first at a.json:1" in finding.message


def test_a_service_clashes_with_itself_named_by_cluster_arn():
    svc = "apiVersion: ecsctl/v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{cluster: {c}, taskDefinition: web}}\n"
    docs = _docs(svc.format(c="prod") + "---\n" + svc.format(c="'arn:aws:ecs:eu-west-1:123456789012:cluster/prod'"))
    assert [f.rule for f in duplicate_names(docs)] == ["E0016"]


def test_services_are_unique_per_cluster():
    svc = "apiVersion: ecsctl/v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{cluster: {c}, taskDefinition: web}}\n"
    docs = _docs(svc.format(c="a") + "---\n" + svc.format(c="b"))
    assert duplicate_names(docs) == []


def test_context_resolves_task_definition_references():
    [doc] = _docs(MANIFEST)
    ctx = RuleContext([doc])
    for ref in ("web", "web:3", "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"):
        assert ctx.task_definition(ref) is doc
    assert ctx.task_definition("other") is None
