"""Bad state files: each is refused with one line naming the file, and left exactly as it was.

The kinds an adversary tried (issue 13, "State files"), through the commands users run.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecsctl.errors import StateError
from ecsctl.storage.sqlite_store import APPLICATION_ID, SqliteStateStore
from tests.storage.statekit import MANIFESTS, applied, cli, copy_of, raw  # noqa: F401 - applied: a fixture

ECSCTL = str(Path(sys.executable).with_name("ecsctl"))


def side_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


# -- files that are not (yet) a state: refused by everyone, never modified -----------------------


def _foreign_tables(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")


def _foreign_empty_with_app_id(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("PRAGMA application_id = 1234567")
        conn.execute("PRAGMA journal_mode = WAL")


def _foreign_empty_with_user_version(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("PRAGMA user_version = 7")  # no tables, no application id: marked all the same


def _foreign_app_id_with_our_tables(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("PRAGMA application_id = 0x4a4f4b45")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('version', 3), ('serial', 1), ('lineage', 'x')")


def _foreign_meta(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("CREATE TABLE meta (name TEXT, owner TEXT)")


def _foreign_wal(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x)")


FOREIGN = [
    ("garbage", lambda p: p.write_bytes(b"this is not a database\n" * 100), "not a SQLite database"),
    ("header-only", lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84), "corrupt"),
    ("foreign-tables", _foreign_tables, "no meta table"),
    ("foreign-wal", _foreign_wal, "no meta table"),
    ("foreign-empty-app-id", _foreign_empty_with_app_id, "another application"),
    ("foreign-empty-user-version", _foreign_empty_with_user_version, "marked by another program"),
    ("foreign-app-id-our-tables", _foreign_app_id_with_our_tables, "another application"),
    ("foreign-meta", _foreign_meta, "its meta table is not ours"),
]


@pytest.mark.parametrize("make, message", [f[1:] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
@pytest.mark.parametrize("command", [
    ["tick", "1m"],
    ["apply", "-f", str(MANIFESTS), "--auto-approve"],
    ["plan", "-f", str(MANIFESTS)],
    ["get", "services"],
    ["state", "pull"],
], ids=["tick", "apply", "plan", "get", "pull"])
def test_a_file_of_another_program_is_refused_and_never_modified(tmp_path: Path, make, message, command) -> None:
    path = tmp_path / "state.db"
    make(path)
    before, files = path.read_bytes(), side_files(path)
    result = cli(*command, "--state", str(path))
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and message in line and "Traceback" not in result.output
    assert path.read_bytes() == before and side_files(path) == files  # not even switched to WAL


@pytest.mark.parametrize("make, message", [f[1:] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_no_command_modifies_a_file_of_another_program(tmp_path: Path, make, message) -> None:
    path = tmp_path / "state.db"
    make(path)
    before, files = path.read_bytes(), side_files(path)
    for command in EVERY_COMMAND:
        result = cli(*inputs_in(tmp_path, command), "--state", str(path))
        assert result.exit_code == 1, (command, result.output)
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1, (command, result.stderr)
        assert path.read_bytes() == before and side_files(path) == [*files, "export.json", "taskdef.json"] or \
            sorted(side_files(path)) == sorted({*files, "export.json", "taskdef.json"}), (command, side_files(path))


# -- damaged states -------------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _scribble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // 4096, 3):  # damage interior pages: a multi-line quick_check
        data[page * 4096 + 100 : page * 4096 + 300] = b"\xa5" * 200
    path.write_bytes(bytes(data))


def _sql(statement: str):
    def damage(path: Path) -> None:
        with raw(path) as conn:
            conn.execute(statement)
    return damage


PLAN, APPLY = ["plan", "-f", str(MANIFESTS)], ["apply", "-f", str(MANIFESTS), "--auto-approve"]
GET_TASKS, GET_SERVICES, PULL, TICK = ["get", "tasks"], ["get", "services"], ["state", "pull"], ["tick", "1m"]
VERIFY = ["state", "verify"]
EVERY_READER_AND_WRITER = [PLAN, GET_TASKS, GET_SERVICES, PULL, VERIFY, TICK, APPLY]

DAMAGED = [
    ("truncated", _truncate, "corrupt", EVERY_READER_AND_WRITER),
    ("scribbled", _scribble, "corrupt", EVERY_READER_AND_WRITER),
    ("newer-version", _sql("UPDATE meta SET value = 99 WHERE key = 'version'"), "newer ecsctl", EVERY_READER_AND_WRITER),
    ("version-as-text", _sql("UPDATE meta SET value = '3' WHERE key = 'version'"), "no valid schema version", EVERY_READER_AND_WRITER),
    ("no-lineage", _sql("DELETE FROM meta WHERE key = 'lineage'"), "no valid serial or lineage", EVERY_READER_AND_WRITER),
    ("bad-digest-key", _sql("UPDATE meta SET value = 'zz' WHERE key = 'digest_key'"), "no valid digest key", EVERY_READER_AND_WRITER),
    # a row that cannot be decoded fails the commands that read it
    ("invalid-json-spec", _sql("UPDATE resources SET spec = '{not json' WHERE address = 'taskdef/web'"), "cannot be read",
     [PLAN, PULL, VERIFY, APPLY]),
    ("invalid-json-tuple", _sql("UPDATE tasks SET host_ports = '7' WHERE rowid = 1"), "cannot be read", [GET_TASKS, PULL, VERIFY]),
    ("invalid-json-world", _sql("UPDATE services SET spec = '[' WHERE name = 'web'"), "cannot be read",
     [PLAN, GET_SERVICES, PULL, VERIFY, TICK, APPLY]),
    # a value of another type than its record's field: the row cannot be read either, and says which field
    ("wrong-type-count", _sql("UPDATE services SET desired_count = 'abc' WHERE name = 'web'"),
     "cannot be read (field desired_count: expected an integer", [PLAN, GET_SERVICES, PULL, VERIFY, TICK, APPLY]),
    ("wrong-type-spec", _sql("UPDATE resources SET spec = 'null' WHERE address = 'taskdef/web'"),
     "cannot be read (field spec: expected an object, got null)", [PLAN, PULL, VERIFY, APPLY]),
    ("wrong-type-ports", _sql("UPDATE tasks SET host_ports = '[\"80\"]' WHERE rowid = 1"),
     "cannot be read (field host_ports: expected a list of integers", [GET_TASKS, PULL, VERIFY]),
]


@pytest.mark.parametrize("damage, message, commands", [d[1:] for d in DAMAGED], ids=[d[0] for d in DAMAGED])
def test_a_damaged_state_is_one_clear_line_for_every_command(applied: Path, tmp_path: Path, damage, message, commands) -> None:
    path = copy_of(applied, tmp_path)
    damage(path)
    before = path.read_bytes()
    for command in commands:
        result = cli(*command, "--state", str(path))
        assert result.exit_code == 1, (command, result.output)
        lines = result.stderr.strip().splitlines()
        said = result.stdout if command == VERIFY and result.stdout else lines[0]  # verify lists what it found
        assert len(lines) == 1 and str(path) in lines[0] and message in said, (command, result.stderr)
    assert path.read_bytes() == before


# -- empty files ----------------------------------------------------------------------------------


def _empty_sqlite(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")  # a header and nothing else, no application id


@pytest.mark.parametrize("make", [lambda p: p.touch(), _empty_sqlite], ids=["zero-bytes", "empty-sqlite"])
def test_an_empty_file_is_initialised_only_by_a_writer_saying_so(tmp_path: Path, make) -> None:
    path = tmp_path / "state.db"
    make(path)
    before = path.read_bytes()
    for reader in (["plan", "-f", str(MANIFESTS)], ["get", "services"], ["state", "pull"]):
        result = cli(*reader, "--state", str(path))
        assert result.exit_code == 1 and "not a state yet" in result.stderr, result.output
    refused = cli("apply", "-f", str(MANIFESTS), "--state", str(path))  # no terminal: refused
    assert refused.exit_code == 2 and path.read_bytes() == before
    result = cli("apply", "-f", str(MANIFESTS), "--state", str(path), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert f"note: {path}: the file was empty; initialised it as a new ecsctl state" in result.stderr
    with raw(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


# -- places that cannot hold a state ----------------------------------------------------------------

EVERY_COMMAND = [
    ["plan", "-f", str(MANIFESTS)],
    ["apply", "-f", str(MANIFESTS), "--auto-approve"],
    ["get", "services"],
    ["get", "tasks"],
    ["state", "pull"],
    ["state", "list"],
    ["state", "unlock", "x"],
    ["tick", "1m"],
    ["run-task", "--cluster", "prod", "--task-definition", "web"],
    ["stop-task", "t-1"],
    ["instances", "drain", "i-1"],
    ["rollout", "status", "service/prod/web"],
    ["rollout", "history", "service/prod/web"],
    ["rollout", "undo", "service/prod/web"],
    ["destroy", "-f", str(MANIFESTS), "--auto-approve"],
    ["describe", "service", "web"],
    ["state", "push", "{tmp}/export.json"],
    ["state", "verify"],
    ["instances", "activate", "i-1"],
    ["instances", "terminate", "i-1"],
    ["view", "-f", str(MANIFESTS)],
    ["import", "{tmp}/taskdef.json"],
    ["ecr", "login"],
]


def inputs_in(tmp_path: Path, command: list[str]) -> list[str]:
    """The command with its input files written to ``tmp_path``: a state export, a task definition."""
    (tmp_path / "export.json").write_text(json.dumps({"format": "ecsctl-state", "version": 4, "serial": 1,
                                                      "lineage": "9d7e8f00-0000-4000-8000-000000000001"}))
    (tmp_path / "taskdef.json").write_text(json.dumps({"taskDefinition": {
        "family": "imported", "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memory": 128}]}}))
    return [a.replace("{tmp}", str(tmp_path)) for a in command]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=[" ".join(c[:2]) for c in EVERY_COMMAND])
def test_a_state_path_under_a_regular_file_is_a_clear_error(tmp_path: Path, command) -> None:
    blocker = tmp_path / "FILE"
    blocker.write_text("a file, not a directory\n")
    result = cli(*inputs_in(tmp_path, command), "--state", str(blocker / "state.db"))
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "FILE is a file, not a directory" in line
    assert blocker.read_text() == "a file, not a directory\n"


@pytest.mark.parametrize("command", [c for c in EVERY_COMMAND if c[0] in ("plan", "apply", "get", "state", "tick")],
                         ids=lambda c: " ".join(c[:2]))
def test_a_directory_is_not_a_state(tmp_path: Path, command) -> None:
    result = cli(*inputs_in(tmp_path, command), "--state", str(tmp_path))
    assert result.exit_code == 1 and "is a directory, not a state file" in result.stderr, result.output


# -- a read-only directory: readers work, writers say they cannot write -----------------------------


def _without_override() -> None:
    """In the child: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so root obeys file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def unprivileged(*args: str) -> subprocess.CompletedProcess:
    preexec = _without_override if os.geteuid() == 0 else None
    return subprocess.run([ECSCTL, *args], capture_output=True, text=True, preexec_fn=preexec, timeout=120)


