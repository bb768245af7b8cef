"""Read manifest text into documents that remember where every value came from.

YAML and JSON, several documents per file.  Hostile or broken input becomes a
finding, never an exception: malformed syntax, duplicate keys, tags that would
build Python objects (only the safe constructors exist), alias bombs (the
expanded size of a document is capped), oversized files and documents,
non-UTF-8 bytes, empty files and non-mapping documents.  What comes out is
plain JSON data: strings (valid Unicode: no lone surrogate from a JSON
``\ud800`` escape), finite numbers (integers within 64 bits), booleans,
null, lists and mappings whose keys are strings.  A scalar whose tag does not
fit its text (``!!int a``, ``!!bool maybe``), a number out of range, a key
that is not a string (``true: x``) and the tags that build other types
(``!!timestamp``, ``!!set``, ``!!binary``, ``!!omap``, ``!!pairs``) are
findings at their line.

PyYAML's C parser is used when it is present; construction stays in Python so
that duplicate keys can be caught with their position.
"""

from __future__ import annotations

import json
import math
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
MAX_INTEGER = 2**63 - 1  # ECS's widest number is a signed 64-bit Long
_MAX_NUMBER_TEXT = 64  # characters of a number's text worth converting at all (int() of 4,300+ digits raises)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _error(rule: str, message: str, file: str, line: int = 1, column: int = 1, path=(), index=0) -> Finding:
    return Finding(rule, Severity.ERROR, message, file, tuple(path), line, column, index)


class _ValueError(yaml.constructor.ConstructorError):
    """A scalar that cannot become plain data (bad text for its tag, a number out of range)."""


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_KEY_TYPES = {"tag:yaml.org,2002:bool": "a boolean", "tag:yaml.org,2002:int": "a number",
              "tag:yaml.org,2002:float": "a number", "tag:yaml.org,2002:null": "null"}


def _bad(node, message: str) -> _ValueError:
    return _ValueError(None, None, message, node.start_mark)


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _out_of_range_text(text: str) -> str:
    """What is wrong with the number ``text``, without its digits: a long number in a manifest may
    be a password or a token (``value: 123456789012345678901234567890``), and the position says
    which one it is."""
    digits = sum(c.isdigit() for c in text)
    what = f"a number of {digits} digits" if text.lstrip("+-").isdigit() else "a decimal number"
    return (f"{what} is out of range: numbers in a manifest are at most {MAX_INTEGER} "
            "(a 64-bit integer), or finite decimals")


def _out_of_range(node, text: str) -> _ValueError:
    return _bad(node, _out_of_range_text(text))


