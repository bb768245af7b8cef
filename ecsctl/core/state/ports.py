"""The state store port: what the core needs from persisted state, and the records it holds.

The core never opens files; it is handed an object that satisfies :class:`StateStore`
(``ecsctl.storage.sqlite_store.SqliteStateStore`` is the one implementation today).

Contract, in the manner of Terraform's state manager:

* **Transactions.** Every change happens inside ``transaction()``. Nested calls join the
  outermost one. A transaction that raises is rolled back completely; one that commits and
  changed at least one row raises ``serial`` by exactly one. A transaction that changed
  nothing (only reads, or writes of identical values) leaves ``serial`` alone. Write helpers
  called outside a transaction run in one of their own.
* **Serial and lineage.** ``lineage`` is a UUID4 fixed when the state is created; serials are
  comparable only within one lineage. A saved plan records both and is stale when either moved.
* **Lock.** One writer at a time: ``acquire_lock`` refuses at once, naming the holder, when
  another lock is held, and transactions of a store that does not hold the lock are refused
  while someone else holds it. Readers never need the lock. A lock left by a process that is
  gone (on this host) is taken over with a note; one that cannot be checked (another host) is
  cleared with ``force_unlock`` and its ID.
* **Records are values.** Reads return new records, never changed in place: change one with
  ``dataclasses.replace`` and hand it back to ``update`` / ``save``.  They are frozen
  dataclasses but :class:`Task`, :class:`ContainerInstance`, :class:`Service` and
  :class:`Deployment`, which a plan makes and reads by the thousand (every round of a deployment
  re-records the instances it touched): a frozen dataclass takes several times as long to build
  (every field through ``object.__setattr__``), so those are plain ones, hashed by value like
  the others; nothing may assign to their fields.
* **Times** are ISO 8601 UTC text (``2024-05-01T12:00:00Z``), chosen by the caller: the
  simulation's clock, not the wall clock, except for ``created_at`` of the state and the lock.

Every failure is an ``ecsctl.errors.StateError`` with one line naming the state file.
"""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Callable, Protocol, TypeVar

JSON = dict[str, Any]
_Rec = TypeVar("_Rec")


def replace(record: _Rec, /, **changes: Any) -> _Rec:
    """``dataclasses.replace(record, **changes)``; for the plain records (see "Records are
    values") without its walk over the field definitions on every call: the simulation replaces
    deployments, services and instances by the thousand."""
    values = _VALUES.get(type(record))
    if values is None:
        cls = type(record)
        if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return dataclasses.replace(record, **changes)  # type: ignore[type-var]
        values = _VALUES[cls] = attrgetter(*(f.name for f in dataclasses.fields(cls)))
    new = type(record)(*values(record))
    for name, value in changes.items():
        setattr(new, name, value)
    return new


_VALUES: dict[type, Callable[[Any], tuple]] = {}  # a plain record type -> its field values in order


# ---------------------------------------------------------------------------------------------
# Metadata and lock


