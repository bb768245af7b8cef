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
  scaling policies and scheduled tasks; ``scaling`` registers Service Auto Scaling); then every ACTIVE cluster's
  services replace lost tasks and reach their desired count (``services.reconcile_cluster``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Sequence

from ecsctl.backends.local import capacity_providers, controller, launch
from ecsctl.backends.local.launch import Launch
from ecsctl.backends.local.world import STOPPED, TASK_RUN, World
from ecsctl.core import units
from ecsctl.core.controller import service as model
from ecsctl.core.controller.ids import short_prefix
from ecsctl.core.deploy import failures
from ecsctl.core.events.target import MAX_RUN_COUNT
from ecsctl.core.events import batch
from ecsctl.core.extensions import EXTENSION
from ecsctl.core.plan.model import address
from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.placement import TaskDemand
from ecsctl.core.state.clock import format_clock, parse_clock
from ecsctl.core.state.ports import ServiceEvent, SimState, Task
from ecsctl.errors import InputError, UsageError

STARTED_BY = "ecsctl run-task"
USER_INITIATED = "UserInitiated"
DEFAULT_STOP_REASON = "Task stopped by user"
MAX_CONSTRAINTS = 10
MAX_STRATEGIES = 5
MAX_SUBNETS = 16
MAX_GROUP = 255
MAX_EXPRESSION = 2000
LAUNCH_TYPES = ("EC2", "FARGATE")
BOOKKEEPING_MINUTES = 60  # a tick commits bookkeeping-only minutes at least this often

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
    capacity_provider_strategy: Sequence[dict] = ()  # instead of launch_type (neither: the cluster's default)
    overrides: dict | None = None  # RunTask ``overrides`` (containerOverrides, taskRoleArn, executionRoleArn …)
    tags: Sequence[dict] = ()
    started_by: str | None = None  # default STARTED_BY; a rule's firing says ``events-rule/NAME``
    batch: dict | None = None  # an ``x-ecsctl`` mapping over the task definition's (core.events.batch)


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
    if isinstance(req.count, bool) or not isinstance(req.count, int) or not 1 <= req.count <= MAX_RUN_COUNT:
        raise UsageError(f"count must be between 1 and {MAX_RUN_COUNT}")
    cluster_name = model.cluster_of({"cluster": req.cluster})
    cluster = world.cluster(cluster_name)
    if cluster is None or cluster.status != "ACTIVE":
        raise InputError(f"cluster {cluster_name}: Cluster not found.")
    revision = world.resolve_task_definition(req.task_definition, "run-task")
    spec = revision.spec
    group = req.group if req.group is not None else f"family:{revision.family}"
    if not group or len(group) > MAX_GROUP:
        raise UsageError(f"group must be 1 to {MAX_GROUP} characters")
    strategy = {"capacityProviderStrategy": list(req.capacity_provider_strategy)} if req.capacity_provider_strategy else {}
    if req.launch_type is not None:
        if req.capacity_provider_strategy:
            raise UsageError("launch type and capacity provider strategy are mutually exclusive")
        lt = str(req.launch_type).upper()
        if lt not in LAUNCH_TYPES:
            raise UsageError(f"launch type must be EC2 or FARGATE, not {req.launch_type!r}")
    else:
        lt = model.launch_type(strategy, cluster.spec)
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

    run_spec = {"placementConstraints": [_check_constraint(c) for c in req.constraints],
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets}}}
    if req.strategies:
        run_spec["placementStrategy"] = [_check_strategy(s) for s in req.strategies]
    placement = model.placement(run_spec, spec)
    if len(placement.constraints) > MAX_CONSTRAINTS:
        raise UsageError(f"at most {MAX_CONSTRAINTS} placement constraints are allowed, "
                         f"task definition's included ({len(placement.constraints)} given)")
    if placement.strategies is not None and len(placement.strategies) > MAX_STRATEGIES:
        raise UsageError(f"at most {MAX_STRATEGIES} placement strategies are allowed ({len(placement.strategies)} given)")

    unknown = units.unknown_override_containers(spec, req.overrides)
    if unknown:
        raise InputError(f"Override for container named {unknown[0]} is not a container in the TaskDefinition.")
    unsized = units.fargate_override_error(spec, req.overrides) if lt == "FARGATE" else None
    if unsized is not None:
        raise InputError(f"overrides: {unsized}")
    cs = world.state(cluster_name)
    sized = units.overridden(spec, req.overrides)  # RunTask's cpu/memory overrides size its tasks
    demand = world.demand(revision.ref) if sized is spec else TaskDemand.from_task_definition(sized)
    how = Launch(group=group, task_definition=revision.ref, started_by=req.started_by or STARTED_BY, launch_type=lt,
                 demand=demand, network=launch.network_of(cs, run_spec, demand, lt))
    result = RunTaskResult()
    if lt != "FARGATE" and not any(i.status == "ACTIVE" for i in cs.instances.values()):
        raise InputError(f"cluster {cluster_name}: No Container Instances were found in your cluster.")
    run = task_run(spec, req)
    why = start_failure(world, spec, req.overrides)
    if why is not None:  # created, then stopped at start: what ECS shows for a secret or image it cannot get
        for _ in range(req.count):
            task = launch.fail_to_start(world, cs, how, why)
            _remember_run(world, task, run)
            result.tasks.append(task)
        return result
    items = capacity_providers.strategy(world, cs, strategy) if req.launch_type is None else []
    if items:  # the run's capacity provider strategy, else the cluster's default one
        started, _, unplaced = capacity_providers.start(world, cs, how, req.count, placement, items, (),
                                                        spread_over=cs.group_tasks(group), provision=False)
    else:
        started, unplaced = launch.place_and_start(world, cs, how, req.count, placement,
                                                   spread_over=cs.group_tasks(group))
    for task in started:
        _remember_run(world, task, run)
    result.tasks.extend(started)
    if unplaced is not None:
        for _ in range(req.count - len(started)):
            result.failures.append({"arn": unplaced.closest_instance, "instance": unplaced.closest_instance,
                                    "reason": unplaced.reason, "detail": unplaced.message})
    return result




