"""plan, apply, get and state through the real CLI, on a copy of the example stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecsctl.cli.app import app

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, target)
    return target


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "state" / "state.db")


def run(runner, *args, input=None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def applied(runner, stack, state):
    result = run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve")
    assert result.exit_code == 0, result.output
    return result


def test_apply_then_plan_is_empty(runner, stack, state):
    first = run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode")
    assert first.exit_code == 2 and "to create" in first.stdout
    applied(runner, stack, state)
    again = run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    assert "No changes" in again.stdout


def test_get_lists_the_world_in_the_documented_json_shape(runner, stack, state):
    applied(runner, stack, state)
    services = json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout)
    assert {s["name"]: (s["desiredCount"], s["runningCount"]) for s in services} == {"web": (3, 3), "worker": (6, 6)}
    assert {"name", "cluster", "taskDefinition", "desiredCount", "runningCount", "pendingCount"} <= set(services[0])
    instances = json.loads(run(runner, "get", "instances", "--state", state, "-o", "json").stdout)
    assert {i["availabilityZone"] for i in instances} == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert {"id", "cluster", "instanceType", "availabilityZone", "attributes", "status", "agentConnected",
            "runningTasksCount", "remainingResources"} <= set(instances[0])
    tasks = json.loads(run(runner, "get", "tasks", "--state", state, "-o", "json").stdout)
    assert {"id", "cluster", "group", "taskDefinition", "instance", "availabilityZone", "lastStatus", "stopReason", "hostPorts"} <= set(tasks[0])
    web = [t for t in tasks if t["group"] == "service:web"]
    assert {t["availabilityZone"] for t in web} == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert all(t["instance"] is None for t in web)
    worker = [t for t in tasks if t["group"] == "service:worker"]
    assert all(t["instance"] and all(32768 <= p <= 61000 for p in t["hostPorts"]) for t in worker)
    taskdefs = json.loads(run(runner, "get", "taskdefs", "--state", state, "-o", "json").stdout)
    assert {(t["family"], t["revision"], t["status"]) for t in taskdefs} >= {("web", 1, "ACTIVE"), ("worker", 1, "ACTIVE")}
    text = run(runner, "get", "instances", "--state", state, "--filter", "attribute:ecs.availability-zone == eu-west-1a")
    assert text.exit_code == 0 and "eu-west-1b" not in text.stdout and "eu-west-1a" in text.stdout
    with_worker = {i["id"] for i in instances if "service:worker" in i["taskGroups"]}
    assert with_worker
    filtered = run(runner, "get", "instances", "--state", state, "-o", "json", "--filter", "task:group == service:worker")
    assert {i["id"] for i in json.loads(filtered.stdout)} == with_worker
    bad = run(runner, "get", "instances", "--state", state, "--filter", "attribute:x ==")
    assert bad.exit_code == 2 and "column" in bad.stderr


def test_a_changed_image_registers_a_new_revision_and_updates_the_service(runner, stack, state):
    applied(runner, stack, state)
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("web:1.4.2", "web:1.4.1"))  # a tag its Repository holds (1.4.3 would fail to start)
    plan = run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json")
    changes = {c["address"]: c["action"] for c in json.loads(plan.stdout)["changes"] if c["action"] != "no-op"}
    assert changes == {"taskdef/web": "update", "service/prod/web": "update"}
    [deployment] = json.loads(plan.stdout)["deployments"]
    assert {k: deployment[k] for k in ("service", "from", "to", "desiredCount", "minimumHealthyPercent", "maximumPercent", "outcome")} == {
        "service": "service/prod/web", "from": "web:1", "to": "web:2", "desiredCount": 3,
        "minimumHealthyPercent": 100, "maximumPercent": 200, "outcome": "complete"}
    assert deployment["steps"] == [{"stopOld": 0, "startNew": 3, "oldRunning": 3, "newRunning": 3},
                                   {"stopOld": 3, "startNew": 0, "oldRunning": 0, "newRunning": 3}]
    result = applied(runner, stack, state)
    assert "Deployment of service/prod/web: web:2 COMPLETED, 3/3 running." in result.stdout
    services = {s["name"]: s for s in json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout)}
    assert services["web"]["taskDefinition"] == "web:2" and services["web"]["runningCount"] == 3
    status = json.loads(run(runner, "rollout", "status", "web", "--state", state, "-o", "json").stdout)
    assert [(d["status"], d["taskDefinition"], d["rolloutState"], d["runningCount"]) for d in status["deployments"]] == [
        ("PRIMARY", "web:2", "COMPLETED", 3)]


def test_reordering_environment_variables_is_no_change(runner, stack, state):
    applied(runner, stack, state)
    web = stack / "web.yaml"
    text = web.read_text()
    a, b = "        - {name: APP_ENV, value: production}\n", "        - {name: PORT, value: \"8080\"}\n"
    assert a in text and b in text
    web.write_text(text.replace(a + b, b + a))
    result = run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode")
    assert result.exit_code == 0, result.stdout


def test_a_deleted_service_is_not_listed_but_can_be_asked_for(runner, stack, state):
    """ListServices does not list deleted services (DRAINING, then INACTIVE); DescribeServices
    still describes them for a while: ``get services`` leaves them out, ``--all``,
    ``--status INACTIVE`` and the name show them."""
    applied(runner, stack, state)
    (stack / "worker.yaml").write_text("\n---\n".join(
        d for d in (stack / "worker.yaml").read_text().split("\n---\n") if "kind: Service" not in d))
    applied(runner, stack, state)
    listed = lambda *extra: {s["name"]: s["status"] for s in json.loads(  # noqa: E731
        run(runner, "get", "services", *extra, "--state", state, "-o", "json").stdout)}
    assert listed() == {"web": "ACTIVE"}
    assert listed("--all") == listed("--status", "INACTIVE") | {"web": "ACTIVE"} == {"web": "ACTIVE", "worker": "INACTIVE"}
    assert listed("worker") == {"worker": "INACTIVE"}


def test_removing_a_service_destroys_it_and_stops_its_tasks(runner, stack, state):
    applied(runner, stack, state)
    worker = stack / "worker.yaml"
    docs = worker.read_text().split("\n---\n")
    worker.write_text("\n---\n".join(d for d in docs if "kind: Service" not in d))
    plan = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert {c["address"]: c["action"] for c in plan["changes"] if c["action"] != "no-op"} == {"service/prod/worker": "delete"}
    applied(runner, stack, state)
    running = json.loads(run(runner, "get", "tasks", "--state", state, "--status", "RUNNING", "-o", "json").stdout)
    assert not [t for t in running if t["group"] == "service:worker"]
    stopped = json.loads(run(runner, "get", "tasks", "--state", state, "--status", "STOPPED", "-o", "json").stdout)
    assert stopped and all(t["stopReason"] for t in stopped)


def test_a_saved_plan_applies_once_and_is_then_stale(runner, stack, state, tmp_path):
    plan_file = str(tmp_path / "plan.json")
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--out", plan_file).exit_code == 0
    assert run(runner, "apply", plan_file, "--state", state, "--auto-approve").exit_code == 0
    stale = run(runner, "apply", plan_file, "--state", state, "--auto-approve")
    assert stale.exit_code == 1
    assert "empty state" in stale.stderr
    assert stale.stderr.rstrip().endswith(f"run plan again (ecsctl plan -f {stack} --state {state} --out {plan_file})")


def test_a_saved_plan_edited_by_hand_is_refused_not_applied(runner, stack, state, tmp_path):
    """The manifests are checked again at apply; the steps, which apply executes, are covered
    by the file's plan_digest: a step's spec changed by hand is refused, the state untouched."""
    plan_file = tmp_path / "plan.json"
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--out", str(plan_file)).exit_code == 0
    data = json.loads(plan_file.read_text())
    service = next(s for s in data["steps"] if s["kind"] == "Service")
    service["spec"]["desiredCount"] = 40
    plan_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    for command in ("apply", "show"):
        refused = run(runner, command, str(plan_file), "--state", state, *(["--auto-approve"] if command == "apply" else []))
        assert refused.exit_code == 1
        (line,) = refused.stderr.splitlines()
        assert line.startswith(f"error: {plan_file}: the plan file was changed after it was saved")
    assert not Path(state).exists()  # nothing applied, no state made
    service["spec"]["desiredCount"] = 3
    data["zz"] = "\ud800"  # a lone surrogate, written as the escape JSON allows: refused the same way
    plan_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    refused = run(runner, "show", str(plan_file))
    assert refused.exit_code == 1 and "the plan file was changed after it was saved" in refused.stderr
    del data["zz"]
    service["spec"]["desiredCount"] = 60
    for key in ("plan_digest", "manifest_digests"):  # the digests taken out with the edit: refused too
        del data[key]
        plan_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        for command in ("apply", "show"):
            refused = run(runner, command, str(plan_file), "--state", state, *(["--auto-approve"] if command == "apply" else []))
            assert refused.exit_code == 1 and "it has no plan_digest" in refused.stderr, refused.stderr
    assert not Path(state).exists()


def test_a_saved_plan_given_a_state_that_does_not_exist_says_so(runner, stack, state, tmp_path):
    """A mistyped --state is an empty state, not "another state" with a lineage made up on the spot."""
    applied(runner, stack, state)
    (stack / "web.yaml").write_text((stack / "web.yaml").read_text().replace("desiredCount: 3", "desiredCount: 4"))
    saved = tmp_path / "p.json"
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--out", str(saved)).exit_code == 0
    other = tmp_path / "other.db"
    refused = run(runner, "apply", str(saved), "--state", str(other), "--auto-approve")
    assert refused.exit_code == 1 and "but this state is empty: give apply the --state the plan was made with" in refused.stderr
    assert "another state" not in refused.stderr and not other.exists()


def test_a_plan_against_an_older_serial_is_refused(runner, stack, state, tmp_path):
    applied(runner, stack, state)
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("desiredCount: 3", "desiredCount: 4"))
    plan_file = str(tmp_path / "plan.json")
    run(runner, "plan", "-f", str(stack), "--state", state, "--out", plan_file)
    web.write_text(web.read_text().replace("desiredCount: 4", "desiredCount: 5"))
    applied(runner, stack, state)
    stale = run(runner, "apply", plan_file, "--state", state, "--auto-approve")
    assert stale.exit_code == 1 and "state moved on" in stale.stderr
    assert stale.stderr.rstrip().endswith(f"run plan again (ecsctl plan -f {stack} --state {state} --out {plan_file})")
    shown = run(runner, "show", plan_file, "--state", state)
    assert "note: apply would refuse this plan: the state moved on" in shown.stderr and "--out " in shown.stderr


def _desired(runner, state) -> dict:
    services = json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout)
    return {s["name"]: s["desiredCount"] for s in services}


def _saved_scale_down(runner, stack, state, tmp_path):
    """The stack applied, then web scaled 3 -> 1 in its manifest and planned into a saved plan:
    ``(web.yaml, the plan file)``."""
    applied(runner, stack, state)
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("desiredCount: 3", "desiredCount: 1"))
    plan_file = str(tmp_path / "plan.json")
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--out", plan_file).exit_code == 0
    return web, plan_file


def test_a_saved_plan_whose_manifests_changed_is_refused_naming_the_file(runner, stack, state, tmp_path):
    web, plan_file = _saved_scale_down(runner, stack, state, tmp_path)
    web.write_text(web.read_text().replace("desiredCount: 1", "desiredCount: 2"))
    for fmt in ([], ["-o", "json"]):
        refused = run(runner, "apply", plan_file, "--state", state, "--auto-approve", *fmt)
        assert refused.exit_code == 1 and refused.stdout == ""  # no document claims anything was applied
        assert refused.stderr.splitlines() == [
            f"error: {plan_file}: the manifests changed since the plan was made ({web} changed); "
            f"run plan again (ecsctl plan -f {stack} --state {state} --out {plan_file})"]
    assert _desired(runner, state)["web"] == 3  # nothing applied


def test_a_saved_plan_is_refused_when_a_manifest_was_added_or_removed(runner, stack, state, tmp_path):
    plan_file = str(tmp_path / "plan.json")
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--out", plan_file).exit_code == 0
    extra = stack / "extra.yaml"
    extra.write_text("apiVersion: ecsctl/v1\nkind: Repository\nmetadata: {name: extra}\nspec: {images: [a:1]}\n")
    added = run(runner, "apply", plan_file, "--state", state, "--auto-approve")
    assert added.exit_code == 1 and f"({extra} added)" in added.stderr
    extra.unlink()
    (stack / "batch.yaml").unlink()
    removed = run(runner, "apply", plan_file, "--state", state, "--auto-approve")
    assert removed.exit_code == 1 and f"({stack / 'batch.yaml'} removed)" in removed.stderr
    assert not Path(state).exists()


def test_a_saved_plan_with_unchanged_manifests_applies(runner, stack, state, tmp_path):
    _, plan_file = _saved_scale_down(runner, stack, state, tmp_path)
    result = run(runner, "apply", plan_file, "--state", state, "--auto-approve", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True
    assert _desired(runner, state)["web"] == 1


def test_a_saved_no_change_plan_says_no_changes_only_while_that_is_true(runner, stack, state, tmp_path):
    applied(runner, stack, state)
    plan_file = str(tmp_path / "plan.json")
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--out", plan_file,
               "--detailed-exitcode").exit_code == 0
    unchanged = run(runner, "apply", plan_file, "--state", state, "--auto-approve")
    assert unchanged.exit_code == 0 and "No changes." in unchanged.stdout
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("desiredCount: 3", "desiredCount: 2"))
    edited = run(runner, "apply", plan_file, "--state", state, "--auto-approve")
    assert edited.exit_code == 1 and "No changes" not in edited.stdout
    assert f"({web} changed); run plan again" in edited.stderr
    shown = run(runner, "show", plan_file, "--state", state)  # show prints it, and says apply would refuse it
    assert shown.exit_code == 0 and "No changes" in shown.stdout
    assert f"note: apply would refuse this plan: {plan_file}: the manifests changed since the plan was made ({web} changed)" in shown.stderr


def test_skip_manifest_check_is_for_a_saved_plan(runner, stack, state):
    result = run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve", "--skip-manifest-check")
    assert result.exit_code == 2 and "for a saved plan" in result.stderr


def test_apply_without_a_terminal_needs_auto_approve(runner, stack, state):
    result = run(runner, "apply", "-f", str(stack), "--state", state)
    assert result.exit_code == 2 and "--auto-approve" in result.stderr


def test_manifests_with_errors_are_refused(runner, stack, state):
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("networkMode: awsvpc", "networkMode: bridge", 1))
    result = run(runner, "plan", "-f", str(stack), "--state", state)
    assert result.exit_code == 1
    assert "error E2" in result.stderr and "the manifests have" in result.stderr
    assert not Path(state).exists()


def test_a_second_writer_is_refused_and_unlock_needs_the_id(runner, stack, state):
    from ecsctl.storage.sqlite_store import SqliteStateStore

    applied(runner, stack, state)
    holder = SqliteStateStore(state)
    lock = holder.acquire_lock("ecsctl apply (test)")
    try:
        refused = run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve")
        assert refused.exit_code == 1 and lock.id in refused.stderr and str(lock.pid) in refused.stderr
        assert "still running" in refused.stderr
        busy = run(runner, "state", "unlock", lock.id, "--state", state)  # its process runs: no
        assert busy.exit_code == 1 and "held right now" in busy.stderr
    finally:
        holder.close()
    assert run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve").exit_code == 0


def test_a_lock_left_on_another_host_is_cleared_with_its_id(runner, stack, state):
    applied(runner, stack, state)
    record = {"id": "5d1c2a9e-0000-4000-8000-00000000beef", "pid": 4242, "host": "build-7.example",
              "command": "ecsctl apply -f manifests/", "created_at": "2024-05-01T12:00:00Z", "started": None}
    Path(state + ".lock").write_text(json.dumps(record) + "\n")
    refused = run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve")
    assert refused.exit_code == 1 and "build-7.example" in refused.stderr
    assert f"ecsctl state unlock {record['id']}" in refused.stderr
    wrong = run(runner, "state", "unlock", "not-the-id", "--state", state)
    assert wrong.exit_code == 1 and "does not match" in wrong.stderr
    cleared = run(runner, "state", "unlock", record["id"], "--state", state)
    assert cleared.exit_code == 0 and "build-7.example" in cleared.stdout
    assert run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve").exit_code == 0


def test_state_pull_and_push(runner, stack, state, tmp_path):
    applied(runner, stack, state)
    pulled = run(runner, "state", "pull", "--state", state)
    data = json.loads(pulled.stdout)
    assert {"lineage", "serial", "resources", "tasks", "services", "container_instances"} <= set(data)
    dump = tmp_path / "state.json"
    dump.write_text(pulled.stdout)
    copy = str(tmp_path / "copy.db")
    assert run(runner, "state", "push", str(dump), "--state", copy).exit_code == 0
    assert run(runner, "plan", "-f", str(stack), "--state", copy, "--detailed-exitcode").exit_code == 0
    listed = run(runner, "state", "list", "--state", state).stdout.split()
    assert "service/prod/web" in listed and "taskdef/web" in listed
    # the original moves on; pushing the old copy back is refused without --force
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("desiredCount: 3", "desiredCount: 4"))
    applied(runner, stack, state)
    refused = run(runner, "state", "push", str(dump), "--state", state)
    assert refused.exit_code == 1 and "serial" in refused.stderr
    assert run(runner, "state", "push", str(dump), "--state", state, "--force").exit_code == 0
    assert data["serial"] >= 1 and len(data["tasks"]) == 9 and len(data["container_instances"]) == 6


def test_a_file_that_is_not_a_state_is_left_alone(runner, stack, tmp_path):
    bogus = tmp_path / "state.db"
    bogus.write_bytes(b"this is not a database\n" * 10)
    before = bogus.read_bytes()
    result = run(runner, "apply", "-f", str(stack), "--state", str(bogus), "--auto-approve")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert bogus.read_bytes() == before


def test_drift_is_listed_apart_and_apply_replaces_lost_tasks(runner, stack, state):
    from dataclasses import replace

    from ecsctl.core.state.ports import Service, Task
    from ecsctl.storage.sqlite_store import SqliteStateStore

    applied(runner, stack, state)
    with SqliteStateStore(state) as store, store.transaction():
        store.update(replace(store.get(Service, "prod", "web"), desired_count=4))  # as auto scaling would
        lost = store.find(Task, service="worker", last_status="RUNNING")[0]
        store.update(replace(lost, last_status="STOPPED", desired_status="STOPPED", stop_reason="Essential container in task exited"))
    plan = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert plan["summary"]["update"] == 0 and not [c for c in plan["changes"] if c["action"] != "no-op"]
    drift = {(d["address"], d["field"]): (d["expected"], d["actual"]) for d in plan["drift"]}
    assert drift[("service/prod/web", "desiredCount")] == (3, 4)
    assert drift[("service/prod/worker", "runningCount")] == (6, 5)
    text = run(runner, "plan", "-f", str(stack), "--state", state, "--no-color").stdout
    assert "Drift" in text and "No changes" in text
    result = applied(runner, stack, state)
    assert "services short of tasks brought to their desired count in cluster prod" in result.stdout
    services = {s["name"]: s for s in json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout)}
    assert services["worker"]["runningCount"] == 6
    assert services["web"]["desiredCount"] == 4 and services["web"]["runningCount"] == 4  # scaling is kept, not undone


def test_a_rolled_back_deployment_is_a_change_that_deploys_again(runner, stack, state):
    applied(runner, stack, state)
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("web:1.4.2", "web:9.9.9"))  # a tag its Repository does not hold
    plan = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    [deployment] = plan["deployments"]
    assert deployment["outcome"] == "failed" and "9.9.9" in deployment["reason"] and "rollback to web:1" in deployment["reason"]
    # the new tasks are started and stop at once (3, the breaker's threshold); the old ones stay as they are
    assert deployment["rolledBackTo"] == "web:1"
    assert [(st["stopOld"], st["startNew"], st.get("failedNew")) for st in deployment["steps"]] == [(0, 3, 3)]
    assert (deployment["steps"][-1]["oldRunning"], deployment["steps"][-1]["newRunning"]) == (3, 0)
    result = run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve")
    assert result.exit_code == 1  # the circuit breaker trips and rolls back: not what was asked
    assert "Deployment of service/prod/web: web:1" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Apply incomplete: deployment of service/prod/web to web:2 was rolled back to web:1 "
        "(ECS deployment circuit breaker: tasks failed to start.).")
    services = {s["name"]: s for s in json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout)}
    assert services["web"]["taskDefinition"] == "web:1" and services["web"]["runningCount"] == 3
    # the service runs another revision than the manifests ask: the next plan deploys it again
    again = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    [change] = [c for c in again["changes"] if c["address"] == "service/prod/web"]
    assert change["action"] == "update" and "runs web:1, the manifests ask for web:2" in change["reason"]
    assert "failed" in change["reason"]
    assert [d["to"] for d in again["deployments"]] == ["web:2"]
    # once the image is fixed (a new revision), apply rolls forward
    web.write_text(web.read_text().replace("web:9.9.9", "web:1.4.2").replace("image: ", "image: ", 1))
    forward = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    [d] = forward["deployments"]
    assert d["outcome"] == "complete" and d["from"] == "web:1"


def test_a_deployment_failed_without_rollback_is_deployed_again_once_its_image_is_pushed(runner, stack, state):
    """With ``rollback: false`` the circuit breaker leaves the FAILED deployment PRIMARY and the
    older tasks running (the service's revision is the manifests' one): the next plan deploys it
    again, as ``update-service --force-new-deployment`` would, rather than "No changes"; pushing
    the missing tag then rolls it forward in the same apply."""
    applied(runner, stack, state)
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("web:1.4.2", "web:1.4.3").replace(
        "deploymentCircuitBreaker: {enable: true, rollback: true}", "deploymentCircuitBreaker: {enable: true, rollback: false}"))
    failed = run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve")
    assert failed.exit_code == 1 and "to web:2 failed" in failed.stdout.splitlines()[-1]
    again = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    [change] = [c for c in again["changes"] if c["address"] == "service/prod/web"]
    assert change["action"] == "update" and "deployment to web:2 failed" in change["reason"]
    [deployment] = again["deployments"]
    assert (deployment["from"], deployment["to"], deployment["outcome"]) == ("web:1", "web:2", "failed")
    catalogue = stack / "catalogue.yaml"
    catalogue.write_text(catalogue.read_text().replace('images: ["1.4.1", "1.4.2"]', 'images: ["1.4.1", "1.4.2", "1.4.3"]'))
    forward = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    [d] = forward["deployments"]
    assert (d["from"], d["to"], d["outcome"]) == ("web:1", "web:2", "complete")
    applied(runner, stack, state)
    services = {s["name"]: s for s in json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout)}
    assert services["web"]["taskDefinition"] == "web:2" and services["web"]["runningCount"] == services["web"]["desiredCount"]
    final = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert not [c for c in final["changes"] if c["action"] != "no-op"] and final["deployments"] == []


def test_a_plan_saved_in_its_manifest_folder_is_skipped_there_and_applies(runner, stack, state):
    plan_file = str(stack / "plan.json")  # inside the folder plan -f reads
    saved = run(runner, "plan", "-f", str(stack), "--state", state, "--out", plan_file)
    assert saved.exit_code == 0, saved.output
    # the hint it prints is a command that works: the state it was made against is named
    assert saved.stderr.splitlines()[-1] == f"Saved the plan to {plan_file}; apply it with: ecsctl apply {plan_file} --state {state}"
    checked = run(runner, "validate", str(stack))
    assert checked.exit_code == 0, checked.output
    assert f"note: {plan_file}: skipped, not an ecsctl manifest or an ECS task definition (an ecsctl saved plan)" in checked.stderr
    done = run(runner, "apply", plan_file, "--state", state, "--auto-approve")
    assert done.exit_code == 0, done.output
    again = run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.stdout, again.output


def test_a_plan_that_deletes_the_cluster_its_services_run_in_is_refused(runner, stack, state, tmp_path):
    """ECS refuses DeleteCluster while the cluster contains services (ClusterContainsServicesException).
    Removing cluster.yaml but keeping the services, or applying a folder that holds only a new
    service of that cluster, is refused at plan time, naming the service's cluster field; the state
    does not move and the services keep running."""
    applied(runner, stack, state)
    before = json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout)
    (stack / "cluster.yaml").unlink()
    web_line = next(k for k, line in enumerate((stack / "web.yaml").read_text().splitlines(), 1)
                    if line.strip() == "cluster: prod")
    for argv in (["plan", "-f", str(stack)], ["apply", "-f", str(stack), "--auto-approve"]):
        refused = run(runner, *argv, "--state", state)
        assert refused.exit_code == 1, refused.output
        assert refused.stderr.startswith(f"error: {stack / 'web.yaml'}:{web_line}:3: spec.cluster: service web (and 1 more "
                                         "service of the manifests) runs in cluster prod, which this plan deletes")
        assert "ClusterContainsServicesException" in refused.stderr and len(refused.stderr.splitlines()) == 1
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "svc.yaml").write_text("apiVersion: ecsctl/v1\nkind: Service\nmetadata: {name: lonely}\n"
                                     "spec: {cluster: prod, taskDefinition: worker, desiredCount: 2, launchType: EC2}\n")
    refused = run(runner, "apply", "-f", str(lonely), "--state", state, "--auto-approve")
    assert refused.exit_code == 1 and f"{lonely / 'svc.yaml'}:4:" in refused.stderr and "service lonely runs in" in refused.stderr
    assert json.loads(run(runner, "get", "services", "--state", state, "-o", "json").stdout) == before
    # removing the services with their cluster is a plan like any other
    for name in ("web.yaml", "worker.yaml"):
        (stack / name).unlink()
    assert run(runner, "plan", "-f", str(stack), "--state", state).exit_code == 0


def test_a_file_named_instead_of_its_folder_destroys_nothing_its_neighbours_declare(runner, stack, state, monkeypatch):
    """``-f catalogue.yaml`` in a folder of manifests: the plan would destroy every resource of
    the other files; it is refused, naming one, as is a file an .ecsctlignore leaves out."""
    applied(runner, stack, state)
    one = run(runner, "plan", "-f", str(stack / "catalogue.yaml"), "--state", state)
    assert one.exit_code == 1 and one.stdout == ""
    (line,) = one.stderr.splitlines()
    assert line.startswith("error: the plan would destroy ") and "beside " in line and "still declare" in line
    monkeypatch.chdir(stack.parent)
    (stack.parent / ".ecsctlignore").write_text("worker.yaml\n")
    ignored = run(runner, "plan", "-f", str(stack), "--state", state)
    assert ignored.exit_code == 1
    assert "worker.yaml (excluded by 'worker.yaml') still declares" in ignored.stderr
    (stack.parent / ".ecsctlignore").unlink()
    # removing the manifest is how to delete on purpose; a stack kept in one file deletes as before
    (stack / "batch.yaml").unlink()
    gone = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert gone["summary"]["delete"] > 0
    single = stack.parent / "single"
    single.mkdir()
    (single / "stack.yaml").write_text("\n---\n".join(p.read_text() for p in sorted(stack.glob("*.yaml"))))
    alone = json.loads(run(runner, "plan", "-f", str(single / "stack.yaml"), "--state", state, "-o", "json").stdout)
    assert alone["summary"]["delete"] == gone["summary"]["delete"]


PARAMETERS = "apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {{name: {}}}\nspec: {{type: String}}\n"


def _parameters(*names: str) -> str:
    return "---\n".join(PARAMETERS.format(n) for n in names)


def test_two_stacks_in_one_folder_delete_with_delete_left_out(runner, tmp_path):
    """dev.yaml and prod.yaml, each applied to its own state: a parameter leaving dev.yaml is still in
    prod.yaml. The guard cannot tell that from -f web.yaml in a folder of one stack; it refuses,
    naming the file beside and the flag that says the named file is the whole stack."""
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "dev.yaml").write_text(_parameters("jobs", "extra"))
    (envs / "prod.yaml").write_text(_parameters("jobs", "extra"))
    dev = str(tmp_path / "dev.db")
    assert run(runner, "apply", "-f", str(envs / "dev.yaml"), "--state", dev, "--auto-approve").exit_code == 0
    (envs / "dev.yaml").write_text(_parameters("jobs"))
    refused = run(runner, "plan", "-f", str(envs / "dev.yaml"), "--state", dev)
    assert refused.exit_code == 1
    (line,) = refused.stderr.splitlines()
    assert f"parameter/extra, which {envs / 'prod.yaml'} (beside {envs / 'dev.yaml'}," in line and "--delete-left-out" in line
    allowed = run(runner, "plan", "-f", str(envs / "dev.yaml"), "--state", dev, "--delete-left-out", "-o", "json")
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["summary"]["delete"] == 1
    done = run(runner, "apply", "-f", str(envs / "dev.yaml"), "--state", dev, "--delete-left-out", "--auto-approve")
    assert done.exit_code == 0
    assert run(runner, "plan", "-f", str(envs / "dev.yaml"), "--state", dev, "--detailed-exitcode").exit_code == 0
    saved = tmp_path / "p.json"
    assert run(runner, "plan", "-f", str(envs / "dev.yaml"), "--state", dev, "--out", str(saved)).exit_code == 0
    misuse = run(runner, "apply", str(saved), "--state", dev, "--delete-left-out", "--auto-approve")
    assert misuse.exit_code == 2 and "--delete-left-out is for manifests" in misuse.stderr


def test_the_left_out_guard_reads_the_named_files_own_folders_and_names_the_right_file(runner, tmp_path):
    """Subfolders of a named file's folder are other stacks (envs/dev/, envs/prod/), not its
    neighbours; with files named in two folders, the refusal names the one beside the file left out."""
    one, two = tmp_path / "one", tmp_path / "two"
    (one / "nested").mkdir(parents=True)
    two.mkdir()
    (one / "a.yaml").write_text(_parameters("a"))
    (two / "b.yaml").write_text(_parameters("b"))
    (two / "other.yaml").write_text(_parameters("gone"))
    (one / "nested" / "deep.yaml").write_text(_parameters("deep"))
    state = str(tmp_path / "s.db")
    both = ["-f", str(one), "-f", str(two)]
    assert run(runner, "apply", *both, "--state", state, "--auto-approve").exit_code == 0
    named = ["-f", str(one / "a.yaml"), "-f", str(two / "b.yaml")]
    refused = run(runner, "plan", *named, "--state", state)
    assert refused.exit_code == 1
    assert f"parameter/gone, which {two / 'other.yaml'} (beside {two / 'b.yaml'}," in refused.stderr
    assert "parameter/deep" not in refused.stderr and "(and 1 more)" not in refused.stderr
    (two / "other.yaml").unlink()  # gone on purpose; deep.yaml, in a subfolder, protects nothing
    plan = json.loads(run(runner, "plan", *named, "--state", state, "-o", "json").stdout)
    assert sorted(c["address"] for c in plan["changes"] if c["action"] == "delete") == ["parameter/deep", "parameter/gone"]


def test_a_subfolder_or_standard_input_destroys_nothing_the_rest_of_the_stack_declares(runner, tmp_path, monkeypatch):
    """After ``apply -f m``, ``plan -f m/batch`` (a folder of the stack) would destroy all of ``m``'s
    other files: refused, as the folders above a named path (inside the current directory) are
    read too. Standard input names no folder at all: a plan from it deletes nothing unless
    --delete-left-out says it holds the whole stack."""
    monkeypatch.chdir(tmp_path)
    m = Path("m")
    (m / "batch").mkdir(parents=True)
    (m / "top.yaml").write_text(_parameters("top"))
    (m / "batch" / "jobs.yaml").write_text(_parameters("jobs"))
    state = "s.db"
    assert run(runner, "apply", "-f", "m", "--state", state, "--auto-approve").exit_code == 0
    for named in ("m/batch", "m/batch/jobs.yaml"):
        refused = run(runner, "plan", "-f", named, "--state", state)
        assert refused.exit_code == 1, refused.output
        (line,) = refused.stderr.splitlines()
        assert f"parameter/top, which m/top.yaml (in m, a folder above {named}, which -f names instead) still declares" in line
    piped = run(runner, "apply", "-f", "-", "--state", state, "--auto-approve", input=_parameters("jobs"))
    assert piped.exit_code == 1 and "which standard input (-f -) does not declare" in piped.stderr
    allowed = run(runner, "plan", "-f", "-", "--state", state, "--delete-left-out", "-o", "json", input=_parameters("jobs", "top"))
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["summary"]["delete"] == 0
    gone = run(runner, "plan", "-f", "-", "--state", state, "--delete-left-out", "-o", "json", input=_parameters("jobs"))
    assert gone.exit_code == 0 and json.loads(gone.stdout)["summary"]["delete"] == 1


def test_the_folders_above_are_read_through_links_and_without_their_other_subfolders(runner, tmp_path, monkeypatch):
    """``m/batch`` a link to ``../shared/batch``: the folder above it is ``m`` as written, not
    where the link points. A file an exclude glob leaves out up there is protected as in a
    named folder. Sibling folders (``envs/dev``, ``envs/prod``, one state each) are not read:
    deleting from dev what prod still declares is dev's own business."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shared" / "batch").mkdir(parents=True)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "batch").symlink_to(tmp_path / "shared" / "batch", target_is_directory=True)
    Path("m/top.yaml").write_text(_parameters("top"))
    Path("m/notes.yaml").write_text(_parameters("noted"))
    Path("shared/batch/jobs.yaml").write_text(_parameters("jobs"))
    assert run(runner, "apply", "-f", "m", "--state", "m.db", "--auto-approve").exit_code == 0
    linked = run(runner, "plan", "-f", "m/batch", "--state", "m.db")
    assert linked.exit_code == 1 and "which m/notes.yaml (in m, a folder above m/batch" in linked.stderr
    excluded = run(runner, "plan", "-f", "m/batch", "-f", "m/top.yaml", "--exclude", "notes.yaml", "--state", "m.db")
    assert excluded.exit_code == 1 and "m/notes.yaml (excluded by 'notes.yaml') still declares" in excluded.stderr
    for env in ("dev", "prod"):
        Path("envs", env).mkdir(parents=True)
        Path("envs", env, "p.yaml").write_text(_parameters("jobs", "extra"))
    assert run(runner, "apply", "-f", "envs/dev", "--state", "dev.db", "--auto-approve").exit_code == 0
    Path("envs/dev/p.yaml").write_text(_parameters("jobs"))
    plan = run(runner, "plan", "-f", "envs/dev", "--state", "dev.db", "-o", "json")
    assert plan.exit_code == 0 and json.loads(plan.stdout)["summary"]["delete"] == 1


