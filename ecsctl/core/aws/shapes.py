"""Canonical manifest specs <-> the request and response shapes of the AWS APIs (pure).

Manifests use the ECS API's own field names (DESIGN §3), so most of the mapping is choosing
which keys each operation accepts. Both directions live here so that they cannot drift apart:

    canonical spec ──request_*()──► RegisterTaskDefinition / CreateService / UpdateService /
                                    CreateCluster / CreateCapacityProvider / PutScalingPolicy /
                                    PutRule + PutTargets / CreateSchedule parameters
    Describe* output ──spec_from_*()──► the spec a manifest would have to say to get it
                                        (not yet canonical: callers run ``canonical``)

Field lists are checked against botocore's service model by ``tests/aws/test_shapes.py``;
this module itself never imports botocore (``core`` stays pure).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from ecsctl.core.normalize import no_alarms

# RegisterTaskDefinition input members (botocore ecs model).
REGISTER_TASK_DEFINITION = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "tags", "pidMode", "ipcMode",
    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform",
    "enableFaultInjection", "trustedExecutionConfiguration",
)
# What DescribeTaskDefinition reports that nobody can ask for (dropped on import).
TASK_DEFINITION_READ_ONLY = (
    "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt",
    "registeredBy", "deregisteredAt", "deleteRequestedAt",
)
CREATE_SERVICE = (
    "cluster", "serviceName", "taskDefinition", "availabilityZoneRebalancing", "loadBalancers",
    "serviceRegistries", "desiredCount", "launchType", "capacityProviderStrategy", "platformVersion",
    "role", "deploymentConfiguration", "placementConstraints", "placementStrategy", "networkConfiguration",
    "healthCheckGracePeriodSeconds", "schedulingStrategy", "deploymentController", "tags",
    "enableECSManagedTags", "propagateTags", "enableExecuteCommand", "serviceConnectConfiguration",
    "volumeConfigurations", "vpcLatticeConfigurations", "gatewayConnectors", "monitoring",
)
UPDATE_SERVICE = (
    "cluster", "service", "desiredCount", "taskDefinition", "capacityProviderStrategy",
    "deploymentConfiguration", "availabilityZoneRebalancing", "networkConfiguration", "placementConstraints",
    "placementStrategy", "platformVersion", "forceNewDeployment", "healthCheckGracePeriodSeconds",
    "enableExecuteCommand", "enableECSManagedTags", "loadBalancers", "propagateTags", "serviceRegistries",
    "serviceConnectConfiguration", "volumeConfigurations", "vpcLatticeConfigurations", "gatewayConnectors",
    "monitoring",
)
# Lists that UpdateService only clears when it is sent an empty list.
_CLEARABLE = ("loadBalancers", "serviceRegistries", "placementConstraints", "placementStrategy",
              "capacityProviderStrategy")
CREATE_CLUSTER = ("clusterName", "tags", "settings", "configuration", "capacityProviders",
                  "defaultCapacityProviderStrategy", "serviceConnectDefaults")
UPDATE_CLUSTER = ("cluster", "settings", "configuration", "serviceConnectDefaults")
# Keys of a Service spec that are ecsctl's, not CreateService's.
SERVICE_EXTRAS = ("autoScaling",)
# Keys of a Cluster spec that only the simulation uses (real instances come from EC2/ASGs).
CLUSTER_EXTRAS = ("containerInstances",)

SCALABLE_DIMENSION = "ecs:service:DesiredCount"
DEFAULT_EVENTS_ROLE = "ecsEventsRole"  # the role name the ECS console creates for scheduled tasks


def pick(spec: dict, keys: Iterable[str]) -> dict:
    return {k: spec[k] for k in keys if k in spec}


def pascal(value: Any) -> Any:
    """camelCase keys to PascalCase, recursively (Application Auto Scaling, CloudWatch, EventBridge)."""
    if isinstance(value, dict):
        return {(k[:1].upper() + k[1:]): pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def camel(value: Any) -> Any:
    """PascalCase keys to camelCase, recursively: the inverse of :func:`pascal`."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:]): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def last_segment(value: str) -> str:
    """``arn:aws:ecs:r:a:cluster/prod`` -> ``prod``; a plain name stays as it is."""
    value = str(value)
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def taskdef_ref(value: str) -> str:
    """``arn:…:task-definition/web:3`` -> ``web:3``; ``web`` and ``web:3`` stay."""
    value = str(value)
    if value.startswith("arn:") and ":task-definition/" in value:
        return value.split(":task-definition/", 1)[1]
    return value