@dataclass(frozen=True, slots=True)
class StateMeta:
    """Identity of a state: schema ``version``, ``serial`` (bumped per committed change) and
    ``lineage`` (UUID4 set at creation; serials only compare within one lineage)."""

    version: int
    serial: int
    lineage: str
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds the write lock, for the message that refuses a second writer."""

    id: str
    pid: int
    host: str
    command: str
    created_at: str

    def describe(self) -> str:
        return (
            f"lock {self.id} held by pid {self.pid} on {self.host} "
            f"({self.command!r}) since {self.created_at}"
        )


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class Resource:
    """A managed object as last applied: ``address`` is ``taskdef/web``, ``service/prod/web`` …;
    ``spec`` is the canonical spec that plan diffs against; ``applied_serial`` is the serial of
    the transaction that last changed it."""

    address: str
    kind: str
    name: str
    spec: JSON
    applied_serial: int = 0


@dataclass(frozen=True, slots=True)
class ResourceSource:
    """Where the manifest of a resource was read from by the last apply that wrote it: a path
    relative to the project folder (``app.sources``).  A
    plan that deletes the resource while that file still declares it is refused (the file was
    left out of the inputs, not emptied)."""

    address: str
    path: str


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str
    status: str = "ACTIVE"
    spec: JSON = field(default_factory=dict)
    created_at: str = ""


@dataclass(slots=True, unsafe_hash=True)  # not frozen, for speed: see "Records are values" above
class ContainerInstance:
    """An EC2 container instance registered in a cluster (CPU units, memory in MiB)."""

    id: str
    cluster: str
    group_name: str
    instance_type: str
    availability_zone: str
    registered_cpu: int
    registered_memory: int
    remaining_cpu: int
    remaining_memory: int
    registered_gpu: int = 0
    attributes: JSON = field(default_factory=dict)
    status: str = "ACTIVE"  # ACTIVE | DRAINING | INACTIVE (deregistered)
    agent_connected: bool = True
    agent_version: str = ""
    reserved_ports: tuple[int, ...] = ()
    running_tasks_count: int = 0
    pending_tasks_count: int = 0
    registered_at: str = ""


@dataclass(frozen=True, slots=True)
class TaskDefinitionRevision:
    family: str
    revision: int
    spec: JSON
    status: str = "ACTIVE"  # ACTIVE | INACTIVE
    registered_at: str = ""

    @property
    def ref(self) -> str:
        """``family:revision``, as services and tasks name it."""
        return f"{self.family}:{self.revision}"


@dataclass(slots=True, unsafe_hash=True)  # not frozen, for speed: see "Records are values" above
class Service:
    cluster: str
    name: str
    task_definition: str  # family:revision
    desired_count: int
    spec: JSON = field(default_factory=dict)
    running_count: int = 0
    pending_count: int = 0
    status: str = "ACTIVE"  # ACTIVE | DRAINING | INACTIVE
    created_at: str = ""
    updated_at: str = ""


@dataclass(slots=True, unsafe_hash=True)  # not frozen, for speed: see "Records are values" above
class Deployment:
    id: str
    cluster: str
    service: str
    task_definition: str  # family:revision
    status: str  # PRIMARY | ACTIVE | INACTIVE
    desired_count: int
    rollout_state: str = "IN_PROGRESS"  # IN_PROGRESS | COMPLETED | FAILED
    rollout_state_reason: str = ""
    pending_count: int = 0
    running_count: int = 0
    failed_tasks: int = 0
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """One line of a service's event log; the store keeps the last ``EVENTS_KEPT`` per service."""

    cluster: str
    service: str
    at: str
    message: str


EVENTS_KEPT = 100


@dataclass(slots=True, unsafe_hash=True)  # not frozen, for speed: see "Records are values" above
class Task:
    id: str
    cluster: str
    group: str  # service:NAME or family:NAME or a user group
    task_definition: str  # family:revision
    last_status: str  # PROVISIONING | PENDING | RUNNING | STOPPED …
    desired_status: str  # RUNNING | STOPPED
    launch_type: str = "EC2"  # EC2 | FARGATE
    instance_id: str | None = None  # None on Fargate
    availability_zone: str = ""
    cpu: int = 0
    memory: int = 0
    host_ports: tuple[int, ...] = ()
    started_by: str = ""
    service: str | None = None  # the service's name, None for standalone tasks
    stop_code: str = ""
    stop_reason: str = ""
    created_at: str = ""
    started_at: str = ""
    stopped_at: str = ""
    subnet: str = ""  # awsvpc tasks: the subnet their ENI is in ("" otherwise, and while PENDING)
    private_ip: str = ""  # awsvpc tasks: their private IPv4 address, allocated from ``subnet``
    exit_code: int | None = None  # the essential container's exit code, once it exited


