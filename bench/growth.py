"""How the costs of planning a deployment and of applying from empty grow, tasks and instances varied apart.

    python bench/growth.py [--quick] [--repeat N]

In-process through ``ecsctl.app.plan`` on temp states, best of ``--repeat`` (default 2):

(1) planning the rolling deployment of one EC2 service (every image re-tagged: a new revision),
    ``make_plan`` only (the manifests read outside the timing): tasks 1,000 / 2,000 / 4,000 on
    4,000 instances, then instances 1,000 / 2,000 / 4,000 under 1,000 tasks;
(2) applying from empty (``make_plan`` + ``apply_plan``: the whole run and its commits) of
    services of 25 tasks: 2,000 / 4,000 / 8,000 tasks on 400 instances, then 400 / 800 / 1,600
    instances under 4,000 tasks.

Each row gives the time, the time per task (or per instance), and the growth factor against the
row before it: a doubling of the size should cost about 2x (linear) and at most about 2.2x
(n log n); 4x would be quadratic.  ``--quick`` halves every size.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine_line, print_block  # noqa: E402
from deployments import big_service, new_images  # noqa: E402
from state_scale import generate  # noqa: E402

from tests.stackgen import write_stack  # noqa: E402


def deployment_plan(work: Path, instances: int, tasks: int, repeat: int) -> float:
    from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
    from ecsctl.storage.sqlite_store import SqliteStateStore

    docs = big_service(instances, tasks)
    here = Path(tempfile.mkdtemp(dir=work, prefix=f"d{instances}-{tasks}-"))  # a row of its own, even if sizes repeat
    base, changed = here / "base", here / "changed"
    write_stack(base, docs, files=3)
    write_stack(changed, new_images(docs), files=3)
    state = here / "state.db"
    with SqliteStateStore(state) as store, store.locked("bench"):
        apply_plan(make_plan(read_manifests([str(base)]), store), store, backend_for(store))
    inputs = read_manifests([str(changed)])
    best = float("inf")
    for _ in range(repeat):
        with SqliteStateStore(state, create=False) as store:
            s = time.perf_counter()
            plan = make_plan(inputs, store)
            best = min(best, time.perf_counter() - s)
        assert len(plan.deployments) == 1
    return best


def apply_from_empty(work: Path, instances: int, tasks: int, repeat: int) -> float:
    from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
    from ecsctl.storage.sqlite_store import SqliteStateStore

    groups = 10
    docs = generate(groups=groups, per_group=max(1, instances // groups), services=max(1, tasks // 25), desired=25,
                    fargate_share=0.2, seed=7)
    directory = Path(tempfile.mkdtemp(dir=work, prefix=f"a{instances}-{tasks}-"))  # never a state applied before
    write_stack(directory, docs, files=10)
    inputs = read_manifests([str(directory)])
    best = float("inf")
    for k in range(repeat):
        state = directory / f"state{k}.db"
        with SqliteStateStore(state) as store, store.locked("bench"):
            s = time.perf_counter()
            apply_plan(make_plan(inputs, store), store, backend_for(store))
            best = min(best, time.perf_counter() - s)
    return best


def table(title: str, unit: str, rows: list[tuple[int, int, float]], per: str) -> list[str]:
    lines = [title, "", f"| instances | tasks | time | per {unit} | growth |", "|---|---|---|---|---|"]
    previous = None
    for instances, tasks, seconds in rows:
        n = tasks if per == "tasks" else instances
        growth = f"{seconds / previous:.2f}× (size ×2)" if previous else "—"
        lines.append(f"| {instances:,} | {tasks:,} | {seconds:.2f} s | {seconds / n * 1e6:.0f} µs | {growth} |")
        previous = seconds
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="every size halved")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    f = 0.5 if args.quick else 1.0
    size = lambda n: max(3, int(n * f))  # noqa: E731
    work = Path(tempfile.mkdtemp(prefix="ecsctl-bench-growth-"))
    try:
        d_tasks = [(size(4000), size(n), deployment_plan(work, size(4000), size(n), args.repeat)) for n in (1000, 2000, 4000)]
        print(f"(1) tasks: {d_tasks}", file=sys.stderr, flush=True)
        d_inst = [(size(n), size(1000), deployment_plan(work, size(n), size(1000), args.repeat)) for n in (1000, 2000, 4000)]
        print(f"(1) instances: {d_inst}", file=sys.stderr, flush=True)
        a_tasks = [(size(400), size(n), apply_from_empty(work, size(400), size(n), args.repeat)) for n in (2000, 4000, 8000)]
        print(f"(2) tasks: {a_tasks}", file=sys.stderr, flush=True)
        a_inst = [(size(n), size(4000), apply_from_empty(work, size(n), size(4000), args.repeat)) for n in (400, 800, 1600)]
        print(f"(2) instances: {a_inst}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [f"Best of {args.repeat}{' (--quick: sizes halved)' if args.quick else ''}.", ""]
    lines += table("(1) planning one service's rolling deployment, tasks varied:", "task", d_tasks, "tasks")
    lines += table("(1) the same, instances varied:", "instance", d_inst, "instances")
    lines += table("(2) apply from empty (plan + apply), tasks varied:", "task", a_tasks, "tasks")
    lines += table("(2) the same, instances varied:", "instance", a_inst, "instances")
    lines.append(machine_line())
    print_block("growth", lines)


if __name__ == "__main__":
    main()
