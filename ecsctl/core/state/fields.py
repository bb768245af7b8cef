"""What each field of a state record may hold, read from the record definitions in ``ports``.

One rule for every record type, taken from the dataclass annotations (``str``, ``int``,
``bool``, ``JSON``, ``tuple[int, ...]``, ``X | None``), for values that come from outside the
program and so may be of any type: an export handed to ``state push``, a row of the state file
(anyone can edit it with ``sqlite3``), what ``state verify`` reads. A record built from such
values that the rule refuses would fail far away (a ``TypeError`` in a plan), so the readers
refuse it where it enters, naming the field.

``bool`` is not an ``int`` here (``"desiredCount": true`` is a mistake), and ``JSON`` is an
object (a ``dict``), as every spec and data field is.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Sequence

_NAMES = {str: "text", int: "an integer", bool: "true or false", dict: "an object", float: "a number",
          list: "a list", tuple: "a list", type(None): "null"}


@dataclass(frozen=True, slots=True)
class FieldType:
    """The values one field accepts: instances of ``types`` (a bool only where ``bool`` is
    named) and, for a tuple, items of type ``items``."""

    name: str
    types: tuple[type, ...]
    items: type | None = None

    @property
    def expected(self) -> str:
        if self.items is not None:
            return f"a list of {_plural(self.items)}" + (" or null" if type(None) in self.types else "")
        return " or ".join(_NAMES.get(t, t.__name__) for t in self.types)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` does not fit this field (``expected an integer, got the text 'abc'``),
        or None when it does."""
        if not _fits(value, self.types):
            return f"expected {self.expected}, got {describe(value)}"
        if self.items is not None and value is not None and not set(map(type, value)) <= {self.items}:
            for item in value:  # (exact item types pass at C speed above: port lists are long)
                if not _fits(item, (self.items,)):
                    return f"expected {self.expected}, got a list holding {describe(item)}"
        return None


def _fits(value: Any, accepted: tuple[type, ...]) -> bool:
    return isinstance(value, accepted) and (type(value) is not bool or bool in accepted)


def _plural(item: type) -> str:
    return {int: "integers", str: "texts"}.get(item, item.__name__)


def describe(value: Any) -> str:
    """A value as a message shows it: ``the text 'abc'``, ``null``, ``a list``, ``1.5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value[:40]!r}" + ("…" if len(value) > 40 else "")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "binary data"
    return _NAMES.get(type(value), "an object" if isinstance(value, dict) else type(value).__name__)


def _field_type(name: str, hint: Any) -> FieldType:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        parts = [_field_type(name, a) for a in args]
        items = {p.items for p in parts} - {None}
        if len(items) > 1:
            raise TypeError(f"field {name}: unions of different tuples are not supported")
        return FieldType(name, tuple(t for p in parts for t in p.types), items.pop() if items else None)
    if origin is tuple:
        if len(args) != 2 or args[1] is not Ellipsis or not isinstance(args[0], type):
            raise TypeError(f"field {name}: only tuple[X, ...] is supported, not {hint}")
        return FieldType(name, (tuple,), args[0])
    if origin is dict:
        return FieldType(name, (dict,))
    if hint is Any:
        return FieldType(name, (object,))
    if hint is None or hint is type(None):
        return FieldType(name, (type(None),))
    if isinstance(hint, type) and origin is None:
        return FieldType(name, (hint,))
    raise TypeError(f"field {name}: cannot check values of type {hint}")


@cache
def field_types(record_type: type) -> tuple[FieldType, ...]:
    """The rule for each field of a record dataclass, in field order."""
    hints = typing.get_type_hints(record_type)
    return tuple(_field_type(f.name, hints[f.name]) for f in dataclasses.fields(record_type))


def wrong_field(record_type: type, values: Sequence[Any]) -> tuple[str, str] | None:
    """The first field whose value (``values`` in field order) the rule refuses, and why; or None."""
    for rule, value in zip(field_types(record_type), values):
        problem = rule.problem(value)
        if problem is not None:
            return rule.name, problem
    return None


def record_problem(record: Any) -> tuple[str, str] | None:
    """``wrong_field`` for a record already built (from an export, say)."""
    return wrong_field(type(record), [getattr(record, f.name) for f in dataclasses.fields(record)])


def negative_field(record: Any) -> tuple[str, str] | None:
    """``(field, problem)`` for the first integer field of ``record`` below 0: no count, size,
    port, revision or serial of the state is negative (a ``desiredCount`` of -3 in a pushed
    export would stop every task of the service)."""
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if type(value) is int and value < 0:
            return f.name, f"must not be negative, got {value}"
    return None


__all__ = ["FieldType", "describe", "field_types", "negative_field", "record_problem", "wrong_field"]
