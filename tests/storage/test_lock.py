"""The write lock: an OS lock on ``<state>.lock`` that dies with its holder, and names it.

Holders are real processes: each child signals through its stdout pipe that it holds the lock
(or is inside a transaction), then waits on its stdin; the test acts, then ends it with SIGKILL.
Nothing sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsctl.cli.app import app as root
from ecsctl.core.state import Cluster, ContainerInstance, Task
from ecsctl.errors import StateError
from ecsctl.storage.lock import _start_time, lock_path
from ecsctl.storage.sqlite_store import SqliteStateStore

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"

_HOLDER = textwrap.dedent(
    """
    import sys
    from ecsctl.core.state import Cluster
    from ecsctl.storage.sqlite_store import SqliteStateStore

    store = SqliteStateStore(sys.argv[1])
    store.acquire_lock(sys.argv[2])
    if sys.argv[3] == "in-transaction":  # a long tick: the lock and SQLite's write lock both held
        with store.transaction():
            store.insert(Cluster("held-open", spec={}))
            print("ready", flush=True)
            sys.stdin.readline()
    else:
        print("ready", flush=True)
        sys.stdin.readline()
    """
)


class Holder:
    """A child process holding the lock of ``path`` until it is killed."""

    def __init__(self, path: Path, command: str = "ecsctl apply -f big/", mode: str = "locked") -> None:
        self.process = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), command, mode],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"
        self.pid = self.process.pid

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    with SqliteStateStore(path) as s:
        s.put_resource("cluster/prod", "Cluster", "prod", {})
        s.set_backend("local")  # no simulated cluster record: without it, a state of --backend aws
    return path


@pytest.fixture
def holder(path: Path):
    held = Holder(path)
    yield held
    if held.process.poll() is None:
        held.kill()


def cli(*args: str):
    return CliRunner().invoke(root, list(args))


def test_a_live_holder_is_named_and_refuses_at_once(path: Path, holder: Holder) -> None:
    with SqliteStateStore(path) as second:
        with pytest.raises(StateError) as refused:
            second.acquire_lock("ecsctl tick 1m")
        message = str(refused.value)
        assert f"pid {holder.pid}" in message and "ecsctl apply -f big/" in message and "still running" in message
        with pytest.raises(StateError, match="state is locked"):
            second.put_resource("cluster/x", "Cluster", "x", {})
        assert second.lock_info().pid == holder.pid
        with pytest.raises(StateError, match="held right now by a running process"):
            second.force_unlock(second.lock_info().id)


def test_a_writer_is_refused_with_the_holder_named_while_it_is_inside_a_long_transaction(path: Path) -> None:
    held = Holder(path, "ecsctl tick 30m", mode="in-transaction")
    try:
        for command in (["tick", "1m"], ["run-task", "--cluster", "prod", "--task-definition", "web"]):
            result = cli(*command, "--state", str(path))
            assert result.exit_code == 1, result.output
            assert f"pid {held.pid}" in result.stderr and "ecsctl tick 30m" in result.stderr
            assert "busy" not in result.stderr
        reader = cli("get", "clusters", "--state", str(path), "-o", "json")  # readers are not blocked
        assert reader.exit_code == 0 and "held-open" not in reader.stdout
    finally:
        held.kill()
    with SqliteStateStore(path) as s:  # the killed transaction left nothing
        assert [c.name for c in s.find(Cluster)] == []


def test_apply_is_refused_before_it_reads_the_manifests(path: Path, holder: Holder, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.yaml").write_text("apiVersion: ecsctl/v1\nkind: Nope\n")
    result = cli("apply", "-f", str(broken), "--state", str(path), "--auto-approve")
    assert result.exit_code == 1 and f"pid {holder.pid}" in result.stderr
    assert "Nope" not in result.output  # the manifests were never read


def test_a_lock_left_by_kill_9_is_taken_over_with_a_note(path: Path) -> None:
    held = Holder(path, "ecsctl apply -f manifests/")
    stale = SqliteStateStore(path, create=False).lock_info()
    held.kill()
    notes: list[str] = []
    with SqliteStateStore(path, on_note=notes.append) as s:
        assert s.lock_info() == stale  # the record stays, but the OS lock died with its holder
        with s.locked("ecsctl apply") as mine:
            assert mine.id != stale.id and s.lock_info() == mine
    (note,) = notes
    assert "took over the lock left by a process that is gone" in note and stale.id in note and "\n" not in note


def test_the_cli_converges_after_a_killed_apply_without_state_unlock(tmp_path: Path) -> None:
    state = tmp_path / "s" / "state.db"
    assert cli("apply", "-f", str(MANIFESTS), "--state", str(state), "--auto-approve").exit_code == 0
    held = Holder(state, "ecsctl apply -f manifests/")
    held.kill()
    again = cli("apply", "-f", str(MANIFESTS), "--state", str(state), "--auto-approve")
    assert again.exit_code == 0, again.output
    assert "note:" in again.stderr and f"pid {held.pid}" in again.stderr and "is gone" in again.stderr


def _leave_record(path: Path, **fields) -> dict:
    record = {"id": "0b7e2d1c-1111-4222-8333-444455556666", "pid": os.getpid(), "host": socket.gethostname(),
              "command": "ecsctl apply", "created_at": "2024-05-01T12:00:00Z", "started": _start_time(os.getpid()),
              **fields}
    lock_path(path).write_text(json.dumps(record) + "\n")
    return record


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    "fields, taken_over",
    [
        ({"pid": None}, True),  # replaced below by a pid that has exited
        ({"started": "1"}, True),  # the pid runs, but is another process than the holder (reused)
        ({"pid": os.getppid(), "started": None}, False),  # a live process that holds no OS lock: refuse
        ({"host": "build-7.example"}, False),  # another host: cannot be checked from here
    ],
    ids=["pid-gone", "pid-reused", "pid-alive", "other-host"],
)
def test_records_left_behind(path: Path, fields: dict, taken_over: bool) -> None:
    if fields.get("pid", 0) is None:
        fields = {**fields, "pid": _dead_pid()}
    if fields.get("started") == "1":
        fields = {**fields, "pid": os.getppid()}
    record = _leave_record(path, **fields)
    notes: list[str] = []
    with SqliteStateStore(path, on_note=notes.append) as s:
        if taken_over:
            s.acquire_lock("ecsctl apply")
            assert len(notes) == 1 and record["id"] in notes[0]
        else:
            with pytest.raises(StateError) as refused:
                s.acquire_lock("ecsctl apply")
            assert f"ecsctl state unlock {record['id']}" in str(refused.value) and notes == []
            assert s.force_unlock(record["id"]).id == record["id"]
            s.acquire_lock("ecsctl apply")


def test_a_lock_file_that_is_a_directory_is_a_clear_error(path: Path) -> None:
    lock_path(path).unlink()
    lock_path(path).mkdir()
    result = cli("tick", "1m", "--state", str(path))
    assert result.exit_code == 1 and "lock" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def applied(tmp_path_factory) -> Path:
    state = tmp_path_factory.mktemp("applied") / "state.db"
    assert cli("apply", "-f", str(MANIFESTS), "--state", str(state), "--auto-approve").exit_code == 0
    return state


def test_every_writer_is_refused_at_once_naming_a_holder_inside_a_long_transaction(applied: Path, tmp_path: Path) -> None:
    """Refused by the OS lock before anything else: no SQLite busy wait, no manifest read (the
    folder given holds an invalid one), the holder's pid and command in the one line."""
    state = tmp_path / "state.db"
    state.write_bytes(applied.read_bytes())
    with SqliteStateStore(state, create=False) as s:
        task = next(t.id for t in s.find(Task, last_status="RUNNING"))
        instance = next(i.id for i in s.find(ContainerInstance))
        pulled = tmp_path / "pulled.json"
        pulled.write_text(json.dumps(s.export()))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.yaml").write_text("apiVersion: ecsctl/v1\nkind: Nope\n")
    writers = [
        ["apply", "-f", str(broken), "--auto-approve"],
        ["destroy", "-f", str(broken), "--auto-approve"],
        ["tick", "1m"],
        ["run-task", "--cluster", "prod", "--task-definition", "worker", "--launch-type", "EC2"],
        ["stop-task", task],
        ["instances", "drain", instance],
        ["rollout", "undo", "web"],
        ["state", "push", str(pulled)],
    ]
    held = Holder(state, "ecsctl tick 30m", mode="in-transaction")
    try:
        for command in writers:
            result = cli(*command, "--state", str(state))
            assert result.exit_code == 1, (command, result.output)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1, (command, lines)
            line = lines[0]
            assert f"pid {held.pid}" in line and "ecsctl tick 30m" in line and "still running" in line, (command, line)
            assert "busy" not in line and "Nope" not in result.output
    finally:
        held.kill()
