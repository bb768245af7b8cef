"""The state file: one SQLite database (stdlib ``sqlite3``) that implements ``StateStore``.

Default location ``.ecsctl/state.db`` (``--state`` / ``ECSCTL_STATE``, chosen by the CLI).

File and connection
    Nothing is written until a change is committed: a store opened on a missing path (or on an
    empty file) is an empty state in memory, so a refused command leaves no file behind. The
    first commit writes the new database to a temporary file and links it into place (mode
    0600, missing parent directories 0700; an empty file is initialised in place, with a
    note). SQLite gives the ``-wal`` and ``-shm`` side files the same mode. Journal mode is WAL,
    so readers (plan, get, state pull) never block the writer and vice versa.
    ``synchronous=FULL``: in WAL mode NORMAL already survives a crash or ``kill -9`` of ecsctl
    itself, but may lose the last commits on a power cut or OS crash; an apply against real ECS
    must not forget a service it created, and FULL costs one fsync of the WAL per commit.

Opening
    An existing file is inspected through a *read-only* connection (``file:…?mode=ro``; in a
    directory this user cannot write to, ``immutable=1`` when the WAL is empty): SQLite header,
    ``PRAGMA application_id`` (ours is ``APPLICATION_ID``, set on creation; 0 for files of
    versions 1-2), ``PRAGMA quick_check``, the ``meta`` table and its schema ``version``. A file
    that is not SQLite, a database of another application, a corrupt database, or a version
    newer than ``SCHEMA_VERSION`` raises a one-line ``StateError`` and is never modified. Only a
    truly empty file (0 bytes, or a database with no schema and no application id) is taken as
    a new state, and only by a store that may create one, when it first writes. The read-only
    connection serves every read; the first write switches to a writing connection and, for an
    older version, first migrates: ``MIGRATIONS`` maps version N to the steps that turn N-1
    into N; they run in order, in one ``BEGIN IMMEDIATE`` transaction, with the new ``version``.
    Versions from ``READABLE_FROM`` on are read as they are until then.

Sensitive values
    Every JSON column is written through ``Sealer.seal`` (``ecsctl.core.sensitive``): each
    sensitive-looking value becomes ``<sensitive:hmac-sha256:…>``, an HMAC keyed with the
    state's random ``digest_key`` (meta), which tells a changed value from an unchanged one and
    nothing else. Read back, a spec holding digests is a ``SealedSpec`` that compares equal to
    the plain spec it was made from. A state from before version 3 is sealed on read with a
    passing key, and for good by migration 3 (with ``secure_delete``, then a WAL checkpoint).
    ``state pull`` exports the digests and the key; ``state push`` adopts both.

Transactions and serial
    Every change runs in ``BEGIN IMMEDIATE … COMMIT``. On commit, if the transaction changed any
    row (``total_changes`` moved; writes of identical values are filtered out in SQL, so they do
    not count), ``meta.serial`` goes up by one in the same transaction. An exception rolls
    everything back. Because each step commits on its own, a ``kill -9`` at any moment leaves the
    state as of the last commit. The crash test chooses its moments by serial: with
    ``ECSCTL_CRASH_AT=after:S`` (``before:S``) the process kills itself with SIGKILL right after
    committing serial S (inside the transaction that would); see ``_crash_point``.

Lock
    ``ecsctl.storage.lock``: an OS file lock on ``<state>.lock`` (``filelock``), released by the
    kernel when its holder dies, and a record in that file naming the holder. A second writer is
    refused at once with the holder's details, without touching SQLite, even while the holder
    is inside a long transaction. A transaction of a store that does not hold the lock holds it
    for the transaction. A record left by a process that is gone (same host) is taken over with a
    note; one from another host is cleared by ``force_unlock(id)``, only with its ID. Taking or
    releasing the lock does not write to the database. ``busy_timeout`` (5 s) only covers
    SQLite's own per-transaction write lock, which is held for milliseconds.

Schema version 5 (JSON text for flexible fields, real columns for what is queried or indexed)

    meta                 key TEXT PK, value — rows: version, serial, lineage (UUID4), created_at,
                         digest_key (hex, version 3), backend (local | aws, once applied)
    lock                 slot=1 PK, id, pid, host, command, created_at (unused since version 3)
    clock                slot=1 PK, now — the simulation's current time (ISO 8601 UTC)
    resources            address PK (taskdef/web, service/prod/web), kind, name,
                         spec JSON (last-applied canonical spec), applied_serial
    resource_sources     address PK, path — the manifest file the last apply read each resource
                         from (``ResourceSource``; version 5)
    clusters             name PK, status, spec JSON, created_at
    container_instances  id PK, cluster, group_name, instance_type, availability_zone,
                         attributes JSON, status, agent_connected 0/1, agent_version,
                         registered_cpu/memory/gpu, remaining_cpu/memory, reserved_ports JSON,
                         running_tasks_count, pending_tasks_count, registered_at
    task_definitions     (family, revision) PK, status ACTIVE/INACTIVE, spec JSON, registered_at
    services             (cluster, name) PK, task_definition, desired_count, running_count,
                         pending_count, status, spec JSON, created_at, updated_at
    deployments          id PK, cluster, service, task_definition, status PRIMARY/ACTIVE/INACTIVE,
                         desired/pending/running counts, failed_tasks, rollout_state,
                         rollout_state_reason, created_at, updated_at
    service_events       seq PK, cluster, service, at, message — last 100 per service kept
    tasks                id PK, cluster, "group", task_definition, launch_type, instance_id
                         (NULL on Fargate), availability_zone, last_status, desired_status,
                         stop_code, stop_reason, host_ports JSON, started_by, service, cpu,
                         memory, created_at, started_at, stopped_at, subnet, private_ip
                         ('' unless awsvpc; added by version 2), exit_code (NULL until the
                         essential container exited; version 4)
    target_registrations (target_group, target_id, port) PK, task_id
    catalogue            (kind, name) PK, spec JSON — parameters, secrets, repositories, …
    sim_state            (kind, name) PK, data JSON — what the simulated clock keeps per object
                         (a service's scaling engine, a queue, a rule's last firing; version 4)
    history              (kind, name, id) PK, at, data JSON — scaling activities, metric
                         datapoints, rule firings, appended as the clock moves (version 4)

Version history: 1 — the tables above but for the last two task columns; 2 — ``tasks.subnet``
and ``tasks.private_ip`` (both ``''`` for tasks written by version 1) and the index
``tasks_subnet (subnet, last_status)``; 3 — ``meta.digest_key``, every stored sensitive-looking
value sealed, the application id set, the ``lock`` table emptied (the lock moved to a file);
4 — ``tasks.exit_code`` and the ``sim_state`` and ``history`` tables; 5 — ``resource_sources``.
An export of any version up to ``SCHEMA_VERSION`` can be pushed: fields it lacks take the
record's defaults.

Columns are the fields of the records in ``ecsctl.core.state.ports`` (same names); JSON is
stored canonical (sorted keys, compact) so identical specs compare equal in SQL.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import uuid
from contextlib import closing, contextmanager
from dataclasses import MISSING as MISSING_FIELD, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Union
from urllib.parse import quote

from ecsctl.core.plan.model import parse_address
from ecsctl.core.sensitive import DIGEST_PREFIX, Sealer, SealedSpec
from ecsctl.core.state.clock import is_clock
from ecsctl.core.state.fields import (FieldType, describe, field_types, negative_field, record_problem,
                                      wrong_field)

from ecsctl.core.state.ports import (
    EVENTS_KEPT,
    JSON,
    CatalogueEntry,
    Cluster,
    ContainerInstance,
    Deployment,
    HistoryEntry,
    LockInfo,
    R,
    Resource,
    ResourceSource,
    Service,
    ServiceEvent,
    SimState,
    StateMeta,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
    WorldRecord,
)
from ecsctl.errors import StateError
from ecsctl.storage.lock import StateLock

SCHEMA_VERSION = 5
MAX_SERIAL = 2**53 - 1  # what JSON readers keep exact; far from SQLite's 2**63 - 1, which a commit would overflow
READABLE_FROM = 2  # versions 2.. can be read as they are: a reader need not upgrade them (see _present_as_current)
APPLICATION_ID = 0x45435343  # "ECSC" in the SQLite header: a database of ours, set on creation
EXPORT_FORMAT = "ecsctl-state"
BUSY_TIMEOUT_SECONDS = 5.0
_SQLITE_HEADER = b"SQLite format 3\x00"
_CORRUPT_ADVICE = "nothing was changed; restore a copy or `ecsctl state push` a saved export"

Seal = Callable[[Any], Any]


def _seal_stored_values(conn: sqlite3.Connection, key: str | None) -> None:
    """Migration 3: a random digest key, and every sensitive-looking value already stored
    replaced by its digest (``ecsctl.core.sensitive``)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'digest_key'").fetchone()
    if row is None:
        key = key or secrets.token_hex(32)
        conn.execute("INSERT INTO meta (key, value) VALUES ('digest_key', ?)", (key,))
    else:
        key = row[0]
    sealer = Sealer(bytes.fromhex(key))
    existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in _SEALED_TABLES:
        if table.name not in existing:  # made by a later migration, sealed as it is written
            continue
        columns = [c for c in table.columns if c.codec == "json"]
        names = ", ".join(c.sql for c in columns)
        for rowid, *values in conn.execute(f"SELECT rowid, {names} FROM {table.name}").fetchall():
            try:
                sealed = [_canonical_json(sealer.seal(json.loads(v))) for v in values]
            except ValueError as exc:
                raise ValueError(f"a row of table {table.name} holds invalid JSON ({exc})") from None
            if sealed != values:
                sets = ", ".join(f"{c.sql} = ?" for c in columns)
                conn.execute(f"UPDATE {table.name} SET {sets} WHERE rowid = ?", (*sealed, rowid))