_RESOLVED: dict[tuple[str, tuple], str] = {}  # (plain scalar text, implicit) -> tag, for every loader
_RESOLVED_TEXT = 64
_RESOLVED_MAX = 65_536


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that records duplicate keys instead of silently keeping the last, and keys that
    are not strings; scalars whose text does not fit their tag raise a positioned error."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Any, Any]] = []  # (mapping node, key node)
        self.nonstring: list[tuple[Any, Any]] = []  # (mapping node, key node)

    def resolve(self, kind, value, implicit):  # noqa: D401 - PyYAML hook, called for every node
        """PyYAML's implicit tag of a plain scalar depends on its text alone (no path resolvers
        here): remembered for short texts, which manifests repeat (``true``, ``256``, ``tcp``)."""
        if kind is yaml.ScalarNode and len(value) <= _RESOLVED_TEXT:
            key = (value, implicit)
            tag = _RESOLVED.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_RESOLVED) < _RESOLVED_MAX:
                    _RESOLVED[key] = tag
            return tag
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        seen: set = set()
        odd = False
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                odd = True  # merged keys are checked below, once merged
                continue
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key_node.tag != _STR:
                    self.nonstring.append((node, key_node))
                    odd = True
            else:
                key = id(key_node)
            if key in seen:
                self.duplicates.append((node, key_node))
            seen.add(key)
        mapping = super().construct_mapping(node, deep=deep)
        if odd and any(type(k) is not str for k in mapping):
            mapping = {k if type(k) is str else _key_text(k): v for k, v in mapping.items()}
        return mapping

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        if len(text) > _MAX_NUMBER_TEXT:
            raise _out_of_range(node, text)
        try:
            value = super().construct_yaml_int(node)
        except (ValueError, TypeError, IndexError):
            raise _bad(node, f"{_shown(text)} is not an integer (tag !!int)") from None
        if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
            raise _out_of_range(node, text)
        return value

    def construct_yaml_float(self, node):
        text = self.construct_scalar(node)
        if len(text) > _MAX_NUMBER_TEXT:
            raise _out_of_range(node, text)
        try:
            value = super().construct_yaml_float(node)
        except (ValueError, TypeError, IndexError, OverflowError):
            raise _bad(node, f"{_shown(text)} is not a number (tag !!float)") from None
        if not math.isfinite(value):
            raise _bad(node, f"{_shown(text)} is not a finite number: ECS takes no infinity or NaN")
        return value

    def construct_yaml_bool(self, node):
        text = self.construct_scalar(node)
        try:
            return super().construct_yaml_bool(node)
        except (KeyError, AttributeError, TypeError):
            raise _bad(node, f"{_shown(text)} is not a boolean (tag !!bool): write true or false") from None

    def construct_other(self, node):
        """Tags that build values JSON has no type for: refused like any other unknown tag."""
        raise yaml.constructor.ConstructorError(None, None, f"found tag '{node.tag}' that builds no plain data",
                                                node.start_mark)


class _Slow(Exception):
    """The fast builder met what only PyYAML's constructor handles (a merge key, a complex key, a
    tag other than the core ones): the document is built again the long way."""


class _TooDeep(Exception):
    pass


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode


def _build(loader: _Loader, node, depth: int):
    """A node tree as plain data, in one pass that also checks the depth, records duplicate and
    non-string keys, and converts the core scalar tags with the loader's checked constructors.

    PyYAML's constructor spends most of validate's time (generators, per-node dispatch, a
    second walk for the depth); this does the same for the trees manifests are made of, and
    raises ``_Slow`` for the rest (merge keys, complex keys, other tags), which the caller
    builds with PyYAML's constructor instead.  Never called on a file with anchors.
    """
    if depth > MAX_DEPTH:
        raise _TooDeep
    cls = node.__class__
    if cls is _ScalarNode:
        tag = node.tag
        if tag == _STR:
            return node.value
        scalar = _SCALARS.get(tag)
        if scalar is None:
            raise _Slow
        return scalar(loader, node)
    if cls is _MappingNode:
        if node.tag != _MAP:
            raise _Slow
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not _ScalarNode:
                raise _Slow
            key_tag = key_node.tag
            key = key_node.value
            if key_tag != _STR:
                if key_tag == _MERGE or key_tag not in _SCALARS:
                    raise _Slow
                loader.nonstring.append((node, key_node))  # kept as its text; E0018 says so
            if key in out:
                loader.duplicates.append((node, key_node))
            out[key] = _build(loader, value_node, depth + 1)
        return out
    if node.tag != _SEQ:
        raise _Slow
    depth += 1
    return [_build(loader, item, depth) for item in node.value]