@dataclass(frozen=True, slots=True)
class TargetRegistration:
    target_group: str
    target_id: str  # instance id (targetType instance) or task id (ip)
    port: int
    task_id: str


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """What exists outside ECS that tasks refer to: Parameter, Secret, EnvironmentFile,
    Repository, TargetGroup, CapacityProvider … keyed by manifest ``kind`` and name."""

    kind: str
    name: str
    spec: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SimState:
    """What the simulation keeps of one object between ticks, by ``kind`` and ``name``: a
    service's auto scaling engine (``ScalingState``, name ``cluster/service``), a queue's
    messages (``QueueState``), a scheduled rule's last firing (``RuleState``) …"""

    kind: str
    name: str
    data: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a history the simulation appends to: scaling activities, metric datapoints,
    rule firings.  ``id`` orders the entries of one (``kind``, ``name``): the simulation time,
    then a counter (``2026-01-01T00:05:00Z#0001``)."""

    kind: str
    name: str
    id: str
    at: str
    data: JSON = field(default_factory=dict)


WorldRecord = (
    Cluster
    | ContainerInstance
    | TaskDefinitionRevision
    | Service
    | Deployment
    | Task
    | TargetRegistration
    | CatalogueEntry
    | SimState
    | HistoryEntry
)
R = TypeVar("R", bound=WorldRecord)


# ---------------------------------------------------------------------------------------------
# The port


class StateStore(Protocol):
    """Persisted state: metadata, lock, last-applied resources and the simulated world."""

    # identity and transactions
    def meta(self) -> StateMeta: ...
    def transaction(self) -> AbstractContextManager[None]: ...
    def close(self) -> None: ...

    # the write lock
    def acquire_lock(self, command: str) -> LockInfo: ...
    def release_lock(self, lock_id: str) -> None: ...
    def force_unlock(self, lock_id: str) -> LockInfo: ...
    def lock_info(self) -> LockInfo | None: ...
    def locked(self, command: str) -> AbstractContextManager[LockInfo]: ...

    # last-applied resources
    def put_resource(self, address: str, kind: str, name: str, spec: JSON) -> None: ...
    def get_resource(self, address: str) -> Resource | None: ...
    def delete_resource(self, address: str) -> bool: ...
    def resources(self, kind: str | None = None) -> list[Resource]: ...
    def put_sources(self, sources: dict[str, str]) -> None: ...  # address -> path, in one transaction
    def sources(self) -> dict[str, str]: ...
    def backend(self) -> str | None: ...  # what the state's applies went to: local | aws
    def set_backend(self, name: str) -> None: ...

    # the simulated world, one record type per table, keyed as the dataclass says
    def get(self, record_type: type[R], *key: object) -> R | None: ...
    def find(self, record_type: type[R], **where: object) -> list[R]: ...
    def insert(self, record: WorldRecord) -> None: ...
    def update(self, record: WorldRecord) -> None: ...
    def save(self, record: WorldRecord) -> None: ...
    def delete(self, record_type: type[WorldRecord], *key: object) -> bool: ...
    def next_revision(self, family: str) -> int: ...
    def add_service_event(self, event: ServiceEvent) -> None: ...
    def service_events(self, cluster: str, service: str) -> list[ServiceEvent]: ...
    def clock(self) -> str | None: ...
    def set_clock(self, now: str) -> None: ...

    # whole-state moves (state pull / push)
    def export(self) -> JSON: ...
    def import_(self, data: JSON, force: bool = False, source: str | None = None) -> StateMeta: ...


__all__ = [
    "EVENTS_KEPT",
    "JSON",
    "CatalogueEntry",
    "HistoryEntry",
    "SimState",
    "Cluster",
    "ContainerInstance",
    "Deployment",
    "LockInfo",
    "R",
    "Resource",
    "ResourceSource",
    "Service",
    "ServiceEvent",
    "StateMeta",
    "StateStore",
    "TargetRegistration",
    "replace",
    "Task",
    "TaskDefinitionRevision",
    "WorldRecord",
]