Migration = Union[str, Callable[[sqlite3.Connection, Union[str, None]], None]]

# version -> statements (SQL, or a function of the connection and the digest key to use) that
# upgrade version-1 to version. Append; never edit a shipped one.
MIGRATIONS: dict[int, tuple[Migration, ...]] = {
    1: (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL)",
        """CREATE TABLE lock (slot INTEGER PRIMARY KEY CHECK (slot = 1), id TEXT NOT NULL,
            pid INTEGER NOT NULL, host TEXT NOT NULL, command TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE TABLE clock (slot INTEGER PRIMARY KEY CHECK (slot = 1), now TEXT NOT NULL)",
        """CREATE TABLE resources (address TEXT PRIMARY KEY, kind TEXT NOT NULL,
            name TEXT NOT NULL, spec TEXT NOT NULL, applied_serial INTEGER NOT NULL)""",
        "CREATE INDEX resources_kind ON resources (kind)",
        """CREATE TABLE clusters (name TEXT PRIMARY KEY, status TEXT NOT NULL,
            spec TEXT NOT NULL, created_at TEXT NOT NULL)""",
        """CREATE TABLE container_instances (id TEXT PRIMARY KEY, cluster TEXT NOT NULL,
            group_name TEXT NOT NULL, instance_type TEXT NOT NULL,
            availability_zone TEXT NOT NULL, attributes TEXT NOT NULL, status TEXT NOT NULL,
            agent_connected INTEGER NOT NULL, agent_version TEXT NOT NULL,
            registered_cpu INTEGER NOT NULL, registered_memory INTEGER NOT NULL,
            registered_gpu INTEGER NOT NULL, remaining_cpu INTEGER NOT NULL,
            remaining_memory INTEGER NOT NULL, reserved_ports TEXT NOT NULL,
            running_tasks_count INTEGER NOT NULL, pending_tasks_count INTEGER NOT NULL,
            registered_at TEXT NOT NULL)""",
        "CREATE INDEX container_instances_cluster ON container_instances (cluster, status)",
        """CREATE TABLE task_definitions (family TEXT NOT NULL, revision INTEGER NOT NULL,
            status TEXT NOT NULL, spec TEXT NOT NULL, registered_at TEXT NOT NULL,
            PRIMARY KEY (family, revision))""",
        """CREATE TABLE services (cluster TEXT NOT NULL, name TEXT NOT NULL,
            task_definition TEXT NOT NULL, desired_count INTEGER NOT NULL,
            running_count INTEGER NOT NULL, pending_count INTEGER NOT NULL,
            status TEXT NOT NULL, spec TEXT NOT NULL, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, PRIMARY KEY (cluster, name))""",
        """CREATE TABLE deployments (id TEXT PRIMARY KEY, cluster TEXT NOT NULL,
            service TEXT NOT NULL, task_definition TEXT NOT NULL, status TEXT NOT NULL,
            desired_count INTEGER NOT NULL, pending_count INTEGER NOT NULL,
            running_count INTEGER NOT NULL, failed_tasks INTEGER NOT NULL,
            rollout_state TEXT NOT NULL, rollout_state_reason TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
        "CREATE INDEX deployments_service ON deployments (cluster, service)",
        """CREATE TABLE service_events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster TEXT NOT NULL, service TEXT NOT NULL, at TEXT NOT NULL,
            message TEXT NOT NULL)""",
        "CREATE INDEX service_events_service ON service_events (cluster, service, seq)",
        """CREATE TABLE tasks (id TEXT PRIMARY KEY, cluster TEXT NOT NULL,
            "group" TEXT NOT NULL, task_definition TEXT NOT NULL, launch_type TEXT NOT NULL,
            instance_id TEXT, availability_zone TEXT NOT NULL, last_status TEXT NOT NULL,
            desired_status TEXT NOT NULL, stop_code TEXT NOT NULL, stop_reason TEXT NOT NULL,
            host_ports TEXT NOT NULL, started_by TEXT NOT NULL, service TEXT,
            cpu INTEGER NOT NULL, memory INTEGER NOT NULL, created_at TEXT NOT NULL,
            started_at TEXT NOT NULL, stopped_at TEXT NOT NULL)""",
        "CREATE INDEX tasks_cluster_status ON tasks (cluster, last_status)",
        "CREATE INDEX tasks_instance ON tasks (instance_id)",
        'CREATE INDEX tasks_group ON tasks ("group")',
        "CREATE INDEX tasks_service ON tasks (cluster, service)",
        """CREATE TABLE target_registrations (target_group TEXT NOT NULL,
            target_id TEXT NOT NULL, port INTEGER NOT NULL, task_id TEXT NOT NULL,
            PRIMARY KEY (target_group, target_id, port))""",
        "CREATE INDEX target_registrations_task ON target_registrations (task_id)",
        """CREATE TABLE catalogue (kind TEXT NOT NULL, name TEXT NOT NULL,
            spec TEXT NOT NULL, PRIMARY KEY (kind, name))""",
    ),
    2: (  # awsvpc tasks: the subnet they run in and the private IP allocated from it
        "ALTER TABLE tasks ADD COLUMN subnet TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE tasks ADD COLUMN private_ip TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX tasks_subnet ON tasks (subnet, last_status)",
    ),
    3: (  # no plain sensitive value in the file; the lock lives in the OS-locked <state>.lock file
        _seal_stored_values,
        "DELETE FROM lock",
    ),
    4: (  # the simulated clock's work: scaling, queues, rules, batch tasks that exit
        "ALTER TABLE tasks ADD COLUMN exit_code INTEGER",
        """CREATE TABLE sim_state (kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
            PRIMARY KEY (kind, name))""",
        """CREATE TABLE history (kind TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL,
            at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name, id))""",
        "CREATE INDEX history_at ON history (kind, at)",
    ),
    5: (  # where each resource's manifest was read from, for the plan's left-out guard
        "CREATE TABLE resource_sources (address TEXT PRIMARY KEY, path TEXT NOT NULL)",
    ),
}
assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


