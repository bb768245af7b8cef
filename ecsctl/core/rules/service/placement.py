"""Placement strategies and constraints of a service (ecs-semantics §2.3, §2.4, §3)."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import as_list, task_definition_spec

MAX_STRATEGIES = 5
MAX_CONSTRAINTS = 10
STRATEGY_FIELDS = {"binpack": ("cpu", "memory"), "spread": ("instanceId", "host", "attribute:NAME"), "random": ()}


def strategy_issue(item: dict) -> tuple[tuple, str] | None:
    """What is wrong with one strategy item, as (relative path, message), or None.

    >>> strategy_issue({"type": "binpack", "field": "instanceId"})[1]
    "binpack takes field 'cpu' or 'memory', not 'instanceId'"
    >>> strategy_issue({"type": "spread", "field": "attribute:ecs.availability-zone"}) is None
    True
    """
    kind, field = item.get("type"), item.get("field")
    if kind not in STRATEGY_FIELDS:
        return ("type",), f"placement strategy type must be binpack, spread or random, not {kind!r}"
    if kind == "random":
        return (("field",), "random takes no field") if field is not None else None
    if not isinstance(field, str) or not field:
        return ("type",), f"{kind} needs a field"
    if kind == "binpack" and field not in ("cpu", "memory"):
        return ("field",), f"binpack takes field 'cpu' or 'memory', not '{field}'"
    if kind == "spread" and not (field in ("instanceId", "host") or (field.startswith("attribute:") and len(field) > 10)):
        return ("field",), f"spread takes field 'instanceId', 'host' or 'attribute:NAME', not '{field}'"
    if len(field) > 255:
        return ("field",), "a placement strategy field has at most 255 characters"
    return None


@register
class PlacementStrategies(Rule):
    """At most 5 placement strategies, each a valid type/field pair.

    ``binpack`` packs on ``cpu`` or ``memory``; ``spread`` spreads over
    ``instanceId`` (alias ``host``) or an attribute such as
    ``attribute:ecs.availability-zone``; ``random`` takes no field
    (API ``PlacementStrategy``).

    Bad::

        placementStrategy: [{type: binpack, field: instanceId}]

    Good::

        placementStrategy:
          - {type: spread, field: attribute:ecs.availability-zone}
          - {type: binpack, field: memory}
    """

    id = "E3009"
    title = "Placement strategies: at most 5, valid type and field"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        items = as_list(spec.get("placementStrategy"))
        if len(items) > MAX_STRATEGIES:
            yield ("placementStrategy",), f"a service takes at most {MAX_STRATEGIES} placement strategy rules, not {len(items)}"
        for i, item in enumerate(items):
            if isinstance(item, dict):
                issue = strategy_issue(item)
                if issue:
                    yield ("placementStrategy", i) + issue[0], issue[1]


def constraint_issues(items: list, base: tuple):
    """Issues of a list of placement constraints: type, expression, CQL."""
    from ecsctl.core.scheduling import cql

    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind, expr = item.get("type"), item.get("expression")
        if kind == "distinctInstance":
            if expr is not None:
                yield base + (i, "expression"), "distinctInstance takes no expression"
        elif kind == "memberOf":
            if not isinstance(expr, str) or not expr.strip():
                yield base + (i,), "memberOf needs an expression in the Cluster Query Language"
            else:
                error = cql.check(expr)
                if error is not None:
                    yield base + (i, "expression"), f"invalid expression at column {error.column}: {error.message}"
        else:
            yield base + (i, "type"), f"placement constraint type must be distinctInstance or memberOf, not {kind!r}"


@register
class PlacementConstraints(Rule):
    """Placement constraints: at most 10 (with the task definition's), and well formed.

    ``distinctInstance`` takes no expression; ``memberOf`` needs one, written
    in the Cluster Query Language (``attribute:ecs.instance-type =~ t3.*``,
    ``not(task:group == service:db)``, …, at most 2000 characters).  The
    limit of 10 counts the task definition's own ``memberOf`` constraints too.

    Bad::

        placementConstraints:
          - {type: memberOf, expression: "attribute:ecs.instance-type = t3.large"}

    Good::

        placementConstraints:
          - {type: memberOf, expression: "attribute:ecs.instance-type == t3.large"}
          - {type: distinctInstance}
    """

    id = "E3011"
    title = "Placement constraints: at most 10, distinctInstance bare, memberOf valid CQL"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        items = as_list(spec.get("placementConstraints"))
        td = task_definition_spec(spec.get("taskDefinition"), ctx) if items else None
        own = len(as_list(td.get("placementConstraints"))) if td else 0
        if len(items) + own > MAX_CONSTRAINTS:
            extra = f" (with the task definition's {own})" if own else ""
            yield ("placementConstraints",), f"a task takes at most {MAX_CONSTRAINTS} placement constraints, not {len(items) + own}{extra}"
        yield from constraint_issues(items, ("placementConstraints",))
