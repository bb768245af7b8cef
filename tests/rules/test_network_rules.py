"""Security-group rules (E8xxx/W8xxx) on whole multi-document runs.

The valid world: an ALB security group, the instances' group admitting it on the
ECS-optimized AMI's ephemeral range (32768–61000, ECS "Use an Application Load
Balancer") and on a static host port, awsvpc tasks admitting it on their container
port, target groups naming the ALB's group, and three services behind them (bridge
with a dynamic host port, bridge with a static one, awsvpc).  Each case breaks one
piece; the fix text is what ECS users are told to add.
"""

from __future__ import annotations

import copy

import pytest

from tests.rules.test_service_rules import DROP, mutate, write_world

ALB = {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}
FROM_ALB = [{"groupId": "sg-0a1b2c3d4e5f60700"}]

WORLD = {
    ("SecurityGroup", "alb"): {"groupId": "sg-0a1b2c3d4e5f60700", "description": "public ALB", "ipPermissions": [ALB]},
    ("SecurityGroup", "instances"): {
        "groupId": "sg-0a1b2c3d4e5f60701",
        "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 32768, "toPort": 61000, "userIdGroupPairs": FROM_ALB},
            {"ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443, "userIdGroupPairs": [{"groupName": "alb"}]},
        ],
    },
    ("SecurityGroup", "api-tasks"): {
        "groupId": "sg-0a1b2c3d4e5f60702",
        "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "userIdGroupPairs": [{"groupId": "alb"}]}],
    },
    ("Cluster", "prod"): {
        "containerInstances": [
            {"name": "general", "count": 2, "instanceType": "m5.large", "availabilityZone": "eu-west-1a",
             "attributes": {"tier": "general"}, "securityGroups": ["sg-0a1b2c3d4e5f60701"]},
            {"name": "batch", "count": 1, "instanceType": "c5.large", "availabilityZone": "eu-west-1b",
             "attributes": {"tier": "batch"}, "securityGroups": ["sg-0a1b2c3d4e5f60701"]},
        ],
    },
    ("TaskDefinition", "dynamic"): {
        "requiresCompatibilities": ["EC2"], "networkMode": "bridge",
        "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memory": 256, "portMappings": [{"containerPort": 80, "hostPort": 0}]}],
    },
    ("TaskDefinition", "static"): {
        "requiresCompatibilities": ["EC2"], "networkMode": "bridge",
        "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memory": 256, "portMappings": [{"containerPort": 443, "hostPort": 8443}]}],
    },
    ("TaskDefinition", "api"): {
        "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
        "containerDefinitions": [{"name": "api", "image": "nginx:1.27", "portMappings": [{"containerPort": 8080}]}],
    },
    ("TargetGroup", "dynamic"): {"port": 80, "protocol": "HTTP", "targetType": "instance", "securityGroups": ["alb"]},
    ("TargetGroup", "static"): {"port": 443, "protocol": "HTTPS", "targetType": "instance", "securityGroups": ["alb"]},
    ("TargetGroup", "api"): {"port": 8080, "protocol": "HTTP", "targetType": "ip", "securityGroups": ["sg-0a1b2c3d4e5f60700"]},
    ("Service", "dynamic"): {
        "cluster": "prod", "taskDefinition": "dynamic", "desiredCount": 2, "launchType": "EC2",
        "loadBalancers": [{"targetGroupArn": "dynamic", "containerName": "app", "containerPort": 80}],
    },
    ("Service", "static"): {
        "cluster": "prod", "taskDefinition": "static", "desiredCount": 2, "launchType": "EC2",
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:tier == general"}],
        "loadBalancers": [{"targetGroupArn": "static", "containerName": "app", "containerPort": 443}],
    },
    ("Service", "api"): {
        "cluster": "prod", "taskDefinition": "api", "desiredCount": 2, "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["api-tasks"]}},
        "loadBalancers": [{"targetGroupArn": "api", "containerName": "api", "containerPort": 8080}],
    },
}

MINE = ("E8", "W8")


