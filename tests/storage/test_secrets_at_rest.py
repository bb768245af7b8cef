"""The state file holds digests, never the plain value of a sensitive-looking field."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
from pathlib import Path

import pytest

from ecsctl.core.normalize import canonical
from ecsctl.core.plan.diff import diff
from ecsctl.core.plan.model import Desired
from ecsctl.core.sensitive import is_digest, sealer_of
from ecsctl.core.state import Service, TaskDefinitionRevision
from ecsctl.errors import StateError
from ecsctl.storage.sqlite_store import MIGRATIONS, SCHEMA_VERSION, SqliteStateStore

SECRET = "pa55-W0rd-a1b2c3"
SPEC = {
    "family": "web",
    "containerDefinitions": [{
        "name": "web", "image": "nginx:1.27", "memory": 512,
        "environment": [{"name": "DB_PASSWORD", "value": SECRET}, {"name": "LOG_LEVEL", "value": "info"}],
        "command": ["serve", f"--api-token={SECRET}"],
        "dockerLabels": {"password": SECRET},
        "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": SECRET}},
    }],
}


def raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


def file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_every_writer_stores_digests(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SqliteStateStore(path) as s:
        s.put_resource("taskdef/web", "TaskDefinition", "web", SPEC)
        s.save(TaskDefinitionRevision("web", 1, SPEC, registered_at="2024-01-01T00:00:00Z"))
        s.save(Service("prod", "web", "web:1", 1, spec={"cluster": "prod", "tags": [{"key": "api-token", "value": SECRET}]}))
        with raw(path) as reader:  # the WAL, before it is checkpointed away
            reader.execute("SELECT COUNT(*) FROM meta").fetchall()
            assert SECRET.encode() not in file_bytes(path)
        stored = s.get_resource("taskdef/web").spec
        assert stored == SPEC and sealer_of(stored) is not None  # compares equal to what was put
        env = stored["containerDefinitions"][0]["environment"]
        assert is_digest(env[0]["value"]) and env[1]["value"] == "info"
        latest = s.get(TaskDefinitionRevision, "web", 1)
        assert latest.spec == SPEC  # the backend's "already registered" check still works
        serial = s.meta().serial
        s.put_resource("taskdef/web", "TaskDefinition", "web", SPEC)  # the same secret: no change
        assert s.meta().serial == serial
        s.put_resource("taskdef/web", "TaskDefinition", "web", json.loads(json.dumps(SPEC).replace(SECRET, "other")))
        assert s.meta().serial == serial + 1
        exported = json.dumps(s.export())
    assert SECRET not in exported and "<sensitive:hmac-sha256:" in exported
    assert SECRET.encode() not in file_bytes(path)


def test_a_push_keeps_digests_comparable(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / "a.db") as a:
        a.put_resource("taskdef/web", "TaskDefinition", "web", canonical("TaskDefinition", "web", SPEC))
        data = json.loads(json.dumps(a.export()))
    assert len(data["digest_key"]) == 64
    with SqliteStateStore(tmp_path / "b.db") as b:  # another file, another key: adopts the export's
        b.import_(data)
        applied = {r.address: (r.kind, r.name, r.spec) for r in b.resources()}
    want = canonical("TaskDefinition", "web", SPEC)
    (change,) = diff([Desired("taskdef/web", "TaskDefinition", "web", want)], applied)
    assert change.action == "no-op"


def test_a_bad_digest_key_in_an_export_is_refused(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / "a.db") as a:
        data = a.export()
        with pytest.raises(StateError, match="no valid \"digest_key\""):
            a.import_({**data, "digest_key": "not hex"})


def _version_2_file(path: Path) -> None:
    """A state as ecsctl wrote it at schema version 2: plain values in the specs."""
    with raw(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for version in (1, 2):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
            ("version", 2), ("serial", 4), ("lineage", "5b0c1f3e-6a4f-4f57-9d36-1f0b8d6e2a11"),
            ("created_at", "2024-01-01T00:00:00Z")])
        conn.execute("INSERT INTO resources VALUES ('taskdef/web', 'TaskDefinition', 'web', ?, 4)",
                     (json.dumps(SPEC, sort_keys=True, separators=(",", ":")),))
        conn.execute("INSERT INTO task_definitions VALUES ('web', 1, 'ACTIVE', ?, '2024-01-01T00:00:00Z')",
                     (json.dumps(SPEC, sort_keys=True, separators=(",", ":")),))
        conn.execute("INSERT INTO lock VALUES (1, 'old-lock', 1, 'elsewhere', 'ecsctl apply', '2024-01-01T00:00:00Z')")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_a_version_2_state_is_read_sealed_and_sealed_for_good_by_its_first_write(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _version_2_file(path)
    before = path.read_bytes()
    assert SECRET.encode() in before
    with SqliteStateStore(path, create=False) as reader:  # readers do not upgrade it...
        assert reader.meta().version == 2
        assert SECRET not in json.dumps(reader.export())  # ...but never show a plain value
        applied = {r.address: (r.kind, r.name, r.spec) for r in reader.resources()}
    assert path.read_bytes() == before
    want = canonical("TaskDefinition", "web", SPEC)
    assert diff([Desired("taskdef/web", "TaskDefinition", "web", want)], applied)[0].action == "no-op"

    with SqliteStateStore(path) as writer:
        writer.set_clock("2024-01-02T00:00:00Z")  # any write upgrades the file first
        meta = writer.meta()
        assert (meta.version, meta.serial) == (SCHEMA_VERSION, 5)
        assert writer.get_resource("taskdef/web").spec == SPEC
    assert SECRET.encode() not in file_bytes(path)  # not in a free page or the WAL either
    with raw(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM lock").fetchone()[0] == 0
        assert conn.execute("SELECT value FROM meta WHERE key = 'digest_key'").fetchone()[0]


def test_a_value_that_is_not_text_is_a_clear_error(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / "state.db") as s:
        with pytest.raises(StateError, match="not valid text") as refused:
            s.put_resource("taskdef/web", "TaskDefinition", "web", {"family": "web\udc80"})
        assert "\n" not in str(refused.value)


def test_a_kill_at_any_commit_leaves_no_plain_secret_in_the_file_or_its_wal(tmp_path: Path) -> None:
    """Killed after (and inside) each commit of an apply, the WAL is left as it was, never
    checkpointed or cleaned: it holds digests only, as the file does."""
    import yaml

    from tests.test_apply_crash import cli, killed, serial_of

    docs = [
        {"apiVersion": "ecsctl/v1", "kind": "Cluster", "metadata": {"name": "prod"}, "spec": {"containerInstances": [
            {"name": "g", "count": 1, "instanceType": "m5.large", "availabilityZone": "eu-west-1a"}]}},
        {"apiVersion": "ecsctl/v1", "kind": "TaskDefinition", "metadata": {"name": "web"},
         "spec": {**SPEC, "requiresCompatibilities": ["EC2"], "networkMode": "bridge"}},
        {"apiVersion": "ecsctl/v1", "kind": "Service", "metadata": {"name": "web"},
         "spec": {"cluster": "prod", "taskDefinition": "web", "desiredCount": 2, "launchType": "EC2"}},
    ]
    manifests = tmp_path / "m"
    manifests.mkdir()
    (manifests / "stack.yaml").write_text(yaml.safe_dump_all(docs))
    state = tmp_path / "state.db"
    apply = ["apply", "-f", str(manifests), "--auto-approve", "--state", str(state)]
    assert cli(*apply).exit_code == 0
    commits = serial_of(state)
    for serial in range(1, commits + 1):
        for when in ("after", "before"):
            for leftover in tmp_path.glob("state.db*"):
                leftover.unlink()
            assert killed(apply, when, serial) == signal.SIGKILL
            assert SECRET.encode() not in file_bytes(state), (when, serial)
