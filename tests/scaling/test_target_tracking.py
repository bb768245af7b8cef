"""Target tracking on the engine: alarms, proportional scale-out, gradual scale-in, cooldowns.

Sources: https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html
(behaviour), aws/containers-roadmap#1208 (the alarms: 3 of 3 one-minute datapoints to
scale out, 15 of 15 to scale in), ecs-semantics §6.2.
"""

from __future__ import annotations

import pytest

from ecsctl.core.scaling.target_tracking import scale_in_capacity, scale_out_capacity
from scaling_helpers import CPU, MEM, config, counts, run, tt


@pytest.mark.parametrize(
    "capacity, metric, target, out",
    [(4, 90, 60, 6), (10, 63, 60, 11), (3, 70.0000001, 70, 4), (2, 100, 50, 4), (0, 80, 50, 1), (5, 51, 50, 6)],
)
def test_scale_out_is_proportional_rounded_up(capacity, metric, target, out):
    assert scale_out_capacity(capacity, metric, target) == out


@pytest.mark.parametrize("capacity, peak, target, result", [(10, 30, 60, 5), (3, 41, 60, 3), (8, 44, 50, 8), (20, 10, 50, 4)])
def test_scale_in_removes_the_least_the_peak_allows(capacity, peak, target, result):
    assert scale_in_capacity(capacity, peak, target) == result


def test_scale_out_needs_three_datapoints_above_the_target():
    cfg = config(1, 20, targetTracking=[tt(target=50)])
    _, acts = run(cfg, 4, [60, 60, 49, 60, 60, 75])
    # the streak breaks at minute 2; minutes 3, 4, 5 are above: 4 × 75 / 50 = 6
    assert counts(acts) == [(5, 6)]
    assert acts[0][1].cause.startswith("monitor alarm TargetTracking-service/prod/web-AlarmHigh-")
    assert acts[0][1].cause.endswith(" in state ALARM triggered policy cpu")


def test_metric_equal_to_the_target_does_not_scale_out():
    _, acts = run(config(1, 20, targetTracking=[tt(target=50)]), 4, [50] * 10)
    assert acts == []


def test_scale_in_needs_fifteen_datapoints_below_ninety_percent_of_the_target():
    cfg = config(1, 20, targetTracking=[tt(target=50)])
    _, acts = run(cfg, 10, [45.5] * 30)           # 91 % of the target: never
    assert acts == []
    _, acts = run(cfg, 10, [40] * 14 + [20])      # 15th datapoint: peak 40 → 10 × 40 / 50 = 8
    assert counts(acts) == [(14, 8)]
    assert "-AlarmLow-" in acts[0][1].cause


def test_scale_in_cooldown_then_again():
    cfg = config(1, 20, targetTracking=[tt(target=50, scaleInCooldown=300)])
    _, acts = run(cfg, 10, [20] * 25)
    # minute 14: 10 × 20 / 50 = 4; blocked for 300 s; minute 19: 4 × 20 / 50 = 1.6 → 2;
    # minute 24: 0.8 → 1 (minCapacity)
    assert counts(acts) == [(14, 4), (19, 2), (24, 1)]


def test_scale_out_cooldown_counts_capacity_already_added():
    cfg = config(1, 50, targetTracking=[tt(target=50, scaleOutCooldown=300)])
    # 10 tasks at 75 % → 15 at minute 2; still 75 % (open loop): 10 × 75 / 50 = 15 is not
    # larger → wait; 100 % → 10 × 100 / 50 = 20 is larger → 20 at once (minute 4), which
    # restarts the cooldown; it ends at minute 9: 20 × 100 / 50 = 40; at minute 10 the
    # proposal is again from 20 (the anchor), 20 × 75 / 50 = 30 < 40: nothing.
    series = [75, 75, 75, 75, 100, 100, 100, 100, 100, 100, 75]
    _, acts = run(cfg, 10, series)
    assert counts(acts) == [(2, 15), (4, 20), (9, 40)]