def test_exclude_leaves_files_out_of_plan_apply_and_a_saved_plan(runner, stack, state, tmp_path):
    """README: ``--exclude GLOB``: plan, apply and destroy read directories as validate does. A
    plan saved with one records it: applying it does not see the excluded file as added."""
    applied(runner, stack, state)
    refused = run(runner, "plan", "-f", str(stack), "--exclude", "queue.yaml", "--state", state)
    assert refused.exit_code == 1 and "queue.yaml (excluded by 'queue.yaml') still declares" in refused.stderr
    extra = stack / "notes.yaml"
    extra.write_text(_parameters("scratch"))
    saved = tmp_path / "p.json"
    made = run(runner, "plan", "-f", str(stack), "--exclude", "notes.yaml", "--state", state, "--out", str(saved))
    assert made.exit_code == 0 and "No changes" in made.stdout
    assert json.loads(saved.read_text())["manifest_exclude"] == ["notes.yaml"]
    assert run(runner, "apply", str(saved), "--state", state, "--auto-approve").exit_code == 0
    misuse = run(runner, "apply", str(saved), "--exclude", "x", "--state", state, "--auto-approve")
    assert misuse.exit_code == 2 and "--exclude is for manifests" in misuse.stderr


def test_a_left_out_file_is_named_before_a_cluster_it_still_declares(runner, stack, state):
    """``-f web.yaml -f catalogue.yaml``: the cluster's deletion comes from leaving cluster.yaml
    out; the refusal says that, not that no Cluster manifest names it any more."""
    applied(runner, stack, state)
    refused = run(runner, "plan", "-f", str(stack / "web.yaml"), "-f", str(stack / "catalogue.yaml"), "--state", state)
    assert refused.exit_code == 1 and "still declare" in refused.stderr and "beside" in refused.stderr
    assert "which this plan deletes" not in refused.stderr


