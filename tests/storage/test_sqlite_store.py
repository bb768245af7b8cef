"""The SQLite state store: creation, serial, transactions, lock, pull/push, bad files, crashes."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from ecsctl.core.state import (
    EVENTS_KEPT,
    CatalogueEntry,
    Cluster,
    ContainerInstance,
    Deployment,
    Service,
    ServiceEvent,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
)
from ecsctl.errors import StateError
from ecsctl.storage.sqlite_store import APPLICATION_ID, SCHEMA_VERSION, SqliteStateStore


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".ecsctl" / "state.db"


@pytest.fixture
def store(path: Path):
    s = SqliteStateStore(path)
    yield s
    s.close()


def raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """A plain sqlite3 connection, closed on leaving the block (changes are autocommitted)."""
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


def populate(s: SqliteStateStore) -> None:
    """One of everything, in one transaction."""
    with s.transaction():
        s.put_resource("cluster/prod", "Cluster", "prod", {"containerInstances": []})
        s.put_resource("taskdef/web", "TaskDefinition", "web", {"family": "web", "cpu": "256"})
        s.insert(Cluster("prod", spec={"containerInstances": []}, created_at="2024-01-01T00:00:00Z"))
        s.insert(ContainerInstance(
            id="ci-0001", cluster="prod", group_name="general", instance_type="m5.large",
            availability_zone="eu-west-1a", registered_cpu=2048, registered_memory=7680,
            remaining_cpu=1792, remaining_memory=7168, attributes={"stack": "prod"},
            reserved_ports=(22, 2375, 2376, 51678, 51679, 80), running_tasks_count=1,
        ))
        s.insert(TaskDefinitionRevision("web", 1, {"family": "web"}, registered_at="2024-01-01T00:00:00Z"))
        s.insert(Service("prod", "web", "web:1", 1, spec={"desiredCount": 1}, running_count=1))
        s.insert(Deployment("ecs-svc/1", "prod", "web", "web:1", "PRIMARY", 1, running_count=1))
        s.insert(Task(
            id="t-1", cluster="prod", group="service:web", task_definition="web:1",
            last_status="RUNNING", desired_status="RUNNING", instance_id="ci-0001",
            availability_zone="eu-west-1a", cpu=256, memory=512, host_ports=(80,), service="web",
        ))
        s.insert(Task(
            id="t-2", cluster="prod", group="family:report", task_definition="report:3",
            last_status="STOPPED", desired_status="STOPPED", launch_type="FARGATE",
            stop_code="EssentialContainerExited", stop_reason="Essential container in task exited",
        ))
        s.insert(TargetRegistration("tg-web", "ci-0001", 80, "t-1"))
        s.insert(CatalogueEntry("Repository", "web", {"images": ["1.0"]}))
        s.add_service_event(
            ServiceEvent("prod", "web", "2024-01-01T00:00:00Z", "has reached a steady state.")
        )
        s.set_clock("2024-01-01T00:05:00Z")


def content(export: dict) -> dict:
    return {k: v for k, v in export.items() if k != "serial"}


# -- creation -------------------------------------------------------------------------------


def test_creates_a_private_wal_database_at_the_current_version_on_the_first_write(store: SqliteStateStore, path: Path) -> None:
    meta = store.meta()
    assert (meta.version, meta.serial) == (SCHEMA_VERSION, 0) == (5, 0)
    assert uuid.UUID(meta.lineage).version == 4
    assert meta.created_at.endswith("Z")
    assert not path.parent.exists()  # nothing on disk until a change is committed
    store.put_resource("taskdef/web", "TaskDefinition", "web", {})
    assert store.meta().lineage == meta.lineage and store.meta().serial == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    wal = path.with_name(path.name + "-wal")
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    lock = path.with_name(path.name + ".lock")
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600 and lock.read_bytes() == b""
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.db", "state.db-shm", "state.db-wal", "state.db.lock"]


def test_reopening_keeps_lineage_and_serial(store: SqliteStateStore, path: Path) -> None:
    store.put_resource("taskdef/web", "TaskDefinition", "web", {"a": 1})
    before = store.meta()
    store.close()
    with SqliteStateStore(path) as again:
        assert again.meta() == before
        assert again.get_resource("taskdef/web").spec == {"a": 1}


def test_an_empty_file_is_initialised_by_a_writer_saying_so(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.touch()
    with pytest.raises(StateError, match="is an empty file, not a state yet"):
        SqliteStateStore(path, create=False)
    notes: list[str] = []
    with SqliteStateStore(path, on_note=notes.append) as s:
        assert s.meta().serial == 0 and path.stat().st_size == 0 and notes == []  # reading writes nothing
        s.put_resource("taskdef/web", "TaskDefinition", "web", {})
    assert notes == [f"{path}: the file was empty; initialised it as a new ecsctl state"]
    with SqliteStateStore(path, create=False) as s:
        assert s.meta().serial == 1


def test_readers_can_refuse_to_create_a_state(path: Path) -> None:
    with pytest.raises(StateError, match="no state file here"):
        SqliteStateStore(path, create=False)
    assert not path.exists() and not path.parent.exists()


def test_the_store_satisfies_the_core_port() -> None:
    wanted = {n for n in vars(StateStore) if not n.startswith("_")}
    assert wanted <= set(dir(SqliteStateStore))


# -- transactions and serial ------------------------------------------------------------------


def test_serial_rises_once_per_changing_transaction(store: SqliteStateStore) -> None:
    with store.transaction():
        for i in range(5):
            store.insert(Cluster(f"c{i}"))
    assert store.meta().serial == 1
    store.save(Cluster("c9"))  # a helper outside a transaction commits on its own
    assert store.meta().serial == 2


def test_read_only_and_identical_writes_leave_the_serial_alone(store: SqliteStateStore) -> None:
    populate(store)
    serial = store.meta().serial
    with store.transaction():
        store.find(Task)
        store.get(Service, "prod", "web")
    store.put_resource("taskdef/web", "TaskDefinition", "web", {"cpu": "256", "family": "web"})
    store.save(store.get(Service, "prod", "web"))
    store.set_clock("2024-01-01T00:05:00Z")
    assert store.meta().serial == serial


def test_an_exception_rolls_everything_back(store: SqliteStateStore) -> None:
    populate(store)
    before, serial = store.export(), store.meta().serial
    with pytest.raises(RuntimeError, match="boom"):
        with store.transaction():
            store.delete(Task, "t-1")
            store.put_resource("service/prod/web", "Service", "web", {})
            with store.transaction():  # nested: joins the outer one
                store.set_clock("2030-01-01T00:00:00Z")
            raise RuntimeError("boom")
    assert store.meta().serial == serial
    assert store.export() == before


def test_resources_round_trip(store: SqliteStateStore) -> None:
    spec = {
        "family": "web",
        "containerDefinitions": [{"name": "app", "portMappings": [{"containerPort": 80}]}],
    }
    store.put_resource("taskdef/web", "TaskDefinition", "web", spec)
    store.put_resource("service/prod/web", "Service", "web", {"desiredCount": 2})
    got = store.get_resource("taskdef/web")
    assert (got.kind, got.name, got.spec, got.applied_serial) == ("TaskDefinition", "web", spec, 1)
    assert store.get_resource("service/prod/web").applied_serial == 2
    assert [r.address for r in store.resources()] == ["service/prod/web", "taskdef/web"]
    assert [r.address for r in store.resources("Service")] == ["service/prod/web"]
    assert store.delete_resource("taskdef/web") is True
    assert store.delete_resource("taskdef/web") is False
    assert store.get_resource("taskdef/web") is None


def test_world_records_round_trip_and_query(store: SqliteStateStore) -> None:
    populate(store)
    ci = store.get(ContainerInstance, "ci-0001")
    assert ci.attributes == {"stack": "prod"} and ci.reserved_ports[-1] == 80
    assert ci.agent_connected is True
    store.update(dataclasses.replace(ci, agent_connected=False, status="DRAINING"))
    assert store.get(ContainerInstance, "ci-0001").agent_connected is False
    assert [t.id for t in store.find(Task, instance_id=None)] == ["t-2"]
    assert [t.id for t in store.find(Task, cluster="prod", last_status="RUNNING")] == ["t-1"]
    assert store.get(TaskDefinitionRevision, "web", 1).ref == "web:1"
    assert store.next_revision("web") == 2 and store.next_revision("new") == 1
    with pytest.raises(StateError, match="already holds prod/web"):
        store.insert(Service("prod", "web", "web:1", 1))
    with pytest.raises(StateError, match="holds no ghost"):
        store.update(Cluster("ghost"))
    assert store.delete(Task, "t-2") and not store.delete(Task, "t-2")


def test_service_events_keep_the_last_hundred(store: SqliteStateStore) -> None:
    with store.transaction():
        for i in range(EVENTS_KEPT + 20):
            store.add_service_event(ServiceEvent("prod", "web", f"t{i:04d}", f"event {i}"))
        store.add_service_event(ServiceEvent("prod", "api", "t0000", "other"))
    events = store.service_events("prod", "web")
    assert len(events) == EVENTS_KEPT
    assert (events[0].message, events[-1].message) == ("event 20", f"event {EVENTS_KEPT + 19}")
    assert len(store.service_events("prod", "api")) == 1


# -- state pull / push ------------------------------------------------------------------------


def test_export_import_round_trip(store: SqliteStateStore, tmp_path: Path) -> None:
    populate(store)
    exported = json.loads(json.dumps(store.export()))  # JSON-able
    with SqliteStateStore(tmp_path / "other.db") as other:  # fresh (serial 0): adopts the lineage
        meta = other.import_(exported)
        assert meta.lineage == exported["lineage"] and meta.serial > exported["serial"]
        assert content(other.export()) == content(exported)


def test_import_refuses_another_lineage_unless_forced(store: SqliteStateStore, tmp_path: Path) -> None:
    populate(store)
    foreign = SqliteStateStore(tmp_path / "foreign.db")
    foreign.put_resource("taskdef/x", "TaskDefinition", "x", {})
    data = foreign.export()
    foreign.close()
    before = store.export()
    with pytest.raises(StateError, match="lineage .* different states.*--force"):
        store.import_(data)
    assert store.export() == before
    meta = store.import_(data, force=True)
    assert meta.lineage == data["lineage"] and meta.serial > before["serial"]
    assert [r.address for r in store.resources()] == ["taskdef/x"]


def test_import_refuses_an_older_serial_unless_forced(store: SqliteStateStore) -> None:
    populate(store)
    old = store.export()
    store.delete(Task, "t-1")
    serial = store.meta().serial
    with pytest.raises(StateError, match=f"serial {old['serial']}, older than .* serial {serial}"):
        store.import_(old)
    assert store.get(Task, "t-1") is None
    assert store.import_(old, force=True).serial == serial + 1
    assert store.get(Task, "t-1") is not None


def test_import_of_the_same_serial_needs_the_same_content(store: SqliteStateStore) -> None:
    populate(store)
    same = store.export()
    serial = store.meta().serial
    assert store.import_(same).serial == serial  # the state as it is: nothing written
    apart = json.loads(json.dumps(same))
    apart["tasks"] = [t for t in apart["tasks"] if t["id"] != "t-1"]
    with pytest.raises(StateError, match=f"x.json has serial {serial}, the same as this state's, but different content"):
        store.import_(apart, source="x.json")
    assert store.get(Task, "t-1") is not None and store.meta().serial == serial
    assert store.import_(apart, force=True).serial == serial + 1
    assert store.get(Task, "t-1") is None


def test_import_names_the_source_of_bad_data(store: SqliteStateStore) -> None:
    with pytest.raises(StateError, match=r'^x\.json: not an ecsctl state export \(no "format": "ecsctl-state"\)$'):
        store.import_({"hello": 1}, source="x.json")
    with pytest.raises(StateError, match=r"^x\.json: cannot push: unknown key 'surprise'"):
        store.import_({**store.export(), "surprise": []}, source="x.json")


def test_import_refuses_malformed_data(store: SqliteStateStore) -> None:
    good = store.export()
    for bad, message in [
        ({"hello": 1}, "not an ecsctl state export"),
        ({**good, "version": 99}, "newer ecsctl"),
        ({**good, "tasks": [{"id": "t"}]}, r"tasks\[0\]"),
        ({**good, "surprise": []}, "unknown key 'surprise'"),
    ]:
        with pytest.raises(StateError, match=message):
            store.import_(bad)


def test_push_refuses_values_the_state_cannot_hold_and_changes_nothing(store: SqliteStateStore) -> None:
    """Each of these was pushed, said "State replaced", and left a state that plan, tick or every
    command then refused (a serial SQLite turns into a float, a clock that is not a time), or
    that a tick acted on (a negative desired count stops every task)."""
    populate(store)
    good = store.export()
    before = store.meta().serial

    def edited(change) -> dict:
        data = json.loads(json.dumps(good))
        data["serial"] += 1
        change(data)
        return data

    for change, message in [
        (lambda d: d.update(serial=2**63 - 1), r'no valid "serial" \(an integer from 0 to 9007199254740991\)'),
        (lambda d: d.update(serial=10**30), r'no valid "serial"'),
        (lambda d: d.update(serial=True), r'no valid "serial"'),
        (lambda d: d["services"][0].update(desired_count=-3),
         r"^x\.json: cannot push: services\[0\] \(prod/web\): field desired_count: must not be negative, got -3; nothing was changed$"),
        (lambda d: d.update(clock="yesterday"), r'"clock" is not a UTC time such as 2026-01-01T00:00:00Z, got the text \'yesterday\''),
        (lambda d: d["resources"][0].update(address="bogus"), r"resources\[0\] \(bogus\): field address: not an address: 'bogus'"),
        (lambda d: d["tasks"].append(d["tasks"][0]), r"tasks\[2\] \(t-1\): appears twice in the export"),
        (lambda d: d["tasks"][0].pop("id"), r"tasks\[0\]: field id is missing"),
        # a whole collection left out would have emptied it (found by a helper's trial)
        (lambda d: d.pop("tasks"), r"^x\.json: cannot push: the export has no 'tasks' \(an empty list if there are none\); "
                                   r"nothing was changed$"),
        (lambda d: d.pop("service_events"), r"the export has no 'service_events'"),
    ]:
        with pytest.raises(StateError, match=message):
            store.import_(edited(change), source="x.json")
        assert store.meta().serial == before and store.export() == good
    assert store.import_(edited(lambda d: None), source="x.json").serial > before  # the export itself is fine


# -- the lock ---------------------------------------------------------------------------------


def test_a_second_writer_is_refused_with_the_holders_details(store: SqliteStateStore, path: Path) -> None:
    serial = store.meta().serial
    info = store.acquire_lock("ecsctl apply -f manifests/")
    assert store.meta().serial == serial  # locking is not a change of state
    with SqliteStateStore(path) as second:
        with pytest.raises(StateError) as refused:
            second.acquire_lock("ecsctl apply")
        message = str(refused.value)
        details = (str(path), info.id, f"pid {os.getpid()}", info.host, info.created_at)
        for detail in (*details, "ecsctl apply -f manifests/"):
            assert detail in message
        with pytest.raises(StateError, match="state is locked"):
            second.put_resource("taskdef/web", "TaskDefinition", "web", {})
        assert second.meta().serial == serial  # readers need no lock
        assert second.lock_info() == info
    store.put_resource("taskdef/web", "TaskDefinition", "web", {})  # the holder may write


def test_a_link_to_the_state_takes_the_same_lock(store: SqliteStateStore, path: Path) -> None:
    """A symlink to the state file (ECSCTL_STATE pointing at one, say) is the same state: a
    writer through it is refused while another holds the lock, or both would commit at once."""
    store.acquire_lock("ecsctl tick 5d")
    link = path.with_name("link.db")
    link.symlink_to(path.name)
    with SqliteStateStore(link) as second:
        with pytest.raises(StateError, match="ecsctl tick 5d"):
            second.acquire_lock("ecsctl tick 5d")
    assert not link.with_name("link.db.lock").exists()


def test_release_and_force_unlock_need_the_right_id(store: SqliteStateStore, path: Path) -> None:
    info = store.acquire_lock("ecsctl apply")
    with pytest.raises(StateError, match="not acquired by this ecsctl"):
        store.release_lock("wrong")
    store.release_lock(info.id)
    assert store.lock_info() is None

    live = store.acquire_lock("ecsctl apply")
    with SqliteStateStore(path) as other:
        with pytest.raises(StateError, match=f"lock ID wrong does not match .*lock {live.id}"):
            other.force_unlock("wrong")
        with pytest.raises(StateError, match="held right now by a running process"):
            other.force_unlock(live.id)  # the OS lock cannot be taken from a running holder
        store.release_lock(live.id)
        with pytest.raises(StateError, match="not locked"):
            other.force_unlock(live.id)
        with other.locked("ecsctl tick 1m") as mine:
            assert other.lock_info() == mine
        assert other.lock_info() is None


def test_close_releases_the_lock(store: SqliteStateStore, path: Path) -> None:
    store.acquire_lock("ecsctl apply")
    store.close()
    with SqliteStateStore(path) as again:
        assert again.lock_info() is None


# -- files that must not be touched -------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _scribble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[4096 : 4096 * 3] = bytes(random.Random(7).randrange(256) for _ in range(4096 * 2))
    path.write_bytes(bytes(data))


def _newer_version(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("UPDATE meta SET value = 99 WHERE key = 'version'")


def _foreign_database(path: Path) -> None:
    path.unlink()
    with raw(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p.write_bytes(b"this is not a database\n" * 100), "not a SQLite database"),
        (_truncate, "corrupt"),
        (_scribble, "corrupt"),
        (_newer_version, "newer ecsctl .*version 99"),
        (_foreign_database, "not an ecsctl state file"),
    ],
    ids=["garbage", "truncated", "scribbled", "newer-version", "foreign-sqlite"],
)
def test_unusable_files_raise_and_are_left_alone(path: Path, damage, message: str) -> None:
    with SqliteStateStore(path) as s:
        populate(s)
    damage(path)
    before = path.read_bytes()
    with pytest.raises(StateError, match=message) as refused:
        SqliteStateStore(path)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)
    assert path.read_bytes() == before


# -- crashes ------------------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from ecsctl.core.state import Cluster
    from ecsctl.storage.sqlite_store import SqliteStateStore

    store = SqliteStateStore(sys.argv[1])
    store.acquire_lock("crash-test writer")
    n = len(store.find(Cluster))
    print("ready", flush=True)
    while True:
        with store.transaction():
            store.insert(Cluster(f"c{n:06d}", spec={"n": n}))
            store.put_resource(f"cluster/c{n:06d}", "Cluster", f"c{n:06d}", {"n": n})
        n += 1
    """
)


