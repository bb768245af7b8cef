"""EventBridge event patterns: what ``PutRule`` refuses, and whether an event matches.

    >>> pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"],
    ...            "detail": {"bucket": {"name": ["uploads"]}, "object": {"key": [{"prefix": "incoming/"}]}}}
    >>> event = {"source": "aws.s3", "detail-type": "Object Created",
    ...          "detail": {"bucket": {"name": "uploads"}, "object": {"key": "incoming/a.csv", "size": 5}}}
    >>> matches(pattern, event)
    True
    >>> matches(pattern, {**event, "detail": {"bucket": {"name": "uploads"}, "object": {"key": "done/a.csv"}}})
    False
    >>> print(pattern_issues({"source": "aws.s3"})[0][1])
    Event pattern is not valid: 'source' must be an object or an array (write ["aws.s3"])

Entry points:

* :func:`pattern_issues` ``(pattern) -> [(path, message)]`` — everything ``PutRule`` would
  refuse (``InvalidEventPatternException``), each with the path inside the pattern;
* :func:`matches` ``(pattern, event) -> bool`` — raises :class:`PatternError` (a
  ``ValueError``) for an invalid pattern, nothing else for any JSON input.

No maintained Python matcher fits (PyPI's ``event-ruler`` is a 2023 binary-only wheel of
one author; moto's matcher is internal to a mocking library), so this follows the
documentation — "Content filtering in Amazon EventBridge event patterns"
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html),
"Matching events on null values and empty strings" (…/eb-event-patterns-null-values.html),
"Arrays in event patterns" (…/eb-event-patterns-arrays.html) — and AWS's open-source Event
Ruler, the library those pages describe (github.com/aws/event-ruler, README), and its
tables are the tests.

Matching, as documented:

* every field named in the pattern must match (AND); a field matches when its value
  matches **any** entry of the pattern's array (OR); ``"$or": [{…}, {…}]`` matches when
  any of its sub-patterns matches the same object;
* nested objects (``detail``) are matched field by field; an event field that is an
  **array** matches when any element does, and a sub-pattern must be satisfied by one
  element (fields from different elements of one array never combine);
* exact values compare type and value: ``"5"`` is not ``5``, ``5`` is ``5.0``, ``null``
  matches only ``null`` and ``""`` only the empty string (they are not interchangeable);
* ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard`` (``*`` any run of
  characters; ``\\*`` a literal star, ``\\\\`` a backslash), ``prefix``/``suffix`` with
  ``{"equals-ignore-case": …}`` and ``cidr`` (IPv4 and IPv6) only match strings;
  ``numeric`` only JSON numbers (``["=", 3]``, ``[">", 0, "<=", 5]``, ``["<", 10]`` …);
* ``anything-but`` matches a value that is present and does not match what it names: a
  string, a number, a list of strings or of numbers, or ``{prefix|suffix|
  equals-ignore-case|wildcard: string or list of strings}``; a missing field never
  matches it;
* ``{"exists": true}`` matches a field that has a value (a leaf: ``null`` counts, an
  object or an empty array does not); ``{"exists": false}`` matches when it has none —
  "exists matching only works on leaf nodes".
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import sys
from typing import Any, Iterator

__all__ = ["MAX_PATTERN_LENGTH", "PatternError", "matches", "pattern_issues", "validate_pattern"]

# PutRule's EventPattern is a string of at most 4096 characters (botocore events model).
MAX_PATTERN_LENGTH = 4096
OR = "$or"
STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr")
NUMERIC_OPERATORS = ("=", ">", ">=", "<", "<=")

Path = tuple


class PatternError(ValueError):
    """An event pattern that EventBridge would refuse; ``path`` is where, inside the pattern."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


# =============================================================================== validation


def pattern_issues(pattern: Any) -> list[tuple[Path, str]]:
    """Why ``PutRule`` would refuse ``pattern`` (empty when it is valid); paths are inside the pattern."""
    if not isinstance(pattern, dict):
        return [((), _invalid("it must be a JSON object of fields, e.g. {source: [aws.s3]}"))]
    issues = list(_object_issues(pattern, ()))
    if not issues:
        text = json.dumps(pattern, separators=(",", ":"), ensure_ascii=False)
        if len(text) > MAX_PATTERN_LENGTH:
            issues.append(((), _invalid(f"it is {len(text)} characters as JSON; EventBridge allows {MAX_PATTERN_LENGTH}")))
    return issues


