"""``ecsctl rollout status|history|undo SERVICE`` through the Typer sub-app, on ``manifests/``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecsctl.backends.local import check_invariants
from ecsctl.cli.app import app as root
from ecsctl.cli.commands.rollout import app
from ecsctl.storage.sqlite_store import SqliteStateStore

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
KEYS = {"id", "status", "taskDefinition", "desiredCount", "pendingCount", "runningCount", "failedTasks",
        "rolloutState", "rolloutStateReason", "createdAt", "updatedAt", "steps"}
STEP = ("stopOld", "startNew", "oldRunning", "newRunning")


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, target)
    return target


def apply(runner, stack: Path, state: str, code: int = 0) -> None:
    result = runner.invoke(root, ["apply", "-f", str(stack), "--state", state, "--auto-approve"],
                           catch_exceptions=False)
    assert result.exit_code == code, result.output
    consistent(state)


@pytest.fixture
def state(runner, stack, tmp_path: Path) -> str:
    path = str(tmp_path / "state" / "state.db")
    apply(runner, stack, path)
    return path


def set_image(stack: Path, tag: str) -> None:
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("web:1.4.2", f"web:{tag}"))


def run(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def as_json(runner, *args) -> dict:
    result = run(runner, *args, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def consistent(state: str) -> None:
    store = SqliteStateStore(state, create=False)
    try:
        assert check_invariants(store) == []
    finally:
        store.close()


def test_status_after_the_first_apply(runner, state):
    r = as_json(runner, "status", "web", "--state", state)
    assert (r["service"], r["cluster"], r["taskDefinition"]) == ("web", "prod", "web:1")
    [d] = r["deployments"]
    assert set(d) == KEYS
    assert (d["status"], d["rolloutState"], d["runningCount"]) == ("PRIMARY", "COMPLETED", r["desiredCount"])
    assert r["events"][-1]["message"] == "service (web) has reached a steady state."
    text = run(runner, "status", "web", "--state", state, "--cluster", "prod")
    assert text.exit_code == 0
    assert text.stdout.startswith("service prod/web: web:1")
    assert "PRIMARY  web:1" in text.stdout and "has reached a steady state." in text.stdout


def test_history_and_undo(runner, stack, state):
    set_image(stack, "1.4.1")  # a tag the Repository holds
    apply(runner, stack, state)
    h = as_json(runner, "history", "web", "--state", state)
    assert [(d["taskDefinition"], d["status"], d["rolloutState"]) for d in h["deployments"]] == [
        ("web:1", "INACTIVE", "COMPLETED"), ("web:2", "PRIMARY", "COMPLETED")]
    text = [line for line in run(runner, "history", "web", "--state", state).stdout.splitlines()
            if not line.lstrip().startswith("step ")]  # each deployment's steps under it
    assert text[1].split()[:4] == ["1", "web:1", "INACTIVE", "COMPLETED"]
    assert text[2].split()[:4] == ["2", "web:2", "PRIMARY", "COMPLETED"]

    result = run(runner, "undo", "web", "--state", state)
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("service prod/web: web:2 -> web:1 (deployment ecs-svc/") and first.endswith("COMPLETED)")
    assert "has reached a steady state." in result.stdout
    consistent(state)
    s = as_json(runner, "status", "web", "--state", state)
    assert s["taskDefinition"] == "web:1"
    assert [(d["taskDefinition"], d["status"]) for d in s["deployments"]] == [("web:1", "PRIMARY")]
    h = as_json(runner, "history", "web", "--state", state)
    assert [d["taskDefinition"] for d in h["deployments"]] == ["web:1", "web:2", "web:1"]

    again = as_json(runner, "undo", "web", "--state", state)  # back to web:2
    assert (again["from"], again["to"], again["deployment"]["rolloutState"]) == ("web:1", "web:2", "COMPLETED")
    assert set(again["deployment"]) == KEYS
    consistent(state)


def test_a_deployments_steps_are_the_ones_its_plan_showed(runner, stack, state):
    """DESIGN §4: rollout status|history show a deployment's steps; they are what the plan
    forecast (DESIGN §5: the plan is what apply does), with when and what moved them."""
    set_image(stack, "1.4.1")
    planned = json.loads(runner.invoke(root, ["plan", "-f", str(stack), "--state", state, "-o", "json"]).stdout)
    [web] = [d for d in planned["deployments"] if d["service"] == "service/prod/web"]
    assert len(web["steps"]) >= 2
    apply(runner, stack, state)
    h = as_json(runner, "history", "web", "--state", state)
    first, second = h["deployments"]
    assert [st["phase"] for st in first["steps"]] == ["scale"]  # the service created: its tasks started
    assert [{k: st[k] for k in STEP} for st in second["steps"]] == [{k: st[k] for k in STEP} for st in web["steps"]]
    assert all(st["phase"] == "deploy" and st["taskDefinition"] == "web:2" and st["time"] for st in second["steps"])
    s = as_json(runner, "status", "web", "--state", state)
    assert s["deployments"][0]["steps"] == second["steps"]
    text = run(runner, "history", "web", "--state", state).stdout
    n = web["steps"][0]
    assert (f"step 1 (deploy, {second['steps'][0]['time']}): stop {n['stopOld']} old, start {n['startNew']} new -> "
            f"{n['oldRunning']} old, {n['newRunning']} new running") in text


def test_scaling_after_a_deployment_completed_adds_no_step_to_it(runner, stack, state):
    """A completed deployment's history is its rollout: the desired count moved later (auto
    scaling on the clock, a manifest) does not grow it."""
    before = as_json(runner, "status", "worker", "--state", state)["deployments"][0]["steps"]
    worker = stack / "worker.yaml"
    worker.write_text(worker.read_text().replace("desiredCount: 6", "desiredCount: 7"))
    apply(runner, stack, state)
    assert runner.invoke(root, ["tick", "2h", "--state", state], catch_exceptions=False).exit_code == 0
    after = as_json(runner, "status", "worker", "--state", state)["deployments"][0]
    assert after["rolloutState"] == "COMPLETED" and after["steps"] == before


def test_undo_refuses_with_one_line_when_there_is_nothing_to_undo(runner, state):
    result = runner.invoke(app, ["undo", "web", "--state", state])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: nothing to undo: service prod/web has no earlier COMPLETED revision than web:1"]
    assert result.stdout == ""


def test_unknown_service_and_bad_output(runner, state):
    result = runner.invoke(app, ["status", "nope", "--state", state])
    assert result.exit_code == 1 and 'service "nope" not found' in result.stderr
    result = runner.invoke(app, ["history", "web", "--state", state, "-o", "xml"])
    assert result.exit_code == 2


def test_a_service_is_named_as_get_and_describe_name_it(runner, state):
    """README "Identifiers": a name, cluster/name, KIND/NAME and the service ARN all find prod/web;
    a cluster that does not hold it does not."""
    arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"
    for ident in ("web", "prod/web", "service/prod/web", arn):
        assert as_json(runner, "status", ident, "--state", state)["service"] == "web", ident
    result = run(runner, "history", "staging/web", "--state", state)
    assert result.exit_code == 1 and 'service "staging/web" not found' in result.stderr


def test_a_missing_image_shows_the_breaker_and_the_rollback(runner, stack, state):
    set_image(stack, "1.4.3")  # not in the Repository: tasks fail to start, breaker with rollback
    apply(runner, stack, state, code=1)  # the result is not what was asked
    h = as_json(runner, "history", "web", "--state", state)
    assert [(d["taskDefinition"], d["rolloutState"]) for d in h["deployments"]] == [
        ("web:1", "COMPLETED"), ("web:2", "FAILED"), ("web:1", "COMPLETED")]
    failed = h["deployments"][1]
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert failed["failedTasks"] == 3
    # the tasks that failed to start were started, and stopped at once: in startNew and failedNew
    assert sum(st.get("failedNew", 0) for st in failed["steps"]) == 3
    assert all(st["startNew"] >= st.get("failedNew", 0) for st in failed["steps"])
    assert any(st.get("reason", "").startswith("CannotPullContainerError") for st in failed["steps"])
    assert h["deployments"][2]["steps"][0]["phase"] == "rollback"
    text = run(runner, "history", "web", "--state", state).stdout
    assert "ECS deployment circuit breaker: tasks failed to start." in text
    s = as_json(runner, "status", "web", "--state", state)
    assert any("rolling back to web:1" in e["message"] for e in s["events"])


def test_after_undo_the_plan_quotes_no_failure_that_a_later_deployment_cleared(runner, stack, state):
    """web:2 failed (a missing tag), then completed once the tag was pushed; undone to web:1,
    the plan deploys web:2 again without saying its last deployment failed."""
    set_image(stack, "1.4.3")
    apply(runner, stack, state, code=1)  # rolled back
    catalogue = stack / "catalogue.yaml"
    catalogue.write_text(catalogue.read_text().replace('images: ["1.4.1", "1.4.2"]', 'images: ["1.4.1", "1.4.2", "1.4.3"]'))
    apply(runner, stack, state)  # web:2 completes
    assert run(runner, "undo", "web", "--state", state).exit_code == 0
    plan = json.loads(runner.invoke(root, ["plan", "-f", str(stack), "--state", state, "-o", "json"],
                                    catch_exceptions=False).stdout)
    [change] = [c for c in plan["changes"] if c["address"] == "service/prod/web"]
    assert change["reason"] == "the service runs web:1, the manifests ask for web:2: a new deployment"
