"""diff(): actions, field paths, replace rules, ordering, and "reordering is not a change"."""

from __future__ import annotations

import copy
import glob
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.normalize import canonical
from ecsctl.core.plan.diff import KIND_ORDER, REPLACE_RULES, diff, diff_fields, format_path
from ecsctl.core.plan.model import ACTIONS, Desired, FieldChange, address
from test_normalize import service, shuffle, task_definition

ROOT = Path(__file__).resolve().parent.parent


def want(kind: str, name: str, spec: dict) -> Desired:
    c = canonical(kind, name, spec)
    return Desired(address(kind, name, c), kind, name, c)


def have(kind: str, name: str, spec: dict) -> dict[str, tuple[str, str, dict]]:
    c = canonical(kind, name, spec)
    return {address(kind, name, c): (kind, name, c)}


def one(kind: str, before: dict, after: dict, name: str = "web"):
    changes = diff([want(kind, name, after)], have(kind, name, before))
    assert len(changes) == 1
    return changes[0]


def TD(**extra) -> dict:
    spec = {
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "512",
        "memory": "1024",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "command": ["serve", "--port", "8080"],
                "entryPoint": ["/init"],
                "dnsServers": ["10.0.0.2", "10.0.0.3"],
                "portMappings": [{"containerPort": 8080}, {"containerPort": 9090, "protocol": "udp"}],
                "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}],
                "secrets": [{"name": "S1", "valueFrom": "/p/1"}, {"name": "S2", "valueFrom": "/p/2"}],
                "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}, {"sourceVolume": "logs", "containerPath": "/logs"}],
            },
            {"name": "sidecar", "image": "envoy:1", "essential": False},
        ],
        "volumes": [{"name": "data"}, {"name": "logs"}],
    }
    spec.update(extra)
    return spec


def SVC(**extra) -> dict:
    spec = {
        "cluster": "prod",
        "taskDefinition": "web",
        "desiredCount": 3,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2", "subnet-3"], "securityGroups": ["sg-1", "sg-2"]}},
        "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}],
    }
    spec.update(extra)
    return spec


def edit(spec: dict, fn) -> dict:
    out = copy.deepcopy(spec)
    fn(out)
    return out


def c0(spec):
    return spec["containerDefinitions"][0]


# ------------------------------------------------------------------ no change


def _example_resources():
    out = []
    for path in sorted(glob.glob(str(ROOT / "manifests" / "*.yaml"))):
        for doc in yaml.safe_load_all(Path(path).read_text()):
            if doc:
                out.append((doc["kind"], doc["metadata"]["name"], doc["spec"]))
    return out


def test_unchanged_example_stack_is_all_no_op():
    resources = _example_resources()
    desired = [want(k, n, s) for k, n, s in resources]
    current: dict = {}
    for k, n, s in resources:
        current.update(have(k, n, s))
    changes = diff(desired, current)
    assert len(changes) == len(resources)
    assert {c.action for c in changes} == {"no-op"}
    assert all(c.fields == () and c.reason == "" for c in changes)


