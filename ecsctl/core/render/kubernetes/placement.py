"""ECS task placement as Kubernetes scheduling: node affinity, pod anti-affinity, topology spread.

* ``memberOf`` (the Cluster Query Language, parsed by ``core.scheduling.cql``) becomes
  ``nodeAffinity``: the expression is put in disjunctive normal form (``nodeSelectorTerms``
  are OR-ed, their ``matchExpressions`` AND-ed) and each predicate on an attribute becomes a
  requirement on a node label — ``ecs.availability-zone`` on ``topology.kubernetes.io/zone``,
  ``ecs.instance-type`` on ``node.kubernetes.io/instance-type``, ``ecs.os-type`` and
  ``ecs.cpu-architecture`` on ``kubernetes.io/os``/``kubernetes.io/arch``, a custom attribute
  on the node label of the same name.  Predicates without a node label (``task:group``,
  ``agentVersion``, ``ec2InstanceId``, ...) are left out with a note; leaving a predicate
  out of an AND only widens the set of nodes, so the affinity never refuses a node ECS
  would take, and where a whole OR branch is left out the expression constrains nothing.
* ``distinctInstance`` becomes a required pod anti-affinity on ``kubernetes.io/hostname``.
* ``spread`` strategies become ``topologySpreadConstraints`` with ``whenUnsatisfiable:
  ScheduleAnyway`` (a strategy is a preference, not a constraint); ``binpack`` and
  ``random`` have no equivalent in the default scheduler and become notes.

    >>> terms, notes = node_affinity(["attribute:ecs.instance-type == m5.large or attribute:tier in [general, batch]"])
    >>> [t["matchExpressions"] for t in terms]
    [[{'key': 'node.kubernetes.io/instance-type', 'operator': 'In', 'values': ['m5.large']}], [{'key': 'tier', 'operator': 'In', 'values': ['general', 'batch']}]]
"""

from __future__ import annotations

import itertools
import re

from ecsctl.core.render.kubernetes.names import is_label_key, label_value
from ecsctl.core.render.kubernetes.yaml_text import Items, Node
from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.instance_types import INSTANCE_TYPES

ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
ATTRIBUTE_LABELS = {
    "ecs.availability-zone": ZONE,
    "ecs.instance-type": "node.kubernetes.io/instance-type",
    "ecs.os-type": "kubernetes.io/os",
    "ecs.cpu-architecture": "kubernetes.io/arch",
}
VALUE_MAPS = {"kubernetes.io/arch": {"x86_64": "amd64", "arm64": "arm64"}}
NO_LABEL = {
    "ecs.ami-id": "Kubernetes nodes carry no AMI label",
    "ecs.os-family": "Kubernetes nodes carry no OS-family label (kubernetes.io/os is linux or windows)",
    "ecs.vpc-id": "Kubernetes nodes carry no VPC label",
    "ecs.subnet-id": "Kubernetes nodes carry no subnet label",
}
SUBJECTS = {
    "task:group": "it places by the tasks already on an instance; Kubernetes would need pod affinity or anti-affinity",
    "agentVersion": "Kubernetes nodes have no ECS agent version",
    "agentConnected": "Kubernetes nodes have no ECS agent",
    "ec2InstanceId": "Kubernetes selects nodes by label, not by EC2 instance id",
    "registeredAt": "Kubernetes nodes have no registration-time label",
    "runningTasksCount": "Kubernetes cannot select nodes by how many pods they run",
}
MAX_TERMS = 32
NEGATED = {"==": "!=", "!=": "==", "in": "not_in", "not_in": "in", "exists": "not_exists", "not_exists": "exists",
           "=~": "!~", "!~": "=~", ">": "<=", ">=": "<", "<": ">=", "<=": ">"}

Literal = tuple[cql.Predicate, bool]  # (predicate, negated)


class TooComplex(ValueError):
    pass


