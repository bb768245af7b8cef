"""``-o github``: GitHub Actions workflow commands, one line per finding.

    ::error file=tasks/web.yaml,line=3,col=5,title=E0008::duplicate key 'image'

GitHub shows each as an annotation on the file and line of the pull request.
Under ``--strict`` a warning is an ``::error``, its message noting it was promoted.
The summary follows as a plain line for the job log.
"""

from __future__ import annotations

from ecsctl.cli.render.paths import ci_path
from ecsctl.cli.render.words import message, summary
from ecsctl.core.findings import Finding, Severity, ValidationReport

# GitHub's own escaping (actions/toolkit, packages/core/src/command.ts).
_DATA = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A"})
_PROPERTY = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A", ":": "%3A", ",": "%2C"})


def escape_data(text: str) -> str:
    return text.translate(_DATA)


def escape_property(text: str) -> str:
    return text.translate(_PROPERTY)


def command(f: Finding) -> str:
    level = "error" if f.severity is Severity.ERROR else "warning"
    props = {"file": ci_path(f.file), "line": f.line, "col": f.column, "title": f.rule}
    rendered = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
    return f"::{level} {rendered}::{escape_data(message(f))}"


def render_github(report: ValidationReport, color: bool = False) -> str:
    lines = [command(f) for f in report.sorted()]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