def test_detailed_exitcode_keeps_2_for_changes_and_gives_1_for_every_error(stack, tmp_path):
    """Terraform's -detailed-exitcode: 0 no changes, 1 error, 2 changes; a usage error (a
    mistyped folder, an unknown option) must not exit 2, or CI would act on "changes"."""
    import subprocess
    import sys

    state = str(tmp_path / "s.db")

    def code(*args: str) -> int:
        return subprocess.run([sys.executable, "-m", "ecsctl", *args, "--state", state], capture_output=True,
                              text=True, timeout=120).returncode

    assert code("plan", "-f", str(stack), "--detailed-exitcode") == 2                   # changes
    assert code("plan", "-f", str(tmp_path / "manifestz"), "--detailed-exitcode") == 1  # no such folder
    assert code("plan", "-f", str(stack), "--detailed-exitcode", "--bogus") == 1        # unknown option
    assert code("plan", "-f", str(stack), "--bogus") == 2                               # without it: usage, 2
    # only plan has the flag: on another command it is an unknown option, a usage error (2)
    assert code("apply", "-f", str(stack), "--detailed-exitcode") == 2
    assert code("validate", str(stack), "--detailed-exitcode") == 2
    # the root's options before the command, with their values (`ecsctl --state s.db plan …`)
    for root in (["--state", state], [f"--state={state}"], ["-o", "json", "--no-color", "--state", state]):
        run = subprocess.run([sys.executable, "-m", "ecsctl", *root, "plan", "-f", str(tmp_path / "manifestz"),
                              "--detailed-exitcode"], capture_output=True, text=True, timeout=120)
        assert run.returncode == 1, (root, run.stderr)


