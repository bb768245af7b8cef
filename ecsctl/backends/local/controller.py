"""The service scheduler of the simulation: one reconcile loop, shared by plan and apply.

``reconcile(world, cluster, session)`` is one round: every ACTIVE service of the cluster, in
name order, takes one move; it returns whether anything moved.  A caller runs rounds until a
round moves nothing (the cluster has *settled*); apply commits each round, the plan runs the
same rounds over its private world, so both see every service's moves in the same order.

One service's move (DESIGN §6, ecs-semantics §4–§5):

1. **Lost tasks** — tasks on instances that went away (deregistered, not ACTIVE or DRAINING,
   agent disconnected) are stopped at once: they are already gone.
2. **REPLICA services.**  ``old`` = running tasks started by an older deployment or sitting on a
   DRAINING instance; ``new`` = the PRIMARY deployment's tasks elsewhere.  While ``old`` tasks
   remain, the move is ``core.deploy.stepper.move`` within the service's
   ``minimumHealthyPercent``/``maximumPercent``: stop that many old tasks (draining ones first,
   then as scale-in would choose them), then start up to that many new ones, placed by the
   scheduler.  A deployment and a drain are the same move.  Without old tasks the service scales
   to its desired count: surplus tasks stop (scale-in choice), missing ones start.
3. **DAEMON services** — one task per ACTIVE, connected instance that meets the memberOf
   constraints, replaced by the same move on a new revision (defaults 0 % / 100 %); daemon tasks
   on an instance that stops qualifying stop (on a DRAINING one, once its other tasks are gone).
4. **Tasks that cannot start** (``core.deploy.failures.start_failure``: an image no repository
   holds, a missing secret …) are created STOPPED (``TaskFailedToStart``) and counted in the
   deployment's ``failedTasks``.  With the circuit breaker, attempts go on round after round
   until ``breaker_threshold(D)``: the deployment FAILS and, with ``rollback``, a new deployment
   returns to the last COMPLETED revision.  Without it, one round of attempts per settle (ECS
   throttles and retries forever) and the event ``is unable to consistently start tasks``.
5. **Tasks that cannot be placed** are not created (ECS creates no task for them): the service
   records ``was unable to place a task …`` with the closest instance's reason, and its running
   count stays below its desired count.  A service is not placed again until the cluster's
   placement view changed.
6. **Bookkeeping** — running counts of the service and its deployments; ACTIVE deployments left
   without tasks become INACTIVE; a PRIMARY deployment with its desired count running and no
   older task is COMPLETED; ECS's events (stopped, started, registered targets, deployment
   completed, steady state) are recorded.

A :class:`Session` carries what one settle remembers across rounds, and tells an observer
(the plan) about every move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ecsctl.backends.local import capacity_providers, launch, services
from ecsctl.backends.local.health import Judge, Unhealthy, unhealthy_event
from ecsctl.backends.local.launch import SCHEDULER, Launch
from ecsctl.backends.local.world import RUNNING, ClusterState, World
from ecsctl.core.controller import service as model
from ecsctl.core.deploy.bounds import STUCK_EVENT, deployment_bounds
from ecsctl.core.deploy.failures import start_failure
from ecsctl.core.deploy.stepper import breaker_threshold, move, stall
from ecsctl.core.plan.model import address
from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.placement import Placed, Unplaced
from ecsctl.core.state.ports import Deployment, Service, Task, replace

DRAINING_REASON = "Task stopped because the container instance is draining"
THROTTLE_EVENT = "is unable to consistently start tasks successfully."
MAX_ROUNDS = 100_000  # a settle always ends long before; a guard against a modelling bug
CATALOGUE_KINDS = ("Parameter", "Secret", "EnvironmentFile", "Repository")


@dataclass(frozen=True, slots=True)
class MoveRecord:
    """One move of a service: what it stopped and started, and the counts after it.

    ``phase``: ``deploy`` (old tasks of earlier deployments or draining instances replaced),
    ``scale`` (towards the desired count), ``stall`` (nothing could move; ``reason``/``fix`` say
    why), ``fail`` (tasks failed to start, or started and failed their health checks), ``unhealthy``
    (running tasks stopped because their targets fail health checks), ``rollback`` (the breaker failed the deployment and a
    new one goes back)."""

    cluster: str
    service: str
    deployment: str
    task_definition: str
    phase: str
    stopped: int = 0
    started: int = 0
    old_running: int = 0
    new_running: int = 0
    failed: int = 0
    reason: str = ""
    fix: str = ""
    unplaced: Unplaced | None = None


DEPLOYMENT_STEP = "DeploymentStep"  # history kind, name: the deployment id; data: step_record


def plan_step(record: MoveRecord) -> dict:
    """A move as a step of DESIGN §6: ``stopOld``, ``startNew``, ``oldRunning``, ``newRunning``;
    a task that failed to start was started all the same, and stopped at once: counted in
    ``startNew`` and in ``failedNew``."""
    out = {"stopOld": record.stopped, "startNew": record.started + record.failed,
           "oldRunning": record.old_running, "newRunning": record.new_running}
    if record.failed:
        out["failedNew"] = record.failed
    return out


def step_record(record: MoveRecord) -> dict:
    """A move as a deployment's history keeps it: its ``plan_step``, what moved it (``phase``)
    and why tasks failed or the deployment rolled back (``reason``)."""
    out = {"phase": record.phase, "taskDefinition": record.task_definition, **plan_step(record)}
    if record.reason and (record.failed or record.phase == "rollback"):
        out["reason"] = record.reason
    return out


@dataclass
class Session:
    """What one settle remembers between rounds; ``observer`` hears every move."""

    observer: Callable[[MoveRecord], None] | None = None
    attempted: set[str] = field(default_factory=set)  # deployments whose failing starts were tried
    unplaceable: dict[tuple[str, str], tuple[int, Unplaced]] = field(default_factory=dict)
    failures: dict[str, str | None] = field(default_factory=dict)  # revision -> start failure
    judge: Judge | None = None  # target health verdicts (security groups), made on first use
    unhealthy: dict[str, Unhealthy] = field(default_factory=dict)  # deployment -> its tasks' health failure
    # services that were settled and did nothing, as they were then (see _service)
    quiet: dict[tuple[str, str], tuple] = field(default_factory=dict)

    def health(self, world: World) -> Judge:
        if self.judge is None:
            self.judge = Judge(world)
        return self.judge

    def tell(self, record: MoveRecord) -> None:
        if self.observer is not None:
            self.observer(record)


def settle(world: World, cluster: str, session: Session | None = None,
           after_round: Callable[[], None] | None = None) -> int:
    """Rounds until the cluster settles; ``after_round`` runs after each round that moved
    (apply commits there).  Returns the number of rounds that moved."""
    session = session or Session()
    rounds = 0
    for _ in range(MAX_ROUNDS):
        if not reconcile(world, cluster, session):
            break
        rounds += 1
        if after_round is not None:
            after_round()
    return rounds


def reconcile(world: World, cluster: str, session: Session) -> bool:
    """One round: every ACTIVE service of ``cluster`` takes one move. True if anything moved."""
    cs = world.state(cluster)
    if world.cluster(cluster) is None or world.cluster(cluster).status != "ACTIVE":
        return False
    draining = cs.draining_instances()
    lost = _lost_instances(cs)
    moved = False
    for svc in cs.active_services():
        moved |= _service(world, cs, svc, session, draining, lost)
    return moved


def _lost_instances(cs: ClusterState) -> frozenset:
    """Instances whose tasks are gone: deregistered or missing, not ACTIVE or DRAINING, agent
    disconnected (only those that hold tasks)."""
    by_instance = cs.by_instance
    out = {iid for iid in by_instance.keys() - cs.instances.keys() if by_instance[iid]}  # missing
    out.update(iid for iid in cs.unfit_instances() if by_instance.get(iid))
    return frozenset(out)


# ---------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    """One service's move: what it needs, and what it did (for events and the observer)."""

    world: World
    cs: ClusterState
    svc: Service
    dep: Deployment
    session: Session
    draining: frozenset
    lost_instances: frozenset = frozenset()  # whose tasks are gone (see _lost_instances)
    lost: list[Task] = field(default_factory=list)
    stopped: list[Task] = field(default_factory=list)
    drained: list[Task] = field(default_factory=list)
    started: list[Task] = field(default_factory=list)
    unhealthy: list[tuple[Task, Unhealthy]] = field(default_factory=list)  # failed health checks, stopped
    failed_checks: list[Task] = field(default_factory=list)  # of those, the ones this move started
    failed_starts: list[Task] = field(default_factory=list)  # started, and stopped at once (TaskFailedToStart)
    provisioned: list[Task] = field(default_factory=list)  # created PROVISIONING (capacity providers)
    announced: bool = False  # the move's stop and start events are written (before a breaker's)

    @property
    def name(self) -> str:
        return self.svc.name

    def launch(self) -> Launch:
        lt = model.launch_type(self.svc.spec, _cluster_spec(self.world, self.cs))
        demand = self.world.demand(self.dep.task_definition)
        return Launch(group=model.group_of(self.svc.name), task_definition=self.dep.task_definition,
                      started_by=self.dep.id, launch_type=lt, demand=demand,
                      network=launch.network_of(self.cs, self.svc.spec, demand, lt), service=self.svc)

    def stop(self, task: Task, reason: str, *, drain: bool = False, lost: bool = False) -> None:
        into = self.lost if lost else self.drained if drain else self.stopped
        into.append(launch.stop(self.world, self.cs, task, SCHEDULER, reason))

    def scale_in_reason(self) -> str:
        return f"Scaling activity initiated by (deployment {self.dep.id})"

    def told(self, record: MoveRecord) -> None:
        """Tell the session of a move, and keep it in the deployment's history when it moved
        tasks or rolled back while the deployment was in progress (``rollout status|history``
        show a deployment's steps from it; a completed deployment's later scaling is not one of
        its steps, and would grow the history with every tick)."""
        self.session.tell(record)
        moved = record.stopped or record.started or record.failed
        if (moved and self.dep.rollout_state == "IN_PROGRESS") or record.phase == "rollback":
            self.world.append_history(DEPLOYMENT_STEP, record.deployment, step_record(record))


