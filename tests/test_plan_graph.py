"""References and the step graph: tables of changes in, ordered steps with dependencies out."""

from __future__ import annotations

import itertools

import pytest

from ecsctl.core.plan.graph import PlanCycleError, build_steps, graph_text
from ecsctl.core.plan.model import Change, address
from ecsctl.core.plan.references import references
from ecsctl.errors import InputError

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/6d0ecf831eec9f09"
SM_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/web/db-Xk9fQ2:password::"

TASKDEF = {
    "family": "web",
    "containerDefinitions": [
        {
            "name": "web",
            "image": f"{ECR}/web:1.4.2",
            "secrets": [{"name": "DB_HOST", "valueFrom": "/prod/web/db-host"}, {"name": "DB_PASSWORD", "valueFrom": SM_ARN}],
            "environmentFiles": [{"value": "arn:aws:s3:::acme-prod-config/web/web.env", "type": "s3"}],
        }
    ],
}
SERVICE = {"cluster": "prod", "taskDefinition": "web", "desiredCount": 3, "loadBalancers": [{"targetGroupArn": TG_ARN}]}
CLUSTER = {"capacityProviders": ["FARGATE", "spot-ec2"]}


# --- references ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        ("Service", {"taskDefinition": "web"}, {"taskdef/web", "cluster/default"}),
        ("Service", {"cluster": "prod", "taskDefinition": "web:7"}, {"taskdef/web", "cluster/prod"}),
        (
            "Service",
            {"cluster": "arn:aws:ecs:eu-west-1:1:cluster/prod", "taskDefinition": "arn:aws:ecs:eu-west-1:1:task-definition/web:3"},
            {"taskdef/web", "cluster/prod"},
        ),
        ("Service", SERVICE, {"taskdef/web", "cluster/prod", "targetgroup/web"}),
        ("Service", {"cluster": "c", "loadBalancers": [{"targetGroupArn": "blue"}]}, {"cluster/c", "targetgroup/blue"}),
        (
            "Service",
            {"cluster": "c", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}, {"capacityProvider": "FARGATE_SPOT"}, {"capacityProvider": "ec2"}]},
            {"cluster/c", "capacityprovider/ec2"},
        ),
        ("TaskDefinition", {"containerDefinitions": [{"name": "a", "image": "nginx:1.27"}]}, set()),
        ("TaskDefinition", {"containerDefinitions": [{"name": "a", "image": f"{ECR}/team/api@sha256:abc"}]}, {'repository/"team/api"'}),
        ("TaskDefinition", {"containerDefinitions": [{"name": "a", "secrets": [{"name": "X", "valueFrom": "plain-name"}]}]}, {"parameter/plain-name"}),
        (
            "TaskDefinition",
            {"containerDefinitions": [{"name": "a", "secrets": [{"name": "X", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/prod/db"}]}]},
            {'parameter/"prod/db"', 'parameter/"/prod/db"'},
        ),
        (
            "TaskDefinition",
            TASKDEF,
            {
                "repository/web",
                'parameter/"/prod/web/db-host"',
                'secret/"prod/web/db"',
                'secret/"prod/web/db-Xk9fQ2"',
                "envfile/s3://acme-prod-config/web/web.env",
            },
        ),
        (
            "TaskDefinition",
            {"containerDefinitions": [{"name": "a", "logConfiguration": {"secretOptions": [{"name": "k", "valueFrom": "arn:aws:secretsmanager:r:1:secret:splunk"}]}}]},
            {"secret/splunk"},
        ),
        ("Cluster", CLUSTER, {"capacityprovider/spot-ec2"}),
        ("Cluster", {"defaultCapacityProviderStrategy": [{"capacityProvider": "cp1"}]}, {"capacityprovider/cp1"}),
        ("ScheduledTask", {"target": {"cluster": "prod", "taskDefinition": "report"}}, {"cluster/prod", "taskdef/report"}),
        ("ScheduledTask", {"target": {"taskDefinition": "report:2"}}, {"cluster/default", "taskdef/report"}),
        ("Parameter", {"type": "String"}, set()),
        ("Service", None, set()),
    ],
)
def test_references(kind: str, spec: dict, expected: set[str]) -> None:
    assert references(kind, spec) == expected


# --- the step graph --------------------------------------------------------------


def ch(action: str, kind: str, name: str, *, before: dict | None = None, after: dict | None = None) -> Change:
    spec = after if after is not None else before
    return Change(address(kind, name, spec), kind, name, action, before, after)


def create(kind: str, name: str, spec: dict | None = None) -> Change:
    return ch("create", kind, name, after=spec or {})


def delete(kind: str, name: str, spec: dict | None = None) -> Change:
    return ch("delete", kind, name, before=spec or {})


FROM_EMPTY = [
    create("Service", "web", SERVICE),
    create("TaskDefinition", "web", TASKDEF),
    create("Cluster", "prod", CLUSTER),
    create("TargetGroup", "web", {"port": 8080}),
    create("Parameter", "/prod/web/db-host"),
    create("Secret", "prod/web/db"),
    create("EnvironmentFile", "web-env", {"bucket": "acme-prod-config", "key": "web/web.env"}),
    create("Repository", "web"),
    create("CapacityProvider", "spot-ec2"),
    create("ScheduledTask", "nightly", {"target": {"cluster": "prod", "taskDefinition": "web"}}),
]


def ids(steps) -> list[str]:
    return [s.id for s in steps]


def test_creates_run_parents_first_in_kind_order() -> None:
    assert ids(build_steps(FROM_EMPTY, set())) == [
        'create parameter/"/prod/web/db-host"',
        'create secret/"prod/web/db"',
        "create envfile/web-env",
        "create repository/web",
        "create capacityprovider/spot-ec2",
        "create cluster/prod",
        "create targetgroup/web",
        "create taskdef/web",
        "create service/prod/web",
        "create scheduledtask/nightly",
    ]


def test_graph_of_creates() -> None:
    assert graph_text(build_steps(FROM_EMPTY, set())) == (
        "create capacityprovider/spot-ec2\n"
        "create cluster/prod -> create capacityprovider/spot-ec2\n"
        "create envfile/web-env\n"
        'create parameter/"/prod/web/db-host"\n'
        "create repository/web\n"
        "create scheduledtask/nightly -> create cluster/prod, create taskdef/web\n"
        'create secret/"prod/web/db"\n'
        "create service/prod/web -> create cluster/prod, create targetgroup/web, create taskdef/web\n"
        "create targetgroup/web\n"
        'create taskdef/web -> create envfile/web-env, create parameter/"/prod/web/db-host", create repository/web, create secret/"prod/web/db"\n'
    )


def test_order_does_not_depend_on_input_order() -> None:
    expected = build_steps(FROM_EMPTY, set())
    for perm in itertools.islice(itertools.permutations(FROM_EMPTY), 0, 5000, 997):
        assert build_steps(list(perm), set()) == expected
    assert build_steps(list(reversed(FROM_EMPTY)), set()) == expected


def test_deletes_run_children_first() -> None:
    deletes = [delete(c.kind, c.name, c.after) for c in FROM_EMPTY]
    steps = build_steps(deletes, set())
    assert ids(steps) == [
        "delete scheduledtask/nightly",
        "delete service/prod/web",
        "delete taskdef/web",
        "delete targetgroup/web",
        "delete cluster/prod",
        "delete capacityprovider/spot-ec2",
        "delete repository/web",
        "delete envfile/web-env",
        'delete secret/"prod/web/db"',
        'delete parameter/"/prod/web/db-host"',
    ]
    by_id = {s.id: s for s in steps}
    assert by_id["delete cluster/prod"].depends_on == ("delete scheduledtask/nightly", "delete service/prod/web")
    assert by_id["delete taskdef/web"].depends_on == ("delete scheduledtask/nightly", "delete service/prod/web")
    assert by_id["delete scheduledtask/nightly"].depends_on == ()
    assert all(s.spec is None and s.before is not None for s in steps)


def test_delete_waits_for_the_update_that_stops_referring_to_it() -> None:
    changes = [
        delete("TaskDefinition", "old"),
        ch("update", "Service", "web", before={**SERVICE, "taskDefinition": "old"}, after=SERVICE),
        create("TaskDefinition", "web"),
    ]
    assert graph_text(build_steps(changes, set())) == (
        "create taskdef/web\n"
        "delete taskdef/old -> update service/prod/web\n"
        "update service/prod/web -> create taskdef/web\n"
    )
    assert ids(build_steps(changes, set())) == ["create taskdef/web", "update service/prod/web", "delete taskdef/old"]


def test_a_replace_is_one_step_between_what_it_needs_and_what_it_frees() -> None:
    before = {**SERVICE, "loadBalancers": [{"targetGroupArn": "old"}]}
    changes = [
        ch("replace", "Service", "web", before=before, after=SERVICE),
        create("TargetGroup", "web"),
        delete("TargetGroup", "old"),
    ]
    steps = build_steps(changes, set())
    assert ids(steps) == ["create targetgroup/web", "replace service/prod/web", "delete targetgroup/old"]
    replace = steps[1]
    assert (replace.action, replace.spec, replace.before, replace.depends_on) == ("replace", SERVICE, before, ("create targetgroup/web",))
    assert steps[2].depends_on == ("replace service/prod/web",)


def test_no_ops_have_no_step_and_unchanged_references_add_no_edge() -> None:
    changes = [ch("no-op", "Cluster", "prod", before={}, after={}), create("Service", "web", SERVICE)]
    assert graph_text(build_steps(changes, {"cluster/prod", "taskdef/web"})) == "create service/prod/web\n"


def test_depends_on_is_transitively_reduced() -> None:
    refs = {"b": {"kind/a"}, "c": {"kind/a", "kind/b"}}
    changes = [Change(f"kind/{n}", "Cluster", n, "create", None, {"n": n}) for n in "abc"]
    steps = build_steps(changes, set(), refs=lambda kind, spec: refs.get(spec["n"], set()))
    assert graph_text(steps) == "create kind/a\ncreate kind/b -> create kind/a\ncreate kind/c -> create kind/b\n"


def test_a_cycle_is_refused_and_named() -> None:
    refs = {"a": {"cluster/b"}, "b": {"cluster/c"}, "c": {"cluster/a"}}
    changes = [Change(f"cluster/{n}", "Cluster", n, "create", None, {"n": n}) for n in "cab"]
    with pytest.raises(PlanCycleError) as err:
        build_steps(changes, set(), refs=lambda kind, spec: refs[spec["n"]])
    assert isinstance(err.value, InputError)
    assert str(err.value).endswith("create cluster/a -> create cluster/b -> create cluster/c -> create cluster/a")


def test_empty() -> None:
    assert build_steps([], set()) == []
    assert graph_text([]) == ""
