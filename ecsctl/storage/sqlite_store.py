"""The state file: one SQLite database (stdlib ``sqlite3``) that implements ``StateStore``.

Default location ``.ecsctl/state.db`` (``--state`` / ``ECSCTL_STATE``, chosen by the CLI).

File and connection
    Created on first use with mode 0600 (its missing parent directories with 0700); SQLite
    gives the ``-wal`` and ``-shm`` side files the same mode. Journal mode is WAL, so readers
    (plan, get, state pull) never block the writer and vice versa. ``synchronous=FULL``: in WAL
    mode NORMAL already survives a crash or ``kill -9`` of ecsctl itself, but may lose the last
    commits on a power cut or OS crash; an apply against real ECS must not forget a service it
    created, and FULL costs one fsync of the WAL per commit, which is nothing next to an API call.

Opening
    An existing file is first inspected through a *read-only* connection
    (``file:…?mode=ro``): SQLite header, ``PRAGMA quick_check``, the ``meta`` table and its schema
    ``version``. A file that is not SQLite, a corrupt database, or a version newer than
    ``SCHEMA_VERSION`` raises ``StateError`` before anything is written. An empty file or an
    empty database (left by a run killed before its first commit) is initialised. Older versions
    are migrated: ``MIGRATIONS`` maps version N to the statements that turn N-1 into N; they
    run in order, in one ``BEGIN IMMEDIATE`` transaction, together with the new ``version``.

Transactions and serial
    Every change runs in ``BEGIN IMMEDIATE … COMMIT``. On commit, if the transaction changed any
    row (``total_changes`` moved; writes of identical values are filtered out in SQL, so they do
    not count), ``meta.serial`` goes up by one in the same transaction. An exception rolls
    everything back. Because each step commits on its own, a ``kill -9`` at any moment leaves the
    state as of the last commit.

Lock
    One row in ``lock`` (id, pid, host, command, created_at), inserted in a ``BEGIN IMMEDIATE``
    transaction if no row exists. A second writer is refused at once with the holder's details.
    While a lock is held, transactions of every other store object are refused too. A dead
    holder is not detected automatically: ``force_unlock(id)`` clears a stale lock, and only with
    its ID. Taking or releasing the lock does not change the serial. ``busy_timeout`` (5 s) only
    covers SQLite's own per-transaction write lock, which is held for milliseconds.

Schema version 2 (JSON text for flexible fields, real columns for what is queried or indexed)

    meta                 key TEXT PK, value — rows: version, serial, lineage (UUID4), created_at
    lock                 slot=1 PK, id, pid, host, command, created_at
    clock                slot=1 PK, now — the simulation's current time (ISO 8601 UTC)
    resources            address PK (taskdef/web, service/prod/web), kind, name,
                         spec JSON (last-applied canonical spec), applied_serial
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
                         ('' unless awsvpc; added by version 2)
    target_registrations (target_group, target_id, port) PK, task_id
    catalogue            (kind, name) PK, spec JSON — parameters, secrets, repositories, …

Version history: 1 — the tables above but for the last two task columns; 2 — ``tasks.subnet`` and ``tasks.private_ip`` (both
``''`` for tasks written by version 1) and the index ``tasks_subnet (subnet, last_status)``.
An export of any version up to ``SCHEMA_VERSION`` can be pushed: fields it lacks take the
record's defaults.

Columns are the fields of the records in ``ecsctl.core.state.ports`` (same names); JSON is
stored canonical (sorted keys, compact) so identical specs compare equal in SQL.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import quote

from ecsctl.core.state.ports import (
    EVENTS_KEPT,
    JSON,
    CatalogueEntry,
    Cluster,
    ContainerInstance,
    Deployment,
    LockInfo,
    R,
    Resource,
    Service,
    ServiceEvent,
    StateMeta,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
    WorldRecord,
)
from ecsctl.errors import StateError

SCHEMA_VERSION = 2
EXPORT_FORMAT = "ecsctl-state"
BUSY_TIMEOUT_SECONDS = 5.0
_SQLITE_HEADER = b"SQLite format 3\x00"
_CORRUPT_ADVICE = "nothing was changed; restore a copy or `ecsctl state push` a saved export"

# version -> statements that upgrade version-1 to version. Append; never edit a shipped one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
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
}
assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


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

    def encode(self, value: Any) -> Any:
        if self.codec == "json":
            return _canonical_json(value)
        if self.codec == "tuple":
            return _canonical_json(list(value))
        if self.codec == "bool":
            return 1 if value else 0
        return value

    def decode(self, value: Any) -> Any:
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


def _decode_tuple(value: Any) -> tuple:
    return tuple(json.loads(value))


# The same conversions as ``_Column.decode``, one function per codec (for ``_Table.from_row``).
_DECODERS = {"json": json.loads, "tuple": _decode_tuple, "bool": bool}


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
    makes a write count (all non-key columns unless told otherwise)."""

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
        self._decoders = tuple((i, _DECODERS[c.codec]) for i, c in enumerate(self.columns) if c.codec != "plain")
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

    def to_row(self, record: Any) -> tuple:
        return tuple(c.encode(getattr(record, c.name)) for c in self.columns)

    def from_row(self, row: tuple) -> Any:
        # Only the non-plain columns need decoding: patch those in place (hot: every find()).
        decoders = self._decoders
        if decoders:
            row = list(row)
            for i, decode in decoders:
                row[i] = decode(row[i])
        return self.record_type(*row)

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
        try:
            return self.record_type(**values)
        except TypeError as exc:
            raise ValueError(str(exc)) from None


