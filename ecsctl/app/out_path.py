"""Whether a file can be written where the user asked (``plan --out``, ``view --out``)."""

from __future__ import annotations

from pathlib import Path


def out_problem(out: str | Path) -> tuple[str, Path] | None:
    """Why ``out`` cannot be created as a file: ``("folder", out)`` when it is a folder, or the
    reason its parent is no place for it (``"does not exist"``, ``"is not a folder"``) with that
    parent; ``None`` when it can.  Each command words the refusal itself."""
    target = Path(out)
    if target.is_dir():
        return "folder", target
    parent = target.parent
    if not parent.is_dir():
        return ("is not a folder" if parent.exists() else "does not exist"), parent
    return None