def _cluster_spec(world: World, cs: ClusterState) -> dict | None:
    cluster = world.cluster(cs.name)
    return cluster.spec if cluster is not None else None


def _service(world: World, cs: ClusterState, svc: Service, session: Session, draining: frozenset,
             lost: frozenset) -> bool:
    dep = services.primary(cs, svc.name)
    if dep is None:  # a service without a deployment (a state pushed by hand): give it one
        dep = services.new_deployment(world, cs, svc, announce=False)
    key = (cs.name, svc.name)
    quiet = session.quiet.get(key)
    if quiet is not None and quiet[:3] == (svc, dep, cs.service_tasks(svc.name)) and quiet[3:] == (draining, lost):
        return False  # settled and untouched since its last move did nothing: it does nothing again
    ctx = _Ctx(world, cs, svc, dep, session, draining, lost)
    _stop_lost(ctx)
    _stop_unhealthy(ctx)
    if world.revision(dep.task_definition) is None:
        moved = False  # its revision is gone from the state: nothing can start
    elif model.is_daemon(svc.spec):
        moved = _daemon(ctx)
    else:
        _provisioning(ctx)
        moved = _replica(ctx)
    moved = _finish(ctx) or moved
    moved = moved or bool(ctx.lost or ctx.stopped or ctx.drained or ctx.started or ctx.unhealthy or ctx.provisioned)
    if not model.is_daemon(svc.spec):
        _remember_if_settled(ctx, key)  # a move that completed its deployment settles it too
    return moved


