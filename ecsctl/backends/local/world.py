"""The simulation's records in memory, for one plan or one apply.

A ``World`` reads the state store on first use of each thing (a cluster's container instances,
live tasks, services and deployments; task-definition revisions; the catalogue; target
registrations; the clock) and from then on is the truth: every change the controller makes is
made to the in-memory records and noted in a journal.  ``flush()`` writes the journal to the
store, inside the caller's transaction, and empties it; a plan never flushes, so it runs the
very code apply runs over a private copy of the state and leaves the store untouched.

Invariants the world keeps (``check_invariants`` verifies the store after a flush):

* a cluster's live tasks (every status but STOPPED) are in ``ClusterState.tasks``, indexed by
  service and by instance; a STOPPED task leaves memory (it is only journaled);
* the ``Placer`` of a cluster (built on first use from its ACTIVE/DRAINING instances and their
  tasks) follows every start and stop; any change to an instance record drops it, and it is
  built again when next needed;
* an instance record's remaining CPU/memory, reserved ports and running-task count are
  recomputed from its tasks when it is flushed (``dirty`` instances only);
* IP addresses are allocated per subnet, lowest free first, from the live tasks of every
  cluster in that subnet (read once per subnet).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from collections import Counter
from dataclasses import dataclass, fields
from heapq import heappop, heappush
from operator import attrgetter
from typing import Iterable

from ecsctl.core import units
from ecsctl.core.controller import ids
from ecsctl.core.scheduling.instance_types import TRUNK_ATTRIBUTE, task_enis
from ecsctl.core.scheduling.placement import RESERVED_PORTS, Node, Placer, TaskDemand
from ecsctl.core.state.ports import (
    CatalogueEntry,
    Cluster,
    ContainerInstance,
    Deployment,
    HistoryEntry,
    Service,
    ServiceEvent,
    SimState,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
    replace,
)
from ecsctl.errors import InputError

RUNNING = "RUNNING"
STOPPED = "STOPPED"
LIVE_STATUSES = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
                 "DEPROVISIONING")  # every status but STOPPED
# A task holds its CPU, memory, host ports and IP from RUNNING until it is STOPPED: the stop
# lifecycle of a task whose essential container exited (DEACTIVATING, STOPPING, DEPROVISIONING,
# ``core.events.batch``) still holds them.
HOLDING_STATUSES = (RUNNING, "DEACTIVATING", "STOPPING", "DEPROVISIONING")
TASK_RUN = "TaskRun"  # SimState kind: what a standalone task was started with, by task id (``tasks.task_run``)
_INSTANCE_VALUES = attrgetter(*(f.name for f in fields(ContainerInstance)))  # a record's field values, in order
_AGENT_PORTS = tuple(sorted(set(RESERVED_PORTS)))  # an instance's reserved ports with no static host port taken
_DELETED = object()

# awsvpc addresses: each subnet is a /20 derived from a hash of its id; the network address,
# the next three (router, DNS, reserved by AWS) and the broadcast are never handed out.
PREFIX = 20
BLOCK_SIZE = 1 << (32 - PREFIX)
FIRST_HOST = 4
LAST_HOST = BLOCK_SIZE - 2


def subnet_block(subnet: str) -> ipaddress.IPv4Network:
    """The /20 block of ``subnet``: ``10.{h1}.{16·h2}.0/20`` from a hash of its id alone."""
    h = hashlib.sha256(f"subnet/{subnet}".encode("utf-8")).digest()
    return ipaddress.IPv4Network(f"10.{h[0]}.{16 * (h[1] % 16)}.0/{PREFIX}")


def _ip_int(ip: str) -> int:
    """``int(IPv4Address(ip))`` for the dotted quads this world hands out (without the ipaddress
    module's validation: an awsvpc task takes and gives back one by the thousand)."""
    a, b, c, d = ip.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def _ip_text(value: int) -> str:
    """``str(IPv4Address(value))``."""
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


class _Addresses:
    """The free host addresses of one subnet: a high-water mark and a heap of freed offsets."""

    def __init__(self, subnet: str, used: Iterable[str]) -> None:
        self.block = subnet_block(subnet)
        self.base = int(self.block.network_address)
        # the state's addresses through the ipaddress module (it refuses a malformed one); ours after that
        self.used = {int(ipaddress.IPv4Address(ip)) - self.base for ip in used if ip}
        self.next = FIRST_HOST
        self.freed: list[int] = []

    def take(self, subnet: str) -> str:
        while self.freed:
            offset = heappop(self.freed)
            if offset not in self.used:
                self.used.add(offset)
                return _ip_text(self.base + offset)
        while self.next in self.used:
            self.next += 1
        if self.next > LAST_HOST:
            raise InputError(f"subnet {subnet} ({self.block}): no free IP address left for another task")
        self.used.add(self.next)
        self.next += 1
        return _ip_text(self.base + self.next - 1)

    def has_free(self) -> bool:
        freed, used = self.freed, self.used
        while freed and freed[0] in used:  # taken again since it was freed: ``take`` would skip it too
            heappop(freed)
        if freed:
            return True
        n = self.next
        while n in self.used:
            n += 1
        return n <= LAST_HOST

    def give_back(self, ip: str) -> None:
        offset = _ip_int(ip) - self.base
        if offset in self.used:
            self.used.discard(offset)
            if offset < self.next:
                heappush(self.freed, offset)


_TASK_DEFINITION = ("taskDefinition",)  # the field a task-definition reference is read from


class ClusterState:
    """One cluster's container instances, live tasks, services and deployments."""

    def __init__(self, world: "World", name: str) -> None:
        self.world = world
        self.name = name
        store = world.store
        self.instances: dict[str, ContainerInstance] = {}
        self.tasks: dict[str, Task] = {}
        self.by_service: dict[str, dict[str, Task]] = {}
        self.by_instance: dict[str, dict[str, Task]] = {}
        self._in_order: dict[str, tuple[Task, ...]] = {}  # service -> its live tasks in id order (see service_tasks)
        # service -> started_by -> [RUNNING, other] counts of its live tasks (see service_counts)
        self._live_counts: dict[str, dict[str, list[int]]] = {}
        self.provisioning = 0  # live tasks PROVISIONING (waiting for capacity provider instances)
        self.services: dict[str, Service] = {}
        self.deployments: dict[str, list[Deployment]] = {}
        self.task_count = 0
        self.dirty: set[str] = set()  # instance ids whose record must be recomputed at flush
        self.counts_changed: set[str] = set()  # services whose counts (and their deployments') must be recomputed
        self._placer: Placer | None = None
        self._placer_builds = 0
        self._zones: frozenset[str] | None = None  # of the instances (see zones)
        self._unfit: frozenset[str] | None = None  # see unfit_instances
        self._draining: frozenset[str] | None = None  # see draining_instances
        self.generation = 0  # bumped by every change to the cluster's tasks, instances or services
        if store is None:
            return
        for inst in store.find(ContainerInstance, cluster=name):
            self.instances[inst.id] = inst
        for status in LIVE_STATUSES:
            for task in store.find(Task, cluster=name, last_status=status):
                self._index(task)
        for svc in store.find(Service, cluster=name):
            self.services[svc.name] = svc
        for dep in store.find(Deployment, cluster=name):
            self.deployments.setdefault(dep.service, []).append(dep)
        for service, deps in self.deployments.items():
            deps.sort(key=ids.deployment_order(name, service, len(deps)))
        self.task_count = _count(store, Task, cluster=name)

    # -- tasks ---------------------------------------------------------------------------

    def _index(self, task: Task) -> None:
        task_id = task.id
        self.tasks[task_id] = task
        if task.last_status == "PROVISIONING":
            self.provisioning += 1
        service = task.service
        if service:
            found = self.by_service.get(service)  # (not setdefault: no empty dict made per task)
            if found is None:
                found = self.by_service[service] = {}
            found[task_id] = task
            self._in_order.pop(service, None)
            per = self._live_counts.get(service)
            if per is None:
                per = self._live_counts[service] = {}
            counts = per.get(task.started_by)
            if counts is None:
                counts = per[task.started_by] = [0, 0]
            counts[task.last_status != RUNNING] += 1
        instance_id = task.instance_id
        if instance_id is not None:
            found = self.by_instance.get(instance_id)
            if found is None:
                found = self.by_instance[instance_id] = {}
            found[task_id] = task

    def _unindex(self, task: Task) -> None:
        if self.tasks.pop(task.id, None) is not None and task.last_status == "PROVISIONING":
            self.provisioning -= 1
        if task.service:
            if self.by_service.get(task.service, {}).pop(task.id, None) is not None:
                self._live_counts[task.service][task.started_by][task.last_status != RUNNING] -= 1
            self._in_order.pop(task.service, None)
        if task.instance_id is not None:
            self.by_instance.get(task.instance_id, {}).pop(task.id, None)

    def put_task(self, task: Task) -> None:
        """Record ``task`` (new or changed); a STOPPED task leaves the live indexes."""
        old = self.tasks.get(task.id)
        if old is not None:
            self._unindex(old)
            if old.instance_id is not None:
                self.dirty.add(old.instance_id)
        if task.last_status != STOPPED:
            self._index(task)
        if task.instance_id is not None:
            self.dirty.add(task.instance_id)
        self.generation += 1
        world = self.world
        if world._watchers:
            world.saw_task(old, task)
        else:
            world.journal[(Task, (task.id,))] = task  # (saw_task without watchers: tasks change by the thousand)
        if task.service:
            self.counts_changed.add(task.service)

    def service_tasks(self, service: str) -> tuple[Task, ...]:
        """The service's live tasks, in id order (sorted again only after one of them changed)."""
        found = self._in_order.get(service)
        if found is None:
            tasks = self.by_service.get(service, {})
            found = self._in_order[service] = tuple(map(tasks.__getitem__, sorted(tasks)))
        return found

    def service_counts(self, service: str) -> dict[str, list[int]]:
        """``started_by -> [RUNNING, not RUNNING]`` counts of the service's live tasks, kept as
        they are indexed (entries may be zero): a service's turn reads them instead of a pass
        over a big service's tasks."""
        return self._live_counts.get(service, {})

    def instance_tasks(self, instance_id: str) -> list[Task]:
        found = self.by_instance.get(instance_id, {})
        return [found[k] for k in sorted(found)]

    def group_tasks(self, group: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.group == group]

    def new_task_id(self, group: str) -> str:
        self.task_count += 1
        return ids.task_id(self.name, group, self.task_count)

    # -- instances -----------------------------------------------------------------------

    def put_instance(self, inst: ContainerInstance) -> None:
        self.instances[inst.id] = inst
        self._zones = None
        self._unfit = self._draining = None
        self.dirty.add(inst.id)
        self._placer = None
        self.generation += 1
        self.world.note(inst)

    def draining_instances(self) -> frozenset[str]:
        """Instances DRAINING (kept until an instance record is put, as unfit_instances)."""
        if self._draining is None:
            self._draining = frozenset(iid for iid, inst in self.instances.items() if inst.status == "DRAINING")
        return self._draining

    def unfit_instances(self) -> frozenset[str]:
        """Instances whose tasks cannot stay: not ACTIVE or DRAINING, or the agent disconnected
        (kept until an instance record is put: refresh_dirty's records change resources only)."""
        if self._unfit is None:
            self._unfit = frozenset(iid for iid, inst in self.instances.items()
                                    if inst.status not in ("ACTIVE", "DRAINING") or not inst.agent_connected)
        return self._unfit

    def sorted_instances(self) -> list[ContainerInstance]:
        return [self.instances[k] for k in sorted(self.instances)]

    def zones(self) -> set[str]:
        """Zones of the cluster's registered instances and of its spec's groups."""
        if self._zones is None:
            self._zones = frozenset(i.availability_zone for i in self.instances.values() if i.availability_zone)
        out = set(self._zones)
        cluster = self.world.cluster(self.name)
        for group in (cluster.spec.get("containerInstances") if cluster else None) or ():
            if isinstance(group, dict) and group.get("availabilityZone"):
                out.add(str(group["availabilityZone"]))
        return out

    def instance_view(self, inst: ContainerInstance, tasks: Iterable[Task]) -> dict:
        """What an instance record says given its ``tasks``: resources and ports of those that
        hold them (RUNNING until STOPPED), the count of the RUNNING ones."""
        cpu, memory, running, ports = self._held(tasks)
        return {
            "remaining_cpu": inst.registered_cpu - cpu,
            "remaining_memory": inst.registered_memory - memory,
            "reserved_ports": ports,
            "running_tasks_count": running,
            "pending_tasks_count": 0,
        }

    def _held(self, tasks: Iterable[Task]) -> tuple[int, int, int, tuple[int, ...]]:
        """CPU, memory, RUNNING count and reserved TCP ports (the agent's and the static host
        ports) of the ``tasks`` that hold resources: one pass (instance records are recomputed
        for every instance a round touched)."""
        cpu = memory = running = 0
        ports: set[int] | None = None
        static_ports = self.world.static_ports
        for t in tasks:
            status = t.last_status
            if status not in HOLDING_STATUSES:
                continue
            cpu += t.cpu
            memory += t.memory
            if status == RUNNING:
                running += 1
            static = static_ports(t)
            for p, proto in static:
                if proto == "tcp":
                    if ports is None:
                        ports = set(RESERVED_PORTS)
                    ports.add(p)
        return cpu, memory, running, (_AGENT_PORTS if ports is None else tuple(sorted(ports)))

    def refresh_counts(self) -> None:
        """Recompute the running/pending counts of services (and their deployments) whose tasks changed."""
        for name in sorted(self.counts_changed):
            svc = self.services.get(name)
            if svc is None:
                continue
            tasks = self.by_service.get(name, {}).values()
            running = Counter(t.started_by for t in tasks if t.last_status == RUNNING)
            waiting = Counter(t.started_by for t in tasks if t.last_status != RUNNING)
            if svc.status != "INACTIVE":
                counted = (sum(running.values()), sum(waiting.values()))
                if (svc.running_count, svc.pending_count) != counted:
                    self.put_service(replace(svc, running_count=counted[0], pending_count=counted[1]))
            for dep in self.deployments.get(name, ()):
                if dep.status == "INACTIVE":
                    continue
                counted = (running.get(dep.id, 0), waiting.get(dep.id, 0))
                if (dep.running_count, dep.pending_count) != counted:
                    self.put_deployment(replace(dep, running_count=counted[0], pending_count=counted[1]))
        self.counts_changed.clear()

    def refresh_dirty(self) -> None:
        """Recompute the records of instances whose tasks changed (journaled when different), and
        the counts of services whose tasks changed."""
        self.refresh_counts()
        for iid in sorted(self.dirty):
            inst = self.instances.get(iid)
            if inst is None:
                continue
            tasks = self.by_instance.get(iid, {}).values() if inst.status != "INACTIVE" else ()
            cpu, memory, running, ports = self._held(tasks)
            cpu, memory = inst.registered_cpu - cpu, inst.registered_memory - memory
            if (inst.remaining_cpu != cpu or inst.remaining_memory != memory or inst.reserved_ports != ports
                    or inst.running_tasks_count != running or inst.pending_tasks_count != 0):
                updated = ContainerInstance(*_INSTANCE_VALUES(inst))  # replace() without its per-call field walk
                updated.remaining_cpu, updated.remaining_memory, updated.reserved_ports = cpu, memory, ports
                updated.running_tasks_count, updated.pending_tasks_count = running, 0
                self.instances[iid] = updated
                self.world.note(updated)
        self.dirty.clear()

    # -- placement -----------------------------------------------------------------------

    @property
    def placer(self) -> Placer:
        """The cluster's placement view (its ACTIVE and DRAINING instances with their tasks)."""
        if self._placer is None:
            self._placer = Placer(self._nodes(), seed=self.world.seed)
            self._placer_builds += 1
        return self._placer

    def placer_version(self) -> tuple[int, int]:
        """Changes whenever the placement view changes (a placement, a release, a rebuild)."""
        return self._placer_builds, self.placer.version

    def drop_placer(self) -> None:
        self._placer = None

    def release_placement(self, task: Task) -> None:
        """Give a task's resources back to the placer (before it stops; RUNNING until STOPPED)."""
        if self._placer is not None and task.instance_id is not None and task.last_status in HOLDING_STATUSES:
            world = self.world
            demand = world._demands.get(task.task_definition)  # (tasks stop by the thousand)
            if demand is None or (demand.cpu, demand.memory) != (task.cpu, task.memory) or task.service is None:
                demand = world.task_demand(task)  # (also a task RunTask's overrides sized)
            self._placer.release(task.instance_id, demand, task.host_ports, task.group)

    def _nodes(self) -> list[Node]:
        out = []
        world = self.world
        # revision (a standalone task: its id) -> (GPUs, network interfaces) a task of it takes
        takes: dict[str, tuple[int, int]] = {}
        for inst in self.sorted_instances():
            if inst.status == "INACTIVE":
                continue
            static: set = set()
            dynamic: set = set()
            cpu = memory = gpu = running = enis = 0
            groups: Counter = Counter()
            for t in self.instance_tasks(inst.id):  # one pass over the tasks holding resources
                if t.last_status not in HOLDING_STATUSES:
                    continue
                s, d = world.port_usage(t)
                if s:
                    static.update(s)
                if d:
                    dynamic.update(d)
                cpu += t.cpu
                memory += t.memory
                ref = t.task_definition if t.service is not None else t.id  # RunTask's overrides size one task
                per_task = takes.get(ref)
                if per_task is None:
                    demand = world.task_demand(t)
                    per_task = takes[ref] = (int(demand.gpu or 0), int(demand.network_mode == "awsvpc"))
                gpu += per_task[0]
                enis += per_task[1]
                groups[t.group] += 1
                running += 1
            out.append(Node(
                id=inst.id, availability_zone=inst.availability_zone, attributes=dict(inst.attributes),
                remaining_cpu=inst.registered_cpu - cpu, remaining_memory=inst.registered_memory - memory,
                remaining_gpu=inst.registered_gpu - gpu,
                # ENI trunking (an instance with a trunk interface) is not modelled: no limit then
                remaining_eni=None if (limit := task_enis(inst.instance_type)) is None
                or TRUNK_ATTRIBUTE in (inst.attributes or {}) else limit - enis,
                used_ports=static, dynamic_ports=dynamic, status=inst.status,
                agent_connected=inst.agent_connected, agent_version=inst.agent_version or "1.80.0",
                registered_at=inst.registered_at, ec2_instance_id=ids.ec2_instance_id(inst.id),
                groups=groups, running_tasks=running,
            ))
        return out

    # -- services and deployments --------------------------------------------------------

    def put_service(self, svc: Service) -> None:
        self.services[svc.name] = svc
        self.generation += 1
        self.world.note(svc)

    def active_services(self) -> list[Service]:
        return [self.services[k] for k in sorted(self.services) if self.services[k].status == "ACTIVE"]

    def service_deployments(self, service: str) -> list[Deployment]:
        """Oldest first."""
        return list(self.deployments.get(service, ()))

    def put_deployment(self, dep: Deployment) -> None:
        deps = self.deployments.setdefault(dep.service, [])
        for k, d in enumerate(deps):
            if d.id == dep.id:
                deps[k] = dep
                break
        else:
            deps.append(dep)
        self.generation += 1
        self.world.note(dep)


@dataclass(frozen=True, slots=True)
class Changes:
    """What one unit of work changed: records (``_DELETED`` for a delete), events, the clock."""

    records: tuple[tuple[type, tuple, object], ...]
    events: tuple[ServiceEvent, ...]
    clock: str | None
    expired: tuple[tuple[str, str], ...] = ()  # (history kind, before): entries older than that go

    def write(self, store: StateStore) -> None:
        """Into ``store``, inside the caller's transaction."""
        saved = [record for _, _, record in self.records if record is not _DELETED]
        save_many = getattr(store, "save_many", None)
        if save_many is not None:
            save_many(saved)
        else:
            for record in saved:
                store.save(record)
        for record_type, key, record in self.records:
            if record is _DELETED:
                store.delete(record_type, *key)
        for event in self.events:
            store.add_service_event(event)
        if self.clock is not None and store.clock() != self.clock:
            store.set_clock(self.clock)
        prune = getattr(store, "prune_history", None)
        for kind, before in self.expired if prune is not None else ():
            prune(kind, before)


def _count(store: StateStore, record_type: type, **where: object) -> int:
    count = getattr(store, "count", None)
    return count(record_type, **where) if count is not None else len(store.find(record_type, **where))


class World:
    """The simulated world of one plan or apply; see the module docstring."""

    def __init__(self, store: StateStore | None, seed: int = 0) -> None:
        self.store = store
        self.seed = seed
        self._registry: bool | None = None  # see simulates_registry
        self._clock: str | None = None
        self._stored_clock = ""  # the store's clock when first read: nothing in it is later
        self._clusters: dict[str, ClusterState] = {}
        self._cluster_records: dict[str, Cluster | None] = {}
        self._stored_active: frozenset[str] | None = None  # ACTIVE clusters in the store, read once
        self._revisions: dict[str, dict[int, TaskDefinitionRevision]] = {}  # family -> revision -> record
        self._latest: dict[str, int] | None = None
        self._demands: dict[str, TaskDemand] = {}
        self._port_usage: dict[tuple, tuple] = {}  # (revision, host ports) -> port_usage
        self._no_static: dict[str, bool] = {}  # revision -> its tasks hold no static port (see static_ports)
        self._catalogue: dict[tuple[str, str], CatalogueEntry] | None = None
        self._registrations: dict[tuple[str, str, int], TargetRegistration] | None = None
        self._by_task: dict[str, set[tuple[str, str, int]]] = {}
        self._addresses: dict[str, _Addresses] = {}
        self._last_event: dict[tuple[str, str], str] = {}
        self._sim: dict[tuple[str, str], SimState | None] = {}
        self._history_counts: dict[tuple[str, str, str], int] = {}
        self.journal: dict[tuple[type, tuple], object] = {}
        self._expired: dict[str, str] = {}  # history kind -> entries before this time go (see expire_history)
        self.events: list[ServiceEvent] = []  # not yet flushed
        self.history: list[ServiceEvent] = []  # every event this world recorded
        self._watchers: list = []

    @property
    def simulates_registry(self) -> bool:
        """Whether an ECR image no Repository holds fails to pull here (DESIGN §3): in the
        simulation, yes; not in a copy of live AWS (``app.aws.world_of``, a state recorded as
        ``aws``), whose repositories live outside the manifests."""
        if self._registry is None:
            self._registry = self.store is None or self.store.backend() != "aws"
        return self._registry

    def watch(self, fn) -> None:
        """Call ``fn(old, new)`` for every task this world records (old: None for a new task)."""
        self._watchers.append(fn)

    def saw_task(self, old: Task | None, new: Task) -> None:
        for fn in self._watchers:
            fn(old, new)
        self.journal[(Task, (new.id,))] = new  # note(new), without working out its key

    # -- the journal ---------------------------------------------------------------------

    def note(self, record) -> None:
        self.journal[(type(record), _key(record))] = record

    def forget(self, record_type: type, key: tuple) -> None:
        self.journal[(record_type, key)] = _DELETED

    def expire_history(self, kind: str, before: str) -> None:
        """Drop the stored history entries of ``kind`` older than ``before`` with the next write
        (the journal holds none that old: entries are appended at the clock's time or later)."""
        self._expired[kind] = before

    def take_changes(self) -> "Changes":
        """Every change since the last take (instance records and counts brought up to date first)."""
        for cs in self._clusters.values():
            cs.refresh_dirty()
        changes = Changes(tuple((t, k, r) for (t, k), r in self.journal.items()), tuple(self.events), self._clock,
                          tuple(sorted(self._expired.items())))
        self.journal.clear()
        self.events.clear()
        self._expired.clear()
        return changes

    def flush(self) -> None:
        """Write every change since the last flush to the store (the caller's transaction)."""
        if self.store is None:
            raise InputError("there is no state to write the simulation to")
        self.take_changes().write(self.store)

    @property
    def changed(self) -> bool:
        return bool(self.journal or self.events)

    @property
    def changed_world(self) -> bool:
        """Whether something but the clock's bookkeeping (sim states, histories: queue depths,
        metric datapoints, rule anchors) changed: tasks, services, instances, events …"""
        return bool(self.events) or any(t not in (SimState, HistoryEntry) for t, _ in self.journal)

    # -- the clock -----------------------------------------------------------------------

    def now(self) -> str:
        if self._clock is None:
            self._clock = (self.store.clock() if self.store is not None else None) or ids.DEFAULT_CLOCK
            self._stored_clock = self._clock
        return self._clock

    def set_clock(self, now: str) -> None:
        self.now()  # the store's clock is read first (append_history relies on it)
        self._clock = now

    # -- clusters ------------------------------------------------------------------------

    def cluster(self, name: str) -> Cluster | None:
        if name not in self._cluster_records:
            self._cluster_records[name] = self.store.get(Cluster, name) if self.store is not None else None
        return self._cluster_records[name]

    def put_cluster(self, cluster: Cluster) -> None:
        self._cluster_records[cluster.name] = cluster
        self.note(cluster)

    def state(self, name: str) -> ClusterState:
        found = self._clusters.get(name)
        if found is None:
            found = self._clusters[name] = ClusterState(self, name)
        return found

    def loaded_clusters(self) -> list[str]:
        return sorted(self._clusters)

    def active_clusters(self) -> list[str]:
        if self._stored_active is None:
            found = self.store.find(Cluster, status="ACTIVE") if self.store is not None else []
            self._stored_active = frozenset(c.name for c in found)
        names = set(self._stored_active)
        for name, record in self._cluster_records.items():
            if record is not None and record.status == "ACTIVE":
                names.add(name)
            elif name in names:
                names.discard(name)
        return sorted(names)

    # -- task definitions ----------------------------------------------------------------

    def _family(self, family: str) -> dict[int, TaskDefinitionRevision]:
        found = self._revisions.get(family)
        if found is None:
            rows = self.store.find(TaskDefinitionRevision, family=family) if self.store is not None else []
            found = self._revisions[family] = {r.revision: r for r in rows}
        return found

    def prefetch_families(self, families: Iterable[str]) -> None:
        """Read the revisions of ``families`` in one query when they are most of the state's
        revisions (a plan that re-registers every task definition), instead of one query per
        family as each is first needed."""
        wanted = {f for f in families if f not in self._revisions}
        if self.store is None or len(wanted) < 20:
            return
        if self._latest is None:
            self._latest = self.store.latest_revisions()
        if 2 * sum(self._latest.get(f, 0) for f in wanted) < sum(self._latest.values()):
            return
        found: dict[str, dict[int, TaskDefinitionRevision]] = {f: {} for f in wanted}
        for r in self.store.find(TaskDefinitionRevision):
            if r.family in found:
                found[r.family][r.revision] = r
        self._revisions.update(found)

    def latest_revision(self, family: str) -> int:
        if self._latest is None:
            self._latest = self.store.latest_revisions() if self.store is not None else {}
        known = self._family(family)
        return max([self._latest.get(family, 0), *known])

    def revision(self, ref: str) -> TaskDefinitionRevision | None:
        family, _, rev = str(ref).rpartition(":")
        return self._family(family).get(int(rev)) if rev.isdigit() and family else None

    def active_revisions(self, family: str) -> list[TaskDefinitionRevision]:
        return [r for _, r in sorted(self._family(family).items()) if r.status == "ACTIVE"]

    def put_revision(self, revision: TaskDefinitionRevision) -> None:
        self._family(revision.family)[revision.revision] = revision
        self.note(revision)

    def demand(self, ref: str) -> TaskDemand:
        found = self._demands.get(ref)
        if found is None:
            revision = self.revision(ref)
            if revision is None:
                raise InputError(f"task definition {ref} is not registered")
            found = self._demands[ref] = TaskDemand.from_task_definition(revision.spec)
        return found

    def resolve_task_definition(self, value: object, what: str) -> TaskDefinitionRevision:
        """``family`` (latest ACTIVE), ``family:rev`` or a task-definition ARN, to an ACTIVE revision."""
        text = str(value or "")
        if text.startswith("arn:") and "task-definition/" in text:
            text = text.rsplit("task-definition/", 1)[-1]
        family, _, rev = text.rpartition(":")
        if rev.isdigit() and family:
            found = self._family(family).get(int(rev))
            if found is None:
                raise InputError(f"{what}: task definition {text} is not registered", field=_TASK_DEFINITION)
            if found.status != "ACTIVE":
                raise InputError(f"{what}: task definition {text} is INACTIVE (deregistered)", field=_TASK_DEFINITION)
            return found
        active = self.active_revisions(text)
        if not active:
            raise InputError(f"{what}: task definition family {text!r} has no ACTIVE revision", field=_TASK_DEFINITION)
        return active[-1]

    def port_usage(self, task: Task) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]:
        """(static, dynamic) ``(host port, protocol)`` pairs a task holds on its instance."""
        if task.instance_id is None:
            return (), ()
        key = (task.task_definition, task.host_ports)
        found = self._port_usage.get(key)  # a function of the revision and the host ports alone
        if found is None:
            try:
                demand = self.demand(task.task_definition)
            except InputError:
                return tuple((p, "tcp") for p in task.host_ports), ()
            found = self._port_usage[key] = self._ports_of(demand, task.host_ports)
        return found

    def static_ports(self, task: Task) -> tuple[tuple[int, str], ...]:
        """``port_usage(task)[0]``: the static ``(host port, protocol)`` pairs a task holds on
        its instance; none, without looking at its host ports, for a revision whose every port
        is dynamic or on the task's own ENI (instance records are recomputed by the thousand)."""
        if task.instance_id is None:
            return ()
        none = self._no_static.get(task.task_definition)
        if none is None:
            try:
                demand = self.demand(task.task_definition)
            except InputError:
                none = False
            else:
                mode = demand.network_mode
                none = mode in ("awsvpc", "none") or (mode == "bridge" and not any(p.host_port for p in demand.ports))
            self._no_static[task.task_definition] = none
        return () if none else self.port_usage(task)[0]

    @staticmethod
    def _ports_of(demand: TaskDemand, host_ports: tuple[int, ...]) -> tuple[tuple, tuple]:
        static: list[tuple[int, str]] = []
        dynamic: list[tuple[int, str]] = []
        if demand.network_mode in ("awsvpc", "none"):
            return (), ()  # the task's own ENI: nothing taken on the instance
        for i, need in enumerate(demand.ports):
            port = host_ports[i] if i < len(host_ports) else need.host_port
            entry = (port, str(need.protocol or "tcp").lower())
            if demand.network_mode == "bridge" and not need.host_port:
                dynamic.append(entry)
            else:
                static.append(entry)
        return tuple(static), tuple(dynamic)

    def task_demand(self, task: Task) -> TaskDemand:
        """What a live task takes from its instance: its revision's demand, with the cpu and memory
        it was started with and, for a standalone task, the GPUs RunTask's overrides gave it."""
        try:
            demand = self.demand(task.task_definition)
        except InputError:
            return TaskDemand(task.cpu, task.memory)
        gpu = demand.gpu if task.service is not None else self._run_gpus(task, demand)
        if (demand.cpu, demand.memory, demand.gpu) != (task.cpu, task.memory, gpu):
            return dataclasses.replace(demand, cpu=task.cpu, memory=task.memory, gpu=gpu)
        return demand

    def _run_gpus(self, task: Task, demand: TaskDemand) -> int:
        run = self.sim_state(TASK_RUN, task.id)
        overrides = run.data.get("overrides") if run is not None else None
        if not isinstance(overrides, dict) or not any(
                isinstance(o, dict) and o.get("resourceRequirements") for o in overrides.get("containerOverrides") or ()):
            return demand.gpu  # (most overrides are commands and environment: nothing to size)
        revision = self.revision(task.task_definition)
        if revision is None:
            return demand.gpu
        return TaskDemand.from_task_definition(units.overridden(revision.spec, overrides)).gpu

    # -- the catalogue -------------------------------------------------------------------

    def _entries(self) -> dict[tuple[str, str], CatalogueEntry]:
        if self._catalogue is None:
            rows = self.store.find(CatalogueEntry) if self.store is not None else []
            self._catalogue = {(e.kind, e.name): e for e in rows}
        return self._catalogue

    def catalogue(self, kind: str) -> dict[str, CatalogueEntry]:
        return {name: e for (k, name), e in sorted(self._entries().items()) if k == kind}

    def catalogue_entry(self, kind: str, name: str) -> CatalogueEntry | None:
        return self._entries().get((kind, name))

    def put_catalogue(self, entry: CatalogueEntry) -> None:
        self._entries()[(entry.kind, entry.name)] = entry
        self.note(entry)

    def delete_catalogue(self, kind: str, name: str) -> None:
        self._entries().pop((kind, name), None)
        self.forget(CatalogueEntry, (kind, name))

    # -- what the clock keeps: per-object state and histories ----------------------------

    def sim_state(self, kind: str, name: str) -> SimState | None:
        key = (kind, name)
        if key not in self._sim:
            self._sim[key] = self.store.get(SimState, kind, name) if self.store is not None else None
        return self._sim[key]

    def put_sim_state(self, state: SimState) -> None:
        self._sim[(state.kind, state.name)] = state
        self.note(state)

    def delete_sim_state(self, kind: str, name: str) -> None:
        self._sim[(kind, name)] = None
        self.forget(SimState, (kind, name))

    def append_history(self, kind: str, name: str, data: dict, at: str | None = None) -> HistoryEntry:
        """A new history entry at ``at`` (default: the clock's time); ids ``<time>#<counter>`` keep their order."""
        explicit = at is not None  # a datapoint put for a later minute: the store may hold others there
        at = at or self.now()
        count = self._history_counts.get((kind, name, at))
        if count is None:
            count = 0
            # an entry at the clock's time later than the store's clock is the first there
            if self.store is not None and (explicit or at <= self._stored_clock):
                prefix = f"{at}#"
                count = sum(1 for h in self.store.find(HistoryEntry, kind=kind, name=name, at=at)
                            if h.id.startswith(prefix))
        self._history_counts[(kind, name, at)] = count + 1
        entry = HistoryEntry(kind, name, f"{at}#{count:06d}", at, data)
        self.note(entry)
        return entry

    # -- load-balancer targets -----------------------------------------------------------

    def _targets(self) -> dict[tuple[str, str, int], TargetRegistration]:
        if self._registrations is None:
            rows = self.store.find(TargetRegistration) if self.store is not None else []
            self._registrations = {}
            for reg in rows:
                self._remember(reg)
        return self._registrations

    def _remember(self, reg: TargetRegistration) -> None:
        key = (reg.target_group, reg.target_id, reg.port)
        self._registrations[key] = reg
        self._by_task.setdefault(reg.task_id, set()).add(key)

    def register_target(self, reg: TargetRegistration) -> None:
        self._targets()
        self._remember(reg)
        self.note(reg)

    def deregister_task(self, task_id: str) -> None:
        regs = self._targets()
        keys = self._by_task.pop(task_id, None)
        if not keys:
            return  # most tasks are no target (tasks stop by the thousand)
        for key in sorted(keys):
            if regs.pop(key, None) is not None:
                self.forget(TargetRegistration, key)

    def delete_target_group(self, name: str) -> None:
        regs = self._targets()
        for key in sorted(k for k in regs if k[0] == name):
            reg = regs.pop(key)
            self._by_task.get(reg.task_id, set()).discard(key)
            self.forget(TargetRegistration, key)

    def targets(self, target_group: str | None = None) -> list[TargetRegistration]:
        regs = self._targets()
        return [regs[k] for k in sorted(regs) if target_group is None or k[0] == target_group]

    # -- addresses -----------------------------------------------------------------------

    def _pool(self, subnet: str) -> _Addresses:
        pool = self._addresses.get(subnet)
        if pool is None:
            # the addresses held by the subnet's live tasks as this world sees them now (whenever
            # the pool is made): a loaded cluster's live tasks are the world's; others, the store's
            used: set[str] = set()
            if self.store is not None:
                for status in LIVE_STATUSES:
                    used.update(t.private_ip for t in self.store.find(Task, subnet=subnet, last_status=status)
                                if t.cluster not in self._clusters)
            for cs in self._clusters.values():
                used.update(t.private_ip for t in cs.tasks.values() if t.subnet == subnet and t.private_ip)
            pool = self._addresses[subnet] = _Addresses(subnet, used)
        return pool

    def has_free_ip(self, subnet: str) -> bool:
        return self._pool(subnet).has_free()

    def allocate_ip(self, subnet: str) -> str:
        return self._pool(subnet).take(subnet)

    def release_ip(self, subnet: str, ip: str) -> None:
        if subnet and ip and subnet in self._addresses:
            self._addresses[subnet].give_back(ip)

    # -- events --------------------------------------------------------------------------

    def event(self, cluster: str, service: str, message: str) -> None:
        """Append a service event unless it repeats the service's last one (ECS de-duplicates)."""
        key = (cluster, service)
        if key not in self._last_event:
            last = self.store.service_events(cluster, service)[-1:] if self.store is not None else []
            self._last_event[key] = last[0].message if last else ""
        if self._last_event[key] == message:
            return
        self._last_event[key] = message
        event = ServiceEvent(cluster, service, self.now(), message)
        self.events.append(event)
        self.history.append(event)


def _key(record) -> tuple:
    if isinstance(record, Task):
        return (record.id,)
    if isinstance(record, ContainerInstance):
        return (record.id,)
    if isinstance(record, Service):
        return (record.cluster, record.name)
    if isinstance(record, Deployment):
        return (record.id,)
    if isinstance(record, TaskDefinitionRevision):
        return (record.family, record.revision)
    if isinstance(record, Cluster):
        return (record.name,)
    if isinstance(record, TargetRegistration):
        return (record.target_group, record.target_id, record.port)
    if isinstance(record, CatalogueEntry):
        return (record.kind, record.name)
    if isinstance(record, SimState):
        return (record.kind, record.name)
    if isinstance(record, HistoryEntry):
        return (record.kind, record.name, record.id)
    raise TypeError(f"{type(record).__name__} is not a world record")


__all__ = ["HOLDING_STATUSES", "LIVE_STATUSES", "RUNNING", "STOPPED", "Changes", "ClusterState", "World", "subnet_block"]
