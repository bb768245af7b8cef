"""Builders shared by the scaling tests."""

from __future__ import annotations

from ecsctl.core.scaling.engine import MinuteInputs, start, step
from ecsctl.core.scaling.model import compile_scaling

CPU = "ECSServiceAverageCPUUtilization"
MEM = "ECSServiceAverageMemoryUtilization"


def tt(name="cpu", target=50.0, metric=CPU, **extra):
    return {"policyName": name, "targetValue": target,
            "predefinedMetricSpecification": {"predefinedMetricType": metric}, **extra}


def config(min_capacity=1, max_capacity=100, **policies):
    spec = {"minCapacity": min_capacity, "maxCapacity": max_capacity}
    for key, value in policies.items():
        spec[key] = value
    return compile_scaling(spec, cluster="prod", service="web")


def no_schedules(expression, *, timezone="UTC", after, until, start=None, end=None):
    return iter(())


def run(cfg, desired, series, *, first=0, deploying=(), fire_times_fn=no_schedules):
    """Step a list of per-minute metric dicts (or floats for CPU); return (state, [(minute, activity)])."""
    state = start(cfg, desired=desired, minute=first, until=first + len(series) + 1, fire_times_fn=fire_times_fn)
    out = []
    for i, metrics in enumerate(series):
        minute = first + i
        if not isinstance(metrics, dict):
            metrics = {} if metrics is None else {CPU: float(metrics)}
        _, acts = step(state, MinuteInputs(minute, metrics, minute in deploying))
        out.extend((minute, a) for a in acts)
    return state, out


def counts(activities):
    """[(minute, desired count)] of the activities that moved the desired count."""
    return [(m, a.desired_count) for m, a in activities if a.desired_count != a.previous]
