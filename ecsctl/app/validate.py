"""Use case: validate manifest files and directories."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ecsctl.app.schemas import load_schema
from ecsctl.core.findings import Finding, Severity, ValidationReport
from ecsctl.core.manifest.document import Document
from ecsctl.core.manifest.envelope import classify
from ecsctl.core.manifest.loader import load_bytes
from ecsctl.core.manifest.schema_check import SchemaChecker
from ecsctl.core.rules import all_rules
from ecsctl.core.rules.context import RuleContext
from ecsctl.core.rules.engine import RuleEngine, duplicate_names
from ecsctl.errors import UsageError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def discover(paths: list[str]) -> list[str]:
    """Files named directly, and manifest files found recursively under directories, in a stable order."""
    files: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(MANIFEST_SUFFIXES))
        elif path.exists() or raw == "-":
            files.append(raw)
        else:
            raise UsageError(f"{raw}: no such file or directory")
    return files


@dataclass
class Loaded:
    """Documents read from files, with the findings of loading and checking them."""

    files: list[str]
    documents: list[Document] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def report(self) -> ValidationReport:
        report = ValidationReport(files=len(self.files), documents=len(self.documents))
        report.extend(self.findings)
        return report


class Validator:
    """Loads, checks schemas and runs rules; reusable across runs in one process."""

    def __init__(self) -> None:
        self.schemas = SchemaChecker(load_schema)
        self.engine = RuleEngine(all_rules().values())

    def load(self, files: list[str], read=None) -> Loaded:
        loaded = Loaded(files)
        for name in files:
            try:
                raw = read(name) if read else _read(name)
            except OSError as exc:
                loaded.findings.append(Finding("E0009", Severity.ERROR, f"cannot read file: {exc.strerror or exc}", name))
                continue
            result = load_bytes(raw, name)
            loaded.findings.extend(result.findings)
            for doc in result.documents:
                loaded.findings.extend(classify(doc))
                if doc.valid:
                    schema_findings, shape_ok = self.schemas.check(doc)
                    loaded.findings.extend(schema_findings)
                    doc.valid = shape_ok
                loaded.documents.append(doc)
        return loaded

    def check(self, loaded: Loaded) -> ValidationReport:
        ctx = RuleContext(loaded.documents)
        loaded.findings.extend(duplicate_names(loaded.documents))
        for doc in loaded.documents:
            if doc.valid:
                loaded.findings.extend(self.engine.check(doc, ctx))
        return loaded.report()

    def validate(self, files: list[str], read=None) -> ValidationReport:
        return self.check(self.load(files, read))


def _read(name: str) -> bytes:
    if name == "-":
        import sys

        return sys.stdin.buffer.read()
    with open(name, "rb") as fh:
        return fh.read()


def validate_paths(paths: list[str]) -> ValidationReport:
    return Validator().validate(discover(paths))