def _dnf(expr: cql.Expr, negate: bool = False) -> list[list[Literal]]:
    if isinstance(expr, cql.Predicate):
        return [[(expr, negate)]]
    if isinstance(expr, cql.Not):
        return _dnf(expr.operand, not negate)
    parts = [_dnf(e, negate) for e in expr.operands]
    conjunction = isinstance(expr, cql.And) != negate  # De Morgan: not(a or b) = not a and not b
    if not conjunction:
        return [term for part in parts for term in part]
    terms = [list(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]
    if len(terms) > MAX_TERMS:
        raise TooComplex(f"more than {MAX_TERMS} alternatives")
    return terms


def show(literal: Literal) -> str:
    """``attribute:tier == general``, with the negation folded in."""
    p, negated = literal
    op = NEGATED[p.op] if negated else p.op
    subject = f"attribute:{p.attribute}" if p.subject == "attribute" else p.subject
    if op in ("exists", "not_exists"):
        return f"{subject} {op}"
    values = f"[{', '.join(p.values)}]" if op in ("in", "not_in") else (p.values[0] if p.values else "")
    return f"{subject} {op} {values}"


def _label(attribute: str) -> tuple[str | None, str]:
    if attribute in ATTRIBUTE_LABELS:
        return ATTRIBUTE_LABELS[attribute], ""
    if attribute in NO_LABEL:
        return None, NO_LABEL[attribute]
    if attribute.startswith("ecs."):
        return None, f"Kubernetes nodes have no label for the ECS attribute {attribute}"
    if not is_label_key(attribute):
        return None, f"'{attribute}' is not a valid Kubernetes label key"
    return attribute, ""


def _requirement(literal: Literal) -> dict | str:
    """A ``NodeSelectorRequirement``, or why there is none."""
    p, negated = literal
    if p.subject != "attribute":
        return SUBJECTS.get(p.subject, f"{p.subject} has no Kubernetes equivalent")
    key, why = _label(p.attribute)
    if key is None:
        return why
    op = NEGATED[p.op] if negated else p.op
    if op in ("exists", "not_exists"):
        return {"key": key, "operator": "Exists" if op == "exists" else "DoesNotExist"}
    mapping = VALUE_MAPS.get(key, {})
    values = [mapping.get(v, v) for v in p.values]
    if op in ("=~", "!~"):
        if key != ATTRIBUTE_LABELS["ecs.instance-type"]:
            return "Kubernetes node affinity has no regular expressions"
        pattern = re.compile(p.values[0])
        values = sorted(t for t in INSTANCE_TYPES if pattern.fullmatch(t))
        if not values:
            return f"no instance type ecsctl knows matches '{p.values[0]}'"
        return {"key": key, "operator": "In" if op == "=~" else "NotIn", "values": values}
    if op in (">", ">=", "<", "<="):
        if not re.fullmatch(r"-?\d+", values[0]):
            return f"Kubernetes compares node labels only as integers (Gt/Lt), not '{values[0]}'"
        n = int(values[0])
        threshold = {">": n, ">=": n - 1, "<": n, "<=": n + 1}[op]
        return {"key": key, "operator": "Gt" if op in (">", ">=") else "Lt", "values": [str(threshold)]}
    bad = [v for v in values if label_value(v) != v]
    if bad:
        return f"'{bad[0]}' is not a valid Kubernetes label value"
    return {"key": key, "operator": "In" if op in ("==", "in") else "NotIn", "values": values}


def node_affinity(expressions: list[str]) -> tuple[list[dict] | None, list[str]]:
    """``nodeSelectorTerms`` for the AND of ``expressions`` (None when nothing narrows), and notes."""
    notes: list[str] = []
    terms: list[list[Literal]] = [[]]
    try:
        for text in expressions:
            terms = [a + b for a, b in itertools.product(terms, _dnf(cql.parse(text)))]
            if len(terms) > MAX_TERMS:
                raise TooComplex(f"more than {MAX_TERMS} alternatives")
    except (cql.CqlError, TooComplex) as exc:
        return None, [f"memberOf {' and '.join(repr(e) for e in expressions)}: not translatable ({exc}); nodes are not narrowed"]
    out: list[dict] = []
    dropped: dict[str, str] = {}
    customs: set[str] = set()
    unconstrained = False
    for term in terms:
        requirements = []
        for literal in term:
            got = _requirement(literal)
            if isinstance(got, str):
                dropped.setdefault(show(literal), got)
                continue
            if got not in requirements:
                requirements.append(got)
            if got["key"] not in ATTRIBUTE_LABELS.values():
                customs.add(got["key"])
        if not requirements:
            unconstrained = True
        elif {"matchExpressions": requirements} not in out:
            out.append({"matchExpressions": requirements})
    for text in expressions:
        notes.append(f"ECS memberOf: {text}")
    for literal, why in dropped.items():
        notes.append(f"not translatable, left out: {literal} ({why}); the node affinity is wider than the ECS constraint")
    if customs:
        notes.append("label the nodes with the ECS instances' custom attributes: " + ", ".join(sorted(customs)))
    if any(r["key"] == ATTRIBUTE_LABELS["ecs.instance-type"] and len(r.get("values", ())) > 1 and r["operator"] in ("In", "NotIn")
           for t in out for r in t["matchExpressions"]) and any("=~" in show(lit) or "!~" in show(lit) for term in terms for lit in term):
        notes.append("the instance-type pattern is expanded over the instance types ecsctl knows; add any other type by hand")
    if unconstrained:
        notes.append("what is left constrains no node, so no node affinity is written")
        return None, notes
    return out, notes


def anti_affinity(selector: dict) -> Node:
    """``distinctInstance``: never two of these pods on one node."""
    return Node(podAntiAffinity=Node(requiredDuringSchedulingIgnoredDuringExecution=Items([
        Node(labelSelector=Node(matchLabels=dict(selector)), topologyKey=HOSTNAME)])))


def _spread_key(field: str) -> tuple[str | None, str]:
    if field.lower() in ("instanceid", "host"):
        return HOSTNAME, ""
    if field.startswith("attribute:"):
        return _label(field[len("attribute:"):])
    return None, f"no Kubernetes topology key for '{field}'"


def spread(strategies: list[dict] | None, selector: dict, *, fargate: bool) -> tuple[Items | None, list[str]]:
    """``topologySpreadConstraints`` for the placement strategies, and notes on what has none."""
    notes: list[str] = []
    if fargate:
        keys = [ZONE]
        notes.append("Fargate spreads a service's tasks over the availability zones of its subnets")
    elif strategies is None:
        keys = [ZONE, HOSTNAME]
        notes.append("ECS's placement for a service without placementStrategy: spread over availability zones, then instances")
    else:
        keys = []
        for s in strategies:
            kind, field = s.get("type"), str(s.get("field") or "")
            if kind == "spread":
                key, why = _spread_key(field)
                if key is None:
                    notes.append(f"not translatable: spread on {field} ({why})")
                elif key not in keys:
                    keys.append(key)
            elif kind == "binpack":
                notes.append(f"not translatable: binpack on {field or 'cpu/memory'} (the default Kubernetes scheduler spreads; "
                             "bin packing needs the NodeResourcesFit MostAllocated scoring strategy in the scheduler's configuration)")
            elif kind == "random":
                notes.append("not translatable: random placement (the Kubernetes scheduler scores nodes, it does not draw them)")
        if len(keys) > 1:
            notes.append("ECS applies its strategies in order; Kubernetes weighs all spread constraints together")
    if not keys:
        return None, notes
    notes.append("a placement strategy is a preference: whenUnsatisfiable ScheduleAnyway, maxSkew 1")
    items = Items(Node(maxSkew=1, topologyKey=key, whenUnsatisfiable="ScheduleAnyway",
                       labelSelector=Node(matchLabels=dict(selector))) for key in keys)
    return items, notes
