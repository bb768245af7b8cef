"""The Cluster Query Language: ``memberOf`` expressions and ``--filter`` queries.

    >>> expr = parse("attribute:ecs.instance-type =~ t2.* and not(task:group == service:db)")
    >>> evaluate(expr, {"attributes": {"ecs.instance-type": "t2.small"}, "taskGroups": set()})
    True
    >>> parse("runningTasksCount == lots")
    Traceback (most recent call last):
    ...
    ecsctl.core.scheduling.cql.CqlError: runningTasksCount needs an integer, not 'lots' (column 22)

Grammar (ecs-semantics §3.1), precedence ``not`` > ``and`` > ``or``::

    expr      := and_expr { ("or" | "||") and_expr }
    and_expr  := unary { ("and" | "&&") unary }
    unary     := ("not" | "!") unary | "(" expr ")" | subject op value | subject exists-op
    value     := bare-token | 'quoted' | "[" value { "," value } "]"   (lists only for in/not_in)

The parser is lark's LALR with a contextual lexer, compiled once on first use;
lark is imported lazily, so a run that never meets an expression never loads it.
``evaluate`` runs a closure compiled once per parsed expression, because the
scheduler calls it for every (task, instance) pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Mapping

MAX_LENGTH = 2000

SUBJECTS = ("attribute:NAME", "ec2InstanceId", "agentConnected", "agentVersion", "registeredAt",
            "runningTasksCount", "task:group")

# Operator spellings -> canonical form.
OPERATORS = {
    "==": "==", "equals": "==", "!=": "!=", "not_equals": "!=",
    ">": ">", "greater_than": ">", ">=": ">=", "greater_than_equal": ">=",
    "<": "<", "less_than": "<", "<=": "<=", "less_than_equal": "<=",
    "in": "in", "!in": "not_in", "not_in": "not_in",
    "=~": "=~", "matches": "=~", "!~": "!~", "not_matches": "!~",
    "exists": "exists", "!exists": "not_exists", "not_exists": "not_exists",
}
_ORDERING = frozenset({"==", "!=", ">", ">=", "<", "<="})
_STRINGY = frozenset({"==", "!=", "in", "not_in", "=~", "!~"})
# Which canonical operators each subject accepts (ecs-semantics §3.2).
ALLOWED = {
    "attribute": frozenset(OPERATORS.values()),
    "ec2InstanceId": _STRINGY,
    "agentConnected": _STRINGY,
    "agentVersion": _ORDERING,
    "registeredAt": _ORDERING,
    "runningTasksCount": _ORDERING,
    "task:group": _STRINGY,
}


class CqlError(ValueError):
    """A malformed expression; ``column`` is 1-based into the expression text."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(f"{message} (column {column})")
        self.message = message
        self.column = column


# --- the AST -----------------------------------------------------------------


@dataclass(frozen=True)
class Predicate:
    """``subject op values``; ``attribute`` is the NAME of ``attribute:NAME`` (else "")."""

    subject: str
    op: str  # canonical operator
    values: tuple[str, ...] = ()
    attribute: str = ""
    column: int = 1


@dataclass(frozen=True)
class Not:
    operand: "Expr"


@dataclass(frozen=True)
class And:
    operands: tuple["Expr", ...]


@dataclass(frozen=True)
class Or:
    operands: tuple["Expr", ...]


Expr = Predicate | Not | And | Or


# --- parsing -----------------------------------------------------------------

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: unary (_AND unary)*
?unary: _NOT unary -> negation
      | "(" or_expr ")"
      | predicate
predicate: subject binop argument
         | subject unop
subject: ATTRIBUTE | EC2ID | CONNECTED | VERSION | REGISTERED | RUNNING | GROUP
binop: EQ | EQUALS | NE | NOT_EQUALS | GE | GREATER_THAN_EQUAL | GT | GREATER_THAN
     | LE | LESS_THAN_EQUAL | LT | LESS_THAN | IN | BANG_IN | NOT_IN | MATCH | MATCHES
     | NOMATCH | NOT_MATCHES
unop: EXISTS | BANG_EXISTS | NOT_EXISTS
argument: value | "[" value ("," value)* "]" -> vlist
value: BARE | QUOTED