def test_a_plan_whose_apply_would_replace_lost_tasks_is_not_no_changes(runner, stack, state):
    """No manifest changed, but a service task stopped: apply's scheduler starts a replacement,
    so the plan does not say "No changes" and --detailed-exitcode exits 2, as Terraform's does
    for any diff apply would act on."""
    applied(runner, stack, state)
    tasks = json.loads(run(runner, "get", "tasks", "--state", state, "-o", "json").stdout)
    victim = next(t["id"] for t in tasks if t.get("group") == "service:worker")
    assert run(runner, "stop-task", victim, "--state", state).exit_code == 0
    text = run(runner, "plan", "-f", str(stack), "--state", state, "--no-color").stdout
    assert text.splitlines()[-1].startswith("No changes to the manifests' resources; apply would start or stop tasks "
                                            "in cluster prod")
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode").exit_code == 2
    data = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert (data["reconcile"], data["summary"]["reconcile"]) == (["prod"], 1)  # JSON says what the exit code does
    applied(runner, stack, state)
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode").exit_code == 0


def test_reconcile_lists_only_the_work_no_step_causes(runner, stack, state):
    """`reconcile` is the scheduler's work without a manifest change: an image bump's rollout is
    the Service step's, so it is not listed; a lost task of another service in the same plan is."""
    applied(runner, stack, state)
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("web:1.4.2", "web:1.4.1"))
    data = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert data["deployments"] and (data["reconcile"], data["summary"]["reconcile"]) == ([], 0)
    tasks = json.loads(run(runner, "get", "tasks", "--state", state, "-o", "json").stdout)
    victim = next(t["id"] for t in tasks if t.get("group") == "service:worker")
    assert run(runner, "stop-task", victim, "--state", state).exit_code == 0
    data = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert (data["reconcile"], data["summary"]["reconcile"]) == (["prod"], 1)


