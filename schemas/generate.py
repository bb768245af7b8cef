#!/usr/bin/env python3
"""Generate ecsctl's JSON Schemas (draft 2020-12), one per manifest kind.

    python schemas/generate.py          # (re)write schemas/*.json
    python schemas/generate.py --check  # exit 1 if a committed schema differs

``TaskDefinition`` and ``Service`` are derived from botocore's ECS service
model (the RegisterTaskDefinition and CreateService request shapes), so they
are exactly as strict as the AWS CLI's client-side parameter validation:
unknown fields, wrong types, ``null`` and invalid enum values are errors.
On top of the model, ``MEMBER_OVERRIDES``/``SHAPE_OVERRIDES`` add the limits
ECS documents (each cites /work/shared/reference/ecs-semantics.md, "sem §x"),
and ``MEMBER_REPLACEMENTS`` holds the few deliberate leniencies.

The other kinds are written by hand below, reusing ECS shapes (tags,
capacity provider strategies, network configuration ...) where ECS has one.

Model ``pattern`` traits are not copied: botocore does not enforce them and
they use ``\\p{..}`` classes that neither Python's ``re`` nor ECMA-262 knows.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://ecsctl.dev/schemas/"
sys.path.insert(0, str(HERE.parent))  # run from a checkout: the kinds are ecsctl's own list
from ecsctl.core.manifest.envelope import KINDS  # noqa: E402

# ---------------------------------------------------------------------------
# Reusable fragments
# ---------------------------------------------------------------------------

# sem §1.1, §1.2, §1.7, App. C: family / container / volume names.
NAME = {
    "pattern": "^[A-Za-z0-9_-]{1,255}$",
    "x-message": "must be 1-255 letters, digits, '-' or '_'",
}
# sem §1.1 "cpu": integer CPU units or "<n> vCPU", case-insensitive (ECMA-262
# has no inline flags, so the case-insensitivity is spelt out per letter).
TASK_CPU_PATTERN = r"^\s*([0-9]+|([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*[vV][cC][pP][uU])\s*$"
# sem §1.1 "memory": integer MiB or "<n> GB" / "<n>GB", case-insensitive.
TASK_MEMORY_PATTERN = r"^\s*([0-9]+|([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*[gG][bB])\s*$"
# sem §1.2 dnsSearchDomains: ^[a-zA-Z0-9-.]{0,253}[a-zA-Z0-9]$, with the class's
# '-' moved last so that ECMA-262 unicode-mode engines read it as a literal too.
DNS_SEARCH_DOMAIN = r"^[a-zA-Z0-9.-]{0,253}[a-zA-Z0-9]$"
# ECS Attribute docs (botocore model, Attribute.name / Attribute.value).
ATTRIBUTE_NAME = r"^[A-Za-z0-9_./\\-]{1,128}$"
ATTRIBUTE_VALUE = r"^[A-Za-z0-9_.@/\\:-]([A-Za-z0-9_.@/\\: -]{0,126}[A-Za-z0-9_.@/\\:-])?$"

# ---------------------------------------------------------------------------
# Documented limits layered on the botocore model
# ---------------------------------------------------------------------------

# Keyed by shape name: applied wherever that (list/scalar) shape is used.
SHAPE_OVERRIDES: dict[str, dict] = {
    # sem §1.1 tags, App. C: at most 50 tags; an empty list is refused by ECS
    # ("Tags can not be empty.", corpus SOURCES.tsv: joozero/kayac files).
    "Tags": {"minItems": 1, "maxItems": 50},
    # botocore's CreateService/CapacityProviderStrategyItem: "A capacity provider strategy can
    # contain a maximum of 20 capacity providers" (sem App. C's 6 is the 2023 guide's figure;
    # EventBridge's EcsParameters keep 6, see scheduled_task).
    "CapacityProviderStrategy": {"maxItems": 20},
}

# Keyed by "Shape.member": merged (deeply) into that member's schema.
MEMBER_OVERRIDES: dict[str, dict] = {
    # sem §1.1 family; §1.2 container name; §1.7 volume name.
    "RegisterTaskDefinitionRequest.family": NAME,
    "ContainerDefinition.name": NAME,
    "Volume.name": NAME,
    # sem §1.1: 1..10 containers ("Too many containers.").
    "RegisterTaskDefinitionRequest.containerDefinitions": {"minItems": 1, "maxItems": 10},
    # sem §1.9 healthCheck ranges.
    "HealthCheck.interval": {"minimum": 5, "maximum": 300},
    "HealthCheck.timeout": {"minimum": 2, "maximum": 60},
    "HealthCheck.retries": {"minimum": 1, "maximum": 10},
    "HealthCheck.startPeriod": {"minimum": 0, "maximum": 300},
    # sem §1.1 ephemeralStorage: 21-200 GiB.
    "EphemeralStorage.sizeInGiB": {"minimum": 21, "maximum": 200},
    # sem §1.4 port fields: containerPort 1-65535, hostPort 0 (dynamic)-65535.
    "PortMapping.containerPort": {"minimum": 1, "maximum": 65535},
    "PortMapping.hostPort": {"minimum": 0, "maximum": 65535},
    # sem §1.5: up to ten environment files.
    "ContainerDefinition.environmentFiles": {"maxItems": 10},
    # sem §1.1, §5.1, App. C: ≤10 placement constraints, ≤5 strategies.
    "RegisterTaskDefinitionRequest.placementConstraints": {"maxItems": 10},
    "CreateServiceRequest.placementConstraints": {"maxItems": 10},
    "CreateServiceRequest.placementStrategy": {"maxItems": 5},
    # sem App. C: a Cluster Query Language expression is at most 2000 characters.
    "TaskDefinitionPlacementConstraint.expression": {"maxLength": 2000},
    "PlacementConstraint.expression": {"maxLength": 2000},
    # sem §1.8: timeouts are seconds, never negative.
    "ContainerDefinition.startTimeout": {"minimum": 0},
    "ContainerDefinition.stopTimeout": {"minimum": 0},
    # sem §1.4, §5.1: awsvpc allows ≤16 subnets and ≤5 security groups.
    "AwsVpcConfiguration.subnets": {"minItems": 1, "maxItems": 16},
    # botocore LinuxParameters.swappiness: "whole numbers between 0 and 100".
    "LinuxParameters.swappiness": {"minimum": 0, "maximum": 100},
    # botocore ClusterSetting.value: "The supported values are enhanced, enabled, and disabled."
    "ClusterSetting.value": {"enum": ["enhanced", "enabled", "disabled"]},
    "AwsVpcConfiguration.securityGroups": {"maxItems": 5},
    # sem §5.5: up to 5 target groups per service.
    "CreateServiceRequest.loadBalancers": {"maxItems": 5},
    # sem §5.1: 5,000 tasks per service (quota).
    "CreateServiceRequest.desiredCount": {"minimum": 0, "maximum": 5000},
    # sem §5.5: healthCheckGracePeriodSeconds 0..2,147,483,647.
    "CreateServiceRequest.healthCheckGracePeriodSeconds": {"minimum": 0, "maximum": 2147483647},
    # sem §5.3: percentages are non-negative integers (upper bounds are a rule's job).
    "DeploymentConfiguration.minimumHealthyPercent": {"minimum": 0},
    "DeploymentConfiguration.maximumPercent": {"minimum": 0},
    # corpus README "credentialsParameter may not be an empty string".
    "RepositoryCredentials.credentialsParameter": {"minLength": 1},
    # sem §1.2 restartPolicy.
    "ContainerRestartPolicy.restartAttemptPeriod": {"minimum": 60, "maximum": 1800},
    "ContainerRestartPolicy.ignoredExitCodes": {"maxItems": 50},
    # sem §1.2 dnsSearchDomains item syntax.
    "ContainerDefinition.dnsSearchDomains": {
        "items": {"pattern": DNS_SEARCH_DOMAIN, "x-message": "must be a DNS domain (letters, digits, '-', '.'; at most 254 characters)"}
    },
}

# Keyed by "Shape.member": these replace the model's schema for the member.
MEMBER_REPLACEMENTS: dict[str, dict] = {
    # LENIENCY: the API takes task-level cpu as a string; YAML users write
    # `cpu: 256`, so an integer is accepted too (ecsctl renders it as a string).
    # Strings are integer units or "<n> vCPU" (sem §1.1, §1.3).
    "RegisterTaskDefinitionRequest.cpu": {
        "type": ["string", "integer"],
        "minimum": 0,
        "pattern": TASK_CPU_PATTERN,
        "x-message": "must be CPU units (256 or \"256\") or a vCPU string such as \"0.5 vCPU\"",
    },
    # LENIENCY: likewise task-level memory: MiB as an integer or string, or
    # "<n> GB" (sem §1.1).
    "RegisterTaskDefinitionRequest.memory": {
        "type": ["string", "integer"],
        "minimum": 0,
        "pattern": TASK_MEMORY_PATTERN,
        "x-message": "must be MiB (512 or \"512\") or a GB string such as \"2 GB\"",
    },
}

SCALAR_TYPES = {
    "integer": "integer",
    "long": "integer",
    "double": "number",
    "float": "number",
    "boolean": "boolean",
    "timestamp": "string",
    "blob": "string",
}

_SENTENCE = re.compile(r"^(.+?(?<!e\.g)(?<!i\.e)(?<!etc)[.!?])(?=\s|$)", re.S)


def first_sentence(doc: str | None, limit: int = 200) -> str:
    """The first sentence of a botocore doc string, without HTML."""
    if not doc:
        return ""
    text = re.sub(r"<[^>]+>", " ", doc)
    text = re.sub(r"\s+", " ", html.unescape(text)).strip()
    text = re.sub(r"\s+([.,;:)])", r"\1", text)
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
    return sentence


def deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Converter:
    """botocore shapes → JSON Schema nodes; every structure becomes a ``$defs`` entry."""

    def __init__(self, shapes: dict, descriptions: bool = True) -> None:
        self.shapes = shapes
        self.descriptions = descriptions
        self.defs: dict[str, dict] = {}

    def ref(self, name: str) -> dict:
        """A ``$ref`` to structure ``name``, defining it (and what it uses) on first use."""
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: recursion resolves to the same ref
            self.defs[name] = self.structure(name)
        return {"$ref": f"#/$defs/{name}"}

    def structure(self, name: str, drop: tuple[str, ...] = ()) -> dict:
        shape = self.shapes[name]
        node: dict[str, Any] = {"type": "object"}
        doc = first_sentence(shape.get("documentation")) if self.descriptions else ""
        if doc:
            node["description"] = doc
        props = {}
        for member, spec in shape.get("members", {}).items():
            if member in drop:
                continue
            props[member] = self.member(name, member, spec)
        node["properties"] = props
        required = [r for r in shape.get("required", []) if r not in drop]
        if required:
            node["required"] = required
        node["additionalProperties"] = False
        return node

    def member(self, owner: str, member: str, spec: dict) -> dict:
        key = f"{owner}.{member}"
        if key in MEMBER_REPLACEMENTS:
            node = copy.deepcopy(MEMBER_REPLACEMENTS[key])
        else:
            node = self.node(spec["shape"])
            if key in MEMBER_OVERRIDES:
                node = deep_merge(node, MEMBER_OVERRIDES[key])
        doc = first_sentence(spec.get("documentation")) if self.descriptions else ""
        if doc:
            node = {"description": doc, **node}
        return node

    def node(self, name: str) -> dict:
        shape = self.shapes[name]
        kind = shape["type"]
        if kind == "structure":
            if shape.get("document"):
                # Free-form JSON (e.g. HookDetails); still no top-level null.
                node = {"type": ["object", "array", "string", "number", "boolean"]}
            else:
                return self.ref(name)
        elif kind == "list":
            node = {"type": "array", "items": self.node(shape["member"]["shape"])}
            self._bounds(node, shape, "minItems", "maxItems")
        elif kind == "map":
            node = {"type": "object", "additionalProperties": self.node(shape["value"]["shape"])}
            key = self.shapes[shape["key"]["shape"]]
            if key.get("enum"):
                node["propertyNames"] = {"enum": list(key["enum"])}
        elif kind == "string":
            node = {"type": "string"}
            if "enum" in shape:
                node["enum"] = list(shape["enum"])
            self._bounds(node, shape, "minLength", "maxLength")
        elif kind in SCALAR_TYPES:
            node = {"type": SCALAR_TYPES[kind]}
            if kind in ("integer", "long", "double", "float"):
                self._bounds(node, shape, "minimum", "maximum")
        else:  # pragma: no cover - the model has no other types today
            raise ValueError(f"unsupported shape type {kind!r} ({name})")
        if name in SHAPE_OVERRIDES:
            node = deep_merge(node, SHAPE_OVERRIDES[name])
        return node

    @staticmethod
    def _bounds(node: dict, shape: dict, low: str, high: str) -> None:
        if "min" in shape:
            node[low] = shape["min"]
        if "max" in shape:
            node[high] = shape["max"]

    def sorted_defs(self) -> dict:
        return {name: self.defs[name] for name in sorted(self.defs)}


def envelope(kind: str, body: dict, defs: dict, description: str, source: str = "") -> dict:
    root: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"{BASE_ID}{kind}.json",
        "title": f"ecsctl {kind} spec",
        "description": description,
    }
    if source:
        root["x-generated-from"] = source
    root.update(body)
    root["type"] = "object"
    # keep "type" near the top for readers
    ordered = {k: root[k] for k in ("$schema", "$id", "title", "description", "x-generated-from", "type") if k in root}
    ordered.update({k: v for k, v in root.items() if k not in ordered})
    if defs:
        ordered["$defs"] = defs
    return ordered


def obj(properties: dict, required: tuple[str, ...] = (), description: str = "", **extra) -> dict:
    """A closed object node (``additionalProperties: false``)."""
    node: dict[str, Any] = {"type": "object"}
    if description:
        node["description"] = description
    node["properties"] = properties
    if required:
        node["required"] = list(required)
    node["additionalProperties"] = False
    node.update(extra)
    return node


def integer(minimum: int | None = None, maximum: int | None = None, description: str = "") -> dict:
    node: dict[str, Any] = {"type": "integer"}
    if description:
        node["description"] = description
    if minimum is not None:
        node["minimum"] = minimum
    if maximum is not None:
        node["maximum"] = maximum
    return node


def string(description: str = "", **extra) -> dict:
    node: dict[str, Any] = {"type": "string"}
    if description:
        node["description"] = description
    node.update(extra)
    return node


def strings(**extra) -> dict:
    return {"type": "array", "items": {"type": "string", "minLength": 1}, **extra}


def enum(*values: str, description: str = "") -> dict:
    node: dict[str, Any] = {"type": "string"}
    if description:
        node["description"] = description
    node["enum"] = list(values)
    return node


# ---------------------------------------------------------------------------
# Kinds derived from the ECS model
# ---------------------------------------------------------------------------


def task_definition(ecs: dict, source: str) -> dict:
    conv = Converter(ecs)
    body = conv.structure("RegisterTaskDefinitionRequest")
    body.pop("description", None)
    # metadata.name supplies family in a manifest; a bare RegisterTaskDefinition
    # document without family is reported by the envelope, not the schema.
    body["required"] = [r for r in body.get("required", []) if r != "family"]
    if not body["required"]:
        del body["required"]
    body["properties"][ECSCTL_EXTENSION] = ecsctl_extension("every standalone task of the family")
    return envelope(
        "TaskDefinition",
        body,
        conv.sorted_defs(),
        "A RegisterTaskDefinition request (camelCase, as in the ECS API); family defaults to metadata.name.",
        source,
    )


def service(ecs: dict, aas: dict | None, source: str) -> dict:
    conv = Converter(ecs)
    # serviceName is metadata.name; cluster and taskDefinition stay plain strings
    # (a cluster name, and a family, family:revision or ARN).
    body = conv.structure("CreateServiceRequest", drop=("serviceName",))
    body.pop("description", None)
    scaling_defs = auto_scaling_defs(aas)
    clash = set(scaling_defs) & set(conv.defs)
    if clash:  # pragma: no cover - guards a future botocore model
        raise SystemExit(f"auto scaling $defs clash with ECS shapes: {sorted(clash)}")
    body["properties"]["autoScaling"] = {
        "description": "Service Auto Scaling (Application Auto Scaling, camelCased): bounds, policies, scheduled actions.",
        "$ref": "#/$defs/AutoScaling",
    }
    demand_defs = scaling_demand_defs()
    scaling_defs["AutoScaling"]["properties"]["demand"] = {
        "description": "Closed loop: what drives the service and what one task serves (ecsctl's own field).",
        "$ref": "#/$defs/ScalingDemand",
    }
    defs = {**conv.defs, **scaling_defs, **demand_defs}
    return envelope(
        "Service",
        body,
        {name: defs[name] for name in sorted(defs)},
        "A CreateService request without serviceName (that is metadata.name), plus autoScaling.",
        source,
    )


ECS_PREDEFINED_METRICS = ("ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget")
CW_COMPARISON = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)


def _aas_enum(aas: dict | None, shape: str, fallback: tuple[str, ...]) -> list[str]:
    if aas and shape in aas:
        return list(aas[shape]["enum"])
    return list(fallback)


def auto_scaling_defs(aas: dict | None) -> dict:
    """DESIGN.md §3 autoScaling, in Application Auto Scaling shapes (sem §6)."""
    adjustment = _aas_enum(aas, "AdjustmentType", ("ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"))
    aggregation = _aas_enum(aas, "MetricAggregationType", ("Average", "Minimum", "Maximum"))
    statistic = _aas_enum(aas, "MetricStatistic", ("Average", "Minimum", "Maximum", "SampleCount", "Sum"))
    metric_types = [m for m in _aas_enum(aas, "MetricType", ECS_PREDEFINED_METRICS) if m in ECS_PREDEFINED_METRICS]
    policy_name = string("Unique name of the policy within the service.", minLength=1, maxLength=256)
    cooldown = integer(0, description="Seconds; Application Auto Scaling's default for ECS is 300.")
    # sem §6.2: TargetValue 8.515920e-109 … 1.174271e+108.
    target_value = {"type": "number", "minimum": 8.515920e-109, "maximum": 1.174271e108}
    return {
        "AutoScaling": obj(
            {
                # sem §6.1: ECS services may scale to 0; both bounds needed on registration.
                "minCapacity": integer(0, 5000),
                "maxCapacity": integer(0, 5000),
                "suspendedState": obj(
                    {
                        "dynamicScalingInSuspended": {"type": "boolean"},
                        "dynamicScalingOutSuspended": {"type": "boolean"},
                        "scheduledScalingSuspended": {"type": "boolean"},
                    }
                ),
                "targetTracking": {"type": "array", "items": {"$ref": "#/$defs/TargetTrackingPolicy"}},
                "stepScaling": {"type": "array", "items": {"$ref": "#/$defs/StepScalingPolicy"}},
                "scheduled": {"type": "array", "items": {"$ref": "#/$defs/ScheduledScalingAction"}},
            },
            ("minCapacity", "maxCapacity"),
            "The scalable target (ecs:service:DesiredCount) and its policies.",
        ),
        "TargetTrackingPolicy": obj(
            {
                "policyName": policy_name,
                "targetValue": target_value,
                "predefinedMetricSpecification": obj(
                    {
                        "predefinedMetricType": enum(*metric_types),
                        "resourceLabel": string(
                            "For ALBRequestCountPerTarget: app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>.",
                            minLength=1,
                            maxLength=1023,
                        ),
                    },
                    ("predefinedMetricType",),
                ),
                # Deliberately loose: CloudWatch metric or metric-math specification.
                "customizedMetricSpecification": {"type": "object", "minProperties": 1},
                "scaleOutCooldown": cooldown,
                "scaleInCooldown": cooldown,
                "disableScaleIn": {"type": "boolean"},
            },
            ("policyName", "targetValue"),
            "A target tracking scaling policy (sem §6.2).",
            # Application Auto Scaling needs exactly one metric specification.
            oneOf=[
                {"required": ["predefinedMetricSpecification"]},
                {"required": ["customizedMetricSpecification"]},
            ],
            **{"x-message": "needs exactly one of 'predefinedMetricSpecification' or 'customizedMetricSpecification'"},
        ),
        "StepScalingPolicy": obj(
            {
                "policyName": policy_name,
                "adjustmentType": enum(*adjustment),
                "metricAggregationType": enum(*aggregation),
                "cooldown": cooldown,
                "minAdjustmentMagnitude": integer(1, description="Only with PercentChangeInCapacity."),
                "alarm": {"$ref": "#/$defs/StepScalingAlarm"},
                "stepAdjustments": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/StepAdjustment"}},
            },
            ("policyName", "adjustmentType", "alarm", "stepAdjustments"),
            "A step scaling policy and the CloudWatch alarm that drives it (sem §6.3).",
        ),
        "StepScalingAlarm": obj(
            {
                "alarmName": string("Name of the CloudWatch alarm (default: the policy name).", minLength=1, maxLength=255),
                "metricName": string(minLength=1, maxLength=255),
                "namespace": string(minLength=1, maxLength=255),
                "statistic": enum(*statistic),
                "dimensions": {
                    "type": "array",
                    "maxItems": 30,
                    "items": obj({"name": string(minLength=1, maxLength=255), "value": string(minLength=1, maxLength=1024)}, ("name", "value")),
                },
                "threshold": {"type": "number"},
                "comparisonOperator": enum(*CW_COMPARISON),
                "evaluationPeriods": integer(1),
                "period": integer(1, description="Seconds per datapoint (CloudWatch: 10, 30 or a multiple of 60)."),
                "datapointsToAlarm": integer(1),
            },
            ("metricName", "threshold", "comparisonOperator"),
            "The CloudWatch alarm whose breaches trigger the policy.",
        ),
        "StepAdjustment": obj(
            {
                "metricIntervalLowerBound": {"type": "number"},
                "metricIntervalUpperBound": {"type": "number"},
                "scalingAdjustment": {"type": "integer"},
            },
            ("scalingAdjustment",),
            "Bounds are relative to the alarm threshold (sem §6.3).",
        ),
        "ScheduledScalingAction": obj(
            {
                "scheduledActionName": string(minLength=1, maxLength=256),
                "schedule": string(
                    "at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(6 fields).",
                    pattern=r"^\s*(at|rate|cron)\(.*\)\s*$",
                    maxLength=1600,
                    **{"x-message": "must be at(...), rate(...) or cron(...)"},
                ),
                "timezone": string("IANA time zone name, e.g. Europe/Paris; default UTC.", minLength=1, maxLength=1600),
                "startTime": string("UTC timestamp."),
                "endTime": string("UTC timestamp."),
                "scalableTargetAction": obj(
                    {"minCapacity": integer(0, 5000), "maxCapacity": integer(0, 5000)},
                    minProperties=1,
                ),
            },
            ("scheduledActionName", "schedule", "scalableTargetAction"),
            "A scheduled scaling action (sem §6.4).",
        ),
    }


DEMAND_UNITS = ("requestsPerSecond", "cpuSecondsPerSecond", "messagesPerSecond")
DEMAND_SOURCES = ("constant", "daily", "series", "file")


def scaling_demand_defs() -> dict:
    """``autoScaling.demand``: the closed loop of issue 10 (ecsctl/core/scaling/demand.py).

    Not an AWS shape: the simulation derives the ECS metrics from demand ÷ running tasks.
    """
    number = {"type": "number", "minimum": 0}
    percent = {"type": "number", "minimum": 0, "maximum": 100}
    point = obj(
        {"time": string("ISO 8601 timestamp; UTC when it has no offset.", minLength=1), "value": number},
        ("time", "value"),
    )
    return {
        "ScalingDemand": obj(
            {
                "unit": enum(*DEMAND_UNITS, description="What the demand counts (default requestsPerSecond)."),
                "perTask": {"type": "number", "exclusiveMinimum": 0,
                            "description": "Demand one task serves at 100 % CPU, in the demand's unit."},
                "constant": number,
                "daily": obj(
                    {
                        "min": number,
                        "max": number,
                        "peakAt": string("Local time of the daily peak, HH:MM (default 12:00).",
                                         pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                         **{"x-message": "must be a time of day HH:MM, e.g. 14:00"}),
                        "timezone": string("IANA time zone of peakAt (default UTC).", minLength=1, maxLength=100),
                    },
                    ("min", "max"),
                    "A sine wave over the local day between min and max.",
                ),
                "series": {"type": "array", "minItems": 1, "items": point,
                           "description": "Demand at points in time, linear in between, flat beyond."},
                "file": string("CSV file of timestamp,value rows, relative to the manifest.", minLength=1),
                "memory": obj({"idle": percent, "busy": percent},
                              description="Memory utilization (%) at 0 % and at 100 % CPU; linear in between."),
                "customMetrics": {
                    "type": "object",
                    "description": "Custom metric name -> total (the demand), perTask (demand / running tasks) or utilization.",
                    "propertyNames": {"minLength": 1, "maxLength": 255},
                    "additionalProperties": enum("total", "perTask", "utilization"),
                },
            },
            ("perTask",),
            "The demand that drives the service in the simulation, and what one task serves.",
            oneOf=[{"required": [name]} for name in DEMAND_SOURCES],
            **{"x-message": "needs exactly one demand source: constant, daily, series or file"},
        ),
    }


# ---------------------------------------------------------------------------
# Hand-written kinds
# ---------------------------------------------------------------------------


def cluster(ecs: dict) -> dict:
    conv = Converter(ecs)
    body = obj(
        {
            "capacityProviders": strings(uniqueItems=True),
            "defaultCapacityProviderStrategy": conv.node("CapacityProviderStrategy"),
            "containerInstances": {
                "type": "array",
                "description": "Groups of manually run EC2 container instances the local backend registers.",
                "items": {"$ref": "#/$defs/ContainerInstanceGroup"},
            },
            "settings": conv.node("ClusterSettings"),
            "tags": conv.node("Tags"),
        }
    )
    defs = conv.defs
    defs["ContainerInstanceGroup"] = obj(
        {
            "name": {"type": "string", **NAME},
            # sem App. C: 5,000 container instances per cluster.
            "count": integer(0, 5000),
            "instanceType": string(minLength=1, maxLength=30, pattern=r"^[a-z0-9][a-z0-9-]*\.[a-z0-9]+$", **{"x-message": "must be an EC2 instance type such as m5.large"}),
            "availabilityZone": string(minLength=1),
            "attributes": {
                "type": "object",
                "description": "Custom attributes for memberOf expressions (ECS Attribute name/value rules).",
                "propertyNames": {
                    "pattern": ATTRIBUTE_NAME,
                    "x-message": "attribute names are 1-128 letters, digits, '-', '_', '/', '\\' or '.'",
                },
                "additionalProperties": {
                    "type": "string",
                    "pattern": ATTRIBUTE_VALUE,
                    "x-message": "must be 1-128 letters, digits, '-', '_', '.', '@', '/', '\\', ':' or spaces (no leading or trailing space)",
                },
            },
            "cpu": integer(0, description="Overrides the instance type's CPU units."),
            "memory": integer(0, description="Overrides the instance type's memory (MiB)."),
            "agentVersion": string("ECS container agent version, e.g. 1.82.0.", minLength=1),
        },
        ("name", "count", "instanceType", "availabilityZone"),
        "A group of identical container instances.",
    )
    return envelope("Cluster", body, {n: defs[n] for n in sorted(defs)}, "An ECS cluster; metadata.name is the cluster name.")


def capacity_provider(ecs: dict) -> dict:
    conv = Converter(ecs)
    body = obj(
        {
            "autoScalingGroupProvider": obj(
                {
                    "autoScalingGroup": obj(
                        {
                            "minSize": integer(0),
                            "maxSize": integer(0),
                            "desiredCapacity": integer(0),
                            "instanceType": string(minLength=1, maxLength=30),
                            "availabilityZones": strings(minItems=1, uniqueItems=True),
                            "cpu": integer(0, description="The CPU units an instance registers (overrides the instance type's; needed for a type outside ecsctl's table)."),
                            "memory": integer(0, description="The memory (MiB) an instance registers (overrides the instance type's; needed for a type outside ecsctl's table)."),
                        },
                        ("minSize", "maxSize", "instanceType"),
                        "The Auto Scaling group the local backend simulates.",
                    ),
                    # sem §7.3: status, targetCapacity 1-100, step sizes 1-10000, warm-up 0-10000.
                    "managedScaling": conv.node("ManagedScaling"),
                    "managedTerminationProtection": conv.node("ManagedTerminationProtection"),
                    "managedDraining": conv.node("ManagedDraining"),
                },
                ("autoScalingGroup",),
            ),
        },
        ("autoScalingGroupProvider",),
    )
    return envelope(
        "CapacityProvider",
        body,
        conv.sorted_defs(),
        "An Auto Scaling group capacity provider; FARGATE and FARGATE_SPOT exist implicitly.",
    )


def target_group() -> dict:
    port = integer(1, 65535)
    protocol = enum("HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE")
    body = obj(
        {
            "port": port,
            "protocol": protocol,
            "targetType": enum("instance", "ip", description="ip for awsvpc tasks, instance for bridge/host (sem §5.5)."),
            "healthCheck": obj(
                {
                    "enabled": {"type": "boolean"},
                    "path": string(minLength=1, maxLength=1024, pattern="^/", **{"x-message": "must start with '/'"}),
                    "port": {
                        "description": "traffic-port (the target's port) or a port number.",
                        "type": ["string", "integer"],
                        "pattern": "^(traffic-port|[0-9]{1,5})$",
                        "minimum": 1,
                        "maximum": 65535,
                        "x-message": "must be 'traffic-port' or a port number 1-65535",
                    },
                    "protocol": protocol,
                    "intervalSeconds": integer(5, 300),
                    "timeoutSeconds": integer(2, 120),
                    "healthyThresholdCount": integer(2, 10),
                    "unhealthyThresholdCount": integer(2, 10),
                    "matcher": {
                        "description": "HTTP codes such as \"200\" or \"200-299\", or {httpCode, grpcCode}.",
                        "type": ["string", "object"],
                        "minLength": 1,
                        "properties": {"httpCode": string(minLength=1), "grpcCode": string(minLength=1)},
                        "minProperties": 1,
                        "additionalProperties": False,
                    },
                }
            ),
            "deregistrationDelay": integer(0, 3600, "Seconds a deregistering target keeps draining (default 300)."),
        },
        ("port", "protocol"),
    )
    return envelope("TargetGroup", body, {}, "An ELB target group (stands in for an ALB/NLB target group).")


def scheduled_task(ecs: dict) -> dict:
    conv = Converter(ecs)
    target = obj(
        {
            "cluster": string(minLength=1),
            "taskDefinition": string("family, family:revision or ARN.", minLength=1, maxLength=1600),
            # events EcsParameters.TaskCount: min 1, no maximum (PutTargets takes 11; every
            # RunTask then fails: W6013). Scheduler's max 10 is E6004's.
            "taskCount": integer(1),
            "launchType": enum("EC2", "FARGATE", "EXTERNAL"),
            # events and scheduler EcsParameters.CapacityProviderStrategy: max 6
            "capacityProviderStrategy": {**conv.node("CapacityProviderStrategy"), "maxItems": 6},
            "networkConfiguration": conv.node("NetworkConfiguration"),
            "platformVersion": string(minLength=1),
            "group": string(minLength=1, maxLength=255),
            # sem §8.1: ≤10 constraints, ≤5 strategies.
            "placementConstraints": {**conv.node("PlacementConstraints"), "maxItems": 10},
            "placementStrategy": {**conv.node("PlacementStrategies"), "maxItems": 5},
            # Deliberately loose: RunTask overrides (containerOverrides, cpu, ...).
            "overrides": {"type": "object"},
            "propagateTags": enum("TASK_DEFINITION"),
            "enableECSManagedTags": {"type": "boolean"},
            "enableExecuteCommand": {"type": "boolean"},
            "tags": conv.node("Tags"),
            "inputTransformer": input_transformer(),
            ECSCTL_EXTENSION: ecsctl_extension("the tasks this rule starts (over the task definition's)"),
        },
        ("cluster", "taskDefinition"),
        "The ECS RunTask target (EventBridge EcsParameters, camelCased).",
    )
    body = obj(
        {
            "description": string(maxLength=512),
            "scheduleExpression": string(
                "rate(value unit), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss).",
                pattern=r"^\s*(at|rate|cron)\(.*\)\s*$",
                **{"x-message": "must be at(...), rate(...) or cron(...)"},
            ),
            "scheduleExpressionTimezone": string("IANA time zone name; default UTC.", minLength=1, maxLength=50),
            # Deliberately loose: an EventBridge event pattern.
            "eventPattern": {"type": "object", "minProperties": 1},
            # events RuleState (Scheduler takes ENABLED and DISABLED only: E6002)
            "state": enum("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"),
            "target": target,
        },
        ("target",),
        oneOf=[{"required": ["scheduleExpression"]}, {"required": ["eventPattern"]}],
        **{"x-message": "needs exactly one of 'scheduleExpression' or 'eventPattern'"},
    )
    return envelope(
        "ScheduledTask",
        body,
        conv.sorted_defs(),
        "An EventBridge rule (schedule or event pattern) that runs an ECS task.",
    )


def parameter() -> dict:
    body = obj(
        {
            "type": enum("String", "StringList", "SecureString"),
            "description": string(maxLength=1024),
            "tier": enum("Standard", "Advanced", "Intelligent-Tiering"),
            "dataType": enum("text", "aws:ec2:image", "aws:ssm:integration"),
        },
        ("type",),
    )
    return envelope(
        "Parameter",
        body,
        {},
        "An SSM Parameter Store parameter that exists; metadata.name is its name. Never its value.",
    )


def secret() -> dict:
    body = obj(
        {
            "description": string(maxLength=2048),
            "keys": strings(description="JSON keys the secret's value holds (for valueFrom ...:json-key::).", uniqueItems=True),
            "versionStages": strings(description="Staging labels, e.g. AWSCURRENT, AWSPREVIOUS.", uniqueItems=True),
            "versionIds": strings(uniqueItems=True),
        }
    )
    return envelope(
        "Secret",
        body,
        {},
        "A Secrets Manager secret that exists; metadata.name is its name. Never its value.",
    )


def environment_file() -> dict:
    body = obj(
        {
            "bucket": string(
                "S3 bucket name.",
                pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                **{"x-message": "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' or '-'"},
            ),
            "key": string("S3 object key, e.g. config/app.env.", minLength=1, maxLength=1024),
            "variables": {
                "type": "array",
                "description": "Names of the variables the file defines (never their values).",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
            },
        },
        ("bucket", "key"),
    )
    return envelope(
        "EnvironmentFile",
        body,
        {},
        "An .env object in S3 that task definitions reference with environmentFiles.",
    )


def repository() -> dict:
    body = obj(
        {
            "images": {
                "type": "array",
                "description": "Image tags (\"1.4.2\", \"latest\") or digests (\"sha256:...\") the repository holds.",
                "items": {
                    "type": "string",
                    "pattern": r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$",
                    "x-message": "must be an image tag (up to 128 letters, digits, '_', '.', '-') or a sha256: digest",
                },
                "uniqueItems": True,
            },
            "registryId": string(
                "AWS account ID of the registry.",
                pattern="^[0-9]{12}$",
                **{"x-message": "must be a 12-digit AWS account ID"},
            ),
            "uri": string("Repository URI, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web.", minLength=1),
            "imageTagMutability": enum("MUTABLE", "IMMUTABLE"),
        }
    )
    return envelope("Repository", body, {}, "An ECR repository and the image tags it holds.")


# ---------------------------------------------------------------------------
# Events, batch tasks and queues (core/events, core/queue)
# ---------------------------------------------------------------------------

ECSCTL_EXTENSION = "x-ecsctl"
DURATION = r"^[0-9]{1,9}[smhd]$"


def ecsctl_extension(where: str) -> dict:
    """The ``x-ecsctl`` extension (core/events/batch.py): when a batch task's essential container exits."""
    return obj(
        {
            "runFor": {
                "description": "How long the essential container runs before it exits: 90s, 10m, 2h, 1d or seconds.",
                "type": ["string", "integer"],
                "pattern": DURATION,
                "minimum": 0,
                "x-message": "must be a duration such as 90s, 10m, 2h or 1d, or a number of seconds",
            },
            "exitCode": integer(0, 255, "The exit code of the essential container (default 0)."),
            "container": {"type": "string", **NAME, "description": "The essential container that exits (default: the first essential one)."},
        },
        description=f"ecsctl extension, never sent to AWS: when a standalone task finishes, for {where}.",
        minProperties=1,
    )


