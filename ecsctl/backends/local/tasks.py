"""Standalone tasks (RunTask / StopTask) and the simulation clock (tick) in the local simulation.

Model (documented choices; see also ``services.py``):

* **RunTask** — the task definition is an ACTIVE revision (``family`` = latest ACTIVE,
  ``family:rev``, or an ARN), the cluster an ACTIVE one; ``count`` 1–10; group default
  ``family:<family>``.  EC2 tasks are placed one by one by the same :class:`Placer` as service
  tasks, with the task definition's ``memberOf`` constraints combined with the given ones
  (≤ 10 in all) and the given strategies (≤ 5).  Without a strategy a standalone task uses
  DESIGN §7's default (spread ``attribute:ecs.availability-zone`` then ``instanceId``): ECS's
  own default for RunTask is UNCONFIRMED in the reference (ecs-semantics §2.3).  Tasks start
  straight in RUNNING, ``started_by`` = :data:`STARTED_BY`, ``service`` None.
  A task that cannot be placed is **not** created; it becomes a RunTask ``failures`` entry
  ``{"arn", "instance", "reason", "detail"}`` (one per task not started; ``arn``/``instance``
  name the closest matching container instance, ``reason`` e.g. ``RESOURCE:MEMORY``), as the
  AWS API returns them next to the started tasks.  A cluster without any ACTIVE instance is an
  error, as in ECS ("No Container Instances were found in your cluster.").
* Launch type: ``--launch-type``, else the cluster's default capacity-provider strategy
  (``services.launch_type``).  Fargate needs an ``awsvpc`` task definition whose
  ``requiresCompatibilities`` (if given) include FARGATE; Fargate tasks ignore placement
  constraints and strategies (DESIGN §7), get no instance, and go to the AZ of their subnets
  (``services.fargate_azs``) with the fewest RUNNING tasks of the group (ties: subnet order).
  ``awsvpc`` task definitions need subnets; other network modes refuse them.  awsvpc tasks
  (Fargate or EC2) run in the given subnet of their AZ and get a private IP allocated from it
  (``services.task_network``, ``network``).
* **StopTask** — RUNNING → STOPPED now with ``stop_code`` ``UserInitiated``, the given reason
  (default "Task stopped by user"); its load-balancer targets are deregistered and the
  instance's resources released.  A service task stopped this way lowers the service's running
  count and is replaced at the next ``apply`` (drift) or ``tick``, not at once: the simulation
  moves only when told.  Stopping a STOPPED task changes nothing (ECS returns it as it is).
* **tick** — the clock moves forward by the duration; then every :data:`TICK_HANDLERS` entry
  runs with ``(world, from_time, to_time)`` (the extension point for scheduled scaling actions,
  scaling policies and scheduled tasks; none is registered yet); then every ACTIVE cluster's
  services replace lost tasks and reach their desired count (``services.reconcile_cluster``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from ecsctl.backends.local import services
from ecsctl.backends.local.world import RUNNING, STOPPED, World
from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.placement import Unplaced, task_definition_constraints
from ecsctl.core.state.ports import Cluster, Service, ServiceEvent, Task
from ecsctl.errors import InputError, UsageError

STARTED_BY = "ecsctl run-task"
USER_INITIATED = "UserInitiated"
DEFAULT_STOP_REASON = "Task stopped by user"
MAX_COUNT = 10
MAX_CONSTRAINTS = 10
MAX_STRATEGIES = 5
MAX_SUBNETS = 16
MAX_GROUP = 255
MAX_EXPRESSION = 2000
LAUNCH_TYPES = ("EC2", "FARGATE")
CLOCK_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# ---------------------------------------------------------------------------------------------
# RunTask


@dataclass(frozen=True)
class RunTaskRequest:
    """A RunTask call, in the API's shapes (constraints/strategies as ECS JSON objects)."""

    cluster: str
    task_definition: str
    count: int = 1
    group: str | None = None
    launch_type: str | None = None
    constraints: Sequence[dict] = ()
    strategies: Sequence[dict] | None = None  # None: the default spread (DESIGN §7)
    subnets: Sequence[str] = ()


