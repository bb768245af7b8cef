"""The page rendered in headless Chromium: what the script put in the DOM, and a screenshot
that shows the tasks in their services' colours."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from ecsctl.app.view import build_view
from ecsctl.cli.render.view.page import render_page
from tests.view.viewkit import MANIFESTS, cli, get, redeployed_worker
from tests.view.viewkit import chromium, example_state, stalled  # noqa: F401 - fixtures

WEB, WORKER = (0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B)  # the first two colours of page.js's palette


def write_page(tmp_path: Path, state: Path, *args: str, name: str = "view.html") -> Path:
    out = tmp_path / name
    cli("view", "--state", str(state), "--out", str(out), *args)
    return out


def element(dom: str, tag: str, **attrs: str) -> str:
    """The opening tag and text up to the matching close of the first ``tag`` with ``attrs`` (flat match)."""
    pattern = "<" + tag + "".join(rf'(?=[^>]*\s{k.replace("_", "-")}="{re.escape(v)}")' for k, v in attrs.items()) + r"[^>]*>"
    m = re.search(pattern, dom)
    assert m, f"no <{tag} {attrs}> in the DOM"
    return m.group(0)


def text(fragment: str) -> str:
    """The visible text of an HTML fragment, tags as spaces, runs of white space as one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_example_stack_instances_and_tasks_are_on_the_page(tmp_path: Path, example_state: Path, chromium) -> None:
    page = write_page(tmp_path, example_state)
    dom = chromium.dom(page.as_uri())
    assert 'data-rendered="' in dom
    instances, tasks = get(example_state, "instances"), [t for t in get(example_state, "tasks") if t["lastStatus"] == "RUNNING"]
    for zone in ("eu-west-1a", "eu-west-1b", "eu-west-1c"):
        in_zone = [i for i in instances if i["availabilityZone"] == zone]
        ec2 = [t for t in tasks if t["availabilityZone"] == zone and t["instance"]]
        fargate = [t for t in tasks if t["availabilityZone"] == zone and not t["instance"]]
        element(dom, "div", data_zone=zone, data_instances=str(len(in_zone)), data_tasks=str(len(ec2)), data_fargate=str(len(fargate)))
        element(dom, "canvas", data_zone=zone)
    assert dom.count('<canvas class="instances"') == 3 and dom.count('<canvas class="fargate"') == 3
    for group, n in (("service:web", 3), ("service:worker", 6)):
        assert f"{group} ({n})" in text(dom)
    for name in ("prod/web", "prod/worker"):
        element(dom, "tr", data_service=name)
    assert "web → web:8080 · 3 targets" in text(dom)
    assert "No scaling activity." in dom
    assert 'id="plan"' not in dom  # no -f, no plan


def test_hovered_details_of_a_task_and_an_instance(tmp_path: Path, example_state: Path, chromium) -> None:
    """The details a hover shows are those a click pins in the panel; ``#task=ID`` pins them on load."""
    page = write_page(tmp_path, example_state)
    task = next(t for t in get(example_state, "tasks") if t["group"] == "service:worker")
    dom = chromium.dom(page.as_uri() + "#task=" + task["id"])
    panel = dom[dom.index('<aside id="details"'):dom.index("</aside>")]
    element(panel, "aside", data_kind="task", data_id=task["id"])
    shown = text(panel)
    for value in (task["id"], "service:worker", task["taskDefinition"], task["instance"], str(task["hostPorts"][0]), f"{task['memory']} MiB"):
        assert value in shown, value
    instance = task["instance"]
    dom = chromium.dom(page.as_uri() + "#instance=" + instance)
    panel = text(dom[dom.index('<aside id="details"'):dom.index("</aside>")])
    assert f"instance {instance}" in panel and "m5.large" in panel and "2 tasks" in panel and task["id"][:8] in panel


def test_stalled_deployment_and_out_of_service_instances(tmp_path: Path, stalled, chromium) -> None:
    page = write_page(tmp_path, stalled.state, "-f", str(stalled.manifests))
    dom = chromium.dom(page.as_uri())
    box = dom[dom.index('data-service="service/prod/worker" data-outcome="stalled"'):]
    box = text(box[:box.index('<ol class="steps"')])
    assert "deployment of service/prod/worker: worker:1 → worker:2" in box
    assert "min 100% = 6 healthy, max 150% = 9 tasks" in box
    assert "STALLED: new tasks cannot be placed (RESOURCE:MEMORY)" in box and "fix: add a container instance" in box
    assert dom.count('aria-label="steps of the deployment of service/prod/worker"') == 1
    assert "stalls here" in dom
    row = dom.split('<tr class="" data-address="service/prod/worker">', 1)[1]
    row = text(row[:row.index("</tr>")])
    assert "worker:1 ×4 worker:2 ×2" in row and "2 revisions run after apply" in row  # the stalled mix
    zone_text = text(dom)
    assert "1 draining" in zone_text and "1 agent disconnected" in zone_text and "1 stopped/terminated" in zone_text
    dom = chromium.dom(page.as_uri() + "#instance=" + stalled.drained)
    assert "DRAINING" in text(dom[dom.index('<aside id="details"'):])


def test_a_deployment_the_bounds_leave_no_room_for(tmp_path: Path, example_state: Path, chromium) -> None:
    """The worker redeployed at minimumHealthyPercent 100, maximumPercent 100 (W3017: ECS
    accepts it, and the deployment can neither stop nor start a task)."""
    manifests = redeployed_worker(tmp_path / "m", minimumHealthyPercent=100, maximumPercent=100)
    [d] = json.loads(cli("plan", "-f", str(manifests), "--state", str(example_state), "-o", "json"))["deployments"]
    assert (d["outcome"], d["steps"]) == ("stalled", [])
    dom = chromium.dom(write_page(tmp_path, example_state, "-f", str(manifests)).as_uri())
    box = dom[dom.index('data-service="service/prod/worker" data-outcome="stalled"'):]
    box = text(box[:box.index("</svg>")])
    assert "min 100% = 6 healthy, max 100% = 6 tasks" in box
    assert f"STALLED: {d['reason']}" in box and f"fix: {d['fix']}" in box and "stalls here" in box


