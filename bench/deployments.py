"""Planning rolling deployments: one service of 5,000 tasks, and 2,000 services at once.

    python bench/deployments.py [--quick] [--scale F] [--seed S] [--repeat N] [--profile]

``make_plan`` steps every deployment a plan starts by running the service scheduler over a
private copy of the state (``app.forecast``: the local backend with ``persist=False``, every
service of a cluster taking one move per round, all deployments at once).  Two stacks, each applied
first **in-process** (``read_manifests`` / ``make_plan`` / ``apply_plan`` / ``backend_for`` on a
temp state, store locked as the CLI does), then planned again with every container image
changed (a new task-definition revision per service, so a new deployment per service):

1. **one big service**: a Cluster of 5,000 m5.4xlarge container instances (3 groups, one per
   AZ) running one EC2/bridge service of 5,000 tasks (256 CPU / 512 MiB, one dynamic host
   port; spread by AZ then by instance; ``deploymentConfiguration`` 90 % / 110 %, so the roll
   takes many steps of 500 stops and 500 starts);
2. **many services**: the ``state_scale.py`` stack (its generator: 2,500 instances, 2,000
   services x 25 tasks, 80 % EC2/bridge, 20 % Fargate; default deployment bounds 100 / 200).

Each reports ``make_plan`` on the changed manifests (best / median of N, deployments stepped,
steps, outcomes), side by side with the floor measured in the same run, interleaved: the same
``make_plan`` on the unchanged manifests (a no-op plan, no deployment to step); and both again
with ``read_manifests`` counted in (what a user waits for: the larger part of a no-op plan of a
big stack).  ``--quick`` is 10x smaller (500 instances / 500 tasks; 250 instances, 200
services, 5,000 tasks).  With ``--profile`` a cProfile top of one deployment plan of each goes to
stderr (a separate run, never a timed one).
"""

from __future__ import annotations

import argparse
import copy
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine, machine_line, print_block  # noqa: E402
from state_scale import ZONES, generate, profiled  # noqa: E402

from tests.stackgen import doc, write_stack  # noqa: E402

BIG_TYPE = "m5.4xlarge"