@dataclass
class RunTaskResult:
    tasks: list[Task] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)


def _check_constraint(c: dict) -> dict:
    kind = c.get("type")
    if kind == "distinctInstance":
        if c.get("expression"):
            raise UsageError("placement constraint distinctInstance takes no expression")
        return {"type": "distinctInstance"}
    if kind == "memberOf":
        expr = str(c.get("expression") or "")
        if not expr:
            raise UsageError("placement constraint memberOf needs an expression")
        if len(expr) > MAX_EXPRESSION:
            raise UsageError(f"placement constraint expression is longer than {MAX_EXPRESSION} characters")
        try:
            cql.parse(expr)
        except cql.CqlError as exc:
            raise UsageError(f"placement constraint memberOf {expr!r}: {exc}") from None
        return {"type": "memberOf", "expression": expr}
    raise UsageError(f"unknown placement constraint type {kind!r}; use memberOf or distinctInstance")


def _check_strategy(s: dict) -> dict:
    kind = s.get("type")
    fld = s.get("field")
    if kind == "random":
        return {"type": "random"}
    if kind == "binpack":
        if str(fld or "").lower() not in ("cpu", "memory"):
            raise UsageError(f"placement strategy binpack: field must be cpu or memory, not {fld!r}")
        return {"type": "binpack", "field": str(fld).lower()}
    if kind == "spread":
        text = str(fld or "")
        if text in ("instanceId", "host") or (text.startswith("attribute:") and len(text) > len("attribute:")):
            if len(text) > 255:
                raise UsageError("placement strategy field is longer than 255 characters")
            return {"type": "spread", "field": text}
        raise UsageError(f"placement strategy spread: field must be instanceId, host or attribute:NAME, not {fld!r}")
    raise UsageError(f"unknown placement strategy type {kind!r}; use binpack, spread or random")


