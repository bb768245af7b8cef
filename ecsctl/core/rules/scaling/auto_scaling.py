"""Service Auto Scaling (``Service.spec.autoScaling``; E5xxx, ecs-semantics §6)."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register

PREDEFINED = ("ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget")
ADJUSTMENT_TYPES = ("ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity")


def _scaling(spec) -> dict | None:
    value = spec.get("autoScaling") if isinstance(spec, dict) else None
    return value if isinstance(value, dict) else None


def _items(scaling: dict, key: str):
    items = scaling.get(key)
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            yield i, item


def _num(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@register
class ScalableTargetCapacity(Rule):
    """``autoScaling`` needs ``minCapacity`` and ``maxCapacity``, with min ≤ max.

    RegisterScalableTarget requires both on first registration; ECS services may
    use a minimum of 0.

    Bad::

        autoScaling: {minCapacity: 5, maxCapacity: 2}

    Good::

        autoScaling: {minCapacity: 2, maxCapacity: 5}
    """

    id = "E5001"
    title = "autoScaling needs minCapacity <= maxCapacity"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        scaling = _scaling(spec)
        if scaling is None:
            return
        lo, hi = _num(scaling.get("minCapacity")), _num(scaling.get("maxCapacity"))
        for key, value in (("minCapacity", lo), ("maxCapacity", hi)):
            if value is None:
                yield ("autoScaling",), f"autoScaling needs {key} (a non-negative integer)"
            elif value < 0:
                yield ("autoScaling", key), f"{key} must not be negative, not {value}"
        if lo is not None and hi is not None and lo > hi:
            yield ("autoScaling", "minCapacity"), f"minCapacity {lo} is greater than maxCapacity {hi}"


@register
class ScalingNamesUnique(Rule):
    """Scaling policy names and scheduled action names are unique per service.

    Policies (target tracking and step) share one namespace per scalable target;
    scheduled actions have their own (``PutScalingPolicy`` / ``PutScheduledAction``
    replace an existing one of the same name).

    Bad::

        targetTracking: [{policyName: cpu, ...}]
        stepScaling: [{policyName: cpu, ...}]

    Good::

        targetTracking: [{policyName: cpu70, ...}]
        stepScaling: [{policyName: queue-depth, ...}]
    """

    id = "E5002"
    title = "Scaling policy and scheduled action names must be unique"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        scaling = _scaling(spec)
        if scaling is None:
            return
        for keys, field in ((("targetTracking", "stepScaling"), "policyName"), (("scheduled",), "scheduledActionName")):
            seen: set = set()
            for key in keys:
                for i, item in _items(scaling, key):
                    name = item.get(field)
                    if name is None:
                        yield ("autoScaling", key, i), f"{key} entries need a {field}"
                        continue
                    if name in seen:
                        yield ("autoScaling", key, i, field), f"{field} '{name}' is used twice"
                    seen.add(name)


@register
class TargetTrackingMetric(Rule):
    """A target-tracking policy names exactly one metric; ALBRequestCountPerTarget needs a resourceLabel.

    Give either ``predefinedMetricSpecification`` or
    ``customizedMetricSpecification``.  ``ALBRequestCountPerTarget`` counts
    requests per target of one target group, named by ``resourceLabel``
    (``app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>``).

    Bad::

        targetTracking:
          - {policyName: rps, targetValue: 100, predefinedMetricSpecification: {predefinedMetricType: ALBRequestCountPerTarget}}

    Good::

        targetTracking:
          - policyName: rps
            targetValue: 100
            predefinedMetricSpecification:
              predefinedMetricType: ALBRequestCountPerTarget
              resourceLabel: app/web/50dc6c495c0c9188/targetgroup/web/943f017f100becff
    """

    id = "E5003"
    title = "Target tracking needs exactly one metric specification"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        scaling = _scaling(spec)
        if scaling is None:
            return
        for i, item in _items(scaling, "targetTracking"):
            base = ("autoScaling", "targetTracking", i)
            pre, custom = item.get("predefinedMetricSpecification"), item.get("customizedMetricSpecification")
            if (pre is None) == (custom is None):
                yield base, "give exactly one of predefinedMetricSpecification and customizedMetricSpecification"
            if isinstance(pre, dict):
                kind = pre.get("predefinedMetricType")
                if kind not in PREDEFINED:
                    yield base + ("predefinedMetricSpecification", "predefinedMetricType"), f"predefinedMetricType for an ECS service is one of {', '.join(PREDEFINED)}, not {kind!r}"
                elif kind == "ALBRequestCountPerTarget" and not pre.get("resourceLabel"):
                    yield base + ("predefinedMetricSpecification",), "ALBRequestCountPerTarget needs a resourceLabel (app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>)"
            if "targetValue" not in item:
                yield base, "a target-tracking policy needs a targetValue"


def step_bound_issues(steps: list):
    """Issues of step adjustments: (index or None, message), ecs-semantics §6.3.

    >>> list(step_bound_issues([{"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 50},
    ...                         {"metricIntervalLowerBound": 60}]))
    [(1, 'steps leave a gap between 50 and 60')]
    """
    bounds = []
    for i, step in enumerate(steps):
        lo, hi = _num(step.get("metricIntervalLowerBound")), _num(step.get("metricIntervalUpperBound"))
        if lo is None and hi is None:
            yield i, "a step cannot have both metricIntervalLowerBound and metricIntervalUpperBound null"
            continue
        if lo is not None and hi is not None and lo >= hi:
            yield i, f"metricIntervalLowerBound {lo} must be less than metricIntervalUpperBound {hi}"
            continue
        bounds.append((i, lo, hi))
    open_low = [i for i, lo, _ in bounds if lo is None]
    open_high = [i for i, _, hi in bounds if hi is None]
    if len(open_low) > 1:
        yield open_low[1], "only one step may have a null metricIntervalLowerBound"
    if len(open_high) > 1:
        yield open_high[1], "only one step may have a null metricIntervalUpperBound"
    if len(open_low) > 1 or len(open_high) > 1:
        return
    if not open_low:
        neg = next((i for i, lo, _ in bounds if lo is not None and lo < 0), None)
        if neg is not None:
            yield neg, "a negative metricIntervalLowerBound needs a step with a null lower bound"
    if not open_high:
        pos = next((i for i, _, hi in bounds if hi is not None and hi > 0), None)
        if pos is not None:
            yield pos, "a positive metricIntervalUpperBound needs a step with a null upper bound"
    ordered = sorted(bounds, key=lambda b: float("-inf") if b[1] is None else b[1])
    for (_, _, prev_hi), (j, lo, _) in zip(ordered, ordered[1:]):
        if prev_hi is None or lo is None or lo < prev_hi:
            yield j, "step intervals overlap"
        elif lo > prev_hi:
            yield j, f"steps leave a gap between {prev_hi} and {lo}"


@register
class StepScalingAdjustments(Rule):
    """Step adjustments: no gaps or overlaps, one open end each way, adjustments that fit the type.

    Bounds are relative to the alarm threshold.  At most one step has a null
    lower bound (−∞) and one a null upper bound (+∞); a negative lower bound
    needs a null-lower step and a positive upper bound a null-upper step; no step
    has both bounds null.  ``minAdjustmentMagnitude`` only applies to
    ``PercentChangeInCapacity``, and ``ExactCapacity`` sets a capacity, so its
    adjustments are not negative.

    Bad::

        stepAdjustments:
          - {metricIntervalLowerBound: 0, metricIntervalUpperBound: 50, scalingAdjustment: 1}
          - {metricIntervalLowerBound: 40, scalingAdjustment: 3}          # overlaps [0, 50)

    Good::

        stepAdjustments:
          - {metricIntervalLowerBound: 0, metricIntervalUpperBound: 50, scalingAdjustment: 1}
          - {metricIntervalLowerBound: 50, scalingAdjustment: 3}
    """

    id = "E5004"
    title = "Step scaling adjustments must be contiguous and fit the adjustment type"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        scaling = _scaling(spec)
        if scaling is None:
            return
        for i, item in _items(scaling, "stepScaling"):
            base = ("autoScaling", "stepScaling", i)
            kind = item.get("adjustmentType")
            if kind not in ADJUSTMENT_TYPES:
                yield base + (("adjustmentType",) if "adjustmentType" in item else ()), f"adjustmentType must be one of {', '.join(ADJUSTMENT_TYPES)}, not {kind!r}"
            if item.get("minAdjustmentMagnitude") is not None and kind != "PercentChangeInCapacity":
                yield base + ("minAdjustmentMagnitude",), "minAdjustmentMagnitude is only valid with adjustmentType PercentChangeInCapacity"
            raw = item.get("stepAdjustments")
            steps = [s for s in raw if isinstance(s, dict)] if isinstance(raw, list) else []
            if not steps:
                yield base, "a step scaling policy needs at least one step adjustment"
                continue
            for j, message in step_bound_issues(steps):
                yield base + ("stepAdjustments", j), message
            if kind == "ExactCapacity":
                for j, step in enumerate(steps):
                    value = _num(step.get("scalingAdjustment"))
                    if value is not None and value < 0:
                        yield base + ("stepAdjustments", j, "scalingAdjustment"), f"ExactCapacity sets the capacity, so scalingAdjustment cannot be negative ({value})"


@register
class ScheduledScalingActions(Rule):
    """Scheduled actions: a valid schedule and timezone, and a min and/or max with min ≤ max.

    ``schedule`` is ``at(yyyy-mm-ddThh:mm:ss)``, ``rate(N unit)`` or AWS's
    six-field ``cron(...)``; ``timezone`` an IANA name (``Europe/Paris``,
    ``Etc/GMT+9``); ``scalableTargetAction`` sets ``minCapacity``,
    ``maxCapacity`` or both.

    Bad::

        scheduled:
          - {scheduledActionName: night, schedule: "cron(0 22 * * * *)", timezone: CET, scalableTargetAction: {}}

    Good::

        scheduled:
          - {scheduledActionName: night, schedule: "cron(0 22 ? * * *)", timezone: Europe/Paris,
             scalableTargetAction: {minCapacity: 1, maxCapacity: 2}}
    """

    id = "E5005"
    title = "Scheduled scaling actions need a valid schedule, timezone and capacities"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        scaling = _scaling(spec)
        if scaling is None:
            return
        from ecsctl.core.events.schedule import ScheduleError, parse_schedule, valid_timezone

        for i, item in _items(scaling, "scheduled"):
            base = ("autoScaling", "scheduled", i)
            schedule = item.get("schedule")
            if schedule is None:
                yield base, "a scheduled action needs a schedule"
            else:
                try:
                    parse_schedule(schedule)
                except ScheduleError as exc:
                    yield base + ("schedule",), str(exc)
            tz = item.get("timezone")
            if tz is not None and not valid_timezone(tz):
                yield base + ("timezone",), f"timezone '{tz}' is not an IANA time zone name (e.g. Europe/Paris, UTC, Etc/GMT+9)"
            action = item.get("scalableTargetAction")
            action = action if isinstance(action, dict) else {}
            lo, hi = _num(action.get("minCapacity")), _num(action.get("maxCapacity"))
            if lo is None and hi is None:
                yield base + (("scalableTargetAction",) if "scalableTargetAction" in item else ()), "scalableTargetAction needs minCapacity, maxCapacity or both"
            elif lo is not None and hi is not None and lo > hi:
                yield base + ("scalableTargetAction", "minCapacity"), f"minCapacity {lo} is greater than maxCapacity {hi}"
