"""``-o sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run; ``tool.driver.rules`` holds an entry for each rule ID that occurs,
documented from the rule catalogue, and every finding becomes a result with a
physical location (file, line, column) and a logical one (the JSON Pointer).

Under ``--strict`` a warning's result has ``"level": "error"`` (its rule keeps
``defaultConfiguration.level`` ``warning``, what the catalogue says) and
``"properties": {"promoted": true}``; the run's invocation lists the promoted
rules in ``ruleConfigurationOverrides``, SARIF's record of a level changed for a run.
"""

from __future__ import annotations

import json
from typing import Mapping
from urllib.parse import quote

from ecsctl.cli.render.paths import ci_path
from ecsctl.core.findings import Finding, Severity, ValidationReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://ecsctl.dev/"


def _level(severity: str | Severity) -> str:
    return "error" if str(getattr(severity, "value", severity)) == "error" else "warning"


def _rule(rule_id: str, entry: Mapping | None, first: Finding) -> dict:
    """A reportingDescriptor; a rule missing from the catalogue is described by its first finding."""
    title = entry["title"] if entry else rule_id
    explanation = entry["explanation"] if entry else first.message
    level = _level(entry["severity"] if entry else Severity.WARNING if first.promoted else first.severity)
    rule = {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": explanation},
        "help": {"text": f"{explanation}\n\nRun `ecsctl rules explain {rule_id}` for details."},
        "defaultConfiguration": {"level": level},
    }
    if entry and entry.get("url"):
        rule["helpUri"] = entry["url"]
    return rule


def _uri(path: str) -> str:
    """A path as the URI reference SARIF wants (§3.10, RFC 3986): what a path segment may not
    hold (spaces, '<', '%', non-ASCII …) percent-encoded, and ':' too, which would otherwise
    read as a scheme in the first segment; '/' and the sub-delimiters (',', '&', …) stay."""
    return quote(path, safe="/!$&'()*+,;=@")


def _result(f: Finding, rule_index: int) -> dict:
    result = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _level(f.severity),
        "message": {"text": f.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(ci_path(f.file))},
                    "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
                },
                "logicalLocations": [
                    # A JSON Pointer in a URI fragment (RFC 6901 §6); "" is the whole document.
                    {"fullyQualifiedName": f"{ci_path(f.file)}#{f.pointer}", "name": f.pointer or "(document)", "kind": "object"}
                ],
            }
        ],
    }
    if f.promoted:
        result["properties"] = {"promoted": True}
    return result


def _strict_invocation(findings: list[Finding], index: dict[str, int]) -> dict:
    """The run under ``--strict``: each rule with promoted warnings reconfigured to ``error``."""
    promoted = sorted({f.rule for f in findings if f.promoted})
    invocation: dict = {"executionSuccessful": True, "properties": {"strict": True}}
    if promoted:
        invocation["ruleConfigurationOverrides"] = [
            {"descriptor": {"id": rid, "index": index[rid]}, "configuration": {"level": "error"}} for rid in promoted]
    return invocation


def build_sarif(report: ValidationReport, catalogue: Mapping[str, Mapping], version: str) -> dict:
    """The SARIF log as a dict; ``catalogue`` maps rule IDs to catalogue entries."""
    findings = report.sorted()
    first: dict[str, Finding] = {}
    for f in findings:
        first.setdefault(f.rule, f)
    rule_ids = sorted(first)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    driver = {
        "name": "ecsctl",
        "version": version,
        "informationUri": INFORMATION_URI,
        "rules": [_rule(rid, catalogue.get(rid), first[rid]) for rid in rule_ids],
    }
    run = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule]) for f in findings],
    }
    if report.strict:
        run["invocations"] = [_strict_invocation(findings, index)]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: ValidationReport, color: bool = False) -> str:
    from ecsctl import __version__
    from ecsctl.app.rules import catalogue

    by_id = {e["id"]: e for e in catalogue()}
    return json.dumps(build_sarif(report, by_id, __version__), indent=2) + "\n"