# --------------------------------------------------------------------------- task definitions


def request_register_task_definition(spec: dict) -> dict:
    """RegisterTaskDefinition parameters: the canonical spec is already that request."""
    return pick(spec, REGISTER_TASK_DEFINITION)


def spec_from_task_definition(described: dict, tags: list | None = None) -> dict:
    """A DescribeTaskDefinition ``taskDefinition`` (or a RegisterTaskDefinition request) as a spec."""
    spec = {k: v for k, v in described.items() if k not in TASK_DEFINITION_READ_ONLY}
    if tags:
        spec["tags"] = tags
    return spec


# --------------------------------------------------------------------------- services


def _has_load_balancer(spec: dict) -> bool:
    return bool(spec.get("loadBalancers") or spec.get("serviceRegistries"))


def request_create_service(name: str, spec: dict) -> dict:
    """CreateService parameters for a canonical Service spec."""
    req = pick(spec, CREATE_SERVICE)
    req["serviceName"] = name
    if not _has_load_balancer(spec) and not req.get("healthCheckGracePeriodSeconds"):
        # ECS refuses a grace period (even 0) on a service without a load balancer.
        req.pop("healthCheckGracePeriodSeconds", None)
    if spec.get("schedulingStrategy") == "DAEMON":
        req.pop("desiredCount", None)
    return req


def request_update_service(name: str, spec: dict, before: dict | None) -> dict:
    """UpdateService parameters: every updatable field, lists emptied when the manifest dropped them.

    ``desiredCount`` is sent only when the manifest changed it (or there is no ``before``), so
    an update of another field does not undo what auto scaling set.
    """
    before = before or {}
    req = pick(spec, UPDATE_SERVICE)
    req.pop("cluster", None)
    req["cluster"] = spec.get("cluster") or "default"
    req["service"] = name
    for key in _CLEARABLE:
        if key not in spec and before.get(key):
            req[key] = []
    if before and before.get("desiredCount") == spec.get("desiredCount"):
        req.pop("desiredCount", None)
    if spec.get("schedulingStrategy") == "DAEMON":
        req.pop("desiredCount", None)
    if not _has_load_balancer(spec) and not req.get("healthCheckGracePeriodSeconds"):
        req.pop("healthCheckGracePeriodSeconds", None)
    if "capacityProviderStrategy" in req and req["capacityProviderStrategy"] == [] and spec.get("launchType"):
        req.pop("capacityProviderStrategy")  # a launch-type service has no strategy to clear
    return req


def failed_deployment_of(described: dict, task_definition: str) -> bool:
    """Whether the DescribeServices ``services[]`` item ``described`` shows a PRIMARY deployment
    of ``task_definition`` (ARN or ``family:N``) whose rollout FAILED without a rollback: the
    circuit breaker stopped it and the older tasks still run.  UpdateService with that same
    revision starts no deployment then, so the update that deploys it again must send
    ``forceNewDeployment`` (what ``app.plan.revision_changes`` plans and the local backend does)."""
    wanted = taskdef_ref(task_definition)
    return any(d.get("status") == "PRIMARY" and d.get("rolloutState") == "FAILED"
               and taskdef_ref(str(d.get("taskDefinition") or "")) == wanted
               for d in described.get("deployments") or ())


def spec_from_service(described: dict, tags: list | None = None) -> dict:
    """A DescribeServices ``services[]`` item as the Service spec that would create it."""
    spec: dict[str, Any] = {}
    for key in CREATE_SERVICE:
        if key in ("serviceName", "cluster", "taskDefinition", "role", "tags"):
            continue
        if key in described:
            spec[key] = described[key]
    spec["cluster"] = last_segment(described.get("clusterArn", "default"))
    if described.get("taskDefinition"):
        spec["taskDefinition"] = taskdef_ref(described["taskDefinition"])
    if described.get("capacityProviderStrategy"):
        spec.pop("launchType", None)  # DescribeServices leaves launchType empty then, but be sure
    config = spec.get("deploymentConfiguration")
    if isinstance(config, dict) and no_alarms(config.get("alarms")):  # reported for every service
        spec["deploymentConfiguration"] = {k: v for k, v in config.items() if k != "alarms"}
    if tags or described.get("tags"):
        spec["tags"] = tags or described.get("tags")
    return spec