def _remember_if_settled(ctx: _Ctx, key: tuple[str, str]) -> None:
    """A REPLICA service whose deployment is over (COMPLETED: its desired count of tasks of that
    deployment; FAILED: it launches nothing) with every task RUNNING — none waiting for room —
    on instances neither draining nor lost: nothing moves it until its record, its deployment or
    one of its tasks changes, or an instance drains or goes away (the rest of the key), so its
    next turns, in this settle or a later minute of the same tick, can be skipped."""
    cs = ctx.cs
    svc, dep, tasks = cs.services[ctx.name], services.primary(cs, ctx.name), cs.service_tasks(ctx.name)
    if dep is None or dep.rollout_state not in ("COMPLETED", "FAILED"):
        return
    if any(t.last_status != RUNNING or t.instance_id in ctx.draining for t in tasks):
        return  # a PROVISIONING task is placed as soon as there is room (_provisioning), FAILED or not
    if dep.rollout_state == "COMPLETED" and (len(tasks) != svc.desired_count or any(t.started_by != dep.id for t in tasks)):
        return
    ctx.session.quiet[key] = (svc, dep, tasks, ctx.draining, ctx.lost_instances)


def _provisioning(ctx: _Ctx) -> None:
    """PROVISIONING tasks (capacity providers): an older deployment's stop, the PRIMARY's are
    placed where their provider's instances now have room."""
    waiting = capacity_providers.waiting_tasks(ctx.cs, ctx.name)
    if not waiting:
        return
    for task in waiting:
        if task.started_by != ctx.dep.id:
            ctx.stop(task, ctx.scale_in_reason())
    mine = [t for t in waiting if t.started_by == ctx.dep.id]
    if mine:
        placement = model.placement(ctx.svc.spec, ctx.world.revision(ctx.dep.task_definition).spec)
        placed = capacity_providers.place_provisioning(ctx.world, ctx.cs, ctx.launch(), placement, mine)
        ctx.started.extend(_health_checks(ctx, placed))


def _stop_lost(ctx: _Ctx) -> None:
    if not ctx.lost_instances:
        return
    for task in ctx.cs.service_tasks(ctx.name):
        if task.instance_id not in ctx.lost_instances or task.last_status != RUNNING:
            continue
        inst = ctx.cs.instances.get(task.instance_id)
        if inst is None or inst.status == "INACTIVE":
            reason = "Container instance deregistered"
        elif inst.status not in ("ACTIVE", "DRAINING"):
            reason = f"Container instance {inst.id} is {inst.status}"
        elif not inst.agent_connected:
            reason = f"Container instance {inst.id} agent disconnected"
        else:
            continue
        ctx.stop(task, reason, lost=True)