_OR: /or(?![^\s()\[\]',=!<>~&|])/ | "||"
_AND: /and(?![^\s()\[\]',=!<>~&|])/ | "&&"
_NOT: /not(?![^\s()\[\]',=!<>~&|])/ | "!"
ATTRIBUTE: /attribute:[A-Za-z0-9_\-\/\\.]+/
EC2ID: "ec2InstanceId"
CONNECTED: "agentConnected"
VERSION: "agentVersion"
REGISTERED: "registeredAt"
RUNNING: "runningTasksCount"
GROUP: "task:group"
EQ: "=="
EQUALS: /equals(?![^\s()\[\]',=!<>~&|])/
NE: "!="
NOT_EQUALS: /not_equals(?![^\s()\[\]',=!<>~&|])/
GE: ">="
GREATER_THAN_EQUAL: /greater_than_equal(?![^\s()\[\]',=!<>~&|])/
GT: ">"
GREATER_THAN: /greater_than(?![^\s()\[\]',=!<>~&|])/
LE: "<="
LESS_THAN_EQUAL: /less_than_equal(?![^\s()\[\]',=!<>~&|])/
LT: "<"
LESS_THAN: /less_than(?![^\s()\[\]',=!<>~&|])/
IN: /in(?![^\s()\[\]',=!<>~&|])/
BANG_IN: /!in(?![^\s()\[\]',=!<>~&|])/
NOT_IN: /not_in(?![^\s()\[\]',=!<>~&|])/
MATCH: "=~"
MATCHES: /matches(?![^\s()\[\]',=!<>~&|])/
NOMATCH: "!~"
NOT_MATCHES: /not_matches(?![^\s()\[\]',=!<>~&|])/
EXISTS: /exists(?![^\s()\[\]',=!<>~&|])/
BANG_EXISTS: /!exists(?![^\s()\[\]',=!<>~&|])/
NOT_EXISTS: /not_exists(?![^\s()\[\]',=!<>~&|])/
BARE: /[^\s=!<>~()\[\],'"&|]+/
QUOTED: /'[^']*'|"[^"]*"/
%ignore /\s+/
"""


@lru_cache(maxsize=1)
def _parser():
    from lark import Lark  # lazy: validation without memberOf never imports lark

    return Lark(_GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False, maybe_placeholders=False)


_EXPECT_WORDS = {
    "ATTRIBUTE": "attribute:NAME", "EC2ID": "ec2InstanceId", "CONNECTED": "agentConnected",
    "VERSION": "agentVersion", "REGISTERED": "registeredAt", "RUNNING": "runningTasksCount",
    "GROUP": "task:group", "BARE": "a value", "QUOTED": "a value", "LSQB": "'['", "LPAR": "'('",
    "RPAR": "')'", "RSQB": "']'", "COMMA": "','", "_OR": "or", "_AND": "and", "_NOT": "not", "$END": "the end of the expression",
}


def _describe_expected(expected) -> str:
    names = set(expected)
    if names & {"EQ", "EQUALS", "EXISTS", "IN"}:
        return "an operator (==, !=, >, >=, <, <=, in, not_in, =~, !~, exists, !exists)"
    if names & {"ATTRIBUTE", "GROUP"}:
        return "a subject (" + ", ".join(SUBJECTS) + ")"
    words = sorted({_EXPECT_WORDS.get(n, n) for n in names if not n.startswith("__")})
    return " or ".join(words) if words else "something else"


def parse(text: str) -> Expr:
    """Parse and check an expression; raise :class:`CqlError` pointing at the problem.

    >>> parse("agentVersion < 1.14.5")
    Predicate(subject='agentVersion', op='<', values=('1.14.5',), attribute='', column=1)
    """
    if not isinstance(text, str):
        raise CqlError("expression must be a string", 1)
    if len(text) > MAX_LENGTH:
        raise CqlError(f"expression is {len(text)} characters; the maximum is {MAX_LENGTH}", MAX_LENGTH + 1)
    if not text.strip():
        raise CqlError("expression is empty", 1)
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    try:
        tree = _parser().parse(text)
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise CqlError(f"expression ends early; expected {_describe_expected(exc.expected)}", len(text) + 1) from None
        raise CqlError(f"unexpected '{tok}'; expected {_describe_expected(exc.expected)}", exc.column) from None
    except UnexpectedCharacters as exc:
        word = re.match(r"[^\s()\[\],]+", text[exc.pos_in_stream:])
        shown = word.group(0) if word else text[exc.pos_in_stream]
        raise CqlError(f"unexpected '{shown}'; expected {_describe_expected(exc.allowed or ())}", exc.column) from None
    except UnexpectedEOF as exc:  # pragma: no cover - LALR reports EOF as UnexpectedToken
        raise CqlError(f"expression ends early; expected {_describe_expected(exc.expected)}", len(text) + 1) from None
    return _build(tree)


def _build(node) -> Expr:
    data = node.data
    if data == "predicate":
        return _predicate(node)
    if data == "negation":
        return Not(_build(node.children[0]))
    if data in ("and_expr", "or_expr"):
        parts = tuple(_build(c) for c in node.children)
        return And(parts) if data == "and_expr" else Or(parts)
    raise CqlError(f"cannot read '{data}'", 1)  # pragma: no cover - grammar guarantees the shapes


def _predicate(node) -> Predicate:
    subject_tok = node.children[0].children[0]
    op_tok = node.children[1].children[0]
    op = OPERATORS[str(op_tok)]
    subject, attribute = str(subject_tok), ""
    if subject_tok.type == "ATTRIBUTE":
        subject, attribute = "attribute", subject[len("attribute:"):]
    shown = "attribute:" + attribute if attribute else subject
    if op not in ALLOWED[subject]:
        ok = ", ".join(sorted(ALLOWED[subject]))
        raise CqlError(f"operator '{op_tok}' cannot be used with {shown}; use one of {ok}", op_tok.column)
    values: list[tuple[str, int]] = []
    if len(node.children) == 3:
        arg = node.children[2]
        for v in arg.children:
            tok = v.children[0]
            raw = str(tok)
            values.append((raw[1:-1] if tok.type == "QUOTED" else raw, tok.column))
        if arg.data == "vlist" and op not in ("in", "not_in"):
            raise CqlError(f"a list of values needs 'in' or 'not_in', not '{op_tok}'", op_tok.column)
    for value, column in values:
        _check_value(subject, op, value, column)
    return Predicate(subject, op, tuple(v for v, _ in values), attribute, subject_tok.column)


_VERSION_RE = re.compile(r"^v?\d+(\.\d+)*$")
_DATE_FORMATS = (r"^\d{4}-\d{2}-\d{2}$", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$")


def _check_value(subject: str, op: str, value: str, column: int) -> None:
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise CqlError(f"'{value}' is not a valid regular expression: {exc.msg}", column) from None
        return
    if subject == "runningTasksCount" and not re.fullmatch(r"\d+", value):
        raise CqlError(f"runningTasksCount needs an integer, not '{value}'", column)
    if subject == "agentVersion" and not _VERSION_RE.match(value):
        raise CqlError(f"agentVersion needs a version such as 1.14.5, not '{value}'", column)
    if subject == "registeredAt":
        if not any(re.match(p, value) for p in _DATE_FORMATS) or _to_datetime(value) is None:
            raise CqlError(f"registeredAt needs a date such as 2018-06-18 or 2018-06-18T22:28:28Z, not '{value}'", column)
    if subject == "agentConnected" and value not in ("true", "false"):
        raise CqlError(f"agentConnected is true or false, not '{value}'", column)


# --- evaluation --------------------------------------------------------------


@lru_cache(maxsize=4096)
def _to_datetime(text: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=4096)
def version_key(text: str) -> tuple[int, ...]:
    """``"1.14.5"`` → ``(1, 14, 5)``; non-numeric parts count as 0.

    >>> version_key("1.9.0") < version_key("1.14.5")
    True
    """
    parts = []
    for piece in str(text).lstrip("v").split("."):
        digits = re.match(r"\d+", piece)
        parts.append(int(digits.group(0)) if digits else 0)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}

Check = Callable[[Mapping[str, Any]], bool]


def _string_test(op: str, values: tuple[str, ...]) -> Callable[[Any], bool]:
    """A test on one string value (``None`` when the subject has no value)."""
    if op in ("=~", "!~"):
        pattern = re.compile(values[0])
        hit = lambda s: s is not None and pattern.fullmatch(s) is not None  # noqa: E731
    elif op in ("in", "not_in"):
        pool = frozenset(values)
        hit = lambda s: s in pool  # noqa: E731
    elif op in ("==", "!="):
        want = values[0]
        hit = lambda s: s == want  # noqa: E731
    else:  # ordering on attribute values: as versions when both look numeric, else as strings
        want, cmp = values[0], _COMPARE[op]
        numeric = bool(_VERSION_RE.match(want))

        def hit(s, want=want, cmp=cmp, numeric=numeric):
            if s is None:
                return False
            if numeric and _VERSION_RE.match(s):
                return cmp(version_key(s), version_key(want))
            return cmp(s, want)

        return hit
    if op in ("!=", "not_in", "!~"):
        return lambda s: not hit(s)
    return hit


def _compile_predicate(p: Predicate) -> Check:
    subject, op, values = p.subject, p.op, p.values
    if subject == "attribute":
        name = p.attribute
        if op == "exists":
            return lambda inst: name in (inst.get("attributes") or {})
        if op == "not_exists":
            return lambda inst: name not in (inst.get("attributes") or {})
        test = _string_test(op, values)
        return lambda inst: test((inst.get("attributes") or {}).get(name))
    if subject == "ec2InstanceId":
        test = _string_test(op, values)
        return lambda inst: test(inst.get("ec2InstanceId"))
    if subject == "agentConnected":
        test = _string_test(op, values)
        return lambda inst: test("true" if inst.get("agentConnected") else "false")
    if subject == "task:group":
        positive = {"!=": "==", "not_in": "in", "!~": "=~"}.get(op, op)
        test = _string_test(positive, values)
        if positive == "in":
            pool = frozenset(values)
            any_hit = lambda groups: not pool.isdisjoint(groups)  # noqa: E731
        elif positive == "==":
            want = values[0]
            any_hit = lambda groups: want in groups  # noqa: E731
        else:
            any_hit = lambda groups: any(test(g) for g in groups)  # noqa: E731
        if positive != op:
            return lambda inst: not any_hit(inst.get("taskGroups") or ())
        return lambda inst: any_hit(inst.get("taskGroups") or ())
    cmp = _COMPARE[op]
    if subject == "runningTasksCount":
        want = int(values[0])
        return lambda inst: cmp(int(inst.get("runningTasksCount") or 0), want)
    if subject == "agentVersion":
        want = version_key(values[0])
        return lambda inst: inst.get("agentVersion") is not None and cmp(version_key(str(inst["agentVersion"])), want)
    if subject == "registeredAt":
        want = _to_datetime(values[0])

        def registered(inst):
            got = inst.get("registeredAt")
            when = _to_datetime(got) if isinstance(got, str) else got
            return when is not None and cmp(when, want)

        return registered
    raise ValueError(f"unknown subject {subject}")  # pragma: no cover


def compile_expr(expr: Expr) -> Check:
    """Turn an AST into one closure ``instance -> bool`` (cached on the AST)."""
    cached = expr.__dict__.get("_check")
    if cached is not None:
        return cached
    if isinstance(expr, Predicate):
        fn = _compile_predicate(expr)
    elif isinstance(expr, Not):
        inner = compile_expr(expr.operand)
        fn = lambda inst: not inner(inst)  # noqa: E731
    elif isinstance(expr, And):
        parts = tuple(compile_expr(e) for e in expr.operands)
        fn = lambda inst: all(p(inst) for p in parts)  # noqa: E731
    elif isinstance(expr, Or):
        parts = tuple(compile_expr(e) for e in expr.operands)
        fn = lambda inst: any(p(inst) for p in parts)  # noqa: E731
    else:
        raise TypeError(f"not a CQL expression: {expr!r}")
    object.__setattr__(expr, "_check", fn)
    return fn


def evaluate(expr: Expr, instance: Mapping[str, Any]) -> bool:
    """Whether ``instance`` satisfies ``expr``.

    ``instance`` keys: ``ec2InstanceId``, ``attributes`` (name → value, ``None``
    for a name-only attribute), ``agentConnected``, ``agentVersion``,
    ``registeredAt`` (ISO string or datetime), ``runningTasksCount``,
    ``taskGroups`` (groups of the tasks running on it).

    >>> evaluate(parse("runningTasksCount == 1"), {"runningTasksCount": 1})
    True
    """
    return compile_expr(expr)(instance)


@lru_cache(maxsize=512)
def compiled(text: str) -> Check:
    """Parse and compile once per distinct expression text."""
    return compile_expr(parse(text))


def matches(text: str, instance: Mapping[str, Any]) -> bool:
    """``evaluate(parse(text), instance)`` with the parsed expression cached."""
    return compiled(text)(instance)


def check(text: str) -> CqlError | None:
    """The error in ``text``, or None if it parses (cached: rules call this per document)."""
    return _check_cached(text)


@lru_cache(maxsize=2048)
def _check_cached(text: str) -> CqlError | None:
    try:
        parse(text)
    except CqlError as exc:
        return exc
    return None
