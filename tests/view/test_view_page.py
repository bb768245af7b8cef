"""The page as text: self-contained, data safely embedded, rows in the positions page.js reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ecsctl.app.view import build_view
from ecsctl.cli.render.view.page import render_page
from ecsctl.cli.render.view.payload import pack, to_script_json
from tests.view.viewkit import example_state  # noqa: F401 - fixtures

PAGE_JS = Path(__file__).resolve().parents[2] / "ecsctl" / "cli" / "render" / "view" / "page.js"


def data_of(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="ecsctl-data">(.*?)</script>', page, re.S)
    assert m
    return json.loads(m.group(1))


def empty_model(**extra) -> dict:
    model = {"version": 1, "state": {"path": "s.db", "exists": True, "serial": 3, "lineage": "l", "clock": None},
             "clusters": [], "services": [], "plan": None, "scaling": []}
    model.update(extra)
    return model


def test_page_loads_nothing_from_anywhere(example_state: Path) -> None:
    page = render_page(build_view(str(example_state)))
    without_data = re.sub(r'<script type="application/json" id="ecsctl-data">.*?</script>', "", page, flags=re.S)
    assert "<link" not in without_data and "@import" not in without_data and "url(" not in without_data
    assert not re.search(r"\ssrc\s*=", without_data)
    assert re.findall(r"https?://[^\s\"']+", without_data) == ["http://www.w3.org/2000/svg"]  # the SVG namespace name
    assert "default-src 'none'" in page  # and a policy that refuses any request a stray URL would make


def test_data_cannot_close_the_script(example_state: Path) -> None:
    hostile = "</script><script>alert(1)</script><!--"
    model = empty_model(services=[{"cluster": "prod", "name": "x", "events": [{"at": "t", "message": hostile}]}])
    model["services"][0].update(status="ACTIVE", launchType="EC2", schedulingStrategy="REPLICA", taskDefinition="x:1",
                                desiredCount=0, runningCount=0, pendingCount=0, revisions={}, deployments=[],
                                deploymentConfiguration={}, loadBalancers=[], targets=[], stopped={"count": 0, "recent": []})
    page = render_page(model)
    assert page.count("</script>") == 2 and "<!--" not in page
    assert data_of(page)["services"][0]["events"][0]["message"] == hostile
    assert "\u2028" not in to_script_json({"a": "x\u2028y"})


def test_rows_are_in_the_positions_page_js_reads(example_state: Path) -> None:
    model = build_view(str(example_state))
    payload = pack(model)
    strings = payload["strings"]
    inst_model = model["clusters"][0]["zones"][0]["instances"][0]
    row = payload["clusters"][0]["zones"][0]["instances"][0]
    js = PAGE_JS.read_text(encoding="utf-8")
    pos = {name: int(n) for name, n in re.findall(r"\b([IT]_[A-Z0-9]+) = (\d+)", js)}
    assert row[pos["I_ID"]] == inst_model["id"] and row[pos["I_EC2"]] == inst_model["ec2InstanceId"]
    assert strings[row[pos["I_TYPE"]]] == inst_model["instanceType"] and strings[row[pos["I_STATUS"]]] == inst_model["status"]
    assert (row[pos["I_RCPU"]], row[pos["I_RMEM"]], row[pos["I_FCPU"]], row[pos["I_FMEM"]]) == (
        inst_model["registered"]["cpu"], inst_model["registered"]["memory"], inst_model["remaining"]["cpu"], inst_model["remaining"]["memory"])
    assert json.loads(strings[row[pos["I_ATTR"]]]) == inst_model["attributes"]
    task_model, task = inst_model["tasks"][0], row[pos["I_TASKS"]][0]
    assert task[pos["T_ID"]] == task_model["id"] and strings[task[pos["T_GROUP"]]] == task_model["group"]
    assert strings[task[pos["T_TD"]]] == task_model["taskDefinition"] and strings[task[pos["T_STATUS"]]] == task_model["lastStatus"]
    assert (task[pos["T_CPU"]], task[pos["T_MEM"]], task[pos["T_PORTS"]]) == (task_model["cpu"], task_model["memory"], task_model["hostPorts"])
    assert strings[task[pos["T_LAUNCH"]]] == "EC2" and strings[task[pos["T_STARTED"]]] == task_model["startedAt"]
    # services' groups come first, so their colours follow the service table
    assert strings[:2] == ["service:web", "service:worker"]


def test_no_secret_value_reaches_the_page(tmp_path: Path) -> None:
    """Plain-text values that look like secrets are masked in the plan, as ``plan -o json`` masks them."""
    from tests.view.viewkit import cli

    (tmp_path / "td.yaml").write_text(
        "apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: api}\nspec:\n"
        "  requiresCompatibilities: [FARGATE]\n  networkMode: awsvpc\n  cpu: '256'\n  memory: '512'\n"
        "  containerDefinitions:\n    - name: api\n      image: nginx:1.27\n"
        "      environment: [{name: API_TOKEN, value: hunter2-very-secret}]\n", encoding="utf-8")
    out = tmp_path / "v.html"
    cli("view", "-f", str(tmp_path / "td.yaml"), "--state", str(tmp_path / "s.db"), "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "taskdef/api" in page and "hunter2-very-secret" not in page
