"""Shared machinery of the local simulation: reading the world, placing and stopping tasks.

``World`` wraps a ``StateStore`` for the duration of one step (it caches task-definition
demands, nothing else, so it must not outlive the step's transaction).  Instance bookkeeping
is never done incrementally: after tasks start or stop, ``refresh_instances`` recomputes each
instance's remaining CPU/memory, reserved ports and running-task count from its RUNNING tasks,
which is exactly the invariant ``check_invariants`` verifies.

A ``WorldCache`` (held by ``LocalBackend`` across steps) may be given to ``World``: it mirrors,
per cluster, the container instances and the RUNNING tasks, so that a step does not read
every task of the cluster again.  Every write the step makes goes through ``World.store``,
which then is an ``_Observed`` wrapper that keeps the mirror in step with the store; the
backend drops the cache when the state's serial moved under it (someone else wrote) or a
step failed (rolled back).  With a cache, ``refresh_instances`` recomputes only the instances
whose tasks or record changed since they were last found consistent, and ``nodes`` reuses
each instance's usage summary; the results are the same as recomputing everything.

PENDING tasks (service tasks that could not be placed, see ``services``) have no instance, no
host ports and take nothing from any instance: instance bookkeeping and the cache's mirror
only ever look at RUNNING tasks.  ``pending_tasks`` reads them from the store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Iterable

from ecsctl.backends.local import ids
from ecsctl.core.scheduling.placement import (
    RESERVED_PORTS,
    Node,
    Placer,
    TaskDemand,
)
from ecsctl.core.state.ports import (
    ContainerInstance,
    Service,
    ServiceEvent,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
)
from ecsctl.errors import InputError

RUNNING = "RUNNING"
PENDING = "PENDING"
STOPPED = "STOPPED"


class _ClusterView:
    """One cluster's container instances and RUNNING tasks, as in the store."""

    def __init__(self, store: StateStore, cluster: str) -> None:
        self.instances: dict[str, ContainerInstance] = {
            i.id: i for i in store.find(ContainerInstance, cluster=cluster)}
        self.running: dict[str, Task] = {}
        self.on_instance: dict[str, dict[str, Task]] = {}
        for t in store.find(Task, cluster=cluster, last_status=RUNNING):
            self._add(t)
        self.consistent: set[str] = set()  # instance records known to match their tasks
        self.usage: dict[str, tuple] = {}  # instance id -> summary of its tasks (see World._usage)
        self.task_count: int | None = None  # tasks ever created in the cluster, once counted

    def _add(self, task: Task) -> None:
        self.running[task.id] = task
        if task.instance_id is not None:
            self.on_instance.setdefault(task.instance_id, {})[task.id] = task

    def _touch(self, instance_id: str | None) -> None:
        if instance_id is not None:
            self.consistent.discard(instance_id)
            self.usage.pop(instance_id, None)

    def saw_task(self, task: Task, inserted: bool) -> None:
        old = self.running.pop(task.id, None)
        if old is not None:
            if old.instance_id is not None:
                self.on_instance.get(old.instance_id, {}).pop(old.id, None)
            self._touch(old.instance_id)
        elif not inserted:
            self.task_count = None  # a task we did not know of: count afresh when needed
        if task.last_status == RUNNING:
            self._add(task)
            self._touch(task.instance_id)
        if inserted and self.task_count is not None:
            self.task_count += 1

    def saw_instance(self, inst: ContainerInstance) -> None:
        self.instances[inst.id] = inst
        self._touch(inst.id)

    def sorted_instances(self) -> list[ContainerInstance]:
        return [self.instances[k] for k in sorted(self.instances)]


