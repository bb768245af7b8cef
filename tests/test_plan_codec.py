"""Saved plans round-trip, the -o json view keeps its shape, sensitive values are masked."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.plan.codec import (
    SENSITIVE,
    manifests_hash,
    mask_field_value,
    mask_value,
    plan_from_json,
    plan_json_view,
    plan_to_json,
)
from ecsctl.core.plan.model import ACTIONS, FORMAT_VERSION, Change, Drift, FieldChange, Plan, Step
from ecsctl.errors import InputError

ENV = [{"name": "DB_NAME", "value": "storefront"}, {"name": "DB_PASSWORD", "value": "hunter2"}]
SPEC = {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "environment": ENV}]}


def sample_plan() -> Plan:
    after = {**SPEC, "cpu": "512"}
    return Plan(
        lineage="5b1e8c1a-0000-4000-8000-000000000001",
        serial=7,
        manifests_hash="sha256:abc",
        changes=[
            Change(
                "taskdef/web", "TaskDefinition", "web", "update", SPEC, after,
                fields=(
                    FieldChange(("cpu",), "add", None, "512"),
                    FieldChange(("containerDefinitions", 0, "environment", 1, "value"), "change", "hunter2", "hunter3"),
                ),
                reason="task definition changed",
            ),
            Change("service/prod/web", "Service", "web", "replace", {"launchType": "EC2"}, {"launchType": "FARGATE"},
                   fields=(FieldChange(("launchType",), "change", "EC2", "FARGATE"),), replace_paths=(("launchType",),)),
            Change("cluster/prod", "Cluster", "prod", "no-op", {}, {}),
        ],
        steps=[
            Step("update taskdef/web", "update", "taskdef/web", "TaskDefinition", "web", after, SPEC),
            Step("replace service/prod/web", "replace", "service/prod/web", "Service", "web", {"launchType": "FARGATE"},
                 {"launchType": "EC2"}, depends_on=("update taskdef/web",)),
        ],
        drift=[Drift("service/prod/web", "desiredCount", 3, 5, "auto scaling")],
        deployments=[{"service": "service/prod/web", "from": "web:3", "to": "web:4", "steps": [{"stopOld": 0, "startNew": 2}], "outcome": "complete"}],
    )


def through_file(plan: Plan) -> Plan:
    return plan_from_json(json.loads(json.dumps(plan_to_json(plan))))


# --- saved plans -------------------------------------------------------------------


def test_round_trip_keeps_everything() -> None:
    plan = sample_plan()
    back = through_file(plan)
    assert back == plan
    assert back.changes[0].fields[1].path == ("containerDefinitions", 0, "environment", 1, "value")
    assert back.changes[1].replace_paths == (("launchType",),)


@pytest.mark.parametrize(
    "value",
    [
        (1, "a"),
        {"$tuple": [1]},
        {"$dict": {"x": 1}},
        {1: "int key", 2: (3, 4)},
        [(), [()], {"k": ()}],
        {"$ref": "x", "other": 1},
        1.5,
        None,
    ],
)
def test_round_trip_of_awkward_values(value) -> None:
    plan = Plan(None, 0, "h", drift=[Drift("a/b", "f", value, [value], "r")])
    assert through_file(plan) == plan


scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
paths = st.tuples(st.text(max_size=3), st.integers(0, 3))
changes = st.builds(
    Change,
    address=st.text(min_size=1, max_size=8),
    kind=st.sampled_from(["Service", "TaskDefinition", "Cluster"]),
    name=st.text(max_size=5),
    action=st.sampled_from(ACTIONS),
    before=st.none() | st.dictionaries(st.text(max_size=3), values, max_size=3),
    after=st.none() | st.dictionaries(st.text(max_size=3), values, max_size=3),
    fields=st.lists(st.builds(FieldChange, paths, st.sampled_from(["add", "remove", "change"]), values, values), max_size=3).map(tuple),
    replace_paths=st.lists(paths, max_size=2).map(tuple),
    reason=st.text(max_size=5),
)
plans = st.builds(
    Plan,
    lineage=st.none() | st.text(max_size=8),
    serial=st.integers(0, 1000),
    manifests_hash=st.text(max_size=8),
    changes=st.lists(changes, max_size=3),
    drift=st.lists(st.builds(Drift, st.text(max_size=5), st.text(max_size=5), values, values, st.text(max_size=5)), max_size=2),
    deployments=st.lists(st.dictionaries(st.text(max_size=4), values, max_size=3), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(plans)
def test_round_trip_property(plan: Plan) -> None:
    assert through_file(plan) == plan


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**plan_to_json(sample_plan()), "format_version": FORMAT_VERSION + 1}, "format version 2 is not supported"),
        ({**plan_to_json(sample_plan()), "format_version": "1.0"}, "format version '1.0' is not supported"),
        ({"lineage": None}, "not an ecsctl plan file"),
        ([1, 2], "not an ecsctl plan file"),
        ({"format_version": FORMAT_VERSION, "lineage": None}, "damaged plan file: KeyError"),
        ({**plan_to_json(sample_plan()), "changes": [{"address": "x"}]}, "damaged plan file"),
    ],
)
def test_unusable_plan_files_are_refused(data, message: str) -> None:
    with pytest.raises(InputError, match=message):
        plan_from_json(data)


# --- manifests_hash ------------------------------------------------------------------


def test_manifests_hash_is_stable_and_order_independent() -> None:
    files = {"b.yaml": b"kind: Service\n", "a.yaml": b"kind: Cluster\n"}
    h = manifests_hash(files)
    assert h == manifests_hash(dict(reversed(list(files.items()))))
    # pinned: a saved plan made by one version of ecsctl must still match the same files in the next
    assert h == "sha256:2b03a9ea88787e24a35468653e4d0bcb0d0eb38a0bf8084feea00e85e2523a71"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"a.yaml": b"x"}, {"a.yaml": b"y"}),
        ({"a.yaml": b"x"}, {"b.yaml": b"x"}),
        ({"a.yaml": b"xy"}, {"a.yamlx": b"y"}),
        ({"a": b"", "b": b""}, {"a": b""}),
    ],
)
def test_manifests_hash_differs_when_names_or_contents_do(a, b) -> None:
    assert manifests_hash(a) != manifests_hash(b)


def test_manifests_hash_of_nothing_is_sha256_of_nothing() -> None:
    assert manifests_hash({}) == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --- the -o json view ----------------------------------------------------------------


def test_json_view_shape() -> None:
    view = plan_json_view(sample_plan())
    assert list(view) == ["format_version", "lineage", "serial", "changes", "steps", "drift", "deployments", "placement", "capacity", "reconcile", "summary"]
    assert [list(c) for c in view["changes"]] == [["address", "kind", "name", "action", "reason", "fields", "replace_paths"]] * 3
    assert view["changes"][0]["fields"] == [
        {"path": "/cpu", "op": "add", "before": None, "after": "512"},
        {"path": "/containerDefinitions/0/environment/1/value", "op": "change", "before": SENSITIVE, "after": SENSITIVE},
    ]
    assert view["changes"][1]["replace_paths"] == ["/launchType"]
    assert view["steps"] == [
        {"id": "update taskdef/web", "action": "update", "address": "taskdef/web", "depends_on": []},
        {"id": "replace service/prod/web", "action": "replace", "address": "service/prod/web", "depends_on": ["update taskdef/web"]},
    ]
    assert view["drift"] == [{"address": "service/prod/web", "field": "desiredCount", "expected": 3, "actual": 5, "reason": "auto scaling"}]
    assert view["deployments"] == sample_plan().deployments
    assert view["summary"] == {"create": 0, "update": 1, "replace": 1, "delete": 0, "no_op": 1, "reconcile": 0}
    json.dumps(view)  # plain JSON data


def test_json_view_shows_sensitive_values_on_request() -> None:
    fields = plan_json_view(sample_plan(), show_sensitive=True)["changes"][0]["fields"]
    assert fields[1]["before"] == "hunter2" and fields[1]["after"] == "hunter3"


def test_json_view_escapes_pointer_segments() -> None:
    plan = Plan(None, 0, "h", changes=[Change("a/b", "Cluster", "b", "update", {}, {}, fields=(FieldChange(("a/b", "c~d"), "add", None, 1),))])
    assert plan_json_view(plan)["changes"][0]["fields"][0]["path"] == "/a~1b/c~0d"


# --- masking -------------------------------------------------------------------------

AKIA = "AKIAIOSFODNN7EXAMPLE"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nginx:1.27", "nginx:1.27"),
        (AKIA, SENSITIVE),
        (f"key={AKIA};", SENSITIVE),
        ("AKIA-not-a-key", "AKIA-not-a-key"),
        (PEM, SENSITIVE),
        ("-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----"),
        (3, 3),
        (
            {"environment": [{"name": "API_TOKEN", "value": "t"}, {"name": "db_password", "value": "p"}, {"name": "LOG_LEVEL", "value": "debug"}]},
            {"environment": [{"name": "API_TOKEN", "value": SENSITIVE}, {"name": "db_password", "value": SENSITIVE}, {"name": "LOG_LEVEL", "value": "debug"}]},
        ),
        (
            {"environment": {"AWS_SECRET_ACCESS_KEY": "s", "AuthHeader": "h", "X_CREDENTIALS": "c", "PORT": "80"}},
            {"environment": {"AWS_SECRET_ACCESS_KEY": SENSITIVE, "AuthHeader": SENSITIVE, "X_CREDENTIALS": SENSITIVE, "PORT": "80"}},
        ),
        (
            {"secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:r:1:secret:prod/db-Xk9fQ2:password::"}]},
            {"secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:r:1:secret:prod/db-Xk9fQ2:password::"}]},
        ),
        ({"containerDefinitions": [{"environment": [{"name": "KEY", "value": "k"}]}]}, {"containerDefinitions": [{"environment": [{"name": "KEY", "value": SENSITIVE}]}]}),
        ({"command": ["echo", AKIA]}, {"command": ["echo", SENSITIVE]}),
        ({"environment": [{"name": "PASSWORD"}]}, {"environment": [{"name": "PASSWORD"}]}),
    ],
)
def test_mask_value(value, expected) -> None:
    assert mask_value(value) == expected


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("containerDefinitions", 0, "environment", 1, "value"), "hunter2", SENSITIVE),
        (("containerDefinitions", 0, "environment", 0, "value"), "storefront", "storefront"),
        (("containerDefinitions", "web", "environment", "DB_PASSWORD", "value"), "hunter2", SENSITIVE),
        (("containerDefinitions", "web", "environment", "DB_PASSWORD"), "hunter2", SENSITIVE),
        (("containerDefinitions", "web", "environment", "DB_PASSWORD"), {"name": "DB_PASSWORD", "value": "x"}, {"name": "DB_PASSWORD", "value": SENSITIVE}),
        (("containerDefinitions", 0, "environment", 1), {"name": "DB_PASSWORD", "value": "x"}, {"name": "DB_PASSWORD", "value": SENSITIVE}),
        (("containerDefinitions", 0, "environment"), ENV, [ENV[0], {"name": "DB_PASSWORD", "value": SENSITIVE}]),
        (("containerDefinitions", 0, "environment", 9, "value"), "unknown entry", "unknown entry"),
        (("containerDefinitions", 0, "environment", 9, "value"), AKIA, SENSITIVE),
        (("containerDefinitions", 0, "image"), "nginx", "nginx"),
        (("containerDefinitions", 0), SPEC["containerDefinitions"][0], mask_value(SPEC["containerDefinitions"][0])),
        (("containerDefinitions", 0, "environment", 1, "value"), None, None),
    ],
)
def test_mask_field_value(path, value, expected) -> None:
    assert mask_field_value(path, value, SPEC) == expected


def test_masking_does_not_change_its_input() -> None:
    spec = json.loads(json.dumps(SPEC))
    mask_value(spec)
    assert spec == SPEC