def test_kill_9_at_random_moments_leaves_a_consistent_state(path: Path) -> None:
    SqliteStateStore(path).close()
    rng = random.Random(20240501)
    committed = 0
    for _ in range(4):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert writer.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.01, 0.12))
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            writer.stdout.close()
        with SqliteStateStore(path) as s:
            with raw(path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            names = [c.name for c in s.find(Cluster)]
            assert names == [f"c{i:06d}" for i in range(len(names))]
            assert [r.name for r in s.resources()] == names
            assert s.meta().serial == len(names) >= committed
            committed = len(names)
            stale = s.lock_info()  # the dead writer's lock stays until cleared by its ID
            assert stale is not None and stale.command == "crash-test writer"
            s.force_unlock(stale.id)
    assert committed > 0


def test_tally_and_latest_revisions_answer_in_sql(store: SqliteStateStore) -> None:
    def task(n: int, service: str | None, status: str) -> Task:
        return Task(id=f"t{n}", cluster="prod", group=f"service:{service}", task_definition="web:1",
                    last_status=status, desired_status="RUNNING", service=service)

    with store.transaction():
        for n, (service, status) in enumerate([("web", "RUNNING"), ("web", "RUNNING"), ("web", "STOPPED"),
                                               ("api", "RUNNING"), (None, "RUNNING")]):
            store.insert(task(n, service, status))
        for family, revision in [("web", 1), ("web", 2), ("api", 1)]:
            store.insert(TaskDefinitionRevision(family, revision, {"family": family}))
    assert store.tally(Task, ("cluster", "service"), last_status="RUNNING") == {
        ("prod", "web"): 2, ("prod", "api"): 1, ("prod", None): 1}
    assert store.count(Task, service="web") == 3
    assert store.latest_revisions() == {"web": 2, "api": 1}
    with pytest.raises(TypeError):
        store.tally(Task, ("nope",))


# -- schema migrations ----------------------------------------------------------------------


def _version_1_file(path: Path) -> None:
    """A state file as ecsctl wrote it at schema version 1, with one task in it."""
    from ecsctl.storage.sqlite_store import MIGRATIONS

    path.parent.mkdir(parents=True, exist_ok=True)
    with raw(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in MIGRATIONS[1]:
            conn.execute(statement)
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
            ("version", 1), ("serial", 7), ("lineage", "5b0c1f3e-6a4f-4f57-9d36-1f0b8d6e2a11"),
            ("created_at", "2024-01-01T00:00:00Z")])
        conn.execute(
            'INSERT INTO tasks (id, cluster, "group", task_definition, launch_type, instance_id, '
            "availability_zone, last_status, desired_status, stop_code, stop_reason, host_ports, "
            "started_by, service, cpu, memory, created_at, started_at, stopped_at) VALUES "
            "('t-1', 'prod', 'service:web', 'web:1', 'FARGATE', NULL, 'eu-west-1a', 'RUNNING', "
            "'RUNNING', '', '', '[]', 'ecs-svc/1', 'web', 512, 1024, '2024-01-01T00:00:00Z', "
            "'2024-01-01T00:00:00Z', '')")


