"""Service (E3xxx/W3xxx) and cluster/capacity-provider (E4xxx) rules on whole multi-document runs.

Each case changes a few fields of one document of a valid world (a cluster, a
capacity provider, two task definitions, two target groups and two services),
writes the run as YAML into tmp_path and validates it with ``Validator``.  The
valid world yields no E3/W3/E4 finding; each failing case yields its rule.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from ecsctl.app.validate import Validator
from ecsctl.core.manifest.document import Document, Locator, Position
from ecsctl.core.rules import all_rules
from ecsctl.core.rules.context import RuleContext

DROP = object()
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-inst/6d0ecf831eec9f09"
AWSVPC = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}

WORLD = {
    ("Cluster", "prod"): {
        "capacityProviders": ["FARGATE", "FARGATE_SPOT", "asg"],
        "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
        "containerInstances": [{"name": "general", "count": 2, "instanceType": "m5.large", "availabilityZone": "eu-west-1a"}],
    },
    ("CapacityProvider", "asg"): {
        "autoScalingGroupProvider": {
            "autoScalingGroup": {"minSize": 0, "maxSize": 4, "desiredCapacity": 1, "instanceType": "m5.large"},
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100, "minimumScalingStepSize": 1, "maximumScalingStepSize": 10},
            "managedTerminationProtection": "ENABLED",
        },
    },
    ("TaskDefinition", "web"): {
        "family": "web", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
        "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "portMappings": [{"containerPort": 80}]}],
    },
    ("TaskDefinition", "worker"): {
        "family": "worker", "requiresCompatibilities": ["EC2"], "networkMode": "bridge",
        "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "memory": 256,
                                  "portMappings": [{"containerPort": 80, "hostPort": 0}, {"containerPort": 443, "hostPort": 443}]}],
    },
    ("TargetGroup", "web-ip"): {"port": 80, "protocol": "HTTP", "targetType": "ip", "healthCheck": {"path": "/"}},
    ("TargetGroup", "web-inst"): {"port": 80, "protocol": "HTTP", "targetType": "instance", "healthCheck": {"port": "traffic-port"}},
    ("Service", "web"): {
        "cluster": "prod", "taskDefinition": "web", "desiredCount": 2, "launchType": "FARGATE",
        "networkConfiguration": AWSVPC,
        "loadBalancers": [{"targetGroupArn": "web-ip", "containerName": "web", "containerPort": 80}],
        "healthCheckGracePeriodSeconds": 30,
        "deploymentConfiguration": {"minimumHealthyPercent": 50, "maximumPercent": 200},
    },
    ("Service", "bridge"): {
        "cluster": "prod", "taskDefinition": "worker:3", "desiredCount": 2, "launchType": "EC2",
        "loadBalancers": [{"targetGroupArn": TG_ARN, "containerName": "web", "containerPort": 80}],
        "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}],
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*"}, {"type": "distinctInstance"}],
    },
}

MINE = ("E3", "W3", "E4")


def mutate(world: dict, kind: str, name: str, changes: dict) -> dict:
    world = copy.deepcopy(world)
    spec = world.setdefault((kind, name), {})
    for key, value in changes.items():
        if value is DROP:
            spec.pop(key, None)
        else:
            spec[key] = value
    return world


def write_world(tmp_path, world: dict) -> str:
    docs = [{"apiVersion": "ecsctl/v1", "kind": k, "metadata": {"name": n}, "spec": s} for (k, n), s in world.items()]
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def validator():
    return Validator()


def findings(validator, tmp_path, world, prefixes=MINE):
    report = validator.validate([write_world(tmp_path, world)])
    return [f for f in report.findings if f.rule.startswith(prefixes)]


def direct(world: dict, rule_id: str, kind: str, name: str) -> list[str]:
    """Messages of one rule on one document, without the JSON Schema in front of it."""
    docs = [Document(file="run.yaml", index=i, data={"spec": spec}, locator=Locator(None, Position(1, 1)), kind=k, name=n,
                     spec=copy.deepcopy(spec), spec_path=("spec",)) for i, ((k, n), spec) in enumerate(world.items())]
    ctx = RuleContext(docs)
    target = ctx.get(kind, name)
    return [message for _, message in all_rules()[rule_id]().check(target.spec, target, ctx)]


def assert_case(validator, tmp_path, world, kind, name, rule, fragment, prefixes=MINE):
    report = validator.validate([write_world(tmp_path, world)])
    got = [f for f in report.findings if f.rule.startswith(prefixes)]
    if rule is None:
        assert got == [] and not [f for f in report.findings if f.rule.startswith("E1")], [(f.rule, f.message) for f in report.findings]
        return
    messages = [f.message for f in got if f.rule == rule]
    if not any(fragment in m for m in messages) and any(f.rule.startswith("E1") for f in report.findings):
        # the JSON Schema refused the field first (some limits live in both; the rule's finding on
        # that field is left out as a repeat): check the rule on its own
        messages = direct(world, rule, kind, name)
    assert messages, f"expected {rule}, got {[(f.rule, f.message) for f in report.findings]}"
    assert any(fragment in m for m in messages), messages


def test_valid_world_has_no_findings(validator, tmp_path):
    assert findings(validator, tmp_path, WORLD) == []


CASES = [
    # id, kind, name, changes, rule, fragment
    ("td-missing", "Service", "web", {"taskDefinition": "webb"}, "E3001", "task definition 'webb' is not among"),
    ("td-did-you-mean", "Service", "web", {"taskDefinition": "wrker:3"}, "E3001", "(did you mean 'worker'?)"),
    ("cluster-did-you-mean", "Service", "web", {"cluster": "prd"}, "E3002", "cluster 'prd' is not among the validated documents (did you mean 'prod'?)"),
    ("tg-did-you-mean", "Service", "web", {"loadBalancers": [{"targetGroupArn": "web-iq", "containerName": "web", "containerPort": 80}]}, "E3003", "(did you mean 'web-ip'?)"),
    ("td-arn-ok", "Service", "web", {"taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7"}, None, None),
    ("cluster-missing", "Service", "web", {"cluster": "prodd"}, "E3002", "cluster 'prodd'"),
    ("cluster-default", "Service", "web", {"cluster": DROP}, "E3002", "runs in 'default'"),
    ("cluster-arn-ok", "Service", "web", {"cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"}, None, None),
    ("tg-missing", "Service", "web", {"loadBalancers": [{"targetGroupArn": "nope", "containerName": "web", "containerPort": 80}]}, "E3003", "target group 'nope'"),
    ("awsvpc-no-net", "Service", "web", {"networkConfiguration": DROP}, "E3004", "Network Configuration must be provided when networkMode 'awsvpc' is specified."),
    ("bridge-with-net", "Service", "bridge", {"networkConfiguration": AWSVPC}, "E3005",
     "Network Configuration is not valid for the given networkMode of this task definition ('bridge'"),
    ("public-ip-ec2", "Service", "web", {"launchType": "EC2", "networkConfiguration": {"awsvpcConfiguration": {
        "subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}}}, "E3021", "Assign public IP is not supported for this launch type (EC2"),
    ("public-ip-asg", "Service", "web", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "asg", "weight": 1}],
                                         "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}}},
     "E3021", "Assign public IP is not supported"),
    ("public-ip-fargate-ok", "Service", "web", {"launchType": "FARGATE", "networkConfiguration": {"awsvpcConfiguration": {
        "subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}}}, None, None),
    ("both-launch", "Service", "web", {"capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]}, "E3006", "Specifying both a launch type"),
    ("fargate-ec2-td", "Service", "bridge", {"launchType": "FARGATE", "placementStrategy": DROP, "placementConstraints": DROP}, "E3007", "not compatible with FARGATE"),
    ("fargate-daemon", "Service", "web", {"schedulingStrategy": "DAEMON", "desiredCount": DROP}, "E3007", "supports only the REPLICA"),
    ("daemon-count", "Service", "bridge", {"schedulingStrategy": "DAEMON"}, "E3008", "remove desiredCount"),
    ("daemon-strategy", "Service", "bridge", {"schedulingStrategy": "DAEMON", "desiredCount": DROP}, "E3008", "placement strategies are not supported"),
    ("daemon-max", "Service", "bridge", {"schedulingStrategy": "DAEMON", "desiredCount": DROP, "placementStrategy": DROP,
                                         "deploymentConfiguration": {"maximumPercent": 200}}, "E3008", "maximumPercent must be 100"),
    ("daemon-scaling", "Service", "bridge", {"schedulingStrategy": "DAEMON", "desiredCount": DROP, "placementStrategy": DROP,
                                             "autoScaling": {"minCapacity": 1, "maxCapacity": 2}}, "E3008", "Service Auto Scaling is not supported"),
    ("daemon-ok", "Service", "bridge", {"schedulingStrategy": "DAEMON", "desiredCount": DROP, "placementStrategy": DROP,
                                        "deploymentConfiguration": {"maximumPercent": 100, "minimumHealthyPercent": 0}}, None, None),
    ("too-many-strategies", "Service", "bridge", {"placementStrategy": [{"type": "random"}] * 6}, "E3009", "at most 5"),
    ("binpack-field", "Service", "bridge", {"placementStrategy": [{"type": "binpack", "field": "instanceId"}]}, "E3009", "binpack takes field 'cpu' or 'memory'"),
    ("spread-field", "Service", "bridge", {"placementStrategy": [{"type": "spread", "field": "az"}]}, "E3009", "spread takes field"),
    ("random-field", "Service", "bridge", {"placementStrategy": [{"type": "random", "field": "cpu"}]}, "E3009", "random takes no field"),
    ("bad-type", "Service", "bridge", {"placementStrategy": [{"type": "pack", "field": "cpu"}]}, "E3009", "binpack, spread or random"),
    ("spread-host-ok", "Service", "bridge", {"placementStrategy": [{"type": "spread", "field": "host"}, {"type": "random"}]}, None, None),
    ("fargate-placement", "Service", "web", {"placementConstraints": [{"type": "distinctInstance"}]}, "E3010", "not supported on Fargate"),
    ("distinct-expr", "Service", "bridge", {"placementConstraints": [{"type": "distinctInstance", "expression": "x"}]}, "E3011", "distinctInstance takes no expression"),
    ("memberof-missing", "Service", "bridge", {"placementConstraints": [{"type": "memberOf"}]}, "E3011", "memberOf needs an expression"),
    ("memberof-bad-cql", "Service", "bridge", {"placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type = t3.large"}]},
     "E3011", "column 29"),
    ("too-many-constraints", "Service", "bridge", {"placementConstraints": [{"type": "memberOf", "expression": "agentConnected == true"}] * 11},
     "E3011", "at most 10"),
    ("lb-container", "Service", "web", {"loadBalancers": [{"targetGroupArn": "web-ip", "containerName": "api", "containerPort": 80}]}, "E3012", "container 'api' is not in"),
    ("lb-port", "Service", "web", {"loadBalancers": [{"targetGroupArn": "web-ip", "containerName": "web", "containerPort": 8080}]}, "E3012", "no port mapping for containerPort 8080 (it maps: 80)"),
    ("awsvpc-instance-tg", "Service", "web", {"loadBalancers": [{"targetGroupArn": "web-inst", "containerName": "web", "containerPort": 80}]}, "E3013", "targetType 'ip'"),
    ("bridge-ip-tg", "Service", "bridge", {"loadBalancers": [{"targetGroupArn": "web-ip", "containerName": "web", "containerPort": 443}]}, "E3013", "targetType 'instance'"),
    ("static-port-ok", "TargetGroup", "web-inst", {"healthCheck": {"port": "8080"}}, "E3014", "must be 'traffic-port', not '8080'"),
    ("lb-limit", "Service", "web", {"loadBalancers": [{"targetGroupArn": "web-ip", "containerName": "web", "containerPort": 80}] * 6}, "E3015", "at most 5 target groups"),
    ("grace-no-lb", "Service", "web", {"loadBalancers": DROP}, "E3015", "healthCheckGracePeriodSeconds is only valid"),
    ("min-over-100", "Service", "web", {"deploymentConfiguration": {"minimumHealthyPercent": 150, "maximumPercent": 300}}, "W3016", "between 0 and 100"),
    ("max-under-100", "Service", "web", {"deploymentConfiguration": {"minimumHealthyPercent": 0, "maximumPercent": 90}}, "W3016", "at least 100"),
    ("stuck-1", "Service", "web", {"desiredCount": 1, "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 100}},
     "W3017", "lower minimumHealthyPercent to 0 or raise maximumPercent to 200"),
    ("stuck-3", "Service", "web", {"desiredCount": 3, "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 125}},
     "W3017", "unable to stop or start tasks during a deployment because of the service deployment configuration with desiredCount 3"),
    ("stuck-in-range", "Service", "web", {"desiredCount": 4, "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 125},
                                          "autoScaling": {"minCapacity": 2, "maxCapacity": 6}}, "W3017", "sets the desired count to 2"),
    ("one-at-a-time-ok", "Service", "web", {"desiredCount": 4, "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 125}}, None, None),
    ("desired-below-min", "Service", "web", {"desiredCount": 1, "autoScaling": {"minCapacity": 2, "maxCapacity": 4}}, "W3018", "below autoScaling.minCapacity 2"),
    ("desired-above-max", "Service", "web", {"desiredCount": 9, "autoScaling": {"minCapacity": 2, "maxCapacity": 4}}, "W3018", "above autoScaling.maxCapacity 4"),
    ("cps-ok", "Service", "web", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                                                                                  {"capacityProvider": "FARGATE_SPOT", "weight": 3}]}, None, None),
    ("cps-two-bases", "Service", "web", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                                                                                         {"capacityProvider": "FARGATE_SPOT", "base": 2, "weight": 1}]},
     "E3019", "Only 1 capacity provider in a capacity provider strategy can have a nonzero base."),
    ("cps-no-weight", "Service", "web", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "base": 1}]}, "E3019", "weight greater than 0"),
    ("cps-mixed", "Service", "bridge", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1},
                                                                                        {"capacityProvider": "asg", "weight": 1}]}, "E3019",
     "A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers."),
    ("cps-unknown", "Service", "bridge", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "spot-asg", "weight": 1}]}, "E3019", "neither FARGATE"),
    ("cps-not-associated", "Cluster", "prod", {"capacityProviders": ["FARGATE", "asg"], "defaultCapacityProviderStrategy": DROP}, None, None),
    # CapacityProviderStrategyItem: "a maximum of 20 capacity providers" (the 2023 guide said 6)
    ("cps-twenty-one", "Service", "web", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}] * 21}, "E3019", "at most 20"),
    # clusters and capacity providers
    ("group-dup", "Cluster", "prod", {"containerInstances": [{"name": "general", "count": 1}, {"name": "general", "count": 2}]}, "E4001", "defined twice"),
    ("type-unsized", "Cluster", "prod", {"containerInstances": [{"name": "gpu", "count": 1, "instanceType": "g2.2xlarge",
                                                                 "availabilityZone": "us-east-1a"}]}, "E4005", "give the group's cpu and memory"),
    ("type-typo", "Cluster", "prod", {"containerInstances": [{"name": "g", "count": 1, "instanceType": "m5.lage",
                                                              "availabilityZone": "us-east-1a"}]}, "E4005", "did you mean m5.large"),
    ("type-sized", "Cluster", "prod", {"containerInstances": [{"name": "gpu", "count": 1, "instanceType": "g2.2xlarge", "cpu": 8192,
                                                               "memory": 14900, "availabilityZone": "us-east-1a"}]}, None, None),
    ("cluster-unknown-cp", "Cluster", "prod", {"capacityProviders": ["FARGATE", "nope"]}, "E4002", "'nope' is neither"),
    ("default-not-associated", "Cluster", "prod", {"capacityProviders": ["FARGATE"], "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]},
     "E4002", "not associated with the cluster"),
    ("cp-reserved-ecs", "CapacityProvider", "ecs-general", WORLD[("CapacityProvider", "asg")], "E4006",
     "capacity provider name 'ecs-general' (metadata.name): The specified capacity provider name is invalid. "
     "The name cannot be prefixed with \"aws\", \"ecs\", or \"fargate\""),
    ("cp-reserved-fargate", "CapacityProvider", "Fargate-spot-2", WORLD[("CapacityProvider", "asg")], "E4006",
     "name 'Fargate-spot-2' (metadata.name): The specified"),
    ("cp-name-ok", "CapacityProvider", "general-ecs", WORLD[("CapacityProvider", "asg")], None, None),
    ("asg-min-max", "CapacityProvider", "asg", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 3, "maxSize": 2}}}, "E4003", "minSize 3 is greater than maxSize 2"),
    ("asg-desired", "CapacityProvider", "asg", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 0, "maxSize": 2, "desiredCapacity": 5}}}, "E4003", "above maxSize 2"),
    ("asg-max-zero", "CapacityProvider", "asg", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 0, "maxSize": 0}}}, "E4003", "greater than 0"),
    ("asg-steps", "CapacityProvider", "asg", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 0, "maxSize": 2},
                                                                          "managedScaling": {"status": "ENABLED", "minimumScalingStepSize": 5, "maximumScalingStepSize": 2}}},
     "E4003", "minimumScalingStepSize 5"),
    ("asg-type-unsized", "CapacityProvider", "asg", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 0, "maxSize": 2, "instanceType": "g2.2xlarge"}}},
     "E4005", "give the Auto Scaling group's cpu and memory"),
    ("asg-type-sized", "CapacityProvider", "asg", {"autoScalingGroupProvider": {"autoScalingGroup": {
        "minSize": 0, "maxSize": 2, "instanceType": "g2.2xlarge", "cpu": 8192, "memory": 14900}}}, None, None),
    ("mtp-no-scaling", "CapacityProvider", "asg", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 0, "maxSize": 2},
                                                                               "managedScaling": {"status": "DISABLED"}, "managedTerminationProtection": "ENABLED"}},
     "E4004", "requires managed scaling"),
]


def test_associated_provider_missing_from_cluster(validator, tmp_path):
    world = mutate(WORLD, "Cluster", "prod", {"capacityProviders": ["FARGATE"], "defaultCapacityProviderStrategy": DROP})
    world = mutate(world, "Service", "web", {"launchType": DROP, "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]})
    got = findings(validator, tmp_path, world)
    assert [(f.rule, f.pointer) for f in got] == [("E3019", "/spec/capacityProviderStrategy/0/capacityProvider")]
    assert "not associated with the cluster" in got[0].message


@pytest.mark.parametrize("status, refused", [("ENABLED", True), ("DISABLED", False)])
def test_a_managed_scaling_provider_belongs_to_one_cluster(validator, tmp_path, status, refused):
    """Reference §7.1: with managed scaling on, a provider can be attached to only one cluster."""
    world = mutate(WORLD, "Cluster", "prod2", {"capacityProviders": ["asg"]})
    asg = copy.deepcopy(world[("CapacityProvider", "asg")])
    asg["autoScalingGroupProvider"]["managedScaling"]["status"] = status
    asg["autoScalingGroupProvider"].pop("managedTerminationProtection")
    world = mutate(world, "CapacityProvider", "asg", asg)
    got = [f for f in findings(validator, tmp_path, world) if f.rule == "E4002"]
    if not refused:
        assert got == []
        return
    (hit,) = got
    assert hit.pointer == "/spec/capacityProviders/0"  # of prod2: the first cluster keeps it
    assert "already associated with cluster 'prod'" in hit.message


@pytest.mark.parametrize("case, kind, name, changes, rule, fragment", CASES, ids=[c[0] for c in CASES])
def test_rule(validator, tmp_path, case, kind, name, changes, rule, fragment):
    assert_case(validator, tmp_path, mutate(WORLD, kind, name, changes), kind, name, rule, fragment)


def test_cql_error_points_at_the_expression(validator, tmp_path):
    world = mutate(WORLD, "Service", "bridge", {"placementConstraints": [{"type": "memberOf", "expression": "foo == bar"}]})
    (hit,) = findings(validator, tmp_path, world)
    assert hit.pointer == "/spec/placementConstraints/0/expression"
    assert hit.message.startswith("invalid expression at column 1:")


def test_references_are_not_checked_without_documents_of_that_kind(validator, tmp_path):
    """A pre-commit run over one changed file: missing kinds give W3020, never E3001-E3003."""
    world = {key: spec for key, spec in WORLD.items() if key[0] not in ("Cluster", "TargetGroup")}
    got = findings(validator, tmp_path, world, prefixes=("E30", "W30"))
    rules = {f.rule for f in got}
    assert "W3020" in rules and not rules & {"E3001", "E3002", "E3003"}
    assert any("cluster 'prod' not checked" in f.message for f in got)


TESTED_ELSEWHERE = {"W3020": test_references_are_not_checked_without_documents_of_that_kind}


@pytest.mark.parametrize("rule_id", sorted(r for r in all_rules() if r.startswith(MINE)))
def test_every_rule_has_cases_and_explains_itself(rule_id):
    cls = all_rules()[rule_id]
    assert any(c[4] == rule_id for c in CASES) or rule_id in TESTED_ELSEWHERE
    text = cls.explanation()
    assert "Bad" in text and "Good" in text and len(text.splitlines()) > 5


ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/worker"
WITH_ECR = mutate(WORLD, "TaskDefinition", "worker", {"containerDefinitions": [
    {"name": "web", "image": ECR + ":1.4.2", "memory": 256, "secrets": [{"name": "DB", "valueFrom": "/prod/db-host"}],
     "portMappings": [{"containerPort": 80, "hostPort": 0}]}], "executionRoleArn": "arn:aws:iam::123456789012:role/exec"})


@pytest.mark.parametrize("catalogue, fragment", [
    ({}, None),  # nothing declared: the images and parameters live outside what ecsctl manages
    ({("Repository", "worker"): {"images": ["1.4.1", "1.4.2"]}}, None),
    ({("Repository", "worker"): {}}, None),  # a Repository without images holds any tag
    ({("Repository", "worker"): {"images": ["1.4.1"]}}, "CannotPullContainerError: pull image manifest has been retried 5 "
                                                        "time(s): failed to resolve ref " + ECR + ":1.4.2"),
    ({("Repository", "other"): {"images": ["1"]}}, "repository worker does not exist"),
    ({("Parameter", "/prod/db-host"): {"type": "String"}}, None),
    ({("Parameter", "/prod/other"): {"type": "String"}}, "ParameterNotFound: invalid parameters: /prod/db-host"),
])
def test_a_task_that_would_stop_at_start_is_a_warning(validator, tmp_path, catalogue, fragment):
    """W2068: what the plan forecasts as a task stopping at start (the catalogue checks of
    ``core.deploy.failures``), warned of by validate where the run declares that catalogue."""
    world = {**copy.deepcopy(WITH_ECR), **catalogue}
    report = validator.validate([write_world(tmp_path, world)])
    assert report.errors == 0, [(f.rule, f.message) for f in report.findings]
    got = [f for f in report.findings if f.rule == "W2068"]
    if fragment is None:
        assert got == []
    else:
        [hit] = got
        assert fragment in hit.message and hit.message.startswith("container 'web': its tasks would stop at start:")


@pytest.mark.parametrize("kind, name", [("Service", "web"), ("Cluster", "prod")])
def test_the_aws_tag_prefix_is_reserved_on_services_and_clusters_too(validator, tmp_path, kind, name):
    """CreateService's and CreateCluster's tags: "Do not use aws:, AWS:, or any upper or lowercase
    combination of such as a prefix" (a helper's trial found them passing; task definitions did not)."""
    world = mutate(WORLD, kind, name, {"tags": [{"key": "AWS:team", "value": "a"}]})
    assert_case(validator, tmp_path, world, kind, name, "E2008", "uses the reserved prefix 'aws:'", prefixes=("E2008",))
