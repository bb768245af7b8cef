"""``ecsctl state push`` through Typer: what is wrong with the pushed file names that file and
exits 1; a state with the serial of this one but other content is refused (as Terraform
refuses "a different state that has the same serial"); the state as it is changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecsctl.cli.app import app

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def run(runner, *args, input=None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def one_error(result) -> str:
    assert "Traceback" not in result.output and "internal error" not in result.stderr, result.output
    (line,) = result.stderr.strip().splitlines()
    return line


@pytest.fixture(scope="module")
def applied_once(tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    where = tmp_path_factory.mktemp("applied")
    state = where / "s.db"
    result = run(CliRunner(), "apply", "-f", str(MANIFESTS), "--state", str(state), "--auto-approve")
    assert result.exit_code == 0, result.output
    return state


@pytest.fixture
def state(applied_once: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "s.db"
    shutil.copy(applied_once, copy)
    return copy


def pull(runner, state: Path) -> dict:
    result = run(runner, "state", "pull", "--state", str(state))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pushing_the_sqlite_state_file_itself_names_it(runner, state: Path) -> None:
    before = state.read_bytes()
    result = run(runner, "state", "push", str(state), "--state", str(state))
    assert result.exit_code == 1
    assert one_error(result) == (f"error: {state}: not an ecsctl state export (it is an ecsctl state file (SQLite), "
                                 f"not JSON; export one with `ecsctl --state {state} state pull > FILE.json`)")
    assert state.read_bytes() == before


def test_pushing_a_binary_file_names_it(runner, state: Path, tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    result = run(runner, "state", "push", str(blob), "--state", str(state))
    assert result.exit_code == 1
    assert one_error(result) == f"error: {blob}: not an ecsctl state export (not UTF-8 text: byte 1 is 0x89)"
    other = tmp_path / "other.db"
    other.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    result = run(runner, "state", "push", str(other), "--state", str(state))
    assert result.exit_code == 1
    assert one_error(result) == f"error: {other}: not an ecsctl state export (it is a SQLite database, not JSON)"


@pytest.mark.parametrize("name, text, message", [
    ("junk.json", '{"foo": 1}', 'not an ecsctl state export (no "format": "ecsctl-state")'),
    ("list.json", "[1, 2]", 'not an ecsctl state export (no "format": "ecsctl-state")'),
])
def test_json_that_is_not_an_export_names_the_pushed_file(runner, state: Path, tmp_path: Path, name, text, message) -> None:
    source = tmp_path / name
    source.write_text(text)
    result = run(runner, "state", "push", str(source), "--state", str(state))
    assert result.exit_code == 1
    assert one_error(result) == f"error: {source}: {message}"


def test_text_that_is_not_json_names_the_file_and_position_exit_1(runner, state: Path, tmp_path: Path) -> None:
    source = tmp_path / "junk.txt"
    source.write_text("hello\n")
    result = run(runner, "state", "push", str(source), "--state", str(state))
    assert result.exit_code == 1
    assert one_error(result) == f"error: {source}:1:1: not an ecsctl state export (invalid JSON: Expecting value)"
    result = run(runner, "state", "push", "-", "--state", str(state), input='{"foo": 1}')
    assert result.exit_code == 1
    assert one_error(result) == 'error: <stdin>: not an ecsctl state export (no "format": "ecsctl-state")'


def test_a_missing_file_is_a_usage_error_naming_it(runner, state: Path, tmp_path: Path) -> None:
    """As a missing manifest or plan file: exit 2, the same words."""
    missing = tmp_path / "nothing.json"
    result = run(runner, "state", "push", str(missing), "--state", str(state))
    assert result.exit_code == 2
    assert one_error(result) == f"error: {missing}: no such file or directory"


def test_a_bad_row_names_the_pushed_file(runner, state: Path, tmp_path: Path) -> None:
    data = pull(runner, state)
    data["serial"] += 1
    data["services"][0]["desired_count"] = "abc"
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data))
    result = run(runner, "state", "push", str(source), "--state", str(state))
    assert result.exit_code == 1
    assert one_error(result).startswith(f"error: {source}: cannot push: services[0] (")


def test_the_same_serial_with_other_content_is_refused_unless_forced(runner, state: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c.db"
    shutil.copy(state, copy)
    assert run(runner, "tick", "1m", "--state", str(state)).exit_code == 0
    task = json.loads(run(runner, "get", "tasks", "--state", str(copy), "-o", "json").stdout)[0]["id"]
    assert run(runner, "stop-task", task, "--state", str(copy)).exit_code == 0
    theirs = pull(runner, copy)
    ours = pull(runner, state)
    assert theirs["serial"] == ours["serial"] and theirs["lineage"] == ours["lineage"]
    source = tmp_path / "c.json"
    source.write_text(json.dumps(theirs))
    before = state.read_bytes()

    refused = run(runner, "state", "push", str(source), "--state", str(state))

    assert refused.exit_code == 1
    assert one_error(refused) == (
        f"error: {state}: refusing to push: {source} has serial {ours['serial']}, the same as this state's, but "
        "different content (each was changed apart from the other since); pull the current state and reconcile "
        "the two, or use --force to replace it")
    assert state.read_bytes() == before and pull(runner, state) == ours
    forced = run(runner, "state", "push", str(source), "--state", str(state), "--force", "-o", "json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["changed"] is True and json.loads(forced.stdout)["serial"] == ours["serial"] + 1
    after = pull(runner, state)
    assert after["tasks"] == theirs["tasks"]  # the stopped task is as the pushed state has it


def test_the_state_as_it_is_changes_nothing(runner, state: Path, tmp_path: Path) -> None:
    ours = pull(runner, state)
    source = tmp_path / "s.json"
    source.write_text(json.dumps(ours))
    result = run(runner, "state", "push", str(source), "--state", str(state))
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"State unchanged: {source} is the state as it is "
                             f"(lineage {ours['lineage']}, serial {ours['serial']}).\n")
    assert pull(runner, state) == ours  # not even the serial moved: saved plans stay fresh
    as_json = run(runner, "state", "push", "-", "--state", str(state), "-o", "json", input=json.dumps(ours))
    assert json.loads(as_json.stdout) == {"lineage": ours["lineage"], "serial": ours["serial"], "version": ours["version"],
                                          "changed": False}
    newer = dict(ours, serial=ours["serial"] + 1)
    source.write_text(json.dumps(newer))
    moved = run(runner, "state", "push", str(source), "--state", str(state))
    assert moved.exit_code == 0 and moved.stdout.startswith("State replaced: ")
