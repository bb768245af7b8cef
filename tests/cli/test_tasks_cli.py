"""run-task, stop-task and tick through Typer, on a state made by applying a copy of manifests/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ecsctl.backends.local import check_invariants
from ecsctl.cli.app import app as main_app
from ecsctl.cli.commands import tasks
from ecsctl.cli.options import EcsctlTyper
from ecsctl.storage.sqlite_store import SqliteStateStore

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"

app = EcsctlTyper()
app.command("run-task")(tasks.run_task)
app.command("stop-task")(tasks.stop_task)
app.command("tick")(tasks.tick)


@pytest.fixture
def state(tmp_path: Path, runner) -> str:
    stack = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, stack)
    path = str(tmp_path / "state" / "state.db")
    result = runner.invoke(main_app, ["apply", "-f", str(stack), "--state", path, "--auto-approve"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    yield path
    s = SqliteStateStore(path, create=False)
    try:
        assert check_invariants(s) == []
    finally:
        s.close()


def run(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def get(runner, state: str, kind: str, *extra: str) -> list[dict]:
    result = runner.invoke(main_app, ["get", kind, *extra, "--state", state, "-o", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_run_task_json_on_ec2(runner, state):
    result = run(runner, "run-task", "--cluster", "prod", "--task-definition", "worker", "--count", "2",
                 "--launch-type", "EC2", "--placement-constraint", "memberOf:attribute:tier == general",
                 "--placement-strategy", "spread:attribute:ecs.availability-zone", "--state", state, "-o", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["failures"] == [] and len(out["tasks"]) == 2
    for t in out["tasks"]:
        assert {"id", "cluster", "group", "taskDefinition", "instance", "availabilityZone", "lastStatus",
                "stopReason", "hostPorts"} <= set(t)
        assert t["group"] == "family:worker" and t["taskDefinition"] == "worker:1" and t["lastStatus"] == "RUNNING"
        assert t["instance"] and all(32768 <= p <= 61000 for p in t["hostPorts"])
    ids = {t["id"] for t in get(runner, state, "tasks")}
    assert {t["id"] for t in out["tasks"]} <= ids


def test_run_task_text_on_fargate_with_subnets(runner, state):
    result = run(runner, "run-task", "--cluster", "prod", "--task-definition", "report:1", "--group", "reports",
                 "--subnets", "subnet-a,subnet-b", "--state", state)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("started ") and "reports" in lines[0] and "FARGATE" in lines[0]
    task = next(t for t in get(runner, state, "tasks") if t["group"] == "reports")
    assert task["instance"] is None and task["availabilityZone"] == "eu-west-1a"
    assert task["subnet"] == "subnet-a" and task["privateIp"].startswith("10.")
    bridge = next(t for t in get(runner, state, "tasks") if t["group"] == "service:worker")
    assert bridge["subnet"] is None and bridge["privateIp"] is None
    text = runner.invoke(main_app, ["get", "tasks", "--state", state], catch_exceptions=False).stdout
    header, *rows = text.splitlines()
    assert " IP " in header and header.index("AZ") < header.index(" IP ") < header.index("STATUS")
    assert any(task["id"] in row and task["privateIp"] in row for row in rows)


def test_run_task_failures_are_printed_and_exit_one(runner, state):
    # distinctInstance on the six instances: 6 start, 4 fail; fewer run than asked: exit 1
    result = run(runner, "run-task", "--cluster", "prod", "--task-definition", "worker", "--launch-type", "EC2",
                 "--count", "10", "--group", "one-each", "--placement-constraint", "distinctInstance",
                 "--state", state)
    assert result.exit_code == 1, result.output
    assert result.stderr == "run-task: 4 of 10 tasks were not started (DISTINCT_INSTANCE)\n"
    lines = result.stdout.splitlines()
    assert sum(line.startswith("started ") for line in lines) == 6
    failed = [line for line in lines if line.startswith("failed ")]
    assert len(failed) == 4 and all("DISTINCT_INSTANCE" in line for line in failed)


@pytest.mark.parametrize("args, code, message", [
    (["--count", "11"], 2, "count must be between 1 and 10"),
    (["--task-definition", "report"], 2, "Network Configuration must be provided when networkMode 'awsvpc' is specified."),
    (["--placement-strategy", "binpack"], 2, "invalid placement strategy"),
    (["--placement-constraint", "nearby:x"], 2, "invalid placement constraint"),
    (["--task-definition", "missing"], 1, "has no ACTIVE revision"),
    (["-o", "xml"], 2, "unknown output format"),
])
def test_run_task_errors_are_one_line(runner, state, args, code, message):
    base = ["run-task", "--cluster", "prod", "--task-definition", "worker", "--launch-type", "EC2", "--state", state]
    result = run(runner, *base, *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_stop_task_then_tick_replaces_the_service_task(runner, state):
    worker = [t for t in get(runner, state, "tasks") if t["group"] == "service:worker" and t["lastStatus"] == "RUNNING"]
    victim = worker[0]["id"]
    stopped = run(runner, "stop-task", victim, "--reason", "chaos test", "--state", state, "-o", "json")
    assert stopped.exit_code == 0, stopped.output
    out = json.loads(stopped.stdout)
    assert out["changed"] and out["task"]["lastStatus"] == "STOPPED" and out["task"]["stopReason"] == "chaos test"
    services = {s["name"]: s for s in get(runner, state, "services")}
    assert services["worker"]["runningCount"] == 5  # not replaced yet
    ticked = run(runner, "tick", "2m", "--state", state)
    assert ticked.exit_code == 0, ticked.output
    lines = ticked.stdout.splitlines()
    assert lines[0] == "clock 2026-01-01T00:00:00Z -> 2026-01-01T00:02:00Z"
    assert sum(line.startswith("started ") for line in lines) == 1
    assert any("service (worker) has started 1 tasks" in line for line in lines)
    services = {s["name"]: s for s in get(runner, state, "services")}
    assert services["worker"]["runningCount"] == 6
    tasks_now = {t["id"]: t for t in get(runner, state, "tasks", "--all")}
    assert tasks_now[victim]["lastStatus"] == "STOPPED"
    # every state is listed, STOPPED ones with their stopReason (DESIGN §4); --status filters
    assert tasks_now == {t["id"]: t for t in get(runner, state, "tasks")} and tasks_now[victim]["stopReason"]
    assert victim not in {t["id"] for t in get(runner, state, "tasks", "--status", "RUNNING")}
    assert victim in {t["id"] for t in get(runner, state, "tasks", "--status", "STOPPED")}
    assert [t["id"] for t in get(runner, state, "tasks", victim)] == [victim]


def test_stop_task_text_and_again(runner, state):
    started = json.loads(run(runner, "run-task", "--cluster", "prod", "--task-definition", "worker",
                             "--launch-type", "EC2", "--state", state, "-o", "json").stdout)
    tid = started["tasks"][0]["id"]
    first = run(runner, "stop-task", tid[:12], "--state", state)
    assert first.exit_code == 0 and first.stdout.startswith(f"stopped {tid}") and "Task stopped by user" in first.stdout
    again = run(runner, "stop-task", tid, "--state", state)
    assert again.exit_code == 0 and "already STOPPED" in again.stdout
    missing = run(runner, "stop-task", "deadbeefdeadbeef", "--state", state)
    assert missing.exit_code == 1 and "not found" in missing.stderr


@pytest.mark.parametrize("bad", ["15", "30m1h", "1h1h", "1.5h", "-5m", "2w", "1h 30m", ""])
def test_tick_refuses_bad_durations(runner, state, bad):
    result = run(runner, "tick", "--state", state, "--", bad)
    assert result.exit_code == 2, result.output
    assert "invalid duration" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_negative_tick_says_the_clock_only_moves_forward(runner, state):
    """``tick -1m`` reaches the parser as an option ``-1``; the user meant a duration."""
    result = runner.invoke(main_app, ["tick", "-1m", "--state", state], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: the simulated clock only moves forward: give tick a positive DURATION such as "
                             "15m (see 'ecsctl tick --help')\n")
    other = runner.invoke(main_app, ["get", "-5", "--state", state], catch_exceptions=False)
    assert other.exit_code == 2 and "put '--' before it" in other.stderr


def test_tick_json(runner, state):
    result = run(runner, "tick", "1d", "--state", state, "-o", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["from"], out["to"]) == ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")
    # Thursday 08:00 in Paris (07:00Z), web's scheduled action raises its floor from 3 to 6 tasks;
    # the example stack's nightly report fired at 02:00 Paris time (01:00Z), ran its 12 minutes and stopped.
    assert [(a["time"], a["cause"]) for a in out["scaling"] if a["service"] == "web"][:2] == [
        ("2026-01-01T07:00:00Z", "scheduled action name business-hours was triggered"),
        ("2026-01-01T07:00:00Z", "minimum capacity was set to 6")]
    # the worker tracks the backlog per task of the queue it drains: quiet at night, it scales in
    # to its minimum; the morning's arrivals scale it out again
    worker = [a for a in out["scaling"] if a["service"] == "worker"]
    assert worker[0]["cause"] == "monitor alarm worker-backlog-in in state ALARM triggered policy worker-backlog-in"
    assert worker[0]["desiredCount"] == worker[0]["previousDesiredCount"] - 1
    assert any(a["cause"].startswith("monitor alarm worker-backlog-out") for a in worker)
    (report,) = [t for t in out["started"] if t["group"] == "family:report"]
    (firing,) = [f for f in out["firings"] if f["rule"] == "nightly-report"]
    assert (firing["time"], firing["trigger"], firing["tasks"]) == ("2026-01-01T01:00:00Z", "schedule", [report["id"]])
    assert [t["group"] for t in out["started"] if t["group"] == "service:web"] == ["service:web"] * 3
    assert {t["group"] for t in out["started"] if t is not report} == {"service:web", "service:worker"}
    assert report["id"] in [t["id"] for t in out["stopped"]]
    assert {t["group"] for t in out["stopped"] if t["id"] != report["id"]} == {"service:worker"}
    again = json.loads(run(runner, "tick", "90s", "--state", state, "-o", "json").stdout)
    assert again["to"] == "2026-01-02T00:01:30Z"


def test_run_task_run_for_and_exit_code_finish_the_task_on_tick(runner, state):
    started = json.loads(run(runner, "run-task", "--cluster", "prod", "--task-definition", "worker", "--launch-type", "EC2",
                             "--run-for", "5m", "--exit-code", "2", "--state", state, "-o", "json").stdout)
    (task,) = started["tasks"]
    assert run(runner, "tick", "10m", "--state", state).exit_code == 0
    rows = [t for t in get(runner, state, "tasks", "--all") if t["id"] == task["id"]]
    assert [(t["lastStatus"], t["stopCode"], t["exitCode"]) for t in rows] == [("STOPPED", "EssentialContainerExited", 2)]
    bad = run(runner, "run-task", "--cluster", "prod", "--task-definition", "worker", "--run-for", "soon", "--state", state)
    assert bad.exit_code == 2 and "runFor 'soon' is not a duration" in bad.stderr


def test_tick_text_is_in_the_clocks_order_with_rule_firings(runner, state):
    """The nightly report (02:00 in Paris, 01:00Z) fires, starts, runs its 12 minutes and stops:
    the text says so in that order, the firing before the start it caused."""
    lines = run(runner, "tick", "2h", "--state", state).stdout.splitlines()
    assert lines[0] == "clock 2026-01-01T00:00:00Z -> 2026-01-01T02:00:00Z"
    fired = next(i for i, line in enumerate(lines) if line.startswith("rule    2026-01-01T01:00:00Z  rule (nightly-report) fired"))
    started = next(i for i, line in enumerate(lines) if line.startswith("started ") and "family:report" in line)
    stopped = next(i for i, line in enumerate(lines) if line.startswith("stopped ") and "family:report" in line)
    assert fired < started < stopped


def test_task_and_instance_ids_are_named_by_a_prefix_of_6_characters(runner, state):
    """One rule for both kinds of id (README, ``get`` NAME): 6 characters or more name a task or
    an instance; fewer say so instead of a bare "not found"."""
    task = next(t for t in get(runner, state, "tasks") if t["lastStatus"] == "RUNNING")
    inst = get(runner, state, "instances")[0]
    for args in (["get", "tasks", task["id"][:6]], ["describe", "task", task["id"][:6]]):
        found = runner.invoke(main_app, [*args, "--state", state], catch_exceptions=False)
        assert found.exit_code == 0 and task["id"] in found.stdout, found.output
    got = runner.invoke(main_app, ["get", "instances", inst["id"][:6], "--state", state, "-o", "json"], catch_exceptions=False)
    assert got.exit_code == 0 and json.loads(got.stdout)[0]["id"] == inst["id"]
    short = runner.invoke(main_app, ["get", "tasks", task["id"][:5], "--state", state], catch_exceptions=False)
    assert short.exit_code == 1
    assert short.stderr == f'error: task "{task["id"][:5]}" not found (an id prefix needs 6 characters or more)\n'
    stop = run(runner, "stop-task", task["id"][:5], "--state", state)
    assert stop.exit_code == 1 and "an id prefix needs 6 characters or more" in stop.stderr
    stopped = run(runner, "stop-task", task["id"][:6], "--state", state)
    assert stopped.exit_code == 0 and task["id"] in stopped.stdout


def ctrl_c_at(minute: int):
    """A tick handler that raises KeyboardInterrupt at the ``minute``-th minute (no timing), and
    the minutes it saw."""
    calls: list = []

    def ctrl_c(world, a, b):
        calls.append(b)
        if len(calls) == minute:
            raise KeyboardInterrupt

    return ctrl_c, calls


def test_an_interrupted_tick_says_where_the_clock_stands(runner, state, monkeypatch):
    """Ctrl-C in the middle of a long tick: exit 130, one line with the clock as committed, and a
    tick again moves on from there (a handler raises KeyboardInterrupt at the 4th minute: no timing)."""
    from ecsctl.backends.local import tasks as sim
    from ecsctl.storage.sqlite_store import SqliteStateStore

    with SqliteStateStore(state, create=False) as store:
        start = store.clock()
    ctrl_c, calls = ctrl_c_at(4)
    monkeypatch.setattr(sim, "TICK_HANDLERS", [*sim.TICK_HANDLERS, ctrl_c])
    result = run(runner, "tick", "1h", "--state", state)
    assert result.exit_code == 130, result.output
    with SqliteStateStore(state, create=False) as store:
        clock = store.clock()
        assert check_invariants(store) == []
    assert start <= clock < sim.format_clock(calls[-1])  # minutes that changed nothing commit with the next
    assert result.stderr == (f"interrupted: the clock stands at {clock}; every minute up to it is committed "
                             "(ecsctl tick again moves on from there)\n")



@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_interrupted_tick_prints_what_its_committed_minutes_did(runner, state, monkeypatch, fmt):
    """The minutes before Ctrl-C are in the state; their starts, stops and events are printed (a
    script reading the output would otherwise lose them), up to the clock as committed: a task
    stopped at the first minute, which its service replaces, then Ctrl-C at the 4th."""
    from ecsctl.backends.local import tasks as sim
    from ecsctl.storage.sqlite_store import SqliteStateStore

    victim = next(t for t in get(runner, state, "tasks") if t["group"] == "service:worker" and t["lastStatus"] == "RUNNING")
    assert run(runner, "stop-task", victim["id"], "--state", state).exit_code == 0
    ctrl_c, calls = ctrl_c_at(4)
    monkeypatch.setattr(sim, "TICK_HANDLERS", [*sim.TICK_HANDLERS, ctrl_c])
    result = run(runner, "tick", "1h", "--state", state, "-o", fmt)
    assert result.exit_code == 130 and result.stderr.startswith("interrupted: the clock stands at ")
    with SqliteStateStore(state, create=False) as store:
        clock = store.clock()
    started = [t for t in get(runner, state, "tasks")
               if t["group"] == "service:worker" and t["lastStatus"] == "RUNNING" and t["id"] != victim["id"]]
    replacement = max(started, key=lambda t: t["startedAt"])
    if fmt == "json":
        out = json.loads(result.stdout)
        assert out["to"] == clock and out["interrupted"].startswith(f"the clock stands at {clock};")
        assert replacement["id"] in [t["id"] for t in out["started"]]
        assert all(t["startedAt"] <= clock for t in out["started"])
    else:
        assert result.stdout.splitlines()[0].endswith(f"-> {clock}")
        assert f"started {replacement['id']}" in result.stdout


def test_run_task_of_a_task_that_cannot_start_exits_one(runner, state, tmp_path):
    """An image tag its repository does not hold: ECS creates the tasks and stops them at once
    (TaskFailedToStart, CannotPullContainerError); none of them runs, so the command fails."""
    stack = tmp_path / "manifests"
    (stack / "broken.yaml").write_text(
        "apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: broken}\nspec:\n"
        "  requiresCompatibilities: [EC2]\n  networkMode: bridge\n  containerDefinitions:\n"
        "    - {name: app, image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:9.9.9, essential: true,"
        " cpu: 128, memory: 256}\n")
    applied = runner.invoke(main_app, ["apply", "-f", str(stack), "--state", state, "--auto-approve"], catch_exceptions=False)
    assert applied.exit_code == 0, applied.output
    result = run(runner, "run-task", "--cluster", "prod", "--task-definition", "broken", "--launch-type", "EC2",
                 "--count", "2", "--state", state, "-o", "json")
    assert result.exit_code == 1, result.output
    assert {t["stopCode"] for t in json.loads(result.stdout)["tasks"]} == {"TaskFailedToStart"}
    assert result.stderr == "run-task: 2 of 2 tasks were not started (TaskFailedToStart)\n"
    text = run(runner, "run-task", "--cluster", "prod", "--task-definition", "broken", "--launch-type", "EC2",
               "--state", state)
    assert text.exit_code == 1 and text.stdout.startswith("stopped ")
    assert ": TaskFailedToStart: CannotPullContainerError" in text.stdout and "started" not in text.stdout


def test_ctrl_c_after_the_last_minute_still_says_where_the_clock_stands(runner, state, monkeypatch):
    """Ctrl-C in the tick's last bookkeeping (after every minute ran, before the clock's last
    commit): the same exit 130, the clock as committed, and what the committed minutes did."""
    from ecsctl.backends.local import backend as local
    from ecsctl.storage.sqlite_store import SqliteStateStore

    def ctrl_c(world):
        raise KeyboardInterrupt

    monkeypatch.setattr(local.scaling, "flush", ctrl_c)
    result = run(runner, "tick", "10m", "--state", state, "-o", "json")
    with SqliteStateStore(state, create=False) as store:
        clock = store.clock()
    assert result.exit_code == 130
    assert result.stderr.startswith(f"interrupted: the clock stands at {clock}; every minute up to it is committed")
    out = json.loads(result.stdout)
    assert out["to"] == clock and out["interrupted"].startswith(f"the clock stands at {clock}")
