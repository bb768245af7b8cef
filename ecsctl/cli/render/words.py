"""Counted words and the findings' summary line, shared by the renderers."""

from __future__ import annotations

from ecsctl.core.findings import ValidationReport


def plural(n: int, word: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: ValidationReport) -> str:
    """The last line of every findings format: ``0 errors, 1 warning in 3 documents (2 files)``."""
    docs = plural(report.documents, "document")
    files = plural(report.files, "file")
    return f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')} in {docs} ({files})"
