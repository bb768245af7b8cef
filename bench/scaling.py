"""Benchmark: the scaling what-if, one week of one-minute data for 500 services in one run.

    python bench/scaling.py [--quick] [--services N] [--days D] [--seed S] [--repeat N]

Each service gets its own seeded policies (target tracking on CPU, half of them a second
one on memory, a third a step policy on ALBRequestCountPerTarget, a quarter two scheduled
actions in Europe/Paris) and its own daily demand (a sine over the local day).  Measured,
round-robin, best and median of ``--repeat`` rounds:

* closed loop: ``replay`` driven by demand, the metrics derived each minute from demand ÷
  running tasks (what ``ecsctl scale simulate --demand`` runs per service), with and without
  generating the demand series;
* open loop: ``replay`` over a ready minute → {metric: value} series (``--metrics``);
* floor: a bare Python loop over the same demand arrays doing the closed loop's
  arithmetic (load × k ÷ running, a comparison with the target) per service-minute: the
  price of touching every service-minute once in this interpreter.

Figures are service-minutes per second.  ``--quick``: 50 services, 2 days.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecsctl.core.scaling.demand import DemandModel, demand_values  # noqa: E402
from ecsctl.core.scaling.model import compile_scaling  # noqa: E402
from ecsctl.core.scaling.whatif import replay  # noqa: E402

START = 28_401_120  # 2024-01-01T00:00Z in epoch minutes (a Monday)


def service_spec(rng: random.Random, i: int) -> tuple[dict, dict]:
    per_task = rng.choice([20, 50, 100, 200])
    peak = per_task * rng.uniform(4, 40)
    scaling = {
        "minCapacity": rng.randint(1, 3),
        "maxCapacity": rng.randint(30, 80),
        "targetTracking": [{"policyName": "cpu", "targetValue": rng.choice([50, 60, 70]),
                            "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
                            "scaleOutCooldown": rng.choice([60, 120, 300]), "scaleInCooldown": 300}],
    }
    if i % 2 == 0:
        scaling["targetTracking"].append({"policyName": "mem", "targetValue": 75,
                                          "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageMemoryUtilization"}})
    if i % 3 == 0:
        scaling["stepScaling"] = [{"policyName": "rps", "adjustmentType": "PercentChangeInCapacity", "cooldown": 120,
                                   "minAdjustmentMagnitude": 1,
                                   "alarm": {"metricName": "ALBRequestCountPerTarget", "threshold": per_task * 60,
                                             "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 2},
                                   "stepAdjustments": [{"metricIntervalLowerBound": 0, "scalingAdjustment": 20}]}]
    if i % 4 == 0:
        scaling["scheduled"] = [
            {"scheduledActionName": "day", "schedule": "cron(0 8 ? * MON-FRI *)", "timezone": "Europe/Paris",
             "scalableTargetAction": {"minCapacity": 4, "maxCapacity": scaling["maxCapacity"]}},
            {"scheduledActionName": "night", "schedule": "cron(0 20 ? * MON-FRI *)", "timezone": "Europe/Paris",
             "scalableTargetAction": {"minCapacity": 1, "maxCapacity": scaling["maxCapacity"]}}]
    demand = {"unit": "requestsPerSecond", "perTask": per_task, "memory": {"idle": 30, "busy": 80},
              "daily": {"min": peak * rng.uniform(0.05, 0.3), "max": peak, "peakAt": f"{rng.randint(10, 20)}:00",
                        "timezone": "Europe/Paris"}}
    return scaling, demand


def build(services: int, seed: int):
    rng = random.Random(seed)
    out = []
    for i in range(services):
        scaling, demand = service_spec(rng, i)
        out.append((compile_scaling(scaling, cluster="bench", service=f"svc-{i}"), DemandModel.from_spec(demand)))
    return out


def closed_loop(fleet, series, minutes: int) -> int:
    acts = 0
    for (cfg, model), values in zip(fleet, series):
        acts += len(replay(cfg, start=START, end=START + minutes, desired=cfg.min_capacity, demand=model,
                           demand_series=values).activities)
    return acts


def closed_loop_with_demand(fleet, minutes: int) -> int:
    series = [demand_values(model.source, START, START + minutes) for _, model in fleet]
    return closed_loop(fleet, series, minutes)


def open_loop(fleet, metric_series, minutes: int) -> int:
    acts = 0
    for (cfg, _), metrics in zip(fleet, metric_series):
        acts += len(replay(cfg, start=START, end=START + minutes, desired=cfg.min_capacity, metrics=metrics).activities)
    return acts


def floor(fleet, series, minutes: int) -> int:
    hits = 0
    for (cfg, model), values in zip(fleet, series):
        k = 100.0 / model.per_task
        target = cfg.target_tracking[0].target
        running = cfg.min_capacity
        for load in values:
            if load * k / running > target:
                hits += 1
    return hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50 services, 2 days")
    ap.add_argument("--services", type=int)
    ap.add_argument("--days", type=int)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    services = args.services or (50 if args.quick else 500)
    minutes = (args.days or (2 if args.quick else 7)) * 1440
    fleet = build(services, args.seed)
    series = [demand_values(model.source, START, START + minutes) for _, model in fleet]
    # The open loop replays, as given metrics, what the closed loop would see at a fixed running count.
    metric_series = []
    for (cfg, model), values in zip(fleet, series):
        derive = model.deriver(cfg.metrics)
        per_minute = {}
        for minute, load in zip(range(START, START + minutes), values):
            out: dict = {}
            derive(load, max(1, cfg.min_capacity * 4), out)
            per_minute[minute] = out
        metric_series.append(per_minute)
    runs = {
        "closed loop (replay)": lambda: closed_loop(fleet, series, minutes),
        "closed loop (demand generated + replay)": lambda: closed_loop_with_demand(fleet, minutes),
        "open loop (replay of a metric series)": lambda: open_loop(fleet, metric_series, minutes),
        "floor: bare loop over the same demand": lambda: floor(fleet, series, minutes),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    results = {}
    for rnd in range(args.repeat + 1):  # round 0 warms up
        for name, fn in runs.items():
            t = time.perf_counter()
            results[name] = fn()
            if rnd:
                times[name].append(time.perf_counter() - t)
    work = services * minutes
    print(f"{services} services x {minutes} minutes = {work:,} service-minutes; best and median of {args.repeat}")
    print("<!-- bench:scaling:begin -->")
    print(f"`bench/scaling.py{' --quick' if args.quick else ''}`: {services} services × {minutes // 1440} days of "
          f"one-minute data ({work:,} service-minutes), {args.repeat} rounds\n")
    print("| run | best | median | service-minutes/s (best) | activities |")
    print("|---|---:|---:|---:|---:|")
    for name in runs:
        best, median = min(times[name]), statistics.median(times[name])
        count = results[name] if not name.startswith("floor") else "-"
        print(f"| {name} | {best:.2f} s | {median:.2f} s | {work / best:,.0f} | {count} |")
    ratio = min(times["closed loop (replay)"]) / min(times["floor: bare loop over the same demand"])
    print(f"\nclosed loop ÷ floor: {ratio:.1f}× the cost of touching each service-minute once")
    print("<!-- bench:scaling:end -->")


if __name__ == "__main__":
    main()
