"""The compiled walk (``compiled.replay``) gives exactly what the reference engine gives.

Two kinds of evidence:

* a property: random policy sets (target tracking on predefined, custom and unpublished
  metrics, step scaling with every operator, M-of-N alarms and aggregation, scheduled
  actions including conflicting ones, suspended states, min/max bounds) over random
  series, open and closed loop, with start-up delays and a capacity cap: the compiled
  replay's Timeline (activities with their wording and metric values, counts at each
  activity, per-minute samples) equals the reference replay's, field for field;
* the documentation's worked examples of the target-tracking, step-scaling and
  scheduled-scaling tests, re-run with their ``run`` helper going through the compiled
  walk instead of ``engine.step``.
"""

from __future__ import annotations

import inspect
import json
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import test_scheduled
import test_step_scaling
import test_target_tracking
import test_whatif
from ecsctl.core.scaling import compiled
from ecsctl.core.scaling.demand import DemandModel
from ecsctl.core.scaling.model import compile_scaling
from ecsctl.core.scaling.schedules import fire_times
from ecsctl.core.scaling.whatif import replay as reference
from scaling_helpers import CPU, MEM, no_schedules

M0 = 28_401_120  # 2024-01-01T00:00Z in epoch minutes
ALB = "ALBRequestCountPerTarget"
METRICS = [CPU, MEM, ALB, "Backlog", "Util", "Total", "Unpublished"]
OPERATORS = ["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"]
FIELDS = ("activities", "running_at", "metric_at", "minutes", "metric", "desired", "running")


def metric_spec(name):
    if name in (CPU, MEM, ALB):
        return {"predefinedMetricSpecification": {"predefinedMetricType": name}}
    return {"customizedMetricSpecification": {"metricName": name, "namespace": "App", "statistic": "Average"}}


cooldowns = st.sampled_from([0, 60, 120, 300, 600])


@st.composite
def tracking(draw, i):
    return {"policyName": f"tt{i}", "targetValue": draw(st.sampled_from([10, 25, 50, 60.5, 70, 90, 500, 3000])),
            **metric_spec(draw(st.sampled_from(METRICS))), "scaleOutCooldown": draw(cooldowns),
            "scaleInCooldown": draw(cooldowns), "disableScaleIn": draw(st.booleans())}


@st.composite
def stepping(draw, i):
    kind = draw(st.sampled_from(["ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"]))
    op = draw(st.sampled_from(OPERATORS))
    up = op.startswith("Greater")
    sizes = [draw(st.integers(1, 60)) for _ in range(3)]
    sign = 1 if up else -1
    if kind == "ExactCapacity":
        adjust = [draw(st.integers(0, 40)) for _ in range(3)]
    else:
        adjust = [sign * draw(st.integers(0, 50)) for _ in range(3)]
    a, b = sizes[0], sizes[0] + sizes[1]
    if up:
        steps = [{"metricIntervalLowerBound": 0, "metricIntervalUpperBound": a, "scalingAdjustment": adjust[0]},
                 {"metricIntervalLowerBound": a, "metricIntervalUpperBound": b, "scalingAdjustment": adjust[1]},
                 {"metricIntervalLowerBound": b, "scalingAdjustment": adjust[2]}]
    else:
        steps = [{"metricIntervalLowerBound": -a, "metricIntervalUpperBound": 0, "scalingAdjustment": adjust[0]},
                 {"metricIntervalLowerBound": -b, "metricIntervalUpperBound": -a, "scalingAdjustment": adjust[1]},
                 {"metricIntervalUpperBound": -b, "scalingAdjustment": adjust[2]}]
    steps = steps[:draw(st.integers(1, 3))]
    periods = draw(st.integers(1, 4))
    alarm = {"metricName": draw(st.sampled_from(METRICS)), "threshold": draw(st.sampled_from([5, 30, 50, 70, 95, 1200, 3000])),
             "comparisonOperator": op, "evaluationPeriods": periods,
             "datapointsToAlarm": draw(st.integers(1, periods))}
    if draw(st.integers(0, 9)) == 0:
        alarm["period"] = 120  # not compiled: replay_best falls back to the engine
    policy = {"policyName": f"step{i}", "adjustmentType": kind, "cooldown": draw(cooldowns), "alarm": alarm,
              "stepAdjustments": steps,
              "metricAggregationType": draw(st.sampled_from(["Average", "Minimum", "Maximum"]))}
    if kind == "PercentChangeInCapacity" and draw(st.booleans()):
        policy["minAdjustmentMagnitude"] = draw(st.integers(1, 3))
    return policy