def run(validator, tmp_path, world):
    report = validator.validate([write_world(tmp_path, world)])
    schema = [f for f in report.findings if f.rule.startswith("E1") or f.rule.startswith("E0")]
    assert not schema, [(f.rule, f.message) for f in schema]
    return [f for f in report.findings if f.rule.startswith(MINE)]


@pytest.fixture(scope="module")
def validator():
    from ecsctl.app.validate import Validator

    return Validator()


def test_valid_world_has_no_findings(validator, tmp_path):
    report = validator.validate([write_world(tmp_path, WORLD)])
    assert report.errors == 0 and report.warnings == 0, [(f.rule, f.message) for f in report.findings]


def _instances_rules(*permissions):
    return {"ipPermissions": list(permissions)}


CASES = [
    # id, (kind, name, changes), rule, expected fragment (the fix text)
    ("dynamic-listener-port-only", ("SecurityGroup", "instances", _instances_rules(
        {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "userIdGroupPairs": FROM_ALB},
        {"ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443, "userIdGroupPairs": FROM_ALB})),
     "W8010", "the security groups of container-instance groups 'general', 'batch' (sg-0a1b2c3d4e5f60701) do not admit the "
              "load balancer's group alb on the ephemeral port range 32768–61000: allow tcp 32768–61000 from alb on "
              "sg-0a1b2c3d4e5f60701 (49153–65535 on instances without /proc/sys/net/ipv4/ip_local_port_range)"),
    ("dynamic-half-range", ("SecurityGroup", "instances", _instances_rules(
        {"ipProtocol": "tcp", "fromPort": 32768, "toPort": 49999, "userIdGroupPairs": FROM_ALB},
        {"ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443, "userIdGroupPairs": FROM_ALB})),
     "W8010", "allow tcp 50000–61000 from alb on sg-0a1b2c3d4e5f60701"),
    ("dynamic-alb-egress-closed", ("SecurityGroup", "alb", {"ipPermissionsEgress": [
        {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "ipRanges": [{"cidrIp": "10.0.0.0/16"}]},
        {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "ipRanges": [{"cidrIp": "10.0.0.0/16"}]},
        {"ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443, "ipRanges": [{"cidrIp": "10.0.0.0/16"}]}]}),
     "W8010", "the load balancer's security groups (alb) do not let its traffic out to container-instance groups 'general', "
              "'batch' on the ephemeral port range 32768–61000: allow tcp 32768–61000 out to sg-0a1b2c3d4e5f60701 on alb"),
    ("static-port-closed", ("SecurityGroup", "instances", _instances_rules(
        {"ipProtocol": "tcp", "fromPort": 32768, "toPort": 61000, "userIdGroupPairs": FROM_ALB})),
     "W8011", "the security groups of container-instance group 'general' (sg-0a1b2c3d4e5f60701) do not admit the load "
              "balancer's group alb on host port 8443: allow tcp 8443 from alb on sg-0a1b2c3d4e5f60701"),
    ("static-health-check-port", ("TargetGroup", "static", {"healthCheck": {"port": "9000"}}),
     "W8011", "on the health check port: allow tcp 9000 from alb on sg-0a1b2c3d4e5f60701"),
    ("awsvpc-closed", ("SecurityGroup", "api-tasks", {"ipPermissions": [
        {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "userIdGroupPairs": FROM_ALB}]}),
     "W8012", "the security groups of the service's awsvpc tasks (api-tasks) do not admit the load balancer's group "
              "sg-0a1b2c3d4e5f60700 on container port 8080: allow tcp 8080 from sg-0a1b2c3d4e5f60700 on api-tasks"),
    ("awsvpc-open-to-vpc", ("SecurityGroup", "api-tasks", {"ipPermissions": [
        {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "ipRanges": [{"cidrIp": "10.0.0.0/16"}]}]}), None, None),
    ("awsvpc-open-to-office-only", ("SecurityGroup", "api-tasks", {"ipPermissions": [
        {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "ipRanges": [{"cidrIp": "203.0.113.0/24"}]}]}),
     "W8012", "allow tcp 8080 from sg-0a1b2c3d4e5f60700 on api-tasks"),
    ("no-lb-groups-nothing-checked", ("TargetGroup", "api", {"securityGroups": DROP}), None, None),
    ("unknown-group", ("Cluster", "prod", {"containerInstances": [
        {"name": "general", "count": 1, "instanceType": "m5.large", "availabilityZone": "eu-west-1a",
         "attributes": {"tier": "general"}, "securityGroups": ["sg-0ffffffffffffffff"]}]}),
     "W8002", "security group 'sg-0ffffffffffffffff' is not among the validated SecurityGroup documents"),
    ("tcp-without-to-port", ("SecurityGroup", "alb", {"ipPermissions": [{"ipProtocol": "tcp", "fromPort": 443, "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]}),
     "E8001", "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange."),
    ("tcp-minus-one", ("SecurityGroup", "alb", {"ipPermissions": [{"ipProtocol": "tcp", "fromPort": -1, "toPort": -1, "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]}),
     "E8001", "TCP/UDP port (-1) out of range"),
    ("reversed-range", ("SecurityGroup", "alb", {"ipPermissions": [{"ipProtocol": "tcp", "fromPort": 444, "toPort": 443, "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]}),
     "E8001", "fromPort 444 is greater than toPort 443"),
    ("bad-cidr", ("SecurityGroup", "alb", {"ipPermissions": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": [{"cidrIp": "10.0.0.300/16"}]}]}),
     "E8001", "CIDR block 10.0.0.300/16 is malformed"),
    ("all-protocols-needs-no-ports", ("SecurityGroup", "alb", {"ipPermissions": [{"ipProtocol": "-1", "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]}), None, None),
    ("duplicate-id", ("SecurityGroup", "api-tasks", {"groupId": "sg-0a1b2c3d4e5f60700"}), "E8003", "groupId sg-0a1b2c3d4e5f60700 is also the id of SecurityGroup 'alb'"),
]


@pytest.mark.parametrize("target, rule, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(validator, tmp_path, target, rule, fragment):
    kind, name, changes = target
    got = run(validator, tmp_path, mutate(WORLD, kind, name, changes))
    if rule is None:
        assert got == [], [(f.rule, f.message) for f in got]
        return
    messages = [f.message for f in got if f.rule == rule]
    assert any(fragment in m for m in messages), [(f.rule, f.message) for f in got]


def test_warnings_point_at_the_load_balancer_entry_and_fail_under_strict(validator, tmp_path):
    world = mutate(WORLD, "SecurityGroup", "api-tasks", {"ipPermissions": []})
    report = validator.validate([write_world(tmp_path, world)])
    (finding,) = [f for f in report.findings if f.rule == "W8012"]
    assert finding.pointer.endswith("/spec/loadBalancers/0")
    assert finding.severity.value == "warning" and report.errors == 0
    strict = report.under_strict()
    assert strict.errors == strict.promoted == len(report.findings) and strict.warnings == 0


def test_memberof_limits_the_instance_groups_checked(validator, tmp_path):
    """'static' runs only on tier == general: a batch group without the rule is not its concern."""
    world = copy.deepcopy(WORLD)
    world[("SecurityGroup", "batch")] = {"groupId": "sg-0a1b2c3d4e5f60703", "ipPermissions": [
        {"ipProtocol": "tcp", "fromPort": 32768, "toPort": 61000, "userIdGroupPairs": FROM_ALB}]}
    world[("Cluster", "prod")]["containerInstances"][1]["securityGroups"] = ["batch"]
    got = run(validator, tmp_path, world)
    assert [f.rule for f in got] == [], [(f.rule, f.message) for f in got]


def test_a_run_without_security_groups_checks_nothing(validator, tmp_path):
    world = {k: v for k, v in WORLD.items() if k[0] != "SecurityGroup"}
    assert run(validator, tmp_path, world) == []
