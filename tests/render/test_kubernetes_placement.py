"""ECS placement as Kubernetes scheduling.

Worked examples from the ECS "Cluster query language" page
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html);
the property evaluates random expressions both ways, with ecsctl's CQL evaluator and with
Kubernetes' node-affinity semantics (``In``/``NotIn``/``Exists``/``DoesNotExist`` on
node labels, terms OR-ed, expressions AND-ed): the affinity never refuses a node ECS would
take, and with nothing left out it takes exactly the same nodes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.render.kubernetes import placement
from ecsctl.core.render.kubernetes.placement import HOSTNAME, ZONE, node_affinity, spread
from ecsctl.core.scheduling import cql

TYPE = "node.kubernetes.io/instance-type"


def req(key, op, *values):
    r = {"key": key, "operator": op}
    if values:
        r["values"] = list(values)
    return r


EXAMPLES = [
    ("attribute:ecs.instance-type == t2.small", [[req(TYPE, "In", "t2.small")]]),
    ("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", [[req(ZONE, "In", "us-east-1a", "us-east-1b")]]),
    ("attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d",
     [[req(TYPE, "In", "t2.large", "t2.medium", "t2.micro", "t2.small"), req(ZONE, "NotIn", "us-east-1d")]]),
    ("not(attribute:ecs.instance-type =~ t2.*)", [[req(TYPE, "NotIn", "t2.large", "t2.medium", "t2.micro", "t2.small")]]),
    ("attribute:ecs.os-type == linux", [[req("kubernetes.io/os", "In", "linux")]]),
    ("attribute:ecs.cpu-architecture == x86_64", [[req("kubernetes.io/arch", "In", "amd64")]]),
    ("attribute:stack exists", [[req("stack", "Exists")]]),
    ("attribute:stack == prod or attribute:tier == general", [[req("stack", "In", "prod")], [req("tier", "In", "general")]]),
    ("not(attribute:stack == prod or attribute:tier == general)", [[req("stack", "NotIn", "prod"), req("tier", "NotIn", "general")]]),
    ("attribute:generation >= 5", [[req("generation", "Gt", "4")]]),
]


@pytest.mark.parametrize("expression, terms", EXAMPLES, ids=[e for e, _ in EXAMPLES])
def test_translatable_expressions(expression, terms):
    got, notes = node_affinity([expression])
    assert [t["matchExpressions"] for t in got] == terms
    assert not any("not translatable" in n for n in notes)


NOT_TRANSLATABLE = [
    ("task:group == service:production", "pod affinity"),
    ("ec2InstanceId in ['i-abcd1234', 'i-wxyz7890']", "EC2 instance id"),
    ("agentVersion < 1.14.5", "agent version"),
    ("runningTasksCount == 1", "how many pods"),
    ("attribute:ecs.ami-id == ami-1234", "AMI"),
    ("attribute:color =~ bl.*", "regular expressions"),
]


@pytest.mark.parametrize("expression, why", NOT_TRANSLATABLE, ids=[e for e, _ in NOT_TRANSLATABLE])
def test_untranslatable_expressions_say_so_and_constrain_nothing(expression, why):
    got, notes = node_affinity([expression])
    assert got is None
    assert any("not translatable" in n and why in n for n in notes), notes


def test_a_partly_translatable_and_keeps_the_rest_and_says_it_is_wider():
    got, notes = node_affinity(["attribute:ecs.availability-zone == us-east-1a and not(task:group == service:db)"])
    assert [t["matchExpressions"] for t in got] == [[req(ZONE, "In", "us-east-1a")]]
    assert any("task:group != service:db" in n and "wider" in n for n in notes)


def test_several_constraints_are_and_ed():
    got, _ = node_affinity(["attribute:tier == general", "attribute:ecs.availability-zone in [a, b]"])
    assert [t["matchExpressions"] for t in got] == [[req("tier", "In", "general"), req(ZONE, "In", "a", "b")]]


def test_spread_strategies():
    selector = {"app.kubernetes.io/name": "web"}
    items, notes = spread([{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "spread", "field": "instanceId"},
                           {"type": "binpack", "field": "memory"}], selector, fargate=False)
    assert [(i["topologyKey"], i["whenUnsatisfiable"], i["maxSkew"]) for i in items] == [(ZONE, "ScheduleAnyway", 1), (HOSTNAME, "ScheduleAnyway", 1)]
    assert any("binpack" in n for n in notes) and any("in order" in n for n in notes)
    default, notes = spread(None, selector, fargate=False)
    assert [i["topologyKey"] for i in default] == [ZONE, HOSTNAME] and any("without placementStrategy" in n for n in notes)
    fargate, _ = spread(None, selector, fargate=True)
    assert [i["topologyKey"] for i in fargate] == [ZONE]
    none, notes = spread([{"type": "random"}], selector, fargate=False)
    assert none is None and any("random" in n for n in notes)


def test_distinct_instance_is_anti_affinity_on_the_hostname():
    anti = placement.anti_affinity({"app.kubernetes.io/name": "web"})
    (term,) = anti["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term == {"labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "topologyKey": HOSTNAME}


# --- property ---------------------------------------------------------------------------------

ZONES = ["a", "b", "c"]
TIERS = ["general", "batch"]
ATTRS = {"ecs.availability-zone": ZONES, "tier": TIERS}


def _predicate(draw_attr, op, values):
    if op in ("exists", "not_exists"):
        return f"attribute:{draw_attr} {op}"
    if op in ("in", "not_in"):
        return f"attribute:{draw_attr} {op} [{', '.join(values)}]"
    return f"attribute:{draw_attr} {op} {values[0]}"


LEAF = st.one_of(
    st.builds(lambda attr, op, data: _predicate(attr, op, data),
              st.sampled_from(sorted(ATTRS)), st.sampled_from(["==", "!=", "in", "not_in", "exists", "not_exists"]),
              st.lists(st.sampled_from(ZONES + TIERS), min_size=1, max_size=2, unique=True)),
    st.just("task:group == service:db"),
)
EXPR = st.recursive(LEAF, lambda inner: st.one_of(
    st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
    st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    st.builds(lambda a: f"not({a})", inner)), max_leaves=5)
NODE = st.fixed_dictionaries({
    "zone": st.sampled_from(ZONES), "tier": st.one_of(st.none(), st.sampled_from(TIERS)), "db": st.booleans()})


def _k8s_matches(terms, labels: dict) -> bool:
    if terms is None:
        return True

    def one(r):
        present, value = r["key"] in labels, labels.get(r["key"])
        return {"In": present and value in r.get("values", ()), "NotIn": not present or value not in r.get("values", ()),
                "Exists": present, "DoesNotExist": not present}[r["operator"]]

    return any(all(one(r) for r in t["matchExpressions"]) for t in terms)


@settings(max_examples=400, deadline=None)
@given(EXPR, NODE)
def test_affinity_never_refuses_a_node_ecs_takes(expression, node):
    attributes = {"ecs.availability-zone": node["zone"]}
    if node["tier"] is not None:
        attributes["tier"] = node["tier"]
    view = {"attributes": attributes, "taskGroups": {"service:db"} if node["db"] else set()}
    labels = {ZONE: node["zone"], **({"tier": node["tier"]} if node["tier"] is not None else {})}
    ecs = cql.evaluate(cql.parse(expression), view)
    terms, notes = node_affinity([expression])
    if ecs:
        assert _k8s_matches(terms, labels), (expression, terms)
    if "task:group" not in expression:
        assert _k8s_matches(terms, labels) == ecs, (expression, terms, notes)