def service_observed(described: dict) -> frozenset[str]:
    """The spec keys a DescribeServices answer actually reported (others cannot be compared)."""
    keys = {k for k in CREATE_SERVICE if k in described}
    keys |= {"cluster"} if "clusterArn" in described else set()
    return frozenset(keys - {"serviceName", "role"})


# --------------------------------------------------------------------------- clusters, capacity providers


def request_create_cluster(name: str, spec: dict) -> dict:
    req = pick(spec, CREATE_CLUSTER)
    req["clusterName"] = name
    return req


def request_update_cluster(name: str, spec: dict) -> dict:
    req = pick(spec, UPDATE_CLUSTER)
    req["cluster"] = name
    return req


def request_put_cluster_capacity_providers(name: str, spec: dict) -> dict:
    return {"cluster": name, "capacityProviders": list(spec.get("capacityProviders") or []),
            "defaultCapacityProviderStrategy": list(spec.get("defaultCapacityProviderStrategy") or [])}


def spec_from_cluster(described: dict, tags: list | None = None) -> dict:
    spec = pick(described, ("settings", "configuration", "capacityProviders", "defaultCapacityProviderStrategy",
                            "serviceConnectDefaults"))
    if tags or described.get("tags"):
        spec["tags"] = tags or described.get("tags")
    return spec


def request_capacity_provider(name: str, spec: dict, asg_arn: str, *, create: bool) -> dict:
    """CreateCapacityProvider / UpdateCapacityProvider parameters (the ASG itself is not ecsctl's)."""
    provider = dict(spec.get("autoScalingGroupProvider") or {})
    provider.pop("autoScalingGroup", None)
    if create:
        provider["autoScalingGroupArn"] = asg_arn
    req = {"name": name, "autoScalingGroupProvider": provider}
    if create and spec.get("tags"):
        req["tags"] = spec["tags"]
    return req


# --------------------------------------------------------------------------- Application Auto Scaling


def scaling_resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def alarm_name(cluster: str, service: str, policy: str) -> str:
    return f"{cluster}-{service}-{policy}"


def request_scalable_target(cluster: str, service: str, auto: dict) -> dict:
    return {"ServiceNamespace": "ecs", "ResourceId": scaling_resource_id(cluster, service),
            "ScalableDimension": SCALABLE_DIMENSION, "MinCapacity": int(auto["minCapacity"]),
            "MaxCapacity": int(auto["maxCapacity"])}


def request_target_tracking(cluster: str, service: str, policy: dict) -> dict:
    config = pascal({k: v for k, v in policy.items() if k != "policyName"})
    return {"ServiceNamespace": "ecs", "ResourceId": scaling_resource_id(cluster, service),
            "ScalableDimension": SCALABLE_DIMENSION, "PolicyName": policy["policyName"],
            "PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": config}


def request_step_scaling(cluster: str, service: str, policy: dict) -> dict:
    config = pascal({k: v for k, v in policy.items() if k not in ("policyName", "alarm")})
    return {"ServiceNamespace": "ecs", "ResourceId": scaling_resource_id(cluster, service),
            "ScalableDimension": SCALABLE_DIMENSION, "PolicyName": policy["policyName"],
            "PolicyType": "StepScaling", "StepScalingPolicyConfiguration": config}


def request_alarm(cluster: str, service: str, policy: dict, policy_arn: str) -> dict | None:
    """CloudWatch PutMetricAlarm for a step-scaling policy's ``alarm`` (None without one)."""
    alarm = policy.get("alarm")
    if not alarm:
        return None
    req = pascal(alarm)
    req["AlarmName"] = alarm_name(cluster, service, policy["policyName"])
    req["AlarmActions"] = [policy_arn]
    return req


def request_scheduled_action(cluster: str, service: str, action: dict) -> dict:
    req = pascal(action)
    req.update({"ServiceNamespace": "ecs", "ResourceId": scaling_resource_id(cluster, service),
                "ScalableDimension": SCALABLE_DIMENSION})
    return req