def _upgrade(conn: sqlite3.Connection, version: int, key: str | None = None) -> None:
    """Run the migrations after ``version`` (0: a new state) and mark the file as ours."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for step in MIGRATIONS[target]:
            if callable(step):
                step(conn, key)
            else:
                conn.execute(step)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (target,),
        )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _present_as_current(conn: sqlite3.Connection, version: int) -> None:
    """Let a reader see an older (readable) state in the current shape without changing the
    file: TEMP objects (kept in memory, and found before the file's own tables) stand in for
    what later versions add, as the migrations would make them."""
    query_only = conn.execute("PRAGMA query_only").fetchone()[0]
    conn.execute("PRAGMA query_only = OFF")  # TEMP objects only: the file is not written
    conn.execute("PRAGMA temp_store = MEMORY")
    with closing(conn.cursor()) as cur:
        if version < 4:  # tasks.exit_code, sim_state, history
            columns = ", ".join(c.sql for c in _WORLD[Task].columns if c.name != "exit_code")
            cur.execute(f"CREATE TEMP VIEW tasks AS SELECT {columns}, NULL AS exit_code FROM main.tasks")
            cur.execute("CREATE TEMP TABLE sim_state (kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, "
                        "PRIMARY KEY (kind, name))")
            cur.execute("CREATE TEMP TABLE history (kind TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL, "
                        "at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name, id))")
        if version < 5:  # resource_sources
            cur.execute("CREATE TEMP TABLE resource_sources (address TEXT PRIMARY KEY, path TEXT NOT NULL)")
    if query_only:
        conn.execute("PRAGMA query_only = ON")


def _create(conn: sqlite3.Connection, *, lineage: str, created_at: str, key: str) -> None:
    """The tables and meta rows of a new state (serial 0) in an empty database."""
    _upgrade(conn, 0, key)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [("serial", 0), ("lineage", lineage), ("created_at", created_at)],
    )


@contextmanager
def _begin(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# ---------------------------------------------------------------------------------------------
# Record <-> row mapping: one table per record type, columns named like the dataclass fields.


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class _Column:
    """A record field as a column: ``codec`` is ``json`` (dict as canonical JSON text),
    ``tuple`` (tuple of ints as a JSON list), ``bool`` (0/1) or ``plain``."""

    name: str
    codec: str

    @property
    def sql(self) -> str:
        return f'"{self.name}"'

    def encode(self, value: Any, seal: Seal | None = None) -> Any:
        if self.codec == "json":
            return _canonical_json(seal(value) if seal is not None else value)
        if self.codec == "tuple":
            return _canonical_json(list(value))
        if self.codec == "bool":
            return 1 if value else 0
        return value

    def decode(self, value: Any) -> Any:
        """The column's text back to a value, without unsealing anything (``_Table.from_row``
        is what the store uses)."""
        if self.codec == "json":
            return json.loads(value)
        if self.codec == "tuple":
            return tuple(json.loads(value))
        if self.codec == "bool":
            return bool(value)
        return value

    def from_json(self, value: Any) -> Any:
        """An exported value back to the record's type (JSON has lists, not tuples)."""
        return tuple(value) if self.codec == "tuple" and isinstance(value, list) else value


