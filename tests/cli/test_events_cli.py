"""``ecsctl events put`` and ``ecsctl get events`` on the example stack's batch jobs.

The scenario of the seed: "an upload to S3 sends an event that starts a Fargate task which
does its job and shuts down".  The event is S3's "Object Created" as EventBridge delivers it
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html); the rule is the
example stack's ``ingest-on-upload`` (``manifests/batch.yaml``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsctl.cli.app import app

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
UPLOAD = {"version": "0", "bucket": {"name": "acme-prod-uploads"},
          "object": {"key": "incoming/2026/01/01/batch-0042.csv", "size": 5242880, "etag": "b1946ac92492d2347c6235b4d2611184"},
          "request-id": "57H08PA84AB1JZW0", "requester": "123456789012", "reason": "PutObject"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def state(tmp_path: Path) -> str:
    """The batch jobs alone (cluster, network, catalogue, batch): no service runs."""
    stack = tmp_path / "stack"
    stack.mkdir()
    for name in ("cluster", "network", "catalogue", "batch"):
        shutil.copy(MANIFESTS / f"{name}.yaml", stack)
    path = str(tmp_path / "state.db")
    result = run("apply", "-f", str(stack), "--state", path, "--auto-approve")
    assert result.exit_code == 0, result.output
    return path


def tasks(state: str, *extra: str) -> list[dict]:
    return json.loads(run("get", "tasks", "--state", state, "-o", "json", *extra).stdout)


def put(state: str, detail: dict, source: str = "aws.s3", detail_type: str = "Object Created") -> dict:
    result = run("events", "put", "--source", source, "--detail-type", detail_type, "--detail", json.dumps(detail),
                 "--state", state, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_object_lands_in_the_bucket_a_task_runs_and_stops_and_the_cluster_is_idle(state) -> None:
    out = put(state, UPLOAD)
    assert out["matched"] == ["ingest-on-upload"]
    (task,) = out["tasks"]
    assert (task["lastStatus"], task["launchType"], task["startedBy"]) == ("RUNNING", "FARGATE", "events-rule/ingest-on-upload")
    assert task["taskRoleArn"].endswith("role/prod-ingest-task")
    assert task["executionRoleArn"].endswith("role/prod-ecs-task-execution")
    assert out["event"]["source"] == "aws.s3" and out["event"]["detail"] == UPLOAD
    # the input transformer handed the task the bucket and key of the object
    described = json.loads(run("describe", "task", task["id"], "--state", state, "-o", "json").stdout)
    (override,) = described["overrides"]["containerOverrides"]
    assert override["name"] == "ingest"
    assert {e["name"]: e["value"] for e in override["environment"]} == {
        "S3_BUCKET": "acme-prod-uploads", "S3_KEY": "incoming/2026/01/01/batch-0042.csv"}
    assert task["overrides"] == described["overrides"]  # the event's own output, and get tasks, show them too
    assert [t["overrides"] for t in tasks(state)] == [described["overrides"]]
    assert run("tick", "2m", "--state", state).exit_code == 0
    assert [t["lastStatus"] for t in tasks(state)] == ["RUNNING"]  # runFor 3m
    assert run("tick", "2m", "--state", state).exit_code == 0
    (done,) = tasks(state)  # get tasks lists the stopped ones too (DESIGN §4)
    assert (done["lastStatus"], done["stopCode"], done["exitCode"]) == ("STOPPED", "EssentialContainerExited", 0)
    assert tasks(state, "--status", "RUNNING") == []
    clusters = json.loads(run("get", "clusters", "--state", state, "-o", "json").stdout)
    assert [c["runningTasksCount"] for c in clusters] == [0]
    events = json.loads(run("get", "events", "--state", state, "-o", "json").stdout)
    assert [(e["type"], e["source"]) for e in events] == [("rule", "ingest-on-upload")] + [("task", task["id"])] * 4
    assert events[0]["time"] == "2026-01-01T00:00:00Z" and events[-1]["time"] == "2026-01-01T00:03:25Z"
    assert "Essential container in task exited (exit code 0)" in events[-1]["message"]


@pytest.mark.parametrize("detail, source, detail_type", [
    ({**UPLOAD, "object": {"key": "archive/2026/x.csv"}}, "aws.s3", "Object Created"),  # prefix incoming/
    ({**UPLOAD, "bucket": {"name": "someone-elses"}}, "aws.s3", "Object Created"),
    (UPLOAD, "aws.s3", "Object Deleted"),
    (UPLOAD, "custom.uploads", "Object Created"),
])
def test_an_event_no_pattern_matches_runs_nothing(state, detail, source, detail_type) -> None:
    out = put(state, detail, source, detail_type)
    assert out["matched"] == [] and out["tasks"] == []
    assert tasks(state) == []
    text = run("events", "put", "--source", source, "--detail-type", detail_type, "--detail", json.dumps(detail),
               "--state", state)
    assert "no rule matched" in text.stdout


def test_get_events_text_lists_rule_firings_with_their_times(state) -> None:
    put(state, UPLOAD)
    run("tick", "1d", "--state", state)  # the nightly report fires at 02:00 Paris time
    result = run("get", "events", "--state", state)
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if "  rule " in line]
    assert [line.split()[0] for line in lines] == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]
    assert "nightly-report" in lines[1] and "fired (schedule)" in lines[1]
    only = json.loads(run("get", "events", "nightly-report", "--state", state, "-o", "json").stdout)
    assert [e["source"] for e in only] == ["nightly-report"]


def test_get_events_name_is_any_identifier_and_an_unknown_one_is_an_error(state) -> None:
    run("tick", "1d", "--state", state)
    report = json.loads(run("get", "events", "nightly-report", "--state", state, "-o", "json").stdout)
    task = report[0]["tasks"][0]
    by_prefix = json.loads(run("get", "events", task[:8], "--state", state, "-o", "json").stdout)
    assert by_prefix and all(e["source"].startswith(task[:8]) or task in e.get("tasks", ()) for e in by_prefix)
    missing = run("get", "events", "nope", "--state", state)
    assert missing.exit_code == 1 and missing.stderr.startswith("error: no events of 'nope' in the state")


def test_events_put_refuses_a_detail_that_is_not_a_json_object(state) -> None:
    deep = '{"x": ' + "[" * 990 + "]" * 990 + "}"
    for bad in ("{not json", "[1, 2]", '"text"', '{"a": NaN}', deep):
        result = run("events", "put", "--source", "aws.s3", "--detail-type", "Object Created", "--detail", bad,
                     "--state", state)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_a_canary_in_a_rules_overrides_never_appears_in_any_output_or_the_state(tmp_path: Path) -> None:
    """Secrets stay names: a plain-text value in a ScheduledTask's container overrides (warned
    about, as ECS accepts it) goes through firing, describe, events and the state file as a digest."""
    import sqlite3
    import uuid

    canary = f"canary-{uuid.uuid4().hex}"
    stack = tmp_path / "stack"
    shutil.copytree(MANIFESTS, stack)
    batch = stack / "batch.yaml"
    text = batch.read_text()
    anchor = "    x-ecsctl: {runFor: 3m}\n"
    assert anchor in text
    batch.write_text(text.replace(anchor, anchor + "    overrides:\n      containerOverrides:\n        - name: ingest\n"
                                  f"          environment: [{{name: UPLOADS_API_TOKEN, value: {canary}}}]\n", 1))
    state = str(tmp_path / "state.db")
    outputs: list[str] = []

    def ok(*args: str) -> str:
        result = run(*args, "--state", state)
        assert result.exit_code == 0, (args, result.output)
        outputs.extend([result.stdout, result.stderr])
        return result.stdout

    ok("validate", str(stack))
    ok("plan", "-f", str(stack), "-o", "json")
    ok("apply", "-f", str(stack), "--auto-approve")
    fired = json.loads(ok("events", "put", "--source", "aws.s3", "--detail-type", "Object Created",
                          "--detail", json.dumps(UPLOAD), "-o", "json"))
    ok("events", "put", "--source", "aws.s3", "--detail-type", "Object Created", "--detail", json.dumps(UPLOAD))
    (task,) = fired["tasks"]
    for fmt in ("text", "json", "yaml"):
        ok("describe", "task", task["id"], "-o", fmt)
        ok("get", "events", "-o", fmt)
        ok("get", "tasks", "-o", fmt)
    ok("tick", "1d", "-o", "json")
    ok("get", "events")
    ok("state", "pull")
    described = json.loads(run("describe", "task", task["id"], "--state", state, "-o", "json").stdout)
    env = {e["name"]: e["value"] for e in described["overrides"]["containerOverrides"][0]["environment"]}
    assert env["S3_KEY"] == UPLOAD["object"]["key"] and env["UPLOADS_API_TOKEN"] != canary
    listed = {t["id"]: t for t in json.loads(ok("get", "tasks", "-o", "json"))}[task["id"]]
    assert listed["overrides"] == described["overrides"]  # masked there too
    assert [o for o in outputs if canary in o] == []
    with sqlite3.connect(state) as db:
        db.execute("PRAGMA wal_checkpoint(FULL)")
    files = [p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("state.db")]
    assert [f for f in files if canary.encode() in f] == []


def test_a_parameter_value_in_a_manifest_is_refused_without_echoing_it(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "p.yaml").write_text("apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {name: /prod/x}\n"
                                  "spec: {type: SecureString, value: canary-hunter2-value}\n")
    result = run("validate", str(stack), "-o", "json")
    assert result.exit_code == 1 and "canary-hunter2-value" not in result.stdout + result.stderr


def test_a_null_in_the_pattern_matches_only_a_null_field(tmp_path: Path) -> None:
    """"Matching events on null values": ``[null]`` matches a field whose value is null, not a
    missing field nor any other value; the plan and the state keep it (pruned, the rule would
    match every upload)."""
    stack = tmp_path / "stack"
    stack.mkdir()
    for name in ("cluster", "network", "catalogue", "batch"):
        shutil.copy(MANIFESTS / f"{name}.yaml", stack)
    batch = stack / "batch.yaml"
    text = batch.read_text()
    assert text.count("        key: [{prefix: incoming/}]\n") == 1
    batch.write_text(text.replace("        key: [{prefix: incoming/}]\n",
                                  "        key: [{prefix: incoming/}]\n        version-id: [null]\n"))
    state = str(tmp_path / "state.db")
    assert run("apply", "-f", str(stack), "--state", state, "--auto-approve").exit_code == 0
    assert run("plan", "-f", str(stack), "--state", state, "--detailed-exitcode").exit_code == 0  # no changes
    assert put(state, UPLOAD)["matched"] == []                                      # no version-id
    assert put(state, {**UPLOAD, "object": {**UPLOAD["object"], "version-id": "3HL4kqtJ"}})["matched"] == []
    assert put(state, {**UPLOAD, "object": {**UPLOAD["object"], "version-id": None}})["matched"] == ["ingest-on-upload"]