class WorldCache:
    """Cluster views kept across the steps of one apply; valid while the state's serial is ``serial``."""

    def __init__(self) -> None:
        self.serial: int | None = None
        self.clusters: dict[str, _ClusterView] = {}

    def clear(self) -> None:
        self.serial = None
        self.clusters.clear()

    def view(self, store: StateStore, cluster: str) -> _ClusterView:
        found = self.clusters.get(cluster)
        if found is None:
            found = self.clusters[cluster] = _ClusterView(store, cluster)
        return found

    def saw(self, record: object, inserted: bool = False) -> None:
        if isinstance(record, Task):
            view = self.clusters.get(record.cluster)
            if view is not None:
                view.saw_task(record, inserted)
        elif isinstance(record, ContainerInstance):
            for name, view in self.clusters.items():
                if name == record.cluster:
                    view.saw_instance(record)
                elif record.id in view.instances:  # moved to another cluster: start afresh
                    self.clusters.pop(name)
                    break


class _Observed:
    """``StateStore`` wrapper that tells a ``WorldCache`` about every write of tasks and instances."""

    def __init__(self, store: StateStore, cache: WorldCache) -> None:
        self._store = store
        self._cache = cache

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def save(self, record) -> None:
        self._store.save(record)
        self._cache.saw(record)

    def update(self, record) -> None:
        self._store.update(record)
        self._cache.saw(record)

    def insert(self, record) -> None:
        self._store.insert(record)
        self._cache.saw(record, inserted=True)

    def delete(self, record_type, *key: object) -> bool:
        if record_type in (Task, ContainerInstance):
            self._cache.clusters.clear()
        return self._store.delete(record_type, *key)

    def import_(self, *args, **kwargs):
        self._cache.clusters.clear()
        return self._store.import_(*args, **kwargs)


