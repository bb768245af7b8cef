"""Renderers for a ValidationReport: text, json, and the CI formats."""

from __future__ import annotations

import json
from itertools import groupby

from ecsctl.cli.render.github import render_github
from ecsctl.cli.render.junit import render_junit
from ecsctl.cli.render.sarif import render_sarif
from ecsctl.cli.render.words import message, summary
from ecsctl.core.findings import Finding, Severity, ValidationReport

_RED, _YELLOW, _BOLD, _DIM, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[2m", "\x1b[0m"


def render_text(report: ValidationReport, color: bool = False) -> str:
    """``file:line:col: severity RULE message``, grouped per file, then a summary line."""
    lines = []
    for file, group in groupby(report.sorted(), key=lambda f: f.file):
        if lines:
            lines.append("")
        for f in group:
            sev = f.severity.value
            if color:
                sev = (_RED if f.severity is Severity.ERROR else _YELLOW) + sev + _RESET
                where = f"{_BOLD}{f.file}:{f.line}:{f.column}{_RESET}"
                lines.append(f"{where}: {sev} {_DIM}{f.rule}{_RESET} {message(f)}")
            else:
                lines.append(f"{f.file}:{f.line}:{f.column}: {sev} {f.rule} {message(f)}")
    if lines:
        lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def finding_dict(f: Finding, strict: bool = False) -> dict:
    """A finding of ``-o json``; under ``--strict`` also ``promoted``: a warning counted as an error."""
    out = {
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "path": f.pointer,
        "rule": f.rule,
        "severity": f.severity.value,
        "message": f.message,
    }
    if strict:
        out["promoted"] = f.promoted
    return out


def report_dict(report: ValidationReport) -> dict:
    """The ``validate -o json`` document (also what ``plan -o json`` prints for invalid manifests).

    The keys of DESIGN §4; under ``--strict`` the warnings are among the errors, and
    ``"strict": true`` and each finding's ``promoted`` say so."""
    out = {
        "files": report.files,
        "documents": report.documents,
        "errors": report.errors,
        "warnings": report.warnings,
        "findings": [finding_dict(f, report.strict) for f in report.sorted()],
    }
    if report.strict:
        out["strict"] = True
    return out


def render_json(report: ValidationReport, color: bool = False) -> str:
    return json.dumps(report_dict(report), indent=2) + "\n"


def render_yaml(report: ValidationReport, color: bool = False) -> str:
    from ecsctl.cli.render.machine import dump

    return dump(report_dict(report), "yaml")


# One renderer per ``FindingsFormat``: (report, color) -> the text for stdout.
RENDERERS = {
    "text": render_text,
    "json": render_json,
    "yaml": render_yaml,
    "sarif": render_sarif,
    "junit": render_junit,
    "github": render_github,
}