def _stop_unhealthy(ctx: _Ctx) -> None:
    """Running tasks whose targets stopped passing health checks (a security group changed) are
    stopped as ECS does; the PRIMARY deployment's count towards its circuit breaker."""
    judge = ctx.session.health(ctx.world)
    if not judge.may_fail(ctx.svc):
        return
    failed = 0
    for task in ctx.cs.service_tasks(ctx.name):
        if task.last_status != RUNNING:
            continue
        verdict = judge.verdict(ctx.cs, ctx.svc, task)
        if verdict is None:
            continue
        ctx.unhealthy.append((launch.stop(ctx.world, ctx.cs, task, SCHEDULER, verdict.stopped_reason), verdict))
        failed += task.started_by == ctx.dep.id
    if ctx.unhealthy:
        _count_failed(ctx, failed)
        running = [t for t in ctx.cs.service_tasks(ctx.name) if t.last_status == RUNNING]
        new = sum(t.started_by == ctx.dep.id for t in running)
        verdict = ctx.unhealthy[0][1]
        ctx.told(MoveRecord(ctx.cs.name, ctx.name, ctx.dep.id, ctx.dep.task_definition, "unhealthy",
                            len(ctx.unhealthy), 0, len(running) - new, new, failed, verdict.reason, verdict.fix))


def _count_failed(ctx: _Ctx, failed: int) -> None:
    if failed and ctx.dep.rollout_state == "IN_PROGRESS":
        ctx.dep = replace(ctx.dep, failed_tasks=ctx.dep.failed_tasks + failed, updated_at=ctx.world.now())
        ctx.cs.put_deployment(ctx.dep)


def _why(ctx: _Ctx) -> tuple[str, str]:
    """Why the PRIMARY deployment's tasks fail: ``(reason, fix)``, or empty strings."""
    failure = _failure(ctx)
    if failure:
        return failure, ""
    verdict = ctx.session.unhealthy.get(ctx.dep.id)
    return (verdict.reason, verdict.fix) if verdict is not None else ("", "")


def _failure(ctx: _Ctx) -> str | None:
    ref = ctx.dep.task_definition
    if ref not in ctx.session.failures:
        revision = ctx.world.revision(ref)
        catalogue = {address(kind, name): e.spec or {}
                     for kind in CATALOGUE_KINDS for name, e in ctx.world.catalogue(kind).items()}
        ctx.session.failures[ref] = (start_failure(revision.spec, catalogue, every_image=ctx.world.simulates_registry)
                                     if revision is not None else None)
    return ctx.session.failures[ref]


# -- REPLICA -------------------------------------------------------------------------------