class World:
    def __init__(self, store: StateStore, seed: int = 0, cache: WorldCache | None = None) -> None:
        self.store = store if cache is None else _Observed(store, cache)
        self.seed = seed
        self._cache = cache
        self._demands: dict[str, TaskDemand] = {}
        self._revisions: dict[str, TaskDefinitionRevision | None] = {}

    def _view(self, cluster: str) -> _ClusterView | None:
        return None if self._cache is None else self._cache.view(self.store._store, cluster)

    # -- time ----------------------------------------------------------------------------

    def now(self) -> str:
        now = self.store.clock()
        if now is None:
            self.store.set_clock(ids.DEFAULT_CLOCK)
            now = ids.DEFAULT_CLOCK
        return now

    # -- task definitions ----------------------------------------------------------------

    def revision(self, ref: str) -> TaskDefinitionRevision | None:
        if ref not in self._revisions:
            family, _, rev = ref.rpartition(":")
            self._revisions[ref] = (
                self.store.get(TaskDefinitionRevision, family, int(rev)) if rev.isdigit() else None
            )
        return self._revisions[ref]

    def demand(self, ref: str) -> TaskDemand:
        if ref not in self._demands:
            revision = self.revision(ref)
            if revision is None:
                raise InputError(f"task definition {ref} is not registered")
            self._demands[ref] = TaskDemand.from_task_definition(revision.spec)
        return self._demands[ref]

    def resolve_task_definition(self, value: object, what: str) -> TaskDefinitionRevision:
        """``family`` (latest ACTIVE), ``family:rev`` or a task-definition ARN, to an ACTIVE revision."""
        text = str(value or "")
        if text.startswith("arn:"):
            text = text.rsplit("task-definition/", 1)[-1] if "task-definition/" in text else text
        family, _, rev = text.rpartition(":")
        if rev.isdigit() and family:
            found = self.store.get(TaskDefinitionRevision, family, int(rev))
            if found is None:
                raise InputError(f"{what}: task definition {text} is not registered")
            if found.status != "ACTIVE":
                raise InputError(f"{what}: task definition {text} is INACTIVE (deregistered)")
            return found
        active = [r for r in self.store.find(TaskDefinitionRevision, family=text, status="ACTIVE")]
        if not active:
            raise InputError(f"{what}: task definition family {text!r} has no ACTIVE revision")
        return max(active, key=lambda r: r.revision)

    # -- tasks ---------------------------------------------------------------------------

    def running_tasks(self, cluster: str, **where: object) -> list[Task]:
        return self.store.find(Task, cluster=cluster, last_status=RUNNING, **where)

    def pending_tasks(self, cluster: str, **where: object) -> list[Task]:
        """PENDING tasks (not placed: no instance), oldest first (created_at, then id)."""
        found = self.store.find(Task, cluster=cluster, last_status=PENDING, **where)
        return sorted(found, key=lambda t: (t.created_at, t.id))

    def new_task_id(self, cluster: str, group: str) -> str:
        view = self._view(cluster)
        if view is None:
            k = _count(self.store, Task, cluster=cluster) + 1
        else:
            if view.task_count is None:
                view.task_count = _count(self.store, Task, cluster=cluster)
            k = view.task_count + 1
        return ids.task_id(cluster, group, k)

    def stop_task(self, task: Task, code: str, reason: str) -> None:
        """STOPPED now, with ``stop_code``/``stop_reason``; its load-balancer targets go too."""
        for reg in self.store.find(TargetRegistration, task_id=task.id):
            self.store.delete(TargetRegistration, reg.target_group, reg.target_id, reg.port)
        self.store.save(replace(
            task, last_status=STOPPED, desired_status=STOPPED, stop_code=code,
            stop_reason=reason, stopped_at=self.now(),
        ))
        if task.last_status == PENDING and task.service:
            # the service's pending count follows (converge recounts anyway; a user's stop-task does not)
            svc = self.store.get(Service, task.cluster, task.service)
            if svc is not None:
                n = _count(self.store, Task, cluster=task.cluster, service=task.service, last_status=PENDING)
                if svc.pending_count != n:
                    self.store.save(replace(svc, pending_count=n))

    def port_usage(self, task: Task) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """(static, dynamic) ``(host port, protocol)`` pairs a task holds on its instance."""
        static: list[tuple[int, str]] = []
        dynamic: list[tuple[int, str]] = []
        if task.instance_id is None:
            return static, dynamic
        try:
            demand = self.demand(task.task_definition)
        except InputError:
            return [(p, "tcp") for p in task.host_ports], dynamic
        if demand.network_mode in ("awsvpc", "none"):
            return static, dynamic  # the task's own ENI: nothing taken on the instance
        for i, need in enumerate(demand.ports):
            port = task.host_ports[i] if i < len(task.host_ports) else need.host_port
            entry = (port, str(need.protocol or "tcp").lower())
            if demand.network_mode == "bridge" and not need.host_port:
                dynamic.append(entry)
            else:
                static.append(entry)
        return static, dynamic

    def task_gpu(self, task: Task) -> int:
        try:
            return int(self.demand(task.task_definition).gpu or 0)
        except InputError:
            return 0

    # -- instances -----------------------------------------------------------------------

    def instances(self, cluster: str) -> list[ContainerInstance]:
        view = self._view(cluster)
        if view is not None:
            return view.sorted_instances()
        return self.store.find(ContainerInstance, cluster=cluster)

    def instance_view(self, inst: ContainerInstance, tasks: Iterable[Task]) -> dict:
        """What an instance should say given its RUNNING ``tasks``: resources, ports, count."""
        tasks = list(tasks)
        ports = set(RESERVED_PORTS)
        for t in tasks:
            static, _ = self.port_usage(t)
            ports.update(p for p, proto in static if proto == "tcp")
        return {
            "remaining_cpu": inst.registered_cpu - sum(t.cpu for t in tasks),
            "remaining_memory": inst.registered_memory - sum(t.memory for t in tasks),
            "reserved_ports": tuple(sorted(ports)),
            "running_tasks_count": len(tasks),
            "pending_tasks_count": 0,
        }

    def refresh_instances(self, cluster: str) -> None:
        """Recompute every instance of ``cluster`` from its RUNNING tasks (writes only changes)."""
        view = self._view(cluster)
        if view is not None:
            for inst in view.sorted_instances():
                if inst.id in view.consistent:
                    continue
                tasks = view.on_instance.get(inst.id, {})
                updated = replace(inst, **self.instance_view(inst, [tasks[k] for k in sorted(tasks)]))
                if updated != inst:
                    self.store.save(updated)
                view.consistent.add(inst.id)
            return
        by_instance: dict[str, list[Task]] = {}
        for t in self.running_tasks(cluster):
            if t.instance_id is not None:
                by_instance.setdefault(t.instance_id, []).append(t)
        for inst in self.instances(cluster):
            view = self.instance_view(inst, by_instance.get(inst.id, ()))
            updated = replace(inst, **view)
            if updated != inst:
                self.store.save(updated)

    def _usage(self, tasks: list[Task]) -> tuple:
        """(cpu, memory, gpu, static ports, dynamic ports, groups, count) of an instance's tasks."""
        static: set = set()
        dynamic: set = set()
        for t in tasks:
            s, d = self.port_usage(t)
            static.update(s)
            dynamic.update(d)
        return (sum(t.cpu for t in tasks), sum(t.memory for t in tasks),
                sum(self.task_gpu(t) for t in tasks), static, dynamic,
                Counter(t.group for t in tasks), len(tasks))

    def nodes(self, cluster: str) -> list[Node]:
        """Placement nodes for the cluster's ACTIVE instances, with their running tasks."""
        view = self._view(cluster)
        if view is not None:
            instances = view.sorted_instances()

            def usage(inst_id: str) -> tuple:
                found = view.usage.get(inst_id)
                if found is None:
                    tasks = view.on_instance.get(inst_id, {})
                    found = view.usage[inst_id] = self._usage([tasks[k] for k in sorted(tasks)])
                return found
        else:
            by_instance: dict[str, list[Task]] = {}
            for t in self.running_tasks(cluster):
                if t.instance_id is not None:
                    by_instance.setdefault(t.instance_id, []).append(t)
            instances = self.instances(cluster)

            def usage(inst_id: str) -> tuple:
                return self._usage(by_instance.get(inst_id, []))
        out = []
        for inst in instances:
            if inst.status == "INACTIVE":
                continue
            cpu, memory, gpu, static, dynamic, groups, count = usage(inst.id)
            out.append(Node(
                id=inst.id,
                availability_zone=inst.availability_zone,
                attributes=dict(inst.attributes),
                remaining_cpu=inst.registered_cpu - cpu,
                remaining_memory=inst.registered_memory - memory,
                remaining_gpu=inst.registered_gpu - gpu,
                used_ports=_node_ports(static),
                dynamic_ports=_node_ports(dynamic),
                status=inst.status,
                agent_connected=inst.agent_connected,
                agent_version=inst.agent_version or "1.80.0",
                registered_at=inst.registered_at,
                ec2_instance_id=ids.ec2_instance_id(inst.id),
                groups=Counter(groups),
                running_tasks=count,
            ))
        return out

    def placer(self, cluster: str) -> Placer:
        return Placer(self.nodes(cluster), seed=self.seed)

    # -- events --------------------------------------------------------------------------

    def event(self, cluster: str, service: str, message: str) -> None:
        """Append an event unless it repeats the service's last one (ECS de-duplicates)."""
        events = self.store.service_events(cluster, service)
        if events and events[-1].message == message:
            return
        self.store.add_service_event(ServiceEvent(cluster, service, self.now(), message))


def _count(store: StateStore, record_type: type, **where: object) -> int:
    """``len(store.find(...))``, by a COUNT query when the store has one."""
    count = getattr(store, "count", None)
    return count(record_type, **where) if count is not None else len(store.find(record_type, **where))


def _node_ports(pairs: set[tuple[int, str]]) -> set:
    """Ports in the shape ``Node`` keeps them."""
    return set(pairs)
