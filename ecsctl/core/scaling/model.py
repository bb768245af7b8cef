"""The ``autoScaling`` manifest shape (DESIGN §3) compiled into typed, immutable policies.

    >>> cfg = compile_scaling({"minCapacity": 1, "maxCapacity": 4, "targetTracking": [
    ...     {"policyName": "cpu", "targetValue": 50,
    ...      "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}]},
    ...     cluster="prod", service="web")
    >>> cfg.resource_id, cfg.target_tracking[0].metric, cfg.target_tracking[0].scale_in_cooldown
    ('service/prod/web', 'ECSServiceAverageCPUUtilization', 300)
    >>> cfg.target_tracking[0].high_alarm
    'TargetTracking-service/prod/web-AlarmHigh-...'

The input is a spec that passed ``validate`` (schema and E5xxx rules); what the
schema guarantees is trusted, what is optional is defaulted here, with
Application Auto Scaling's defaults (ecs-semantics §6): cooldowns 300 s,
``metricAggregationType`` Average, alarm ``evaluationPeriods`` 1, ``datapointsToAlarm``
equal to ``evaluationPeriods``, ``period`` 60 s, ``statistic`` Average.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

DEFAULT_COOLDOWN = 300  # seconds; TargetTrackingScalingPolicyConfiguration / StepScalingPolicyConfiguration for ECS
# The alarms target tracking creates (observed, not published; ecs-semantics §6.2 and the
# ALARM shapes in aws/containers-roadmap#1208): AlarmHigh "GreaterThanThreshold" on the
# target, 3 of 3 one-minute datapoints; AlarmLow "LessThanThreshold" on 90 % of the
# target, 15 of 15 one-minute datapoints.
HIGH_DATAPOINTS = 3
LOW_DATAPOINTS = 15
LOW_THRESHOLD_FACTOR = 0.9

GREATER = frozenset({"GreaterThanThreshold", "GreaterThanOrEqualToThreshold"})


@dataclass(frozen=True)
class TargetTracking:
    name: str
    metric: str  # the key the minute's metrics use: a predefined type or a custom metricName
    target: float
    scale_out_cooldown: int  # seconds
    scale_in_cooldown: int
    disable_scale_in: bool
    high_alarm: str
    low_alarm: str

    @property
    def low_threshold(self) -> float:
        return self.target * LOW_THRESHOLD_FACTOR


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch metric alarm: ``datapoints_to_alarm`` of the last ``evaluation_periods`` breach."""

    name: str
    metric: str
    threshold: float
    comparison: str
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    period_minutes: int = 1
    statistic: str = "Average"

    @property
    def above(self) -> bool:
        """True for the Greater* operators (a scale-out alarm in the usual set-up)."""
        return self.comparison in GREATER

    def breaches(self, value: float) -> bool:
        op, t = self.comparison, self.threshold
        if op == "GreaterThanOrEqualToThreshold":
            return value >= t
        if op == "GreaterThanThreshold":
            return value > t
        if op == "LessThanThreshold":
            return value < t
        return value <= t  # LessThanOrEqualToThreshold


@dataclass(frozen=True)
class StepAdjustment:
    lower: float | None  # relative to the alarm threshold; None = -infinity
    upper: float | None  # None = +infinity
    adjustment: int


@dataclass(frozen=True)
class StepScaling:
    name: str
    adjustment_type: str  # ChangeInCapacity | PercentChangeInCapacity | ExactCapacity
    steps: tuple[StepAdjustment, ...]
    alarm: Alarm
    aggregation: str = "Average"  # metricAggregationType
    cooldown: int = DEFAULT_COOLDOWN
    min_adjustment_magnitude: int | None = None


@dataclass(frozen=True)
class ScheduledAction:
    name: str
    schedule: str
    timezone: str = "UTC"
    start: datetime | None = None  # UTC
    end: datetime | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True)
class Suspended:
    scale_in: bool = False
    scale_out: bool = False
    scheduled: bool = False


@dataclass(frozen=True)
class ScalingConfig:
    resource_id: str  # service/<cluster>/<service>, as Application Auto Scaling names it
    min_capacity: int
    max_capacity: int
    target_tracking: tuple[TargetTracking, ...] = ()
    step_scaling: tuple[StepScaling, ...] = ()
    scheduled: tuple[ScheduledAction, ...] = ()
    suspended: Suspended = field(default_factory=Suspended)

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric name a policy reads, sorted."""
        names = {p.metric for p in self.target_tracking} | {p.alarm.metric for p in self.step_scaling}
        return tuple(sorted(names))


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def alarm_uuid(resource: str, policy: str, which: str) -> str:
    """A stable stand-in for the random UUID AWS puts in a target-tracking alarm's name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecsctl:{resource}:{policy}:{which}"))


