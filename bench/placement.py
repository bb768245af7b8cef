"""Task placement at scale: the `Placer` the local backend and the plan's prediction use.

    python bench/placement.py [--quick] [--repeat N] [--seed S] [--profile]

In one process, interleaved round by round (so machine noise hits every run alike), best and
median of ``--repeat`` rounds (default 3):

(a) 100,000 tasks (100 services x 1,000, ``place_many`` per service, one ``Placer`` for the
    whole cluster as a service step sees it) on 5,000 m5.2xlarge container instances in 3
    zones, with ``spread(attribute:ecs.availability-zone)`` + ``binpack(memory)`` and a
    ``memberOf(attribute:tier == general)`` constraint that 4 instances in 5 satisfy; target
    >= 5,000 placements/s;
(b) the same tasks with ``binpack(memory)`` alone, no constraint; target >= 20,000/s;
(c) the cost of one placement (strategy and constraint of (a)) on a cluster of 5,000
    instances vs one of 50, both pre-filled to the same level (a seeded half of each
    instance's memory taken) and then given the same number of placements; target: the
    5,000-instance cost within 3x the 50-instance one (sub-linear in the instances);
(d) the path rolling deployments take: the default strategy (spread by zone, then by
    instance) for a service that already has one task on every instance (its old tasks, the
    same task group), on 50 vs 5,000 instances: each new task goes to the instance with the
    fewest of the group's tasks; µs per placement, same target as (c).

Task demands: 256 CPU units, 1,024 MiB, one dynamic host port (bridge). Building the
``Placer`` (sorting the nodes) is timed apart from placing. ``--quick``: 10x fewer tasks and
instances in (a) and (b), the same two cluster sizes in (c) with fewer placements.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine_line, print_block  # noqa: E402

from ecsctl.core.scheduling.instance_types import builtin_attributes, instance_resources  # noqa: E402
from ecsctl.core.scheduling.placement import Node, Placer, PortNeed, TaskDemand, Unplaced  # noqa: E402

ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
INSTANCE_TYPE = "m5.2xlarge"
DEMAND = TaskDemand(256, 1024, ports=(PortNeed(8080, 0),))
SPREAD_BINPACK = [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]
BINPACK = [{"type": "binpack", "field": "memory"}]
MEMBER_OF = [{"type": "memberOf", "expression": "attribute:tier == general"}]


def make_nodes(n: int, *, seed: int, fill: float = 0.0) -> list[Node]:
    """``n`` instances over three zones; one in five is ``tier=batch``; ``fill``: a seeded share of memory taken."""
    rng = random.Random(seed)
    res = instance_resources(INSTANCE_TYPE)
    out = []
    for k in range(n):
        az = ZONES[k % len(ZONES)]
        attrs = dict(builtin_attributes(INSTANCE_TYPE, az))
        attrs["tier"] = "batch" if k % 5 == 4 else "general"
        node = Node(f"{k:032x}", az, attrs, res.cpu, res.memory)
        if fill:
            tasks = int(res.memory * fill * rng.uniform(0.5, 1.5)) // DEMAND.memory
            node.remaining_cpu -= tasks * DEMAND.cpu
            node.remaining_memory -= tasks * DEMAND.memory
            node.groups[f"service:pre{k % 7}"] += tasks
            node.running_tasks = tasks
        out.append(node)
    return out


def place_services(nodes: list[Node], services: int, per_service: int, strategies, constraints) -> tuple[float, float, int]:
    """(build seconds, place seconds, placed) for ``services`` x ``per_service`` tasks."""
    t0 = time.perf_counter()
    placer = Placer(nodes, seed=0)
    t1 = time.perf_counter()
    placed = 0
    for s in range(services):
        results = placer.place_many(DEMAND, per_service, group=f"service:s{s:03d}", constraints=constraints,
                                    strategies=strategies)
        placed += sum(1 for r in results if not isinstance(r, Unplaced))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, placed


def one_placement(n: int, count: int, seed: int) -> tuple[float, int]:
    """Seconds per placement of ``count`` tasks on ``n`` half-full instances (spread + binpack + memberOf)."""
    nodes = make_nodes(n, seed=seed, fill=0.5)
    placer = Placer(nodes, seed=0)
    placer.place(DEMAND, group="service:warm", constraints=MEMBER_OF, strategies=SPREAD_BINPACK)  # build the indexes
    start = time.perf_counter()
    placed = 0
    for k in range(count):
        r = placer.place(DEMAND, group=f"service:x{k % 10}", constraints=MEMBER_OF, strategies=SPREAD_BINPACK)
        placed += not isinstance(r, Unplaced)
    return (time.perf_counter() - start) / count, placed


def spread_over_held(n: int, count: int, seed: int) -> tuple[float, int]:
    """Seconds per placement of ``count`` tasks of a group that already has one task on each of ``n``
    instances, with the default strategy (spread zone, then instance): a rolling deployment's starts."""
    nodes = make_nodes(n, seed=seed, fill=0.25)
    for node in nodes:
        node.groups["service:web"] += 1
        node.running_tasks += 1
        node.remaining_cpu -= DEMAND.cpu
        node.remaining_memory -= DEMAND.memory
    placer = Placer(nodes, seed=0)
    placer.place(DEMAND, group="service:web")  # build the indexes
    start = time.perf_counter()
    placed = 0
    for _ in range(count):
        placed += not isinstance(placer.place(DEMAND, group="service:web"), Unplaced)
    return (time.perf_counter() - start) / count, placed


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller (a) and (b), fewer placements in (c)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--profile", action="store_true", help="also print a cProfile top of (a) (a separate run)")
    args = ap.parse_args()

    instances, services, per_service = (500, 10, 1000) if args.quick else (5000, 100, 1000)
    small, large, count = 50, 5000, (200 if args.quick else 400)
    tasks = services * per_service
    runs: dict[str, list] = {"a": [], "b": [], "c50": [], "c5000": [], "d50": [], "d5000": []}
    placed: dict[str, int] = {}
    for r in range(args.repeat):
        build, took, n = place_services(make_nodes(instances, seed=args.seed), services, per_service, SPREAD_BINPACK, MEMBER_OF)
        runs["a"].append((build, took))
        placed["a"] = n
        build, took, n = place_services(make_nodes(instances, seed=args.seed), services, per_service, BINPACK, [])
        runs["b"].append((build, took))
        placed["b"] = n
        for size, key in ((small, "c50"), (large, "c5000")):
            per, n = one_placement(size, count, args.seed + r)
            runs[key].append(per)
            placed[key] = n
        for size, key in ((small, "d50"), (large, "d5000")):
            per, n = spread_over_held(size, min(count, size), args.seed + r)
            runs[key].append(per)
            placed[key] = n
        print(f"round {r + 1}: (a) {runs['a'][-1][1]:.2f} s, (b) {runs['b'][-1][1]:.2f} s, "
              f"(c) {runs['c50'][-1] * 1e6:.0f} µs vs {runs['c5000'][-1] * 1e6:.0f} µs", file=sys.stderr, flush=True)

    if args.profile:
        prof = cProfile.Profile()
        nodes = make_nodes(instances, seed=args.seed)
        prof.enable()
        place_services(nodes, services, per_service, SPREAD_BINPACK, MEMBER_OF)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(15)
        print(out.getvalue(), file=sys.stderr)

    def best(key: str) -> tuple[float, float, float]:
        places = [t for _, t in runs[key]]
        return min(places), statistics.median(places), min(b for b, _ in runs[key])

    a_best, a_med, a_build = best("a")
    b_best, b_med, b_build = best("b")
    c50, c5000 = min(runs["c50"]), min(runs["c5000"])
    d50, d5000 = min(runs["d50"]), min(runs["d5000"])
    d_scale = d5000 / d50 if d50 else float("inf")
    a_rate, b_rate = tasks / a_best, tasks / b_best
    scale = c5000 / c50 if c50 else float("inf")
    ok = lambda good: "✓" if good else "✗"  # noqa: E731

    res = instance_resources(INSTANCE_TYPE)
    lines = [
        f"**Placement** — {tasks:,} tasks ({services} services × {per_service:,}, 256 CPU / 1,024 MiB, one dynamic port) "
        f"on {instances:,} {INSTANCE_TYPE} instances ({res.cpu} CPU, {res.memory:,} MiB) in 3 zones, one `Placer`; "
        f"best / median of {args.repeat} rounds, interleaved{' (--quick)' if args.quick else ''}.",
        "",
        "| run | placed | build `Placer` | place (best) | place (median) | placements/s (best) | target |",
        "|---|---|---|---|---|---|---|",
        f"| (a) spread(AZ) + binpack(memory) + memberOf | {placed['a']:,} | {a_build * 1000:.0f} ms | {a_best:.2f} s | "
        f"{a_med:.2f} s | **{a_rate:,.0f}** | ≥ 5,000 ({a_rate / 5000:.2f}× target) {ok(a_rate >= 5000)} |",
        f"| (b) binpack(memory) alone | {placed['b']:,} | {b_build * 1000:.0f} ms | {b_best:.2f} s | "
        f"{b_med:.2f} s | **{b_rate:,.0f}** | ≥ 20,000 ({b_rate / 20000:.2f}× target) {ok(b_rate >= 20000)} |",
        "",
        f"One placement (strategies and constraint of (a)), clusters pre-filled to half their memory, {count} placements, best of {args.repeat}:",
        "",
        "| instances | placed | µs / placement (best) | median | ratio | target |",
        "|---|---|---|---|---|---|",
        f"| {small:,} | {placed['c50']} | {c50 * 1e6:.1f} | {statistics.median(runs['c50']) * 1e6:.1f} | 1.00× | floor |",
        f"| {large:,} | {placed['c5000']} | {c5000 * 1e6:.1f} | {statistics.median(runs['c5000']) * 1e6:.1f} | **{scale:.2f}×** "
        f"(instances ×{large // small}) | ≤ 3× {ok(scale <= 3)} |",
        "",
        "One placement on the path of a rolling deployment (default strategy: spread zone, then instance; the "
        "service already holds one task on every instance), best of " + f"{args.repeat}:",
        "",
        "| instances | placed | µs / placement (best) | median | ratio | target |",
        "|---|---|---|---|---|---|",
        f"| {small:,} | {placed['d50']} | {d50 * 1e6:.1f} | {statistics.median(runs['d50']) * 1e6:.1f} | 1.00× | floor |",
        f"| {large:,} | {placed['d5000']} | {d5000 * 1e6:.1f} | {statistics.median(runs['d5000']) * 1e6:.1f} | "
        f"**{d_scale:.2f}×** (instances ×{large // small}) | ≤ 3× {ok(d_scale <= 3)} |",
        "",
        machine_line(),
    ]
    print_block("placement", lines)
    if (placed["a"] != tasks or placed["b"] != tasks or placed["c50"] != count or placed["c5000"] != count
            or placed["d50"] != min(count, small) or placed["d5000"] != count):
        print(f"not every task was placed: {placed}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
