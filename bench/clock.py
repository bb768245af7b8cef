"""What the simulated clock's work costs: ``tick`` over the example stack with and without it.

    python bench/clock.py [--quick] [--repeat N]

The state is ``manifests/`` applied once (2 services, 9 tasks, 2 scheduled tasks, a queue
that 6 worker tasks drain); every round ticks a fresh copy of it by ``1d`` (``--quick``: 6h):

(a) the floor: ``LocalBackend.tick`` with no tick handler: the clock moves minute by minute
    and the services settle (what ``tick`` did before the handlers);
(b) every registered handler: batch tasks stopping, the nightly report firing (and running
    its 12 minutes), the queue taking its arrivals and draining every minute;
(c) (b) with a commit after every minute that changed anything, as before bookkeeping-only
    minutes were gathered (``tasks.BOOKKEEPING_MINUTES``), to show what that saves.

Round-robin, one warm-up round; best and median of N, and the number of commits.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, ms, print_block, ratio  # noqa: E402


def machine_line() -> str:
    import os
    import platform

    return f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"


def build(tmp: Path) -> Path:
    from typer.testing import CliRunner

    from ecsctl.cli.app import app

    state = tmp / "base.db"
    result = CliRunner().invoke(app, ["apply", "-f", str(REPO / "manifests"), "--state", str(state), "--auto-approve"])
    assert result.exit_code == 0, result.output
    return state


def one(base: Path, tmp: Path, duration: timedelta, case: str) -> tuple[float, int]:
    from ecsctl.backends.local import LocalBackend, tasks
    from ecsctl.storage.sqlite_store import SqliteStateStore

    path = tmp / f"{case}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(base, path)
    store = SqliteStateStore(path)
    backend = LocalBackend(store)
    commits = [0]
    plain = backend.commit

    def counted(*a, **k):
        commits[0] += 1
        plain(*a, **k)

    backend.commit = counted
    saved = tasks.BOOKKEEPING_MINUTES
    if case == "every-minute":
        tasks.BOOKKEEPING_MINUTES = 1
    try:
        with store.locked("bench clock"):
            start = time.perf_counter()
            backend.tick(duration, handlers=[] if case == "floor" else None)
            took = time.perf_counter() - start
    finally:
        tasks.BOOKKEEPING_MINUTES = saved
        store.close()
    return took, commits[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    duration = timedelta(hours=6) if args.quick else timedelta(days=1)
    repeat = args.repeat or (3 if args.quick else 5)
    cases = ["floor", "handlers", "every-minute"]
    times: dict[str, list[float]] = {c: [] for c in cases}
    commits: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = build(Path(tmp))
        for k in range(repeat + 1):
            for case in cases:
                took, n = one(base, Path(tmp), duration, case)
                commits[case] = n
                if k:
                    times[case].append(took)
    floor = min(times["floor"])
    label = {"floor": "(a) no tick handler (floor)", "handlers": "(b) every handler",
             "every-minute": "(c) every handler, a commit per changed minute"}
    hours = int(duration.total_seconds() // 3600)
    lines = [f"`tick {hours}h` over the example stack, best / median of {repeat}; {machine_line()}", "",
             "| case | best | median | × floor | commits |", "|---|---:|---:|---:|---:|"]
    for case in cases:
        best = min(times[case])
        lines.append(f"| {label[case]} | {ms(best)} | {ms(statistics.median(times[case]))} | "
                     f"{ratio(best, floor)} | {commits[case]} |")
    print_block("clock", lines)


if __name__ == "__main__":
    main()