def input_transformer() -> dict:
    """EventBridge Target.InputTransformer, camelCased (core/events/transform.py)."""
    return obj(
        {
            "inputPathsMap": {
                "type": "object",
                "description": "Variables: name -> JSON path into the event, e.g. bucket: $.detail.bucket.name.",
                "maxProperties": 100,
                "propertyNames": {
                    "pattern": "^[A-Za-z0-9_-]{1,256}$",
                    "x-message": "variable names are 1-256 letters, digits, '_' or '-'",
                },
                "additionalProperties": string(maxLength=256),
            },
            "inputTemplate": string(
                "What the target receives, with <variable> placeholders; for ECS, a JSON object of RunTask overrides.",
                minLength=1,
                maxLength=8192,
            ),
        },
        ("inputTemplate",),
        "EventBridge's input transformer: the event's fields into the task's overrides.",
    )


def queue() -> dict:
    """The Queue kind (core/queue/model.py): an SQS queue, its arrivals and its consumers."""
    rate = {"type": "number", "minimum": 0, "description": "Messages per minute."}
    body = obj(
        {
            "visibilityTimeout": integer(0, 43200, "Seconds a received message stays invisible (SQS default 30)."),
            "initialMessages": integer(0, description="Visible messages when the queue is created."),
            "arrivals": obj(
                {
                    "messagesPerMinute": rate,
                    "series": {
                        "type": "array",
                        "minItems": 1,
                        "description": "A piecewise-constant rate: each entry from its time until the next.",
                        "items": obj(
                            {"at": string("UTC time, e.g. 2026-01-01T08:00:00Z.", minLength=1), "messagesPerMinute": rate},
                            ("at", "messagesPerMinute"),
                        ),
                    },
                },
                description="How messages arrive: a constant rate or a series.",
                oneOf=[{"required": ["messagesPerMinute"]}, {"required": ["series"]}],
                **{"x-message": "needs exactly one of 'messagesPerMinute' or 'series'"},
            ),
            "consumers": {
                "type": "array",
                "description": "The services whose tasks receive and delete the messages.",
                "items": obj(
                    {
                        "service": {"type": "string", **NAME},
                        "cluster": string(minLength=1),
                        "messagesPerTaskPerMinute": {"type": "number", "exclusiveMinimum": 0, "description": "What one task processes."},
                    },
                    ("service", "messagesPerTaskPerMinute"),
                ),
            },
            "tags": {"type": "object", "additionalProperties": string(maxLength=256), "maxProperties": 50},
        },
        ("arrivals",),
    )
    return envelope("Queue", body, {}, "An SQS queue that service tasks drain; metadata.name is the queue name.")


