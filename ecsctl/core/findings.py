"""Findings: what validation says about a document.

The core speaks in paths (a tuple of keys and indexes into the document);
line and column are filled in from the source positions the loader kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Iterable


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


Path = tuple[str | int, ...]


def json_pointer(path: Path) -> str:
    """Render a path as an RFC 6901 JSON Pointer (``""`` is the whole document)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: str = ""
    path: Path = ()
    line: int = 1
    column: int = 1
    document: int = 0
    promoted: bool = False  # a warning that ``--strict`` counts as an error (its rule ID unchanged)

    @property
    def pointer(self) -> str:
        return json_pointer(self.path)

    def at(self, **changes) -> "Finding":
        return replace(self, **changes)

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.message)


@dataclass(slots=True)
class ValidationReport:
    """Findings for a run over many files; the exit code is decided at the edge."""

    files: int = 0
    documents: int = 0
    findings: list[Finding] = field(default_factory=list)
    strict: bool = False  # checked under ``--strict``: every warning is an error (``under_strict``)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    @property
    def promoted(self) -> int:
        """Errors that are warnings promoted by ``--strict``."""
        return sum(1 for f in self.findings if f.promoted)

    def under_strict(self) -> "ValidationReport":
        """The report under ``--strict``: each warning becomes an error marked ``promoted``, so that
        every format counts and shows it as one (what ECS accepts but will misbehave on fails)."""
        findings = [f.at(severity=Severity.ERROR, promoted=True) if f.severity is Severity.WARNING else f
                    for f in self.findings]
        return ValidationReport(self.files, self.documents, findings, strict=True)

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)