@pytest.mark.parametrize("edit", [
    ("cluster.yaml", "{name: containerInsights, value: enabled}", "{name: containerInsights, value: disabled}"),
    ("worker.yaml", "maxCapacity: 18", "maxCapacity: 17"),
], ids=["cluster-setting", "service-scaling-bound"])
def test_a_step_that_moves_no_task_leaves_the_lost_task_to_reconcile(runner, stack, state, edit):
    """A Cluster step that changes a setting, or a Service step that changes a field that starts
    no deployment and keeps the desired count, does not replace the lost task: the scheduler does,
    so the cluster is still listed under reconcile."""
    applied(runner, stack, state)
    tasks = json.loads(run(runner, "get", "tasks", "--state", state, "-o", "json").stdout)
    victim = next(t["id"] for t in tasks if t.get("group") == "service:worker")
    assert run(runner, "stop-task", victim, "--state", state).exit_code == 0
    name, old, new = edit
    path = stack / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    data = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    assert [c for c in data["changes"] if c["action"] != "no-op"] and not data["deployments"]
    assert (data["reconcile"], data["summary"]["reconcile"]) == (["prod"], 1)


def test_show_or_apply_of_the_state_file_says_it_is_a_state(runner, stack, state, tmp_path):
    applied(runner, stack, state)
    before = Path(state).read_bytes()
    shown = runner.invoke(app, ["show", state, "--state", state])
    assert (shown.exit_code, shown.stderr) == (2, (
        f"error: {state} is an ecsctl state file (SQLite), not a saved plan: to read it use "
        f"`ecsctl --state {state} get KIND`, `describe KIND NAME` or `state pull`\n"))
    applying = runner.invoke(app, ["apply", state, "--state", state, "--auto-approve"])
    assert (applying.exit_code, applying.stderr) == (2, (
        f"error: {state} is an ecsctl state file (SQLite), not a saved plan: "
        f"did you mean `ecsctl --state {state} apply -f DIR`?\n"))
    other = tmp_path / "other.sqlite"
    other.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    shown = runner.invoke(app, ["show", str(other), "--state", state])
    assert (shown.exit_code, shown.stderr) == (2, f"error: {other} is a SQLite database, not a saved plan "
                                                  "(`ecsctl plan --out FILE` saves one)\n")
    assert Path(state).read_bytes() == before


