"""Counted words and the findings' summary line, shared by the renderers."""

from __future__ import annotations

from ecsctl.core.findings import Finding, ValidationReport

# What a promoted finding says after its message in the formats read by people (text, github, junit).
PROMOTED = "a warning, an error under --strict"


def plural(n: int, word: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def message(f: Finding) -> str:
    """A finding's message, and for a warning ``--strict`` promoted, a note saying so."""
    return f"{f.message} ({PROMOTED})" if f.promoted else f.message


def summary(report: ValidationReport) -> str:
    """The last line of every findings format: ``0 errors, 1 warning in 3 documents (2 files)``;
    under ``--strict`` with promoted warnings, ``…; --strict counted 1 warning as an error``."""
    docs = plural(report.documents, "document")
    files = plural(report.files, "file")
    line = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')} in {docs} ({files})"
    if report.promoted:
        n = report.promoted
        line += f"; --strict counted {plural(n, 'warning')} as {'an error' if n == 1 else 'errors'}"
    return line