def test_a_version_1_state_is_migrated_to_the_current_version(path: Path) -> None:
    _version_1_file(path)
    with SqliteStateStore(path) as s:
        meta = s.meta()
        assert (meta.version, meta.serial) == (SCHEMA_VERSION, 7)  # migrating is not a change of the content
        assert meta.lineage == "5b0c1f3e-6a4f-4f57-9d36-1f0b8d6e2a11"
        task = s.get(Task, "t-1")
        assert (task.availability_zone, task.cpu, task.service) == ("eu-west-1a", 512, "web")
        assert (task.subnet, task.private_ip) == ("", "")
        s.save(dataclasses.replace(task, subnet="subnet-1", private_ip="10.0.0.4"))
        assert s.meta().serial == 8
    with raw(path) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(tasks)")]
        assert columns[-3:] == ["subnet", "private_ip", "exit_code"]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "tasks_subnet" in indexes
    with SqliteStateStore(path) as s:  # reopening an up-to-date file changes nothing
        assert (s.meta().version, s.get(Task, "t-1").private_ip) == (SCHEMA_VERSION, "10.0.0.4")


def test_a_failed_migration_leaves_the_version_1_file_alone(path: Path, monkeypatch) -> None:
    from ecsctl.storage import sqlite_store

    _version_1_file(path)
    monkeypatch.setitem(sqlite_store.MIGRATIONS, 2, (*sqlite_store.MIGRATIONS[2], "NOT SQL"))
    with pytest.raises(StateError):
        SqliteStateStore(path)
    with raw(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0] == 1
        assert "subnet" not in [r[1] for r in conn.execute("PRAGMA table_info(tasks)")]


