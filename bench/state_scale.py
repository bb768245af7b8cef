"""Plan/apply at scale: 2,500 container instances, 2,000 services, 50,000 tasks in the state.

    python bench/state_scale.py [--quick] [--scale F] [--seed S] [--keep DIR] [--profile]

Generates (seeded) one Cluster of ``groups x per_group`` m5.4xlarge container instances
(25 x 100 = 2,500; three AZs), and 2,000 services with their task definitions, each service
with ``desiredCount`` 25 (50,000 tasks): 80 % EC2/bridge with dynamic host ports (1-2
containers, the shapes of ``tests/stackgen.py``; a third with a spread-by-AZ + binpack
placement strategy), 20 % Fargate/awsvpc.  ``--quick`` is 10x smaller on every axis but the
groups and the tasks per service (250 instances, 25 x 10; 200 services; 5,000 tasks).  The documents are written as
YAML files (20 per run) into a temp directory, and everything runs **in-process** through
``ecsctl.app.plan`` (``read_manifests``, ``make_plan``, ``apply_plan``, ``backend_for``), with
the store locked as the CLI does:

1. apply from empty: reading the manifests, planning, applying every step (each commits on
   its own, ``synchronous=FULL`` as shipped); tasks/second over the apply;
2. a no-op plan of the same manifests against that state (must report 0 changes), best of
   N, interleaved with two floors measured in the same run: (a) ``SELECT *`` of every table
   of the state with the JSON columns decoded by ``json.loads`` (the store's ``_Table``
   codecs), and (b) the store's own ``resources()`` + ``find()`` over every record type.
   Target: ``make_plan`` (the state side of a plan: everything but reading the manifests)
   within 2x floor (a).  A staged pass splits the plan into reading manifests (YAML +
   validation + canonical forms of the manifests, as ``read_manifests`` does them), reading
   state, canonical forms of the state side, diff, graph and drift;
3. ``state pull``: ``store.export()`` + ``json.dumps`` as the CLI writes it, time and size.

With ``--profile`` a cProfile top (cumulative) of each phase is printed; the timed runs are never
profiled (a profiler slows what it times).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine, machine_line, print_block  # noqa: E402

from tests.stackgen import doc, ec2_taskdef, fargate_taskdef, write_stack  # noqa: E402

ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")


# ---------------------------------------------------------------------------------------------
# Generator


def generate(*, groups: int, per_group: int, services: int, desired: int, fargate_share: float,
             seed: int, instance_type: str = "m5.4xlarge", cluster: str = "prod") -> list[dict]:
    rng = random.Random(seed)
    docs = [doc("Cluster", cluster, {"containerInstances": [
        {"name": f"g{g:02d}", "count": per_group, "instanceType": instance_type,
         "availabilityZone": ZONES[g % len(ZONES)], "attributes": {"tier": "general"}}
        for g in range(groups)
    ]})]
    for s in range(services):
        name = f"svc{s:05d}"
        fargate = rng.random() < fargate_share
        docs.append(fargate_taskdef(name, rng) if fargate else ec2_taskdef(name, rng, rng.randint(1, 2)))
        spec: dict = {"cluster": cluster, "taskDefinition": name, "desiredCount": desired,
                      "launchType": "FARGATE" if fargate else "EC2"}
        if fargate:
            spec["networkConfiguration"] = {"awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b", "subnet-c"], "securityGroups": ["sg-1"]}}
        elif rng.random() < 1 / 3:
            spec["placementStrategy"] = [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                                         {"type": "binpack", "field": "memory"}]
        docs.append(doc("Service", name, spec))
    return docs


# ---------------------------------------------------------------------------------------------
# Timing helpers


def profiled(fn, enabled: bool, top: int = 18):
    """Run ``fn`` (under cProfile if ``enabled``); return (result, seconds, profile text)."""
    prof = cProfile.Profile() if enabled else None
    start = time.perf_counter()
    if prof:
        prof.enable()
    try:
        result = fn()
    finally:
        if prof:
            prof.disable()
    took = time.perf_counter() - start
    text = ""
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
        text = out.getvalue()
    return result, took, text


def floor_select(path: Path) -> int:
    """``SELECT *`` of every table, JSON columns decoded as the store does; returns rows read."""
    from ecsctl.storage.sqlite_store import _EVENTS, _EXPORT_TABLES

    conn = sqlite3.connect(str(path))
    rows = 0
    try:
        for table in (*_EXPORT_TABLES, _EVENTS):
            decoders = [(i, c.decode) for i, c in enumerate(table.columns) if c.codec in ("json", "tuple")]
            for row in conn.execute(table.select):  # SELECT <every column>
                for i, dec in decoders:
                    dec(row[i])
                rows += 1
    finally:
        conn.close()
    return rows


def floor_find(path: Path) -> int:
    """The store's own ``resources()`` + ``find()`` over every record type."""
    from ecsctl.storage.sqlite_store import _WORLD, SqliteStateStore

    with SqliteStateStore(path, create=False) as store:
        n = len(store.resources())
        for record_type in _WORLD:
            n += len(store.find(record_type))
    return n