@pytest.fixture
def read_only(applied: Path, tmp_path: Path):
    (tmp_path / "ro").mkdir()
    path = copy_of(applied, tmp_path / "ro")
    path.parent.chmod(0o555)
    probe = unprivileged("state", "list", "--state", str(path / "nope" / "x.db"))
    try:
        if os.geteuid() == 0 and probe.returncode not in (0, 1):
            pytest.skip(f"cannot drop privileges here: {probe.stderr.strip()}")
        yield path
    finally:
        path.parent.chmod(0o755)


def test_a_state_in_a_read_only_directory_can_be_read_but_not_written(read_only: Path) -> None:
    before = read_only.read_bytes()
    for reader in (["get", "services", "-o", "json"], ["state", "pull"], ["state", "verify"], ["plan", "-f", str(MANIFESTS)]):
        result = unprivileged(*reader, "--state", str(read_only))
        assert result.returncode == 0, (reader, result.stderr)
    assert json.loads(unprivileged("get", "services", "-o", "json", "--state", str(read_only)).stdout)
    for writer in (["tick", "1m"], ["apply", "-f", str(MANIFESTS), "--auto-approve"]):
        result = unprivileged(*writer, "--state", str(read_only))
        assert result.returncode == 1, (writer, result.stdout, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert "cannot write here" in line and "corrupt" not in line and "restore" not in line
    assert read_only.read_bytes() == before and side_files(read_only) == []


def test_the_store_refuses_without_writing_anything(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.db"
    with SqliteStateStore(path) as s:  # a new state: reads work, nothing is created
        assert s.meta().serial == 0 and s.resources() == [] and s.lock_info() is None
        with s.locked("ecsctl apply"):
            assert (tmp_path / "deep" / "er" / "state.db.lock").exists()
    assert not (tmp_path / "deep").exists()  # the lock file and the directories went with it
    with pytest.raises(StateError, match="no state file here"):
        SqliteStateStore(path, create=False)
