"""Check a document's spec against its kind's JSON Schema, in readable words.

jsonschema's own messages are Python reprs ("'256' is not of type 'integer'");
each error is rewritten here into one line that names the field and, for an
unknown field, the closest known one.  A schema node may carry ``x-message``
to say in ECS's terms why a value is refused.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from ecsctl.core.findings import Finding, Path, Severity
from ecsctl.core.manifest.document import Document
from ecsctl.core.manifest.envelope import KINDS, did_you_mean
from ecsctl.core.sensitive import sensitive_paths

SCHEMA_RULES = {kind: f"E1{n:03d}" for n, kind in enumerate(KINDS, start=1)}
# Schema errors that leave every value as the rules read it (unknown fields, numbers out of
# bounds, lists too long, strings too long or off their pattern). Not these: a wrong type, a
# missing required field, an unmatched oneOf, and an empty string or a value off its enum, which
# the rules would read as absent or as another branch (launchType "" read as the default, then
# Fargate errors the user never caused).
SHAPE_KEEPING = frozenset({"additionalProperties", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                           "minItems", "maxItems", "maxLength", "pattern", "uniqueItems", "multipleOf"})

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _field(path: Path) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "spec"


# Compiling costs ~90 ms and saves ~0.2 ms per document: compile once this many documents
# of one kind have been seen (the ski-rental rule: never worse than twice the best choice).
FAST_AFTER = 400


class SchemaChecker:
    """Validates specs of every kind; validators are built on first use of a kind.

    jsonschema gives the detailed errors but walks a 40 KB schema in about
    200 us per document.  When a run holds many documents of one kind, the
    schema is also compiled to Python code with fastjsonschema (about 90 ms
    once, then about 25 us per document): a document it accepts has no schema
    errors, and only the others go through jsonschema for their messages.  A
    single-file run never pays the compile.  ``tests/test_schema_fast_path.py``
    holds the two validators to the same verdicts.
    """

    def __init__(self, load_schema: Callable[[str], dict], fast_after: int = FAST_AFTER) -> None:
        self._load_schema = load_schema
        self._validators: dict[str, Any] = {}
        self._fast: dict[str, Any] = {}
        self._seen: dict[str, int] = {}
        self._fast_after = fast_after

    def fast_validator(self, kind: str):
        """A compiled validity check for ``kind`` (``None`` if fastjsonschema cannot compile it)."""
        if kind not in self._fast:
            try:
                import copy

                import fastjsonschema

                # compile() rewrites $refs in the dict it is given: hand it a copy.
                self._fast[kind] = fastjsonschema.compile(copy.deepcopy(self._load_schema(kind)))
            except Exception:  # noqa: BLE001 - any compile failure just means: use jsonschema
                self._fast[kind] = None
        return self._fast[kind]

    def warm(self) -> None:
        """Compile every kind's fast check now, and use it from the first document: for a run
        known to be large, and before forking workers (which then inherit the compiled code
        instead of each paying the compile and the 400 slow documents before it)."""
        for kind in SCHEMA_RULES:
            self.fast_validator(kind)
        self._fast_after = 0

    def is_valid_fast(self, kind: str, spec: Any) -> bool:
        seen = self._seen[kind] = self._seen.get(kind, 0) + 1
        if seen <= self._fast_after:
            return False
        fast = self.fast_validator(kind)
        if fast is None:
            return False
        try:
            fast(spec)
        except Exception:  # noqa: BLE001 - a refusal (or a crash): let jsonschema give the verdict
            return False
        return True

    def validator(self, kind: str):
        validator = self._validators.get(kind)
        if validator is None:
            from jsonschema.validators import validator_for

            schema = self._load_schema(kind)
            cls = validator_for(schema)
            validator = cls(schema)
            self._validators[kind] = validator
        return validator

    def check(self, doc: Document) -> tuple[list[Finding], bool]:
        """The schema findings of ``doc``, and whether its shape is still sound.

        A document whose only schema errors are unknown fields (typos, mostly) or
        values out of bounds (a number above its maximum, a list too long, a string
        off its pattern or enum) still has the types and required fields the rules
        rely on, so the rules run on it too: one limit does not hide a Fargate sizing
        error, and CI sees every problem of a file in one run.
        """
        if self.is_valid_fast(doc.kind, doc.spec):
            return [], True
        rule = SCHEMA_RULES[doc.kind]
        errors = list(self.validator(doc.kind).iter_errors(doc.spec))
        findings = []
        for path, message in self._unique_messages(errors, doc.spec):
            full = doc.spec_path + path
            pos = doc.position(full)
            findings.append(Finding(rule, Severity.ERROR, message, doc.file, full, pos.line, pos.column, doc.index))
        return findings, all(e.validator in SHAPE_KEEPING for e in errors)

    def iter_messages(self, kind: str, spec: Any) -> Iterator[tuple[Path, str]]:
        return self._unique_messages(list(self.validator(kind).iter_errors(spec)), spec)

    def _unique_messages(self, errors: list, spec: Any = None) -> Iterator[tuple[Path, str]]:
        seen: set[tuple[Path, str]] = set()
        # A value of the wrong type also fails its enum, pattern or range: say it once.
        mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
        for error in errors:
            if error.validator != "type" and tuple(error.absolute_path) in mistyped:
                continue
            for item in _messages(error):
                item = _without_secret(item, spec)
                if item not in seen:
                    seen.add(item)
                    yield item


def _messages(error) -> Iterator[tuple[Path, str]]:
    path: Path = tuple(error.absolute_path)
    kw = error.validator
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    custom = schema.get("x-message")
    name = _field(path)
    if kw == "additionalProperties" and isinstance(value, dict):
        known = list(schema.get("properties", {}))


        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        for key in value:
            if key in schema.get("properties", {}) or any(p.search(key) for p in patterns):
                continue
            yield path + (key,), f"unknown field '{key}'{did_you_mean(key, known)}"
        return
    if kw == "unevaluatedProperties" and isinstance(value, dict):
        yield path, error.message
        return
    if custom and kw not in ("required", "type"):
        yield path, f"{name}: {custom}"
        return
    if kw == "required":
        missing = [r for r in error.validator_value if isinstance(value, dict) and r not in value]
        for field in missing:
            where = f" in {name}" if path else ""
            yield path, f"missing required field '{field}'{where}"
        return
    if kw == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        yield path, f"{name} must be {words}, not {_describe(value)}"
        return
    if kw == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        hint = did_you_mean(value, [str(o) for o in error.validator_value]) if isinstance(value, str) else ""
        yield path, f"{name} {_describe(value)} is not one of: {options}{hint}"
        return
    if kw == "const":
        yield path, f"{name} must be {error.validator_value!r}, not {_describe(value)}"
        return
    if kw in ("minimum", "exclusiveMinimum"):
        op = "at least" if kw == "minimum" else "greater than"
        yield path, f"{name} must be {op} {error.validator_value}, not {value}"
        return
    if kw in ("maximum", "exclusiveMaximum"):
        op = "at most" if kw == "maximum" else "less than"
        yield path, f"{name} must be {op} {error.validator_value}, not {value}"
        return
    if kw == "minLength":
        if error.validator_value == 1:
            yield path, f"{name} must not be empty"
        else:
            yield path, f"{name} must be at least {error.validator_value} characters, not {len(value)}"
        return
    if kw == "maxLength":
        yield path, f"{name} must be at most {error.validator_value} characters, not {len(value)}"
        return
    if kw == "minItems":
        if error.validator_value == 1:
            yield path, f"{name} must not be empty"
        else:
            yield path, f"{name} needs at least {error.validator_value} items, not {len(value)}"
        return
    if kw == "maxItems":
        yield path, f"{name} allows at most {error.validator_value} items, not {len(value)}"
        return
    if kw == "minProperties":
        yield path, f"{name} must not be empty"
        return
    if kw == "maxProperties":
        yield path, f"{name} allows at most {error.validator_value} entries, not {len(value)}"
        return
    if kw == "uniqueItems":
        yield path, f"{name} must not repeat an item"
        return
    if kw == "pattern":
        yield path, f"{name} {_describe(value)} does not match {error.validator_value}"
        return
    if kw in ("oneOf", "anyOf"):
        # Point at the deepest, most specific reason among the alternatives.
        from jsonschema.exceptions import best_match

        best = best_match(error.context) if error.context else None
        if best is not None:
            yield from _messages(best)
        else:
            yield path, f"{name} does not match any allowed form"
        return
    if kw == "not":
        yield path, f"{name} is not allowed here"
        return
    if kw == "dependentRequired":
        yield path, error.message.replace("'", "")
        return
    yield path, f"{name}: {error.message}"


def _without_secret(item: tuple[Path, str], spec: Any) -> tuple[Path, str]:
    """Never echo a value that looks sensitive (``value: 12345`` under ``API_KEY``): say what
    kind of value it is instead."""
    path, message = item
    if spec is None or path not in sensitive_paths(spec):
        return item
    value: Any = spec
    for part in path:
        value = value[part]
    hidden = f"a {_describe(value).split(' ', 1)[0]} (value not shown: it looks sensitive)"
    for shown in (_describe(value), repr(value), str(value)):
        if shown and shown in message:
            message = message.replace(shown, hidden)
    return path, message