def big_service(instances: int, tasks: int, *, min_pct: int = 90, max_pct: int = 110) -> list[dict]:
    """One cluster of ``instances`` (one group per AZ) and one EC2 service of ``tasks`` tasks."""
    per = [instances // len(ZONES) + (1 if z < instances % len(ZONES) else 0) for z in range(len(ZONES))]
    docs = [doc("Cluster", "big", {"containerInstances": [
        {"name": f"az{z}", "count": n, "instanceType": BIG_TYPE, "availabilityZone": ZONES[z],
         "attributes": {"tier": "general"}} for z, n in enumerate(per) if n
    ]})]
    docs.append(doc("TaskDefinition", "web", {
        "requiresCompatibilities": ["EC2"], "networkMode": "bridge",
        "containerDefinitions": [{"name": "app", "image": "nginx:1.26", "essential": True, "cpu": 256,
                                  "memory": 512, "portMappings": [{"containerPort": 8080, "hostPort": 0}]}]}))
    docs.append(doc("Service", "web", {
        "cluster": "big", "taskDefinition": "web", "desiredCount": tasks, "launchType": "EC2",
        "deploymentConfiguration": {"minimumHealthyPercent": min_pct, "maximumPercent": max_pct},
        "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                              {"type": "spread", "field": "instanceId"}]}))
    return docs


def new_images(docs: list[dict], tag: str = "bench-next") -> list[dict]:
    """The same documents with every container image re-tagged (a new revision of every task definition)."""
    out = copy.deepcopy(docs)
    for d in out:
        if d["kind"] == "TaskDefinition":
            for c in d["spec"]["containerDefinitions"]:
                c["image"] = c["image"].rsplit(":", 1)[0] + ":" + tag
    return out


def run_case(name: str, docs: list[dict], work: Path, *, repeat: int, profile: bool, budget: float = 30.0) -> dict:
    """Apply ``docs`` from empty, then time make_plan with every image changed vs the no-op plan."""
    from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
    from ecsctl.core.state.ports import Task
    from ecsctl.storage.sqlite_store import SqliteStateStore

    base, changed, state = work / name / "base", work / name / "changed", work / name / "state.db"
    state.parent.mkdir(parents=True, exist_ok=True)
    write_stack(base, docs, files=20)
    write_stack(changed, new_images(docs), files=20)
    want = sum(d["spec"]["desiredCount"] for d in docs if d["kind"] == "Service")

    s = time.perf_counter()
    inputs = read_manifests([str(base)])
    store = SqliteStateStore(state)
    with store.locked("bench apply"):
        apply_plan(make_plan(inputs, store), store, backend_for(store))
    running = store.tally(Task, ("cluster",), last_status="RUNNING")
    store.close()
    t_apply = time.perf_counter() - s
    n_running = sum(running.values())
    print(f"[{name}] applied {n_running:,} RUNNING tasks in {t_apply:.1f} s", file=sys.stderr, flush=True)

    inputs_changed = read_manifests([str(changed)])

    def plan(inp):
        with SqliteStateStore(state, create=False) as st:
            return make_plan(inp, st)

    times: dict[str, list[float]] = {"noop": [], "deploy": [], "read noop": [], "read deploy": []}
    noop = deploy = None
    for _ in range(repeat):
        s = time.perf_counter()
        inputs = read_manifests([str(base)])
        times["read noop"].append(time.perf_counter() - s)
        s = time.perf_counter()
        noop = plan(inputs)
        times["noop"].append(time.perf_counter() - s)
        if times["deploy"] and max(times["deploy"]) > budget:
            continue  # one slow deployment plan is enough: keep repeating only the floor
        s = time.perf_counter()
        inputs_changed = read_manifests([str(changed)])
        times["read deploy"].append(time.perf_counter() - s)
        s = time.perf_counter()
        deploy = plan(inputs_changed)
        times["deploy"].append(time.perf_counter() - s)
        print(f"[{name}] no-op {times['noop'][-1]:.3f} s, deployment plan {times['deploy'][-1]:.3f} s",
              file=sys.stderr, flush=True)
    if profile and max(times["deploy"]) <= budget:
        _, _, text = profiled(lambda: plan(inputs_changed), True, top=25)
        print(f"\n## cProfile [{name}]: make_plan with every image changed\n{text}", file=sys.stderr, flush=True)

    deps = deploy.deployments
    steps = [len(d["steps"]) for d in deps]
    result = {
        "want": want, "running": n_running, "apply": t_apply, "times": times,
        "noop_changes": sum(1 for c in noop.changes if c.action != "no-op"), "noop_deployments": len(noop.deployments),
        "changes": Counter(c.action for c in deploy.changes if c.action != "no-op"),
        "deployments": len(deps), "outcomes": Counter(d["outcome"] for d in deps),
        "steps_total": sum(steps), "steps_max": max(steps, default=0),
        "steps_hist": Counter(steps), "reasons": Counter(d["reason"] for d in deps if d["outcome"] != "complete"),
        "first": deps[0] if deps else None,
    }
    print(f"[{name}] no-op plan best {min(times['noop']):.3f} s, deployment plan best {min(times['deploy']):.3f} s; "
          f"{len(deps)} deployments, outcomes {dict(result['outcomes'])}, steps {dict(result['steps_hist'])}",
          file=sys.stderr, flush=True)
    return result


def rows(label: str, r: dict, per: str) -> list[str]:
    """Table rows: deployment plan vs the no-op floor."""
    noop, dep = sorted(r["times"]["noop"]), sorted(r["times"]["deploy"])
    with_read = lambda which, reads: sorted(a + b for a, b in zip(r["times"][which], r["times"][reads]))  # noqa: E731
    noop_r, dep_r = with_read("noop", "read noop"), with_read("deploy", "read deploy")
    runs = " (1 run)" if len(dep) == 1 else ""
    floor = noop[0]
    extra = dep[0] - floor
    n = r["deployments"]
    rate = f"**{n / dep[0]:,.0f} deployments/s**" if per == "rate" else f"{r['steps_total']:,} steps"
    per_dep = f"{extra / n * 1000:.2f} ms / deployment over the floor" if n else ""
    return [
        f"| {label}: no-op plan (floor) | {noop[0]:.3f} s | {statistics.median(noop):.3f} s | 1.00× | "
        f"{r['noop_changes']} changes, {r['noop_deployments']} deployments |",
        f"| {label}: every image changed{runs} | {dep[0]:.3f} s | {statistics.median(dep):.3f} s | "
        f"**{dep[0] / floor:.2f}×** | {n:,} deployments stepped, {rate}; {per_dep} |",
        f"| {label}, reading the manifests counted in: no-op plan | {noop_r[0]:.3f} s | {statistics.median(noop_r):.3f} s | "
        f"1.00× | |",
        f"| {label}, reading the manifests counted in: every image changed{runs} | {dep_r[0]:.3f} s | "
        f"{statistics.median(dep_r):.3f} s | **{dep_r[0] / noop_r[0]:.2f}×** | "
        + (f"{n / dep_r[0]:,.0f} deployments/s |" if per == "rate" else "|"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller: 500 instances / 500 tasks; 250 instances, 200 services")
    ap.add_argument("--scale", type=float, help="fraction of the full size (overrides --quick)")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--repeat", type=int, help="rounds of (no-op plan, deployment plan); default 3, --quick 3")
    ap.add_argument("--only", choices=("big", "many"), help="run one of the two cases")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile top of one deployment plan (a separate run)")
    args = ap.parse_args()

    scale = args.scale if args.scale else (0.1 if args.quick else 1.0)
    repeat = args.repeat or 3
    big_n = max(3, round(5000 * scale))
    groups, per_group, services, desired = 25, max(1, round(100 * scale)), max(1, round(2000 * scale)), 25
    work = Path(tempfile.mkdtemp(prefix="ecsctl-bench-deployments-"))
    results: dict[str, dict] = {}
    try:
        if args.only in (None, "big"):
            results["big"] = run_case("big", big_service(big_n, big_n), work, repeat=repeat, profile=args.profile)
        if args.only in (None, "many"):
            docs = generate(groups=groups, per_group=per_group, services=services, desired=desired,
                            fargate_share=0.2, seed=args.seed)
            results["many"] = run_case("many", docs, work, repeat=repeat, profile=args.profile)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        f"In-process through `ecsctl.app.plan` on a temp state (applied first); `make_plan` with every container image "
        f"re-tagged (a new task-definition revision, so a new deployment, per service) next to the same `make_plan` "
        f"on the unchanged manifests (no-op plan, the floor), best / median of {repeat}, interleaved; "
        f"then both with `read_manifests` counted in.",
        "",
        "| plan | best | median | ÷ floor | |",
        "|---|---|---|---|---|",
    ]
    ok = True
    if "big" in results:
        r = results["big"]
        lines += rows(f"(1) one service × {big_n:,} tasks", r, "steps")
    if "many" in results:
        r = results["many"]
        lines += rows(f"(2) {services:,} services × {desired}", r, "rate")
    lines.append("")
    if "big" in results:
        r = results["big"]
        first = r["first"] or {}
        lines.append(
            f"(1) {big_n:,} {BIG_TYPE} instances in 3 AZs, one EC2/bridge service of {big_n:,} tasks (256 CPU / 512 MiB, "
            f"dynamic port, spread AZ + instanceId), bounds {first.get('minimumHealthyPercent')} % / "
            f"{first.get('maximumPercent')} %: {first.get('from')} → {first.get('to')}, **{r['steps_total']} steps**, "
            f"outcome **{', '.join(f'{k} {v}' for k, v in r['outcomes'].items()) or 'none'}**"
            + (f" ({'; '.join(r['reasons'])})" if r["reasons"] else "")
            + f"; apply from empty {r['apply']:.1f} s ({r['running']:,} RUNNING).")
        ok &= r["running"] == r["want"] and r["noop_changes"] == 0 and r["deployments"] == 1
    if "many" in results:
        r = results["many"]
        hist = ", ".join(f"{k} steps × {v:,}" for k, v in sorted(r["steps_hist"].items()))
        reasons = "; ".join(f"{v:,} × {k}" for k, v in r["reasons"].most_common(3))
        if "big" in results:
            lines.append("")
        lines.append(
            f"(2) the `state_scale.py` stack ({groups * per_group:,} m5.4xlarge instances, {services:,} services × "
            f"{desired} = {r['want']:,} tasks, 80 % EC2/bridge, 20 % Fargate; default bounds 100 % / 200 %): "
            f"{r['deployments']:,} deployments, outcomes **{', '.join(f'{k} {v:,}' for k, v in r['outcomes'].most_common())}**"
            + (f" ({reasons})" if reasons else "")
            + f"; {hist}; apply from empty {r['apply']:.1f} s ({r['running']:,} RUNNING).")
        ok &= r["running"] == r["want"] and r["noop_changes"] == 0 and r["deployments"] == services
    lines += ["", machine_line(machine())]
    print_block("deployments", lines)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
