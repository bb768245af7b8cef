"""A loaded document and the map from paths to source positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ecsctl.core.findings import Path


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


class Locator:
    """Maps a path into a document to the position of that value in the source.

    Positions come from a PyYAML node tree (also used for JSON, which PyYAML
    reads).  The tree is built only when a position is asked for: valid
    documents never pay for it, and keeping trees of thousands of documents
    alive would make the garbage collector rescan them over and over.  For a
    mapping entry the position is that of its key, which is where a reader
    looks for "the field"; for a list item, that of the item.  A path that
    does not exist (a missing field) resolves to its deepest existing ancestor.
    """

    __slots__ = ("_node_of", "_fallback")

    def __init__(self, node_of: Callable[[], Any] | None, fallback: Position) -> None:
        self._node_of = node_of
        self._fallback = fallback

    def locate(self, path: Path) -> Position:
        if not path:
            return self._fallback
        node = self._node_of() if self._node_of is not None else None
        if node is None:
            return self._fallback
        mark = node.start_mark
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            mark, node = child
        return Position(mark.line + 1, mark.column + 1)


def _child(node: Any, part: str | int):
    tag = type(node).__name__
    if tag == "MappingNode":
        found = None
        for key, value in node.value:
            if getattr(key, "value", None) == "<<" and key.tag.endswith(":merge"):
                merged = [value] if type(value).__name__ == "MappingNode" else list(value.value)
                for m in merged:
                    hit = _child(m, part)
                    if hit is not None and found is None:
                        found = hit
                continue
            if str(getattr(key, "value", None)) == str(part):
                found = (key.start_mark, value)  # explicit keys win over merged ones
        return found
    if tag == "SequenceNode" and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return (item.start_mark, item)
    return None


@dataclass(slots=True)
class Document:
    """One document of a manifest file.

    ``data`` is the whole document; ``spec`` is the part the kind's schema and
    rules check, found at ``spec_path`` inside ``data`` (``("spec",)`` for an
    ecsctl manifest, ``()`` for a bare RegisterTaskDefinition request,
    ``("taskDefinition",)`` for describe-task-definition output).
    """

    file: str
    index: int
    data: Any
    locator: Locator
    kind: str = ""
    name: str = ""
    spec: Any = None
    spec_path: Path = ()
    form: str = "manifest"  # manifest | register | describe
    valid: bool = True  # False once the envelope or schema check found an error
    dropped: tuple[str, ...] = field(default=())  # read-only describe fields ignored

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.name}"

    def position(self, path: Path) -> Position:
        return self.locator.locate(path)

    def where(self, spec_path: Path) -> str:
        """``FILE:LINE:COLUMN`` of a path inside the spec, as findings and refusals name a field."""
        pos = self.locator.locate(tuple(self.spec_path) + tuple(spec_path))
        return f"{self.file}:{pos.line}:{pos.column}"