class _WrongType(ValueError):
    """A value that does not have its field's type (``ecsctl.core.state.fields``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"field {field}: {problem}")


def _why(exc: Exception) -> str:
    """What a row that cannot be read has wrong, for the one-line messages that name it."""
    return str(exc) if isinstance(exc, _WrongType) else f"{type(exc).__name__}: {exc}"


# item type -> column text -> its tuple, checked against the field's rule: a few thousand
# distinct port lists among 100,000 rows
_TUPLES: dict[type | None, dict[Any, tuple]] = {}
_BOOLS = {0: False, 1: True}  # a bool column holds 0 or 1; anything else stays as it is (and is refused)


def _decode_tuple(value: Any, rule: FieldType, cache: dict[Any, tuple]) -> tuple:
    found = cache.get(value)
    if found is None:
        loaded = json.loads(value)
        found = tuple(loaded) if isinstance(loaded, list) else loaded
        problem = rule.problem(found)
        if problem is not None:
            raise _WrongType(rule.name, problem)
        if isinstance(value, str) and len(value) < 64:
            if len(cache) >= 50_000:
                cache.clear()
            cache[value] = found
    return found


def _column(name: str, annotation: str) -> _Column:
    if annotation == "JSON":
        return _Column(name, "json")
    if annotation.startswith("tuple["):
        return _Column(name, "tuple")
    if annotation == "bool":
        return _Column(name, "bool")
    return _Column(name, "plain")


class _Table:
    """How one record type is stored: table name, key columns, and the columns whose change
    makes a write count (all non-key columns unless told otherwise). A row is read back only
    if its values have the types of the record's fields (``ecsctl.core.state.fields``)."""

    def __init__(self, record_type: type, name: str, key: tuple[str, ...],
                 compare: tuple[str, ...] | None = None) -> None:
        self.record_type = record_type
        self.name = name
        self.columns = tuple(_column(f.name, str(f.type)) for f in fields(record_type))
        by_name = {c.name: c for c in self.columns}
        self.key = tuple(by_name[k] for k in key)
        rest = tuple(c for c in self.columns if c.name not in key)
        self.rest = rest
        self.compare = rest if compare is None else tuple(by_name[c] for c in compare)
        self.by_name = by_name
        self.fields = field_types(record_type)
        self._types = tuple(rule.types for rule in self.fields)  # what isinstance accepts, per column
        self._decoders = tuple(
            (i, c.codec, rule, _TUPLES.setdefault(rule.items, {}) if c.codec == "tuple" else None)
            for i, (c, rule) in enumerate(zip(self.columns, self.fields)) if c.codec != "plain"
        )
        self._key_at = tuple(self.columns.index(c) for c in self.key)
        cols = ", ".join(c.sql for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        key_where = " AND ".join(f"{c.sql} = ?" for c in self.key)
        changed = " OR ".join(f"{c.sql} IS NOT excluded.{c.sql}" for c in self.compare) or "0"
        self.order_by = ", ".join(c.sql for c in self.key)
        self.select = f"SELECT {cols} FROM {name}"
        self.insert = f"INSERT INTO {name} ({cols}) VALUES ({marks})"
        self.upsert = (
            f"{self.insert} ON CONFLICT ({', '.join(c.sql for c in self.key)}) DO UPDATE SET "
            + ", ".join(f"{c.sql} = excluded.{c.sql}" for c in rest)
            + f" WHERE {changed}"
        )
        self.exists = f"SELECT 1 FROM {name} WHERE {key_where}"
        self.delete = f"DELETE FROM {name} WHERE {key_where}"

    def to_row(self, record: Any, seal: Seal | None = None) -> tuple:
        """The row for ``record``; ``seal`` replaces sensitive-looking values in JSON columns."""
        return tuple(c.encode(getattr(record, c.name), seal) for c in self.columns)

    def from_row(self, row: tuple, load_json: Callable[[str], Any] = json.loads) -> Any:
        """The record of ``row``; a ValueError or TypeError if a column cannot be decoded or a
        value does not have its field's type."""
        # Only the non-plain columns need decoding: patch those in place (hot: every find()).
        decoders = self._decoders
        if decoders:
            row = list(row)
            for i, codec, rule, cache in decoders:
                value = row[i]
                row[i] = (load_json(value) if codec == "json" else _decode_tuple(value, rule, cache)
                          if codec == "tuple" else _BOOLS.get(value, value))
        # one C-level pass over the row (hot); tuple items were checked as they were decoded
        if not all(map(isinstance, row, self._types)):
            wrong = wrong_field(self.record_type, row)
            if wrong is not None:
                raise _WrongType(*wrong)
        return self.record_type(*row)

    def row_key(self, row: tuple) -> str:
        """The primary key of a row as messages name it (``prod/web``)."""
        return "/".join(str(row[i]) for i in self._key_at)

    def key_of(self, record: Any) -> tuple:
        return tuple(getattr(record, c.name) for c in self.key)

    def to_json(self, record: Any) -> JSON:
        out = {}
        for c in self.columns:
            value = getattr(record, c.name)
            out[c.name] = list(value) if isinstance(value, tuple) else value
        return out

    def from_json(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("not an object")
        unknown = sorted(set(data) - set(self.by_name))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}")
        values = {k: self.by_name[k].from_json(v) for k, v in data.items()}
        missing = [f.name for f in fields(self.record_type) if f.name not in values and f.init
                   and f.default is MISSING_FIELD and f.default_factory is MISSING_FIELD]
        if missing:
            raise ValueError(f"field {missing[0]} is missing")
        try:
            record = self.record_type(**values)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        wrong = record_problem(record)
        if wrong is not None:
            raise _WrongType(*wrong)
        return record


_RESOURCES = _Table(Resource, "resources", ("address",), compare=("kind", "name", "spec"))
_SOURCES = _Table(ResourceSource, "resource_sources", ("address",))
_WORLD: dict[type, _Table] = {
    t.record_type: t
    for t in (
        _Table(Cluster, "clusters", ("name",)),
        _Table(ContainerInstance, "container_instances", ("id",)),
        _Table(TaskDefinitionRevision, "task_definitions", ("family", "revision")),
        _Table(Service, "services", ("cluster", "name")),
        _Table(Deployment, "deployments", ("id",)),
        _Table(Task, "tasks", ("id",)),
        _Table(TargetRegistration, "target_registrations", ("target_group", "target_id", "port")),
        _Table(CatalogueEntry, "catalogue", ("kind", "name")),
        _Table(SimState, "sim_state", ("kind", "name")),
        _Table(HistoryEntry, "history", ("kind", "name", "id")),
    )
}
_EVENTS = _Table(ServiceEvent, "service_events", ("cluster", "service"))  # seq is implicit
_EXPORT_TABLES: tuple[_Table, ...] = (_RESOURCES, _SOURCES, *_WORLD.values())
_SEALED_TABLES = tuple(t for t in _EXPORT_TABLES if any(c.codec == "json" for c in t.columns))
# the schema version whose migration created each table (an export of an older one may lack it)
_TABLE_SINCE = {m.group(1): version for version, steps in MIGRATIONS.items() for step in steps
                if isinstance(step, str) for m in [re.match(r"\s*CREATE TABLE (\w+)", step)] if m}


def _crash_point(text: str | None) -> tuple[str, int] | None:
    """``ECSCTL_CRASH_AT``, for the crash test only: ``after:S`` (or ``S``) kills this process
    with SIGKILL right after it commits serial S; ``before:S`` inside the transaction that would
    commit it. A moment chosen from the state's own step log (its serial), not by sleeping."""
    if not text:
        return None
    when, _, serial = text.rpartition(":")
    if when not in ("", "before", "after") or not serial.isdigit():
        return None
    return (when or "after", int(serial))


_CRASH_POINT = _crash_point(os.environ.get("ECSCTL_CRASH_AT"))


def _crash_if_due(conn: sqlite3.Connection, when: str) -> None:
    if _CRASH_POINT[0] != when:
        return
    serial = conn.execute("SELECT value FROM meta WHERE key = 'serial'").fetchone()[0]
    if serial == _CRASH_POINT[1]:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def check_location(path: Path) -> None:
    """A StateError if no state file can be at ``path``: a directory, or a path under a
    regular file (``--state FILE/state.db``)."""
    if path.is_dir():
        raise StateError(f"{path}: is a directory, not a state file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StateError(f"{path}: {parent} is a file, not a directory, so no state file can be under it")
            return


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------


class SqliteStateStore:
    """The state file. Open it, read freely, change it in ``transaction()`` blocks, ``close()``.

    >>> store = SqliteStateStore(".ecsctl/state.db")          # doctest: +SKIP
    >>> with store.locked("ecsctl apply"), store.transaction():  # doctest: +SKIP
    ...     store.put_resource("taskdef/web", "TaskDefinition", "web", spec)
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True,
                 on_note: Callable[[str], None] | None = None, digest_key: str | None = None) -> None:
        """Open the state file at ``path`` for reading. A missing (or empty) file is a new, empty
        state that is written only when a change is committed; with ``create=False``, as readers
        such as ``ecsctl get`` want, it is a StateError instead. ``on_note`` receives one-line
        notes for the user (an empty file initialised, a stale lock taken over). ``digest_key``:
        the key a *new* state seals with (another state's ``digest_key()``, so that a throw-away
        copy of it compares its digests); a random one by default."""
        self.path = Path(path)
        self._new_key = digest_key
        self._note = on_note or (lambda line: None)
        self._conn: sqlite3.Connection | None = None
        self._depth = 0
        self._lock = StateLock(self.path, self._fail, lambda line: self._note(f"{self.path}: {line}"))
        self._mode = "closed"  # "new" (nothing on disk yet), "read" or "write"
        self._empty_file = False  # "new" over an existing empty file: initialised in place
        self._version = SCHEMA_VERSION
        self._sealer: Sealer | None = None
        self._seal_on_read = False  # a state from before digests: seal what is read, with a passing key
        self._made: list[Path] = []  # directories made for a state not written yet (removed if it never is)
        check_location(self.path)
        if not self.path.exists():
            if not create:
                raise self._fail("no state file here; run `ecsctl apply` first or pass --state")
            self._open_new()
            return
        version, conn = self._inspect()
        if conn is None:
            if not create:
                raise self._fail("is an empty file, not a state yet; `ecsctl apply` initialises it")
            self._empty_file = True
            self._open_new()
            return
        self._conn, self._mode, self._version = conn, "read", version
        try:
            if READABLE_FROM <= version < SCHEMA_VERSION:
                _present_as_current(conn, version)
            if version < READABLE_FROM:  # older tables than this ecsctl can read: upgrade first
                with self._locked_briefly():
                    self._writable()
            self._load_sealer()
        except BaseException:
            self.close()
            raise

    # -- opening ---------------------------------------------------------------------------

    def _fail(self, what: str) -> StateError:
        return StateError(f"{self.path}: " + " ".join(str(what).split()))

    def _inspect(self) -> tuple[int, sqlite3.Connection | None]:
        """Look at an existing file without changing it: its schema version and a connection to
        read it with, or (0, None) for a file that is truly empty (0 bytes, or a SQLite database
        with nothing in it and no application id). Anything else that is not our state raises.

        A first look goes through an immutable connection, which makes no ``-wal``/``-shm``
        files: a database of another program is refused before anything is created next to it.
        """
        try:
            with open(self.path, "rb") as f:
                header = f.read(len(_SQLITE_HEADER))
        except OSError as exc:
            raise self._fail(f"cannot read the state file: {exc.strerror or exc}") from exc
        if not header:
            return 0, None
        if header != _SQLITE_HEADER:
            raise self._fail("is not an ecsctl state file (not a SQLite database); nothing was changed")
        wal = self.path.with_name(self.path.name + "-wal")
        pending = wal.exists() and wal.stat().st_size > 0  # the first look cannot see the WAL
        try:
            first = self._connect(immutable=True)
        except sqlite3.Error as exc:
            raise self._fail(f"cannot be opened: {exc}") from exc
        try:
            app_id, tables, marked = self._identify(first)
        finally:
            first.close()
        if not pending and not tables:
            if app_id or marked:
                raise self._fail(f"is an empty SQLite database marked by another program "
                                 f"(application_id {app_id:#x}); nothing was changed")
            return 0, None
        if not pending and "meta" not in tables:
            raise self._fail("is a SQLite database but not an ecsctl state file (no meta table); nothing was changed")
        conn = self._connect_read()
        try:
            app_id, tables, marked = self._identify(conn)
            check = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if check != ["ok"]:
                raise self._fail(f"state file is corrupt (quick_check: {'; '.join(check[:3])}); {_CORRUPT_ADVICE}")
            if not tables and not app_id and not marked:
                conn.close()
                return 0, None
            if "meta" not in tables:
                raise self._fail("is a SQLite database but not an ecsctl state file (no meta table); nothing was changed")
            try:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            except sqlite3.OperationalError:
                raise self._fail("is a SQLite database but not an ecsctl state file (its meta table is not ours); "
                                 "nothing was changed") from None
            version = meta.get("version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise self._fail("state file has no valid schema version in its meta table")
            if version > SCHEMA_VERSION:
                raise self._fail(
                    f"was written by a newer ecsctl (state schema version {version}; this ecsctl "
                    f"reads up to {SCHEMA_VERSION}); upgrade ecsctl; nothing was changed"
                )
            if not isinstance(meta.get("serial"), int) or not isinstance(meta.get("lineage"), str):
                raise self._fail("state file's meta table has no valid serial or lineage")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._fail(f"state file is corrupt ({exc}); {_CORRUPT_ADVICE}") from exc
        except BaseException:
            conn.close()
            raise
        return version, conn

    def _identify(self, conn: sqlite3.Connection) -> tuple[int, set[str], bool]:
        """The application id, the tables, and whether another program marked the file (user_version)."""
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if app_id not in (0, APPLICATION_ID):
                raise self._fail(
                    f"is a SQLite database of another application (application_id {app_id:#x}), "
                    "not an ecsctl state file; nothing was changed"
                )
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            marked = bool(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise self._fail(f"state file is corrupt ({exc}); {_CORRUPT_ADVICE}") from exc
        return app_id, tables, marked

    def _connect(self, *, immutable: bool = False, read_only: bool = False) -> sqlite3.Connection:
        uri = "file:" + quote(str(self.path.resolve())) + ("?immutable=1" if immutable else "?mode=ro" if read_only else "")
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        if not immutable and not read_only:
            conn.execute("PRAGMA query_only = ON")  # this connection reads; _writable opens one that writes
        return conn

    def _connect_read(self) -> sqlite3.Connection:
        """A connection for reading our state: a normal one (so closing it tidies the WAL files)
        that refuses writes; where this user cannot write, a read-only one; in a directory this
        user cannot write to (no WAL shared-memory file possible) an immutable one, if the WAL
        holds nothing."""
        directory_writable = os.access(self.path.parent, os.W_OK)
        kinds = ({"read_only": False} if directory_writable and os.access(self.path, os.W_OK) else {"read_only": True},)
        error: Exception | None = None
        for kind in (*kinds, {"immutable": True}):
            if kind.get("immutable"):
                wal = self.path.with_name(self.path.name + "-wal")
                if directory_writable or (wal.exists() and wal.stat().st_size > 0):
                    break
            try:
                conn = self._connect(**kind)
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
                return conn
            except sqlite3.DatabaseError as exc:
                error = exc
        if isinstance(error, sqlite3.OperationalError) and not directory_writable:
            raise self._fail(f"cannot read the state here: {error}; {self.path.parent} is not writable "
                             "and the state has changes in its write-ahead log") from error
        raise self._fail(f"state file is corrupt ({error}); {_CORRUPT_ADVICE}") from error

    def _open_new(self) -> None:
        """A new state, in memory until its first commit writes it to disk."""
        conn = sqlite3.connect(":memory:", isolation_level=None)
        _create(conn, lineage=str(uuid.uuid4()), created_at=_utc_now(), key=self._new_key or secrets.token_hex(32))
        self._conn, self._mode = conn, "new"
        self._load_sealer()

    def _load_sealer(self) -> None:
        key = self.digest_key()
        if key is None:  # written before digests: seal on read with a passing key
            self._sealer, self._seal_on_read = Sealer(secrets.token_bytes(32)), True
            return
        try:
            self._sealer, self._seal_on_read = Sealer(bytes.fromhex(key)), False
        except (TypeError, ValueError):
            raise self._fail("state file's meta table has no valid digest key") from None

    def _meta_value(self, key: str) -> Any:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def backend(self) -> str | None:
        """What the state's applies went to: ``local`` (the simulation) or ``aws`` (meta ``backend``;
        None when no apply since ecsctl recorded it)."""
        return self._meta_value("backend")

    def set_backend(self, name: str) -> None:
        """Record what the state's applies go to (``backend``); the same again is not a change."""
        with self.transaction(), self._sql("record the backend"):
            self._db().execute("INSERT INTO meta (key, value) VALUES ('backend', ?) ON CONFLICT (key) DO UPDATE "
                               "SET value = excluded.value WHERE value IS NOT excluded.value", (name,))

    def digest_key(self) -> str | None:
        """The hex key the state's digests of sensitive values are made with (None before version 3)."""
        return self._meta_value("digest_key")

    def _load_json(self, text: str) -> Any:
        value = json.loads(text)
        if self._seal_on_read:
            value = self._sealer.seal(value)
            return SealedSpec(value, self._sealer) if isinstance(value, dict) else value
        if DIGEST_PREFIX in text and isinstance(value, dict):
            return SealedSpec(value, self._sealer)
        return value

    def _seal(self, value: Any) -> Any:
        return self._sealer.seal(value)

    def _decode(self, table: _Table, rows: list) -> list:
        try:
            return [table.from_row(r, self._load_json) for r in rows]
        except (ValueError, TypeError) as exc:  # name the row: look for it again (off the hot path)
            row, why = next(self._unreadable(table, rows), ((), _why(exc)))
            where = f" ({table.row_key(row)})" if row else ""
            raise self._fail(
                f"a row of table {table.name}{where} cannot be read ({why}); the state file is "
                f"damaged: {_CORRUPT_ADVICE}"
            ) from None

    def _unreadable(self, table: _Table, rows) -> Iterator[tuple[tuple, str]]:
        """The rows that cannot be read, each with what it has wrong (one line)."""
        for row in rows:
            try:
                table.from_row(row, self._load_json)
            except (ValueError, TypeError) as exc:
                yield row, " ".join(_why(exc).split())

    # -- writing for the first time ---------------------------------------------------------

    def _check_writable(self) -> None:
        where = self.path if self.path.exists() else next(p for p in self.path.parents if p.exists())
        directory = where if where.is_dir() else where.parent
        if not os.access(directory, os.W_OK) or (where.is_file() and not os.access(where, os.W_OK)):
            raise self._fail(
                f"cannot write here: {where} is read-only for this user; the state can be read but not changed"
            )

    def _make_dirs(self) -> None:
        missing = [p for p in (self.path.parent, *self.path.parent.parents) if not p.exists()]
        for directory in reversed(missing):
            try:
                directory.mkdir(mode=0o700)
            except FileExistsError:
                continue
            except OSError as exc:
                raise self._fail(f"cannot write here: cannot create {directory}: {exc.strerror or exc}") from None
            self._made.append(directory)

    def _writable(self) -> None:
        """Make the next commit possible: write a new state to disk, or switch a read-only
        connection to a writing one (upgrading an older state file first). Called with the lock held."""
        if self._mode == "write":
            return
        self._check_writable()
        if self._mode == "new":
            self._write_new()
        else:
            self._db().close()
            self._conn = None
        try:
            self._conn = self._connect_write()
            self._mode = "write"
            if self._version < SCHEMA_VERSION:
                self._migrate()
                self._version = SCHEMA_VERSION
                self._load_sealer()
        except BaseException:
            if self._conn is not None:
                self._conn.close()
            self._conn, self._mode = None, "closed"
            raise

    def _write_new(self) -> None:
        memory = self._db()
        meta = dict(memory.execute("SELECT key, value FROM meta").fetchall())
        if self._empty_file:  # initialise the empty file in place (it may be a hard link, a mount)
            self._check_still_empty()
            try:
                conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
                try:
                    with _begin(conn):
                        _create(conn, lineage=meta["lineage"], created_at=meta["created_at"], key=meta["digest_key"])
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                raise self._fail(f"cannot initialise the empty state file: {exc}") from exc
            self._note(f"{self.path}: the file was empty; initialised it as a new ecsctl state")
        else:
            self._make_dirs()
            temp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.new")
            try:
                os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                disk = sqlite3.connect(str(temp), isolation_level=None)
                try:
                    memory.backup(disk)
                    disk.execute("PRAGMA journal_mode = WAL")
                finally:
                    disk.close()
                os.link(temp, self.path)  # never over a file someone else made meanwhile
            except FileExistsError:
                raise self._fail("another program created the state file while this command ran; run it again") from None
            except (OSError, sqlite3.Error) as exc:
                raise self._fail(f"cannot write here: cannot create the state file: {exc}") from exc
            finally:
                for leftover in (temp, temp.with_name(temp.name + "-wal"), temp.with_name(temp.name + "-shm")):
                    leftover.unlink(missing_ok=True)
            self._made = []  # the state exists now: keep its directory and lock file
        memory.close()
        self._conn = None

    def _check_still_empty(self) -> None:
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise self._fail(f"cannot read the state file: {exc.strerror or exc}") from exc
        if size:
            version, conn = self._inspect()
            if conn is not None:
                conn.close()
                raise self._fail("the empty state file was initialised by another program meanwhile; run the command again")

    def _connect_write(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error as exc:
            raise self._fail(f"cannot open the state file for writing: {exc}") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise self._fail(f"cannot use WAL journal mode (got {mode!r}); is it on a network filesystem?")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            conn.close()
            raise self._fail(f"cannot write here: cannot configure the state file: {exc}") from exc
        except StateError:
            conn.close()
            raise
        return conn

    def _migrate(self) -> None:
        """Upgrade to ``SCHEMA_VERSION`` in one transaction, overwriting what it replaces."""
        conn = self._db()
        conn.execute("PRAGMA secure_delete = ON")  # values sealed by migration 3 leave no plain copy
        with self._immediate("upgrade the state file"):
            row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            version = row[0] if row else 0
            if not isinstance(version, int) or version > SCHEMA_VERSION:
                raise self._fail(f"has an unexpected schema version {version!r}; nothing was changed")
            try:
                _upgrade(conn, version)
            except ValueError as exc:
                raise self._fail(f"cannot upgrade the state file: {exc}; nothing was changed; {_CORRUPT_ADVICE}") from None
        conn.execute("PRAGMA secure_delete = OFF")
        with self._sql("upgrade the state file"):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- connections and transactions -------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise self._fail("the state store is closed")
        return self._conn

    @contextmanager
    def _sql(self, action: str) -> Iterator[None]:
        """Turn sqlite3 errors into one-line StateErrors that name the file and the action."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "readonly" in text or "read-only" in text:
                raise self._fail(f"cannot {action}: cannot write here ({text})") from exc
            if "locked" in text or "busy" in text:
                raise self._fail(
                    f"cannot {action}: the state file is busy (another ecsctl is writing); try again"
                ) from exc
            raise self._fail(f"cannot {action}: {exc}") from exc
        except sqlite3.Error as exc:
            raise self._fail(f"cannot {action}: {exc}") from exc
        except UnicodeEncodeError as exc:
            raise self._fail(f"cannot {action}: a value is not valid text ({exc.reason})") from None

    @contextmanager
    def _immediate(self, action: str) -> Iterator[None]:
        """A bare BEGIN IMMEDIATE … COMMIT: no lock check, no serial bump."""
        conn = self._db()
        if self._depth:
            raise self._fail(f"cannot {action} inside a transaction")
        with self._sql(action):
            conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            with self._sql(action):
                yield
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:  # the original error is the one worth reporting
                    pass
            raise
        finally:
            self._depth = 0

    @contextmanager
    def _locked_briefly(self) -> Iterator[None]:
        """Hold the write lock for a block if this store does not hold it already."""
        if self._lock.held is not None:
            yield
            return
        if self._mode == "new" and not self._empty_file:
            self._make_dirs()
        self._lock.acquire("ecsctl (a write without a lock)")
        try:
            yield
        finally:
            self._lock.release()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction; nested calls join the outermost one.

        Refused at once while another store holds the lock (a store that does not hold it holds
        it for the transaction). On commit, the serial rises by one if any row changed; on an
        exception everything is rolled back and the exception re-raised.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        with self._locked_briefly():
            self._writable()
            conn = self._db()
            with self._immediate("write the state"):
                before = conn.total_changes
                yield
                if conn.total_changes != before:
                    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'serial'")
                    if _CRASH_POINT is not None:
                        _crash_if_due(conn, "before")
            if _CRASH_POINT is not None and conn.total_changes != before:
                _crash_if_due(conn, "after")

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that must see one consistent state (a deferred read transaction)."""
        conn = self._db()
        if self._depth:
            yield conn
            return
        with self._sql("read the state"):
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def _write(self, action: str, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        with self.transaction(), self._sql(action):
            return self._db().execute(sql, params)

    def _read(self, action: str, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self._sql(action):
            return self._db().execute(sql, params).fetchall()

    def close(self) -> None:
        """Release this store's lock if it holds one, and close the connection (idempotent).
        A new state that was never written leaves nothing behind: the lock file and the
        directories made for it are removed."""
        try:
            if self._lock.held is not None and not self._depth:
                self._lock.release(remove=self._mode == "new")
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._mode == "new":
                for directory in reversed(self._made):
                    try:
                        directory.rmdir()
                    except OSError:
                        break
                self._made = []
            self._mode = "closed"

    def __enter__(self) -> "SqliteStateStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- metadata --------------------------------------------------------------------------

    def meta(self) -> StateMeta:
        values = dict(self._read("read the state metadata", "SELECT key, value FROM meta"))
        return StateMeta(
            version=values["version"],
            serial=values["serial"],
            lineage=values["lineage"],
            created_at=values.get("created_at", ""),
        )

    def check_file(self) -> list[str]:
        """What is wrong with the file itself, one line each (``ecsctl state verify``): SQLite's
        full ``integrity_check`` (indexes against their tables too, which the ``quick_check`` of
        opening skips), the application id, every table and column of the schema, and the serial
        (a whole number no resource was applied after), and that every row can be read (its JSON
        columns decode and each value has the type of its record's field). Empty for a sound file."""
        if self._mode == "new":
            return []
        problems: list[str] = []
        with self._snapshot() as conn, self._sql("check the state file"):
            for (line,) in conn.execute("PRAGMA integrity_check(50)"):
                if line != "ok":
                    problems.append("integrity check: " + " ".join(str(line).split()))
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if self._version >= 3 and app_id != APPLICATION_ID:
                problems.append(f"application id is {app_id:#x}, not ecsctl's {APPLICATION_ID:#x}")
            for table in (*_EXPORT_TABLES, _EVENTS):
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table.name})")}
                if not present:
                    problems.append(f"schema: table {table.name} is missing")
                    continue
                missing = [c.name for c in table.columns if c.name not in present]
                if missing:
                    problems.append(f"schema: table {table.name} lacks column(s) {', '.join(missing)}")
            for table in (*_EXPORT_TABLES, _EVENTS) if not problems else ():
                bad = 0
                for row, why in self._unreadable(table, conn.execute(table.select)):
                    bad += 1
                    if bad <= 10:
                        problems.append(f"table {table.name}: row {table.row_key(row)} cannot be read ({why})")
                if bad > 10:
                    problems.append(f"table {table.name}: {bad - 10} more rows cannot be read")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            serial = meta.get("serial")
            if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
                problems.append(f"serial {serial!r} is not a whole number")
            elif "resources" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}:
                row = conn.execute("SELECT address, applied_serial FROM resources "
                                   "ORDER BY applied_serial DESC LIMIT 1").fetchone()
                if row is not None and (not isinstance(row[1], int) or row[1] > serial):
                    problems.append(f"serial {serial} is behind resource {row[0]}, applied at serial {row[1]}")
        return problems

    # -- lock ------------------------------------------------------------------------------

    @property
    def _lock_id(self) -> str | None:
        return self._lock.held.id if self._lock.held is not None else None

    def lock_info(self) -> LockInfo | None:
        """Who holds the write lock, or left it unreleased (a reader needs no lock to ask)."""
        return self._lock.holder()

    def acquire_lock(self, command: str) -> LockInfo:
        """Take the write lock for ``command`` or fail at once naming the holder. A lock left by
        a process that is gone (same host) is taken over, with a note."""
        if self._mode == "new" and not self._empty_file:
            self._make_dirs()
        return self._lock.acquire(command)

    def release_lock(self, lock_id: str) -> None:
        """Release the lock this store acquired."""
        if lock_id != self._lock_id:
            raise self._fail(
                f"lock {lock_id} was not acquired by this ecsctl; use `ecsctl state unlock` "
                "to clear someone else's lock"
            )
        self._lock.release(remove=self._mode == "new")

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Clear a lock that was not released (its holder is gone), but only the one whose ID is
        given; return what was cleared. A lock held right now by a running process is refused."""
        return self._lock.force_unlock(lock_id)

    @contextmanager
    def locked(self, command: str) -> Iterator[LockInfo]:
        """Hold the write lock for the duration of the block."""
        info = self.acquire_lock(command)
        try:
            yield info
        finally:
            if self._lock_id == info.id:
                self.release_lock(info.id)

    # -- last-applied resources ------------------------------------------------------------

    def put_resource(self, address: str, kind: str, name: str, spec: JSON) -> None:
        """Record ``spec`` as the last-applied canonical spec of ``address``.

        ``applied_serial`` becomes the serial this transaction commits as; an identical
        kind/name/spec is not a change (no write, no serial bump).
        """
        with self.transaction(), self._sql(f"store {address}"):
            serial = self._db().execute("SELECT value FROM meta WHERE key = 'serial'").fetchone()[0]
            record = Resource(address, kind, name, spec, applied_serial=serial + 1)
            self._db().execute(_RESOURCES.upsert, _RESOURCES.to_row(record, self._seal))

    def get_resource(self, address: str) -> Resource | None:
        rows = self._read(f"read {address}", f"{_RESOURCES.select} WHERE address = ?", (address,))
        return self._decode(_RESOURCES, rows[:1])[0] if rows else None

    def delete_resource(self, address: str) -> bool:
        """Forget ``address`` (and where its manifest was read from); True if it was there."""
        with self.transaction():
            self._write(f"delete {address}", _SOURCES.delete, (address,))
            return self._write(f"delete {address}", _RESOURCES.delete, (address,)).rowcount > 0

    def resources(self, kind: str | None = None) -> list[Resource]:
        """Last-applied resources (of one ``kind`` if given), by address."""
        sql, params = _RESOURCES.select, ()
        if kind is not None:
            sql, params = f"{sql} WHERE kind = ?", (kind,)
        rows = self._read("list resources", f"{sql} ORDER BY address", params)
        return self._decode(_RESOURCES, rows)

    def put_sources(self, sources: dict[str, str]) -> None:
        """Record, in one transaction, where the manifest of each address was read from (a
        path as ``app.sources`` writes it); an unchanged path is not a change."""
        rows = [_SOURCES.to_row(ResourceSource(a, p)) for a, p in sorted(sources.items())]
        if not rows:
            return
        with self.transaction(), self._sql("store where the manifests were read from"):
            self._db().executemany(_SOURCES.upsert, rows)

    def sources(self) -> dict[str, str]:
        """address -> the manifest file the last apply read it from (``put_sources``)."""
        rows = self._read("list resource sources", f"{_SOURCES.select} ORDER BY address")
        return {r.address: r.path for r in self._decode(_SOURCES, rows)}

    # -- the simulated world ---------------------------------------------------------------

    @staticmethod
    def _table(record_type: type) -> _Table:
        try:
            return _WORLD[record_type]
        except KeyError:
            raise TypeError(f"{record_type.__name__} is not stored in the state") from None

    def get(self, record_type: type[R], *key: object) -> R | None:
        """The record with this primary key (in the dataclass's key order), or None."""
        table = self._table(record_type)
        if len(key) != len(table.key):
            raise TypeError(f"{record_type.__name__} is keyed by {[c.name for c in table.key]}")
        where = " AND ".join(f"{c.sql} = ?" for c in table.key)
        rows = self._read(f"read {table.name}", f"{table.select} WHERE {where}", key)
        return self._decode(table, rows[:1])[0] if rows else None

    def find(self, record_type: type[R], **where: object) -> list[R]:
        """Records whose columns equal the given values (None matches NULL), in key order."""
        table = self._table(record_type)
        clause, params = _where(table, record_type, where)
        rows = self._read(f"list {table.name}", f"{table.select}{clause} ORDER BY {table.order_by}", params)
        return self._decode(table, rows)

    def count(self, record_type: type[WorldRecord], **where: object) -> int:
        """How many records ``find(record_type, **where)`` would return, without reading them."""
        table = self._table(record_type)
        clause, params = _where(table, record_type, where)
        sql = f"SELECT COUNT(*) FROM {table.name}{clause}"
        return self._read(f"count {table.name}", sql, params)[0][0]

    def tally(self, record_type: type[WorldRecord], by: tuple[str, ...], **where: object) -> dict[tuple, int]:
        """How many records ``find(record_type, **where)`` has per value of the ``by`` fields (one GROUP BY)."""
        table = self._table(record_type)
        for name in by:
            if name not in table.by_name:
                raise TypeError(f"{record_type.__name__} has no field {name!r}")
        group = ", ".join(table.by_name[name].sql for name in by)
        clause, params = _where(table, record_type, where)
        sql = f"SELECT {group}, COUNT(*) FROM {table.name}{clause} GROUP BY {group}"
        return {tuple(row[:-1]): row[-1] for row in self._read(f"count {table.name}", sql, params)}

    def latest_revisions(self, status: str | None = None) -> dict[str, int]:
        """The highest registered revision of every task-definition family (``status``: of those
        in that status only, e.g. ``ACTIVE``, the one a family name resolves to)."""
        where, params = (" WHERE status = ?", (status,)) if status else ("", ())
        rows = self._read("read task_definitions",
                          f"SELECT family, MAX(revision) FROM task_definitions{where} GROUP BY family", params)
        return {family: revision for family, revision in rows}

    @property
    def in_transaction(self) -> bool:
        """Whether a ``transaction()`` block of this store is open (its writes not yet committed)."""
        return self._depth > 0

    def insert(self, record: WorldRecord) -> None:
        """Add a record; a StateError if one with the same key exists."""
        table = self._table(type(record))
        with self.transaction(), self._sql(f"add to {table.name}"):
            if self._db().execute(table.exists, table.key_of(record)).fetchone():
                raise self._fail(f"{table.name} already holds {self._key_text(table, record)}")
            self._db().execute(table.insert, table.to_row(record, self._seal))

    def update(self, record: WorldRecord) -> None:
        """Replace an existing record; a StateError if there is none with its key."""
        table = self._table(type(record))
        with self.transaction(), self._sql(f"update {table.name}"):
            if not self._db().execute(table.exists, table.key_of(record)).fetchone():
                raise self._fail(f"{table.name} holds no {self._key_text(table, record)}")
            self._db().execute(table.upsert, table.to_row(record, self._seal))

    def save(self, record: WorldRecord) -> None:
        """Insert or replace; writing identical values is not a change."""
        table = self._table(type(record))
        self._write(f"save to {table.name}", table.upsert, table.to_row(record, self._seal))

    def save_many(self, records) -> None:
        """``save`` for many records at once (one statement per table: a unit of the simulation
        writes thousands of tasks)."""
        by_table: dict[type, list] = {}
        for record in records:
            by_table.setdefault(type(record), []).append(record)
        with self.transaction():
            for record_type, group in by_table.items():
                table = self._table(record_type)
                with self._sql(f"save to {table.name}"):
                    self._db().executemany(table.upsert, [table.to_row(r, self._seal) for r in group])

    def prune_history(self, kind: str, before: str) -> int:
        """Delete the history entries of ``kind`` from before ``before`` (an ISO time); how many
        went.  The simulation's metric datapoints are kept as long as CloudWatch keeps 1-minute
        data, so that a long tick does not grow the state without end."""
        with self.transaction(), self._sql("prune the history"):
            return self._db().execute("DELETE FROM history WHERE kind = ? AND at < ?", (kind, before)).rowcount

    def delete(self, record_type: type[WorldRecord], *key: object) -> bool:
        """Delete by primary key; True if a record was there."""
        table = self._table(record_type)
        return self._write(f"delete from {table.name}", table.delete, key).rowcount > 0

    @staticmethod
    def _key_text(table: _Table, record: Any) -> str:
        return "/".join(str(v) for v in table.key_of(record))

    def next_revision(self, family: str) -> int:
        """The revision the next registration of ``family`` gets (revisions are never reused)."""
        rows = self._read(
            "read task definitions",
            "SELECT COALESCE(MAX(revision), 0) + 1 FROM task_definitions WHERE family = ?",
            (family,),
        )
        return rows[0][0]

    def add_service_event(self, event: ServiceEvent) -> None:
        """Append to a service's event log, keeping its last ``EVENTS_KEPT`` lines."""
        with self.transaction(), self._sql("add a service event"):
            conn = self._db()
            conn.execute(
                "INSERT INTO service_events (cluster, service, at, message) VALUES (?, ?, ?, ?)",
                (event.cluster, event.service, event.at, event.message),
            )
            conn.execute(
                "DELETE FROM service_events WHERE cluster = ? AND service = ? AND seq NOT IN "
                "(SELECT seq FROM service_events WHERE cluster = ? AND service = ? "
                "ORDER BY seq DESC LIMIT ?)",
                (event.cluster, event.service, event.cluster, event.service, EVENTS_KEPT),
            )

    def service_events(self, cluster: str, service: str) -> list[ServiceEvent]:
        """A service's events, oldest first."""
        rows = self._read(
            "read service events",
            "SELECT cluster, service, at, message FROM service_events "
            "WHERE cluster = ? AND service = ? ORDER BY seq",
            (cluster, service),
        )
        return self._decode(_EVENTS, rows)

    def clock(self) -> str | None:
        """The simulation's current time, or None before it was first set."""
        rows = self._read("read the clock", "SELECT now FROM clock WHERE slot = 1")
        return rows[0][0] if rows else None

    def set_clock(self, now: str) -> None:
        self._write(
            "set the clock",
            "INSERT INTO clock (slot, now) VALUES (1, ?) "
            "ON CONFLICT (slot) DO UPDATE SET now = excluded.now WHERE now IS NOT excluded.now",
            (now,),
        )

    # -- state pull / push -----------------------------------------------------------------

    def export(self) -> JSON:
        """Everything but the lock, as JSON-able data, from one consistent snapshot."""
        with self._snapshot() as conn, self._sql("export the state"):
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            clock = conn.execute("SELECT now FROM clock WHERE slot = 1").fetchone()
            data: JSON = {
                "format": EXPORT_FORMAT,
                "version": meta["version"],
                "serial": meta["serial"],
                "lineage": meta["lineage"],
                "created_at": meta.get("created_at", ""),
                "clock": clock[0] if clock else None,
            }
            if meta.get("digest_key"):  # the digests below are only comparable with this key
                data["digest_key"] = meta["digest_key"]
            if meta.get("backend"):  # local | aws: what the state's applies went to
                data["backend"] = meta["backend"]
            for table in _EXPORT_TABLES:
                rows = conn.execute(f"{table.select} ORDER BY {table.order_by}").fetchall()
                data[table.name] = [table.to_json(r) for r in self._decode(table, rows)]
            events = conn.execute(
                "SELECT cluster, service, at, message FROM service_events "
                "ORDER BY cluster, service, seq"
            ).fetchall()
            data[_EVENTS.name] = [_EVENTS.to_json(e) for e in self._decode(_EVENTS, events)]
        return data

    def import_(self, data: JSON, force: bool = False, source: str | None = None) -> StateMeta:
        """Replace the whole content with an export (``state push``); return the new meta.

        Refused, unless ``force``, when the export belongs to another lineage (a different state;
        a state with serial 0, never written, adopts any lineage) or, in the same lineage, has an
        older serial than this state, or the same serial with other content (the two were
        changed apart since that serial, as Terraform refuses "a different state that has the
        same serial"). An export that is this state as it is (same lineage, serial and content)
        changes nothing, not even the serial. Otherwise the new serial is above both, so saved
        plans go stale. ``source`` names where the data came from (the pushed file), for the
        errors about the data itself.
        """
        lineage, serial, tables = self._check_export(data, source)
        with self.transaction():
            current = self.meta()
            if lineage == current.lineage and serial == current.serial and current.serial > 0:
                if _comparable(data, tables) == _comparable(self.export(), None):
                    return current  # the state as it is: nothing to write
                if not force:
                    raise self._fail(
                        f"refusing to push: {source or 'the pushed state'} has serial {serial}, the same as "
                        f"this state's, but different content (each was changed apart from the other since); "
                        f"pull the current state and reconcile the two, or use --force to replace it"
                    )
            if lineage != current.lineage and current.serial > 0 and not force:
                raise self._fail(
                    f"refusing to push: the pushed state has lineage {lineage}, this state has "
                    f"lineage {current.lineage} (they are different states); use --force to replace it"
                )
            if lineage == current.lineage and serial < current.serial and not force:
                raise self._fail(
                    f"refusing to push: the pushed state has serial {serial}, older than this "
                    f"state's serial {current.serial}; pull the current state first or use --force"
                )
            kept = self._sealer
            try:
                self._replace_content(data, lineage, serial, current, tables)
            except BaseException:
                self._sealer = kept  # the transaction rolls back: so does the key
                raise
        return self.meta()

    def _replace_content(self, data: JSON, lineage: str, serial: int, current: StateMeta,
                         tables: list[tuple[_Table, list[Any]]]) -> None:
        with self._sql("push the state"):
            conn = self._db()
            if data.get("digest_key"):  # digests in the export were made with its key: adopt it
                conn.execute("UPDATE meta SET value = ? WHERE key = 'digest_key'", (data["digest_key"],))
                self._sealer = Sealer(bytes.fromhex(data["digest_key"]))
            for table in (*_EXPORT_TABLES, _EVENTS):
                conn.execute(f"DELETE FROM {table.name}")
            conn.execute("DELETE FROM clock")
            for table, records in tables:
                conn.executemany(table.insert, [table.to_row(r, self._seal) for r in records])
            if data.get("clock") is not None:
                conn.execute("INSERT INTO clock (slot, now) VALUES (1, ?)", (data["clock"],))
            conn.executemany(
                "UPDATE meta SET value = ? WHERE key = ?",
                [
                    (lineage, "lineage"),
                    (max(serial, current.serial), "serial"),
                    (data.get("created_at") or current.created_at, "created_at"),
                ],
            )
            conn.execute("DELETE FROM meta WHERE key = 'backend'")  # the export's, or none (told by its contents)
            if data.get("backend") in ("local", "aws"):
                conn.execute("INSERT INTO meta (key, value) VALUES ('backend', ?)", (data["backend"],))

    def _check_export(self, data: Any, source: str | None = None) -> tuple[str, int, list[tuple[_Table, list[Any]]]]:
        """The export's lineage, serial and records; a StateError naming ``source`` (the pushed
        file; else this state) when the data cannot be pushed."""
        def bad(what: str) -> StateError:
            if source is None:
                return self._fail(f"cannot push: {what}")
            return StateError(f"{source}: cannot push: " + " ".join(str(what).split()))

        if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
            what = f"not an ecsctl state export (no \"format\": \"{EXPORT_FORMAT}\")"
            if source is not None:
                raise StateError(f"{source}: {what}")
            raise bad(f"the data is {what}")
        version, serial, lineage = data.get("version"), data.get("serial"), data.get("lineage")
        if not isinstance(version, int) or version < 1:
            raise bad("the export has no valid \"version\"")
        if version > SCHEMA_VERSION:
            raise bad(
                f"the export was made by a newer ecsctl (state schema version {version}; this "
                f"ecsctl reads up to {SCHEMA_VERSION})"
            )
        if not isinstance(serial, int) or isinstance(serial, bool) or not 0 <= serial <= MAX_SERIAL:
            raise bad(f"the export has no valid \"serial\" (an integer from 0 to {MAX_SERIAL})")
        if not isinstance(lineage, str) or not lineage:
            raise bad("the export has no \"lineage\"")
        key = data.get("digest_key")
        if key is not None:
            try:
                if not isinstance(key, str) or len(bytes.fromhex(key)) < 16:
                    raise ValueError
            except ValueError:
                raise bad("the export has no valid \"digest_key\"") from None
        known = {"format", "version", "serial", "lineage", "created_at", "clock", "digest_key", "backend"}
        known |= {t.name for t in (*_EXPORT_TABLES, _EVENTS)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise bad(f"unknown key {unknown[0]!r} in the export")
        clock = data.get("clock")
        if clock is not None and not is_clock(clock):
            raise bad(f"\"clock\" is not a UTC time such as 2026-01-01T00:00:00Z, got {describe(clock)}")
        tables: list[tuple[_Table, list[Any]]] = []
        for table in (*_EXPORT_TABLES, _EVENTS):
            if table.name not in data and version >= _TABLE_SINCE.get(table.name, 1):
                # an export of this version has every table: a missing one would empty it in silence
                raise bad(f"the export has no {table.name!r} (an empty list if there are none); nothing was changed")
            rows = data.get(table.name, [])
            if not isinstance(rows, list):
                raise bad(f"{table.name!r} is not a list")
            records = []
            seen: set = set()
            for index, row in enumerate(rows):
                named = isinstance(row, dict) and all(row.get(c.name) is not None for c in table.key)
                key = f" ({'/'.join(str(row[c.name]) for c in table.key)})" if named else ""
                try:
                    record = table.from_json(row)
                    wrong = negative_field(record) or _address_problem(record)
                    if wrong is not None:
                        raise _WrongType(*wrong)
                except ValueError as exc:
                    raise bad(f"{table.name}[{index}]{key}: {exc}; nothing was changed") from None
                identity = table.key_of(record) if table is not _EVENTS else index  # (events: many per service)
                if identity in seen:
                    raise bad(f"{table.name}[{index}]{key}: appears twice in the export; nothing was changed")
                seen.add(identity)
                records.append(record)
            tables.append((table, records))
        return lineage, serial, tables


def _address_problem(record: Any) -> tuple[str, str] | None:
    """A resource whose address is not one (``taskdef/web``, ``service/prod/web``): the plan keys
    it by its kind and name, so it would never be updated or deleted under that address."""
    if not isinstance(record, Resource):
        return None
    try:
        parse_address(record.address)
    except ValueError as exc:
        return "address", str(exc)
    return None


def sqlite_header_kind(head: bytes) -> str | None:
    """What the first 100 bytes of a file say it is: ``"state"`` for a SQLite database with
    ecsctl's application id (an ecsctl state file), ``"sqlite"`` for another SQLite database
    (or a state of an ecsctl that set no id), ``None`` for anything else."""
    if not head.startswith(_SQLITE_HEADER):
        return None
    return "state" if head[68:72] == APPLICATION_ID.to_bytes(4, "big") else "sqlite"


def _comparable(data: JSON, tables: list[tuple["_Table", list[Any]]] | None) -> Any:
    """An export reduced to what it says, for comparing two (``tables``: its records as
    ``_check_export`` read them; ``None`` for an export this store made, read as it is)."""
    if tables is None:
        rows = {t.name: data.get(t.name, []) for t in (*_EXPORT_TABLES, _EVENTS)}
    else:
        rows = {table.name: [table.to_json(r) for r in records] for table, records in tables}
    head = {key: data.get(key) for key in ("version", "lineage", "serial", "clock", "digest_key", "backend")}
    head["created_at"] = data.get("created_at") or ""
    return json.loads(json.dumps({**head, **rows}, sort_keys=True, default=str))


if TYPE_CHECKING:  # static conformance check: SqliteStateStore must satisfy the core's port
    _: StateStore = SqliteStateStore("x")


def _where(table: "_Table", record_type: type, where: dict) -> tuple[str, list]:
    """`` WHERE a IS ? AND b IS ?`` (or nothing) and its parameters, for ``find``-style filters."""
    clauses, params = [], []
    for name, value in where.items():
        column = table.by_name.get(name)
        if column is None:
            raise TypeError(f"{record_type.__name__} has no field {name!r}")
        clauses.append(f"{column.sql} IS ?")
        params.append(column.encode(value) if value is not None else None)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
