"""``-o junit``: JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure).

One ``<testsuite name="ecsctl validate">``; each file with findings is a
``<testcase>`` (classname and name are the file) holding a ``<failure>`` per
error, ``message="RULE message"``, text ``file:line:col``.

Warnings are not failures: they are listed as ``file:line:col: warning RULE
message`` lines in the test case's ``<system-out>``.  Under ``--strict`` they are
errors, so failures like the others (the message ends ``(a warning, an error
under --strict)``), and the suite has a property ``strict`` = ``true``: the
report fails where the run does.

The report knows how many files were checked but only names those with
findings; the clean ones share one passing test case ("N files without
findings"), so a clean run still shows a passed test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby

from ecsctl.cli.render.words import message, plural
from ecsctl.core.findings import Severity, ValidationReport

SUITE = "ecsctl validate"

# Characters XML 1.0 cannot carry at all, even escaped; a hostile key could hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def build_junit(report: ValidationReport) -> ET.Element:
    suites = ET.Element("testsuites", name="ecsctl")
    suite = ET.SubElement(suites, "testsuite", name=SUITE)
    if report.strict:
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="strict", value="true")
    cases = failed = 0
    for file, group in groupby(report.sorted(), key=lambda f: f.file):
        findings = list(group)
        name = _clean(file)
        case = ET.SubElement(suite, "testcase", classname=name, name=name)
        cases += 1
        errors = [f for f in findings if f.severity is Severity.ERROR]
        for f in errors:
            failure = ET.SubElement(case, "failure", message=_clean(f"{f.rule} {message(f)}"), type=f.rule)
            failure.text = _clean(f"{f.file}:{f.line}:{f.column}")
        failed += bool(errors)
        warnings = [f for f in findings if f.severity is not Severity.ERROR]
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = _clean("".join(f"{f.file}:{f.line}:{f.column}: warning {f.rule} {f.message}\n" for f in warnings))
    clean = report.files - cases
    if clean > 0:
        ET.SubElement(suite, "testcase", classname=SUITE, name=f"{plural(clean, 'file')} without findings")
        cases += 1
    totals = {"tests": str(cases), "failures": str(failed), "errors": "0", "skipped": "0"}
    suite.attrib.update(totals)
    suites.attrib.update({k: v for k, v in totals.items() if k != "skipped"})
    return suites


def render_junit(report: ValidationReport, color: bool = False) -> str:
    root = build_junit(report)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
