"""A long tick with tasks that cannot be placed, next to the same tick where everything fits.

    python bench/long_tick.py [--quick] [--repeat N]

One m5.large instance holds 8 tasks of 256 CPU units; the service wants 114, so 106 cannot be
placed (issue 13 measured 24-30 s for one tick of such a state). Every simulated minute a
Fargate job starts (as a ``rate(1 minute)`` rule would), so the cluster changes every minute
but nothing placement sees does. Rows, best and median of N, round-robin:

(a) ``tick 30m`` in-process with the 106 unplaceable tasks;
(b) the floor: the same tick with a service of 8 that fits;
plus, for (a), how many transactions the tick committed and how many times the scheduler tried
to place the service's tasks.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import _cpu_model, ms, print_block, ratio  # noqa: E402

from ecsctl.backends.local import LocalBackend, controller  # noqa: E402
from ecsctl.storage.sqlite_store import SqliteStateStore  # noqa: E402
from tests.backends.test_tick_commits import APP, CLUSTER, JOB, every_minute_a_job, step  # noqa: E402


def build(path: Path, desired: int) -> None:
    with SqliteStateStore(path) as store:
        b = LocalBackend(store)
        for n, (kind, name, spec) in enumerate([("Cluster", "prod", CLUSTER), ("TaskDefinition", "app", APP),
                                                ("TaskDefinition", "job", JOB)]):
            b.apply_step(step(n, kind, name, spec))
        b.apply_step(step(9, "Service", "app", {"cluster": "prod", "taskDefinition": "app",
                                                "desiredCount": desired, "launchType": "EC2"}))
        b.settle()


def one_tick(base: Path, work: Path, minutes: int) -> tuple[float, int, int]:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(base, work)
    placements = 0
    real = controller.launch.place_and_start

    def counted(world, cs, spec, count, *args, **kwargs):
        nonlocal placements
        if spec.service is not None:
            placements += 1
        return real(world, cs, spec, count, *args, **kwargs)

    controller.launch.place_and_start = counted
    try:
        with SqliteStateStore(work, create=False) as store:
            before = store.meta().serial
            started = time.perf_counter()
            LocalBackend(store).tick(timedelta(minutes=minutes), handlers=[every_minute_a_job])
            elapsed = time.perf_counter() - started
            commits = store.meta().serial - before
    finally:
        controller.launch.place_and_start = real
    return elapsed, commits, placements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    repeat = args.repeat or (3 if args.quick else 7)
    minutes = 30
    tmp = Path(tempfile.mkdtemp(prefix="ecsctl-tick-"))
    try:
        short, fits = tmp / "short.db", tmp / "fits.db"
        build(short, 114)
        build(fits, 8)
        times: dict[str, list[float]] = {"short": [], "fits": []}
        seen = (0, 0)
        for _ in range(repeat + 1):  # the first round warms up
            for name, base in (("short", short), ("fits", fits)):
                elapsed, commits, placements = one_tick(base, tmp / f"{name}-work.db", minutes)
                times[name].append(elapsed)
                if name == "short":
                    seen = (commits, placements)
        for name in times:
            times[name] = times[name][1:]
        floor = min(times["fits"])
        lines = [
            f"`tick {minutes}m` in-process, a Fargate job started every minute; {repeat} rounds, round-robin.",
            "",
            "| case | best | median | ÷ floor | commits | placements of the service |",
            "|---|---|---|---|---|---|",
            f"| (a) 106 tasks cannot be placed | {ms(min(times['short']))} | {ms(statistics.median(times['short']))} | "
            f"{ratio(min(times['short']), floor)} | {seen[0]} | {seen[1]} |",
            f"| (b) everything fits (floor) | {ms(floor)} | {ms(statistics.median(times['fits']))} | 1.00× | | |",
            "",
            f"Machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f} at the end",
        ]
        print_block("long_tick", lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
