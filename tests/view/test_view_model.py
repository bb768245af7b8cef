"""The view model (``ecsctl.app.view.build_view``) against what ``ecsctl get`` and ``ecsctl plan``
say of the same state: the page shows the state, it does not compute a second truth."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ecsctl.app.view import build_view, manifests_fingerprint, state_serial
from tests.view.viewkit import MANIFESTS, cli, get
from tests.view.viewkit import example_state, stalled  # noqa: F401 - fixtures


def instances_of(model: dict) -> dict[str, dict]:
    return {i["id"]: {**i, "zone": z["name"]} for c in model["clusters"] for z in c["zones"] for i in z["instances"]}


def test_example_stack_instances_by_zone_with_their_tasks(example_state: Path) -> None:
    model = build_view(str(example_state))
    [cluster] = model["clusters"]
    assert cluster["name"] == "prod"
    assert [z["name"] for z in cluster["zones"]] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    listed = {i["id"]: i for i in get(example_state, "instances")}
    shown = instances_of(model)
    assert set(shown) == set(listed)
    tasks = [t for t in get(example_state, "tasks") if t["lastStatus"] != "STOPPED"]
    for iid, inst in shown.items():
        assert inst["zone"] == listed[iid]["availabilityZone"]
        assert (inst["registered"], inst["remaining"]) == (
            {k: listed[iid]["registeredResources"][k] for k in ("cpu", "memory")}, listed[iid]["remainingResources"])
        on_it = sorted(t["id"] for t in tasks if t["instance"] == iid)
        assert sorted(t["id"] for t in inst["tasks"]) == on_it
        # the blocks drawn fill exactly what the instance has reserved
        assert sum(t["cpu"] for t in inst["tasks"]) == inst["registered"]["cpu"] - inst["remaining"]["cpu"]
        assert sum(t["memory"] for t in inst["tasks"]) == inst["registered"]["memory"] - inst["remaining"]["memory"]
    fargate = {t["id"]: z["name"] for z in cluster["zones"] for t in z["fargate"]}
    assert fargate == {t["id"]: t["availabilityZone"] for t in tasks if t["launchType"] == "FARGATE"}
    assert cluster["pending"] == []


def test_example_stack_services_counts_revisions_and_targets(example_state: Path) -> None:
    model = build_view(str(example_state))
    listed = {s["name"]: s for s in get(example_state, "services")}
    shown = {s["name"]: s for s in model["services"]}
    assert set(shown) == set(listed) == {"web", "worker"}
    for name, svc in shown.items():
        assert {k: svc[k] for k in ("taskDefinition", "desiredCount", "runningCount", "pendingCount")} == {
            k: listed[name][k] for k in ("taskDefinition", "desiredCount", "runningCount", "pendingCount")}
        assert svc["revisions"] == {listed[name]["taskDefinition"]: listed[name]["runningCount"]}
        assert [d["rolloutState"] for d in svc["deployments"]] == ["COMPLETED"]
        assert svc["events"], "the service's events are shown"
    targets = get(example_state, "targets")
    assert [(t["targetGroup"], t["target"], t["port"], t["task"]) for t in shown["web"]["targets"]] == [
        (t["targetGroup"], t["target"], t["port"], t["task"]) for t in targets]
    assert shown["web"]["loadBalancers"] == [{"targetGroup": "web", "containerName": "web", "containerPort": 8080}]
    assert shown["worker"]["targets"] == []
    assert model["plan"] is None
    assert model["scaling"] == []


def test_the_model_is_of_one_serial(example_state: Path) -> None:
    model = build_view(str(example_state))
    serial, lineage = state_serial(str(example_state))
    assert (model["state"]["serial"], model["state"]["lineage"], model["state"]["exists"]) == (serial, lineage, True)
    assert json.loads(json.dumps(model)) == model  # plain JSON data


def test_no_state_yet_is_an_empty_picture(tmp_path: Path) -> None:
    model = build_view(str(tmp_path / "none.db"))
    assert model["state"] == {"path": str(tmp_path / "none.db"), "exists": False, "serial": 0, "lineage": None, "clock": None}
    assert (model["clusters"], model["services"], model["plan"]) == ([], [], None)
    assert state_serial(str(tmp_path / "none.db")) == (0, None)
    # with manifests, the plan against nothing: everything to create
    plan = build_view(str(tmp_path / "none.db"), [str(MANIFESTS)])["plan"]
    assert plan["summary"]["create"] == len(plan["changes"]) > 0


def test_out_of_service_instances_are_marked(stalled) -> None:
    shown = instances_of(build_view(str(stalled.state)))
    assert (shown[stalled.drained]["status"], shown[stalled.drained]["agentConnected"]) == ("DRAINING", True)
    assert (shown[stalled.stopped]["agentConnected"], shown[stalled.stopped]["ec2State"]) == (False, "stopped")
    assert Counter((i["status"], i["agentConnected"]) for i in shown.values())[("ACTIVE", True)] == 4


def test_the_plan_is_plan_dash_o_json(stalled) -> None:
    model = build_view(str(stalled.state), [str(stalled.manifests)])
    printed = json.loads(cli("plan", "-f", str(stalled.manifests), "--state", str(stalled.state), "-o", "json"))
    plan = model["plan"]
    for key in ("changes", "steps", "drift", "deployments", "placement", "summary"):
        assert plan[key] == printed[key], key
    [d] = plan["deployments"]
    assert (d["service"], d["outcome"], d["minimumHealthyPercent"], d["maximumPercent"]) == ("service/prod/worker", "stalled", 100, 150)
    assert "RESOURCE:MEMORY" in d["reason"] and d["fix"]
    [p] = plan["placement"]
    assert (p["address"], p["wanted"], p["placeable"]) == ("service/prod/worker", 6, 6)


def test_manifests_fingerprint_moves_when_a_file_changes(tmp_path: Path) -> None:
    manifest = tmp_path / "a.yaml"
    manifest.write_text("apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {name: a}\nspec: {type: String}\n")
    before = manifests_fingerprint([str(tmp_path)])
    assert manifests_fingerprint([str(tmp_path)]) == before
    manifest.write_text("apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {name: ab}\nspec: {type: String}\n")
    assert manifests_fingerprint([str(tmp_path)]) != before
    assert manifests_fingerprint(None) == ""
