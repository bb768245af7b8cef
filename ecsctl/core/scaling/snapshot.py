"""The engine's state as a JSON-ready record, so ``tick`` can keep it in the state file.

    >>> from ecsctl.core.scaling.model import compile_scaling
    >>> from ecsctl.core.scaling.engine import MinuteInputs, start, step
    >>> cfg = compile_scaling({"minCapacity": 1, "maxCapacity": 9, "targetTracking": [{"policyName": "cpu",
    ...     "targetValue": 50, "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}]},
    ...     cluster="c", service="s")
    >>> state = start(cfg, desired=2, minute=0, until=60)
    >>> for m in range(2):
    ...     _ = step(state, MinuteInputs(m, {"ECSServiceAverageCPUUtilization": 80.0}))
    >>> record = snapshot(state)
    >>> record["desiredCount"], record["targetTracking"]["cpu"]["high"]
    (2, 2)
    >>> again = restore(cfg, record, until=60)
    >>> step(again, MinuteInputs(2, {"ECSServiceAverageCPUUtilization": 80.0}))[1][0].description
    'Setting desired count to 4.'

A restored state re-reads the schedules from the minute after the last one stepped, so
an action that fired before the snapshot does not fire again.
"""

from __future__ import annotations

from typing import Any, Mapping

from ecsctl.core.scaling.engine import ScalingState, read_schedules
from ecsctl.core.scaling.model import ScalingConfig
from ecsctl.core.scaling.schedules import FireTimesFn, fire_times

VERSION = 1


def snapshot(state: ScalingState) -> dict[str, Any]:
    """Everything :func:`restore` needs, keyed by policy name (JSON-ready)."""
    return {
        "version": VERSION,
        "resourceId": state.config.resource_id,
        "minute": state.minute,
        "desiredCount": state.desired,
        "minCapacity": state.minimum,
        "maxCapacity": state.maximum,
        "scaleOutCooldownUntil": state.out_until,
        "scaleOutAnchor": state.out_anchor,
        "scaleInCooldownUntil": state.in_until,
        "seq": state.seq,
        "createdMinute": state.created,
        "targetTracking": {
            pol.name: {"high": st.hi, "low": st.lo, "last": st.last, "window": list(st.window)}
            for pol, st, *_ in state.tracking
        },
        "stepScaling": {
            pol.name: {"values": list(st.values), "flags": list(st.flags), "alarm": st.alarm, "last": st.last,
                       "partial": list(st.acc)}
            for pol, st, *_ in state.steps
        },
    }


def restore(config: ScalingConfig, record: Mapping[str, Any], *, until: int,
            fire_times_fn: FireTimesFn = fire_times) -> ScalingState:
    """A state equal to the one :func:`snapshot` saw; policies added since start fresh,
    removed ones are dropped; bounds and desired count are the saved ones."""
    minute = int(record["minute"])
    state = ScalingState(config, int(record["desiredCount"]), minute + 1)
    state.minimum = int(record.get("minCapacity", config.min_capacity))
    state.maximum = int(record.get("maxCapacity", config.max_capacity))
    state.out_until = int(record.get("scaleOutCooldownUntil", 0))
    state.out_anchor = int(record.get("scaleOutAnchor", state.desired))
    state.in_until = int(record.get("scaleInCooldownUntil", 0))
    state.seq = int(record.get("seq", 0))
    state.created = int(record.get("createdMinute", minute + 1))
    saved_tt = record.get("targetTracking") or {}
    for pol, st, *_ in state.tracking:
        saved = saved_tt.get(pol.name)
        if saved:
            st.hi, st.lo, st.last = int(saved["high"]), int(saved["low"]), int(saved["last"])
            st.window.extend(saved.get("window") or ())
    saved_steps = record.get("stepScaling") or {}
    for pol, st, *_ in state.steps:
        saved = saved_steps.get(pol.name)
        if saved:
            st.values.extend(saved.get("values") or ())
            st.flags.extend(bool(f) for f in saved.get("flags") or ())
            st.count = sum(st.flags)
            st.alarm, st.last = bool(saved.get("alarm")), int(saved.get("last", st.last))
            st.acc = list(saved.get("partial") or ())
    read_schedules(state, fire_times_fn, minute + 1, until)
    return state
