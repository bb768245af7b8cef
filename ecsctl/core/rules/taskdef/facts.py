"""Small facts about a task definition that many rules ask for (no rules here).

Every helper tolerates a spec the schema has not vetted yet: wrong types read
as "absent".
"""

from __future__ import annotations

from typing import Any

RESERVED_HOST_PORTS = frozenset({22, 2375, 2376, 51678, 51679, 51680})


def is_fargate(spec: dict) -> bool:
    """requiresCompatibilities names FARGATE (alone or with others).

    >>> is_fargate({"requiresCompatibilities": ["EC2", "FARGATE"]}), is_fargate({})
    (True, False)
    """
    compat = spec.get("requiresCompatibilities")
    return isinstance(compat, list) and "FARGATE" in compat


def is_windows(spec: dict) -> bool:
    """runtimePlatform.operatingSystemFamily is a WINDOWS_SERVER_* value."""
    platform = spec.get("runtimePlatform")
    family = platform.get("operatingSystemFamily") if isinstance(platform, dict) else None
    return isinstance(family, str) and family.upper().startswith("WINDOWS")


def network_mode(spec: dict) -> str:
    """The effective network mode: as written, else ``bridge`` (Linux) / ``default`` (Windows).

    >>> network_mode({}), network_mode({"networkMode": "awsvpc"})
    ('bridge', 'awsvpc')
    """
    mode = spec.get("networkMode")
    if isinstance(mode, str):
        return mode
    return "default" if is_windows(spec) else "bridge"


def integer(value: Any) -> int | None:
    """An int that is not a bool, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def items(container: dict, key: str) -> list:
    """``container[key]`` when it is a list, else an empty list."""
    value = container.get(key)
    return value if isinstance(value, list) else []


def dicts(container: dict, key: str):
    """(index, mapping) for the mapping items of the list ``container[key]``."""
    for j, item in enumerate(items(container, key)):
        if isinstance(item, dict):
            yield j, item


def label(index: int, container: dict) -> str:
    """How messages name a container: ``container 'web'`` (or its index when unnamed).

    >>> label(0, {"name": "web"}), label(2, {})
    ("container 'web'", 'container #2')
    """
    name = container.get("name")
    return f"container '{name}'" if isinstance(name, str) and name else f"container #{index}"


def text(value: Any) -> str | None:
    """A string value, else None (lists and mappings are not hashable names)."""
    return value if isinstance(value, str) else None


def names(spec: dict) -> set[str]:
    """Names of the containers that have a string name."""
    out = set()
    for c in spec.get("containerDefinitions") or ():
        if isinstance(c, dict) and isinstance(c.get("name"), str):
            out.add(c["name"])
    return out


def is_essential(container: dict) -> bool:
    """``essential`` defaults to true when omitted."""
    return container.get("essential", True) is not False


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle in a directed graph as a list of nodes (first repeated last), or None.

    Deterministic: nodes are visited in insertion order.

    >>> find_cycle({"a": ["b"], "b": ["a"]})
    ['a', 'b', 'a']
    >>> find_cycle({"a": ["b"], "b": []}) is None
    True
    """
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(graph.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                mark = state.get(child)
                if mark == 1:
                    return path[path.index(child):] + [child]
                if mark is None and child in graph:
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(graph.get(child, ()))))
                    break
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None