def _replica(ctx: _Ctx) -> bool:
    svc, dep, cs = ctx.svc, ctx.dep, ctx.cs
    old: list[Task] = []
    new: list[Task] = []
    mine, draining = dep.id, ctx.draining
    for t in cs.service_tasks(svc.name):  # RUNNING ones: to replace (older deployment, draining instance), or not
        if t.last_status == RUNNING:
            (old if t.started_by != mine or (draining and t.instance_id in draining) else new).append(t)
    # tasks waiting for capacity provider instances hold their place among the new ones
    waiting = [t for t in capacity_providers.waiting_tasks(cs, svc.name) if t.started_by == dep.id]
    desired = svc.desired_count
    failed_deployment = dep.rollout_state == "FAILED"
    if failed_deployment:
        return False  # a FAILED deployment launches nothing and the older tasks stay
    if old:
        min_pct, max_pct = model.percents(svc.spec)
        lower, upper = deployment_bounds(desired, min_pct, max_pct)
        step = move(desired, lower, upper, len(old), len(new))
        if step is None:  # cannot happen with old tasks left; kept for the type checker
            return False
        for task in _choose_old(ctx, old, step.stop):
            ctx.stop(task, DRAINING_REASON if task.instance_id in ctx.draining else ctx.scale_in_reason(),
                     drain=task.instance_id in ctx.draining)
        want = max(0, step.start - len(waiting))
        started, unplaced, failed = _start(ctx, want)
        stopped = len(ctx.stopped) + len(ctx.drained)
        old_after, new_after = len(old) - stopped, len(new) + len(started)
        if stopped or started or ctx.provisioned:
            ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "deploy", stopped,
                                len(started), old_after, new_after, failed, *(_why(ctx) if failed else ("", ""))))
            if failed:
                _breaker(ctx)
            return True
        if failed:
            ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "fail", 0, 0,
                                old_after, new_after, failed, *_why(ctx)))
            return _breaker(ctx) or _counts_toward_breaker(ctx)
        why = unplaced.reason if unplaced is not None else _why(ctx)[0]
        reason, fix = stall(desired, min_pct, max_pct, old_after, new_after, upper, want, why)
        if waiting and unplaced is None:
            reason, fix = waiting_reason(len(waiting)), ""
        ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "stall", 0, 0,
                            old_after, new_after, reason=reason, fix=fix, unplaced=unplaced))
        if unplaced is not None:
            ctx.world.event(cs.name, svc.name, f"service ({svc.name}) {unplaced.message}")
        elif not _why(ctx)[0] and not waiting:
            ctx.world.event(cs.name, svc.name, f"service ({svc.name}) {STUCK_EVENT}")
        return False
    if len(new) + len(waiting) > desired:
        surplus = len(new) + len(waiting) - desired
        for task in waiting[::-1][:surplus]:  # those still waiting go first, the newest first
            ctx.stop(task, ctx.scale_in_reason())
        for task in _choose_to_stop(ctx, new, surplus - min(surplus, len(waiting))):
            ctx.stop(task, ctx.scale_in_reason())
        ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "scale", len(ctx.stopped),
                            0, 0, min(desired, len(new))))
        return True
    if len(new) + len(waiting) < desired:
        want = desired - len(new) - len(waiting)
        if dep.rollout_state == "IN_PROGRESS":  # the old tasks are gone, the deployment is not done:
            min_pct, max_pct = model.percents(svc.spec)  # maximumPercent still caps it (DESIGN §6, rule 2)
            _, upper = deployment_bounds(desired, min_pct, max_pct)
            want = min(want, max(0, upper - len(new) - len(waiting)))
            if want == 0:
                reason, fix = stall(desired, min_pct, max_pct, 0, len(new) + len(waiting), upper, 0, "")
                ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "stall", 0, 0, 0, len(new),
                                    reason=reason, fix=fix))
                if not waiting:
                    ctx.world.event(cs.name, svc.name, f"service ({svc.name}) {STUCK_EVENT}")
                return False
        started, unplaced, failed = _start(ctx, want)
        if started:
            ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "scale", 0, len(started),
                                0, len(new) + len(started), failed, *(_why(ctx) if failed else ("", "")),
                                unplaced=unplaced))
            if failed:
                _breaker(ctx)
        elif failed:
            ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "fail", 0, 0,
                                0, len(new), failed, *_why(ctx)))
            return _breaker(ctx) or _counts_toward_breaker(ctx)
        elif unplaced is not None:
            ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "stall", 0, 0, 0,
                                len(new), reason=f"new tasks cannot be placed ({unplaced.reason})",
                                unplaced=unplaced))
        if ctx.provisioned and not started and unplaced is None:
            ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "stall", 0, 0, 0,
                                len(new), reason=waiting_reason(len(waiting) + len(ctx.provisioned))))
        if unplaced is not None:
            ctx.world.event(cs.name, svc.name, f"service ({svc.name}) {unplaced.message}")
        return bool(started or ctx.provisioned)
    return False


def waiting_reason(count: int) -> str:
    """Why a deployment waits: its tasks in PROVISIONING (the plan's Capacity section says
    whether the group can grow enough for them)."""
    return (f"{count} new task{'s' if count != 1 else ''} wait in PROVISIONING for capacity provider instances "
            "(managed scaling launches them on the clock, up to the group's maxSize: ecsctl tick)")


def _counts_toward_breaker(ctx: _Ctx) -> bool:
    """Failed starts are progress while a circuit breaker counts them towards its threshold."""
    enable, _ = model.circuit_breaker(ctx.svc.spec)
    return enable and ctx.dep.rollout_state == "IN_PROGRESS"


