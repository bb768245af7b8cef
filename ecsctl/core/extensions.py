"""ecsctl's own fields inside ECS-shaped specs: the ``x-ecsctl`` key, and removing it.

ECS request shapes are camelCase and never hold a ``-``, so a key spelt ``x-ecsctl`` cannot
be confused with an ECS field (the ``x-`` prefix is the usual mark of an extension, as in
OpenAPI and Compose files).  It holds what the simulation needs and AWS has no field for
(for example when a batch task's essential container exits, see
:mod:`ecsctl.core.events.batch`).  Whatever is sent to AWS — ``ecsctl render``, the boto3
backend — goes through :func:`strip_extensions` first.

    >>> strip_extensions({"family": "report", "x-ecsctl": {"runFor": "10m"},
    ...                   "containerDefinitions": [{"name": "r", "x-ecsctl": {}}]})
    {'family': 'report', 'containerDefinitions': [{'name': 'r'}]}
"""

from __future__ import annotations

from typing import Any

EXTENSION = "x-ecsctl"


def strip_extensions(value: Any) -> Any:
    """A copy of ``value`` without any ``x-ecsctl`` key, at any depth (the input is not changed)."""
    if isinstance(value, dict):
        return {k: strip_extensions(v) for k, v in value.items() if k != EXTENSION}
    if isinstance(value, list):
        return [strip_extensions(v) for v in value]
    return value


def extension(spec: Any) -> dict:
    """The ``x-ecsctl`` mapping of ``spec`` (empty when absent or not a mapping)."""
    value = spec.get(EXTENSION) if isinstance(spec, dict) else None
    return value if isinstance(value, dict) else {}
