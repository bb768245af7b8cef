"""What a rule is: one small class whose metadata is its documentation.

    @register
    class EssentialContainer(Rule):
        \"\"\"Longer explanation, printed by ``ecsctl rules explain E2002``.\"\"\"

        id = "E2002"
        title = "A task definition needs at least one essential container"
        kinds = ("TaskDefinition",)

        def check(self, spec, doc, ctx):
            if not any(c.get("essential", True) for c in containers(spec)):
                yield ("containerDefinitions",), "no container is essential"

``check`` yields ``(path, message)`` pairs, the path relative to the spec.  It
runs only on documents whose envelope and schema are valid, so it may trust
types and required fields; optional fields still have to be looked up with
``.get``.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Iterable, Iterator

from ecsctl.core.findings import Path, Severity

Issue = tuple[Path, str]


class Rule:
    id: ClassVar[str]
    title: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    severity: ClassVar[Severity] = Severity.ERROR

    def check(self, spec: Any, doc, ctx) -> Iterable[Issue]:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def explanation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or cls.title)


_REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the catalogue; IDs are never shared."""
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise ValueError(f"rule id {cls.id} is used by both {_REGISTRY[cls.id].__name__} and {cls.__name__}")
    _REGISTRY[cls.id] = cls
    return cls


def registered() -> dict[str, type[Rule]]:
    return dict(_REGISTRY)


def containers(spec: Any) -> Iterator[tuple[int, dict]]:
    """(index, container) for every container definition that is a mapping."""
    items = spec.get("containerDefinitions") if isinstance(spec, dict) else None
    for i, c in enumerate(items or []):
        if isinstance(c, dict):
            yield i, c