def _start(ctx: _Ctx, count: int) -> tuple[list[Task], Unplaced | None, int]:
    """Start up to ``count`` tasks of the PRIMARY deployment: (started, why fewer, failed to start)."""
    if count <= 0:
        return [], None, 0
    world, cs, svc, dep = ctx.world, ctx.cs, ctx.svc, ctx.dep
    why = _failure(ctx)
    spec = ctx.launch()
    if why is not None:
        enable, _ = model.circuit_breaker(svc.spec)
        if enable:
            tries = max(0, min(count, breaker_threshold(svc.desired_count) - dep.failed_tasks))
        else:
            tries = 0 if dep.id in ctx.session.attempted else count
            ctx.session.attempted.add(dep.id)
        for _ in range(tries):
            ctx.failed_starts.append(launch.fail_to_start(world, cs, spec, why))
        if tries:
            ctx.dep = dep = replace(dep, failed_tasks=dep.failed_tasks + tries, updated_at=world.now())
            cs.put_deployment(dep)
            if not enable:
                _announce(ctx)  # the starts that failed, then what ECS says of them
                world.event(cs.name, svc.name, f"service ({svc.name}) {THROTTLE_EVENT}")
        return [], None, tries
    if dep.id in ctx.session.unhealthy:  # its tasks fail their health checks
        enable, _ = model.circuit_breaker(svc.spec)
        if not (enable and dep.rollout_state == "IN_PROGRESS"):
            return [], None, 0  # ECS starts them again and again; one round of them per settle
        count = min(count, breaker_threshold(svc.desired_count) - dep.failed_tasks)
        if count <= 0:
            return [], None, 0
    key = (svc.name, dep.task_definition)
    if spec.launch_type != "FARGATE":
        memo = ctx.session.unplaceable.get(key)
        if memo is not None and memo[0] == cs.placer_version():
            return [], memo[1], 0
    placement = model.placement(svc.spec, world.revision(dep.task_definition).spec)
    items = capacity_providers.strategy(world, cs, svc.spec)
    # the running tasks new ones spread over by zone (Fargate: the scheduler places EC2 tasks itself)
    spread = ([t for t in cs.service_tasks(svc.name) if t.last_status == RUNNING]
              if items or spec.launch_type == "FARGATE" else [])
    if items:
        current = [t for t in cs.service_tasks(svc.name) if t.started_by == dep.id]
        started, waiting, unplaced = capacity_providers.start(world, cs, spec, count, placement, items, current,
                                                              spread_over=spread)
        ctx.provisioned.extend(waiting)
    else:
        started, unplaced = launch.place_and_start(world, cs, spec, count, placement, spread_over=spread)
    if unplaced is not None:
        ctx.session.unplaceable[key] = (cs.placer_version(), unplaced)
    else:
        ctx.session.unplaceable.pop(key, None)
    healthy = _health_checks(ctx, started)
    ctx.started.extend(healthy)
    return healthy, unplaced, len(started) - len(healthy)


def _health_checks(ctx: _Ctx, started: list[Task]) -> list[Task]:
    """The tasks of ``started`` that pass their load balancer's health checks; the others are
    stopped as ECS stops them and counted as the deployment's failed tasks."""
    judge = ctx.session.health(ctx.world)
    if not started or not judge.may_fail(ctx.svc):
        return list(started)
    healthy = []
    for task in started:
        verdict = judge.verdict(ctx.cs, ctx.svc, task)
        if verdict is None:
            healthy.append(task)
            continue
        stopped = launch.stop(ctx.world, ctx.cs, task, SCHEDULER, verdict.stopped_reason)
        ctx.unhealthy.append((stopped, verdict))
        ctx.failed_checks.append(stopped)
        ctx.session.unhealthy[ctx.dep.id] = verdict
    _count_failed(ctx, len(started) - len(healthy))
    return healthy


def _choose_old(ctx: _Ctx, old: list[Task], count: int) -> list[Task]:
    """``count`` old tasks to stop: those on draining instances first, then as scale-in chooses."""
    if count <= 0:
        return []
    if not ctx.draining:
        return _choose_to_stop(ctx, old, count)
    on_draining = [t for t in old if t.instance_id in ctx.draining]
    chosen = on_draining[:count]
    if len(chosen) < count:
        rest = [t for t in old if t.instance_id not in ctx.draining]
        chosen += _choose_to_stop(ctx, rest, count - len(chosen))
    return chosen


def _choose_to_stop(ctx: _Ctx, tasks: list[Task], count: int) -> list[Task]:
    if count <= 0 or not tasks:
        return []
    by_id = {t.id: t for t in tasks}
    if all(t.instance_id is not None for t in tasks):
        strategies = model.placement(ctx.svc.spec, None).strategy_list
        chosen = ctx.cs.placer.choose_to_stop([(t.id, t.instance_id) for t in tasks], count,
                                              group=model.group_of(ctx.name), strategies=strategies)
        return [by_id[i] for i in chosen]
    # Fargate (or mixed): from the zone with the most tasks of the service, highest id first
    per_zone: dict[str, list[Task]] = {}
    for t in sorted(tasks, key=lambda t: t.id):
        per_zone.setdefault(t.availability_zone, []).append(t)
    chosen: list[Task] = []
    for _ in range(min(count, len(tasks))):
        zone = max(sorted(per_zone), key=lambda z: len(per_zone[z]))
        chosen.append(per_zone[zone].pop())
        if not per_zone[zone]:
            del per_zone[zone]
    return chosen


