"""The JSON Schemas in schemas/: well-formed, up to date, and strict where ECS is.

Spec snippets per kind must pass or fail with a readable message; the real
task definitions in ../shared/corpus must get schema errors (E1003) exactly
where the AWS CLI's parameter validation would refuse them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ecsctl.app.schemas import load_schema, manifest_schema
from ecsctl.app.validate import Validator
from ecsctl.core.manifest.envelope import API_VERSION, KINDS
from ecsctl.core.manifest.schema_check import SCHEMA_RULES, SchemaChecker

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
CORPUS = ROOT.parent / "shared" / "corpus" / "taskdefs"
TASKDEF_RULE = SCHEMA_RULES["TaskDefinition"]  # E1003

CHECKER = SchemaChecker(load_schema)


def messages(kind: str, spec) -> list[str]:
    return [message for _, message in CHECKER.iter_messages(kind, spec)]


# --------------------------------------------------------------------------- well-formed


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind):
    schema = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://ecsctl.dev/schemas/{kind}.json"
    assert schema["title"] and schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert "spec" not in schema.get("$defs", {})


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


@pytest.mark.parametrize("kind", KINDS)
def test_schema_never_accepts_null_and_every_ref_resolves(kind):
    schema = load_schema(kind)
    defs = schema.get("$defs", {})
    for path, node in _walk(schema):
        types = node.get("type")
        assert types != "null" and "null" not in (types if isinstance(types, list) else []), path
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert ref.startswith("#/$defs/") and ref.split("/")[-1] in defs, f"{path}: {ref}"
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, f"{path}: objects with properties must be closed"


MINIMAL_SPECS = {
    "Cluster": {},
    "CapacityProvider": {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 0, "maxSize": 4, "instanceType": "m5.large"}}},
    "TaskDefinition": {"containerDefinitions": [{"name": "web", "image": "nginx", "memory": 256}]},
    "Service": {"cluster": "prod", "taskDefinition": "web", "desiredCount": 1},
    "TargetGroup": {"port": 80, "protocol": "HTTP"},
    "ScheduledTask": {"scheduleExpression": "rate(1 hour)", "target": {"cluster": "prod", "taskDefinition": "web"}},
    "Parameter": {"type": "String"},
    "Secret": {},
    "EnvironmentFile": {"bucket": "acme-config", "key": "web.env"},
    "Repository": {"images": ["latest"]},
    "Queue": {"arrivals": {"messagesPerMinute": 10}},
    "SecurityGroup": {"ipPermissions": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]},
}


@pytest.mark.parametrize("kind", KINDS)
def test_manifest_wrapper_validates_a_whole_document(kind):
    schema = manifest_schema(kind)
    Draft202012Validator.check_schema(schema)
    document = {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": "x"}, "spec": MINIMAL_SPECS[kind]}
    assert [e.message for e in Draft202012Validator(schema).iter_errors(document)] == []
    document["spec"] = {**MINIMAL_SPECS[kind], "bogusField": 1}
    assert any("bogusField" in e.message for e in Draft202012Validator(schema).iter_errors(document))


@pytest.mark.parametrize("kind, name, ok", [
    ("Service", "web-1_a", True), ("Service", "bad name!", False), ("Service", "x" * 256, False),
    ("Parameter", "/prod/web/db-host", True), ("Service", "/prod/web", False), ("Secret", "a b", False),
    ("ScheduledTask", "nightly.report", True), ("ScheduledTask", "x" * 65, False),  # EventBridge's RuleName
])
def test_the_wrapper_takes_the_names_validate_takes(kind, name, ok):
    """An editor with the exported schema flags the names E0014 refuses (found by a helper's trial)."""
    document = {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": MINIMAL_SPECS[kind]}
    errors = [e.message for e in Draft202012Validator(manifest_schema(kind)).iter_errors(document)]
    assert (errors == []) is ok, errors


def _recorded_botocore() -> str:
    source = load_schema("TaskDefinition").get("x-generated-from", "")
    match = re.search(r"botocore (\S+)", source)
    return match.group(1) if match else ""


def test_generated_schemas_are_up_to_date():
    if importlib.util.find_spec("botocore") is None:
        pytest.skip("botocore is not installed")
    import botocore

    if botocore.__version__ != _recorded_botocore():
        pytest.skip(f"schemas were generated from botocore {_recorded_botocore()}, this is {botocore.__version__}")
    result = subprocess.run(
        [sys.executable, str(SCHEMAS / "generate.py"), "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- snippets per kind

DROP = object()  # a field value meaning "leave this field out"
CTR = {"name": "web", "image": "nginx:1.27", "memory": 256}


def td(**fields) -> dict:
    return {"family": "web", "containerDefinitions": [dict(CTR)], **fields}


def ctr(**fields) -> dict:
    return td(containerDefinitions=[{**CTR, **fields}])


def tags(n: int) -> list[dict]:
    return [{"key": f"k{i}", "value": "v"} for i in range(n)]


def svc(**fields) -> dict:
    return {"cluster": "prod", "taskDefinition": "web:3", "desiredCount": 2, **fields}


def vpc(**fields) -> dict:
    return {"awsvpcConfiguration": {"subnets": ["subnet-1"], **fields}}


AUTO_SCALING = {  # DESIGN.md §3, verbatim shapes
    "minCapacity": 2,
    "maxCapacity": 10,
    "targetTracking": [
        {
            "policyName": "cpu70",
            "targetValue": 70.0,
            "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "scaleOutCooldown": 60,
            "scaleInCooldown": 300,
            "disableScaleIn": False,
        }
    ],
    "stepScaling": [
        {
            "policyName": "queue-depth",
            "adjustmentType": "ChangeInCapacity",
            "metricAggregationType": "Average",
            "cooldown": 120,
            "minAdjustmentMagnitude": 1,
            "alarm": {"metricName": "BacklogPerTask", "threshold": 100, "comparisonOperator": "GreaterThanOrEqualToThreshold"},
            "stepAdjustments": [
                {"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 50, "scalingAdjustment": 1},
                {"metricIntervalLowerBound": 50, "scalingAdjustment": 3},
            ],
        }
    ],
    "scheduled": [
        {
            "scheduledActionName": "evening",
            "schedule": "cron(0 18 ? * MON-FRI *)",
            "timezone": "Europe/Paris",
            "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 4},
        }
    ],
}


def scaling(**fields) -> dict:
    return svc(autoScaling={**AUTO_SCALING, **fields})


def step(**fields) -> dict:
    return scaling(stepScaling=[{**AUTO_SCALING["stepScaling"][0], **fields}])


def tt(**fields) -> dict:
    return scaling(targetTracking=[{**AUTO_SCALING["targetTracking"][0], **fields}])


def group(**fields) -> dict:
    base = {"name": "general", "count": 3, "instanceType": "m5.large", "availabilityZone": "eu-west-1a", "attributes": {"stack": "prod"}}
    return {"containerInstances": [{**base, **fields}]}


def asg(scaling_fields=None, **provider) -> dict:
    group_spec = {"minSize": 0, "maxSize": 10, "desiredCapacity": 2, "instanceType": "m5.large", "availabilityZones": ["eu-west-1a"]}
    managed = {"status": "ENABLED", "targetCapacity": 90, "minimumScalingStepSize": 1, "maximumScalingStepSize": 10, "instanceWarmupPeriod": 300}
    return {"autoScalingGroupProvider": {"autoScalingGroup": group_spec, "managedScaling": {**managed, **(scaling_fields or {})}, "managedTerminationProtection": "ENABLED", **provider}}


def tg(health=None, **fields) -> dict:
    check = {"path": "/healthz", "port": "traffic-port", "protocol": "HTTP", "intervalSeconds": 15, "timeoutSeconds": 5,
             "healthyThresholdCount": 2, "unhealthyThresholdCount": 3, "matcher": "200-299", **(health or {})}
    return {"port": 8080, "protocol": "HTTP", "targetType": "ip", "healthCheck": check, "deregistrationDelay": 30, **fields}


def sched(target=None, **fields) -> dict:
    spec = {"scheduleExpression": "rate(1 hour)", "state": "ENABLED",
            "target": {"cluster": "prod", "taskDefinition": "report", "taskCount": 1, "launchType": "FARGATE",
                       "networkConfiguration": vpc(securityGroups=["sg-1"]), **(target or {})}}
    spec.update(fields)
    return spec


PASS = [
    # TaskDefinition
    ("TaskDefinition", td()),
    ("TaskDefinition", {"containerDefinitions": [CTR]}),  # manifest form: family comes from metadata.name
    ("TaskDefinition", td(cpu=256, memory=512)),  # leniency: YAML integers
    ("TaskDefinition", td(cpu="256", memory="512")),
    ("TaskDefinition", td(cpu="0.5 vCPU", memory="1GB")),
    ("TaskDefinition", td(cpu="1 vcpu", memory="2 GB")),
    ("TaskDefinition", td(cpu=".25 VCPU", memory="0.5gb")),
    ("TaskDefinition", td(ephemeralStorage={"sizeInGiB": 21}, tags=tags(50))),
    ("TaskDefinition", td(tags=[{"key": "team", "value": ""}])),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "interval": 5, "timeout": 60, "retries": 10, "startPeriod": 0})),
    ("TaskDefinition", ctr(portMappings=[{"containerPort": 65535, "hostPort": 0, "protocol": "udp"}])),
    ("TaskDefinition", ctr(restartPolicy={"enabled": True, "restartAttemptPeriod": 60, "ignoredExitCodes": [0, 1]})),
    ("TaskDefinition", ctr(dnsSearchDomains=["example.com", "a"])),
    ("TaskDefinition", td(placementConstraints=[{"type": "memberOf", "expression": "attribute:stack == prod"}])),
    # Service
    ("Service", svc()),
    ("Service", scaling()),
    ("Service", svc(deploymentConfiguration={"minimumHealthyPercent": 0, "maximumPercent": 100})),
    ("Service", svc(networkConfiguration=vpc(securityGroups=["sg-1"] * 5, assignPublicIp="DISABLED"))),
    ("Service", svc(capacityProviderStrategy=[{"capacityProvider": f"cp{i}", "base": 0, "weight": 1000} for i in range(6)])),
    ("Service", svc(loadBalancers=[{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 80}], healthCheckGracePeriodSeconds=2147483647)),
    ("Service", tt(predefinedMetricSpecification=DROP, customizedMetricSpecification={"metricName": "Backlog", "namespace": "App", "statistic": "Average"})),
    # Cluster
    ("Cluster", group()),
    ("Cluster", {"capacityProviders": ["FARGATE", "FARGATE_SPOT"], "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}],
                 "settings": [{"name": "containerInsights", "value": "enabled"}], "tags": tags(1)}),
    ("Cluster", group(cpu=2048, memory=7680, agentVersion="1.82.1", attributes={"ecs.os-type": "linux", "a/b\\c": "x y:z@1"})),
    # CapacityProvider
    ("CapacityProvider", asg()),
    ("CapacityProvider", asg({"targetCapacity": 100, "minimumScalingStepSize": 10000, "instanceWarmupPeriod": 0})),
    # TargetGroup
    ("TargetGroup", tg()),
    ("TargetGroup", tg({"port": 8081, "matcher": {"httpCode": "200,302"}})),
    ("TargetGroup", tg({"port": "8081", "intervalSeconds": 300, "timeoutSeconds": 120}, targetType="instance", protocol="TCP")),
    # ScheduledTask
    ("ScheduledTask", sched()),
    ("ScheduledTask", sched(scheduleExpression=DROP, eventPattern={"source": ["aws.s3"], "detail-type": ["Object Created"]})),
    ("ScheduledTask", sched({"taskCount": 10, "placementStrategy": [{"type": "spread", "field": "instanceId"}], "overrides": {"containerOverrides": []}})),
    # The rest
    ("Parameter", {"type": "SecureString", "description": "db password", "tier": "Standard"}),
    ("Secret", {"keys": ["username", "password"], "versionStages": ["AWSCURRENT"], "description": "db"}),
    ("EnvironmentFile", {"bucket": "acme-prod-config", "key": "web/web.env", "variables": ["LOG_LEVEL"]}),
    ("Repository", {"images": ["1.4.2", "latest", "sha256:" + "a" * 64], "registryId": "123456789012", "imageTagMutability": "IMMUTABLE"}),
]


def _clean(spec):
    """Drop keys set to DROP by the builders (so a case can remove a field)."""
    if isinstance(spec, dict):
        return {k: _clean(v) for k, v in spec.items() if v is not DROP}
    if isinstance(spec, list):
        return [_clean(v) for v in spec]
    return spec


@pytest.mark.parametrize(("kind", "spec"), PASS)
def test_valid_specs_pass(kind, spec):
    assert messages(kind, _clean(spec)) == []


FAIL = [
    # TaskDefinition: types, nulls and names are as strict as botocore
    ("TaskDefinition", ctr(memoryReservaton=128), "unknown field 'memoryReservaton' (did you mean 'memoryReservation'?)"),
    ("TaskDefinition", ctr(memory="256"), "memory must be an integer, not string '256'"),
    ("TaskDefinition", ctr(essential="yes"), "essential must be a boolean"),
    ("TaskDefinition", td(ipcMode=None), "ipcMode must be a string, not null"),
    ("TaskDefinition", td(cpu=None), "cpu must be a string or an integer, not null"),
    ("TaskDefinition", td(cpu="fast"), "cpu: must be CPU units"),
    ("TaskDefinition", td(cpu="1 GB"), "cpu: must be CPU units"),
    ("TaskDefinition", td(memory="2 TB"), "memory: must be MiB"),
    ("TaskDefinition", td(memory=-1), "memory: must be MiB"),
    ("TaskDefinition", td(networkMode="default"), "networkMode string 'default' is not one of: bridge, host, awsvpc, none"),
    ("TaskDefinition", td(requiresCompatibilities=["FARGATE", "fargate"]), "is not one of: EC2, FARGATE"),
    ("TaskDefinition", {"family": "web"}, "missing required field 'containerDefinitions'"),
    ("TaskDefinition", td(family="my app"), "family: must be 1-255 letters, digits, '-' or '_'"),
    ("TaskDefinition", td(family="x" * 256), "family: must be 1-255 letters"),
    ("TaskDefinition", ctr(name="web.app"), "name: must be 1-255 letters, digits, '-' or '_'"),
    ("TaskDefinition", td(volumes=[{"name": "data/dir"}]), "name: must be 1-255 letters"),
    ("TaskDefinition", td(containerDefinitions=[]), "containerDefinitions must not be empty"),
    ("TaskDefinition", td(containerDefinitions=[dict(CTR, name=f"c{i}") for i in range(11)]), "containerDefinitions allows at most 10 items, not 11"),
    ("TaskDefinition", ctr(logConfiguration=[{"logDriver": "awslogs"}]), "logConfiguration must be a mapping, not a list"),
    ("TaskDefinition", ctr(portMappings={"containerPort": 80}), "portMappings must be a list, not a mapping"),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "interval": 4}), "interval must be at least 5, not 4"),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "interval": 301}), "interval must be at most 300, not 301"),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "timeout": 61}), "timeout must be at most 60, not 61"),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "timeout": 1}), "timeout must be at least 2, not 1"),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "retries": 0}), "retries must be at least 1, not 0"),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "retries": 11}), "retries must be at most 10, not 11"),
    ("TaskDefinition", ctr(healthCheck={"command": ["CMD", "true"], "startPeriod": 301}), "startPeriod must be at most 300, not 301"),
    ("TaskDefinition", ctr(healthCheck={"interval": 30}), "missing required field 'command' in healthCheck"),
    ("TaskDefinition", td(ephemeralStorage={"sizeInGiB": 20}), "sizeInGiB must be at least 21, not 20"),
    ("TaskDefinition", td(ephemeralStorage={"sizeInGiB": 201}), "sizeInGiB must be at most 200, not 201"),
    ("TaskDefinition", ctr(portMappings=[{"containerPort": 0}]), "containerPort must be at least 1, not 0"),
    ("TaskDefinition", ctr(portMappings=[{"containerPort": 80, "hostPort": 65536}]), "hostPort must be at most 65535, not 65536"),
    ("TaskDefinition", ctr(portMappings=[{"containerPort": 80, "protocol": "sctp"}]), "protocol string 'sctp' is not one of: tcp, udp"),
    ("TaskDefinition", td(tags=[]), "tags must not be empty"),
    ("TaskDefinition", td(tags=tags(51)), "tags allows at most 50 items, not 51"),
    ("TaskDefinition", td(tags=[{"key": "", "value": "v"}]), "key must not be empty"),
    ("TaskDefinition", td(tags=[{"key": "k" * 129, "value": "v"}]), "key must be at most 128 characters, not 129"),
    ("TaskDefinition", td(tags=[{"key": "k", "value": "v" * 257}]), "value must be at most 256 characters, not 257"),
    ("TaskDefinition", ctr(environmentFiles=[{"value": "arn:aws:s3:::b/k.env", "type": "s3"}] * 11), "environmentFiles allows at most 10 items, not 11"),
    ("TaskDefinition", ctr(environmentFiles=[{"value": "arn:aws:s3:::b/k.env", "type": "S3"}]), "type string 'S3' is not one of: s3"),
    ("TaskDefinition", td(placementConstraints=[{"type": "memberOf", "expression": "attribute:a == b"}] * 11), "placementConstraints allows at most 10 items, not 11"),
    ("TaskDefinition", td(placementConstraints=[{"type": "distinctInstance"}]), "type string 'distinctInstance' is not one of: memberOf"),
    ("TaskDefinition", td(placementConstraints=[{"type": "memberOf", "expression": "x" * 2001}]), "expression must be at most 2000 characters, not 2001"),
    ("TaskDefinition", ctr(stopTimeout=-1), "stopTimeout must be at least 0, not -1"),
    ("TaskDefinition", ctr(startTimeout=-5), "startTimeout must be at least 0, not -5"),
    ("TaskDefinition", ctr(repositoryCredentials={"credentialsParameter": ""}), "credentialsParameter must not be empty"),
    ("TaskDefinition", ctr(restartPolicy={"enabled": True, "restartAttemptPeriod": 59}), "restartAttemptPeriod must be at least 60, not 59"),
    ("TaskDefinition", ctr(restartPolicy={"enabled": True, "restartAttemptPeriod": 1801}), "restartAttemptPeriod must be at most 1800, not 1801"),
    ("TaskDefinition", ctr(restartPolicy={"enabled": True, "ignoredExitCodes": list(range(51))}), "ignoredExitCodes allows at most 50 items, not 51"),
    ("TaskDefinition", ctr(restartPolicy={"restartAttemptPeriod": 300}), "missing required field 'enabled' in restartPolicy"),
    ("TaskDefinition", ctr(dnsSearchDomains=["bad_domain"]), "dnsSearchDomains: must be a DNS domain"),
    ("TaskDefinition", ctr(dnsSearchDomains=["ends-with-dash-"]), "dnsSearchDomains: must be a DNS domain"),
    ("TaskDefinition", ctr(dockerLabels={"a": 1}), "a must be a string, not number 1"),
    ("TaskDefinition", td(revision=3), "unknown field 'revision'"),
    # Service
    ("Service", svc(serviceName="web"), "unknown field 'serviceName'"),
    ("Service", svc(desiredCount="2"), "desiredCount must be an integer, not string '2'"),
    ("Service", svc(desiredCount=-1), "desiredCount must be at least 0, not -1"),
    ("Service", svc(desiredCount=5001), "desiredCount must be at most 5000, not 5001"),
    ("Service", svc(cluster=DROP, launchType="SPOT"), "launchType string 'SPOT' is not one of: EC2, FARGATE, EXTERNAL"),
    ("Service", svc(schedulingStrategy="replica"), "schedulingStrategy string 'replica' is not one of: REPLICA, DAEMON"),
    ("Service", svc(taskDefinition=3), "taskDefinition must be a string, not number 3"),
    ("Service", svc(healthCheckGracePeriodSeconds=-1), "healthCheckGracePeriodSeconds must be at least 0, not -1"),
    ("Service", svc(loadBalancers=[{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 80}] * 6), "loadBalancers allows at most 5 items, not 6"),
    ("Service", svc(placementStrategy=[{"type": "spread", "field": "instanceId"}] * 6), "placementStrategy allows at most 5 items, not 6"),
    ("Service", svc(placementStrategy=[{"type": "pack"}]), "type string 'pack' is not one of: random, spread, binpack"),
    ("Service", svc(placementConstraints=[{"type": "distinctInstance"}] * 11), "placementConstraints allows at most 10 items, not 11"),
    ("Service", svc(capacityProviderStrategy=[{"capacityProvider": "FARGATE"}] * 21), "capacityProviderStrategy allows at most 20 items, not 21"),
    ("Service", svc(capacityProviderStrategy=[{"capacityProvider": "FARGATE", "base": 100001}]), "base must be at most 100000, not 100001"),
    ("Service", svc(capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1001}]), "weight must be at most 1000, not 1001"),
    ("Service", svc(capacityProviderStrategy=[{"weight": 1}]), "missing required field 'capacityProvider'"),
    ("Service", svc(networkConfiguration=vpc(subnets=[f"subnet-{i}" for i in range(17)])), "subnets allows at most 16 items, not 17"),
    ("Service", svc(networkConfiguration=vpc(securityGroups=["sg-1"] * 6)), "securityGroups allows at most 5 items, not 6"),
    ("Service", svc(networkConfiguration=vpc(subnets=[])), "subnets"),
    # botocore LinuxParameters.swappiness: "whole numbers between 0 and 100"
    ("TaskDefinition", ctr(linuxParameters={"swappiness": 101}), "swappiness must be at most 100, not 101"),
    ("Service", svc(networkConfiguration={"awsvpcConfiguration": {"securityGroups": ["sg-1"]}}), "missing required field 'subnets' in awsvpcConfiguration"),
    ("Service", svc(networkConfiguration=vpc(assignPublicIp=True)), "assignPublicIp must be a string, not boolean true"),
    ("Service", svc(deploymentConfiguration={"minimumHealthyPercent": -1}), "minimumHealthyPercent must be at least 0, not -1"),
    ("Service", svc(deploymentConfiguration={"maximumPercent": "200"}), "maximumPercent must be an integer, not string '200'"),
    ("Service", svc(tags=[]), "tags must not be empty"),
    ("Service", svc(autoScaling={"minCapacity": 1}), "missing required field 'maxCapacity' in autoScaling"),
    ("Service", scaling(targetTraking=[]), "unknown field 'targetTraking' (did you mean 'targetTracking'?)"),
    ("Service", scaling(maxCapacity=-1), "maxCapacity must be at least 0, not -1"),
    ("Service", tt(predefinedMetricSpecification=DROP), "needs exactly one of 'predefinedMetricSpecification' or 'customizedMetricSpecification'"),
    ("Service", tt(customizedMetricSpecification={"metricName": "x"}), "needs exactly one of"),
    ("Service", tt(predefinedMetricSpecification={"predefinedMetricType": "DynamoDBReadCapacityUtilization"}),
     "predefinedMetricType string 'DynamoDBReadCapacityUtilization' is not one of: ALBRequestCountPerTarget, ECSServiceAverageCPUUtilization"),
    ("Service", tt(targetValue="70"), "targetValue must be a number, not string '70'"),
    ("Service", tt(targetValue=DROP), "missing required field 'targetValue'"),
    ("Service", tt(scaleInCooldown=-1), "scaleInCooldown must be at least 0, not -1"),
    ("Service", step(adjustmentType="Add"), "adjustmentType string 'Add' is not one of: ChangeInCapacity, PercentChangeInCapacity, ExactCapacity"),
    ("Service", step(metricAggregationType="Sum"), "metricAggregationType string 'Sum' is not one of: Average, Minimum, Maximum"),
    ("Service", step(alarm={"metricName": "Backlog", "comparisonOperator": "GreaterThanThreshold"}), "missing required field 'threshold' in alarm"),
    ("Service", step(alarm={"metricName": "B", "threshold": 1, "comparisonOperator": ">="}), "comparisonOperator string '>=' is not one of"),
    ("Service", step(alarm={"metricName": "B", "threshold": 1, "comparisonOperator": "GreaterThanThreshold", "statistic": "Mean"}), "statistic string 'Mean' is not one of"),
    ("Service", step(stepAdjustments=[]), "stepAdjustments must not be empty"),
    ("Service", step(stepAdjustments=[{"metricIntervalLowerBound": 0}]), "missing required field 'scalingAdjustment'"),
    ("Service", step(stepAdjustments=[{"metricIntervalLowerBound": 0, "scalingAdjustment": 1.5}]), "scalingAdjustment must be an integer, not number 1.5"),
    ("Service", scaling(scheduled=[{"scheduledActionName": "x", "schedule": "every day", "scalableTargetAction": {"minCapacity": 1}}]), "schedule: must be at(...), rate(...) or cron(...)"),
    ("Service", scaling(scheduled=[{"scheduledActionName": "x", "schedule": "rate(1 day)", "scalableTargetAction": {}}]), "scalableTargetAction must not be empty"),
    ("Service", scaling(scheduled=[{"schedule": "rate(1 day)", "scalableTargetAction": {"minCapacity": 1}}]), "missing required field 'scheduledActionName'"),
    # Cluster
    ("Cluster", {"clusterName": "prod"}, "unknown field 'clusterName'"),
    ("Cluster", group(count=DROP), "missing required field 'count'"),
    ("Cluster", group(availabilityZone=DROP), "missing required field 'availabilityZone'"),
    ("Cluster", group(count=5001), "count must be at most 5000, not 5001"),
    ("Cluster", group(count="3"), "count must be an integer, not string '3'"),
    ("Cluster", group(cpu="2048"), "cpu must be an integer, not string '2048'"),
    ("Cluster", group(name="general a"), "name: must be 1-255 letters"),
    ("Cluster", group(instanceType="large"), "instanceType: must be an EC2 instance type"),
    ("Cluster", group(attributes={"bad name": "x"}), "attributes: attribute names are 1-128 letters"),
    ("Cluster", group(attributes={"stack": ""}), "stack: must be 1-128 letters"),
    ("Cluster", group(attributes={"stack": " prod"}), "no leading or trailing space"),
    ("Cluster", group(attributes={"stack": 1}), "stack must be a string, not number 1"),
    ("Cluster", group(agentVersion=1.82), "agentVersion must be a string"),
    ("Cluster", {"settings": [{"name": "insights", "value": "enabled"}]}, "name string 'insights' is not one of: containerInsights"),
    # botocore ClusterSetting.value: "The supported values are enhanced, enabled, and disabled."
    ("Cluster", {"settings": [{"name": "containerInsights", "value": "maybe"}]}, "value string 'maybe' is not one of: enhanced, enabled, disabled"),
    ("Cluster", {"defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1001}]}, "weight must be at most 1000"),
    ("Cluster", {"tags": []}, "tags must not be empty"),
    # CapacityProvider
    ("CapacityProvider", {}, "missing required field 'autoScalingGroupProvider'"),
    ("CapacityProvider", {"autoScalingGroupProvider": {"autoScalingGroupArn": "arn:asg"}}, "unknown field 'autoScalingGroupArn' (did you mean 'autoScalingGroup'?)"),
    ("CapacityProvider", asg({"targetCapacity": 0}), "targetCapacity must be at least 1, not 0"),
    ("CapacityProvider", asg({"targetCapacity": 101}), "targetCapacity must be at most 100, not 101"),
    ("CapacityProvider", asg({"minimumScalingStepSize": 0}), "minimumScalingStepSize must be at least 1, not 0"),
    ("CapacityProvider", asg({"maximumScalingStepSize": 10001}), "maximumScalingStepSize must be at most 10000, not 10001"),
    ("CapacityProvider", asg({"instanceWarmupPeriod": 10001}), "instanceWarmupPeriod must be at most 10000, not 10001"),
    ("CapacityProvider", asg({"status": "ON"}), "status string 'ON' is not one of: ENABLED, DISABLED"),
    ("CapacityProvider", asg(managedTerminationProtection="yes"), "managedTerminationProtection string 'yes' is not one of: ENABLED, DISABLED"),
    ("CapacityProvider", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": 0, "maxSize": 2}}}, "missing required field 'instanceType' in autoScalingGroup"),
    ("CapacityProvider", {"autoScalingGroupProvider": {"autoScalingGroup": {"minSize": -1, "maxSize": 2, "instanceType": "m5.large"}}}, "minSize must be at least 0, not -1"),
    # TargetGroup
    ("TargetGroup", tg(port=0), "port must be at least 1, not 0"),
    ("TargetGroup", tg(port=65536), "port must be at most 65535, not 65536"),
    ("TargetGroup", tg(protocol="http"), "protocol string 'http' is not one of: HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE"),
    ("TargetGroup", tg(targetType="lambda"), "targetType string 'lambda' is not one of: instance, ip"),
    ("TargetGroup", {"protocol": "HTTP"}, "missing required field 'port'"),
    ("TargetGroup", tg({"intervalSeconds": 4}), "intervalSeconds must be at least 5, not 4"),
    ("TargetGroup", tg({"intervalSeconds": 301}), "intervalSeconds must be at most 300, not 301"),
    ("TargetGroup", tg({"timeoutSeconds": 121}), "timeoutSeconds must be at most 120, not 121"),
    ("TargetGroup", tg({"healthyThresholdCount": 1}), "healthyThresholdCount must be at least 2, not 1"),
    ("TargetGroup", tg({"unhealthyThresholdCount": 11}), "unhealthyThresholdCount must be at most 10, not 11"),
    ("TargetGroup", tg({"port": "traffic"}), "port: must be 'traffic-port' or a port number 1-65535"),
    ("TargetGroup", tg({"port": 70000}), "port: must be 'traffic-port' or a port number 1-65535"),
    ("TargetGroup", tg({"path": "healthz"}), "path: must start with '/'"),
    ("TargetGroup", tg({"matcher": {"code": "200"}}), "unknown field 'code'"),
    ("TargetGroup", tg({"healthCheckPath": "/"}), "unknown field 'healthCheckPath'"),
    ("TargetGroup", tg(deregistrationDelay=3601), "deregistrationDelay must be at most 3600, not 3601"),
    # ScheduledTask
    ("ScheduledTask", sched(scheduleExpression=DROP), "needs exactly one of 'scheduleExpression' or 'eventPattern'"),
    ("ScheduledTask", sched(eventPattern={"source": ["aws.s3"]}), "needs exactly one of 'scheduleExpression' or 'eventPattern'"),
    ("ScheduledTask", sched(scheduleExpression="hourly"), "scheduleExpression: must be at(...), rate(...) or cron(...)"),
    ("ScheduledTask", sched(scheduleExpression=DROP, eventPattern=["aws.s3"]), "eventPattern must be a mapping, not a list"),
    ("ScheduledTask", sched(state="ON"), "state string 'ON' is not one of: ENABLED, DISABLED"),
    ("ScheduledTask", sched(target=None) | {"target": {"cluster": "prod"}}, "missing required field 'taskDefinition' in target"),
    ("ScheduledTask", {"scheduleExpression": "rate(1 hour)"}, "missing required field 'target'"),
    ("ScheduledTask", sched({"taskCount": 0}), "taskCount must be at least 1, not 0"),
    ("ScheduledTask", sched({"launchType": "SPOT"}), "launchType string 'SPOT' is not one of: EC2, FARGATE, EXTERNAL"),
    ("ScheduledTask", sched({"networkConfiguration": vpc(subnets=[f"s{i}" for i in range(17)])}), "subnets allows at most 16 items, not 17"),
    ("ScheduledTask", sched({"networkConfiguration": {"subnets": ["s1"]}}), "unknown field 'subnets'"),
    ("ScheduledTask", sched({"placementStrategy": [{"type": "random"}] * 6}), "placementStrategy allows at most 5 items, not 6"),
    ("ScheduledTask", sched({"placementConstraints": [{"type": "distinctInstance"}] * 11}), "placementConstraints allows at most 10 items, not 11"),
    ("ScheduledTask", sched({"capacityProviderStrategy": [{"capacityProvider": "FARGATE"}] * 7}), "capacityProviderStrategy allows at most 6 items, not 7"),
    ("ScheduledTask", sched({"propagateTags": "SERVICE"}), "propagateTags string 'SERVICE' is not one of: TASK_DEFINITION"),
    ("ScheduledTask", sched({"tags": []}), "tags must not be empty"),
    # Parameter, Secret, EnvironmentFile, Repository
    ("Parameter", {}, "missing required field 'type'"),
    ("Parameter", {"type": "SecureString", "value": "hunter2"}, "unknown field 'value'"),
    ("Parameter", {"type": "Secure"}, "type string 'Secure' is not one of: String, StringList, SecureString"),
    ("Parameter", {"type": "String", "tier": "Premium"}, "tier string 'Premium' is not one of"),
    ("Secret", {"secretString": "x"}, "unknown field 'secretString'"),
    ("Secret", {"keys": "username"}, "keys must be a list, not string 'username'"),
    ("Secret", {"keys": [""]}, "keys must not be empty"),
    ("Secret", {"keys": ["a", "a"]}, "keys must not repeat an item"),
    ("Secret", {"versionStage": ["AWSCURRENT"]}, "unknown field 'versionStage' (did you mean 'versionStages'?)"),
    ("EnvironmentFile", {"bucket": "acme"}, "missing required field 'key'"),
    ("EnvironmentFile", {"bucket": "Acme_Config", "key": "a.env"}, "bucket: must be an S3 bucket name"),
    ("EnvironmentFile", {"bucket": "acme", "key": "a.env", "variables": "A"}, "variables must be a list"),
    ("EnvironmentFile", {"bucket": "acme", "key": "a.env", "values": {"A": "1"}}, "unknown field 'values'"),
    ("Repository", {"images": ["bad tag"]}, "images: must be an image tag"),
    ("Repository", {"images": "latest"}, "images must be a list, not string 'latest'"),
    ("Repository", {"registryId": "1234"}, "registryId: must be a 12-digit AWS account ID"),
    ("Repository", {"registryId": 123456789012}, "registryId must be a string, not number 123456789012"),
    ("Repository", {"image": ["latest"]}, "unknown field 'image' (did you mean 'images'?)"),
]


@pytest.mark.parametrize(("kind", "spec", "fragment"), FAIL, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(FAIL)])
def test_invalid_specs_fail_with_a_readable_message(kind, spec, fragment):
    found = messages(kind, _clean(spec))
    assert any(fragment in m for m in found), f"{fragment!r} not in {found}"


def test_misspelt_field_is_reported_end_to_end_with_its_position(write):
    path = write(
        "web.yaml",
        """\
        apiVersion: ecsctl/v1
        kind: TaskDefinition
        metadata: {name: web}
        spec:
          containerDefinitions:
            - name: web
              image: nginx
              memoryReservaton: 128
        """,
    )
    report = Validator().validate([str(path)])
    schema_findings = [f for f in report.findings if f.rule == TASKDEF_RULE]
    assert [(f.pointer, f.line, f.message) for f in schema_findings] == [
        ("/spec/containerDefinitions/0/memoryReservaton", 8, "unknown field 'memoryReservaton' (did you mean 'memoryReservation'?)")
    ]


# --------------------------------------------------------------------------- the corpus

# Files whose SOURCES.tsv label we disagree with, and what the schema must say instead.
LABEL_CORRECTIONS = {
    # Labelled `describe`, but its portMappings is a mapping with capitalised keys
    # ({'ContainerPort': 443, 'HostPort': 443, 'Protcol': 'tcp'}): the CLI refuses it
    # whatever the wrapper, as the row's own reason column says.
    "aws-samples__amazon-ecs-firelens-examples__examples__fluent-bit__logstash__task-definition.json": (
        "no",
        "CLI: Invalid type for parameter containerDefinitions[1].portMappings, value: {...}",
    ),
}
# A bare RegisterTaskDefinition document without `family`: in a manifest family
# defaults to metadata.name, so the schema cannot require it; the envelope must.
MISSING_FAMILY = "CLI: Missing required parameter in input: 'family'"
# describe-task-definition output: the CLI sees only the wrapper; ecsctl unwraps it.
DESCRIBE_WRAPPER = "CLI: Unknown parameter in input: 'taskDefinition'"


def _pointer(cli_path: str) -> str:
    """``containerDefinitions[0].mountPoints[0].readOnly`` → ``/containerDefinitions/0/mountPoints/0/readOnly``."""
    return "/" + re.sub(r"\[(\d+)\]", r".\1", cli_path).replace(".", "/")


def schema_expectations(reason: str) -> list[tuple[str, str, str]]:
    """(reason part, JSON pointer suffix or "", message fragment) for each client-side reason."""
    expected = []
    for part in reason.split("||")[0].split(" | "):
        part = part.strip()
        if m := re.match(r"CLI param validation: \d+ null value\(s\) \(e\.g\. (\S+)\)", part):
            expected.append((part, _pointer(m.group(1)), "null"))
        elif m := re.match(r"CLI param validation: \d+ number\(s\) given as strings \(e\.g\. (\S+)\)", part):
            expected.append((part, _pointer(m.group(1)), "not string"))
        elif m := re.match(r"CLI: Unknown parameter in (input|\S+): '(\w+)'", part):
            if m.group(2) != "taskDefinition":  # the describe wrapper is recognised, not refused
                expected.append((part, "/" + m.group(2), f"unknown field '{m.group(2)}'"))
        elif m := re.match(r"invalid enum: (\S+?)='", part):
            expected.append((part, _pointer(m.group(1)), "is not one of"))
        elif m := re.match(r"CLI: Invalid type for parameter (\S+?),", part):
            expected.append((part, _pointer(m.group(1)), "must be"))
        elif m := re.match(r"CLI: Invalid length for parameter (\S+?),", part):
            expected.append((part, _pointer(m.group(1)), "must not be empty"))
        elif part.startswith("CLI: Missing required parameter in input: 'containerDefinitions'"):
            continue  # only ever reported for the describe wrapper, which is unwrapped
    return expected


def _corpus_rows() -> list:
    if not (CORPUS / "SOURCES.tsv").is_file():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"{CORPUS} is absent"))]
    rows = []
    for line in (CORPUS / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        name, subset, label, reason = cols[0], cols[1], cols[7], cols[8]
        if subset != "real" or not (CORPUS / "real" / name).is_file():
            continue
        label, reason = LABEL_CORRECTIONS.get(name, (label, reason))
        if label == "no" and not schema_expectations(reason):
            if MISSING_FAMILY not in reason or DESCRIBE_WRAPPER in reason:
                continue  # refused by a service-side rule only: the rules' tests cover it
        rows.append(pytest.param(name, label, reason, id=name[:80]))
    return rows


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.mark.parametrize(("name", "label", "reason"), _corpus_rows())
def test_corpus_schema_findings_match_the_labels(validator, name, label, reason):
    report = validator.validate([str(CORPUS / "real" / name)])
    schema = [f for f in report.findings if f.rule == TASKDEF_RULE]
    if label in ("yes", "unsure", "describe"):
        assert schema == [], "\n".join(f"{f.pointer}: {f.message}" for f in schema)
        return
    assert label == "no"
    expected = schema_expectations(reason)
    if not expected:  # only `family` is missing: some error must say so
        assert any("family" in f.message for f in report.findings if f.severity.value == "error")
    for part, pointer, fragment in expected:
        hits = [f for f in schema if f.pointer.endswith(pointer) and fragment in f.message]
        assert hits, f"no schema error for {part!r}; got:\n" + "\n".join(f"{f.pointer}: {f.message}" for f in schema)


def test_newer_ecs_fields_are_accepted():
    """Fields ECS added after the model ecsctl was first generated from (botocore
    1.44's, e.g. the circuit breaker's resetOnHealthyTask) validate."""
    service = {"cluster": "prod", "taskDefinition": "web", "deploymentConfiguration": {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True, "resetOnHealthyTask": False}}}
    assert messages("Service", service) == []
    assert "unknown field 'nope'" in " ".join(messages("Service", {**service, "nope": 1}))
