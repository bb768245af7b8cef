"""Read manifest text into documents that remember where every value came from.

YAML and JSON, several documents per file.  Hostile or broken input becomes a
finding, never an exception: malformed syntax, duplicate keys, tags that would
build Python objects (only the safe constructors exist), alias bombs (the
expanded size of a document is capped), oversized files and documents,
non-UTF-8 bytes, empty files and non-mapping documents.

PyYAML's C parser is used when it is present; construction stays in Python so
that duplicate keys can be caught with their position.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ecsctl.core.findings import Finding, Severity
from ecsctl.core.manifest.document import Document, Locator, Position

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_EXPANDED_NODES = 200_000
MAX_DEPTH = 100

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _error(rule: str, message: str, file: str, line: int = 1, column: int = 1, path=(), index=0) -> Finding:
    return Finding(rule, Severity.ERROR, message, file, tuple(path), line, column, index)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that records duplicate keys instead of silently keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Any, Any]] = []  # (mapping node, key node)

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                self.duplicates.append((node, key_node))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Plain YAML 1.1 reads ``on``/``yes``/``no`` as booleans; ECS manifests never
# mean that, and an ``essential: yes`` would otherwise pass silently.  Timestamps
# stay strings too (``at()`` schedules and dates are compared as text).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


@dataclass(slots=True)
class LoadResult:
    documents: list[Document]
    findings: list[Finding]


def load_bytes(raw: bytes, file: str) -> LoadResult:
    """Decode and load one file's bytes.  ``file`` is the name used in findings."""
    if len(raw) > MAX_FILE_BYTES:
        return LoadResult([], [_error("E0006", f"file is {len(raw)} bytes, over the {MAX_FILE_BYTES}-byte limit", file)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return LoadResult([], [_error("E0001", f"file is not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded", file, line, column)])
    return load_text(text, file)


def load_text(text: str, file: str) -> LoadResult:
    if not text.strip():
        return LoadResult([], [_error("E0003", "file is empty: it holds no document", file)])
    if _looks_like_json(text, file):
        return _load_json(text, file)
    return _load_yaml(text, file)


def _looks_like_json(text: str, file: str) -> bool:
    return file.endswith(".json") or text.lstrip()[:1] in ("{", "[")


def _load_json(text: str, file: str) -> LoadResult:
    duplicate = False

    def pairs(items):
        nonlocal duplicate
        out = {}
        for key, value in items:
            if key in out:
                duplicate = True
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        # Not JSON after all (a YAML file that starts with a flow mapping) or broken JSON.
        if not file.endswith(".json"):
            return _load_yaml(text, file)
        return LoadResult([], [_error("E0002", f"invalid JSON: {exc.msg}", file, exc.lineno, exc.colno)])
    except RecursionError:
        return LoadResult([], [_error("E0007", "document is nested too deeply", file)])
    nodes = _Nodes(text, json=True)
    findings: list[Finding] = []
    if duplicate and nodes.get(0) is not None:
        findings.extend(_duplicate_findings(_find_duplicates(nodes.get(0)), nodes.get(0), file, 0))
    return LoadResult([Document(file, 0, data, Locator(lambda: nodes.get(0), Position(1, 1)))], findings)


class _Nodes:
    """The node trees of one file's documents, composed again only when a position is needed."""

    __slots__ = ("_text", "_nodes")

    def __init__(self, text: str, json: bool = False) -> None:
        # Tabs are whitespace to JSON but not to YAML, and never occur inside JSON strings.
        self._text = text.replace("\t", " ") if json else text
        self._nodes: list | None = None

    def get(self, index: int):
        if self._nodes is None:
            try:
                self._nodes = list(yaml.compose_all(self._text, Loader=_BaseLoader))
            except (yaml.YAMLError, RecursionError):
                self._nodes = []
            self._text = ""
        return self._nodes[index] if index < len(self._nodes) else None


def _load_yaml(text: str, file: str) -> LoadResult:
    documents: list[Document] = []
    findings: list[Finding] = []
    loader = _Loader(text)
    nodes = _Nodes(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or (isinstance(node, yaml.ScalarNode) and node.value == "" and node.tag.endswith(":null")):
                index += 1  # an empty document between separators: nothing to check
                continue
            start = node.start_mark
            size = node.end_mark.index - start.index
            where = dict(file=file, line=start.line + 1, column=start.column + 1, index=index)
            if size > MAX_DOCUMENT_BYTES:
                findings.append(_error("E0006", f"document is {size} characters, over the {MAX_DOCUMENT_BYTES} limit", **where))
            elif _too_deep(node):
                findings.append(_error("E0007", f"document nests deeper than {MAX_DEPTH} levels", **where))
            elif "&" in text and _expanded_size(node) > MAX_EXPANDED_NODES:
                findings.append(_error("E0005", f"aliases expand this document past {MAX_EXPANDED_NODES} values (an alias bomb?)", **where))
            else:
                loader.duplicates.clear()
                data = loader.construct_document(node)
                findings.extend(_duplicate_findings(loader.duplicates, node, file, index))
                documents.append(Document(file, index, data, Locator(_node_getter(nodes, index), Position(start.line + 1, start.column + 1))))
            index += 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        findings.append(_error(_yaml_rule(exc), _yaml_message(exc), file, line, column, index=index))
    except yaml.YAMLError as exc:
        findings.append(_error("E0002", f"invalid YAML: {exc}".splitlines()[0], file, index=index))
    except RecursionError:
        findings.append(_error("E0007", "document is nested too deeply", file, index=index))
    finally:
        loader.dispose()
    if not documents and not findings:
        findings.append(_error("E0003", "file holds no document (only comments or separators)", file))
    return LoadResult(documents, findings)


def _node_getter(nodes: _Nodes, index: int):
    return lambda: nodes.get(index)


def _yaml_rule(exc: yaml.MarkedYAMLError) -> str:
    if isinstance(exc, yaml.constructor.ConstructorError):
        return "E0004"
    if "nesting depth" in (exc.problem or ""):  # libyaml >= 0.2.5 caps flow nesting itself
        return "E0007"
    return "E0002"


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in (exc.problem or ""):
        tag = (exc.problem or "").split("'")[1] if "'" in (exc.problem or "") else exc.problem
        tag = str(tag).replace("tag:yaml.org,2002:", "!!")
        return f"YAML tag {tag} is not allowed: manifests hold plain data only"
    parts = [p for p in (exc.context, exc.problem) if p]
    return "invalid YAML: " + ", ".join(parts)


def _too_deep(root) -> bool:
    """Whether any value sits more than MAX_DEPTH levels down (iterative: no recursion limit)."""
    stack = [(root, 1)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(node, yaml.MappingNode):
            children = [v for _, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            continue
        if id(node) in seen:  # an alias met again: its depth was already explored from here or above
            continue
        seen.add(id(node))
        stack.extend((child, depth + 1) for child in children)
    return False


def _expanded_size(root) -> int:
    """Count the values a document has once every alias is expanded (memoised, so linear).

    A document that contains itself through an alias (``a: &a [*a]``) has no
    finite expansion and counts as over the limit.
    """
    memo: dict[int, int] = {}
    active: set[int] = set()
    over = MAX_EXPANDED_NODES + 1

    def size(node) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:
            return over
        active.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in node.value)
        else:
            total = 1
        active.discard(key)
        memo[key] = min(total, over)
        return memo[key]

    return size(root)


def _find_duplicates(root) -> list[tuple[Any, Any]]:
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        found.append((node, key))
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return found


def _path_to(root, target) -> tuple:
    """The path of ``target`` (a node) inside ``root``, found by identity."""
    stack = [(root, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if isinstance(node, yaml.MappingNode):
            stack.extend((v, path + (k.value,)) for k, v in node.value if isinstance(k, yaml.ScalarNode))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, path + (i,)) for i, v in enumerate(node.value))
    return ()


def _duplicate_findings(duplicates, root, file: str, index: int) -> list[Finding]:
    out = []
    for mapping, key in duplicates:
        path = _path_to(root, mapping) + (key.value,)
        mark = key.start_mark
        out.append(_error("E0008", f"duplicate key '{key.value}': a later value would silently replace the earlier one",
                          file, mark.line + 1, mark.column + 1, path, index))
    return out