def test_tasks_that_cannot_be_placed_and_why(tmp_path: Path, example_state: Path, chromium) -> None:
    manifests = tmp_path / "m"
    shutil.copytree(MANIFESTS, manifests)
    worker = manifests / "worker.yaml"
    worker.write_text(worker.read_text(encoding="utf-8").replace("desiredCount: 6", "desiredCount: 40"), encoding="utf-8")
    printed = json.loads(cli("plan", "-f", str(manifests), "--state", str(example_state), "-o", "json"))
    [p] = [p for p in printed["placement"] if p["unplaceable"]]
    dom = chromium.dom(write_page(tmp_path, example_state, "-f", str(manifests)).as_uri())
    row = dom.split('<tr class="bad" data-address="service/prod/worker">', 1)[1]
    row = text(row[:row.index("</tr>")])
    assert row.startswith(f"service/prod/worker {p['wanted']} {p['placeable']} {p['unplaceable']} ")
    assert p["reason"] in row and p["message"] in row and f"closest instance {p['closestInstance'][:8]}" in row


def test_screenshot_shows_the_tasks_in_their_colours(tmp_path: Path, example_state: Path, chromium) -> None:
    from PIL import Image

    shot = chromium.screenshot(write_page(tmp_path, example_state).as_uri(), tmp_path / "view.png")
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "the screenshot is (nearly) blank"
    counts = {rgb: n for n, rgb in colours}
    # each worker task is a block on a CPU bar and one on a memory bar; each web task a Fargate block
    assert counts.get(WORKER, 0) > 6 * 2 * 20 and counts.get(WEB, 0) > 3 * 100


def test_scaling_timeline_is_drawn(tmp_path: Path, chromium) -> None:
    """No scaling activity exists in the state yet: a synthetic timeline goes straight to the renderer."""
    model = build_view(str(tmp_path / "none.db"))
    model["scaling"] = [{
        "service": "service/prod/worker",
        "points": [{"time": f"2026-01-01T00:{m:02d}:00Z", "desiredCount": d, "runningCount": r, "metric": "BacklogPerTask", "value": v}
                   for m, d, r, v in ((0, 3, 3, 20.0), (5, 3, 3, 140.0), (10, 6, 4, 160.0), (15, 6, 6, 60.0), (20, 4, 5, 10.0))],
        "activities": [{"time": "2026-01-01T00:06:00Z", "cause": "alarm BacklogPerTask >= 100: step +3", "from": 3, "to": 6},
                       {"time": "2026-01-01T00:18:00Z", "cause": "alarm BacklogPerTask < 20: step -2", "from": 6, "to": 4}],
    }]
    page = tmp_path / "scaling.html"
    page.write_text(render_page(model), encoding="utf-8")
    dom = chromium.dom(page.as_uri())
    chart = dom[dom.index('aria-label="scaling of service/prod/worker"'):]
    chart = chart[:chart.index("</svg>")]
    # a dot per point for the desired count and one for the metric: the metric is known only
    # where a point has it, so no line joins them (a helper's trial: a line invented a night's backlog)
    assert chart.count("<circle") == 10 and chart.count('class="metric"') == 5 and chart.count('class="activity"') == 2
    assert 'stroke="#9333ea" stroke-width' not in chart  # (the metric's old joining line)
    assert "alarm BacklogPerTask &gt;= 100: step +3 (3 → 6)" in chart
    assert "BacklogPerTask" in chart and "No scaling activity." not in dom


@pytest.mark.parametrize("outcome", ["failed"])
def test_a_failed_deployment_and_unknown_plan_keys(tmp_path: Path, chromium, outcome: str) -> None:
    """The planner may add keys: they are shown, not dropped, and nothing breaks on missing optional ones."""
    model = build_view(str(tmp_path / "none.db"))
    model["plan"] = {"changes": [], "deployments": [{"service": "service/prod/api", "from": "api:3", "to": "api:4", "desiredCount": 2,
                                                     "outcome": outcome, "reason": "CannotPullContainerError: api:9.9 not found",
                                                     "fix": "push the image", "rolledBackTo": "api:3", "afterApply": {"api:4": 0},
                                                     "steps": [{"stopOld": 0, "startNew": 2, "oldRunning": 2, "newRunning": 2},
                                                               {"stopOld": 0, "startNew": 0, "oldRunning": 2, "newRunning": 0,
                                                                "startOld": 0, "stopNew": 2, "rollback": True}]}],
                     "afterApply": {"service/prod/api": {"tasksPerRevision": {"api:3": 2}}}}
    page = tmp_path / "plan.html"
    page.write_text(render_page(model), encoding="utf-8")
    dom = chromium.dom(page.as_uri())
    box = text(dom[dom.index('data-outcome="failed"'):dom.index("fails here")])
    assert "FAILED: CannotPullContainerError: api:9.9 not found" in box and "fix: push the image" in box
    assert "min 100% = 2 healthy, max 200% = 4 tasks" in box  # ECS's defaults when the bounds are missing
    assert "rolled back to api:3" in box
    assert "rollback: stop 2 new, start 0 old → 2 old, 0 new running" in text(dom) and ">rollback</text>" in dom
    assert 'data-key="afterApply"' in dom and "tasksPerRevision" in dom and 'afterApply: {"api:4":0}' in text(dom)