# ---------------------------------------------------------------------------
# Security groups (EC2 shapes, camelCased)
# ---------------------------------------------------------------------------

# EC2 resource ids: the prefix, then 8 (older) or 17 hexadecimal characters.
SECURITY_GROUP_ID = r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$"
# EC2 GroupName: up to 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*,
# and not starting with sg- (EC2 CreateSecurityGroup).
_GROUP_NAME_CHARS = r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!\$*]{1,255}"
SECURITY_GROUP_NAME = rf"^(?!sg-){_GROUP_NAME_CHARS}$"
# A reference: a group id, or the name of a SecurityGroup document.
SECURITY_GROUP_REF = {
    "type": "string",
    "pattern": rf"^(sg-([0-9a-f]{{8}}|[0-9a-f]{{17}})|(?!sg-){_GROUP_NAME_CHARS})$",
    "x-message": "must be a security group id (sg-...) or the name of a SecurityGroup",
}


def security_group_list(description: str) -> dict:
    """``securityGroups`` as the ELB and ECS APIs name it: ids, or names of SecurityGroup documents."""
    return {"type": "array", "description": description, "items": SECURITY_GROUP_REF, "minItems": 1, "uniqueItems": True}


def security_group() -> dict:
    """EC2 CreateSecurityGroup + AuthorizeSecurityGroupIngress/Egress ``IpPermissions``, camelCased."""
    described = {"description": string(maxLength=255)}
    permission = obj(
        {
            "ipProtocol": string(
                "tcp, udp, icmp, icmpv6, a protocol number, or -1 for every protocol.",
                pattern=r"^(tcp|udp|icmp|icmpv6|-1|[0-9]{1,3})$",
                **{"x-message": "must be tcp, udp, icmp, icmpv6, -1 (all) or a protocol number 0-255"},
            ),
            "fromPort": integer(-1, 65535, "First port (ICMP: the type); -1 for all."),
            "toPort": integer(-1, 65535, "Last port (ICMP: the code); -1 for all."),
            "ipRanges": {"type": "array", "items": obj({"cidrIp": string("IPv4 CIDR, e.g. 10.0.0.0/16.", minLength=9, maxLength=18), **described}, ("cidrIp",))},
            "ipv6Ranges": {"type": "array", "items": obj({"cidrIpv6": string("IPv6 CIDR, e.g. ::/0.", minLength=3, maxLength=43), **described}, ("cidrIpv6",))},
            "prefixListIds": {"type": "array", "items": obj({"prefixListId": string(pattern=r"^pl-[0-9a-f]+$", **{"x-message": "must be a prefix list id (pl-...)"}), **described}, ("prefixListId",))},
            "userIdGroupPairs": {
                "type": "array",
                "description": "Source (ingress) or destination (egress) security groups.",
                "items": obj(
                    {
                        "groupId": {**SECURITY_GROUP_REF, "description": "A group id, or the name of a SecurityGroup document."},
                        "groupName": string(pattern=SECURITY_GROUP_NAME, **{"x-message": "must be a security group name"}),
                        "userId": string(pattern="^[0-9]{12}$", **{"x-message": "must be a 12-digit AWS account ID"}),
                        "vpcId": string(pattern=r"^vpc-[0-9a-f]+$"),
                        "vpcPeeringConnectionId": string(pattern=r"^pcx-[0-9a-f]+$"),
                        **described,
                    },
                    anyOf=[{"required": ["groupId"]}, {"required": ["groupName"]}],
                    **{"x-message": "needs 'groupId' or 'groupName'"},
                ),
            },
        },
        ("ipProtocol",),
        "One rule: a protocol, a port range, and the sources (or destinations) it admits.",
    )
    body = obj(
        {
            "groupId": string("The group's id, as other documents may refer to it.", pattern=SECURITY_GROUP_ID,
                              **{"x-message": "must be a security group id: sg- and 8 or 17 hexadecimal characters"}),
            "description": string("GroupDescription (up to 255 characters).", maxLength=255),
            "vpcId": string(pattern=r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$", **{"x-message": "must be a VPC id (vpc-...)"}),
            "ipPermissions": {"type": "array", "description": "Inbound rules.", "items": {"$ref": "#/$defs/IpPermission"}},
            "ipPermissionsEgress": {
                "type": "array",
                "description": "Outbound rules; when omitted, EC2's default rule allows all outbound traffic.",
                "items": {"$ref": "#/$defs/IpPermission"},
            },
        }
    )
    return envelope(
        "SecurityGroup",
        body,
        {"IpPermission": permission},
        "An EC2 security group; metadata.name is its GroupName.",
    )


def add_security_group_fields(schemas: dict[str, dict]) -> None:
    """``securityGroups`` on Cluster container-instance groups and on TargetGroup (its load balancer's)."""
    group = schemas["Cluster"]["$defs"]["ContainerInstanceGroup"]["properties"]
    group["securityGroups"] = security_group_list("Security groups of these instances (EC2 SecurityGroupIds).")
    schemas["TargetGroup"]["properties"]["securityGroups"] = security_group_list(
        "Security groups of the load balancer that sends traffic to this target group (ELB SecurityGroups)."
    )


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def load_models() -> tuple[dict, dict | None, str]:
    import botocore
    from botocore.loaders import Loader

    loader = Loader()
    ecs = loader.load_service_model("ecs", "service-2")["shapes"]
    try:
        aas = loader.load_service_model("application-autoscaling", "service-2")["shapes"]
    except Exception:  # pragma: no cover - every botocore ships it
        aas = None
    return ecs, aas, f"botocore {botocore.__version__} ecs service-2"


def build() -> dict[str, dict]:
    ecs, aas, source = load_models()
    schemas = {
        "Cluster": cluster(ecs),
        "CapacityProvider": capacity_provider(ecs),
        "TaskDefinition": task_definition(ecs, source),
        "Service": service(ecs, aas, source),
        "TargetGroup": target_group(),
        "ScheduledTask": scheduled_task(ecs),
        "Parameter": parameter(),
        "Secret": secret(),
        "EnvironmentFile": environment_file(),
        "Repository": repository(),
        "Queue": queue(),
        "SecurityGroup": security_group(),
    }
    add_security_group_fields(schemas)
    assert tuple(schemas) == KINDS
    for kind, schema in schemas.items():
        _assert_no_null(schema, kind)
    return schemas


def _assert_no_null(node: Any, where: str) -> None:
    if isinstance(node, dict):
        if node.get("type") == "null" or "null" in (node.get("type") if isinstance(node.get("type"), list) else ()):
            raise SystemExit(f"{where}: a schema must not accept null")
        if "spec" in node.get("$defs", {}):
            raise SystemExit(f"{where}: $defs must not define 'spec' (manifest_schema uses it)")
        for key, value in node.items():
            _assert_no_null(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _assert_no_null(value, f"{where}/{i}")


def render(schema: dict) -> str:
    return json.dumps(schema, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed schema differs from the generated one")
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write (default: schemas/)")
    args = parser.parse_args(argv)
    stale = []
    for kind, schema in build().items():
        path = args.out / f"{kind}.json"
        text = render(schema)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({len(text.encode())} bytes)")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python schemas/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
