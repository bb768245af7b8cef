"""``resource_sources`` (schema version 5): where the last apply read each resource from."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from ecsctl.storage.sqlite_store import MIGRATIONS, SCHEMA_VERSION, SqliteStateStore


def _version_4_file(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for version in (1, 2, 4):  # 3 seals values and sets a key: none stored here
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
            ("version", 4), ("serial", 3), ("lineage", "5b0c1f3e-6a4f-4f57-9d36-1f0b8d6e2a11"),
            ("created_at", "2024-01-01T00:00:00Z"), ("digest_key", "ab" * 32)])
        conn.execute("INSERT INTO resources VALUES ('parameter/db', 'Parameter', 'db', '{\"type\":\"String\"}', 3)")


def test_a_version_4_state_reads_as_holding_no_sources_and_is_migrated_on_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _version_4_file(path)
    with SqliteStateStore(path, create=False) as s:
        assert s.sources() == {} and s.meta().version == 4  # read as it is: the file is not written
    with SqliteStateStore(path) as s:
        s.put_sources({"parameter/db": "m/db.yaml"})
        assert (s.meta().version, s.meta().serial) == (SCHEMA_VERSION, 4) == (5, 4)
        assert s.sources() == {"parameter/db": "m/db.yaml"}
        s.put_sources({"parameter/db": "m/db.yaml"})  # the same path again is not a change
        assert s.meta().serial == 4
        s.put_sources({})
        assert s.meta().serial == 4


def test_deleting_a_resource_forgets_where_it_was_read_from(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / "s.db") as s:
        s.put_resource("parameter/db", "Parameter", "db", {"type": "String"})
        s.put_sources({"parameter/db": "m/db.yaml", "parameter/other": "m/o.yaml"})
        assert s.delete_resource("parameter/db")
        assert s.sources() == {"parameter/other": "m/o.yaml"}


def test_sources_travel_with_state_pull_and_push(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / "a.db") as a:
        a.put_resource("parameter/db", "Parameter", "db", {"type": "String"})
        a.put_sources({"parameter/db": "m/db.yaml"})
        data = a.export()
    assert data["resource_sources"] == [{"address": "parameter/db", "path": "m/db.yaml"}]
    with SqliteStateStore(tmp_path / "b.db") as b:
        b.import_(data)
        assert b.sources() == {"parameter/db": "m/db.yaml"}
    older = {k: v for k, v in data.items() if k != "resource_sources"} | {"version": 4}
    with SqliteStateStore(tmp_path / "c.db") as c:  # an export of version 4 has no such list
        c.import_(older)
        assert c.sources() == {} and c.get_resource("parameter/db") is not None


def test_the_backend_travels_with_state_pull_and_push(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / "a.db") as a:
        a.put_resource("cluster/prod", "Cluster", "prod", {})
        a.set_backend("aws")
        data = a.export()
    assert data["backend"] == "aws"
    with SqliteStateStore(tmp_path / "b.db") as b:
        b.set_backend("local")
        b.import_(data, force=True)
        assert b.backend() == "aws"
        b.import_({k: v for k, v in data.items() if k != "backend"}, force=True)  # an export that does not say
        assert b.backend() is None
