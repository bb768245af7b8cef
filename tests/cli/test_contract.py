"""The CLI contract (issue 9), tested as one: every command takes the global options before or
after its name; every JSON and YAML output parses; the exit codes are the table below; no bad
argument ever gives an internal error or a traceback; and a newcomer's walk from the README's
two commands to ``destroy`` works.

    0  the result is what was asked
    1  an error, or an outcome other than asked (apply: a deployment failed, was rolled back or
       stalled, a service below its desired count)
    2  usage (and ``plan --detailed-exitcode`` with changes)
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from ecsctl.cli.app import app

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
SCALING = Path(__file__).resolve().parents[2] / "docs" / "examples" / "scaling"

# Every command of the CLI; a new command must be added here (and so to the tables below).
COMMANDS = {
    "validate", "plan", "apply", "destroy", "show", "get", "describe", "run-task", "stop-task", "tick",
    "state pull", "state push", "state list", "state unlock", "state verify",
    "instances drain", "instances activate", "instances stop", "instances start", "instances terminate",
    "instances deregister",
    "rollout status", "rollout history", "rollout undo",
    "rules", "rules explain", "schema export", "scale simulate", "ecr login", "render", "import",
    "view", "metrics put", "events put",
}


def _leaves(command, prefix=()) -> set[str]:
    subs = getattr(command, "commands", None)
    if not subs:
        return {" ".join(prefix)}
    out = {" ".join(prefix)} if prefix and getattr(command, "invoke_without_command", False) else set()
    for name, sub in subs.items():
        out |= _leaves(sub, (*prefix, name))
    return out


def _command_of(args: list[str]) -> str:
    if args[0] in ("state", "instances", "rollout", "schema", "scale", "ecr", "metrics", "events") or (args[0] == "rules" and args[1:2] == ["explain"]):
        return " ".join(args[:2])
    return args[0]


def test_the_tables_cover_every_command() -> None:
    assert _leaves(get_command(app)) == COMMANDS
    assert set(GLOBAL_CASES) == COMMANDS
    assert {_command_of(a) for a, _ in BAD} == COMMANDS


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    """The example stack applied once; tests work on copies of its state."""
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("contract")
    stack = root / "manifests"
    shutil.copytree(MANIFESTS, stack)
    state = root / "base.db"
    result = CliRunner().invoke(app, ["apply", "-f", str(stack), "--state", str(state), "--auto-approve"])
    assert result.exit_code == 0, result.output
    rows = {kind: json.loads(CliRunner().invoke(app, ["get", kind, "--state", str(state), "-o", "json"]).stdout)
            for kind in ("tasks", "instances")}
    return {"root": root, "stack": stack, "state": state, **rows}


@pytest.fixture
def world(base, tmp_path) -> dict:
    """A copy of the applied state (SQLite's backup API), the stack, and ids to act on."""
    state = tmp_path / "state.db"
    with sqlite3.connect(base["state"]) as src, sqlite3.connect(state) as dst:
        src.backup(dst)
    state.chmod(0o600)
    task = next(t["id"] for t in base["tasks"] if t["group"] == "service:worker")
    instance = next(i["id"] for i in base["instances"] if i["runningTasksCount"])
    taskdef = tmp_path / "register.json"  # a bare RegisterTaskDefinition request, as `ecsctl import` reads it
    taskdef.write_text(json.dumps({"family": "imported", "containerDefinitions": [
        {"name": "app", "image": "nginx:1.27", "memory": 256, "essential": True}]}))
    return {"state": str(state), "stack": str(base["stack"]), "tmp": tmp_path, "task": task, "instance": instance,
            "web": str(base["stack"] / "web.yaml"), "taskdef_json": str(taskdef)}


def run(runner, args):
    return runner.invoke(app, [str(a) for a in args])


def fill(args, w) -> list[str]:
    return [a.format(**w) if isinstance(a, str) else a for a in args]


# --- every command x the global options ----------------------------------------------------------

# A working invocation of every command (without the global options) and whether it prints
# a machine document with -o json / yaml.
GLOBAL_CASES = {
    "validate": (["validate", "{stack}"], True),
    "plan": (["plan", "-f", "{stack}"], True),
    "apply": (["apply", "-f", "{stack}", "--auto-approve"], True),
    "destroy": (["destroy", "-f", "{web}", "--auto-approve"], True),
    "show": (["show", "{tmp}/plan.json"], True),
    "get": (["get", "services"], True),
    "describe": (["describe", "service", "web"], True),
    "run-task": (["run-task", "--cluster", "prod", "--task-definition", "worker", "--launch-type", "EC2"], True),
    "stop-task": (["stop-task", "{task}"], True),
    "tick": (["tick", "1h30m"], True),
    "state pull": (["state", "pull"], True),
    "state list": (["state", "list"], True),
    "state push": (["state", "push", "{tmp}/pulled.json"], True),
    "state unlock": (["state", "unlock", "{lock}"], True),
    "state verify": (["state", "verify"], True),
    "instances drain": (["instances", "drain", "{instance}"], True),
    "instances activate": (["instances", "activate", "{instance}"], True),
    "instances stop": (["instances", "stop", "{instance}"], True),
    "instances start": (["instances", "start", "{instance}"], True),
    "instances terminate": (["instances", "terminate", "{instance}"], True),
    "instances deregister": (["instances", "deregister", "{instance}"], True),
    "rollout status": (["rollout", "status", "web"], True),
    "rollout history": (["rollout", "history", "web"], True),
    "rollout undo": (["rollout", "undo", "web"], True),
    "rules": (["rules"], True),
    "rules explain": (["rules", "explain", "E2023"], True),
    "schema export": (["schema", "export", "{tmp}/schemas"], True),
    "ecr login": (["ecr", "login"], True),
    "events put": (["events", "put", "--source", "aws.s3", "--detail-type", "Object Created",
                    "--detail", '{{"bucket": {{"name": "acme-prod-uploads"}}, "object": {{"key": "incoming/a.csv"}}}}'], True),
    "render": (["render", "-f", "{stack}"], True),
    "import": (["import", "{taskdef_json}", "--no-state"], True),
    "view": (["view", "-f", "{stack}"], True),
    "scale simulate": (["scale", "simulate", "-f", f"{SCALING}/web.yaml", "--service", "web", "--metrics", f"{SCALING}/cpu.csv"], True),
    "metrics put": (["metrics", "put", "--service", "web", "--metric", "ECSServiceAverageCPUUtilization", "--value", "90"], True),
}


def _prepare(name: str, runner, w) -> dict:
    """What a command needs first (a saved plan, a held lock, a drained instance, an earlier revision)."""
    state = ["--state", w["state"]]
    if name == "show":
        assert run(runner, ["plan", "-f", w["stack"], *state, "--out", f"{w['tmp']}/plan.json"]).exit_code == 0
    elif name == "state push":
        Path(f"{w['tmp']}/pulled.json").write_text(run(runner, ["state", "pull", *state]).stdout)
    elif name == "state unlock":  # a lock left by an apply on another machine (one here would be taken over)
        from ecsctl.storage.lock import lock_path

        lock_id = "0b7e2d1c-1111-4222-8333-444455556666"
        lock_path(Path(w["state"])).write_text(json.dumps({
            "id": lock_id, "pid": 4242, "host": "build-7.example", "command": "ecsctl apply (stuck)",
            "created_at": "2026-01-01T00:00:00Z", "started": None}) + "\n")
        return {"lock": lock_id}
    elif name in ("instances activate", "instances start"):
        first = "drain" if name == "instances activate" else "stop"
        assert run(runner, ["instances", first, w["instance"], *state]).exit_code == 0
    elif name == "rollout undo":
        stack = w["tmp"] / "stack"
        shutil.copytree(w["stack"], stack)
        _set(stack / "web.yaml", "web:1.4.2", "web:1.4.1")  # a tag its Repository holds
        assert run(runner, ["apply", "-f", stack, *state, "--auto-approve"]).exit_code == 0
    return {}


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("name", sorted(GLOBAL_CASES))
def test_global_options_before_or_after_the_command(runner, world, name, fmt, where) -> None:
    args, machine = GLOBAL_CASES[name]
    w = {**world, **_prepare(name, runner, world)}
    options = ["--state", world["state"], "-o", fmt, "--no-color"]
    argv = [*options, *fill(args, w)] if where == "before" else [*fill(args, w), *options]
    result = run(runner, argv)
    if "holder" in w:
        w["holder"].close()
    assert result.exit_code == 0, (argv, result.stdout, result.stderr)
    load = json.loads if fmt == "json" else yaml.safe_load
    document = load(result.stdout)  # exactly one document: nothing printed after it
    assert machine and document is not None
    assert "\x1b[" not in result.stdout + result.stderr


def test_the_nearest_option_wins_and_a_group_takes_them_too(runner, world) -> None:
    both = run(runner, ["-o", "yaml", "get", "services", "--state", world["state"], "-o", "json"])
    assert both.exit_code == 0 and isinstance(json.loads(both.stdout), list)
    middle = run(runner, ["state", "-o", "json", "--state", world["state"], "list"])
    assert middle.exit_code == 0 and "service/prod/web" in {r["address"] for r in json.loads(middle.stdout)}


def test_state_comes_from_the_environment_too(runner, world, monkeypatch) -> None:
    monkeypatch.setenv("ECSCTL_STATE", world["state"])
    result = run(runner, ["get", "services", "-o", "json"])
    assert result.exit_code == 0 and {s["name"] for s in json.loads(result.stdout)} == {"web", "worker"}


def test_no_color_and_NO_COLOR(runner, world, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = run(runner, ["plan", "-f", world["stack"], "--state", world["state"]])
    assert result.exit_code == 0 and "\x1b[" not in result.stdout


# --- exit codes ----------------------------------------------------------------------------------


def _set(path: str, old: str, new: str) -> None:
    p = Path(path)
    assert old in p.read_text()
    p.write_text(p.read_text().replace(old, new))


def test_exit_codes_of_plan_and_validate(runner, world, write) -> None:
    stack, state = world["stack"], world["state"]
    assert run(runner, ["validate", stack]).exit_code == 0
    assert run(runner, ["plan", "-f", stack, "--state", state, "--detailed-exitcode"]).exit_code == 0
    assert run(runner, ["plan", "-f", stack, "--state", f"{world['tmp']}/new.db", "--detailed-exitcode"]).exit_code == 2
    bad = write("bad/web.yaml", Path(world["web"]).read_text().replace("networkMode: awsvpc", "networkMode: bridge", 1))
    assert run(runner, ["validate", str(bad)]).exit_code == 1
    refused = run(runner, ["plan", "-f", str(bad), "--state", state, "-o", "json"])
    assert refused.exit_code == 1
    report = json.loads(refused.stdout)  # the findings, as validate -o json prints them
    assert report["errors"] >= 1 and {"file", "line", "column", "path", "rule", "severity", "message"} <= set(report["findings"][0])
    assert len(refused.stderr.strip().splitlines()) == 1


def test_apply_exits_1_with_a_last_line_when_a_deployment_is_rolled_back(runner, world, tmp_path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(world["stack"], stack)
    _set(stack / "web.yaml", "web:1.4.2", "web:9.9.9")  # a tag its Repository does not hold
    result = run(runner, ["apply", "-f", stack, "--state", world["state"], "--auto-approve", "-o", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and [d["result"] for d in doc["deployments"]] == ["rolled-back"]
    assert {r["result"] for r in doc["results"]} == {"applied"} and doc["plan"]["summary"]["update"] == 2
    assert doc["message"].startswith("Apply incomplete: deployment of service/prod/web to web:2 was rolled back to web:1")


def test_apply_exits_1_when_a_service_is_left_below_its_desired_count(runner, world, tmp_path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(world["stack"], stack)
    _set(stack / "worker.yaml", "desiredCount: 6", "desiredCount: 60")  # more than the instances hold
    result = run(runner, ["apply", "-f", stack, "--state", world["state"], "--auto-approve"])
    assert result.exit_code == 1
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Apply incomplete: service/prod/worker runs ") and last.endswith("of its 60 desired tasks.")


def test_apply_exits_1_when_a_deployment_is_left_stalled(runner, world, tmp_path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(world["stack"], stack)
    _set(stack / "worker.yaml", "desiredCount: 6", "desiredCount: 36")  # as many as the instances hold
    assert run(runner, ["apply", "-f", stack, "--state", world["state"], "--auto-approve"]).exit_code == 0
    _set(stack / "worker.yaml", "minimumHealthyPercent: 50", "minimumHealthyPercent: 100")  # no old task may stop first
    _set(stack / "worker.yaml", "worker:2.7.1", "worker:2.7.0")  # a tag its Repository holds
    result = run(runner, ["apply", "-f", stack, "--state", world["state"], "--auto-approve"])
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1] == (
        "Apply incomplete: deployment of service/prod/worker to worker:2 is stalled, 0 of its 36 tasks running; "
        "36 of worker:1 still running (new tasks cannot be placed (RESOURCE:CPU)).")
    # run again: nothing left to apply, but the deployment is still stalled, and the exit code says so
    again = run(runner, ["apply", "-f", stack, "--state", world["state"], "--auto-approve"])
    assert again.exit_code == 1, again.stdout
    assert again.stdout.strip().splitlines()[-1].startswith("Apply incomplete: deployment of service/prod/worker")
    document = run(runner, ["apply", "-f", stack, "--state", world["state"], "--auto-approve", "-o", "json"])
    assert document.exit_code == 1 and json.loads(document.stdout)["ok"] is False


def test_apply_of_what_was_asked_exits_0(runner, world, tmp_path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(world["stack"], stack)
    _set(stack / "web.yaml", "desiredCount: 3", "desiredCount: 4")
    result = run(runner, ["apply", "-f", stack, "--state", world["state"], "--auto-approve"])
    assert result.exit_code == 0 and result.stdout.strip().splitlines()[-1].startswith("Apply complete!")


@pytest.mark.parametrize("args, code", [
    (["get", "services"], 0),
    (["get", "service", "web"], 0),
    (["get", "service", "nope"], 1),
    (["get", "bogus"], 2),
    (["get", "tasks", "--status", "RUNING"], 2),
    (["get", "tasks", "--status", "stopped"], 0),
    (["describe", "service", "nope"], 1),
    (["rules", "explain", "E9999"], 2),
    (["nosuch"], 2),
    (["get"], 2),
])
def test_exit_code_table(runner, world, args, code) -> None:
    result = run(runner, [*args, "--state", world["state"]] if args[0] != "nosuch" else args)
    assert result.exit_code == code, (args, result.output)


# --- safety: nothing destroyed by accident -------------------------------------------------------


def test_plan_and_apply_refuse_a_folder_without_manifests(runner, world, tmp_path) -> None:
    before = len(json.loads(run(runner, ["state", "list", "--state", world["state"], "-o", "json"]).stdout))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "ci.yml").write_text("name: ci\non: push\njobs: {}\n")  # not a manifest: skipped
    for args in (["plan", "-f", empty], ["apply", "-f", empty, "--auto-approve"]):
        result = run(runner, [*args, "--state", world["state"]])
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines()[-1].startswith(f"error: no manifests in {empty}")
    destroyed = run(runner, ["destroy", "-f", empty, "--auto-approve", "--state", world["state"]])
    assert destroyed.exit_code == 1
    assert destroyed.stderr.strip().splitlines()[-1] == (
        f"error: no manifests in {empty}: destroy deletes what the manifests describe, and nothing here describes anything")
    listed = json.loads(run(runner, ["state", "list", "--state", world["state"], "-o", "json"]).stdout)
    assert len(listed) == before  # nothing was destroyed


def test_destroy_deletes_what_the_manifests_describe_and_what_refers_to_it(runner, world) -> None:
    plan = run(runner, ["plan", "--destroy", "-f", world["web"], "--state", world["state"], "-o", "json"])
    assert plan.exit_code == 0
    deletes = {c["address"] for c in json.loads(plan.stdout)["changes"] if c["action"] == "delete"}
    assert deletes == {"taskdef/web", "service/prod/web", "targetgroup/web"}
    refused = run(runner, ["destroy", "-f", world["web"], "--state", world["state"]])  # no terminal, no --auto-approve
    assert refused.exit_code == 2 and "pass --auto-approve to destroy without asking" in refused.stderr
    done = run(runner, ["destroy", "-f", world["web"], "--state", world["state"], "--auto-approve"])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().splitlines()[-1].startswith("Destroy complete! 3 step(s)")
    left = {r["address"] for r in json.loads(run(runner, ["state", "list", "--state", world["state"], "-o", "json"]).stdout)}
    assert not deletes & left and "service/prod/worker" in left
    again = run(runner, ["destroy", "-f", world["web"], "--state", world["state"], "--auto-approve"])
    assert again.exit_code == 0 and "Nothing to destroy" in again.stdout


def test_destroying_a_cluster_takes_what_runs_in_it(runner, world, tmp_path) -> None:
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(next(d for d in (Path(world["stack"]) / "cluster.yaml").read_text().split("\n---\n")
                            if "kind: Cluster" in d))
    plan = json.loads(run(runner, ["plan", "--destroy", "-f", cluster, "--state", world["state"], "-o", "json"]).stdout)
    deletes = {c["address"]: c["reason"] for c in plan["changes"] if c["action"] == "delete"}
    assert {"cluster/prod", "service/prod/web", "service/prod/worker", "scheduledtask/nightly-report"} <= set(deletes)
    assert deletes["service/prod/web"] == "destroy: refers to cluster/prod, which is destroyed"


# --- hints and readers ---------------------------------------------------------------------------


@pytest.mark.parametrize("args, hint", [
    (["apply", "{stack}"], "did you mean `ecsctl apply -f {stack}`?"),
    (["apply", "{web}"], "did you mean `ecsctl apply -f {web}`?"),
    (["plan", "{stack}"], "did you mean `ecsctl plan -f {stack}`?"),
    (["destroy", "{stack}"], "did you mean `ecsctl destroy -f {stack}`?"),
    (["show", "{web}"], "did you mean `ecsctl plan -f {web}`?"),
])
def test_common_slips_get_a_hint(runner, world, args, hint) -> None:
    result = run(runner, fill(args, world))
    assert result.exit_code == 2 and result.stderr.strip().endswith(hint.format(**world))


@pytest.mark.parametrize("args", [
    ["get", "services"], ["describe", "service", "web"], ["state", "list"], ["state", "pull"],
    ["rollout", "status", "web"], ["tick", "5m"], ["stop-task", "0123456789"], ["destroy", "-f", "{web}", "--auto-approve"],
    ["run-task", "--cluster", "prod", "--task-definition", "worker"], ["instances", "drain", "abcdef"],
])
def test_reading_or_acting_on_a_state_that_does_not_exist(runner, world, args) -> None:
    missing = world["tmp"] / "nothing.db"
    result = run(runner, [*fill(args, world), "--state", missing])
    assert result.exit_code == 1
    assert result.stderr == f"error: no state at {missing}; run apply first\n"
    assert not missing.exists()


def test_get_and_describe_take_the_identifiers_the_acting_commands_take(runner, world) -> None:
    state = world["state"]
    tasks = json.loads(run(runner, ["get", "tasks", "--state", state, "-o", "json"]).stdout)
    task = next(t for t in tasks if t["id"] == world["task"])
    arn = f"arn:aws:ecs:eu-west-1:123456789012:task/prod/{task['id']}"
    for ident in (task["id"], task["id"][:10], arn):
        got = json.loads(run(runner, ["get", "task", ident, "--state", state, "-o", "json"]).stdout)
        assert [t["id"] for t in got] == [task["id"]], ident
    instances = json.loads(run(runner, ["get", "instances", "--state", state, "-o", "json"]).stdout)
    inst = next(i for i in instances if i["id"] == world["instance"])
    for ident in (inst["id"], inst["id"][:8], inst["ec2InstanceId"],
                  f"arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/{inst['id']}"):
        got = json.loads(run(runner, ["get", "instance", ident, "--state", state, "-o", "json"]).stdout)
        assert [i["id"] for i in got] == [inst["id"]], ident
        described = json.loads(run(runner, ["describe", "instance", ident, "--state", state, "-o", "json"]).stdout)
        assert described["id"] == inst["id"] and described["tasks"]
    for ident in (["service", "web"], ["service/prod/web"], ["service", "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"]):
        got = json.loads(run(runner, ["get", *ident, "--state", state, "-o", "json"]).stdout)
        assert [(s["cluster"], s["name"]) for s in got] == [("prod", "web")], ident
    assert [t["revision"] for t in json.loads(run(runner, ["get", "taskdef", "web:1", "--state", state, "-o", "json"]).stdout)] == [1]
    missing = run(runner, ["get", "service", "webb", "--state", state])
    assert missing.exit_code == 1 and missing.stdout == ""
    assert missing.stderr == 'error: service "webb" not found (`ecsctl get services` lists them)\n'
    # an address `state list` prints, of what get does not list, points to describe (a helper's trial)
    other = run(runner, ["get", "targetgroup/web", "--state", state])
    assert other.exit_code == 2 and other.stderr.strip().endswith(
        "`ecsctl describe targetgroup/NAME` shows a TargetGroup, `ecsctl state list` lists them")


def test_describe_shows_what_the_state_knows(runner, world) -> None:
    state = world["state"]
    svc = json.loads(run(runner, ["describe", "service", "web", "--state", state, "-o", "json"]).stdout)
    assert (svc["kind"], svc["cluster"], svc["desiredCount"], svc["runningCount"]) == ("Service", "prod", 3, 3)
    assert [d["status"] for d in svc["deployments"]] == ["PRIMARY"] and svc["deployments"][0]["rolloutState"] == "COMPLETED"
    [lb] = svc["loadBalancers"]
    assert lb["targetGroup"] == "web" and len(lb["targets"]) == 3 and svc["events"] and len(svc["tasks"]) == 3
    task = json.loads(run(runner, ["describe", "task", world["task"], "--state", state, "-o", "json"]).stdout)
    assert task["roles"]["executionRoleArn"] and task["network"]["mode"] == "bridge"
    mapped = [p for c in task["containers"] for p in c["portMappings"]]
    assert [p["hostPort"] for p in mapped] == task["hostPorts"] and all(32768 <= p <= 61000 for p in task["hostPorts"])
    text = run(runner, ["describe", "service", "web", "--state", state])
    assert text.exit_code == 0 and "Deployments:" in text.stdout and "Load Balancers:" in text.stdout
    param = json.loads(run(runner, ["describe", 'parameter/"/prod/web/db-host"', "--state", state, "-o", "json"]).stdout)
    assert param["address"] == 'parameter/"/prod/web/db-host"' and param["name"] == "/prod/web/db-host"


def test_addresses_quote_names_with_slashes_everywhere(runner, world) -> None:
    listed = run(runner, ["state", "list", "--state", world["state"]]).stdout.split()
    assert 'parameter/"/prod/web/db-host"' in listed and 'secret/"prod/web/db"' in listed
    assert not [a for a in listed if "//" in a]
    plan = run(runner, ["plan", "--destroy", "-f", world["stack"], "--state", world["state"]])
    assert '- parameter/"/prod/web/db-host"' in plan.stdout


def test_a_state_from_an_older_ecsctl_plans_no_change_and_apply_renames_its_addresses(runner, world) -> None:
    from ecsctl.storage.sqlite_store import SqliteStateStore

    with SqliteStateStore(world["state"]) as store, store.transaction():
        r = store.get_resource('parameter/"/prod/web/db-host"')
        store.delete_resource(r.address)
        store.put_resource("parameter//prod/web/db-host", r.kind, r.name, r.spec)  # as ecsctl 0.1 wrote it
    assert run(runner, ["plan", "-f", world["stack"], "--state", world["state"], "--detailed-exitcode"]).exit_code == 0
    assert run(runner, ["apply", "-f", world["stack"], "--state", world["state"], "--auto-approve"]).exit_code == 0
    listed = run(runner, ["state", "list", "--state", world["state"]]).stdout.split()
    assert 'parameter/"/prod/web/db-host"' in listed and "parameter//prod/web/db-host" not in listed


def test_show_prints_a_saved_plan_without_applying_it(runner, world) -> None:
    plan_file = f"{world['tmp']}/plan.json"
    web = Path(world["web"])
    web.write_text(web.read_text().replace("desiredCount: 3", "desiredCount: 5"))
    try:
        assert run(runner, ["plan", "-f", world["stack"], "--state", world["state"], "--out", plan_file]).exit_code == 0
    finally:
        web.write_text(web.read_text().replace("desiredCount: 5", "desiredCount: 3"))
    shown = run(runner, ["show", plan_file, "--state", world["state"]])
    assert shown.exit_code == 0 and "desiredCount: 3 -> 5" in shown.stdout
    as_json = json.loads(run(runner, ["show", plan_file, "-o", "json"]).stdout)
    assert as_json["summary"]["update"] == 1
    services = json.loads(run(runner, ["get", "services", "--state", world["state"], "-o", "json"]).stdout)
    assert {s["name"]: s["desiredCount"] for s in services}["web"] == 3  # nothing applied


def test_run_task_failures_carry_an_arn(runner, world) -> None:
    result = run(runner, ["run-task", "--cluster", "prod", "--task-definition", "worker", "--launch-type", "EC2",
                          "--count", "10", "--state", world["state"], "-o", "json"])
    for _ in range(5):  # fill the cluster until placements fail
        if json.loads(result.stdout)["failures"]:
            break
        result = run(runner, ["run-task", "--cluster", "prod", "--task-definition", "worker", "--launch-type", "EC2",
                              "--count", "10", "--state", world["state"], "-o", "json"])
    failures = json.loads(result.stdout)["failures"]
    assert failures
    for f in failures:
        assert f["arn"].startswith("arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/") and f["reason"]


# --- no internal error, no traceback, whatever the arguments -------------------------------------

BAD = [
    (["validate", "does-not-exist.yaml"], 2),
    (["validate", "{stack}", "-o", "xml"], 2),
    (["validate", "{stack}", "--state", "{state}", "--exclude"], 2),
    (["validate"], 2),
    (["plan"], 2),
    (["plan", "-f", "does-not-exist"], 2),
    (["plan", "-f", "{stack}", "--out", "/nonexistent-folder/plan.json"], 2),
    (["plan", "-f", "{stack}", "--out", "{tmp}"], 2),
    (["plan", "-f", "{stack}", "--state", "{tmp}"], 1),
    (["plan", "-f", "{stack}", "--state", "{web}"], 1),
    (["plan", "-f", "{stack}", "-o", "sarif"], 2),
    (["apply"], 2),
    (["apply", "{tmp}/nothing.json", "--auto-approve"], 2),
    (["apply", "{garbage}", "--auto-approve"], 1),
    (["apply", "{garbage}", "-f", "{stack}"], 2),
    (["apply", "-f", "{stack}", "--auto-approve", "--state", "/dev/null/state.db"], 1),
    (["destroy"], 2),
    (["destroy", "-f", "does-not-exist", "--auto-approve"], 2),
    (["show"], 2),
    (["show", "{tmp}/nothing.json"], 2),
    (["show", "{garbage}"], 1),
    (["show", "{tmp}"], 2),
    (["get", "bogus"], 2),
    (["get", "tasks", "--status", "bogus"], 2),
    (["get", "services", "--filter", "x == y"], 2),
    (["get", "instances", "--filter", "attribute:x =="], 2),
    (["get", "services", "--state", "{tmp}"], 1),
    (["get", "services", "--state", "{garbage}"], 1),
    (["get", "taskdef", "web:x"], 1),
    (["describe"], 2),
    (["describe", "service"], 2),
    (["describe", "bogus", "x"], 2),
    (["describe", 'parameter/"unterminated'], 2),
    (["describe", "task", "abc"], 1),
    (["run-task", "--cluster", "prod", "--task-definition", "worker", "--count", "0"], 2),
    (["run-task", "--cluster", "nope", "--task-definition", "worker"], 1),
    (["run-task", "--cluster", "prod", "--task-definition", "worker", "--placement-strategy", "pack:x"], 2),
    (["stop-task", "nope"], 1),
    (["tick", "1x"], 2),
    (["tick", "99999d"], 2),
    (["state", "pull", "--state", "{tmp}/nothing.db"], 1),
    (["state", "push", "{garbage}"], 1),
    (["state", "push", "{tmp}/nothing.json"], 2),  # a missing path: usage, as for apply and show
    (["state", "list", "-o", "xml"], 2),
    (["state", "unlock", "not-the-id"], 1),
    (["state", "verify", "--state", "{tmp}/nothing.db"], 1),
    (["instances", "drain", "nope"], 1),
    (["instances", "activate"], 2),
    (["instances", "stop", "nope"], 1),
    (["instances", "start", "nope"], 1),
    (["instances", "terminate", "nope"], 1),
    (["instances", "deregister", "nope"], 1),
    (["rollout", "status", "nope"], 1),
    (["rollout", "history", "web", "-o", "xml"], 2),
    (["rollout", "undo", "web"], 1),
    (["rules", "-o", "xml"], 2),
    (["rules", "explain", "NOPE"], 2),
    (["schema", "export", "{web}"], 1),
    (["schema", "export", "/dev/null/schemas"], 1),
    (["schema", "export"], 2),
    (["ecr", "login", "-o", "xml"], 2),
    (["render"], 2),
    (["render", "-f", "{stack}", "--to", "nomad"], 2),
    (["render", "-f", "does-not-exist"], 2),
    (["import"], 2),
    (["view", "--port", "8080"], 2),
    (["view", "-f", "does-not-exist"], 2),
    (["view", "--state", "{garbage}"], 1),
    (["view", "--out", "{tmp}"], 1),
    (["import", "{garbage}", "--no-state"], 1),
    (["ecr", "login", "--registry", "docker.io"], 2),
    (["events", "put", "--source", "aws.s3", "--detail-type", "Object Created", "--detail", "{{not json"], 2),
    (["events", "put", "--source", "aws.s3", "--detail-type", "Object Created", "--detail", "[1]"], 2),
    (["events", "put", "--source", "aws.s3"], 2),
    (["scale", "simulate", "-f", f"{SCALING}/web.yaml", "--service", "nope", "--metrics", f"{SCALING}/cpu.csv"], 1),
    (["scale", "simulate", "-f", f"{SCALING}/web.yaml", "--service", "web", "--metrics", "{tmp}/missing.csv"], 1),
    (["scale", "simulate", "-f", f"{SCALING}/web.yaml", "--service", "web", "--metrics", f"{SCALING}/cpu.csv", "-o", "xml"], 2),
    (["metrics", "put", "--service", "nope", "--metric", "x", "--value", "1"], 1),
    (["metrics", "put", "--service", "web", "--metric", "x"], 2),
    (["metrics", "put", "--service", "web", "--file", "{tmp}/missing.csv"], 1),
    (["get", "scaling", "nope"], 1),
]


@pytest.mark.parametrize("args, code", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_arguments_are_one_line_never_an_internal_error(runner, world, args, code) -> None:
    garbage = world["tmp"] / "garbage.json"
    garbage.write_text("{not json\n")
    argv = fill(args, {**world, "garbage": str(garbage)})
    if "--state" not in argv:
        argv += ["--state", world["state"]]
    result = run(runner, argv)
    assert result.exit_code == code, (argv, result.stdout, result.stderr)
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- a newcomer's walk ---------------------------------------------------------------------------


def test_a_newcomers_walk_from_the_readme_to_destroy(runner, tmp_path, monkeypatch) -> None:
    """The README's first command (validate, apply), then what a newcomer tries next."""
    shutil.copytree(MANIFESTS, tmp_path / "manifests")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ECSCTL_STATE", raising=False)
    checked = run(runner, ["validate", "manifests/"])
    assert checked.exit_code == 0
    n = json.loads(run(runner, ["validate", "manifests/", "-o", "json"]).stdout)["documents"]
    applied = run(runner, ["apply", "-f", "manifests/", "--auto-approve"])
    assert applied.exit_code == 0 and applied.stdout.strip().splitlines()[-1].startswith(f"Apply complete! {n} step(s)")
    assert Path(".ecsctl/state.db").is_file()
    assert run(runner, ["plan", "-f", "manifests/", "--detailed-exitcode"]).exit_code == 0
    services = run(runner, ["get", "services"])
    assert services.exit_code == 0 and services.stdout.splitlines()[0].split()[:2] == ["NAME", "CLUSTER"]
    assert run(runner, ["describe", "service", "web"]).exit_code == 0
    assert run(runner, ["rollout", "status", "web"]).exit_code == 0
    assert run(runner, ["tick", "15m"]).exit_code == 0
    slip = run(runner, ["apply", "manifests/"])
    assert slip.exit_code == 2 and "did you mean `ecsctl apply -f manifests/`?" in slip.stderr
    destroyed = run(runner, ["destroy", "-f", "manifests/", "--auto-approve"])
    assert destroyed.exit_code == 0, destroyed.output
    assert destroyed.stdout.strip().splitlines()[-1].startswith(f"Destroy complete! {n} step(s)")
    assert run(runner, ["state", "list"]).stdout == ""
    assert run(runner, ["get", "tasks", "--status", "RUNNING", "-o", "json"]).stdout.strip() == "[]"
