"""The what-if replay: open loop from a metric series, closed loop from demand."""

from __future__ import annotations

import statistics

from hypothesis import given, settings, strategies as st

from ecsctl.core.scaling.demand import DemandModel, demand_values
from ecsctl.core.scaling.whatif import replay
from scaling_helpers import CPU, config, tt

M0 = 28_401_120  # 2024-01-01T00:00Z in epoch minutes


def closed(cfg, model, values, desired, **kw):
    return replay(cfg, start=M0, end=M0 + len(values), desired=desired, demand=model, demand_series=values,
                  record=True, **kw)


def test_closed_loop_converges_near_the_target():
    # 1,000 requests/s, 40 per task at 100 % CPU: 25 tasks of work; at 60 % CPU that is 41.7 → 42 tasks.
    cfg = config(2, 100, targetTracking=[tt(target=60.0)])
    model = DemandModel.from_spec({"perTask": 40, "constant": 1000})
    timeline = closed(cfg, model, [1000.0] * 240, desired=2)
    settled = timeline.metric[-60:]
    assert abs(statistics.mean(settled) - 60.0) < 3.0
    assert all(54.0 <= v <= 60.0 for v in settled)        # at or just under the target, never above it
    assert timeline.running[-1] == timeline.desired[-1] == 42


def test_a_demand_spike_scales_out_then_back_down():
    cfg = config(2, 30, targetTracking=[tt(target=50.0, scaleInCooldown=300, scaleOutCooldown=60)])
    model = DemandModel.from_spec({"perTask": 100, "constant": 200})
    # quiet (200 rps), a one-hour spike to 1,500 rps, quiet again
    values = [200.0] * 60 + [1500.0] * 60 + [200.0] * 180
    timeline = closed(cfg, model, values, desired=4)
    spike = timeline.desired[60:120]
    assert max(spike) == 30                                  # 1,500 ÷ 50 per task → 30 (maxCapacity)
    assert timeline.running[119] == 30                        # running caught up within the spike
    assert timeline.desired[-1] == 4                          # 200 ÷ 50 per task → 4 again
    outs = [a for a in timeline.activities if "AlarmHigh" in a.cause]
    ins = [a for a in timeline.activities if "AlarmLow" in a.cause]
    assert outs and ins and outs[0].minute < ins[0].minute
    first_in = ins[0].minute - (M0 + 120)
    assert first_in >= 14                                     # 15 datapoints below 45 % first
    for a, b in zip(ins, ins[1:]):
        assert b.minute - a.minute >= 5                       # the 300 s scale-in cooldown


def test_start_up_delay_and_capacity_cap():
    cfg = config(1, 50, targetTracking=[tt(target=50.0, scaleOutCooldown=0)])
    model = DemandModel.from_spec({"perTask": 10, "constant": 100})
    timeline = closed(cfg, model, [100.0] * 30, desired=2, startup_minutes=3, capacity=7)
    first = timeline.activities[0]
    i = first.minute - M0
    assert timeline.running[i] == 2 and timeline.running[i + 3] > 2    # new tasks run 3 minutes later
    assert max(timeline.running) == 7                                   # never above the capacity
    # 7 tasks cannot serve 100 req/s at 10 each: CPU stays saturated and the desired
    # count climbs to maxCapacity while the running count is stuck at the capacity
    assert timeline.metric[-1] == 100.0 and timeline.desired[-1] == 50


def test_open_loop_reads_the_series_as_given():
    cfg = config(1, 10, targetTracking=[tt(target=50.0)])
    metrics = {M0 + m: {CPU: 90.0} for m in range(5)}
    timeline = replay(cfg, start=M0, end=M0 + 5, desired=2, metrics=metrics)
    assert [p["desiredCount"] for p in timeline.points()] == [4]
    point = timeline.points()[0]
    assert point["time"] == "2024-01-01T00:02:00Z" and point["metricValue"] == 90.0 and point["runningCount"] == 2
    assert point["reason"].endswith("triggered policy cpu")


def test_daily_demand_follows_local_time_across_dst():
    # peak at 14:00 Europe/Paris: 13:00 UTC in winter, 12:00 UTC in summer
    spec = {"daily": {"min": 0, "max": 100, "peakAt": "14:00", "timezone": "Europe/Paris"}}
    winter = demand_values(spec, M0, M0 + 1440)
    assert max(range(1440), key=winter.__getitem__) == 13 * 60
    summer_start = M0 + 182 * 1440
    summer = demand_values(spec, summer_start, summer_start + 1440)
    assert max(range(1440), key=summer.__getitem__) == 12 * 60


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0, 5000), min_size=30, max_size=200),
    lo=st.integers(0, 5), span=st.integers(0, 20), desired=st.integers(0, 30),
    cooldown=st.sampled_from([0, 60, 300]),
)
def test_every_result_within_min_max_and_scale_in_cooldown_respected(values, lo, span, desired, cooldown):
    hi = lo + span
    cfg = config(lo, hi, targetTracking=[tt(target=50.0, scaleInCooldown=cooldown, scaleOutCooldown=cooldown)],
                 stepScaling=[{"policyName": "s", "adjustmentType": "PercentChangeInCapacity", "cooldown": cooldown,
                               "minAdjustmentMagnitude": 1,
                               "alarm": {"metricName": "ALBRequestCountPerTarget", "threshold": 3000,
                                         "comparisonOperator": "GreaterThanThreshold"},
                               "stepAdjustments": [{"metricIntervalLowerBound": 0, "scalingAdjustment": 50}]}])
    model = DemandModel.from_spec({"perTask": 20, "constant": 0})
    timeline = closed(cfg, model, values, desired=desired)
    last_in = None
    for act in timeline.activities:
        assert lo <= act.desired_count <= hi
        if act.desired_count < act.previous:
            if last_in is not None:
                assert (act.minute - last_in) * 60 >= cooldown
            last_in = act.minute
        elif act.desired_count > act.previous:
            last_in = None   # a scale-out cancels the scale-in cooldown