def run_task(world: World, req: RunTaskRequest) -> RunTaskResult:
    """Start up to ``req.count`` standalone tasks; the ones that cannot be placed are failures."""
    store = world.store
    if isinstance(req.count, bool) or not isinstance(req.count, int) or not 1 <= req.count <= MAX_COUNT:
        raise UsageError(f"count must be between 1 and {MAX_COUNT}")
    cluster_name = str(req.cluster or "default").rsplit("/", 1)[-1]
    cluster = store.get(Cluster, cluster_name)
    if cluster is None or cluster.status != "ACTIVE":
        raise InputError(f"cluster {cluster_name}: Cluster not found.")
    revision = world.resolve_task_definition(req.task_definition, "run-task")
    spec = revision.spec
    group = req.group if req.group is not None else f"family:{revision.family}"
    if not group or len(group) > MAX_GROUP:
        raise UsageError(f"group must be 1 to {MAX_GROUP} characters")
    if req.launch_type is not None:
        lt = str(req.launch_type).upper()
        if lt not in LAUNCH_TYPES:
            raise UsageError(f"launch type must be EC2 or FARGATE, not {req.launch_type!r}")
    else:
        lt = services.launch_type({}, cluster)
    mode = spec.get("networkMode") or "bridge"
    subnets = sorted({str(s) for s in req.subnets if str(s)})
    if len(subnets) > MAX_SUBNETS:
        raise UsageError(f"at most {MAX_SUBNETS} subnets may be given")
    if mode == "awsvpc" and not subnets:
        raise UsageError("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    if mode != "awsvpc" and subnets:
        raise UsageError(f"Network Configuration is not valid for the given networkMode of this task definition ({mode}).")
    compat = [str(c).upper() for c in spec.get("requiresCompatibilities") or ()]
    if lt == "FARGATE" and (mode != "awsvpc" or (compat and "FARGATE" not in compat)):
        raise InputError(f"task definition {revision.ref}: Task definition does not support launch_type FARGATE.")

    constraints = [_check_constraint(c) for c in req.constraints]
    constraints += task_definition_constraints(spec)
    if len(constraints) > MAX_CONSTRAINTS:
        raise UsageError(f"at most {MAX_CONSTRAINTS} placement constraints are allowed, "
                         f"task definition's included ({len(constraints)} given)")
    strategies = None if req.strategies is None else [_check_strategy(s) for s in req.strategies]
    if strategies is not None and len(strategies) > MAX_STRATEGIES:
        raise UsageError(f"at most {MAX_STRATEGIES} placement strategies are allowed ({len(strategies)} given)")
    if strategies == []:
        strategies = None

    demand = world.demand(revision.ref)
    result = RunTaskResult()
    net = services.task_network(world, cluster, {
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets}}}, demand, lt)

    def start(instance_id: str | None, az: str, host_ports: tuple[int, ...]) -> None:
        now = world.now()
        task = Task(
            id=world.new_task_id(cluster_name, group), cluster=cluster_name, group=group,
            task_definition=revision.ref, last_status=RUNNING, desired_status=RUNNING,
            launch_type=lt, instance_id=instance_id, availability_zone=az,
            cpu=int(demand.cpu or 0), memory=int(demand.memory or 0),
            host_ports=tuple(int(p) for p in host_ports), started_by=STARTED_BY, service=None,
            created_at=now, started_at=now,
        )
        task = services.attach_network(world, task, net)
        store.insert(task)
        result.tasks.append(task)

    if lt == "FARGATE":
        azs = services.fargate_azs(world, cluster, {
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets}}})
        counts = {az: 0 for az in azs}
        for t in world.running_tasks(cluster_name, group=group):
            if t.availability_zone in counts:
                counts[t.availability_zone] += 1
        for _ in range(req.count):
            az = min(azs, key=lambda a: (counts[a], azs.index(a)))
            counts[az] += 1
            start(None, az, ())
        return result

    instances = {i.id: i for i in world.instances(cluster_name)}
    placer = world.placer(cluster_name)
    for placed in placer.place_many(demand, req.count, group=group, constraints=constraints,
                                    strategies=strategies):
        if isinstance(placed, Unplaced):
            if placed.reason == "NO_INSTANCES":
                raise InputError(f"cluster {cluster_name}: No Container Instances were found in your cluster.")
            result.failures.append({
                "arn": placed.closest_instance, "instance": placed.closest_instance,
                "reason": placed.reason, "detail": placed.message,
            })
            continue
        inst = instances[placed.instance_id]
        start(placed.instance_id, inst.availability_zone, tuple(placed.host_ports))
    world.refresh_instances(cluster_name)
    return result


# ---------------------------------------------------------------------------------------------
# StopTask


def find_task(world: World, task_id: str, cluster: str | None = None) -> Task:
    """A task by id, or by a unique prefix of at least 8 characters."""
    text = str(task_id or "").rsplit("/", 1)[-1]  # an ARN's last part is the id
    found = world.store.get(Task, text) if text else None
    if found is None and len(text) >= 8:
        matches = [t for t in world.store.find(Task, **({"cluster": cluster} if cluster else {}))
                   if t.id.startswith(text)]
        if len(matches) > 1:
            raise UsageError(f"task id prefix {text!r} is ambiguous ({len(matches)} tasks)")
        found = matches[0] if matches else None
    if found is None or (cluster and found.cluster != cluster):
        where = f" in cluster {cluster}" if cluster else ""
        raise InputError(f"task {text or task_id!r}{where}: The referenced task was not found.")
    return found


def stop_task(world: World, task_id: str, reason: str | None = None,
              cluster: str | None = None) -> tuple[Task, bool]:
    """Stop a task (user-initiated); returns the task as it is now and whether it changed."""
    task = find_task(world, task_id, cluster)
    if task.last_status == STOPPED:
        return task, False
    world.stop_task(task, USER_INITIATED, reason or DEFAULT_STOP_REASON)
    world.refresh_instances(task.cluster)
    if task.service:
        svc = world.store.get(Service, task.cluster, task.service)
        if svc is not None:
            running = len(world.running_tasks(task.cluster, service=task.service))
            if svc.running_count != running:
                world.store.save(replace(svc, running_count=running, updated_at=world.now()))
    stopped = world.store.get(Task, task.id)
    return stopped, True