NO_CHANGE = [
    ("reorder environment", "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["environment"].reverse())),
    ("reorder secrets", "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["secrets"].reverse())),
    ("reorder port mappings", "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["portMappings"].reverse())),
    ("reorder mount points", "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["mountPoints"].reverse())),
    ("reorder containers", "TaskDefinition", TD(), edit(TD(), lambda s: s["containerDefinitions"].reverse())),
    ("reorder volumes", "TaskDefinition", TD(), edit(TD(), lambda s: s["volumes"].reverse())),
    ("vCPU units", "TaskDefinition", TD(), TD(cpu="0.5 vCPU", memory="1GB")),
    ("integer units", "TaskDefinition", TD(), TD(cpu=512, memory=1024)),
    ("explicit defaults", "TaskDefinition", TD(), edit(TD(), lambda s: c0(s).update(essential=True, cpu=0))),
    ("explicit protocol and hostPort", "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["portMappings"][0].update(protocol="tcp", hostPort=8080))),
    ("empty list is absent", "TaskDefinition", TD(), edit(TD(), lambda s: s["containerDefinitions"][1].update(environment=[], mountPoints=[]))),
    ("explicit family", "TaskDefinition", TD(), TD(family="web")),
    ("reorder subnets", "Service", SVC(), edit(SVC(), lambda s: s["networkConfiguration"]["awsvpcConfiguration"]["subnets"].reverse())),
    ("reorder security groups", "Service", SVC(), edit(SVC(), lambda s: s["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"].reverse())),
    ("cluster ARN", "Service", SVC(), SVC(cluster="arn:aws:ecs:eu-west-1:123456789012:cluster/prod")),
    ("explicit service defaults", "Service", SVC(), SVC(schedulingStrategy="REPLICA", deploymentController={"type": "ECS"}, deploymentConfiguration={"maximumPercent": 200}, healthCheckGracePeriodSeconds=0, platformVersion="LATEST")),
    ("int vs float", "Service", SVC(autoScaling={"minCapacity": 1, "maxCapacity": 3, "targetTracking": [{"policyName": "cpu", "targetValue": 60}]}),
     SVC(autoScaling={"minCapacity": 1, "maxCapacity": 3, "targetTracking": [{"policyName": "cpu", "targetValue": 60.0, "scaleInCooldown": 300}]})),
]


@pytest.mark.parametrize("label, kind, before, after", NO_CHANGE, ids=[c[0] for c in NO_CHANGE])
def test_equivalent_edits_are_no_op(label, kind, before, after):
    change = one(kind, before, after)
    assert change.action == "no-op", change.fields
    assert change.fields == ()


# ------------------------------------------------------------------ real changes, with their paths

CHANGES = [
    (
        "reorder command",
        "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["command"].reverse()),
        [FieldChange(("containerDefinitions", "web", "command"), "change", ["serve", "--port", "8080"], ["8080", "--port", "serve"])],
    ),
    (
        "reorder dnsServers",
        "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["dnsServers"].reverse()),
        [FieldChange(("containerDefinitions", "web", "dnsServers"), "change", ["10.0.0.2", "10.0.0.3"], ["10.0.0.3", "10.0.0.2"])],
    ),
    (
        "env value",
        "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["environment"][1].update(value="20")),
        [FieldChange(("containerDefinitions", "web", "environment", "B", "value"), "change", "2", "20")],
    ),
    (
        "env added",
        "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["environment"].insert(0, {"name": "AA", "value": "0"})),
        [FieldChange(("containerDefinitions", "web", "environment", "AA"), "add", None, {"name": "AA", "value": "0"})],
    ),
    (
        "secret removed",
        "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["secrets"].pop(0)),
        [FieldChange(("containerDefinitions", "web", "secrets", "S1"), "remove", {"name": "S1", "valueFrom": "/p/1"}, None)],
    ),
    (
        "image",
        "TaskDefinition", TD(), edit(TD(), lambda s: s["containerDefinitions"][1].update(image="envoy:2")),
        [FieldChange(("containerDefinitions", "sidecar", "image"), "change", "envoy:1", "envoy:2")],
    ),
    (
        "port mapping protocol",
        "TaskDefinition", TD(), edit(TD(), lambda s: c0(s)["portMappings"][1].update(protocol="tcp")),
        [
            FieldChange(("containerDefinitions", "web", "portMappings", "9090/tcp"), "add", None, {"containerPort": 9090, "hostPort": 9090, "protocol": "tcp"}),
            FieldChange(("containerDefinitions", "web", "portMappings", "9090/udp"), "remove", {"containerPort": 9090, "hostPort": 9090, "protocol": "udp"}, None),
        ],
    ),
    (
        "task memory",
        "TaskDefinition", TD(), TD(memory="2 GB"),
        [FieldChange(("memory",), "change", "1024", "2048")],
    ),
    (
        "container added",
        "TaskDefinition", TD(), edit(TD(), lambda s: s["containerDefinitions"].append({"name": "xray", "image": "xray:3"})),
        [FieldChange(("containerDefinitions", "xray"), "add", None, {"name": "xray", "image": "xray:3", "essential": True, "cpu": 0})],
    ),
    (
        "reorder placementStrategy",
        "Service", SVC(), edit(SVC(), lambda s: s["placementStrategy"].reverse()),
        [
            FieldChange(("placementStrategy", 0, "field"), "change", "attribute:ecs.availability-zone", "memory"),
            FieldChange(("placementStrategy", 0, "type"), "change", "spread", "binpack"),
            FieldChange(("placementStrategy", 1, "field"), "change", "memory", "attribute:ecs.availability-zone"),
            FieldChange(("placementStrategy", 1, "type"), "change", "binpack", "spread"),
        ],
    ),
    (
        "subnet added",
        "Service", SVC(), edit(SVC(), lambda s: s["networkConfiguration"]["awsvpcConfiguration"]["subnets"].insert(0, "subnet-0")),
        [FieldChange(("networkConfiguration", "awsvpcConfiguration", "subnets"), "change", ["subnet-1", "subnet-2", "subnet-3"], ["subnet-0", "subnet-1", "subnet-2", "subnet-3"])],
    ),
    (
        "target value",
        "Service", SVC(autoScaling={"minCapacity": 1, "maxCapacity": 3, "targetTracking": [{"policyName": "cpu", "targetValue": 60}]}),
        SVC(autoScaling={"minCapacity": 1, "maxCapacity": 3, "targetTracking": [{"policyName": "cpu", "targetValue": 60.5}]}),
        [FieldChange(("autoScaling", "targetTracking", "cpu", "targetValue"), "change", 60, 60.5)],
    ),
    (
        "desired count",
        "Service", SVC(), SVC(desiredCount=5),
        [FieldChange(("desiredCount",), "change", 3, 5)],
    ),
]


@pytest.mark.parametrize("label, kind, before, after, fields", CHANGES, ids=[c[0] for c in CHANGES])
def test_changes_and_their_paths(label, kind, before, after, fields):
    change = one(kind, before, after)
    assert change.action == "update"
    assert list(change.fields) == fields


def test_duplicate_names_fall_back_to_indexes():
    before = {"containerDefinitions": [{"name": "w", "image": "x", "environment": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}]}
    after = edit(before, lambda s: c0(s)["environment"][1].update(value="3"))
    fields = diff_fields("TaskDefinition", canonical("TaskDefinition", "w", before), canonical("TaskDefinition", "w", after))
    assert fields == (FieldChange(("containerDefinitions", "w", "environment", 1, "value"), "change", "2", "3"),)


def test_whole_field_added_and_removed():
    before = canonical("Service", "web", SVC())
    after = canonical("Service", "web", SVC(tags=[{"key": "team", "value": "x"}]))
    assert diff_fields("Service", before, after) == (FieldChange(("tags",), "add", None, [{"key": "team", "value": "x"}]),)
    assert diff_fields("Service", after, before) == (FieldChange(("tags",), "remove", [{"key": "team", "value": "x"}], None),)


@pytest.mark.parametrize(
    "kind, path, text",
    [
        ("TaskDefinition", ("containerDefinitions", "web", "environment", "PORT", "value"), "containerDefinitions[web].environment[PORT].value"),
        ("TaskDefinition", ("containerDefinitions", "web", "portMappings", "8080/tcp", "hostPort"), "containerDefinitions[web].portMappings[8080/tcp].hostPort"),
        ("TaskDefinition", ("containerDefinitions", "web", "environment", 1, "value"), "containerDefinitions[web].environment[1].value"),
        ("TaskDefinition", ("containerDefinitions", "web", "logConfiguration", "options", "awslogs-group"), "containerDefinitions[web].logConfiguration.options.awslogs-group"),
        ("TaskDefinition", ("cpu",), "cpu"),
        ("Service", ("placementStrategy", 0, "type"), "placementStrategy[0].type"),
        ("Service", ("autoScaling", "targetTracking", "cpu70", "targetValue"), "autoScaling.targetTracking[cpu70].targetValue"),
        ("Cluster", ("containerInstances", "general-a", "attributes", "tier"), "containerInstances[general-a].attributes.tier"),
    ],
)
def test_format_path(kind, path, text):
    assert format_path(kind, path) == text


# ------------------------------------------------------------------ actions

TG = {"port": 8080, "protocol": "HTTP", "targetType": "ip", "healthCheck": {"path": "/healthz"}}

ACTION_CASES = [
    ("Service launchType", "Service", SVC(), SVC(launchType="EC2"), "replace", (("launchType",),)),
    ("Service schedulingStrategy", "Service", SVC(), SVC(schedulingStrategy="DAEMON"), "replace", (("schedulingStrategy",),)),
    ("Service deploymentController", "Service", SVC(), SVC(deploymentController={"type": "CODE_DEPLOY"}), "replace", (("deploymentController",),)),
    (
        "Service launch type to strategy",
        "Service", SVC(), {**{k: v for k, v in SVC().items() if k != "launchType"}, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]},
        "replace", (("launchType",), ("capacityProviderStrategy",)),
    ),
    (
        "Service strategy weights",
        "Service", SVC(launchType=None, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}]),
        SVC(launchType=None, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 2}]), "update", (),
    ),
    ("Service desiredCount", "Service", SVC(), SVC(desiredCount=9), "update", ()),
    ("Service task definition", "Service", SVC(), SVC(taskDefinition="web:7"), "update", ()),
    ("TargetGroup port", "TargetGroup", TG, {**TG, "port": 9090}, "replace", (("port",),)),
    ("TargetGroup protocol", "TargetGroup", TG, {**TG, "protocol": "HTTPS"}, "replace", (("protocol",),)),
    ("TargetGroup targetType", "TargetGroup", TG, {**TG, "targetType": "instance"}, "replace", (("targetType",),)),
    ("TargetGroup health check", "TargetGroup", TG, {**TG, "healthCheck": {"path": "/ready"}}, "update", ()),
    ("Cluster capacity providers", "Cluster", {"capacityProviders": ["FARGATE"]}, {"capacityProviders": ["FARGATE", "FARGATE_SPOT"]}, "update", ()),
    ("TaskDefinition network mode", "TaskDefinition", TD(), TD(networkMode="bridge"), "update", ()),
    ("Parameter type", "Parameter", {"type": "String"}, {"type": "SecureString"}, "update", ()),
]