def validate_pattern(pattern: Any) -> None:
    """Raise :class:`PatternError` for the first of :func:`pattern_issues`."""
    issues = pattern_issues(pattern)
    if issues:
        raise PatternError(*issues[0])


def _invalid(why: str) -> str:
    return f"Event pattern is not valid: {why}"


def _object_issues(node: dict, path: Path) -> Iterator[tuple[Path, str]]:
    if not node:
        yield path, _invalid(f"{_name(path)} is an empty object")
        return
    for key, value in node.items():
        here = path + (key,)
        if not isinstance(key, str):
            yield here, _invalid(f"field name {key!r} must be a string")
        elif key == OR:
            yield from _or_issues(value, here)
        elif isinstance(value, dict):
            yield from _object_issues(value, here)
        elif isinstance(value, list):
            yield from _leaf_issues(value, here)
        else:
            yield here, _invalid(f"{_name(here)} must be an object or an array (write [{json.dumps(value)}])")


def _or_issues(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
        yield path, _invalid("'$or' takes an array of at least 2 objects, e.g. $or: [{a: [1]}, {b: [2]}]")
        return
    for i, sub in enumerate(value):
        yield from _object_issues(sub, path + (i,))


def _leaf_issues(values: list, path: Path) -> Iterator[tuple[Path, str]]:
    if not values:
        yield path, _invalid(f"the array of {_name(path)} is empty")
    for i, item in enumerate(values):
        here = path + (i,)
        if isinstance(item, dict):
            yield from _expression_issues(item, here)
        elif isinstance(item, list):
            yield here, _invalid("a match value must be a string, number, true, false, null or a filter object, not an array")
        elif isinstance(item, float) and not math.isfinite(item):
            yield here, _invalid(f"{item} is not a JSON number")
        elif not isinstance(item, (str, int, float, bool)) and item is not None:
            yield here, _invalid(f"a match value must be a string, number, true, false or null, not {type(item).__name__}")


def _expression_issues(expr: dict, path: Path) -> Iterator[tuple[Path, str]]:
    if len(expr) != 1:
        what = "is empty" if not expr else f"has {len(expr)} keys ({', '.join(map(str, expr))})"
        yield path, _invalid(f"a filter object takes exactly one operator; this one {what}")
        return
    ((op, arg),) = expr.items()
    here = path + (op,)
    if op not in OPERATORS:
        yield here, _invalid(f"unknown operator {op!r}; EventBridge knows {', '.join(OPERATORS)}")
    elif op in ("prefix", "suffix"):
        if isinstance(arg, dict):
            yield from _ignore_case_issues(arg, here, op)
        elif not isinstance(arg, str):
            yield here, _invalid(f"{op} takes a string or {{equals-ignore-case: string}}")
    elif op == "equals-ignore-case":
        if not isinstance(arg, str):
            yield here, _invalid("equals-ignore-case takes a string")
    elif op == "wildcard":
        if not isinstance(arg, str):
            yield here, _invalid("wildcard takes a string")
        else:
            problem = _wildcard_problem(arg)
            if problem:
                yield here, _invalid(problem)
    elif op == "anything-but":
        yield from _anything_but_issues(arg, here)
    elif op == "numeric":
        problem = _numeric_problem(arg)
        if problem:
            yield here, _invalid(problem)
    elif op == "exists":
        if not isinstance(arg, bool):
            yield here, _invalid("exists takes true or false")
    elif op == "cidr":
        if not isinstance(arg, str) or _network(arg) is None:
            yield here, _invalid(f"cidr takes an IPv4 or IPv6 network such as 10.0.0.0/24, not {json.dumps(arg)}")


def _ignore_case_issues(arg: dict, path: Path, op: str) -> Iterator[tuple[Path, str]]:
    if list(arg) != ["equals-ignore-case"] or not isinstance(arg["equals-ignore-case"], str):
        yield path, _invalid(f"{op} takes a string or {{equals-ignore-case: string}}")


def _anything_but_issues(arg: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(arg, bool) or arg is None:
        yield path, _invalid("anything-but takes a string, a number, a list of either, or {prefix|suffix|equals-ignore-case|wildcard: …}")
    elif isinstance(arg, (str, int, float)):
        if isinstance(arg, float) and not math.isfinite(arg):
            yield path, _invalid(f"{arg} is not a JSON number")
    elif isinstance(arg, list):
        if not arg:
            yield path, _invalid("the anything-but list is empty")
        elif not (all(isinstance(v, str) for v in arg) or all(_is_number(v) for v in arg)):
            yield path, _invalid("inside an anything-but list, the values must be all strings or all numbers")
    elif isinstance(arg, dict):
        if len(arg) != 1 or next(iter(arg)) not in STRING_OPERATORS:
            yield path, _invalid("anything-but takes one of prefix, suffix, equals-ignore-case or wildcard inside an object")
            return
        ((op, inner),) = arg.items()
        values = inner if isinstance(inner, list) else [inner]
        if not values or not all(isinstance(v, str) for v in values):
            yield path + (op,), _invalid(f"anything-but {op} takes a string or a non-empty list of strings")
        elif op == "wildcard":
            for v in values:
                problem = _wildcard_problem(v)
                if problem:
                    yield path + (op,), _invalid(problem)
    else:
        yield path, _invalid("anything-but takes a string, a number, a list of either, or {prefix|suffix|equals-ignore-case|wildcard: …}")


def _is_number(value: Any) -> bool:
    """A finite JSON number that a float can hold (``math.isfinite(10**400)`` raises OverflowError)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= sys.float_info.max  # int and float compare exactly, without conversion
    return isinstance(value, float) and math.isfinite(value)


def _numeric_problem(arg: Any) -> str:
    """Grammar: ["=", n] | [">"|">=", n] | [">"|">=", n, "<"|"<=", m] | ["<"|"<=", n], with n < m."""
    example = 'numeric takes e.g. ["=", 3], [">", 0], ["<=", 5] or [">", 0, "<=", 5]'
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        return example
    ops, nums = arg[0::2], arg[1::2]
    if not all(isinstance(o, str) for o in ops):
        return example
    for op in ops:
        if op not in NUMERIC_OPERATORS:
            return f"unknown numeric operator {op!r} (one of {', '.join(NUMERIC_OPERATORS)})"
    for op, n in zip(ops, nums):
        if not _is_number(n):
            return f"the value after {op!r} must be a number, not {json.dumps(n)}"
    if len(arg) == 2:
        return ""
    if ops[0] not in (">", ">=") or ops[1] not in ("<", "<="):
        return f"a numeric range is a lower bound (> or >=) then an upper bound (< or <=), not {ops[0]!r} then {ops[1]!r}"
    if not nums[0] < nums[1]:
        return f"the lower bound {nums[0]} must be below the upper bound {nums[1]}"
    return ""


def _wildcard_problem(text: str) -> str:
    escaped = False
    previous_star = False
    for ch in text:
        if escaped:
            if ch not in "*\\":
                return f"in wildcard {json.dumps(text)}, a backslash may only escape '*' or '\\\\'"
            escaped, previous_star = False, False
        elif ch == "\\":
            escaped = True
        elif ch == "*":
            if previous_star:
                return f"wildcard {json.dumps(text)} has consecutive '*' characters, which EventBridge refuses"
            previous_star = True
        else:
            previous_star = False
    if escaped:
        return f"wildcard {json.dumps(text)} ends with a lone backslash"
    return ""


def _network(text: str):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _name(path: Path) -> str:
    return f"'{path[-1]}'" if path else "the pattern"


# ================================================================================= matching


class _Missing:
    """The value of a field the event does not have."""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "MISSING"


MISSING = _Missing()


def matches(pattern: dict, event: Any) -> bool:
    """Whether ``event`` (a parsed JSON object) matches ``pattern`` (see the module doc)."""
    validate_pattern(pattern)
    return _match_object(pattern, event)


def _match_object(pattern: dict, value: Any) -> bool:
    """``value`` is the event's value where ``pattern`` (an object) applies."""
    if isinstance(value, list):
        if value:
            return any(_match_object(pattern, v) for v in value)
        value = MISSING  # an empty array holds no field at all
    children = value if isinstance(value, dict) else {}
    for key, sub in pattern.items():
        if key == OR:
            if not any(_match_object(alternative, value) for alternative in sub):
                return False
            continue
        child = children.get(key, MISSING)
        if isinstance(sub, dict):
            ok = _match_object(sub, child)
        else:
            ok = _match_leaf(sub, child)
        if not ok:
            return False
    return True


def _leaves(value: Any) -> list:
    """The leaf values at a field: scalars (null included), arrays flattened, objects dropped."""
    if value is MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        out: list = []
        for v in value:
            out += _leaves(v)
        return out
    return [value]


def _match_leaf(alternatives: list, value: Any) -> bool:
    leaves = _leaves(value)
    for alt in alternatives:
        if isinstance(alt, dict):
            ((op, arg),) = alt.items()
            if op == "exists":
                if bool(leaves) == arg:
                    return True
                continue
            if any(_operator(op, arg, leaf) for leaf in leaves):
                return True
        elif any(_same(alt, leaf) for leaf in leaves):
            return True
    return False


def _same(expected: Any, actual: Any) -> bool:
    """JSON equality: types must agree (a bool is not a number), numbers compare by value."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, str) or isinstance(actual, str):
        return isinstance(expected, str) and isinstance(actual, str) and expected == actual
    return _is_number(expected) and _is_number(actual) and float(expected) == float(actual)


def _operator(op: str, arg: Any, leaf: Any) -> bool:
    if op == "anything-but":
        return not _anything_but_hits(arg, leaf)
    if op == "numeric":
        return _is_number(leaf) and _in_range(arg, float(leaf))
    if not isinstance(leaf, str):
        return False
    if op == "cidr":
        return _in_network(arg, leaf)
    return _string_match(op, arg, leaf)


def _string_match(op: str, arg: Any, text: str) -> bool:
    if op in ("prefix", "suffix"):
        ignore_case = isinstance(arg, dict)
        needle = arg["equals-ignore-case"] if ignore_case else arg
        hay = text.lower() if ignore_case else text
        needle = needle.lower() if ignore_case else needle
        return hay.startswith(needle) if op == "prefix" else hay.endswith(needle)
    if op == "equals-ignore-case":
        return text.lower() == arg.lower()
    if op == "wildcard":
        return _wildcard_regex(arg).fullmatch(text) is not None
    return False  # pragma: no cover - validated operators only


def _anything_but_hits(arg: Any, leaf: Any) -> bool:
    """Whether ``leaf`` is one of the things ``anything-but`` excludes."""
    if isinstance(arg, dict):
        ((op, inner),) = arg.items()
        values = inner if isinstance(inner, list) else [inner]
        return isinstance(leaf, str) and any(_string_match(op, v, leaf) for v in values)
    values = arg if isinstance(arg, list) else [arg]
    return any(_same(v, leaf) for v in values)


def _in_range(arg: list, number: float) -> bool:
    for op, bound in zip(arg[0::2], arg[1::2]):
        bound = float(bound)
        ok = {
            "=": number == bound,
            ">": number > bound,
            ">=": number >= bound,
            "<": number < bound,
            "<=": number <= bound,
        }[op]
        if not ok:
            return False
    return True


def _in_network(cidr: str, text: str) -> bool:
    network = _network(cidr)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


_WILDCARDS: dict[str, re.Pattern] = {}


def _wildcard_regex(text: str) -> re.Pattern:
    compiled = _WILDCARDS.get(text)
    if compiled is None:
        parts, i = [], 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                parts.append(re.escape(text[i + 1]))
                i += 2
                continue
            parts.append(".*" if ch == "*" else re.escape(ch))
            i += 1
        compiled = re.compile("".join(parts), re.DOTALL)
        if len(_WILDCARDS) < 1024:
            _WILDCARDS[text] = compiled
    return compiled