@st.composite
def scheduled(draw, i):
    when = draw(st.sampled_from(["rate(17 minutes)", "rate(1 hour)", "cron(*/23 * * * ? *)", "cron(30 1 * * ? *)",
                                 "at(2024-01-01T00:40:00)"]))
    action = {}
    if draw(st.booleans()):
        action["minCapacity"] = draw(st.integers(0, 12))
    if draw(st.booleans()) or not action:
        action["maxCapacity"] = draw(st.integers(0, 30))
    item = {"scheduledActionName": f"sched{i}", "schedule": when, "scalableTargetAction": action}
    if draw(st.booleans()):
        item["timezone"] = "Europe/Paris"
    return item


@st.composite
def configs(draw):
    lo = draw(st.integers(0, 5))
    spec = {"minCapacity": lo, "maxCapacity": lo + draw(st.one_of(st.integers(0, 40), st.integers(100, 2000)))}
    spec["targetTracking"] = [draw(tracking(i)) for i in range(draw(st.integers(0, 3)))]
    spec["stepScaling"] = [draw(stepping(i)) for i in range(draw(st.integers(0, 2)))]
    spec["scheduled"] = [draw(scheduled(i)) for i in range(draw(st.integers(0, 2)))]
    if draw(st.integers(0, 5)) == 0:
        spec["suspendedState"] = {"dynamicScalingInSuspended": draw(st.booleans()),
                                  "dynamicScalingOutSuspended": draw(st.booleans()),
                                  "scheduledScalingSuspended": draw(st.booleans())}
    return compile_scaling(spec, cluster="prop", service="svc")


@st.composite
def demands(draw):
    spec = {"unit": draw(st.sampled_from(["requestsPerSecond", "cpuSecondsPerSecond", "messagesPerSecond"])),
            "perTask": draw(st.sampled_from([0.5, 7, 20, 50, 100])), "constant": 0}
    if draw(st.booleans()):
        spec["memory"] = {"idle": draw(st.integers(0, 40)), "busy": draw(st.integers(40, 100))}
    custom = {}
    for name in ("Backlog", "Util", "Total", CPU, ALB):
        if draw(st.integers(0, 3)) == 0:
            custom[name] = draw(st.sampled_from(["total", "perTask", "utilization"]))
    if custom:
        spec["customMetrics"] = custom
    return DemandModel.from_spec(spec)


CENTRES = [1.0, 10.0, 25.0, 50.0, 60.0, 70.0, 90.0, 100.0, 500.0, 1200.0, 3000.0]


def plateaus(rng, length, centre):
    """Piecewise-constant levels around ``centre`` (so loops settle, then get pushed), with noise."""
    out = []
    while len(out) < length:
        level = centre * rng.choice([0.2, 0.5, 0.8, 0.88, 0.95, 1.0, 1.05, 1.2, 1.5, 3.0])
        noise = rng.choice([0.0, 0.0, 0.02, 0.1])
        for _ in range(rng.randint(1, 40)):
            out.append(max(0.0, level * (1 + rng.uniform(-noise, noise))))
    return out[:length]


@st.composite
def demand_series(draw, model):
    rng = draw(st.randoms(use_true_random=False))
    length = draw(st.integers(1, 400))
    tasks = draw(st.sampled_from([1, 3, 8, 20, 60]))
    return plateaus(rng, length, model.per_task * tasks)