def test_export_import_round_trips_subnet_and_ip(store: SqliteStateStore, tmp_path: Path) -> None:
    populate(store)
    store.save(Task(id="t-3", cluster="prod", group="service:web", task_definition="web:1",
                    last_status="RUNNING", desired_status="RUNNING", launch_type="FARGATE",
                    availability_zone="eu-west-1b", subnet="subnet-2", private_ip="10.9.32.4"))
    exported = json.loads(json.dumps(store.export()))
    row = next(t for t in exported["tasks"] if t["id"] == "t-3")
    assert (row["subnet"], row["private_ip"]) == ("subnet-2", "10.9.32.4")
    with SqliteStateStore(tmp_path / "other.db") as other:
        other.import_(exported)
        assert content(other.export()) == content(exported)
        assert other.get(Task, "t-3").private_ip == "10.9.32.4"


def test_a_version_1_export_can_be_pushed(store: SqliteStateStore, tmp_path: Path) -> None:
    populate(store)
    old = json.loads(json.dumps(store.export()))
    old["version"] = 1
    for row in old["tasks"]:
        del row["subnet"], row["private_ip"]
    for later in ("sim_state", "history", "resource_sources"):  # tables versions 4 and 5 added
        del old[later]
    with SqliteStateStore(tmp_path / "other.db") as other:
        meta = other.import_(old)
        assert meta.version == SCHEMA_VERSION
        tasks = other.find(Task)
        assert [t.id for t in tasks] == ["t-1", "t-2"]
        assert all((t.subnet, t.private_ip) == ("", "") for t in tasks)


