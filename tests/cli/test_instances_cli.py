"""``ecsctl instances ACTION ID`` through the Typer sub-app, on a state made from ``manifests/``."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from ecsctl.app.instances import instance_action, instance_extras
from ecsctl.backends.local import check_invariants
from ecsctl.core.controller import ids
from ecsctl.cli.app import app as root
from ecsctl.cli.commands.instances import app
from ecsctl.storage.sqlite_store import SqliteStateStore

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, target)
    return target


@pytest.fixture
def state(runner, stack, tmp_path: Path) -> str:
    path = str(tmp_path / "state" / "state.db")
    result = runner.invoke(root, ["apply", "-f", str(stack), "--state", path, "--auto-approve"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path


def run(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def instances(runner, state, *more: str) -> list[dict]:
    return json.loads(runner.invoke(root, ["get", "instances", "--state", state, "-o", "json", *more]).stdout)


def busy_instance(runner, state) -> dict:
    return next(i for i in instances(runner, state) if i["runningTasksCount"] > 0)


def consistent(state: str) -> None:
    store = SqliteStateStore(state, create=False)
    try:
        assert check_invariants(store) == []
    finally:
        store.close()


def test_drain_prints_one_line_and_moves_the_worker_tasks(runner, state):
    target = busy_instance(runner, state)
    result = run(runner, "drain", target["id"], "--state", state)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "ACTIVE -> DRAINING" in lines[0] and target["id"] in lines[0]
    after = {i["id"]: i for i in instances(runner, state)}
    assert after[target["id"]]["status"] == "DRAINING" and after[target["id"]]["runningTasksCount"] == 0
    services = json.loads(runner.invoke(root, ["get", "services", "--state", state, "-o", "json"]).stdout)
    assert {s["name"]: s["runningCount"] for s in services} == {"web": 3, "worker": 6}
    consistent(state)


def test_json_summary_and_ec2_id(runner, state):
    target = busy_instance(runner, state)
    ec2 = ids.ec2_instance_id(target["id"])
    result = run(runner, "stop", ec2, "--state", state, "-o", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["id"] == target["id"] and summary["ec2InstanceId"] == ec2
    assert (summary["oldStatus"], summary["newStatus"], summary["agentConnected"], summary["ec2State"]) == (
        "ACTIVE", "ACTIVE", False, "stopped")
    assert len(summary["tasksStopped"]) == target["runningTasksCount"]
    assert len(summary["tasksStarted"]) == target["runningTasksCount"]
    assert summary["tasksOnInstance"] == 0
    consistent(state)


def test_stop_terminate_leaves_a_ghost_until_deregister(runner, state):
    target = busy_instance(runner, state)["id"]
    for action in ("stop", "terminate"):
        assert run(runner, action, target, "--state", state).exit_code == 0
    ghost = next(i for i in instances(runner, state) if i["id"] == target)
    assert (ghost["status"], ghost["agentConnected"]) == ("ACTIVE", False)
    store = SqliteStateStore(state, create=False)
    try:
        assert instance_extras(store)[target] == {"ec2InstanceId": ids.ec2_instance_id(target),
                                                  "ec2State": "terminated"}
    finally:
        store.close()
    refused = run(runner, "start", target, "--state", state)
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert run(runner, "deregister", target, "--state", state).exit_code == 0
    assert target not in [i["id"] for i in instances(runner, state)]  # deregistered: hidden, as ListContainerInstances
    for more in (["--all"], ["--status", "INACTIVE"], [target]):
        gone = next(i for i in instances(runner, state, *more) if i["id"] == target)
        assert gone["status"] == "INACTIVE"
    consistent(state)


def test_unknown_id_is_one_line_exit_1(runner, state):
    result = run(runner, "drain", "i-0123456789abcdef0", "--state", state)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        'error: container instance "i-0123456789abcdef0" not found (`ecsctl get instances` lists them)']  # as get/describe


def test_bad_transition_is_one_line(runner, state):
    target = busy_instance(runner, state)["id"]
    assert run(runner, "deregister", target, "--state", state).exit_code == 0
    result = run(runner, "drain", target, "--state", state)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "INACTIVE" in lines[0]


def test_bad_output_is_a_usage_error(runner, state):
    target = busy_instance(runner, state)["id"]
    result = run(runner, "drain", target, "--state", state, "-o", "xml")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_no_state_file_is_one_line(runner, tmp_path):
    result = run(runner, "stop", "abc", "--state", str(tmp_path / "none.db"))
    assert result.exit_code == 1 and "no state at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_apply_after_drain_and_stop_does_not_crash_and_plan_shows_drift(runner, state, stack):
    rows = [i for i in instances(runner, state) if i["runningTasksCount"] > 0]
    assert run(runner, "drain", rows[0]["id"], "--state", state).exit_code == 0
    assert run(runner, "stop", rows[1]["id"], "--state", state).exit_code == 0
    plan = runner.invoke(root, ["plan", "-f", str(stack), "--state", state, "-o", "json"], catch_exceptions=False)
    assert plan.exit_code == 0, plan.output
    assert "containerInstances" in plan.stdout  # the drift of both groups
    applied = runner.invoke(root, ["apply", "-f", str(stack), "--state", state, "--auto-approve"],
                            catch_exceptions=False)
    assert applied.exit_code == 0, applied.output
    after = {i["id"]: i for i in instances(runner, state)}
    assert after[rows[0]["id"]]["status"] == "DRAINING"
    assert after[rows[1]["id"]]["agentConnected"] is False
    consistent(state)


def test_app_summary_counts(state, runner):
    target = busy_instance(runner, state)
    summary = instance_action(state, "deregister", target["id"])
    assert summary["newStatus"] == "INACTIVE" and summary["tasksOnInstance"] == 0
    assert len(summary["tasksStopped"]) == target["runningTasksCount"]


@pytest.mark.parametrize("actions", [("terminate",), ("stop", "terminate"), ("deregister",)])
def test_apply_registers_a_new_instance_in_place_of_one_that_went_away(runner, state, stack, actions):
    before = {i["id"]: i for i in instances(runner, state)}
    target = busy_instance(runner, state)
    for action in actions:
        assert run(runner, action, target["id"], "--state", state).exit_code == 0
    assert runner.invoke(root, ["tick", "5m", "--state", state], catch_exceptions=False).exit_code == 0
    plan = runner.invoke(root, ["plan", "-f", str(stack), "--state", state], catch_exceptions=False)
    assert plan.exit_code == 0, plan.output
    assert (f"container instances went away (1 of group {target['group']}): apply registers replacements"
            in plan.stdout)
    applied = runner.invoke(root, ["apply", "-f", str(stack), "--state", state, "--auto-approve"],
                            catch_exceptions=False)
    assert applied.exit_code == 0, applied.output

    # the old one stays deregistered, listed with --all / --status INACTIVE, its EC2 instance as it was left
    assert target["id"] not in [i["id"] for i in instances(runner, state)]
    for more in (["--all"], ["--status", "INACTIVE"]):
        old = next(i for i in instances(runner, state, *more) if i["id"] == target["id"])
        assert old["status"] == "INACTIVE" and old["ec2InstanceId"] == target["ec2InstanceId"]
        assert old["ec2State"] == ("running" if actions == ("deregister",) else "terminated")
    # a new registration took its place: new ids, same group and zone, registered now
    active = [i for i in instances(runner, state) if i["status"] == "ACTIVE"]
    (new,) = [i for i in active if i["id"] not in before]
    assert new["ec2InstanceId"] not in {i["ec2InstanceId"] for i in before.values()}
    assert (new["group"], new["availabilityZone"], new["instanceType"]) == (
        target["group"], target["availabilityZone"], target["instanceType"])
    assert new["agentConnected"] and new["ec2State"] == "running"
    assert new["registeredAt"] > target["registeredAt"]
    cluster = yaml.safe_load((stack / "cluster.yaml").read_text())
    counts = {g["name"]: g["count"] for g in cluster["spec"]["containerInstances"]}
    assert Counter(i["group"] for i in active) == counts
    consistent(state)

    again = runner.invoke(root, ["plan", "-f", str(stack), "--state", state, "--detailed-exitcode"],
                          catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout


def _set_groups(stack: Path, edit) -> None:
    path = stack / "cluster.yaml"
    cluster = yaml.safe_load(path.read_text())
    edit(cluster["spec"]["containerInstances"])
    path.write_text(yaml.safe_dump(cluster, sort_keys=False))


@pytest.mark.parametrize("dropped", [False, True], ids=["scaled-down", "group-dropped"])
def test_the_plan_names_the_instances_a_group_change_terminates(runner, state, stack, dropped):
    second = yaml.safe_load((stack / "cluster.yaml").read_text())["spec"]["containerInstances"][1]
    name, count = second["name"], second["count"]
    if dropped:  # all of the group goes
        gone = [i["id"] for i in instances(runner, state) if i["group"] == name]
        _set_groups(stack, lambda groups: groups.pop(1))
    else:  # one fewer: the highest-numbered registration goes
        gone = [ids.container_instance_id("prod", name, count)]
        _set_groups(stack, lambda groups: groups[1].update(count=count - 1))
    plan = runner.invoke(root, ["plan", "-f", str(stack), "--state", state, "-o", "json"], catch_exceptions=False)
    assert plan.exit_code == 0, plan.output
    [change] = [c for c in json.loads(plan.stdout)["changes"] if c["address"] == "cluster/prod"]
    n = len(gone)
    assert f"terminates {n} container instance{'s' if n != 1 else ''} of group {name} (" in change["reason"]
    assert all(cid[:8] in change["reason"] for cid in gone)
    tasks = sum(i["runningTasksCount"] for i in instances(runner, state) if i["id"] in gone)
    if tasks:
        assert f"the {tasks} task{'s' if tasks != 1 else ''} on {'them' if n != 1 else 'it'} stop" in change["reason"]
    applied = runner.invoke(root, ["apply", "-f", str(stack), "--state", state, "--auto-approve"], catch_exceptions=False)
    assert applied.exit_code == 0, applied.output
    after = {i["id"]: i for i in instances(runner, state, "--all")}
    assert [(after[cid]["status"], after[cid]["ec2State"]) for cid in gone] == [("INACTIVE", "terminated")] * n
    consistent(state)