for _tag in ("int", "float", "bool"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", getattr(_Loader, f"construct_yaml_{_tag}"))
for _tag in ("timestamp", "set", "omap", "pairs", "binary"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _Loader.construct_other)
_SCALARS = {f"tag:yaml.org,2002:{t}": getattr(_Loader, f"construct_yaml_{t}") for t in ("int", "float", "bool", "null")}


def _key_text(key: Any) -> str:
    """A non-string key as text (the document is refused anyway, but nothing downstream sees a non-string key)."""
    try:
        return json.dumps(key)
    except (TypeError, ValueError):
        return str(key)


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
    json: bool = False  # read as JSON (positions then come from the text with tabs as spaces)


def detach(documents: list[Document]) -> None:
    """Drop the documents' ties to their source text (to send them to another process);
    :func:`reattach` gives them back from the same bytes."""
    for doc in documents:
        doc.locator = Locator(None, doc.locator.locate(()))


def reattach(documents: list[Document], raw: bytes, json: bool) -> None:
    """Positions for documents that :func:`detach` cut loose, from the bytes they were read from
    (parsed again only if a position is asked for, as when they were first loaded)."""
    if not documents:
        return
    nodes = _Nodes(raw.decode("utf-8-sig"), json=json)
    for doc in documents:
        doc.locator = Locator(_node_getter(nodes, doc.index), doc.locator.locate(()))


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
    bad_numbers: list[str] = []

    def pairs(items):
        nonlocal duplicate
        out = {}
        for key, value in items:
            if key in out:
                duplicate = True
            out[key] = value
        return out

    def integer(literal: str):
        if len(literal) > _MAX_NUMBER_TEXT:  # int() itself refuses 4,300 digits and more, with an exception
            bad_numbers.append(literal)
            return 0
        value = int(literal)
        if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
            bad_numbers.append(literal)
        return value

    def decimal(literal: str):
        value = float(literal)
        if not math.isfinite(value):
            bad_numbers.append(literal)
        return value

    def constant(literal: str):  # NaN, Infinity, -Infinity: Python's json reads them, JSON has none
        bad_numbers.append(literal)
        return 0

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=integer, parse_float=decimal, parse_constant=constant)
    except json.JSONDecodeError as exc:
        # Not JSON after all (a YAML file that starts with a flow mapping) or broken JSON.
        if not file.endswith(".json"):
            return _load_yaml(text, file)
        return LoadResult([], [_error("E0002", f"invalid JSON: {exc.msg}", file, exc.lineno, exc.colno)])
    except RecursionError:
        return LoadResult([], [_error("E0007", "document is nested too deeply", file)])
    if bad_numbers:
        literal = bad_numbers[0]
        line, column = _json_number_position(text, literal)
        problem = (f"{literal} is not a number JSON has, nor one ECS takes" if literal in ("NaN", "Infinity", "-Infinity")
                   else _out_of_range_text(literal))
        return LoadResult([], [_error("E0017", problem, file, line, column)])
    if "\\u" in text:
        lone = _lone_surrogate(text)
        if lone is not None:
            offset, escape = lone
            line, column = _line_column(text, offset)
            return LoadResult([], [_error("E0001", f"the escape {escape} is half of a UTF-16 surrogate pair: the text it "
                                                   "stands for is not valid Unicode", file, line, column)])
    nodes = _Nodes(text, json=True)
    findings: list[Finding] = []
    if duplicate and nodes.get(0) is not None:
        findings.extend(_duplicate_findings(_find_duplicates(nodes.get(0)), nodes.get(0), file, 0))
    return LoadResult([Document(file, 0, data, Locator(lambda: nodes.get(0), Position(1, 1)))], findings, json=True)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _json_number_position(text: str, literal: str) -> tuple[int, int]:
    """Where a number (or NaN/Infinity) stands as a value, not inside a string: after ``:``, ``[`` or ``,``."""
    found = re.search(r"[:\[,]\s*(" + re.escape(literal) + r")(?![\w.])", text)
    return _line_column(text, found.start(1)) if found else (1, 1)


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate(text: str) -> tuple[int, str] | None:
    """The first ``\\uD800``-``\\uDFFF`` escape that is not one half of a high-low pair (JSON allows it; the
    string it makes cannot be written as UTF-8 again), with its offset; ``None`` when there is none."""
    paired_low = -1
    for m in _SURROGATE.finditer(text):
        start = m.start()
        before = start
        while before > 0 and text[before - 1] == "\\":
            before -= 1
        if (start - before) % 2:  # ``\\\\ud800`` is a backslash and the text "ud800"
            continue
        if start == paired_low:
            continue
        unit = int(m.group()[2:], 16)
        if unit <= 0xDBFF:
            low = _SURROGATE.match(text, m.end())
            if low and int(low.group()[2:], 16) >= 0xDC00:
                paired_low = m.end()
                continue
        return start, m.group()
    return None


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
    anchors = _has_anchors(text)  # once per file: a scan of the whole text per document made loading quadratic
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
                index += 1
                continue
            loader.duplicates.clear()
            loader.nonstring.clear()
            data = _MISSING
            if not anchors:
                try:
                    data = _build(loader, node, 1)
                except _TooDeep:
                    findings.append(_error("E0007", f"document nests deeper than {MAX_DEPTH} levels", **where))
                    index += 1
                    continue
                except _Slow:
                    loader.duplicates.clear()
                    loader.nonstring.clear()
            if data is _MISSING:  # anchors, or what only PyYAML's constructor builds: the long way
                if _too_deep(node):
                    findings.append(_error("E0007", f"document nests deeper than {MAX_DEPTH} levels", **where))
                elif anchors and _expanded_size(node) > MAX_EXPANDED_NODES:
                    findings.append(_error("E0005", f"aliases expand this document past {MAX_EXPANDED_NODES} values (an alias bomb?)", **where))
                else:
                    data = loader.construct_document(node)
            if data is not _MISSING:
                findings.extend(_duplicate_findings(loader.duplicates, node, file, index))
                findings.extend(_nonstring_findings(loader.nonstring, node, file, index))
                documents.append(Document(file, index, data, Locator(_node_getter(nodes, index), Position(start.line + 1, start.column + 1))))
            index += 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = _yaml_message(exc)
        if mark and "tab" not in message and _char_at(text, mark.line, mark.column) == "\t":
            message += " (a tab: YAML indents with spaces only)"
        findings.append(_error(_yaml_rule(exc), message, file, line, column, index=index))
    except yaml.YAMLError as exc:
        findings.append(_error("E0002", f"invalid YAML: {exc}".splitlines()[0], file, index=index))
    except RecursionError:
        findings.append(_error("E0007", "document is nested too deeply", file, index=index))
    finally:
        loader.dispose()
    if not documents and not findings:
        findings.append(_error("E0003", "file holds no document (only comments or separators)", file))
    return LoadResult(documents, findings)


