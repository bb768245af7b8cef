"""Run the catalogue over documents and turn issues into findings."""

from __future__ import annotations

from typing import Iterable

from ecsctl.core.findings import Finding, Severity
from ecsctl.core.manifest.document import Document
from ecsctl.core.plan.model import address
from ecsctl.core.rules.base import Rule
from ecsctl.core.rules.context import RuleContext


class RuleEngine:
    def __init__(self, rules: Iterable[type[Rule]]) -> None:
        self._by_kind: dict[str, list[Rule]] = {}
        for cls in rules:
            instance = cls()
            for kind in cls.kinds:
                self._by_kind.setdefault(kind, []).append(instance)

    def check(self, doc: Document, ctx: RuleContext) -> list[Finding]:
        findings: list[Finding] = []
        for rule in self._by_kind.get(doc.kind, ()):
            try:
                issues = list(rule.check(doc.spec, doc, ctx))
            except Exception as exc:  # a crashing rule is our bug: say so, keep going
                pos = doc.position(doc.spec_path)
                findings.append(Finding("E0900", Severity.ERROR, f"internal error in rule {rule.id}: {type(exc).__name__} (a bug in ecsctl; its "
                                        "text is left out, it may quote a value)",
                                        doc.file, doc.spec_path, pos.line, pos.column, doc.index))
                continue
            for path, message in issues:
                full = doc.spec_path + tuple(path)
                pos = doc.position(full)
                findings.append(Finding(rule.id, rule.severity, message, doc.file, full, pos.line, pos.column, doc.index))
        return findings


def duplicate_names(documents: list[Document]) -> list[Finding]:
    """Two documents of one kind with one name (services: per cluster) clash.

    Bare task definitions (a RegisterTaskDefinition request, describe-task-definition output)
    count too: plan and apply take one spec per family, so two files of one family are as
    ambiguous as two manifests of one name (validate a folder of old revisions file by file)."""
    seen: dict[tuple, Document] = {}
    findings = []
    for doc in documents:
        if not doc.kind or not doc.name:
            continue
        # the address plan keys resources by (a service's cluster by name, an ARN or absent as plan reads it)
        key = address(doc.kind, doc.name, doc.spec if isinstance(doc.spec, dict) else None)
        first = seen.setdefault(key, doc)
        if first is doc:
            continue
        where = ("metadata", "name") if doc.form == "manifest" else doc.spec_path + ("family",)
        pos = doc.position(where)
        other = first.position(())
        findings.append(Finding("E0016", Severity.ERROR, f"{doc.kind} '{doc.name}' is defined twice (first at {first.file}:{other.line})",
                                doc.file, where, pos.line, pos.column, doc.index))
    return findings
