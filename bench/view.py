"""``ecsctl view`` at scale: the page for 2,500 container instances and 50,000 tasks.

    python bench/view.py [--quick] [--scale F] [--seed S] [--repeat N] [--state DIR] [--no-browser]

Builds the state of ``state_scale.py`` (one cluster of 25 x 100 m5.4xlarge instances in three
AZs, 2,000 services x 25 tasks, a fifth of them Fargate; seeded), applied in-process through
``ecsctl.app.plan``; then marks 10 instances DRAINING and 5 agent-disconnected, written
straight into their records (a drain through the simulation reconciles the cluster's
services: tens of seconds per instance at this size), so the page has marked instances too.  ``--state DIR``
keeps the manifests and the state in DIR and reuses them on the next run (the build takes
~3 minutes at full size).

Then, best and median of ``--repeat`` (default 3), round-robin, each a fresh process as a user
runs it:

* ``ecsctl view --out page.html``, next to the floor ``ecsctl get tasks -o json`` of the same
  state (reads every task and prints it as JSON: less than the page needs, which is every
  instance, service, target and event too);
* ``ecsctl view -f DIR --out page.html`` (the no-op plan of the same manifests on the page),
  next to ``ecsctl plan -f DIR -o json``;

with the size of each output; in-process, where the time of ``view`` goes (reading the state,
packing, writing); and, unless ``--no-browser`` or where Chromium is missing, how long headless
Chromium takes to load the page and draw it (wall time of ``--dump-dom``, next to the same for
an empty page, and the page's own parse + draw time, which it records in ``data-render-ms``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import Run, interleave, machine_line, ms, print_block, ratio, tool  # noqa: E402
from state_scale import generate  # noqa: E402

from tests.stackgen import write_stack  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1400,1000"]


def build_state(work: Path, *, groups: int, per_group: int, services: int, desired: int, seed: int) -> tuple[Path, Path]:
    from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
    from ecsctl.core.state.ports import ContainerInstance
    from ecsctl.storage.sqlite_store import SqliteStateStore

    manifests, state = work / "manifests", work / "state.db"
    if state.exists() and manifests.exists():
        print(f"# reusing {state}", file=sys.stderr)
        return manifests, state
    docs = generate(groups=groups, per_group=per_group, services=services, desired=desired, fargate_share=0.2, seed=seed)
    write_stack(manifests, docs, files=20)
    start = time.perf_counter()
    inputs = read_manifests([str(manifests)])
    with SqliteStateStore(state) as store, store.locked("bench view"):
        apply_plan(make_plan(inputs, store), store, backend_for(store))
        # Marked instances for the page, written straight into the records: `ecsctl instances
        # drain` reconciles the cluster's services (tens of seconds per drain at this size),
        # and the page only needs the marks.
        with store.transaction():
            instances = store.find(ContainerInstance)
            for inst in instances[5:15]:
                store.update(dataclasses.replace(inst, status="DRAINING"))
            for inst in instances[-5:]:
                store.update(dataclasses.replace(inst, agent_connected=False))
    print(f"# built the state in {time.perf_counter() - start:.0f} s: {state}", file=sys.stderr)
    return manifests, state


def split(state: Path, out: Path) -> dict[str, float]:
    """Where the time of ``view`` goes, in-process."""
    from ecsctl.app.view import build_view
    from ecsctl.cli.render.view.page import page_html
    from ecsctl.cli.render.view.payload import pack, to_script_json

    t: dict[str, float] = {}
    s = time.perf_counter()
    model = build_view(str(state))
    t["read the state (build_view)"] = time.perf_counter() - s
    s = time.perf_counter()
    payload = pack(model)
    t["pack"] = time.perf_counter() - s
    s = time.perf_counter()
    data = to_script_json(payload)
    t["encode JSON"] = time.perf_counter() - s
    s = time.perf_counter()
    out.write_text(page_html(data), encoding="utf-8")
    t["page + write"] = time.perf_counter() - s
    t["_model_json_bytes"] = len(json.dumps(model, separators=(",", ":")).encode())
    t["_payload_bytes"] = len(data.encode())
    return t


def browser(page: Path, work: Path, repeat: int) -> dict | None:
    binary = shutil.which("chromium")
    if not binary:
        print("# chromium not installed: no browser figures", file=sys.stderr)
        return None
    blank = work / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body>blank</body></html>", encoding="utf-8")
    times: dict[str, list[float]] = {"page": [], "blank": []}
    render_ms: list[int] = []
    for _ in range(repeat):
        for name, target in (("page", page), ("blank", blank)):
            with tempfile.TemporaryDirectory(prefix="bench-chromium-") as profile:
                s = time.perf_counter()
                proc = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", target.as_uri()],
                                      capture_output=True, text=True, timeout=600)
                times[name].append(time.perf_counter() - s)
            if name == "page":
                m = re.search(r'data-render-ms="(\d+)"', proc.stdout)
                if not m:
                    print("!! the page did not finish drawing:\n" + proc.stderr[-2000:], file=sys.stderr)
                    return None
                render_ms.append(int(m.group(1)))
    with tempfile.TemporaryDirectory(prefix="bench-chromium-") as profile:
        subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={work / 'view.png'}", page.as_uri()],
                       capture_output=True, timeout=600)
    return {"page": min(times["page"]), "blank": min(times["blank"]), "render_ms": min(render_ms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller: 250 instances, 200 services, 5,000 tasks")
    ap.add_argument("--scale", type=float, default=None, help="fraction of full size for instances and services")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--state", type=Path, help="keep (and reuse) the manifests and state in this directory")
    ap.add_argument("--no-browser", action="store_true", help="skip the headless-Chromium figures")
    args = ap.parse_args()
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    per_group, services = max(1, round(100 * scale)), max(1, round(2000 * scale))
    work = args.state or Path(tempfile.mkdtemp(prefix="ecsctl-bench-view-"))
    work.mkdir(parents=True, exist_ok=True)
    manifests, state = build_state(work, groups=25, per_group=per_group, services=services, desired=25, seed=args.seed)

    ecsctl = tool("ecsctl")
    page, planned = work / "page.html", work / "page-plan.html"
    runs = [
        Run("ecsctl view --out page.html", [ecsctl, "view", "--state", str(state), "--out", str(page)]),
        Run("floor: ecsctl get tasks -o json", [ecsctl, "get", "tasks", "--state", str(state), "-o", "json"]),
        Run("ecsctl view -f DIR --out page.html", [ecsctl, "view", "-f", str(manifests), "--state", str(state), "--out", str(planned)]),
        Run("floor: ecsctl plan -f DIR -o json", [ecsctl, "plan", "-f", str(manifests), "--state", str(state), "-o", "json"]),
    ]
    interleave(runs, args.repeat, warmup=0)
    for r in runs:
        if r.returncode != 0:
            print(f"!! {r.label} exited {r.returncode}:\n{r.stderr[-2000:]}", file=sys.stderr)
            sys.exit(1)
    sizes = [page.stat().st_size, len(runs[1].stdout.encode()), planned.stat().st_size, len(runs[3].stdout.encode())]
    stages = split(state, work / "split.html")
    shown = browser(page, work, args.repeat) if not args.no_browser else None

    from ecsctl.app.view import build_view

    model = build_view(str(state))
    n_inst = sum(len(z["instances"]) for c in model["clusters"] for z in c["zones"])
    n_ec2 = sum(len(i["tasks"]) for c in model["clusters"] for z in c["zones"] for i in z["instances"])
    n_far = sum(len(z["fargate"]) for c in model["clusters"] for z in c["zones"])
    marked = sum(1 for c in model["clusters"] for z in c["zones"] for i in z["instances"] if i["status"] != "ACTIVE" or not i["agentConnected"])
    lines = [
        f"{n_inst:,} container instances ({marked} drained or stopped), {len(model['services']):,} services, "
        f"{n_ec2 + n_far:,} tasks on the page ({n_ec2:,} on instances, {n_far:,} Fargate); best / median of {args.repeat}, "
        "round-robin, one process per run.",
        "",
        "| command | best | median | output | ÷ floor (time) | ÷ floor (size) |",
        "|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(runs):
        floor = runs[i | 1]
        lines.append(f"| `{r.label}` | {ms(r.best)} | {ms(r.median)} | {sizes[i] / 1e6:.1f} MB | "
                     f"{ratio(r.best, floor.best)} | {ratio(sizes[i], sizes[i | 1])} |")
    parts = {k: v for k, v in stages.items() if not k.startswith("_")}
    total = sum(parts.values())
    lines += ["", "| `view`, in-process | time | share |", "|---|---|---|"]
    lines += [f"| {k} | {ms(v)} | {v / total:.0%} |" for k, v in parts.items()]
    lines += ["", f"Page data: {stages['_payload_bytes'] / 1e6:.1f} MB packed (rows, interned strings) for "
                  f"{stages['_model_json_bytes'] / 1e6:.1f} MB of view model as JSON "
                  f"({ratio(stages['_payload_bytes'], stages['_model_json_bytes'])})."]
    if shown:
        lines += ["", f"Headless Chromium (1400×1000): loading and drawing the page {ms(shown['page'])} wall "
                      f"(an empty page: {ms(shown['blank'])}); the page's own parse + draw: {shown['render_ms']:,} ms."]
    lines += ["", machine_line()]
    print_block("view", lines)
    print(f"# page: {page}; screenshot: {work / 'view.png'}", file=sys.stderr)
    if not args.state:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
