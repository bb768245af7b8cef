"""Kubernetes objects as YAML text, with a comment above any field that carries notes.

Objects are plain JSON-like data built from :class:`Node` (a ``dict``) and :class:`Items`
(a ``list``); each can carry notes on its keys or indexes, written as ``#`` lines above
the field::

    >>> pod = Node(name="web")
    >>> pod.note("name", "ECS name 'Web' is not a DNS label")
    >>> print(dump(pod), end="")
    # ECS name 'Web' is not a DNS label
    name: web

Scalars are quoted the way PyYAML quotes them for YAML 1.1, and, in addition, every string
that a YAML 1.2 reader (Kubernetes' ``sigs.k8s.io/yaml``) could take for a number or a
boolean (``1e3``, ``y``) is double-quoted.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any, Iterable

import yaml

WIDTH = 100
_RISKY = re.compile(r"^([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0[xo][0-9a-fA-F]+|[yYnN]|\.inf|\.nan|[-+]?\.inf)$")


class Node(dict):
    """A mapping whose keys can carry notes."""

    __slots__ = ("notes",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: dict[Any, list[str]] = {}

    def note(self, key: Any, text: str) -> None:
        if text and text not in self.notes.get(key, ()):
            self.notes.setdefault(key, []).append(text)


class Items(list):
    """A list whose items can carry notes (by index)."""

    __slots__ = ("notes",)

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self.notes: dict[int, list[str]] = {}

    def note(self, index: int, text: str) -> None:
        if text and text not in self.notes.get(index, ()):
            self.notes.setdefault(index, []).append(text)


def plain(value: Any) -> Any:
    """The same data as plain ``dict``/``list`` (for validators and ``json``)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if "\n" in text or not text.isprintable() or _RISKY.match(text):
        return json.dumps(text, ensure_ascii=False)
    out = yaml.safe_dump(text, default_flow_style=True, width=float("inf"), allow_unicode=True)
    return out.removesuffix("\n...\n").removesuffix("\n")


def comment_lines(notes: Iterable[str], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for note in notes:
        for paragraph in str(note).splitlines() or [""]:
            lead = re.match(r"\s*(- )?", paragraph).group(0)
            wrapped = textwrap.wrap(paragraph, width=max(40, WIDTH - indent - 2), break_long_words=False,
                                    break_on_hyphens=False, subsequent_indent=" " * len(lead)) or [""]
            lines += [f"{pad}# {line}".rstrip() for line in wrapped]
    return lines


def _empty(value: Any) -> str | None:
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    return None


def _mapping(node: dict, indent: int) -> list[str]:
    pad = " " * indent
    notes = getattr(node, "notes", {})
    lines: list[str] = []
    for key, value in node.items():
        lines += comment_lines(notes.get(key, ()), indent)
        head = f"{pad}{scalar(key)}:"
        if isinstance(value, (dict, list)) and _empty(value) is None:
            lines.append(head)
            lines += _mapping(value, indent + 2) if isinstance(value, dict) else _sequence(value, indent)
        else:
            lines.append(f"{head} {_empty(value) or scalar(value)}")
    return lines


def _sequence(items: list, indent: int) -> list[str]:
    pad = " " * indent
    notes = getattr(items, "notes", {})
    lines: list[str] = []
    for i, value in enumerate(items):
        lines += comment_lines(notes.get(i, ()), indent)
        if isinstance(value, (dict, list)) and _empty(value) is None:
            body = _mapping(value, indent + 2) if isinstance(value, dict) else _sequence(value, indent + 2)
            # the notes of the item's first key go above the dash, the first line after it
            first = next(n for n, line in enumerate(body) if not line.lstrip().startswith("#"))
            lines += [pad + line.lstrip() if line.lstrip().startswith("#") else line for line in body[:first]]
            lines.append(f"{pad}- {body[first][indent + 2:]}")
            lines += body[first + 1:]
        else:
            lines.append(f"{pad}- {_empty(value) or scalar(value)}")
    return lines


def dump(obj: dict) -> str:
    """One object as block-style YAML (no document markers)."""
    return "\n".join(_mapping(obj, 0)) + "\n"


def dump_all(objects: Iterable[dict], header: Iterable[str] = ()) -> str:
    """A multi-document stream: the header comment, then each object after ``---``."""
    parts = ["\n".join(comment_lines(header, 0)) + "\n"] if header else []
    parts += ["---\n" + dump(obj) for obj in objects]
    return "".join(parts)
