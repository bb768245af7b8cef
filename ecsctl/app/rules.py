"""Use case: the rule catalogue, including the loader and schema checks that are not rule classes."""

from __future__ import annotations

from ecsctl.core.manifest.schema_check import SCHEMA_RULES
from ecsctl.core.rules import all_rules
from ecsctl.core.rules.docs import OWN_FIELDS, url_of

# Checks made while loading and reading the envelope; they have IDs like any rule.
BUILTIN = [
    ("E0001", "File is not UTF-8", "Manifests are UTF-8 text; the finding points at the first byte that cannot be decoded, or at a JSON escape of a lone UTF-16 surrogate (\\ud800), which no UTF-8 text can hold."),
    ("E0002", "Malformed YAML or JSON", "The file cannot be parsed; the finding points where the parser gave up."),
    ("E0003", "Empty file", "A manifest file must hold at least one document."),
    ("E0004", "YAML tag not allowed", "Tags such as !!python/object would build program objects; manifests hold plain data only."),
    ("E0005", "Alias expansion too large", "Anchors and aliases may be used, but a document may not expand past 200,000 values (the 'billion laughs' attack)."),
    ("E0006", "File or document too large", "Files are capped at 8 MiB and documents at 1 MiB of text."),
    ("E0007", "Nesting too deep", "The document nests deeper than the parser can follow."),
    ("E0008", "Duplicate key", "A mapping repeats a key; YAML would silently keep only the last value."),
    ("E0009", "File cannot be read", "The file could not be opened or read."),
    ("E0010", "Document is not a mapping", "Each document must be a mapping with apiVersion, kind, metadata and spec, or a bare task definition."),
    ("E0011", "Unknown envelope field", "Only apiVersion, kind, metadata (name, labels, annotations) and spec are allowed at the top of a manifest."),
    ("E0012", "Wrong apiVersion", "Manifests declare apiVersion: ecsctl/v1."),
    ("E0013", "Unknown kind", "kind must be one of the manifest kinds ecsctl knows; a document without kind must be a RegisterTaskDefinition request or describe-task-definition output."),
    ("E0014", "Bad metadata", "metadata.name is required: 1-255 letters, digits, '-' or '_' (Parameter, Secret, EnvironmentFile and Repository names may be paths)."),
    ("E0015", "Missing spec", "A manifest's spec must be a mapping."),
    ("E0016", "Duplicate name", "Names are unique per kind (services: per cluster) across all validated files. Bare task definitions of one family count too: ECS would register both as revisions, but plan and apply take one spec per family, and whatever validate accepts they accept (validate such files one by one, or leave some out with --exclude)."),
    ("E0017", "Value cannot be read", "A scalar whose text does not fit its tag (!!int a, !!bool maybe), or a number out of range: integers are at most 2**63-1 (ECS's widest, a 64-bit Long) and decimals finite (no .inf, .nan, NaN or Infinity)."),
    ("E0018", "Key is not a string", "Mapping keys are strings in ECS; an unquoted true, 3 or null as a key is a boolean, a number or null in YAML. Quote it if you mean the text."),
    ("E0900", "Internal rule error", "A rule crashed on this document: a bug in ecsctl. Please report it with the document."),
]


def side(rule_id: str, severity: str) -> str:
    """Which side of the line a rule is on (DESIGN §8): what ECS refuses, or what it accepts but misbehaves on."""
    if rule_id.startswith("E0"):
        return "Error: ecsctl cannot read the document as a manifest."
    if rule_id in OWN_FIELDS:
        return "Error: the field is ecsctl's own (the simulation's), and the simulation cannot use this value."
    if severity == "error":
        return "Error: ECS itself refuses this (the API request fails)."
    return "Warning: ECS accepts this but it does not behave as meant; an error under --strict."


def _documented(entry: dict) -> dict:
    url = url_of(entry["id"])
    explanation = f"{entry['explanation']}\n\n{side(entry['id'], entry['severity'])}\nDocumentation: {url}"
    return {**entry, "explanation": explanation, "url": url}


def catalogue() -> list[dict]:
    """Every rule: ``id``, ``severity``, ``kinds``, ``title``, ``explanation`` (ending with the side it
    is on and its documentation page) and ``url``."""
    entries = [
        {"id": rid, "severity": "error", "kinds": ["*"], "title": title, "explanation": text}
        for rid, title, text in BUILTIN
    ]
    for kind, rid in SCHEMA_RULES.items():
        entries.append({
            "id": rid,
            "severity": "error",
            "kinds": [kind],
            "title": f"{kind} spec does not match its JSON Schema",
            "explanation": (
                f"The spec of a {kind} is checked against schemas/{kind}.json: types, required fields, enums, "
                "ranges and patterns, and no unknown fields (with a 'did you mean' hint). "
                "`ecsctl schema export DIR` writes the schema for editors and other tools."
            ),
        })
    for rid, cls in all_rules().items():
        entries.append({
            "id": rid,
            "severity": cls.severity.value,
            "kinds": list(cls.kinds),
            "title": cls.title,
            "explanation": cls.explanation(),
        })
    return sorted((_documented(e) for e in entries), key=lambda e: e["id"])
