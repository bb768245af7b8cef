"""Helpers the service, schedule and cluster rules share: resolving references.

No rules live here; the module is imported with the others and registers nothing.
"""

from __future__ import annotations

from typing import Any

FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
DEFAULT_CLUSTER = "default"


def last_segment(ref: str) -> str:
    """``arn:aws:ecs:eu-west-1:123456789012:cluster/prod`` → ``prod``; a plain name is itself."""
    return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref


def target_group_name(ref: str) -> str:
    """``arn:…:targetgroup/web/6d0ecf831eec9f09`` → ``web``; ``targetgroup/web/id`` → ``web``; ``web`` → ``web``.

    >>> target_group_name("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/6d0ecf831eec9f09")
    'web'
    """
    parts = ref.split(":")[-1].split("/") if ref.startswith("arn:") else ref.split("/")
    if len(parts) >= 2 and parts[0] == "targetgroup":
        return parts[1]
    return parts[-1] if ref.startswith("arn:") else ref


def cluster_name(spec: dict) -> str:
    ref = spec.get("cluster")
    return last_segment(ref) if isinstance(ref, str) and ref else DEFAULT_CLUSTER


def launch_settings(spec: dict, doc) -> tuple[dict, tuple]:
    """How a document's tasks launch, and the path to it: a Service's spec, or a ScheduledTask's
    ``target``, which holds RunTask's parameters (EventBridge EcsParameters) under the same names."""
    if doc.kind == "ScheduledTask":
        return as_dict(spec.get("target")), ("target",)
    return spec, ()


def spec_of(doc) -> dict | None:
    """A referenced document's spec, only when it passed its own checks."""
    if doc is None or not doc.valid or not isinstance(doc.spec, dict):
        return None
    return doc.spec


def task_definition_spec(ref: Any, ctx) -> dict | None:
    return spec_of(ctx.task_definition(ref)) if isinstance(ref, str) and ref else None


def network_mode(td: dict) -> str:
    mode = td.get("networkMode")
    return mode if isinstance(mode, str) else "bridge"


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def strategy_items(strategy: Any):
    """(index, item) for the mapping items of a capacity provider strategy."""
    for i, item in enumerate(as_list(strategy)):
        if isinstance(item, dict):
            yield i, item


def launch_of(spec: dict, ctx) -> str | None:
    """The launch type a service's (or a target's) tasks get: ``launchType``, else its capacity
    provider strategy's, else the cluster's default strategy's (``core.controller.service.
    launch_type``); None when that default decides and the cluster is not among the documents."""
    from ecsctl.core.controller.service import launch_type

    if spec.get("launchType") or as_list(spec.get("capacityProviderStrategy")):
        return launch_type(spec, None)
    cluster = spec_of(ctx.get("Cluster", cluster_name(spec)))
    return launch_type(spec, cluster) if cluster is not None else None


def launch_path(spec: dict) -> tuple:
    """Where a launch-type finding points: ``launchType``, the strategy, or the document."""
    if "launchType" in spec:
        return ("launchType",)
    return ("capacityProviderStrategy",) if as_list(spec.get("capacityProviderStrategy")) else ()


MAX_STRATEGY_PROVIDERS = 20  # CapacityProviderStrategyItem: "a maximum of 20 capacity providers"
MAX_TARGET_PROVIDERS = 6  # EventBridge's and Scheduler's EcsParameters.CapacityProviderStrategy


def check_strategy(strategy: Any, field: str, ctx, associated: set[str] | None, most: int = MAX_STRATEGY_PROVIDERS):
    """Issues of a capacity provider strategy (service or cluster default, or a scheduled task's
    target with ``most`` 6), ecs-semantics §7.

    ``associated``: the providers of the cluster, or None when the cluster is unknown.
    """
    items = list(strategy_items(strategy))
    if not items:
        return
    if len(items) > most:
        yield (field,), f"a capacity provider strategy has at most {most} providers, not {len(items)}"
    with_base = [i for i, item in items if isinstance(item.get("base"), int) and item["base"] > 0]
    if len(with_base) > 1:
        yield (field, with_base[1], "base"), "Only 1 capacity provider in a capacity provider strategy can have a nonzero base."
    if not any(isinstance(item.get("weight"), (int, float)) and item["weight"] > 0 for _, item in items):
        yield (field,), "at least one capacity provider in a strategy needs a weight greater than 0"
    names = [(i, item.get("capacityProvider")) for i, item in items]
    seen: set = set()
    for i, name in names:
        if name in seen:
            yield (field, i, "capacityProvider"), f"capacity provider '{name}' appears twice in the strategy"
        seen.add(name)
    fargate = [n for _, n in names if n in FARGATE_PROVIDERS]
    if fargate and len(fargate) < len(names):
        yield (field,), ("A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling "
                         "groups and Fargate providers. Specify one or the other and try again.")
    for i, name in names:
        if not isinstance(name, str):
            continue
        if name not in FARGATE_PROVIDERS and ctx.get("CapacityProvider", name) is None:
            yield (field, i, "capacityProvider"), f"capacity provider '{name}' is neither FARGATE, FARGATE_SPOT nor a CapacityProvider among the validated documents{ctx.suggest('CapacityProvider', name, FARGATE_PROVIDERS)}"
        elif associated is not None and name not in associated:
            yield (field, i, "capacityProvider"), (f"capacity provider '{name}': The specified capacity provider strategy cannot "
                                                   "contain a capacity provider that is not associated with the cluster. "
                                                   "(add it to the cluster's capacityProviders)")