def assert_same(config, **kw):
    expected = reference(config, fire_times_fn=fire_times, **kw)
    got = compiled.replay_best(config, fire_times_fn=fire_times, **kw)
    for name in FIELDS:
        assert getattr(got, name) == getattr(expected, name), name
    return expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), model=demands(), data=st.data(), desired=st.integers(0, 40),
       startup=st.integers(0, 4), capacity=st.one_of(st.none(), st.integers(0, 25), st.integers(50, 500)),
       record=st.booleans())
def test_closed_loop_matches_the_engine(config, model, data, desired, startup, capacity, record):
    values = data.draw(demand_series(model))
    assert_same(config, start=M0, end=M0 + len(values), desired=desired, demand=model, demand_series=values,
                startup_minutes=startup, capacity=capacity, record=record)


@st.composite
def metric_series(draw):
    rng = draw(st.randoms(use_true_random=False))
    length = draw(st.integers(1, 300))
    present = draw(st.lists(st.sampled_from(METRICS), min_size=0, max_size=4, unique=True))
    gaps = draw(st.sampled_from([0, 0, 1, 3]))
    columns = [plateaus(rng, length, draw(st.sampled_from(CENTRES))) for _ in present]
    out = {}
    for minute in range(length):
        row = {name: column[minute] for name, column in zip(present, columns)
               if not gaps or rng.randrange(10) >= gaps}
        if row:
            out[M0 + minute] = row
    return length, out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), given_series=metric_series(), desired=st.integers(0, 40), startup=st.integers(0, 3),
       capacity=st.one_of(st.none(), st.integers(0, 25)), record=st.booleans())
def test_open_loop_matches_the_engine(config, given_series, desired, startup, capacity, record):
    length, metrics = given_series
    assert_same(config, start=M0, end=M0 + length, desired=desired, metrics=metrics,
                startup_minutes=startup, capacity=capacity, record=record)