def _has_anchors(text: str) -> bool:
    """Whether any document of the file may define an anchor (and so expand aliases)."""
    return "&" in text


_MISSING = object()


def _node_getter(nodes: _Nodes, index: int):
    return lambda: nodes.get(index)


def _char_at(text: str, line: int, column: int) -> str:
    """The character at 0-based ``line`` and ``column`` of ``text`` ('' past its end)."""
    lines = text.split("\n", line + 1)
    return lines[line][column:column + 1] if line < len(lines) else ""


def _yaml_rule(exc: yaml.MarkedYAMLError) -> str:
    if isinstance(exc, _ValueError):
        return "E0017"
    if isinstance(exc, yaml.constructor.ConstructorError):
        return "E0004"
    if "nesting depth" in (exc.problem or ""):  # libyaml >= 0.2.5 caps flow nesting itself
        return "E0007"
    return "E0002"


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    if isinstance(exc, _ValueError):
        return str(exc.problem)
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


def _nonstring_findings(keys, root, file: str, index: int) -> list[Finding]:
    out = []
    for mapping, key in keys:
        path = _path_to(root, mapping) + (key.value,)
        mark = key.start_mark
        what = _KEY_TYPES.get(key.tag, f"tagged {key.tag.replace('tag:yaml.org,2002:', '!!')}")
        out.append(_error("E0018", f"key {_shown(key.value)} is {what}, not a string: quote it (\"{key.value[:40]}\") "
                                   "if you mean the text", file, mark.line + 1, mark.column + 1, path, index))
    return out