def staged_plan(paths: list[str], path: Path) -> dict[str, float]:
    """The no-op plan phase by phase (the same calls as ``read_manifests`` / ``make_plan``)."""
    from ecsctl.app.plan import Inputs, revision_changes
    from ecsctl.app.validate import Validator, discover
    from ecsctl.core.normalize import canonical
    from ecsctl.core.plan import diff as diff_mod
    from ecsctl.core.plan.codec import manifests_hash
    from ecsctl.core.plan.drift import detect_drift
    from ecsctl.core.plan.graph import build_steps
    from ecsctl.core.plan.model import Desired, address
    from ecsctl.core.state.ports import ContainerInstance, Service, Task, TaskDefinitionRevision
    from ecsctl.storage.sqlite_store import SqliteStateStore

    t: dict[str, float] = {}
    clock = time.perf_counter
    files: dict[str, bytes] = {}

    def read(name: str) -> bytes:
        with open(name, "rb") as fh:
            files[name] = fh.read()
        return files[name]

    s = clock()
    validator = Validator()
    loaded = validator.load(discover(paths), read)
    report = validator.check(loaded)
    assert not report.errors
    t["manifests: YAML + validation"] = clock() - s
    s = clock()
    desired = []
    for d in loaded.documents:
        if d.kind and d.name:
            spec = canonical(d.kind, d.name, d.spec)
            desired.append(Desired(address(d.kind, d.name, spec), d.kind, d.name, spec))
    inputs = Inputs(desired, files)
    t["manifests: canonical forms"] = clock() - s

    s = clock()
    with SqliteStateStore(path, create=False) as store:
        meta = store.meta()
        applied = {r.address: (r.kind, r.name, r.spec) for r in store.resources()}
        services = store.find(Service)
        instances = store.find(ContainerInstance)
        running: Counter = Counter()
        for task in store.find(Task, last_status="RUNNING"):
            if task.service:
                running[(task.cluster, task.service)] += 1
        revisions: dict[str, int] = {}
        for rev in store.find(TaskDefinitionRevision):
            revisions[rev.family] = max(revisions.get(rev.family, 0), rev.revision)
    t["state: read"] = clock() - s

    # diff = canonical forms of the state side + the comparison; time canonical() separately
    spent = [0.0]
    real = diff_mod.canonical

    def timed_canonical(*a, **kw):
        s0 = clock()
        try:
            return real(*a, **kw)
        finally:
            spent[0] += clock() - s0

    diff_mod.canonical = timed_canonical
    try:
        s = clock()
        changes = diff_mod.diff(inputs.desired, applied)
        changes = revision_changes(changes, services, revisions)
        whole = clock() - s
    finally:
        diff_mod.canonical = real
    t["state: canonical forms"] = spent[0]
    t["diff"] = whole - spent[0]
    s = clock()
    build_steps(changes, existing=set(applied))
    t["graph"] = clock() - s
    s = clock()
    detect_drift(applied, services, running, instances)
    t["drift"] = clock() - s
    s = clock()
    manifests_hash(inputs.files)
    t["manifests hash"] = clock() - s
    assert all(c.action == "no-op" for c in changes), Counter(c.action for c in changes)
    del meta
    return t