def task_run(taskdef_spec: dict, req: RunTaskRequest) -> dict:
    """What the simulation keeps of a standalone task's start (SimState ``TaskRun``): its overrides,
    tags, the roles it runs with when overridden, and when its essential container exits
    (``runFor`` seconds, ``exitCode``, ``container``; ``core.events.batch``).  Empty: nothing to keep."""
    data: dict = {}
    overrides = req.overrides or {}
    if overrides:
        data["overrides"] = overrides
    if req.tags:
        data["tags"] = [dict(t) for t in req.tags]
    for key in ("taskRoleArn", "executionRoleArn"):
        if overrides.get(key):
            data[key] = str(overrides[key])
    try:
        run = batch.batch_run(taskdef_spec, *([{EXTENSION: req.batch}] if req.batch else []))
    except ValueError as exc:
        raise InputError(f"task definition x-ecsctl: {exc}") from None
    if run is not None:
        data.update(runFor=int(run.run_for.total_seconds()), exitCode=run.exit_code,
                    container=batch.exiting_container(taskdef_spec, run))
    return data


def _remember_run(world: World, task: Task, data: dict) -> None:
    if data:
        world.put_sim_state(SimState(TASK_RUN, task.id, data))


def start_failure(world: World, taskdef_spec: dict, overrides: dict | None = None) -> str | None:
    """Why a task of ``taskdef_spec`` would fail at start against the catalogue (images, secrets,
    environment files, execution role: ``core.deploy.failures``), None when it starts; an
    ``executionRoleArn`` override counts as the task definition's."""
    role = (overrides or {}).get("executionRoleArn")
    spec = {**taskdef_spec, "executionRoleArn": role} if role else taskdef_spec
    return failures.start_failure(spec, catalogue_of(world), every_image=world.simulates_registry)


def catalogue_of(world: World) -> dict[str, dict]:
    """The catalogue as ``core.deploy.failures`` reads it: address -> spec."""
    return {address(kind, name): e.spec or {}
            for kind in controller.CATALOGUE_KINDS for name, e in world.catalogue(kind).items()}


# ---------------------------------------------------------------------------------------------
# StopTask


def stop_task(world: World, task_id: str, reason: str | None = None) -> tuple[Task, bool]:
    """Stop the task ``task_id`` (user-initiated); returns the task as it is now and whether it changed.
    (``app.lookup`` finds the task a user names by an ARN or an id prefix.)

    A service task stopped this way is replaced at the next ``apply`` or ``tick``, not at once."""
    found = world.store.get(Task, task_id) if world.store is not None else None
    if found is None:
        raise InputError(f"task {task_id!r}: The referenced task was not found.{short_prefix(task_id)}")
    task = world.state(found.cluster).tasks.get(found.id, found)
    if task.last_status == STOPPED:
        return task, False
    cs = world.state(task.cluster)
    stopped = launch.stop(world, cs, task, USER_INITIATED, reason or DEFAULT_STOP_REASON)
    if task.service and task.service in cs.services:
        svc = cs.services[task.service]
        running = sum(1 for t in cs.service_tasks(task.service) if t.last_status == "RUNNING")
        if svc.running_count != running:
            cs.put_service(replace(svc, running_count=running, updated_at=world.now()))
    return stopped, True


# ---------------------------------------------------------------------------------------------
# The clock

TickHandler = Callable[[World, datetime, datetime], None]

# Called in order by :func:`tick` for every simulated minute, after the clock moved and before
# services reconcile, with ``(world, from_time, to_time)`` (aware UTC datetimes; the window is
# ``(from_time, to_time]``).  This is where scheduled scaling actions, scaling policies and
# scheduled tasks fire; a handler changes the world and may use ``world.now()`` (= ``to_time``).
TICK_HANDLERS: list[TickHandler] = []