def test_simulation_state_and_history_records(path: Path) -> None:
    """Version 4: what the clock keeps per object, and the histories it appends to; both travel in exports."""
    from ecsctl.core.state.ports import HistoryEntry, SimState

    with SqliteStateStore(path) as s:
        with s.transaction():
            s.save(SimState("ScalingState", "prod/web", {"desired": 4, "cooldownUntil": 120}))
            s.save(HistoryEntry("ScalingActivity", "prod/web", "2026-01-01T00:05:00Z#000000", "2026-01-01T00:05:00Z",
                                {"cause": "monitor alarm in state ALARM", "desiredCount": 4}))
            s.save(HistoryEntry("ScalingActivity", "prod/web", "2026-01-01T00:01:00Z#000000", "2026-01-01T00:01:00Z",
                                {"desiredCount": 3}))
        assert s.get(SimState, "ScalingState", "prod/web").data["desired"] == 4
        found = s.find(HistoryEntry, kind="ScalingActivity", name="prod/web")
        assert [h.at for h in found] == ["2026-01-01T00:01:00Z", "2026-01-01T00:05:00Z"]  # ids keep time order
        exported = s.export()
        task = Task(id="t-9", cluster="prod", group="family:job", task_definition="job:1", last_status="STOPPED",
                    desired_status="STOPPED", exit_code=3)
        s.save(task)
        assert s.get(Task, "t-9").exit_code == 3
    other = path.parent / "other.db"
    with SqliteStateStore(other) as s:
        s.import_(exported, force=True)
        assert len(s.find(HistoryEntry)) == 2 and s.get(SimState, "ScalingState", "prod/web") is not None
