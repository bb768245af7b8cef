"""The closed-loop demand (``autoScaling.demand``) and scheduled actions that cannot apply."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.findings import Severity

_PREDEFINED_FROM_DEMAND = {
    "ECSServiceAverageCPUUtilization": lambda d: True,
    "ECSServiceAverageMemoryUtilization": lambda d: isinstance(d.get("memory"), dict),
    "ALBRequestCountPerTarget": lambda d: d.get("unit", "requestsPerSecond") == "requestsPerSecond",
}


def _scaling(spec):
    value = spec.get("autoScaling") if isinstance(spec, dict) else None
    return value if isinstance(value, dict) else None


def _demand(spec):
    scaling = _scaling(spec)
    value = scaling.get("demand") if scaling else None
    return value if isinstance(value, dict) else None


@register
class DemandSource(Rule):
    """The closed-loop demand must be usable: ``daily`` with min ≤ max and a real time zone,
    ``series`` with readable timestamps, ``memory`` with idle ≤ busy.

    ``demand`` is ecsctl's own field (AWS has no such thing): the simulation and
    ``ecsctl scale simulate`` derive ECSServiceAverageCPUUtilization, memory and
    ALBRequestCountPerTarget from demand ÷ running tasks.  A demand that cannot be read
    is an error, because nothing could be simulated from it.  The metrics it stands in
    for are described in https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html
    and https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html.

    Bad::

        demand: {perTask: 50, daily: {min: 900, max: 100, timezone: Paris}}

    Good::

        demand: {perTask: 50, daily: {min: 100, max: 900, peakAt: "14:00", timezone: Europe/Paris}}
    """

    id = "E5006"
    title = "The closed-loop demand must have a usable source"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        demand = _demand(spec)
        if demand is None:
            return
        from ecsctl.core.events.schedule import valid_timezone
        from ecsctl.core.scaling.model import parse_time

        base = ("autoScaling", "demand")
        daily = demand.get("daily")
        if isinstance(daily, dict):
            lo, hi = daily.get("min"), daily.get("max")
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
                yield base + ("daily", "min"), f"daily min {lo} is greater than max {hi}"
            tz = daily.get("timezone")
            if tz is not None and not valid_timezone(tz):
                yield base + ("daily", "timezone"), f"timezone '{tz}' is not an IANA time zone name (e.g. Europe/Paris, UTC)"
        series = demand.get("series")
        for i, point in enumerate(series if isinstance(series, list) else []):
            if isinstance(point, dict) and isinstance(point.get("time"), str):
                try:
                    parse_time(point["time"])
                except ValueError:
                    yield base + ("series", i, "time"), f"'{point['time']}' is not an ISO 8601 timestamp (e.g. 2024-05-01T09:00:00Z)"
        memory = demand.get("memory")
        if isinstance(memory, dict):
            idle, busy = memory.get("idle", 0), memory.get("busy", 100)
            if isinstance(idle, (int, float)) and isinstance(busy, (int, float)) and idle > busy:
                yield base + ("memory", "idle"), f"memory idle {idle} % is above busy {busy} %"


@register
class PolicyMetricFromDemand(Rule):
    """With a closed-loop demand, every scaling policy should read a metric the demand produces.

    The demand publishes ECSServiceAverageCPUUtilization always,
    ECSServiceAverageMemoryUtilization when ``memory`` is given, ALBRequestCountPerTarget
    for ``unit: requestsPerSecond``, and the names listed in ``customMetrics``.  A policy
    on any other metric gets no datapoint in the simulation, so its alarms stay in
    INSUFFICIENT_DATA and it never scales, as a real policy on a metric nobody publishes
    (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html:
    "A target tracking scaling policy does not scale in when the state of the alarm is
    INSUFFICIENT_DATA").  AWS accepts such a policy, so this is a warning.

    Bad::

        targetTracking: [{policyName: mem, targetValue: 70,
                          predefinedMetricSpecification: {predefinedMetricType: ECSServiceAverageMemoryUtilization}}]
        demand: {perTask: 50, constant: 300}

    Good::

        demand: {perTask: 50, constant: 300, memory: {idle: 25, busy: 70}}
    """

    id = "W5007"
    title = "A scaling policy reads a metric the closed-loop demand does not produce"
    kinds = ("Service",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        demand = _demand(spec)
        if demand is None:
            return
        scaling = _scaling(spec)
        custom = demand.get("customMetrics") if isinstance(demand.get("customMetrics"), dict) else {}
        for i, item in enumerate(scaling.get("targetTracking") or []):
            if not isinstance(item, dict):
                continue
            pre = item.get("predefinedMetricSpecification")
            if isinstance(pre, dict):
                kind = pre.get("predefinedMetricType")
                produced = _PREDEFINED_FROM_DEMAND.get(kind)
                if produced is not None and not produced(demand):
                    yield ("autoScaling", "targetTracking", i), f"policy '{item.get('policyName')}' tracks {kind}, which this demand does not produce ({_hint(kind)})"
            elif isinstance(item.get("customizedMetricSpecification"), dict):
                from ecsctl.core.scaling.model import custom_metric_name

                name = custom_metric_name(item["customizedMetricSpecification"])
                if name not in custom:
                    yield ("autoScaling", "targetTracking", i), f"policy '{item.get('policyName')}' tracks '{name}', which is not in demand.customMetrics"
        for i, item in enumerate(scaling.get("stepScaling") or []):
            alarm = item.get("alarm") if isinstance(item, dict) else None
            name = alarm.get("metricName") if isinstance(alarm, dict) else None
            if not isinstance(name, str):
                continue
            produced = _PREDEFINED_FROM_DEMAND.get(name)
            if name not in custom and not (produced and produced(demand)):
                yield ("autoScaling", "stepScaling", i, "alarm", "metricName"), f"alarm metric '{name}' is not produced by the demand (add it to demand.customMetrics)"


def _hint(kind: str) -> str:
    if kind == "ECSServiceAverageMemoryUtilization":
        return "add demand.memory: {idle, busy}"
    return "ALBRequestCountPerTarget needs unit: requestsPerSecond"


@register
class ScheduledBoundConflict(Rule):
    """A scheduled action that sets only one bound must not cross the other.

    "Setting only one bound can conflict (new min > old max) — send both"
    (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html:
    the action sets the new minimum and maximum of the scalable target).  AWS accepts the
    action; when it runs against the service's own bounds it cannot apply, so this is a
    warning (the simulation records the activity as Failed).

    Bad::

        autoScaling: {minCapacity: 1, maxCapacity: 4,
                      scheduled: [{scheduledActionName: peak, schedule: "cron(0 8 * * ? *)",
                                   scalableTargetAction: {minCapacity: 6}}]}

    Good::

        scalableTargetAction: {minCapacity: 6, maxCapacity: 12}
    """

    id = "W5008"
    title = "A one-sided scheduled action crosses the service's other bound"
    kinds = ("Service",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        scaling = _scaling(spec)
        if scaling is None:
            return
        lo, hi = scaling.get("minCapacity"), scaling.get("maxCapacity")
        for i, item in enumerate(scaling.get("scheduled") or []):
            action = item.get("scalableTargetAction") if isinstance(item, dict) else None
            if not isinstance(action, dict):
                continue
            new_lo, new_hi = action.get("minCapacity"), action.get("maxCapacity")
            path = ("autoScaling", "scheduled", i, "scalableTargetAction")
            if isinstance(new_lo, int) and new_hi is None and isinstance(hi, int) and new_lo > hi:
                yield path, f"minCapacity {new_lo} is above the service's maxCapacity {hi}; set maxCapacity too"
            if isinstance(new_hi, int) and new_lo is None and isinstance(lo, int) and new_hi < lo:
                yield path, f"maxCapacity {new_hi} is below the service's minCapacity {lo}; set minCapacity too"
