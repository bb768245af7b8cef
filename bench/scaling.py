"""Benchmark: the scaling what-if, one week of one-minute data for 500 services in one run.

    python bench/scaling.py [--quick] [--services N] [--days D] [--seed S] [--repeat N]

Each service gets its own seeded policies (target tracking on CPU, half of them a second
one on memory, a third a step policy on ALBRequestCountPerTarget, a quarter two scheduled
actions in Europe/Paris) and its own daily demand (a sine over the local day).  Measured,
round-robin, best and median of ``--repeat`` rounds:

* closed loop: the replay driven by demand, the metrics derived each minute from demand ÷
  running tasks, as ``ecsctl scale simulate --demand`` runs it per service: the compiled
  walk (``compiled.replay_best``, what the command uses), with and without generating the
  demand series, and the reference engine (``whatif.replay``) on the same input;
* open loop: the same two over a ready minute → {metric: value} series (``--metrics``);
* floor: a bare Python loop over the same demand arrays doing the closed loop's
  arithmetic (load × k ÷ running, a comparison with the target) per service-minute: the
  price of touching every service-minute once in this interpreter.

Figures are service-minutes per second, wall clock (and per CPU-second, for a shared
machine); "× engine" is the engine's time over the compiled walk's, wall-clock medians and
CPU-time bests.  The warm-up
round also checks that the compiled walk's timelines equal the engine's (exit 1 if not).
``--quick``: 50 services, 2 days.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecsctl.core.scaling.demand import DemandModel, demand_values  # noqa: E402
from ecsctl.core.scaling.model import compile_scaling  # noqa: E402
from ecsctl.core.scaling.compiled import applies, replay_best  # noqa: E402
from ecsctl.core.scaling.whatif import replay as reference  # noqa: E402

START = 28_401_120  # 2024-01-01T00:00Z in epoch minutes (a Monday)
TARGET = 500_000  # issue 10: service-minutes per second, closed loop
CLOSED = "closed loop, compiled (replay)"
OPEN = "open loop, compiled (replay of a metric series)"
CLOSED_REF = "closed loop, engine (reference)"
OPEN_REF = "open loop, engine (reference)"
FLOOR = "floor: bare loop over the same demand"


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


def closed_loop(fleet, series, minutes: int, replay=replay_best) -> list:
    return [replay(cfg, start=START, end=START + minutes, desired=cfg.min_capacity, demand=model, demand_series=values)
            for (cfg, model), values in zip(fleet, series)]


def closed_loop_with_demand(fleet, minutes: int, replay=replay_best) -> list:
    series = [demand_values(model.source, START, START + minutes) for _, model in fleet]
    return closed_loop(fleet, series, minutes, replay)


def open_loop(fleet, metric_series, minutes: int, replay=replay_best) -> list:
    return [replay(cfg, start=START, end=START + minutes, desired=cfg.min_capacity, metrics=metrics)
            for (cfg, _), metrics in zip(fleet, metric_series)]


def floor(fleet, series, minutes: int) -> list:
    hits = 0
    for (cfg, model), values in zip(fleet, series):
        k = 100.0 / model.per_task
        target = cfg.target_tracking[0].target
        running = cfg.min_capacity
        for load in values:
            if load * k / running > target:
                hits += 1
    return []


FIELDS = ("activities", "running_at", "metric_at", "minutes")


def same(fast: list, slow: list) -> bool:
    """The compiled walk's timelines equal the engine's, field for field."""
    return len(fast) == len(slow) and all(getattr(a, f) == getattr(b, f) for a, b in zip(fast, slow) for f in FIELDS)


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
    compiled_services = sum(applies(cfg) for cfg, _ in fleet)
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
        CLOSED: lambda: closed_loop(fleet, series, minutes),
        "closed loop, compiled (demand generated + replay)": lambda: closed_loop_with_demand(fleet, minutes),
        OPEN: lambda: open_loop(fleet, metric_series, minutes),
        CLOSED_REF: lambda: closed_loop(fleet, series, minutes, reference),
        OPEN_REF: lambda: open_loop(fleet, metric_series, minutes, reference),
        FLOOR: lambda: floor(fleet, series, minutes),
    }
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, list] = {}
    for rnd in range(args.repeat + 1):  # round 0 warms up (and compiles the walks)
        for name, fn in runs.items():
            t, c = time.perf_counter(), time.process_time()
            results[name] = fn()
            if rnd:
                wall[name].append(time.perf_counter() - t)
                cpu[name].append(time.process_time() - c)
        if not rnd:
            agree = same(results[CLOSED], results[CLOSED_REF]) and same(results[OPEN], results[OPEN_REF])
            results.clear()
    work = services * minutes
    peer = {CLOSED: CLOSED_REF, "closed loop, compiled (demand generated + replay)": CLOSED_REF, OPEN: OPEN_REF}
    print(f"{services} services x {minutes} minutes = {work:,} service-minutes; best and median of {args.repeat}")
    print("<!-- bench:scaling:begin -->")
    print(f"`bench/scaling.py{' --quick' if args.quick else ''}`: {services} services × {minutes // 1440} days of "
          f"one-minute data ({work:,} service-minutes), {args.repeat} rounds; {compiled_services} of {services} "
          f"services compiled, the rest through the engine\n")
    print("| run | best | median | service-minutes/s (best) | (median) | per CPU-second (best) | × engine (wall median / CPU best) | activities |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in runs:
        best, median = min(wall[name]), statistics.median(wall[name])
        count = sum(len(t.activities) for t in results[name]) if name != FLOOR else "-"
        ratio = (f"{statistics.median(wall[peer[name]]) / median:.1f}× / {min(cpu[peer[name]]) / min(cpu[name]):.1f}×"
                 if name in peer else "-")
        print(f"| {name} | {best:.2f} s | {median:.2f} s | {work / best:,.0f} | {work / median:,.0f} | "
              f"{work / min(cpu[name]):,.0f} | {ratio} | {count} |")
    best_closed, median_closed = work / min(wall[CLOSED]), work / statistics.median(wall[CLOSED])
    verdict = "met" if median_closed >= TARGET else ("met at best, not at median" if best_closed >= TARGET else "NOT met")
    per_cpu = work / statistics.median(cpu[CLOSED])
    print(f"\ntarget {TARGET:,} service-minutes/s closed loop, wall clock: {verdict} (best {best_closed:,.0f}, median "
          f"{median_closed:,.0f}); per CPU-second (median {per_cpu:,.0f}): {'met' if per_cpu >= TARGET else 'NOT met'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"compiled and engine timelines identical: {'yes' if agree else 'NO'}; "
          f"compiled closed loop ÷ floor: {min(wall[CLOSED]) / min(wall[FLOOR]):.1f}×")
    print("<!-- bench:scaling:end -->")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