def _breaker(ctx: _Ctx) -> bool:
    """Fail the deployment once its failed tasks reach the breaker's threshold; roll back."""
    world, cs, svc, dep = ctx.world, ctx.cs, ctx.svc, ctx.dep
    enable, rollback = model.circuit_breaker(svc.spec)
    if not enable or dep.rollout_state != "IN_PROGRESS" or dep.failed_tasks < breaker_threshold(svc.desired_count):
        return False
    now = world.now()
    _announce(ctx)  # what this move stopped and started happened before the breaker tripped
    ctx.dep = dep = replace(dep, rollout_state="FAILED", rollout_state_reason=services.BREAKER_REASON, updated_at=now)
    cs.put_deployment(dep)
    world.event(cs.name, svc.name, f"service ({svc.name}) (deployment {dep.id}) deployment failed: {services.BREAKER_REASON}")
    done = [d for d in cs.service_deployments(svc.name) if d.id != dep.id and d.rollout_state == "COMPLETED"]
    # a rollback that fails too (its revision is the last completed one) has nowhere to go back to
    if rollback and done and done[-1].task_definition != dep.task_definition:
        target = done[-1]
        cs.put_deployment(replace(dep, status="ACTIVE"))
        ctx.svc = svc = replace(svc, task_definition=target.task_definition, updated_at=now)
        cs.put_service(svc)
        ctx.dep = back = services.new_deployment(world, cs, svc, rollback_from=dep)
        ctx.told(MoveRecord(cs.name, svc.name, back.id, back.task_definition, "rollback",
                            reason=services.BREAKER_REASON))
    return True


# -- DAEMON --------------------------------------------------------------------------------


def _daemon(ctx: _Ctx) -> bool:
    svc, dep, cs, world = ctx.svc, ctx.dep, ctx.cs, ctx.world
    revision = world.revision(dep.task_definition)
    placement = model.placement(svc.spec, revision.spec)
    members = [c for c in placement.constraints if c.get("type") == "memberOf"]
    placer = cs.placer
    eligible: list[str] = []
    for inst in cs.sorted_instances():
        if inst.status != "ACTIVE" or not inst.agent_connected:
            continue
        view = placer.node(inst.id).cql_view()
        if all(cql.matches(str(c.get("expression") or ""), view) for c in members):
            eligible.append(inst.id)
    ok = set(eligible)
    running = [t for t in cs.service_tasks(svc.name) if t.last_status == RUNNING]
    for task in running:
        if task.instance_id in ok:
            continue
        if task.instance_id in ctx.draining:
            others = [t for t in cs.instance_tasks(task.instance_id) if t.service and t.service != svc.name]
            if others:
                continue  # a daemon's task is the last to stop on a draining instance
            ctx.stop(task, DRAINING_REASON, drain=True)
        else:
            ctx.stop(task, "Container instance no longer matches the placement constraints")
    running = [t for t in running if t.instance_id in ok]
    old = [t for t in running if t.started_by != dep.id]
    new = [t for t in running if t.started_by == dep.id]
    desired = len(eligible)
    if svc.desired_count != desired:
        ctx.svc = replace(svc, desired_count=desired)
        cs.put_service(ctx.svc)
    min_pct, max_pct = model.percents(svc.spec)
    lower, upper = deployment_bounds(desired, min_pct, max_pct)
    step = move(desired, lower, upper, len(old), len(new))
    if step is None:
        return False
    for task in sorted(old, key=lambda t: (t.instance_id or "", t.id))[:step.stop]:
        ctx.stop(task, ctx.scale_in_reason())
    covered = {t.instance_id for t in new}
    covered |= {t.instance_id for t in old if t.last_status == RUNNING and t.id not in {s.id for s in ctx.stopped}}
    launch_spec = ctx.launch()
    started_now: list[Task] = []
    unplaced: Unplaced | None = None
    for iid in eligible:
        if len(started_now) >= step.start:
            break
        if iid in covered:
            continue
        result = placer.place_on(iid, launch_spec.demand, group=launch_spec.group, constraints=placement.constraints)
        if isinstance(result, Placed):
            started_now.append(launch.start(world, cs, launch_spec, result, ""))
        elif unplaced is None:
            unplaced = result
    ctx.started.extend(started_now)
    if unplaced is not None:
        world.event(cs.name, svc.name, f"service ({svc.name}) {unplaced.message}")
    if ctx.stopped or started_now:
        ctx.told(MoveRecord(cs.name, svc.name, dep.id, dep.task_definition, "deploy" if old else "scale",
                            len(ctx.stopped), len(started_now), len(old) - len(ctx.stopped),
                            len(new) + len(started_now), unplaced=unplaced))
        return True
    return False


# -- bookkeeping ---------------------------------------------------------------------------