def auto_scaling_from(target: dict | None, policies: list[dict], actions: list[dict],
                      alarms: dict[str, dict] | None = None) -> dict | None:
    """Describe* answers of Application Auto Scaling (and CloudWatch) as a service's ``autoScaling``."""
    if not target:
        return None
    auto: dict[str, Any] = {"minCapacity": target["MinCapacity"], "maxCapacity": target["MaxCapacity"]}
    tracking, steps = [], []
    for p in policies:
        if p.get("PolicyType") == "TargetTrackingScaling":
            config = camel(p.get("TargetTrackingScalingPolicyConfiguration") or {})
            tracking.append({"policyName": p["PolicyName"], **config})
        elif p.get("PolicyType") == "StepScaling":
            config = camel(p.get("StepScalingPolicyConfiguration") or {})
            item = {"policyName": p["PolicyName"], **config}
            alarm = (alarms or {}).get(p["PolicyName"])
            if alarm:
                item["alarm"] = alarm
            steps.append(item)
    scheduled = []
    for a in actions:
        item = {"scheduledActionName": a["ScheduledActionName"], "schedule": a["Schedule"]}
        if a.get("Timezone"):
            item["timezone"] = a["Timezone"]
        if a.get("ScalableTargetAction"):
            item["scalableTargetAction"] = camel(a["ScalableTargetAction"])
        for key in ("StartTime", "EndTime"):
            if a.get(key):
                item[key[:1].lower() + key[1:]] = a[key]
        scheduled.append(item)
    if tracking:
        auto["targetTracking"] = tracking
    if steps:
        auto["stepScaling"] = steps
    if scheduled:
        auto["scheduled"] = scheduled
    return auto


_ALARM_KEYS = ("namespace", "metricName", "statistic", "extendedStatistic", "dimensions", "period",
               "evaluationPeriods", "datapointsToAlarm", "threshold", "comparisonOperator", "unit",
               "treatMissingData")


def alarm_from(described: dict) -> dict:
    """A CloudWatch DescribeAlarms ``MetricAlarms[]`` item as a step policy's ``alarm``."""
    return {k: v for k, v in camel(described).items() if k in _ALARM_KEYS}


# --------------------------------------------------------------------------- scheduled tasks

_TARGET_ECS = ("taskCount", "launchType", "networkConfiguration", "platformVersion", "group",
               "capacityProviderStrategy", "enableECSManagedTags", "enableExecuteCommand",
               "placementConstraints", "placementStrategy", "propagateTags", "tags")


def uses_scheduler(spec: dict) -> bool:
    """EventBridge rules know neither time zones nor ``at()``: those go to EventBridge Scheduler."""
    expression = str(spec.get("scheduleExpression") or "").strip()
    zone = spec.get("scheduleExpressionTimezone")
    return bool(expression) and (expression.startswith("at(") or (zone not in (None, "", "UTC", "Etc/UTC")))


def ecs_parameters(target: dict, taskdef_arn: str) -> dict:
    """EcsParameters (EventBridge PutTargets and Scheduler share the shape, PascalCased)."""
    params = pascal(pick(target, _TARGET_ECS))
    if "NetworkConfiguration" in params:
        vpc = params["NetworkConfiguration"].pop("AwsvpcConfiguration", None)
        if vpc is not None:
            params["NetworkConfiguration"]["awsvpcConfiguration"] = vpc  # events: camelCase member
    params["TaskDefinitionArn"] = taskdef_arn
    return params


def _scheduler_ecs_parameters(target: dict, taskdef_arn: str) -> dict:
    params = pascal(pick(target, _TARGET_ECS))
    params["TaskDefinitionArn"] = taskdef_arn
    return params


def request_put_rule(name: str, spec: dict) -> dict:
    req: dict[str, Any] = {"Name": name, "State": spec.get("state", "ENABLED")}
    if spec.get("scheduleExpression"):
        req["ScheduleExpression"] = spec["scheduleExpression"]
    if spec.get("eventPattern"):
        req["EventPattern"] = json.dumps(spec["eventPattern"], sort_keys=True)
    if spec.get("description"):
        req["Description"] = spec["description"]
    return req


