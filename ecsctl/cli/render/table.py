"""Plain text tables for ``ecsctl get``: aligned columns, no colour needed."""

from __future__ import annotations


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" if v is not None else str(k) for k, v in value.items()) or "-"
    return str(value)


def render_table(rows: list[dict], columns: list[tuple[str, object]]) -> str:
    """``columns``: (HEADER, key or callable(row))."""
    if not rows:
        return "No resources found.\n"
    cells = [[h for h, _ in columns]]
    for row in rows:
        cells.append([_cell(get(row) if callable(get) else row.get(get)) for _, get in columns])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"
