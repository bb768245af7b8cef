"""Shared machinery of the local simulation: reading the world, placing and stopping tasks.

``World`` wraps a ``StateStore`` for the duration of one step (it caches task-definition
demands, nothing else, so it must not outlive the step's transaction).  Instance bookkeeping
is never done incrementally: after tasks start or stop, ``refresh_instances`` recomputes each
instance's remaining CPU/memory, reserved ports and running-task count from its RUNNING tasks,
which is exactly the invariant ``check_invariants`` verifies.
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
    ServiceEvent,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
)
from ecsctl.errors import InputError

RUNNING = "RUNNING"
STOPPED = "STOPPED"


class World:
    def __init__(self, store: StateStore, seed: int = 0) -> None:
        self.store = store
        self.seed = seed
        self._demands: dict[str, TaskDemand] = {}
        self._revisions: dict[str, TaskDefinitionRevision | None] = {}

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

    def new_task_id(self, cluster: str, group: str) -> str:
        k = len(self.store.find(Task, cluster=cluster)) + 1
        return ids.task_id(cluster, group, k)

    def stop_task(self, task: Task, code: str, reason: str) -> None:
        """STOPPED now, with ``stop_code``/``stop_reason``; its load-balancer targets go too."""
        for reg in self.store.find(TargetRegistration, task_id=task.id):
            self.store.delete(TargetRegistration, reg.target_group, reg.target_id, reg.port)
        self.store.save(replace(
            task, last_status=STOPPED, desired_status=STOPPED, stop_code=code,
            stop_reason=reason, stopped_at=self.now(),
        ))

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
        by_instance: dict[str, list[Task]] = {}
        for t in self.running_tasks(cluster):
            if t.instance_id is not None:
                by_instance.setdefault(t.instance_id, []).append(t)
        for inst in self.instances(cluster):
            view = self.instance_view(inst, by_instance.get(inst.id, ()))
            updated = replace(inst, **view)
            if updated != inst:
                self.store.save(updated)

    def nodes(self, cluster: str) -> list[Node]:
        """Placement nodes for the cluster's ACTIVE instances, with their running tasks."""
        by_instance: dict[str, list[Task]] = {}
        for t in self.running_tasks(cluster):
            if t.instance_id is not None:
                by_instance.setdefault(t.instance_id, []).append(t)
        out = []
        for inst in self.instances(cluster):
            if inst.status == "INACTIVE":
                continue
            tasks = by_instance.get(inst.id, [])
            static: set = set()
            dynamic: set = set()
            for t in tasks:
                s, d = self.port_usage(t)
                static.update(s)
                dynamic.update(d)
            out.append(Node(
                id=inst.id,
                availability_zone=inst.availability_zone,
                attributes=dict(inst.attributes),
                remaining_cpu=inst.registered_cpu - sum(t.cpu for t in tasks),
                remaining_memory=inst.registered_memory - sum(t.memory for t in tasks),
                remaining_gpu=inst.registered_gpu - sum(self.task_gpu(t) for t in tasks),
                used_ports=_node_ports(static),
                dynamic_ports=_node_ports(dynamic),
                status=inst.status,
                agent_connected=inst.agent_connected,
                agent_version=inst.agent_version or "1.80.0",
                registered_at=inst.registered_at,
                ec2_instance_id=ids.ec2_instance_id(inst.id),
                groups=Counter(t.group for t in tasks),
                running_tasks=len(tasks),
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


def _node_ports(pairs: set[tuple[int, str]]) -> set:
    """Ports in the shape ``Node`` keeps them."""
    return set(pairs)