# CloudWatch keeps datapoints of a 60-second period for 15 days (then only 5-minute and hourly
# aggregates): the simulation's per-minute datapoints older than that are dropped, so that the
# state of a long tick does not grow without end.
METRIC_RETENTION = timedelta(days=15)


def expire_datapoints(world: World, kind: str, b: datetime) -> None:
    """Once a simulated hour (at ``b`` on the hour): the history entries of ``kind`` older than
    :data:`METRIC_RETENTION` go with the next write."""
    if b.minute == 0 and b.second == 0:
        world.expire_history(kind, format_clock(b - METRIC_RETENTION))


def register_tick_handler(handler: TickHandler) -> TickHandler:
    """Add ``handler`` to :data:`TICK_HANDLERS` (once); usable as a decorator."""
    if handler not in TICK_HANDLERS:
        TICK_HANDLERS.append(handler)
    return handler


@dataclass
class TickResult:
    from_time: str
    to_time: str
    started: list[Task] = field(default_factory=list)
    stopped: list[Task] = field(default_factory=list)
    events: list[ServiceEvent] = field(default_factory=list)


def minutes(start: datetime, end: datetime):
    """The windows ``(a, b]`` of a tick from ``start`` to ``end``: up to each minute boundary, then the rest."""
    t = start
    while t < end:
        boundary = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        b = min(boundary, end)
        yield t, b
        t = b


def tick(world: World, duration: timedelta, *, handlers: Sequence[TickHandler] | None = None,
         after_minute: Callable[[], None] | None = None) -> TickResult:
    """Advance the clock by ``duration``, minute by minute: the tick handlers fire, then every
    ACTIVE cluster settles (services replace lost tasks and reach their desired count).
    ``after_minute`` runs after each minute in which something changed (the caller commits);
    minutes that only moved the clock's bookkeeping (queue depths, datapoints: ``World.changed_world``)
    are gathered, up to :data:`BOOKKEEPING_MINUTES` of them, into one call."""
    if duration < timedelta(0):
        raise UsageError("the clock only moves forward")
    start_text = world.now()
    start = parse_clock(start_text)
    try:
        end = start + duration
        end_text = format_clock(end)
    except (OverflowError, ValueError):
        raise UsageError("the clock cannot move that far") from None
    result = TickResult(from_time=start_text, to_time=end_text)
    mark = len(world.history)
    world.watch(lambda old, new: _note(result, old, new))
    settled: dict[str, int] = {}  # cluster -> generation it last settled at
    session = controller.Session()
    pending = 0  # minutes of bookkeeping not handed to after_minute yet
    try:
        for a, b in minutes(start, end):
            world.set_clock(format_clock(b))
            for handler in TICK_HANDLERS if handlers is None else handlers:
                handler(world, a, b)
            for name in world.active_clusters():
                cs = world.state(name)
                if settled.get(name) == cs.generation:
                    continue
                controller.settle(world, name, session)
                settled[name] = cs.generation
            if after_minute is not None and world.changed:
                pending += 1
                if world.changed_world or pending >= BOOKKEEPING_MINUTES:
                    after_minute()
                    pending = 0
    except KeyboardInterrupt:
        if after_minute is None or world.store is None:
            raise
        raise TickInterrupted(committed_part(replace(result, events=world.history[mark:]), world.store.clock())) from None
    world.set_clock(end_text)
    result.events = world.history[mark:]
    return result


def committed_part(result: TickResult, clock: str | None) -> TickResult:
    """What of ``result`` the state holds when its clock stands at ``clock`` (a tick stopped
    there): each minute commits as it ends, so what happened after ``clock`` was not written."""
    clock = clock or result.from_time
    return replace(result, to_time=clock, started=[t for t in result.started if (t.started_at or "") <= clock],
                   stopped=[t for t in result.stopped if (t.stopped_at or "") <= clock],
                   events=[e for e in result.events if e.at <= clock])


class TickInterrupted(KeyboardInterrupt):
    """A tick stopped by Ctrl-C: ``result`` is what it committed (up to ``result.to_time``, the
    state's clock now); the minutes after it were not written."""

    def __init__(self, result: TickResult) -> None:
        super().__init__(f"the clock stands at {result.to_time}")
        self.result = result


def _note(result: TickResult, old: Task | None, new: Task) -> None:
    if new.last_status == STOPPED:
        if old is not None and old.last_status != STOPPED:
            result.stopped.append(new)
    elif new.last_status == "RUNNING" and (old is None or old.last_status != "RUNNING"):
        result.started.append(new)


__all__ = [
    "DEFAULT_STOP_REASON",
    "STARTED_BY",
    "TICK_HANDLERS",
    "RunTaskRequest",
    "RunTaskResult",
    "TickInterrupted",
    "TickResult",
    "committed_part",
    "register_tick_handler",
    "run_task",
    "stop_task",
    "tick",
]