def request_put_targets(name: str, spec: dict, cluster_arn: str, taskdef_arn: str, role_arn: str) -> dict:
    target = spec.get("target") or {}
    item: dict[str, Any] = {"Id": name[:64], "Arn": cluster_arn, "RoleArn": role_arn,
                            "EcsParameters": ecs_parameters(target, taskdef_arn)}
    if target.get("overrides"):
        item["Input"] = json.dumps(target["overrides"], sort_keys=True)
    transformer = target.get("inputTransformer")
    if isinstance(transformer, dict) and transformer.get("inputTemplate"):  # EventBridge's InputTransformer
        item["InputTransformer"] = {"InputTemplate": transformer["inputTemplate"],
                                    **({"InputPathsMap": transformer["inputPathsMap"]} if transformer.get("inputPathsMap") else {})}
    return {"Rule": name, "Targets": [item]}


def request_schedule(name: str, spec: dict, cluster_arn: str, taskdef_arn: str, role_arn: str) -> dict:
    target = spec.get("target") or {}
    tgt: dict[str, Any] = {"Arn": cluster_arn, "RoleArn": role_arn,
                           "EcsParameters": _scheduler_ecs_parameters(target, taskdef_arn)}
    if target.get("overrides"):
        tgt["Input"] = json.dumps(target["overrides"], sort_keys=True)
    req: dict[str, Any] = {"Name": name, "ScheduleExpression": spec["scheduleExpression"],
                           "State": spec.get("state", "ENABLED"), "FlexibleTimeWindow": {"Mode": "OFF"},
                           "Target": tgt}
    if spec.get("scheduleExpressionTimezone"):
        req["ScheduleExpressionTimezone"] = spec["scheduleExpressionTimezone"]
    if spec.get("description"):
        req["Description"] = spec["description"]
    return req


def _target_from_ecs(params: dict, cluster_arn: str) -> dict:
    params = dict(params)
    network = params.pop("NetworkConfiguration", None)
    target = camel(params)
    arn = target.pop("taskDefinitionArn", "")
    target["cluster"] = last_segment(cluster_arn)
    target["taskDefinition"] = taskdef_ref(arn)
    if network:
        vpc = network.get("awsvpcConfiguration") or network.get("AwsvpcConfiguration")
        target["networkConfiguration"] = {"awsvpcConfiguration": camel(vpc or {})}
    return target


def spec_from_rule(rule: dict, targets: list[dict]) -> dict:
    """DescribeRule + ListTargetsByRule as a ScheduledTask spec (the first ECS target)."""
    spec: dict[str, Any] = {"state": rule.get("State", "ENABLED")}
    if rule.get("ScheduleExpression"):
        spec["scheduleExpression"] = rule["ScheduleExpression"]
    if rule.get("EventPattern"):
        spec["eventPattern"] = json.loads(rule["EventPattern"])
    if rule.get("Description"):
        spec["description"] = rule["Description"]
    for t in targets:
        if t.get("EcsParameters"):
            spec["target"] = _target_from_ecs(t["EcsParameters"], t.get("Arn", ""))
            if t.get("Input"):
                spec["target"]["overrides"] = json.loads(t["Input"])
            transformer = t.get("InputTransformer") or {}
            if transformer.get("InputTemplate"):
                spec["target"]["inputTransformer"] = {"inputTemplate": transformer["InputTemplate"],
                                                      **({"inputPathsMap": transformer["InputPathsMap"]}
                                                         if transformer.get("InputPathsMap") else {})}
            break
    return spec


def spec_from_schedule(schedule: dict) -> dict:
    """Scheduler GetSchedule as a ScheduledTask spec."""
    spec: dict[str, Any] = {"state": schedule.get("State", "ENABLED"),
                            "scheduleExpression": schedule.get("ScheduleExpression")}
    if schedule.get("ScheduleExpressionTimezone"):
        spec["scheduleExpressionTimezone"] = schedule["ScheduleExpressionTimezone"]
    if schedule.get("Description"):
        spec["description"] = schedule["Description"]
    target = schedule.get("Target") or {}
    if target.get("EcsParameters"):
        spec["target"] = _target_from_ecs(target["EcsParameters"], target.get("Arn", ""))
        if target.get("Input"):
            spec["target"]["overrides"] = json.loads(target["Input"])
    return spec