def _announce(ctx: _Ctx) -> None:
    """The service events of the move's stops and starts (tasks that failed to start were
    started too) and of the tasks that failed their health checks, once, and the load-balancer
    targets of the tasks it started."""
    if ctx.announced:
        return
    ctx.announced = True
    world, cs, name = ctx.world, ctx.cs, ctx.name
    if ctx.drained:
        world.event(cs.name, name, launch.stopped_event(name, ctx.drained))
    if ctx.lost or ctx.stopped:
        world.event(cs.name, name, launch.stopped_event(name, ctx.lost + ctx.stopped))
    if ctx.started or ctx.failed_checks or ctx.failed_starts:
        world.event(cs.name, name, launch.started_event(name, ctx.started + ctx.failed_checks + ctx.failed_starts))
        for label, count in launch.register_targets(world, cs.services[name], ctx.started):
            world.event(cs.name, name, f"service ({name}) registered {count} targets in (target-group {label})")
    if ctx.unhealthy:
        task, verdict = ctx.unhealthy[0]
        world.event(cs.name, name, unhealthy_event(cs.services[name], task, verdict))
        world.event(cs.name, name, launch.stopped_event(name, [t for t, _ in ctx.unhealthy]))


def _finish(ctx: _Ctx) -> bool:
    """Counts, deployment states and events after a move; True if a deployment changed state."""
    world, cs = ctx.world, ctx.cs
    svc = cs.services[ctx.name]
    name = svc.name
    # one pass over the tasks: RUNNING and waiting ones per deployment, RUNNING ones on draining instances
    running_of: dict[str, int] = {}
    waiting_of: dict[str, int] = {}
    draining_of: dict[str, int] = {}
    draining = ctx.draining
    n_running = n_pending = 0
    if not draining:  # the counts the cluster keeps as tasks are indexed (no pass over the tasks)
        for by, (running, waiting) in cs.service_counts(name).items():
            if running:
                running_of[by] = running
                n_running += running
            if waiting:
                waiting_of[by] = waiting
                n_pending += waiting
    else:
        for t in cs.service_tasks(name):
            by = t.started_by
            if t.last_status == RUNNING:
                n_running += 1
                running_of[by] = running_of.get(by, 0) + 1
                if t.instance_id in draining:
                    draining_of[by] = draining_of.get(by, 0) + 1
            else:
                waiting_of[by] = waiting_of.get(by, 0) + 1
                n_pending += 1
    if (svc.running_count, svc.pending_count) != (n_running, n_pending):
        svc = replace(svc, running_count=n_running, pending_count=n_pending)
        cs.put_service(svc)
    _announce(ctx)
    now = world.now()
    changed = False
    dep = ctx.dep
    primary_running = 0
    for d in cs.service_deployments(name):
        if d.status == "INACTIVE":
            continue
        mine, waiting = running_of.get(d.id, 0), waiting_of.get(d.id, 0)
        status = d.status
        if status == "ACTIVE" and not mine and not waiting:
            status = "INACTIVE"
        desired = svc.desired_count if d.status == "PRIMARY" else d.desired_count
        if d.id == dep.id:
            primary_running = mine - draining_of.get(d.id, 0)
        if (d.running_count, d.pending_count, d.status, d.desired_count) != (mine, waiting, status, desired):
            cs.put_deployment(replace(d, running_count=mine, pending_count=waiting, status=status,
                                      desired_count=desired, updated_at=now))
            changed = changed or status != d.status
    dep = next(d for d in cs.service_deployments(name) if d.id == dep.id)
    older = n_running - running_of.get(dep.id, 0) + draining_of.get(dep.id, 0)  # RUNNING, to be replaced
    complete = (dep.rollout_state == "IN_PROGRESS" and not older and primary_running >= svc.desired_count
                and (svc.desired_count == 0 or _failure(ctx) is None))
    if complete:
        dep = replace(dep, rollout_state="COMPLETED", rollout_state_reason=f"ECS deployment {dep.id} completed.",
                      updated_at=now)
        cs.put_deployment(dep)
        for other in cs.service_deployments(name):
            if other.id != dep.id and other.status != "INACTIVE":
                cs.put_deployment(replace(other, status="INACTIVE", running_count=0, pending_count=0, updated_at=now))
        world.event(cs.name, name, f"service ({name}) (deployment {dep.id}) deployment completed.")
        changed = True
    moved = bool(ctx.lost or ctx.stopped or ctx.drained or ctx.started or ctx.unhealthy) or changed
    if moved and dep.rollout_state == "COMPLETED" and n_running == svc.desired_count and not older:
        world.event(cs.name, name, f"service ({name}) has reached a steady state.")
    cs.counts_changed.discard(name)  # counted above, as refresh_counts would at the round's end (a pass less)
    return changed


__all__ = ["DRAINING_REASON", "THROTTLE_EVENT", "MoveRecord", "Session", "reconcile", "settle", "waiting_reason"]
