"""Canonical forms: one table row (or more) per normalisation rule, plus the guarantees.

Each case of ``CASES`` is ``(rule id, value before, value after, other root fields)``: the
value is put at the rule's path (``[]`` = a one-item list), the single rule is applied, and
the value read back from the same place.  ``test_every_rule_has_a_case`` keeps the table
complete when a rule is added.
"""

from __future__ import annotations

import copy
import glob
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.normalize import MISSING, RULES, apply_rule, canonical, prune, rules_for
from ecsctl.core.plan.model import PREFIX

ROOT = Path(__file__).resolve().parent.parent
RULE = {r.id: r for r in RULES}
TD, SVC, ST = "TaskDefinition", "Service", "ScheduledTask"
C = "containerDefinitions[]"
HC = {"command": ["CMD-SHELL", "true"]}


def put(parts: tuple[str, ...], value):
    """A spec holding ``value`` at ``parts`` (``"[]"`` makes a one-item list)."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    inner = put(rest, value)
    if head == "[]":
        return [] if inner is MISSING else [inner]
    return {} if inner is MISSING else {head: inner}


def get(node, parts: tuple[str, ...]):
    for p in parts:
        if p == "[]":
            if not node:
                return MISSING
            node = node[0]
        elif isinstance(node, dict) and p in node:
            node = node[p]
        else:
            return MISSING
    return node


def merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def sv(rid, before, after, **root):
    return pytest.param(rid, before, after, root, id=f"{rid}|{json.dumps(before, default=str)[:40]}")


# fmt: off
CASES = [
    # ---- TaskDefinition: defaults, units
    sv(f"{TD}:family", MISSING, "web"),
    sv(f"{TD}:family", "web", "web"),
    sv(f"{TD}:cpu", "0.5 vCPU", "512"),
    sv(f"{TD}:cpu", ".25 vcpu", "256"),
    sv(f"{TD}:cpu", 1024, "1024"),
    sv(f"{TD}:cpu", "2048", "2048"),
    sv(f"{TD}:cpu", "lots", "lots"),          # unparseable: left for validation to report
    sv(f"{TD}:cpu", MISSING, MISSING),
    sv(f"{TD}:memory", "1GB", "1024"),
    sv(f"{TD}:memory", "0.5 GB", "512"),
    sv(f"{TD}:memory", 2048, "2048"),
    sv(f"{TD}:memory", "3072", "3072"),
    sv(f"{TD}:memory", "huge", "huge"),
    sv(f"{TD}:networkMode", MISSING, "bridge"),
    sv(f"{TD}:networkMode", "awsvpc", "awsvpc"),
    sv(f"{TD}:networkMode", MISSING, MISSING, runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}),
    sv(f"{TD}:{C}.essential", MISSING, True),
    sv(f"{TD}:{C}.essential", False, False),
    sv(f"{TD}:{C}.cpu", MISSING, 0),
    sv(f"{TD}:{C}.cpu", 128, 128),
    sv(f"{TD}:{C}.portMappings[].protocol", MISSING, "tcp"),
    sv(f"{TD}:{C}.portMappings[].protocol", "udp", "udp"),
    sv(f"{TD}:{C}.portMappings[].hostPort", {"containerPort": 80}, {"containerPort": 80, "hostPort": 80}, networkMode="awsvpc"),
    sv(f"{TD}:{C}.portMappings[].hostPort", {"containerPort": 80}, {"containerPort": 80, "hostPort": 80}, networkMode="host"),
    sv(f"{TD}:{C}.portMappings[].hostPort", {"containerPort": 80}, {"containerPort": 80, "hostPort": 0}, networkMode="bridge"),
    sv(f"{TD}:{C}.portMappings[].hostPort", {"containerPort": 80, "hostPort": 8080}, {"containerPort": 80, "hostPort": 8080}, networkMode="bridge"),
    sv(f"{TD}:{C}.portMappings[].hostPort", {"containerPortRange": "8000-8010"}, {"containerPortRange": "8000-8010"}, networkMode="awsvpc"),
    sv(f"{TD}:{C}.portMappings[].hostPort", {"containerPort": 80}, {"containerPort": 80}, networkMode="none"),
    sv(f"{TD}:{C}.healthCheck", HC, {**HC, "interval": 30, "timeout": 5, "retries": 3}),
    sv(f"{TD}:{C}.healthCheck", {**HC, "interval": 10, "startPeriod": 5}, {**HC, "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 5}),
    sv(f"{TD}:{C}.healthCheck", MISSING, MISSING),   # no health check is not a default one
    sv(f"{TD}:{C}.mountPoints[].readOnly", MISSING, False),
    sv(f"{TD}:{C}.mountPoints[].readOnly", True, True),
    sv(f"{TD}:{C}.volumesFrom[].readOnly", MISSING, False),
    sv(f"{TD}:{C}.volumesFrom[].readOnly", True, True),
    sv(f"{TD}:volumes[].efsVolumeConfiguration", {"fileSystemId": "fs-1"}, {"fileSystemId": "fs-1", "rootDirectory": "/", "transitEncryption": "DISABLED"}),
    # ---- TaskDefinition: order-insensitive lists
    sv(f"{TD}:sort:{C}.environment", [{"name": "B", "value": "1"}, {"name": "A", "value": "2"}], [{"name": "A", "value": "2"}, {"name": "B", "value": "1"}]),
    sv(f"{TD}:sort:{C}.secrets", [{"name": "Z", "valueFrom": "/z"}, {"name": "M", "valueFrom": "/m"}], [{"name": "M", "valueFrom": "/m"}, {"name": "Z", "valueFrom": "/z"}]),
    sv(f"{TD}:sort:{C}.portMappings",
       [{"containerPort": 9000, "protocol": "tcp"}, {"containerPort": 80, "protocol": "udp"}, {"containerPort": 80, "protocol": "tcp"}],
       [{"containerPort": 80, "protocol": "tcp"}, {"containerPort": 80, "protocol": "udp"}, {"containerPort": 9000, "protocol": "tcp"}]),
    sv(f"{TD}:sort:{C}.dependsOn", [{"containerName": "b", "condition": "START"}, {"containerName": "a", "condition": "START"}], [{"containerName": "a", "condition": "START"}, {"containerName": "b", "condition": "START"}]),
    sv(f"{TD}:sort:{C}.mountPoints", [{"sourceVolume": "b", "containerPath": "/z"}, {"sourceVolume": "a", "containerPath": "/a"}], [{"sourceVolume": "a", "containerPath": "/a"}, {"sourceVolume": "b", "containerPath": "/z"}]),
    sv(f"{TD}:sort:{C}.volumesFrom", [{"sourceContainer": "y"}, {"sourceContainer": "x"}], [{"sourceContainer": "x"}, {"sourceContainer": "y"}]),
    sv(f"{TD}:sort:{C}.ulimits", [{"name": "nproc", "softLimit": 1, "hardLimit": 1}, {"name": "nofile", "softLimit": 2, "hardLimit": 2}], [{"name": "nofile", "softLimit": 2, "hardLimit": 2}, {"name": "nproc", "softLimit": 1, "hardLimit": 1}]),
    sv(f"{TD}:sort:{C}.systemControls", [{"namespace": "net.b", "value": "1"}, {"namespace": "net.a", "value": "1"}], [{"namespace": "net.a", "value": "1"}, {"namespace": "net.b", "value": "1"}]),
    sv(f"{TD}:sort:{C}.extraHosts", [{"hostname": "z", "ipAddress": "1.1.1.1"}, {"hostname": "a", "ipAddress": "2.2.2.2"}], [{"hostname": "a", "ipAddress": "2.2.2.2"}, {"hostname": "z", "ipAddress": "1.1.1.1"}]),
    sv(f"{TD}:sort:{C}.resourceRequirements", [{"type": "InferenceAccelerator", "value": "d"}, {"type": "GPU", "value": "1"}], [{"type": "GPU", "value": "1"}, {"type": "InferenceAccelerator", "value": "d"}]),
    sv(f"{TD}:sort:{C}.logConfiguration.secretOptions", [{"name": "b", "valueFrom": "/b"}, {"name": "a", "valueFrom": "/a"}], [{"name": "a", "valueFrom": "/a"}, {"name": "b", "valueFrom": "/b"}]),
    sv(f"{TD}:sort:{C}.linuxParameters.capabilities.add", ["SYS_PTRACE", "NET_ADMIN"], ["NET_ADMIN", "SYS_PTRACE"]),
    sv(f"{TD}:sort:{C}.linuxParameters.capabilities.drop", ["MKNOD", "CHOWN"], ["CHOWN", "MKNOD"]),
    sv(f"{TD}:sort:{C}.linuxParameters.devices", [{"hostPath": "/dev/b"}, {"hostPath": "/dev/a"}], [{"hostPath": "/dev/a"}, {"hostPath": "/dev/b"}]),
    sv(f"{TD}:sort:{C}.linuxParameters.tmpfs", [{"containerPath": "/z", "size": 1}, {"containerPath": "/a", "size": 2}], [{"containerPath": "/a", "size": 2}, {"containerPath": "/z", "size": 1}]),
    sv(f"{TD}:sort:{C}.restartPolicy.ignoredExitCodes", [137, 1, 0], [0, 1, 137]),
    sv(f"{TD}:sort:containerDefinitions", [{"name": "web"}, {"name": "app"}, {"name": "sidecar"}], [{"name": "app"}, {"name": "sidecar"}, {"name": "web"}]),
    sv(f"{TD}:sort:volumes", [{"name": "logs"}, {"name": "data"}], [{"name": "data"}, {"name": "logs"}]),
    sv(f"{TD}:sort:requiresCompatibilities", ["FARGATE", "EC2"], ["EC2", "FARGATE"]),
    sv(f"{TD}:sort:placementConstraints", [{"type": "memberOf", "expression": "b"}, {"type": "memberOf", "expression": "a"}], [{"type": "memberOf", "expression": "a"}, {"type": "memberOf", "expression": "b"}]),
    sv(f"{TD}:sort:inferenceAccelerators", [{"deviceName": "b", "deviceType": "t"}, {"deviceName": "a", "deviceType": "t"}], [{"deviceName": "a", "deviceType": "t"}, {"deviceName": "b", "deviceType": "t"}]),
    sv(f"{TD}:sort:proxyConfiguration.properties", [{"name": "ProxyIngressPort", "value": "1"}, {"name": "AppPorts", "value": "2"}], [{"name": "AppPorts", "value": "2"}, {"name": "ProxyIngressPort", "value": "1"}]),
    sv(f"{TD}:sort:tags", [{"key": "team", "value": "a"}, {"key": "app", "value": "b"}], [{"key": "app", "value": "b"}, {"key": "team", "value": "a"}]),
    # ---- Service: defaults
    sv(f"{SVC}:cluster", MISSING, "default"),
    sv(f"{SVC}:cluster", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "prod"),
    sv(f"{SVC}:cluster", "prod", "prod"),
    sv(f"{SVC}:taskDefinition", "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3", "web:3"),
    sv(f"{SVC}:taskDefinition", "web", "web"),
    sv(f"{SVC}:taskDefinition", "web:7", "web:7"),
    sv(f"{SVC}:schedulingStrategy", MISSING, "REPLICA"),
    sv(f"{SVC}:schedulingStrategy", "DAEMON", "DAEMON"),
    sv(f"{SVC}:desiredCount", MISSING, 1),
    sv(f"{SVC}:desiredCount", 0, 0),
    sv(f"{SVC}:desiredCount", MISSING, MISSING, schedulingStrategy="DAEMON"),
    sv(f"{SVC}:deploymentController", MISSING, {"type": "ECS"}),
    sv(f"{SVC}:deploymentController", {"type": "CODE_DEPLOY"}, {"type": "CODE_DEPLOY"}),
    sv(f"{SVC}:deploymentConfiguration", MISSING,
       {"minimumHealthyPercent": 100, "maximumPercent": 200, "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "strategy": "ROLLING"}),
    sv(f"{SVC}:deploymentConfiguration", MISSING,
       {"minimumHealthyPercent": 0, "maximumPercent": 100, "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "strategy": "ROLLING"},
       schedulingStrategy="DAEMON"),
    sv(f"{SVC}:deploymentConfiguration", {"maximumPercent": 150, "deploymentCircuitBreaker": {"enable": True}},
       {"minimumHealthyPercent": 100, "maximumPercent": 150, "deploymentCircuitBreaker": {"enable": True, "rollback": False}, "strategy": "ROLLING"}),
    sv(f"{SVC}:deploymentConfiguration", MISSING, {"minimumHealthyPercent": 100, "maximumPercent": 200},
       deploymentController={"type": "CODE_DEPLOY"}),
    # DescribeServices reports a disabled alarms block for every service created without one: none
    sv(f"{SVC}:deploymentConfiguration", {"alarms": {"alarmNames": [], "enable": False, "rollback": False}},
       {"minimumHealthyPercent": 100, "maximumPercent": 200, "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "strategy": "ROLLING"}),
    sv(f"{SVC}:deploymentConfiguration", {"alarms": {"alarmNames": ["cpu-high"], "enable": True, "rollback": True}},
       {"alarms": {"alarmNames": ["cpu-high"], "enable": True, "rollback": True}, "minimumHealthyPercent": 100,
        "maximumPercent": 200, "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "strategy": "ROLLING"}),
    sv(f"{SVC}:platformVersion", MISSING, "LATEST", launchType="FARGATE"),
    sv(f"{SVC}:platformVersion", MISSING, MISSING, launchType="EC2"),
    sv(f"{SVC}:platformVersion", "1.4.0", "1.4.0", launchType="FARGATE"),
    sv(f"{SVC}:healthCheckGracePeriodSeconds", MISSING, 0),
    sv(f"{SVC}:healthCheckGracePeriodSeconds", 60, 60),
    sv(f"{SVC}:enableECSManagedTags", MISSING, False),
    sv(f"{SVC}:enableExecuteCommand", MISSING, False),
    sv(f"{SVC}:propagateTags", MISSING, "NONE"),
    sv(f"{SVC}:propagateTags", "SERVICE", "SERVICE"),
    sv(f"{SVC}:networkConfiguration.awsvpcConfiguration.assignPublicIp", MISSING, "DISABLED", networkConfiguration={"awsvpcConfiguration": {"subnets": ["s"]}}),
    sv(f"{SVC}:networkConfiguration.awsvpcConfiguration.assignPublicIp", "ENABLED", "ENABLED"),
    sv(f"{SVC}:capacityProviderStrategy[]", {"capacityProvider": "FARGATE", "weight": 1}, {"capacityProvider": "FARGATE", "weight": 1, "base": 0}),
    sv(f"{SVC}:autoScaling.targetTracking[]", {"policyName": "cpu"}, {"policyName": "cpu", "scaleOutCooldown": 300, "scaleInCooldown": 300, "disableScaleIn": False}),
    sv(f"{SVC}:autoScaling.targetTracking[]", {"policyName": "cpu", "scaleOutCooldown": 60}, {"policyName": "cpu", "scaleOutCooldown": 60, "scaleInCooldown": 300, "disableScaleIn": False}),
    sv(f"{SVC}:autoScaling.stepScaling[]", {"policyName": "q"}, {"policyName": "q", "cooldown": 300, "metricAggregationType": "Average"}),
    sv(f"{SVC}:autoScaling.scheduled[].timezone", MISSING, "UTC"),
    sv(f"{SVC}:autoScaling.scheduled[].timezone", "Europe/Paris", "Europe/Paris"),
    # ---- Service: order-insensitive lists (placementStrategy is not one: see test below)
    sv(f"{SVC}:sort:placementConstraints", [{"type": "memberOf", "expression": "x"}, {"type": "distinctInstance"}], [{"type": "distinctInstance"}, {"type": "memberOf", "expression": "x"}]),
    sv(f"{SVC}:sort:networkConfiguration.awsvpcConfiguration.subnets", ["subnet-b", "subnet-a"], ["subnet-a", "subnet-b"]),
    sv(f"{SVC}:sort:networkConfiguration.awsvpcConfiguration.securityGroups", ["sg-2", "sg-1"], ["sg-1", "sg-2"]),
    sv(f"{SVC}:sort:loadBalancers", [{"targetGroupArn": "tg/b", "containerName": "web", "containerPort": 80}, {"targetGroupArn": "tg/a", "containerName": "web", "containerPort": 80}],
       [{"targetGroupArn": "tg/a", "containerName": "web", "containerPort": 80}, {"targetGroupArn": "tg/b", "containerName": "web", "containerPort": 80}]),
    sv(f"{SVC}:sort:serviceRegistries", [{"registryArn": "r/b"}, {"registryArn": "r/a"}], [{"registryArn": "r/a"}, {"registryArn": "r/b"}]),
    sv(f"{SVC}:sort:capacityProviderStrategy", [{"capacityProvider": "FARGATE_SPOT", "weight": 3}, {"capacityProvider": "FARGATE", "base": 1, "weight": 1}],
       [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}, {"capacityProvider": "FARGATE_SPOT", "weight": 3}]),
    sv(f"{SVC}:sort:deploymentConfiguration.alarms.alarmNames", ["b", "a"], ["a", "b"]),
    sv(f"{SVC}:sort:autoScaling.stepScaling[].stepAdjustments",
       [{"metricIntervalLowerBound": 50, "scalingAdjustment": 3}, {"metricIntervalUpperBound": 0, "scalingAdjustment": -1}, {"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 50, "scalingAdjustment": 1}],
       [{"metricIntervalUpperBound": 0, "scalingAdjustment": -1}, {"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 50, "scalingAdjustment": 1}, {"metricIntervalLowerBound": 50, "scalingAdjustment": 3}]),
    sv(f"{SVC}:sort:autoScaling.stepScaling[].alarm.dimensions", [{"name": "TargetGroup", "value": "t"}, {"name": "LoadBalancer", "value": "l"}], [{"name": "LoadBalancer", "value": "l"}, {"name": "TargetGroup", "value": "t"}]),
    sv(f"{SVC}:sort:autoScaling.targetTracking", [{"policyName": "mem"}, {"policyName": "cpu"}], [{"policyName": "cpu"}, {"policyName": "mem"}]),
    sv(f"{SVC}:sort:autoScaling.stepScaling", [{"policyName": "out"}, {"policyName": "in"}], [{"policyName": "in"}, {"policyName": "out"}]),
    sv(f"{SVC}:sort:autoScaling.scheduled", [{"scheduledActionName": "night"}, {"scheduledActionName": "day"}], [{"scheduledActionName": "day"}, {"scheduledActionName": "night"}]),
    sv(f"{SVC}:sort:tags", [{"key": "b", "value": "1"}, {"key": "a", "value": "2"}], [{"key": "a", "value": "2"}, {"key": "b", "value": "1"}]),
    # ---- Cluster
    sv("Cluster:sort:containerInstances", [{"name": "general-b", "count": 1}, {"name": "general-a", "count": 2}], [{"name": "general-a", "count": 2}, {"name": "general-b", "count": 1}]),
    sv("Cluster:sort:capacityProviders", ["FARGATE_SPOT", "FARGATE"], ["FARGATE", "FARGATE_SPOT"]),
    sv("Cluster:sort:defaultCapacityProviderStrategy", [{"capacityProvider": "B"}, {"capacityProvider": "A"}], [{"capacityProvider": "A"}, {"capacityProvider": "B"}]),
    sv("Cluster:defaultCapacityProviderStrategy[]", {"capacityProvider": "A", "weight": 2}, {"capacityProvider": "A", "weight": 2, "base": 0}),
    sv("Cluster:sort:settings", [{"name": "z", "value": "1"}, {"name": "containerInsights", "value": "enabled"}], [{"name": "containerInsights", "value": "enabled"}, {"name": "z", "value": "1"}]),
    sv("Cluster:sort:tags", [{"key": "b", "value": "1"}, {"key": "a", "value": "2"}], [{"key": "a", "value": "2"}, {"key": "b", "value": "1"}]),
    # ---- CapacityProvider
    sv("CapacityProvider:autoScalingGroupProvider.managedScaling", {"status": "ENABLED", "targetCapacity": 90},
       {"status": "ENABLED", "targetCapacity": 90, "minimumScalingStepSize": 1, "maximumScalingStepSize": 10000, "instanceWarmupPeriod": 300}),
    sv("CapacityProvider:autoScalingGroupProvider.managedTerminationProtection", MISSING, "DISABLED", autoScalingGroupProvider={"autoScalingGroup": {"maxSize": 3}}),
    sv("CapacityProvider:sort:autoScalingGroupProvider.autoScalingGroup.availabilityZones", ["eu-west-1b", "eu-west-1a"], ["eu-west-1a", "eu-west-1b"]),
    # ---- TargetGroup
    sv("TargetGroup:protocol", MISSING, "HTTP"),
    sv("TargetGroup:protocol", "TCP", "TCP"),
    sv("TargetGroup:targetType", MISSING, "instance"),
    sv("TargetGroup:targetType", "ip", "ip"),
    sv("TargetGroup:healthCheck", MISSING,
       {"enabled": True, "port": "traffic-port", "protocol": "HTTP", "intervalSeconds": 30, "timeoutSeconds": 5, "healthyThresholdCount": 5, "unhealthyThresholdCount": 2, "path": "/", "matcher": "200"},
       protocol="HTTP"),
    sv("TargetGroup:healthCheck", {"path": "/healthz", "port": 8080, "matcher": {"httpCode": "200-299"}},
       {"enabled": True, "port": "8080", "protocol": "HTTP", "intervalSeconds": 30, "timeoutSeconds": 5, "healthyThresholdCount": 5, "unhealthyThresholdCount": 2, "path": "/healthz", "matcher": "200-299"}),
    sv("TargetGroup:healthCheck", MISSING,
       {"enabled": True, "port": "traffic-port", "protocol": "TCP", "intervalSeconds": 30, "timeoutSeconds": 10, "healthyThresholdCount": 5, "unhealthyThresholdCount": 2},
       protocol="TCP"),
    sv("TargetGroup:deregistrationDelay", MISSING, 300),
    sv("TargetGroup:deregistrationDelay", 30, 30),
    # ---- ScheduledTask
    sv(f"{ST}:state", MISSING, "ENABLED"),
    sv(f"{ST}:state", "DISABLED", "DISABLED"),
    sv(f"{ST}:target.cluster", MISSING, "default", target={"taskDefinition": "report"}),
    sv(f"{ST}:target.cluster", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "prod"),
    sv(f"{ST}:target.taskDefinition", "arn:aws:ecs:eu-west-1:123456789012:task-definition/report:2", "report:2"),
    sv(f"{ST}:target.taskCount", MISSING, 1, target={"taskDefinition": "report"}),
    sv(f"{ST}:target.networkConfiguration.awsvpcConfiguration.assignPublicIp", MISSING, "DISABLED", target={"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["s"]}}}),
    sv(f"{ST}:target.capacityProviderStrategy[]", {"capacityProvider": "FARGATE"}, {"capacityProvider": "FARGATE", "base": 0, "weight": 0}),
    sv(f"{ST}:eventPattern", {"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "b/"}, {"prefix": "a/"}]}, "reason": ["PutObject", "CopyObject"]}},
       {"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "a/"}, {"prefix": "b/"}]}, "reason": ["CopyObject", "PutObject"]}}),
    # a numeric filter is operator-value pairs, in order ("Numeric matching"): never sorted
    sv(f"{ST}:eventPattern", {"detail": {"size": [{"numeric": [">=", 0, "<", 5]}, {"numeric": [">", 100]}]}},
       {"detail": {"size": [{"numeric": [">", 100]}, {"numeric": [">=", 0, "<", 5]}]}}),
    # null is a match value in a pattern ("Matching events on null values"), kept and sorted first
    sv(f"{ST}:eventPattern", {"source": ["aws.ec2"], "detail": {"errorCode": [None], "state": ["stopped", None]}},
       {"source": ["aws.ec2"], "detail": {"errorCode": [None], "state": [None, "stopped"]}}),
    sv(f"{ST}:sort:target.networkConfiguration.awsvpcConfiguration.subnets", ["subnet-2", "subnet-1"], ["subnet-1", "subnet-2"]),
    sv(f"{ST}:sort:target.networkConfiguration.awsvpcConfiguration.securityGroups", ["sg-2", "sg-1"], ["sg-1", "sg-2"]),
    sv(f"{ST}:sort:target.placementConstraints", [{"type": "memberOf", "expression": "b"}, {"type": "memberOf", "expression": "a"}], [{"type": "memberOf", "expression": "a"}, {"type": "memberOf", "expression": "b"}]),
    sv(f"{ST}:sort:target.capacityProviderStrategy", [{"capacityProvider": "B"}, {"capacityProvider": "A"}], [{"capacityProvider": "A"}, {"capacityProvider": "B"}]),
    sv(f"{ST}:sort:target.tags", [{"key": "b", "value": "1"}, {"key": "a", "value": "1"}], [{"key": "a", "value": "1"}, {"key": "b", "value": "1"}]),
    # ---- catalogue kinds
    sv("Parameter:type", MISSING, "String"),
    sv("Parameter:type", "SecureString", "SecureString"),
    sv("Parameter:tier", MISSING, "Standard"),
    sv("Parameter:dataType", MISSING, "text"),
    sv("Secret:sort:keys", ["username", "password"], ["password", "username"]),
    sv("Secret:sort:versionStages", ["AWSPREVIOUS", "AWSCURRENT"], ["AWSCURRENT", "AWSPREVIOUS"]),
    sv("Secret:sort:versionIds", ["v2", "v1"], ["v1", "v2"]),
    sv("EnvironmentFile:sort:variables", ["LOG_LEVEL", "CDN_BASE_URL"], ["CDN_BASE_URL", "LOG_LEVEL"]),
    sv("Repository:sort:images", ["1.4.2", "1.4.1"], ["1.4.1", "1.4.2"]),
]
# fmt: on


@pytest.mark.parametrize("rid, before, after, root", CASES)
def test_rule(rid, before, after, root):
    rule = RULE[rid]
    spec = merge(root, put(rule.parts, before))
    snapshot = copy.deepcopy(spec)
    out = apply_rule(rule, "web", spec)
    assert spec == snapshot, "a rule must not mutate its input"
    assert get(out, rule.parts) == after


def test_every_rule_has_a_case():
    covered = {c.values[0] for c in CASES}
    assert sorted(set(RULE) - covered) == []


def test_rule_table_hygiene():
    assert len(RULE) == len(RULES), "rule ids are unique"
    for rule in RULES:
        assert rule.kind in PREFIX
        assert rule.doc and rule.phase in ("fill", "sort")
    for kind in PREFIX:
        ordered = rules_for(kind)
        phases = [r.phase for r in ordered]
        assert phases == sorted(phases, key=lambda p: p == "sort"), "fill rules run before sort rules"
        depths = [len(r.parts) for r in ordered if r.phase == "sort"]
        assert depths == sorted(depths, reverse=True), "inner lists sort before the lists holding them"


# --------------------------------------------------------------------------- whole specs


def td(**extra) -> dict:
    return {"containerDefinitions": [{"name": "web", "image": "nginx"}], **extra}


@pytest.mark.parametrize(
    "a, b",
    [
        (td(cpu="0.5 vCPU", memory="1GB"), td(cpu="512", memory="1024")),
        (td(cpu=512, memory=1024), td(cpu="512", memory="1024")),
        (td(), td(family="web", networkMode="bridge")),
        (td(containerDefinitions=[{"name": "web", "image": "nginx", "environment": []}]), td()),
        (td(containerDefinitions=[{"name": "web", "image": "nginx", "essential": True, "cpu": 0}]), td()),
        (td(volumes=[], tags=None, placementConstraints=[{}]), td()),
        (td(containerDefinitions=[{"name": "web", "image": "nginx", "dockerLabels": {}, "linuxParameters": {"capabilities": {"add": []}}}]), td()),
        (
            td(networkMode="awsvpc", containerDefinitions=[{"name": "web", "image": "x", "portMappings": [{"containerPort": 80}]}]),
            td(networkMode="awsvpc", containerDefinitions=[{"name": "web", "image": "x", "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]}]),
        ),
        (
            td(containerDefinitions=[{"name": "web", "image": "x", "portMappings": [{"containerPort": 80}]}]),
            td(containerDefinitions=[{"name": "web", "image": "x", "portMappings": [{"containerPort": 80, "hostPort": 0}]}]),
        ),
    ],
    ids=["units", "int-units", "filled-defaults", "empty-env", "explicit-container-defaults", "empties", "empty-nested", "awsvpc-hostport", "bridge-hostport"],
)
def test_equivalent_task_definitions_have_one_canonical_form(a, b):
    assert canonical("TaskDefinition", "web", a) == canonical("TaskDefinition", "web", b)


@pytest.mark.parametrize(
    "kind, spec, path",
    [
        ("TaskDefinition", td(containerDefinitions=[{"name": "w", "image": "x", "command": ["b", "a"]}]), ("containerDefinitions", 0, "command")),
        ("TaskDefinition", td(containerDefinitions=[{"name": "w", "image": "x", "entryPoint": ["sh", "-c"]}]), ("containerDefinitions", 0, "entryPoint")),
        ("TaskDefinition", td(containerDefinitions=[{"name": "w", "image": "x", "healthCheck": {"command": ["CMD-SHELL", "b", "a"]}}]), ("containerDefinitions", 0, "healthCheck", "command")),
        ("TaskDefinition", td(containerDefinitions=[{"name": "w", "image": "x", "dnsServers": ["9.9.9.9", "1.1.1.1"]}]), ("containerDefinitions", 0, "dnsServers")),
        ("TaskDefinition", td(containerDefinitions=[{"name": "w", "image": "x", "dnsSearchDomains": ["z.local", "a.local"]}]), ("containerDefinitions", 0, "dnsSearchDomains")),
        ("TaskDefinition", td(containerDefinitions=[{"name": "w", "image": "x", "links": ["z:z", "a:a"]}]), ("containerDefinitions", 0, "links")),
        ("Service", {"placementStrategy": [{"type": "spread", "field": "instanceId"}, {"type": "binpack", "field": "memory"}]}, ("placementStrategy",)),
        ("ScheduledTask", {"target": {"placementStrategy": [{"type": "spread", "field": "instanceId"}, {"type": "binpack", "field": "cpu"}]}}, ("target", "placementStrategy")),
    ],
)
def test_order_sensitive_lists_are_kept(kind, spec, path):
    original = spec
    for p in path:
        original = original[p]
    out = canonical(kind, "w", spec)
    for p in path:
        out = out[p]
    assert out == original


def test_canonical_does_not_mutate_and_returns_fresh_objects():
    spec = td(containerDefinitions=[{"name": "b", "image": "x", "environment": [{"name": "Z", "value": "1"}, {"name": "A", "value": "2"}]}, {"name": "a", "image": "y"}])
    snapshot = copy.deepcopy(spec)
    out = canonical("TaskDefinition", "web", spec)
    assert spec == snapshot
    out["containerDefinitions"][1]["environment"].append({"name": "NEW", "value": "x"})
    assert spec == snapshot


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"a": None, "b": [], "c": {}, "d": 0, "e": False, "f": ""}, {"d": 0, "e": False, "f": ""}),
        ({"a": [{}, None, {"b": []}, 1]}, {"a": [1]}),
        ({"a": {"b": {"c": []}}}, {}),
        ([None, "", 0], ["", 0]),
    ],
)
def test_prune(value, expected):
    assert prune(value) == expected


def test_service_without_network_configuration_gets_none():
    out = canonical("Service", "web", {"taskDefinition": "web"})
    assert "networkConfiguration" not in out
    assert out["cluster"] == "default" and out["desiredCount"] == 1 and out["schedulingStrategy"] == "REPLICA"


def test_unknown_kind_is_only_pruned():
    assert canonical("Nope", "x", {"a": [], "b": [2, 1]}) == {"b": [2, 1]}


def _example_documents():
    for path in sorted(glob.glob(str(ROOT / "manifests" / "*.yaml"))):
        for doc in yaml.safe_load_all(Path(path).read_text()):
            if doc:
                yield pytest.param(doc, id=f"{doc['kind']}/{doc['metadata']['name']}")


@pytest.mark.parametrize("doc", list(_example_documents()))
def test_example_manifests_are_idempotent(doc):
    once = canonical(doc["kind"], doc["metadata"]["name"], doc["spec"])
    assert canonical(doc["kind"], doc["metadata"]["name"], once) == once


# --------------------------------------------------------------------------- properties
# Generators shared with test_diff.py.

names = st.sampled_from(["web", "app", "db", "log-router", "worker", "a", "b"])
env_item = st.fixed_dictionaries({"name": st.sampled_from(["A", "B", "PORT", "LOG", "Z"]), "value": st.sampled_from(["", "1", "x", "8080"])})
port_item = st.fixed_dictionaries(
    {"containerPort": st.sampled_from([80, 443, 8080, 9102])},
    optional={"protocol": st.sampled_from(["tcp", "udp"]), "hostPort": st.sampled_from([0, 80, 8080])},
)
container = st.fixed_dictionaries(
    {"name": names, "image": st.sampled_from(["nginx", "busybox:1"])},
    optional={
        "essential": st.booleans(),
        "cpu": st.sampled_from([0, 64, 256]),
        "command": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
        "environment": st.lists(env_item, max_size=4),
        "secrets": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["S1", "S2", "S3"]), "valueFrom": st.sampled_from(["/p/1", "/p/2"])}), max_size=3),
        "portMappings": st.lists(port_item, max_size=3),
        "mountPoints": st.lists(
            st.fixed_dictionaries({"sourceVolume": st.sampled_from(["data", "logs"]), "containerPath": st.sampled_from(["/a", "/b"])}, optional={"readOnly": st.booleans()}),
            max_size=2,
        ),
        "volumesFrom": st.lists(st.fixed_dictionaries({"sourceContainer": names}, optional={"readOnly": st.booleans()}), max_size=2),
        "ulimits": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["nofile", "nproc"]), "softLimit": st.integers(1, 9), "hardLimit": st.integers(1, 9)}), max_size=2),
        "dependsOn": st.lists(st.fixed_dictionaries({"containerName": names, "condition": st.sampled_from(["START", "HEALTHY"])}), max_size=2),
        "healthCheck": st.fixed_dictionaries({"command": st.lists(st.sampled_from(["CMD", "true", "x"]), min_size=1, max_size=3)}, optional={"interval": st.sampled_from([10, 30])}),
        "linuxParameters": st.fixed_dictionaries({"capabilities": st.fixed_dictionaries({}, optional={"add": st.lists(st.sampled_from(["NET_ADMIN", "SYS_PTRACE"]), max_size=2), "drop": st.lists(st.sampled_from(["MKNOD", "CHOWN"]), max_size=2)})}),
        "dnsServers": st.lists(st.sampled_from(["1.1.1.1", "9.9.9.9"]), max_size=2),
        "dockerLabels": st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "2"]), max_size=2),
    },
)
task_definition = st.fixed_dictionaries(
    {"containerDefinitions": st.lists(container, min_size=1, max_size=4)},
    optional={
        "cpu": st.sampled_from(["256", 512, "1 vCPU", ".5 vcpu"]),
        "memory": st.sampled_from(["512", 1024, "2GB", "1 gb"]),
        "networkMode": st.sampled_from(["bridge", "awsvpc", "host"]),
        "requiresCompatibilities": st.lists(st.sampled_from(["EC2", "FARGATE", "EXTERNAL"]), max_size=3, unique=True),
        "volumes": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["data", "logs", "tmp"])}), max_size=3),
        "tags": st.lists(st.fixed_dictionaries({"key": st.sampled_from(["app", "team"]), "value": st.sampled_from(["x", "y"])}), max_size=2),
        "placementConstraints": st.lists(st.fixed_dictionaries({"type": st.just("memberOf"), "expression": st.sampled_from(["a", "b"])}), max_size=2),
    },
)
placement = st.fixed_dictionaries({"type": st.sampled_from(["spread", "binpack", "random"])}, optional={"field": st.sampled_from(["instanceId", "memory", "cpu"])})
service = st.fixed_dictionaries(
    {"taskDefinition": st.sampled_from(["web", "web:3", "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:4"])},
    optional={
        "cluster": st.sampled_from(["prod", "default", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"]),
        "desiredCount": st.integers(0, 10),
        "launchType": st.sampled_from(["EC2", "FARGATE"]),
        "schedulingStrategy": st.sampled_from(["REPLICA", "DAEMON"]),
        "placementConstraints": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["memberOf", "distinctInstance"])}, optional={"expression": st.sampled_from(["a", "b"])}), max_size=3),
        "placementStrategy": st.lists(placement, max_size=3),
        "deploymentConfiguration": st.fixed_dictionaries({}, optional={"minimumHealthyPercent": st.sampled_from([0, 50, 100]), "maximumPercent": st.sampled_from([100, 200])}),
        "networkConfiguration": st.fixed_dictionaries(
            {"awsvpcConfiguration": st.fixed_dictionaries(
                {"subnets": st.lists(st.sampled_from(["subnet-1", "subnet-2", "subnet-3"]), min_size=1, max_size=3, unique=True)},
                optional={"securityGroups": st.lists(st.sampled_from(["sg-1", "sg-2"]), max_size=2, unique=True), "assignPublicIp": st.sampled_from(["ENABLED", "DISABLED"])},
            )}
        ),
        "loadBalancers": st.lists(st.fixed_dictionaries({"targetGroupArn": st.sampled_from(["tg/a", "tg/b"]), "containerName": names, "containerPort": st.sampled_from([80, 8080])}), max_size=2),
        "tags": st.lists(st.fixed_dictionaries({"key": st.sampled_from(["a", "b", "c"]), "value": st.just("v")}), max_size=3),
        "autoScaling": st.fixed_dictionaries(
            {"minCapacity": st.just(1), "maxCapacity": st.just(9)},
            optional={
                "targetTracking": st.lists(st.fixed_dictionaries({"policyName": st.sampled_from(["cpu", "mem"]), "targetValue": st.sampled_from([50, 70.0])}), max_size=2),
                "scheduled": st.lists(st.fixed_dictionaries({"scheduledActionName": st.sampled_from(["day", "night"]), "schedule": st.just("rate(1 hour)")}), max_size=2),
            },
        ),
    },
)

# The lists whose order means nothing (the list, independent of the rule table).
UNORDERED = {
    "TaskDefinition": [
        ("containerDefinitions",), ("volumes",), ("tags",), ("requiresCompatibilities",), ("placementConstraints",),
        ("containerDefinitions", "*", "environment"), ("containerDefinitions", "*", "secrets"),
        ("containerDefinitions", "*", "portMappings"), ("containerDefinitions", "*", "mountPoints"),
        ("containerDefinitions", "*", "volumesFrom"), ("containerDefinitions", "*", "ulimits"),
        ("containerDefinitions", "*", "dependsOn"),
        ("containerDefinitions", "*", "linuxParameters", "capabilities", "add"),
        ("containerDefinitions", "*", "linuxParameters", "capabilities", "drop"),
    ],
    "Service": [
        ("placementConstraints",), ("loadBalancers",), ("tags",),
        ("networkConfiguration", "awsvpcConfiguration", "subnets"),
        ("networkConfiguration", "awsvpcConfiguration", "securityGroups"),
        ("autoScaling", "targetTracking"), ("autoScaling", "scheduled"),
    ],
}


def shuffle(draw, kind: str, spec: dict) -> dict:
    """A copy of ``spec`` with every order-insensitive list permuted (hypothesis picks how)."""
    out = copy.deepcopy(spec)

    def visit(node, path):
        if not path:
            return
        head, rest = path[0], path[1:]
        if head == "*":
            for item in node if isinstance(node, list) else []:
                visit(item, rest)
            return
        if not isinstance(node, dict) or head not in node:
            return
        if not rest:
            if isinstance(node[head], list):
                node[head] = draw(st.permutations(node[head]))
            return
        visit(node[head], rest)

    for path in sorted(UNORDERED[kind], key=len, reverse=True):
        visit(out, path)
    return out


@settings(max_examples=150, deadline=None)
@given(spec=task_definition)
def test_task_definition_canonical_is_idempotent(spec):
    once = canonical("TaskDefinition", "web", spec)
    assert canonical("TaskDefinition", "web", once) == once


@settings(max_examples=150, deadline=None)
@given(spec=service)
def test_service_canonical_is_idempotent(spec):
    once = canonical("Service", "web", spec)
    assert canonical("Service", "web", once) == once


@settings(max_examples=150, deadline=None)
@given(data=st.data(), kind_spec=st.one_of(st.tuples(st.just("TaskDefinition"), task_definition), st.tuples(st.just("Service"), service)))
def test_canonical_ignores_the_order_of_unordered_lists(data, kind_spec):
    kind, spec = kind_spec
    shuffled = shuffle(data.draw, kind, spec)
    assert canonical(kind, "web", shuffled) == canonical(kind, "web", spec)


def test_environment_files_keep_their_order():
    """On a variable in two files the first file wins (ecs-semantics 1.5): reordering them is a change."""
    files = [{"type": "s3", "value": "arn:aws:s3:::b/2.env"}, {"type": "s3", "value": "arn:aws:s3:::b/1.env"}]
    spec = {"containerDefinitions": [{"name": "web", "image": "nginx", "environmentFiles": files}]}
    out = canonical("TaskDefinition", "web", spec)
    assert [f["value"] for f in out["containerDefinitions"][0]["environmentFiles"]] == [f["value"] for f in files]


def test_canonical_keeps_the_nulls_of_an_event_pattern_and_prunes_the_rest():
    spec = {"description": None, "eventPattern": {"source": ["t"], "detail": {"n": [None], "s": ["x", None]}},
            "target": {"cluster": "prod", "taskDefinition": "job", "group": None}}
    out = canonical("ScheduledTask", "job", spec)
    assert out["eventPattern"] == {"source": ["t"], "detail": {"n": [None], "s": [None, "x"]}}
    assert "description" not in out and "group" not in out["target"]
    assert spec["eventPattern"]["detail"]["s"] == ["x", None]  # the input is not mutated
