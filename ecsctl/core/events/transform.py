"""EventBridge's input transformer, and the RunTask overrides it gives an ECS target.

    >>> transformer = {"inputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
    ...                "inputTemplate": '{"containerOverrides": [{"name": "ingest", "environment": ['
    ...                                 '{"name": "BUCKET", "value": <bucket>}, {"name": "KEY", "value": "<key>"}]}]}'}
    >>> event = {"source": "aws.s3", "detail": {"bucket": {"name": "uploads"}, "object": {"key": "incoming/a.csv"}}}
    >>> ecs_overrides(transform_input(transformer, event, rule_name="ingest-on-upload"))
    {'containerOverrides': [{'name': 'ingest', 'environment': [{'name': 'BUCKET', 'value': 'uploads'}, {'name': 'KEY', 'value': 'incoming/a.csv'}]}]}

Where it lives in a manifest: ``ScheduledTask.spec.target.inputTransformer`` with
``inputPathsMap`` and ``inputTemplate`` (camelCased ``InputTransformer``).  That is where
EventBridge has it: ``InputTransformer`` is a member of the rule's ``Target``, beside its
``EcsParameters``, and ecsctl's ``target`` is that Target and its EcsParameters in one
object.  For an ECS target the transformed input is the task's ``overrides``
(ecs-semantics §8.2), so the template must produce a JSON object with RunTask's
``TaskOverride`` fields (``containerOverrides``, ``cpu``, ``memory``, ``taskRoleArn`` …).

Semantics ("Transforming Amazon EventBridge target input",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):

* ``inputPathsMap`` names up to 100 variables, each a JSON path into the event in dot
  notation (``$.detail.bucket.name``, ``$.detail-type``; ``[n]`` picks an array element,
  ``$`` is the whole event).  "If you specify a variable to match a JSON path that doesn't
  exist in the event, that variable isn't created": here its placeholders become ``null``
  as a JSON value and nothing inside a string (what AWS writes then is UNCONFIRMED).
* Predefined variables: ``aws.events.rule-arn``, ``aws.events.rule-name``,
  ``aws.events.event`` (the original event), ``aws.events.event.ingestion-time`` and
  ``aws.events.event.json`` (the event as a string).
* ``inputTemplate`` holds ``<name>`` placeholders.  Outside a JSON string a placeholder
  becomes the value as JSON (a string gets its quotes: ``"state": <state>`` gives
  ``"state": "RUNNING"``); inside a string the value's text is inserted as it is
  ("EventBridge doesn't escape values extracted by Input Path").  A template that is a
  JSON object must still be JSON once filled in, and a placeholder cannot be an object key.
  ``<name>`` that names no variable is left as it is.

Static ``target.overrides`` (an ecsctl field; EventBridge has no such member) are the base
the transformed overrides are merged onto: container overrides by container name, their
``environment`` by variable name, the transformer winning.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

__all__ = [
    "PREDEFINED",
    "TASK_OVERRIDE_FIELDS",
    "TransformError",
    "ecs_overrides",
    "extract",
    "placeholders",
    "transform_input",
    "transformer_issues",
]

PREDEFINED = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event",
    "aws.events.event.ingestion-time",
    "aws.events.event.json",
)
# RunTask's TaskOverride members (botocore ecs model).
TASK_OVERRIDE_FIELDS = (
    "containerOverrides",
    "cpu",
    "inferenceAcceleratorOverrides",
    "executionRoleArn",
    "memory",
    "taskRoleArn",
    "ephemeralStorage",
)
MAX_VARIABLES = 100
MAX_TEMPLATE = 8192
MAX_PATH = 256
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
# a placeholder as an object key: {<k>: …} or {"…<k>…": …}
_KEY_PLACEHOLDER = re.compile(r'[{,]\s*(<[A-Za-z0-9_.-]+>|"[^"\\]*<[A-Za-z0-9_.-]+>[^"\\]*")\s*:')
_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


class TransformError(ValueError):
    """The input transformer cannot produce what the target needs; the message says why."""


_ABSENT = object()


# ---------------------------------------------------------------------------------- JSON paths


def extract(event: Any, path: str) -> Any:
    """The value at JSON path ``path`` (``$.a.b``, ``$.a[0]``, ``$``).

    When the path does not resolve this returns the module's private ``_ABSENT`` marker
    (``None`` is a value: JSON null); outside this module test with :func:`resolves`.

    >>> extract({"detail": {"bucket": {"name": "b"}}, "resources": ["r0"]}, "$.detail.bucket.name")
    'b'
    >>> extract({"resources": ["r0", "r1"]}, "$.resources[1]")
    'r1'
    """
    segments = _segments(path)
    if segments is None:
        return _ABSENT
    value = event
    for key, index in segments:
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                return _ABSENT
            value = value[key]
        else:
            if not isinstance(value, list) or index >= len(value):
                return _ABSENT
            value = value[index]
    return value


def resolves(event: Any, path: str) -> bool:
    return extract(event, path) is not _ABSENT


def _segments(path: Any) -> list[tuple[str | None, int]] | None:
    if not isinstance(path, str) or not path.startswith("$"):
        return None
    rest, out, pos = path[1:], [], 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if not m:
            return None
        out.append((m.group(1), 0) if m.group(1) is not None else (None, int(m.group(2))))
        pos = m.end()
    return out


# ------------------------------------------------------------------------------- the template


def placeholders(template: str) -> list[str]:
    """The ``<name>`` placeholders of ``template``, in order (duplicates kept)."""
    return _PLACEHOLDER.findall(template)


def transform_input(
    transformer: dict,
    event: Any,
    *,
    rule_name: str = "",
    rule_arn: str = "",
    ingestion_time: str = "",
) -> Any:
    """What the target receives: parsed JSON when the template is JSON, else the text.

    Raises :class:`TransformError` when a JSON template does not give valid JSON.
    """
    template = transformer.get("inputTemplate")
    if not isinstance(template, str):
        raise TransformError("the input transformer needs an inputTemplate string")
    variables: dict[str, Any] = {}
    for name, path in (transformer.get("inputPathsMap") or {}).items():
        value = extract(event, path)
        if value is not _ABSENT:
            variables[name] = value
    predefined = {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event": event,
        "aws.events.event.ingestion-time": ingestion_time,
        "aws.events.event.json": json.dumps(event, separators=(",", ":")),
    }
    defined = set(transformer.get("inputPathsMap") or {}) | set(PREDEFINED)
    text = _fill(template, {**predefined, **variables}, defined)
    if _is_json_template(template):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise TransformError(f"the input template does not give valid JSON once filled in ({exc.msg} at "
                                 f"character {exc.pos}): {text[:200]}") from None
    if template.strip().startswith('"'):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _is_json_template(template: str) -> bool:
    stripped = template.strip()
    return stripped.startswith("{") or stripped.startswith("[")


def _fill(template: str, values: dict[str, Any], defined: set[str]) -> str:
    """Replace placeholders, tracking whether each one sits inside a JSON string."""
    out: list[str] = []
    in_string = escaped = False
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "<":
            m = _PLACEHOLDER.match(template, i)
            if m and m.group(1) in defined:
                out.append(_render(values.get(m.group(1), _ABSENT), in_string))
                i = m.end()
                continue
        out.append(ch)
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        i += 1
    return "".join(out)


def _render(value: Any, in_string: bool) -> str:
    if value is _ABSENT:
        return "" if in_string else "null"
    if in_string:
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------------------ ECS overrides


def ecs_overrides(transformed: Any, static: dict | None = None) -> dict:
    """RunTask ``overrides`` from the transformed input, merged onto the target's static ones.

    Raises :class:`TransformError` when the input is not a JSON object of TaskOverride fields.
    """
    if not isinstance(transformed, dict):
        raise TransformError(f"an ECS target's input must be a JSON object of task overrides, "
                             f"not {type(transformed).__name__}")
    unknown = [k for k in transformed if k not in TASK_OVERRIDE_FIELDS]
    if unknown:
        raise TransformError(f"RunTask overrides have no field {unknown[0]!r} "
                             f"(they take {', '.join(TASK_OVERRIDE_FIELDS)})")
    merged = copy.deepcopy(static) if isinstance(static, dict) else {}
    for key, value in transformed.items():
        if key == "containerOverrides":
            merged[key] = _merge_containers(merged.get(key) or [], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_containers(base: list, extra: Any) -> list:
    if not isinstance(extra, list) or not all(isinstance(c, dict) for c in extra):
        raise TransformError("containerOverrides must be a list of objects")
    by_name = {c.get("name"): copy.deepcopy(c) for c in base if isinstance(c, dict)}
    order = list(by_name)
    for override in extra:
        name = override.get("name")
        if not isinstance(name, str) or not name:
            raise TransformError("every container override needs the container's name")
        current = by_name.setdefault(name, {"name": name})
        if name not in order:
            order.append(name)
        for key, value in override.items():
            if key == "environment" and isinstance(value, list):
                current[key] = _merge_environment(current.get(key) or [], value)
            else:
                current[key] = copy.deepcopy(value)
    return [by_name[n] for n in order]


def _merge_environment(base: list, extra: list) -> list:
    merged = {e.get("name"): e for e in base if isinstance(e, dict)}
    for item in extra:
        if isinstance(item, dict):
            value = item.get("value")
            if value is not None and not isinstance(value, str):  # RunTask's KeyValuePair takes strings only
                raise TransformError(f"SerializationException: the environment variable {item.get('name')!r} of a "
                                     f"container override is a {_json_type(value)}, where RunTask takes a string")
            merged[item.get("name")] = copy.deepcopy(item)
    return list(merged.values())


def _json_type(value: Any) -> str:
    return ("boolean" if isinstance(value, bool) else "number" if isinstance(value, (int, float))
            else "list" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__)


# -------------------------------------------------------------------------------- validation


def transformer_issues(transformer: Any, *, ecs_target: bool = True) -> tuple[list, list]:
    """``(errors, warnings)``, each a list of ``(path, message)`` inside the transformer.

    Errors are what ``PutTargets`` refuses; warnings what it accepts but that will not give
    an ECS target usable overrides.
    """
    errors: list = []
    warnings: list = []
    if not isinstance(transformer, dict):
        return [((), "inputTransformer must be an object with inputTemplate (and inputPathsMap)")], []
    paths = transformer.get("inputPathsMap") or {}
    template = transformer.get("inputTemplate")
    if not isinstance(paths, dict):
        errors.append((("inputPathsMap",), "inputPathsMap must map variable names to JSON paths"))
        paths = {}
    if len(paths) > MAX_VARIABLES:
        errors.append((("inputPathsMap",), f"inputPathsMap has {len(paths)} variables; EventBridge allows {MAX_VARIABLES}"))
    for name, path in paths.items():
        here = ("inputPathsMap", name)
        if isinstance(name, str) and (name in PREDEFINED or name.lower().startswith("aws.")):
            errors.append((here, f"variable name {name!r} is reserved (names cannot start with 'aws.')"))
        elif not isinstance(name, str) or not _KEY.match(name):
            errors.append((here, f"variable name {name!r} must be 1-256 letters, digits, '_' or '-'"))
        if not isinstance(path, str) or len(path) > MAX_PATH:
            errors.append((here, f"the JSON path of {name!r} must be a string of at most {MAX_PATH} characters"))
        elif _segments(path) is None:
            warnings.append((here, f"{path!r} is not a JSON path in dot notation such as $.detail.bucket.name; "
                                   "EventBridge does not check it, and it will never resolve"))
    if not isinstance(template, str) or not template:
        errors.append((("inputTemplate",), "inputTemplate is required: the text or JSON the target receives"))
        return errors, warnings
    if len(template) > MAX_TEMPLATE:
        errors.append((("inputTemplate",), f"inputTemplate is {len(template)} characters; EventBridge allows {MAX_TEMPLATE}"))
    defined = set(paths) | set(PREDEFINED)
    for name in dict.fromkeys(placeholders(template)):
        if name not in defined:
            warnings.append((("inputTemplate",), f"<{name}> names no variable of inputPathsMap nor a predefined one; "
                                                 "it is sent as it is"))
    if _is_json_template(template):
        if _KEY_PLACEHOLDER.search(template):
            errors.append((("inputTemplate",), "a placeholder cannot be used as an object key in a JSON inputTemplate"))
            return errors, warnings
        try:
            filled = json.loads(_fill(template, {n: "x" for n in defined}, defined))
        except json.JSONDecodeError as exc:
            errors.append((("inputTemplate",), f"inputTemplate is not valid JSON once its placeholders are filled in ({exc.msg})"))
            return errors, warnings
        if ecs_target:
            try:
                ecs_overrides(filled)
            except TransformError as exc:
                warnings.append((("inputTemplate",), f"the task would not start with this input: {exc}"))
    elif ecs_target:
        warnings.append((("inputTemplate",), "an ECS target's input is its task overrides, a JSON object "
                                             "such as {\"containerOverrides\": [...]}; this template is text"))
    return errors, warnings