def test_a_family_deregistered_before_registers_its_next_number(runner, stack, state, tmp_path):
    """ECS never gives a revision number twice: a family whose revisions were all deregistered
    goes on from the last one ("adding a new revision of an INACTIVE task definition moves the
    family back to the ACTIVE list"), and the plan says which number it will be."""
    extra = stack / "oneoff.yaml"
    extra.write_text("apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: oneoff}\nspec:\n  family: oneoff\n"
                     "  containerDefinitions:\n  - {name: a, image: busybox, memory: 64, essential: true}\n")
    first = run(runner, "plan", "-f", str(stack), "--state", state)
    assert "# taskdef/oneoff will be registered (as oneoff:1)" in first.stdout
    applied(runner, stack, state)
    kept = extra.read_text()
    extra.unlink()
    applied(runner, stack, state)
    extra.write_text(kept)
    again = run(runner, "plan", "-f", str(stack), "--state", state)
    assert "# taskdef/oneoff will be registered (as oneoff:2; its revisions up to 1 were deregistered)" in again.stdout
    applied(runner, stack, state)
    listed = json.loads(run(runner, "get", "taskdefs", "--state", state, "-o", "json").stdout)
    assert [(t["revision"], t["status"]) for t in listed if t["family"] == "oneoff"] == [(1, "INACTIVE"), (2, "ACTIVE")]