def test_a_week_of_the_benchmark_mix_matches():
    """The benchmark's own policy mix (and its demand) over a day, scheduled actions included."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from scaling import START, build  # bench/scaling.py

    from ecsctl.core.scaling.demand import demand_values

    for cfg, model in build(12, seed=3):
        values = demand_values(model.source, START, START + 1440)
        timeline = assert_same(cfg, start=START, end=START + 1440, desired=cfg.min_capacity, demand=model,
                               demand_series=values, record=True)
        assert timeline.activities


def test_not_compiled_falls_back_and_says_so():
    cfg = compile_scaling({"minCapacity": 1, "maxCapacity": 5, "stepScaling": [
        {"policyName": "s", "adjustmentType": "ChangeInCapacity", "stepAdjustments": [
            {"metricIntervalLowerBound": 0, "scalingAdjustment": 1}],
         "alarm": {"metricName": CPU, "threshold": 50, "comparisonOperator": "GreaterThanThreshold", "period": 300}}]},
        cluster="c", service="s")
    assert not compiled.applies(cfg)
    with pytest.raises(ValueError):
        compiled.replay(cfg, start=0, end=10, desired=1, metrics={})
    assert compiled.replay_best(cfg, start=0, end=10, desired=1, metrics={}).activities == []


def test_the_generated_source_holds_no_manifest_text():
    def walk_source(policy, metric):
        cfg = compile_scaling({"minCapacity": 1, "maxCapacity": 5, "targetTracking": [
            {"policyName": policy, "targetValue": 50, "customizedMetricSpecification": {"metricName": metric}}]},
            cluster="c", service="s")
        compiled._CACHE.clear()
        timeline = compiled.replay(cfg, start=0, end=5, desired=1, metrics={m: {metric: 90.0} for m in range(5)})
        return timeline, [compiled._source(shape) for shape in compiled._CACHE]

    hostile = "x'); __import__('os').system('true'); ('"
    timeline, sources = walk_source(hostile, hostile)
    assert [a.desired_count for a in timeline.activities] == [2]   # the metric was read by its name
    assert all(hostile not in src and "__import__" not in src for src in sources)
    _, plain = walk_source("cpu", "Backlog")
    assert len(sources) == 1 and plain == sources                   # the text depends on the shape only


# --- the documentation's worked examples, through the compiled walk -----------------


def compiled_run(cfg, desired, series, *, first=0, deploying=(), fire_times_fn=no_schedules):
    """``scaling_helpers.run`` with the minutes going through ``compiled.replay`` (open loop)."""
    assert not deploying  # a what-if has no deployment in progress
    metrics = {}
    for i, item in enumerate(series):
        if not isinstance(item, dict):
            item = {} if item is None else {CPU: float(item)}
        metrics[first + i] = item
    timeline = compiled.replay(cfg, start=first, end=first + len(series), desired=desired, metrics=metrics,
                               startup_minutes=0, fire_times_fn=fire_times_fn)
    acts = [(a.minute, a) for a in timeline.activities]
    last = timeline.activities[-1] if timeline.activities else None
    state = SimpleNamespace(minimum=last.min_capacity if last else cfg.min_capacity,
                            maximum=last.max_capacity if last else cfg.max_capacity,
                            desired=last.desired_count if last else desired)
    return state, acts


def _worked_examples():
    out = []
    for module in (test_target_tracking, test_step_scaling, test_scheduled):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_") or fn.__module__ != module.__name__:
                continue
            source = inspect.getsource(fn)
            if " run(" not in source or "deploying" in source or inspect.signature(fn).parameters:
                continue
            out.append(pytest.param(module, name, id=f"{module.__name__}.{name}"))
    return out


@pytest.mark.parametrize("module, name", _worked_examples())
def test_worked_examples_through_the_compiled_walk(module, name, monkeypatch):
    monkeypatch.setattr(module, "run", compiled_run)
    getattr(module, name)()


@pytest.mark.parametrize("name", [n for n in dir(test_whatif) if n.startswith("test_")
                                  and "replay" in inspect.getsource(getattr(test_whatif, n))
                                  or n in ("test_closed_loop_converges_near_the_target",
                                           "test_a_demand_spike_scales_out_then_back_down",
                                           "test_start_up_delay_and_capacity_cap")])
def test_what_if_examples_through_the_compiled_walk(name, monkeypatch):
    calls = []

    def compiled_replay(config, **kw):
        calls.append(config)
        return compiled.replay(config, **kw)

    monkeypatch.setattr(test_whatif, "replay", compiled_replay)
    getattr(test_whatif, name)()
    assert calls


def test_the_worked_examples_were_found():
    names = {p.values[1] for p in _worked_examples()}
    assert "test_the_guides_worked_example_minute_by_minute" in names
    assert "test_scale_out_cooldown_counts_capacity_already_added" in names
    assert "test_a_scheduled_action_sets_bounds_and_pulls_desired_in" in names
    assert len(names) >= 20



# --- ecsctl scale simulate takes the compiled walk, and says the same as the engine ---


EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "examples" / "scaling"
CLI_CASES = [
    ["--metrics", str(EXAMPLES / "cpu.csv")],
    ["--demand", str(EXAMPLES / "spike.csv")],
    ["--from", "2024-05-06T00:00:00Z", "--to", "2024-05-08T00:00:00Z"],
]


@pytest.mark.parametrize("extra", CLI_CASES, ids=["open", "demand-file", "manifest-demand"])
def test_scale_simulate_uses_the_compiled_walk_and_matches_the_engine(extra, monkeypatch):
    from typer.testing import CliRunner

    from ecsctl.cli.app import app

    args = ["scale", "simulate", "-f", str(EXAMPLES), "--service", "web", "-o", "json", *extra]
    walks = []
    real = compiled._compiled
    monkeypatch.setattr(compiled, "_compiled", lambda shape: walks.append(shape) or real(shape))
    fast = CliRunner().invoke(app, args)
    assert fast.exit_code == 0, fast.output
    assert walks, "scale simulate did not take the compiled walk"
    monkeypatch.setattr(compiled, "applies", lambda config: False)
    slow = CliRunner().invoke(app, args)
    assert slow.exit_code == 0, slow.output
    assert len(walks) == 1 and fast.stdout == slow.stdout and json.loads(fast.stdout)