_RESOURCES = _Table(Resource, "resources", ("address",), compare=("kind", "name", "spec"))
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
    )
}
_EVENTS = _Table(ServiceEvent, "service_events", ("cluster", "service"))  # seq is implicit
_EXPORT_TABLES: tuple[_Table, ...] = (_RESOURCES, *_WORLD.values())


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------


class SqliteStateStore:
    """The state file. Open it, read freely, change it in ``transaction()`` blocks, ``close()``.

    >>> store = SqliteStateStore(".ecsctl/state.db")          # doctest: +SKIP
    >>> with store.locked("ecsctl apply"), store.transaction():  # doctest: +SKIP
    ...     store.put_resource("taskdef/web", "TaskDefinition", "web", spec)
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        """Open the state file at ``path``; if it is missing, create it (or, with
        ``create=False``, as readers such as ``ecsctl get`` may want, raise StateError)."""
        self.path = Path(path)
        if not create and not self.path.exists():
            raise self._fail("no state file here; run `ecsctl apply` first or pass --state")
        self._conn: sqlite3.Connection | None = None
        self._depth = 0
        self._lock_id: str | None = None
        version = self._inspect()
        self._conn = self._connect()
        try:
            self._initialise_or_migrate(version)
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- opening ---------------------------------------------------------------------------

    def _fail(self, what: str) -> StateError:
        return StateError(f"{self.path}: {what}")

    def _inspect(self) -> int:
        """Look at an existing file read-only; return its schema version (0: new or empty)."""
        path = self.path
        if not path.exists():
            return 0
        if path.is_dir():
            raise self._fail("is a directory, not a state file")
        try:
            with open(path, "rb") as f:
                header = f.read(len(_SQLITE_HEADER))
        except OSError as exc:
            raise self._fail(f"cannot read the state file: {exc.strerror or exc}") from exc
        if not header:
            return 0
        if header != _SQLITE_HEADER:
            raise self._fail("is not an ecsctl state file (not a SQLite database); nothing was changed")
        uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            raise self._fail(f"cannot be opened: {exc}") from exc
        try:
            check = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if check != ["ok"]:
                raise self._fail(
                    f"state file is corrupt (quick_check: {check[0]}); {_CORRUPT_ADVICE}"
                )
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return 0
            if "meta" not in tables:
                raise self._fail("is a SQLite database but not an ecsctl state file (no meta table)")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise self._fail(f"state file is corrupt ({exc}); {_CORRUPT_ADVICE}") from exc
        finally:
            conn.close()
        version = meta.get("version")
        if not isinstance(version, int) or version < 1:
            raise self._fail("state file has no valid schema version in its meta table")
        if version > SCHEMA_VERSION:
            raise self._fail(
                f"was written by a newer ecsctl (state schema version {version}; this ecsctl "
                f"reads up to {SCHEMA_VERSION}); upgrade ecsctl; nothing was changed"
            )
        if not isinstance(meta.get("serial"), int) or not isinstance(meta.get("lineage"), str):
            raise self._fail("state file's meta table has no valid serial or lineage")
        return version

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        try:
            if not path.exists():
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                try:
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                except FileExistsError:  # another ecsctl created it a moment ago
                    pass
                else:
                    os.close(fd)
                    os.chmod(path, 0o600)
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        except (OSError, sqlite3.Error) as exc:
            raise self._fail(f"cannot create or open the state file: {exc}") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise self._fail(
                    f"cannot use WAL journal mode (got {mode!r}); is it on a network filesystem?"
                )
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            conn.close()
            raise self._fail(f"cannot configure the state file: {exc}") from exc
        except StateError:
            conn.close()
            raise
        return conn

    def _initialise_or_migrate(self, seen_version: int) -> None:
        if seen_version == SCHEMA_VERSION:
            return
        with self._immediate("initialise the state file"):
            conn = self._db()
            has_meta = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            version = 0
            if has_meta:  # re-read under the write lock: another ecsctl may have got here first
                row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
                if row is None or not isinstance(row[0], int):
                    raise self._fail("state file has no valid schema version in its meta table")
                version = row[0]
            if version > SCHEMA_VERSION:
                raise self._fail(f"was written by a newer ecsctl (state schema version {version})")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (target,),
                )
            if version == 0:
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("serial", 0), ("lineage", str(uuid.uuid4())), ("created_at", _utc_now())],
                )

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
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._fail(
                    f"cannot {action}: the state file is busy (another ecsctl is writing); try again"
                ) from exc
            raise self._fail(f"cannot {action}: {exc}") from exc
        except sqlite3.Error as exc:
            raise self._fail(f"cannot {action}: {exc}") from exc

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
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction; nested calls join the outermost one.

        Refused while another store holds the lock. On commit, the serial rises by one if any
        row changed; on an exception everything is rolled back and the exception re-raised.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        conn = self._db()
        with self._immediate("write the state"):
            holder = self._read_lock()
            if holder is not None and holder.id != self._lock_id:
                raise self._locked_error(holder)
            before = conn.total_changes
            yield
            if conn.total_changes != before:
                conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'serial'")

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
        """Release this store's lock if it holds one, and close the connection (idempotent)."""
        if self._conn is None:
            return
        try:
            if self._lock_id is not None and not self._depth:
                self.release_lock(self._lock_id)
        finally:
            self._conn.close()
            self._conn = None

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

    # -- lock ------------------------------------------------------------------------------

    def _read_lock(self) -> LockInfo | None:
        row = self._db().execute(
            "SELECT id, pid, host, command, created_at FROM lock WHERE slot = 1"
        ).fetchone()
        return LockInfo(*row) if row else None

    def _locked_error(self, holder: LockInfo) -> StateError:
        return self._fail(
            f"state is locked: {holder.describe()}; if that process is gone, "
            f"run `ecsctl state unlock {holder.id}`"
        )

    def lock_info(self) -> LockInfo | None:
        """Who holds the write lock, if anyone (a reader needs no lock to ask)."""
        with self._sql("read the lock"):
            return self._read_lock()

    def acquire_lock(self, command: str) -> LockInfo:
        """Take the write lock for ``command`` or fail at once naming the holder."""
        if self._lock_id is not None:
            raise self._fail(f"this ecsctl already holds lock {self._lock_id}")
        info = LockInfo(
            id=str(uuid.uuid4()),
            pid=os.getpid(),
            host=socket.gethostname(),
            command=command,
            created_at=_utc_now(),
        )
        with self._immediate("lock the state"):
            holder = self._read_lock()
            if holder is not None:
                raise self._locked_error(holder)
            self._db().execute(
                "INSERT INTO lock (slot, id, pid, host, command, created_at) VALUES (1, ?, ?, ?, ?, ?)",
                (info.id, info.pid, info.host, info.command, info.created_at),
            )
        self._lock_id = info.id
        return info

    def release_lock(self, lock_id: str) -> None:
        """Release the lock this store acquired. Already gone (force-unlocked): nothing to do."""
        if lock_id != self._lock_id:
            raise self._fail(
                f"lock {lock_id} was not acquired by this ecsctl; use `ecsctl state unlock` "
                "to clear someone else's lock"
            )
        with self._immediate("unlock the state"):
            holder = self._read_lock()
            if holder is not None and holder.id != lock_id:
                raise self._fail(
                    f"cannot release lock {lock_id}: the state is held by {holder.describe()}"
                )
            self._db().execute("DELETE FROM lock WHERE slot = 1 AND id = ?", (lock_id,))
        self._lock_id = None

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Clear a (stale) lock, but only the one whose ID is given; return what was cleared."""
        with self._immediate("unlock the state"):
            holder = self._read_lock()
            if holder is None:
                raise self._fail(f"state is not locked; nothing to unlock (asked for lock {lock_id})")
            if holder.id != lock_id:
                raise self._fail(
                    f"lock ID {lock_id} does not match the lock held: {holder.describe()}"
                )
            self._db().execute("DELETE FROM lock WHERE slot = 1")
        if self._lock_id == lock_id:
            self._lock_id = None
        return holder

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
            self._db().execute(_RESOURCES.upsert, _RESOURCES.to_row(record))

    def get_resource(self, address: str) -> Resource | None:
        rows = self._read(f"read {address}", f"{_RESOURCES.select} WHERE address = ?", (address,))
        return _RESOURCES.from_row(rows[0]) if rows else None

    def delete_resource(self, address: str) -> bool:
        return self._write(f"delete {address}", _RESOURCES.delete, (address,)).rowcount > 0

    def resources(self, kind: str | None = None) -> list[Resource]:
        """Last-applied resources (of one ``kind`` if given), by address."""
        sql, params = _RESOURCES.select, ()
        if kind is not None:
            sql, params = f"{sql} WHERE kind = ?", (kind,)
        rows = self._read("list resources", f"{sql} ORDER BY address", params)
        return [_RESOURCES.from_row(r) for r in rows]

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
        return table.from_row(rows[0]) if rows else None

    def find(self, record_type: type[R], **where: object) -> list[R]:
        """Records whose columns equal the given values (None matches NULL), in key order."""
        table = self._table(record_type)
        clause, params = _where(table, record_type, where)
        rows = self._read(f"list {table.name}", f"{table.select}{clause} ORDER BY {table.order_by}", params)
        return [table.from_row(r) for r in rows]

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

    def latest_revisions(self) -> dict[str, int]:
        """The highest registered revision of every task-definition family."""
        rows = self._read("read task_definitions", "SELECT family, MAX(revision) FROM task_definitions GROUP BY family")
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
            self._db().execute(table.insert, table.to_row(record))

    def update(self, record: WorldRecord) -> None:
        """Replace an existing record; a StateError if there is none with its key."""
        table = self._table(type(record))
        with self.transaction(), self._sql(f"update {table.name}"):
            if not self._db().execute(table.exists, table.key_of(record)).fetchone():
                raise self._fail(f"{table.name} holds no {self._key_text(table, record)}")
            self._db().execute(table.upsert, table.to_row(record))

    def save(self, record: WorldRecord) -> None:
        """Insert or replace; writing identical values is not a change."""
        table = self._table(type(record))
        self._write(f"save to {table.name}", table.upsert, table.to_row(record))

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
        return [ServiceEvent(*r) for r in rows]

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
            for table in _EXPORT_TABLES:
                rows = conn.execute(f"{table.select} ORDER BY {table.order_by}").fetchall()
                data[table.name] = [table.to_json(table.from_row(r)) for r in rows]
            events = conn.execute(
                "SELECT cluster, service, at, message FROM service_events "
                "ORDER BY cluster, service, seq"
            ).fetchall()
            data[_EVENTS.name] = [_EVENTS.to_json(ServiceEvent(*r)) for r in events]
        return data

    def import_(self, data: JSON, force: bool = False) -> StateMeta:
        """Replace the whole content with an export (``state push``); return the new meta.

        Refused, unless ``force``, when the export belongs to another lineage (a different state;
        a state with serial 0, never written, adopts any lineage) or, in the same lineage, has an
        older serial than this state. The new serial is above both, so saved plans go stale.
        """
        lineage, serial, tables = self._check_export(data)
        with self.transaction():
            current = self.meta()
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
            with self._sql("push the state"):
                conn = self._db()
                for table in (*_EXPORT_TABLES, _EVENTS):
                    conn.execute(f"DELETE FROM {table.name}")
                conn.execute("DELETE FROM clock")
                for table, records in tables:
                    conn.executemany(table.insert, [table.to_row(r) for r in records])
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
        return self.meta()

    def _check_export(self, data: Any) -> tuple[str, int, list[tuple[_Table, list[Any]]]]:
        def bad(what: str) -> StateError:
            return self._fail(f"cannot push: {what}")

        if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
            raise bad(f"the data is not an ecsctl state export (no \"format\": \"{EXPORT_FORMAT}\")")
        version, serial, lineage = data.get("version"), data.get("serial"), data.get("lineage")
        if not isinstance(version, int) or version < 1:
            raise bad("the export has no valid \"version\"")
        if version > SCHEMA_VERSION:
            raise bad(
                f"the export was made by a newer ecsctl (state schema version {version}; this "
                f"ecsctl reads up to {SCHEMA_VERSION})"
            )
        if not isinstance(serial, int) or serial < 0:
            raise bad("the export has no valid \"serial\"")
        if not isinstance(lineage, str) or not lineage:
            raise bad("the export has no \"lineage\"")
        known = {"format", "version", "serial", "lineage", "created_at", "clock"}
        known |= {t.name for t in (*_EXPORT_TABLES, _EVENTS)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise bad(f"unknown key {unknown[0]!r} in the export")
        tables: list[tuple[_Table, list[Any]]] = []
        for table in (*_EXPORT_TABLES, _EVENTS):
            rows = data.get(table.name, [])
            if not isinstance(rows, list):
                raise bad(f"{table.name!r} is not a list")
            records = []
            for index, row in enumerate(rows):
                try:
                    records.append(table.from_json(row))
                except ValueError as exc:
                    raise bad(f"{table.name}[{index}]: {exc}") from None
            tables.append((table, records))
        return lineage, serial, tables


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