def test_a_rule_pinned_to_a_revision_the_state_lacks_is_marked_in_the_forecast(runner, stack, state):
    """EventBridge's PutTargets takes any task definition, so apply goes through; every firing's
    RunTask then fails. validate cannot know the state's revisions: the plan says so (a `!` line
    with the fix), as it does for a rule whose task would fail at start."""
    applied(runner, stack, state)
    batch = stack / "batch.yaml"
    batch.write_text(batch.read_text().replace("taskDefinition: report\n", "taskDefinition: report:9\n", 1))
    text = run(runner, "plan", "-f", str(stack), "--state", state)
    assert text.exit_code == 0, text.output
    assert ("! scheduledtask/nightly-report: its task will not run when it fires: "
            "RunTask: task definition report:9 is not registered") in text.stdout
    assert "fix: name a registered revision, or the family for its latest" in text.stdout
    plan = json.loads(run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json").stdout)
    (entry,) = [p for p in plan["placement"] if p["address"] == "scheduledtask/nightly-report"]
    assert (entry["taskDefinition"], entry["failing"]) == ("report:9", "RunTask: task definition report:9 is not registered")


def test_a_rule_that_asks_runtask_for_more_than_10_tasks_is_marked_in_the_forecast(runner, stack, state):
    """PutTargets takes a TaskCount of 11 (EcsParameters has no maximum); RunTask starts at most
    10, so every firing fails: validate warns (W6013), the plan marks the rule, apply goes through."""
    batch = stack / "batch.yaml"
    text = batch.read_text()
    at = text.index("name: ingest-on-upload")
    batch.write_text(text[:at] + text[at:].replace("taskCount: 1\n", "taskCount: 11\n", 1))
    checked = run(runner, "validate", str(stack))
    assert checked.exit_code == 0 and "W6013 taskCount 11 is more than RunTask starts (at most 10): every firing fails" in checked.output
    plan = run(runner, "plan", "-f", str(stack), "--state", state)
    assert plan.exit_code == 0, plan.output
    assert ("! scheduledtask/ingest-on-upload: its tasks will not run when it fires: "
            "RunTask starts at most 10 tasks, not 11: every firing fails") in plan.stdout
    assert "fix: set target.taskCount to 10 or less (or split the rule)" in plan.stdout
    applied(runner, stack, state)


@pytest.mark.parametrize("state_value, fires", [("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", True), ("DISABLED", False)])
def test_a_rule_enabled_for_cloudtrail_management_events_fires_as_an_enabled_one(runner, stack, state, state_value, fires):
    """PutRule's RuleState ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is an enabled rule that
    also matches read-only management events (validate refused it: a helper's trial)."""
    batch = stack / "batch.yaml"
    text = batch.read_text()
    at = text.index("name: ingest-on-upload")
    batch.write_text(text[:at] + text[at:].replace("  state: ENABLED\n", f"  state: {state_value}\n", 1))
    assert run(runner, "validate", str(stack)).exit_code == 0
    applied(runner, stack, state)
    put = run(runner, "events", "put", "--source", "aws.s3", "--detail-type", "Object Created", "--detail",
              '{"bucket": {"name": "acme-prod-uploads"}, "object": {"key": "incoming/batch-0042.csv"}}', "--state", state)
    assert put.exit_code == 0, put.output
    assert ("rule (ingest-on-upload) fired (event)" in put.stdout) is fires