@pytest.mark.parametrize("label, kind, before, after, action, replace_paths", ACTION_CASES, ids=[c[0] for c in ACTION_CASES])
def test_actions(label, kind, before, after, action, replace_paths):
    change = one(kind, before, after)
    assert change.action == action
    assert change.replace_paths == replace_paths
    assert change.fields, "a change always says which fields changed"
    if action == "replace":
        assert change.reason.startswith("forces replacement: ")
        assert all(format_path(kind, p) in change.reason for p in replace_paths)


def test_task_definition_change_registers_a_revision():
    change = one("TaskDefinition", TD(), TD(cpu="1 vCPU", memory="2GB"))
    assert change.action == "update"
    assert change.reason == "its spec changed; revisions are immutable"
    assert change.replace_paths == ()
    assert "TaskDefinition" not in REPLACE_RULES


def test_create_and_delete():
    created = diff([want("TaskDefinition", "web", TD())], {})
    assert [(c.address, c.action, c.before is None, c.after == canonical("TaskDefinition", "web", TD())) for c in created] == [("taskdef/web", "create", True, True)]
    deleted = diff([], have("Service", "web", SVC()))
    assert [(c.address, c.action, c.after, c.before["cluster"]) for c in deleted] == [("service/prod/web", "delete", None, "prod")]
    assert created[0].reason and deleted[0].reason