# ---------------------------------------------------------------------------------------------
# The clock

TickHandler = Callable[[World, datetime, datetime], None]

# Called in order by :func:`tick`, after the clock moved and before services reconcile, with
# ``(world, from_time, to_time)`` (aware UTC datetimes; the window is ``(from_time, to_time]``).
# This is where scheduled scaling actions, scaling policies and scheduled tasks will fire;
# a handler writes through ``world.store`` inside tick's transaction and may use
# ``world.now()`` (= ``to_time``) for timestamps.  Nothing is registered yet.
TICK_HANDLERS: list[TickHandler] = []


def register_tick_handler(handler: TickHandler) -> TickHandler:
    """Add ``handler`` to :data:`TICK_HANDLERS` (once); usable as a decorator."""
    if handler not in TICK_HANDLERS:
        TICK_HANDLERS.append(handler)
    return handler


def parse_clock(text: str) -> datetime:
    try:
        return datetime.strptime(text, CLOCK_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"the state's clock {text!r} is not an ISO time") from None
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def format_clock(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime(CLOCK_FORMAT)


@dataclass
class TickResult:
    from_time: str
    to_time: str
    started: list[Task] = field(default_factory=list)
    stopped: list[Task] = field(default_factory=list)
    events: list[ServiceEvent] = field(default_factory=list)


class _Recorder:
    """``StateStore`` wrapper that notes tasks started/stopped and service events added."""

    def __init__(self, store, result: TickResult) -> None:
        self._store = store
        self._result = result

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def insert(self, record) -> None:
        self._store.insert(record)
        if isinstance(record, Task) and record.last_status == RUNNING:
            self._result.started.append(record)

    def save(self, record) -> None:
        if isinstance(record, Task) and record.last_status == STOPPED:
            before = self._store.get(Task, record.id)
            if before is not None and before.last_status != STOPPED:
                self._result.stopped.append(record)
        elif isinstance(record, Task) and record.last_status == RUNNING:
            before = self._store.get(Task, record.id)
            if before is None or before.last_status != RUNNING:  # new, or a PENDING task placed at last
                self._result.started.append(record)
        self._store.save(record)

    def add_service_event(self, event: ServiceEvent) -> None:
        self._store.add_service_event(event)
        self._result.events.append(event)


def tick(store, duration: timedelta, *, seed: int = 0,
         handlers: Sequence[TickHandler] | None = None) -> TickResult:
    """Advance the clock by ``duration``, fire the tick handlers, reconcile every ACTIVE cluster.

    Runs on ``store`` as it is (the caller holds the lock and the transaction).
    """
    if duration < timedelta(0):
        raise UsageError("the clock only moves forward")
    start = World(store, seed).now()
    from_time = parse_clock(start)
    try:
        to_time = from_time + duration
        end = format_clock(to_time)
    except (OverflowError, ValueError):
        raise UsageError("the clock cannot move that far") from None
    result = TickResult(from_time=start, to_time=end)
    world = World(_Recorder(store, result), seed)
    store.set_clock(end)
    for handler in TICK_HANDLERS if handlers is None else handlers:
        handler(world, from_time, to_time)
    for cluster in sorted(store.find(Cluster, status="ACTIVE"), key=lambda c: c.name):
        services.reconcile_cluster(world, cluster.name)
    return result


__all__ = [
    "DEFAULT_STOP_REASON",
    "STARTED_BY",
    "TICK_HANDLERS",
    "RunTaskRequest",
    "RunTaskResult",
    "TickResult",
    "register_tick_handler",
    "run_task",
    "stop_task",
    "tick",
]