def custom_metric_name(spec: Mapping[str, Any]) -> str:
    """The key a customized metric is fed under: ``metricName``, or for metric math the
    ``id`` of the query that returns data (the first query when none says so)."""
    if spec.get("metricName"):
        return str(spec["metricName"])
    queries = [q for q in spec.get("metrics") or () if isinstance(q, dict)]
    chosen = next((q for q in queries if q.get("returnData")), queries[0] if queries else {})
    return str(chosen.get("metricName") or chosen.get("id") or "custom")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive = UTC); None stays None."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _target_tracking(item: Mapping[str, Any], resource: str) -> TargetTracking:
    pre = item.get("predefinedMetricSpecification")
    metric = pre["predefinedMetricType"] if pre else custom_metric_name(item.get("customizedMetricSpecification") or {})
    name = item["policyName"]
    return TargetTracking(
        name=name,
        metric=metric,
        target=float(item["targetValue"]),
        scale_out_cooldown=int(item.get("scaleOutCooldown", DEFAULT_COOLDOWN)),
        scale_in_cooldown=int(item.get("scaleInCooldown", DEFAULT_COOLDOWN)),
        disable_scale_in=bool(item.get("disableScaleIn", False)),
        high_alarm=f"TargetTracking-{resource}-AlarmHigh-{alarm_uuid(resource, name, 'AlarmHigh')}",
        low_alarm=f"TargetTracking-{resource}-AlarmLow-{alarm_uuid(resource, name, 'AlarmLow')}",
    )


def _alarm(raw: Mapping[str, Any], policy: str) -> Alarm:
    periods = int(raw.get("evaluationPeriods", 1))
    return Alarm(
        # AWS's own example names the alarm like its policy ("web-app-cpu-lt-25").
        name=str(raw.get("alarmName") or policy),
        metric=str(raw["metricName"]),
        threshold=float(raw["threshold"]),
        comparison=str(raw["comparisonOperator"]),
        evaluation_periods=periods,
        datapoints_to_alarm=int(raw.get("datapointsToAlarm", periods)),
        period_minutes=max(1, int(raw.get("period", 60)) // 60),
        statistic=str(raw.get("statistic", "Average")),
    )


def _step_scaling(item: Mapping[str, Any]) -> StepScaling:
    steps = tuple(
        StepAdjustment(s.get("metricIntervalLowerBound"), s.get("metricIntervalUpperBound"), int(s["scalingAdjustment"]))
        for s in item["stepAdjustments"]
    )
    magnitude = item.get("minAdjustmentMagnitude")
    return StepScaling(
        name=item["policyName"],
        adjustment_type=item["adjustmentType"],
        steps=steps,
        alarm=_alarm(item["alarm"], item["policyName"]),
        aggregation=item.get("metricAggregationType") or "Average",
        cooldown=int(item.get("cooldown", DEFAULT_COOLDOWN)),
        min_adjustment_magnitude=None if magnitude is None else int(magnitude),
    )


def _scheduled(item: Mapping[str, Any]) -> ScheduledAction:
    action = item.get("scalableTargetAction") or {}
    return ScheduledAction(
        name=item["scheduledActionName"],
        schedule=item["schedule"].strip(),
        timezone=item.get("timezone") or "UTC",
        start=parse_time(item.get("startTime")),
        end=parse_time(item.get("endTime")),
        min_capacity=action.get("minCapacity"),
        max_capacity=action.get("maxCapacity"),
    )


def compile_scaling(spec: Mapping[str, Any], *, cluster: str, service: str) -> ScalingConfig:
    """A service's ``autoScaling`` mapping as a :class:`ScalingConfig`."""
    resource = resource_id(cluster, service)
    suspended = spec.get("suspendedState") or {}
    return ScalingConfig(
        resource_id=resource,
        min_capacity=int(spec["minCapacity"]),
        max_capacity=int(spec["maxCapacity"]),
        target_tracking=tuple(_target_tracking(i, resource) for i in spec.get("targetTracking") or ()),
        step_scaling=tuple(_step_scaling(i) for i in spec.get("stepScaling") or ()),
        scheduled=tuple(_scheduled(i) for i in spec.get("scheduled") or ()),
        suspended=Suspended(
            scale_in=bool(suspended.get("dynamicScalingInSuspended", False)),
            scale_out=bool(suspended.get("dynamicScalingOutSuspended", False)),
            scheduled=bool(suspended.get("scheduledScalingSuspended", False)),
        ),
    )