def test_moving_a_service_to_another_cluster_is_delete_and_create():
    changes = diff([want("Service", "web", SVC(cluster="staging"))], have("Service", "web", SVC()))
    assert [(c.address, c.action) for c in changes] == [("service/prod/web", "delete"), ("service/staging/web", "create")]


def test_state_from_an_older_canonical_form_is_not_a_change():
    # A state spec written before some defaults existed (not canonical by today's rules).
    old = {"taskDefinition": "web", "cluster": "prod", "desiredCount": 3, "launchType": "FARGATE"}
    changes = diff([want("Service", "web", old)], {"service/prod/web": ("Service", "web", old)})
    assert [c.action for c in changes] == ["no-op"]


def test_order_is_by_kind_then_address_and_does_not_depend_on_input_order():
    resources = [
        ("Service", "web", SVC()),
        ("Service", "api", SVC(cluster="alpha")),
        ("TaskDefinition", "web", TD()),
        ("Cluster", "prod", {}),
        ("Parameter", "/prod/x", {}),
        ("Secret", "prod/db", {"keys": ["a"]}),
        ("ScheduledTask", "nightly", {"scheduleExpression": "rate(1 day)", "target": {"taskDefinition": "web"}}),
        ("TargetGroup", "web", TG),
        ("Repository", "web", {"images": ["1"]}),
        ("EnvironmentFile", "web-env", {"bucket": "b", "key": "k"}),
        ("CapacityProvider", "cp", {}),
    ]
    desired = [want(*r) for r in resources]
    a = diff(desired, {})
    b = diff(list(reversed(desired)), {})
    assert a == b
    assert [c.kind for c in a] == sorted((c.kind for c in a), key=KIND_ORDER.index)
    assert [c.address for c in a if c.kind == "Service"] == ["service/alpha/api", "service/prod/web"]
    assert [c.kind for c in a][:2] == ["Parameter", "Secret"]


