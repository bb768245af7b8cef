"""``ecsctl describe`` for people: labelled fields first, then one section per list or mapping,
lists of records as tables (as ``kubectl describe`` prints them), ``<none>`` for empty ones."""

from __future__ import annotations

import re

from ecsctl.cli.render.table import _cell, render_table


def label(key: str) -> str:
    """``desiredCount`` -> ``Desired Count``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(key)).split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or str(key)


def _scalar(value) -> bool:
    return not isinstance(value, (dict, list))


def _flat(value) -> bool:
    return _scalar(value) or (isinstance(value, list) and all(_scalar(i) for i in value))


def _empty(value) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _table(items: list[dict], indent: int) -> list[str]:
    """Records as a table; columns empty in every record are left out."""
    keys: list[str] = []
    for item in items:
        keys += [k for k in item if k not in keys]
    keys = [k for k in keys if not all(_empty(item.get(k)) for item in items)]
    columns = [(label(k).upper(), k) for k in keys]
    return [" " * indent + line for line in render_table(items, columns).rstrip("\n").split("\n")]


def _block(value, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [f"{pad}<none>"]
        lines = []
        for k, v in value.items():
            if _flat(v):
                lines.append(f"{pad}{k}: {_cell(v)}")
            else:
                lines.append(f"{pad}{k}:")
                lines += _block(v, indent + 2)
        return lines
    if not value:
        return [f"{pad}<none>"]
    if all(_scalar(i) for i in value):
        return [f"{pad}{_cell(value)}"]
    if all(isinstance(i, dict) and all(_flat(v) for v in i.values()) for i in value):
        return _table(value, indent)
    lines = []
    for item in value:  # records holding records: one "- " block each
        sub = _block(item, indent + 2)
        lines += [f"{pad}- {sub[0].lstrip()}", *sub[1:]]
    return lines


def render_describe(data: dict) -> str:
    scalars = [(k, v) for k, v in data.items() if _flat(v)]
    width = max((len(label(k)) for k, _ in scalars), default=0) + 2
    lines = [f"{(label(k) + ':'):<{width}}{_cell(v)}" for k, v in scalars]
    for key, value in data.items():
        if not _flat(value):
            lines.append(f"{label(key)}:")
            lines += _block(value, 2)
    return "\n".join(lines) + "\n"