def test_scale_out_during_scale_in_cooldown_acts_at_once():
    cfg = config(1, 50, targetTracking=[tt(target=50, scaleInCooldown=3600, scaleOutCooldown=0)])
    _, acts = run(cfg, 10, [20] * 15 + [80] * 3)
    assert counts(acts) == [(14, 4), (17, 7)]


def test_disable_scale_in():
    cfg = config(1, 20, targetTracking=[tt(target=50, disableScaleIn=True)])
    _, acts = run(cfg, 10, [5] * 40)
    assert acts == []


def test_several_policies_out_if_any_in_only_if_all():
    cfg = config(1, 50, targetTracking=[tt("cpu", 50), tt("mem", 50, metric=MEM)])
    # memory high alone scales out (the largest proposal wins)
    _, acts = run(cfg, 10, [{CPU: 10, MEM: 75}] * 3)
    assert counts(acts) == [(2, 15)]
    # CPU low but memory not: no scale-in
    _, acts = run(cfg, 10, [{CPU: 10, MEM: 48}] * 30)
    assert acts == []
    # both low: the larger of the two capacities (8 from memory's 40 %, 2 from CPU's 10 %)
    _, acts = run(cfg, 10, [{CPU: 10, MEM: 40}] * 15)
    assert counts(acts) == [(14, 8)]
    # a policy with scale-in disabled has no vote
    cfg = config(1, 50, targetTracking=[tt("cpu", 50), tt("mem", 50, metric=MEM, disableScaleIn=True)])
    _, acts = run(cfg, 10, [{CPU: 10, MEM: 48}] * 15)
    assert counts(acts) == [(14, 2)]


def test_no_scale_in_during_a_deployment_but_scale_out():
    cfg = config(1, 20, targetTracking=[tt(target=50)])
    _, acts = run(cfg, 10, [20] * 20, deploying=set(range(0, 18)))
    assert counts(acts) == [(18, 4)]
    _, acts = run(cfg, 4, [80] * 3, deploying={0, 1, 2})
    assert counts(acts) == [(2, 7)]


def test_missing_data_never_scales_in():
    cfg = config(1, 20, targetTracking=[tt(target=50)])
    _, acts = run(cfg, 10, [20] * 10 + [None] * 20 + [20] * 10)
    # the 20-minute gap resets the low alarm (INSUFFICIENT_DATA): 15 more datapoints needed
    assert acts == []


def test_min_and_max_bound_every_result():
    cfg = config(3, 8, targetTracking=[tt(target=50)])
    _, acts = run(cfg, 6, [100] * 3)
    assert counts(acts) == [(2, 8)]
    _, acts = run(cfg, 6, [1] * 15)
    assert counts(acts) == [(14, 3)]


def test_below_min_a_scale_out_starts_from_min():
    # ecs-semantics §6.1: "If desiredCount < min and a scale-out alarm fires, AAS first jumps to min"
    cfg = config(5, 20, targetTracking=[tt(target=50)])
    _, acts = run(cfg, 2, [60] * 3)
    assert counts(acts) == [(2, 5)]


def test_suspended_dynamic_scaling():
    cfg = config(1, 20, targetTracking=[tt(target=50)], suspendedState={"dynamicScalingOutSuspended": True})
    assert run(cfg, 4, [90] * 5)[1] == []
    cfg = config(1, 20, targetTracking=[tt(target=50)], suspendedState={"dynamicScalingInSuspended": True})
    assert run(cfg, 4, [5] * 20)[1] == []


def test_custom_metric_is_read_by_its_name():
    cfg = config(1, 20, targetTracking=[{"policyName": "backlog", "targetValue": 100,
                                         "customizedMetricSpecification": {"metricName": "BacklogPerTask",
                                                                           "namespace": "App", "statistic": "Average"}}])
    _, acts = run(cfg, 2, [{"BacklogPerTask": 300}] * 3)
    assert counts(acts) == [(2, 6)]