def test_duplicate_desired_addresses_are_refused():
    with pytest.raises(ValueError, match="taskdef/web"):
        diff([want("TaskDefinition", "web", TD()), want("TaskDefinition", "web", TD(cpu="1024"))], {})


def test_every_action_is_a_known_action():
    changes = diff(
        [want("TaskDefinition", "web", TD()), want("Service", "web", SVC(desiredCount=4)), want("TargetGroup", "web", {**TG, "port": 1})],
        {**have("TaskDefinition", "web", TD()), **have("Service", "web", SVC()), **have("TargetGroup", "web", TG), **have("Cluster", "old", {})},
    )
    assert {c.action for c in changes} == {"no-op", "update", "replace", "delete"}
    assert all(c.action in ACTIONS for c in changes)


# ------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None)
@given(data=st.data(), kind_spec=st.one_of(st.tuples(st.just("TaskDefinition"), task_definition), st.tuples(st.just("Service"), service)))
def test_shuffled_spec_diffs_to_no_op(data, kind_spec):
    kind, spec = kind_spec
    base = canonical(kind, "web", spec)
    moved = canonical(kind, "web", shuffle(data.draw, kind, spec))
    addr = address(kind, "web", base)
    changes = diff([Desired(addr, kind, "web", moved)], {addr: (kind, "web", base)})
    assert [(c.action, c.fields) for c in changes] == [("no-op", ())]


@settings(max_examples=150, deadline=None)
@given(a=task_definition, b=task_definition)
def test_no_op_exactly_when_canonical_forms_are_equal(a, b):
    ca, cb = canonical("TaskDefinition", "web", a), canonical("TaskDefinition", "web", b)
    [change] = diff([Desired("taskdef/web", "TaskDefinition", "web", cb)], {"taskdef/web": ("TaskDefinition", "web", ca)})
    assert (change.action == "no-op") == (ca == cb)
    if change.action != "no-op":
        assert change.action == "update" and change.fields
        for f in change.fields:
            assert f.op in ("add", "remove", "change")
            assert (f.before is None) == (f.op == "add") and (f.after is None) == (f.op == "remove")


def test_a_sealed_state_shows_the_manifest_value_of_a_field_only_sealing_changes():
    """A stored raw value that today's rules seal differs from the sealed manifest only there:
    the change shown carries the manifest's own value, not its digest (review of the diff's
    equal-subtree short cut)."""
    import secrets

    from ecsctl.core.plan.diff import diff_fields
    from ecsctl.core.sensitive import Sealer

    seal = Sealer(secrets.token_bytes(32))
    spec = {"family": "web", "containerDefinitions": [{"name": "web", "image": "i", "environment": [
        {"name": "DB_PASSWORD", "value": "hunter2"}]}]}
    changes = diff_fields("TaskDefinition", spec, spec, seal)
    assert [(c.path, c.after) for c in changes] == [
        (("containerDefinitions", "web", "environment", "DB_PASSWORD", "value"), "hunter2")]


_leaf = st.one_of(st.integers(-2, 2), st.sampled_from([0.0, 1.0, 60.0, 60, True, False, None, "a", "b"]))
_json = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.sampled_from("pqrs"), inner, max_size=4)),
                     max_leaves=12)


def _differing_reference(a, b, path):
    """The literal rule: two dicts are compared whole as JSON values, and descended when unequal."""
    from ecsctl.core.plan.diff import MISSING, _equal
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys(), key=str):
            x, y = a.get(key, MISSING), b.get(key, MISSING)
            if x is MISSING or y is MISSING:
                yield path + (key,)
            elif not _equal(x, y):
                yield from _differing_reference(x, y, path + (key,))
    else:
        yield path


@settings(max_examples=400, deadline=None)
@given(a=st.dictionaries(st.sampled_from("pqrs"), _json, max_size=4), b=st.dictionaries(st.sampled_from("pqrs"), _json, max_size=4))
def test_differing_paths_match_comparing_each_dict_whole(a, b):
    """``_differing`` descends two dicts without comparing them whole first; the paths it finds
    are those of comparing whole (60 and 60.0 equal, a bool never a number)."""
    from ecsctl.core.plan.diff import _differing
    assert list(_differing(a, b, ())) == list(_differing_reference(a, b, ()))
    tweaked = copy.deepcopy(a)
    tweaked.setdefault("p", {})
    assert list(_differing(a, tweaked, ())) == list(_differing_reference(a, tweaked, ()))