# ---------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller: 250 instances (25 x 10), 200 services, 5,000 tasks")
    ap.add_argument("--scale", type=float, help="fraction of the full size (overrides --quick)")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--repeat", type=int, help="no-op plan / floor rounds (default 3, --quick 5)")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it (manifests, state.db)")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile top of each phase (separate runs)")
    args = ap.parse_args()

    scale = args.scale if args.scale else (0.1 if args.quick else 1.0)
    groups = 25
    per_group = max(1, round(100 * scale))
    services = max(1, round(2000 * scale))
    desired = 25
    repeat = args.repeat or (5 if args.quick else 3)
    profile = args.profile

    from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
    from ecsctl.core.state.ports import Task
    from ecsctl.storage.sqlite_store import SqliteStateStore

    work = args.keep or Path(tempfile.mkdtemp(prefix="ecsctl-state-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    mdir, state = work / "manifests", work / "state.db"
    for p in (state, Path(f"{state}-wal"), Path(f"{state}-shm")):
        p.unlink(missing_ok=True)
    docs = generate(groups=groups, per_group=per_group, services=services, desired=desired,
                    fargate_share=0.2, seed=args.seed)
    write_stack(mdir, docs, files=20)
    kinds = Counter(d["kind"] for d in docs)
    n_fargate = sum(1 for d in docs if d["kind"] == "Service" and d["spec"]["launchType"] == "FARGATE")
    want_tasks = services * desired
    yaml_bytes = sum(p.stat().st_size for p in mdir.glob("*.yaml"))
    print(f"# {groups * per_group} instances ({groups} groups x {per_group}, m5.4xlarge), {services} services "
          f"({services - n_fargate} EC2 bridge, {n_fargate} Fargate) x {desired} = {want_tasks} tasks; "
          f"{len(docs)} documents {dict(kinds)}, {yaml_bytes / 1e6:.1f} MB YAML in {mdir}", file=sys.stderr)
    paths = [str(mdir)]
    profiles: list[tuple[str, str]] = []

    # 1. apply from empty ------------------------------------------------------------------
    (inputs, t_read, _) = profiled(lambda: read_manifests(paths), False)
    store = SqliteStateStore(state)
    with store.locked("bench apply"):
        plan, t_plan0, _ = profiled(lambda: make_plan(inputs, store), False)
        steps = len(plan.steps)
        _, t_apply, _ = profiled(lambda: apply_plan(plan, store, backend_for(store)), False)
    tasks = store.find(Task, last_status="RUNNING")
    store.close()
    n_tasks = len(tasks)
    n_ec2 = sum(1 for t in tasks if t.instance_id)
    print(f"apply: read {t_read:.2f} s, plan {t_plan0:.2f} s, apply {t_apply:.2f} s ({steps} steps), "
          f"{n_tasks} RUNNING tasks ({n_ec2} on instances)", file=sys.stderr, flush=True)
    if n_tasks != want_tasks:
        print(f"!! expected {want_tasks} RUNNING tasks, found {n_tasks}", file=sys.stderr)
    db_bytes = state.stat().st_size + (Path(f"{state}-wal").stat().st_size if Path(f"{state}-wal").exists() else 0)

    # 2. no-op plan vs floors --------------------------------------------------------------
    def noop_plan():
        with SqliteStateStore(state, create=False) as st:
            return make_plan(inputs_noop, st)

    inputs_noop = read_manifests(paths)
    times: dict[str, list[float]] = {"read manifests": [], "make_plan": [], "floor: SELECT * + JSON": [],
                                      "floor: store find()": []}
    rows = 0
    for _ in range(repeat):
        s = time.perf_counter()
        inputs_noop = read_manifests(paths)
        times["read manifests"].append(time.perf_counter() - s)
        s = time.perf_counter()
        noop = noop_plan()
        times["make_plan"].append(time.perf_counter() - s)
        s = time.perf_counter()
        rows = floor_select(state)
        times["floor: SELECT * + JSON"].append(time.perf_counter() - s)
        s = time.perf_counter()
        floor_find(state)
        times["floor: store find()"].append(time.perf_counter() - s)
    non_noop = Counter(c.action for c in noop.changes if c.action != "no-op")
    if non_noop:
        print(f"!! the no-op plan has changes: {dict(non_noop)}", file=sys.stderr)
    if profile:
        _, _, prof = profiled(noop_plan, True)
        profiles.append(("no-op make_plan", prof))
    stages = staged_plan(paths, state)

    # 3. state pull ------------------------------------------------------------------------
    def pull() -> str:
        with SqliteStateStore(state, create=False) as st:
            return json.dumps(st.export(), indent=2, sort_keys=True) + "\n"

    text, t_pull, _ = profiled(pull, False)
    pull_times = [t_pull]
    for _ in range(2):
        s = time.perf_counter()
        text = pull()
        pull_times.append(time.perf_counter() - s)

    if profile:
        for name, prof in profiles:
            print(f"\n## cProfile: {name}\n{prof}", file=sys.stderr)

    # report ---------------------------------------------------------------------------------
    best = {k: min(v) for k, v in times.items()}
    floor = best["floor: SELECT * + JSON"]
    target = 2.0
    ok = best["make_plan"] <= target * floor
    m = machine()
    lines = [
        f"{groups * per_group:,} container instances (m5.4xlarge), {services:,} services "
        f"({services - n_fargate:,} EC2 bridge with dynamic ports, {n_fargate:,} Fargate) x {desired} = "
        f"{want_tasks:,} tasks; {len(docs):,} documents in 20 YAML files ({yaml_bytes / 1e6:.1f} MB). "
        f"In-process through `ecsctl.app.plan`, store locked as the CLI does. "
        f"State file: {db_bytes / 1e6:.1f} MB, {rows:,} rows.",
        "",
        "| apply from empty | time | |",
        "|---|---|---|",
        f"| read manifests (YAML, validation, canonical) | {t_read:.2f} s | |",
        f"| plan (empty state: the whole run, forecast) | {t_plan0:.2f} s | {steps:,} steps |",
        f"| apply (committing the plan's run, step by step and round by round) | {t_apply:.2f} s | "
        f"**{n_tasks / t_apply:,.0f} tasks/s** ({n_tasks:,} RUNNING) |",
        f"| plan + apply (what `ecsctl apply -f` does after reading) | {t_plan0 + t_apply:.2f} s | "
        f"{n_tasks / (t_plan0 + t_apply):,.0f} tasks/s |",
        f"| total | {t_read + t_plan0 + t_apply:.2f} s | {n_tasks / (t_read + t_plan0 + t_apply):,.0f} tasks/s |",
        "",
        f"| no-op plan (best of {repeat}, interleaved) | best | median | ÷ floor (a) |",
        "|---|---|---|---|",
    ]
    for k in ("read manifests", "make_plan", "floor: SELECT * + JSON", "floor: store find()"):
        v = sorted(times[k])
        label = {"floor: SELECT * + JSON": "(a) floor: `SELECT *` every table + JSON decode",
                 "floor: store find()": "(b) store `resources()` + `find()` every record type",
                 "make_plan": "`make_plan` (state side)", "read manifests": "`read_manifests`"}[k]
        lines.append(f"| {label} | {v[0]:.2f} s | {v[len(v) // 2]:.2f} s | {v[0] / floor:.2f}× |")
    lines += [
        f"| whole no-op plan (read + make_plan) | {best['read manifests'] + best['make_plan']:.2f} s | | "
        f"{(best['read manifests'] + best['make_plan']) / floor:.2f}× |",
        f"| floor with the manifests read: (a) + `read_manifests` | {floor + best['read manifests']:.2f} s | | "
        f"whole plan ÷ it: **{(best['read manifests'] + best['make_plan']) / (floor + best['read manifests']):.2f}×** |",
        "",
        f"Target `make_plan` ≤ {target:.0f}× floor (a): **{best['make_plan'] / floor:.2f}×** {'✓' if ok else '✗'}; "
        f"changes in the no-op plan: {sum(non_noop.values())}.",
        "",
        "| no-op plan, staged | time | share |",
        "|---|---|---|",
    ]
    total = sum(stages.values())
    for k, v in stages.items():
        lines.append(f"| {k} | {v:.3f} s | {v / total:.0%} |")
    lines += [
        "",
        f"`state pull` (export + JSON, in-process): {min(pull_times):.2f} s, {len(text.encode()) / 1e6:.1f} MB.",
        "",
        machine_line(m),
    ]
    print_block("state_scale", lines)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if n_tasks == want_tasks and not non_noop else 1)


if __name__ == "__main__":
    main()
