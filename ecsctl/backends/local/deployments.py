"""Rolling deployments in the simulation: DESIGN §6 stepped through the scheduler (ecs-semantics §5.3–5.4).

Model (documented choices):

* **Starting a deployment** (``begin``): a new revision, or a change of a ``REDEPLOY_FIELDS``
  field, makes a new ``PRIMARY`` deployment (``IN_PROGRESS``); every other deployment that
  still is ``PRIMARY`` becomes ``ACTIVE`` (its tasks keep running).  The service's PENDING
  tasks are stopped.  When the new deployment goes to a *different* revision, RUNNING tasks
  of the service that already run that revision (a rollback, or a revert in the middle of a
  rollout) are **adopted**: their ``started_by`` becomes the new deployment's id (ECS keeps
  ``startedBy``; the simulation re-tags so that every count is "tasks started by the
  deployment").
* **Stepping** (``advance``, called by ``services.converge`` while the PRIMARY deployment is
  ``IN_PROGRESS`` and the service still has tasks of older deployments, or its tasks fail to
  start): ``old`` = RUNNING tasks not started by the PRIMARY deployment, ``new`` = RUNNING
  tasks started by it; ``stepper.roll`` runs with ``start(n)`` placing n new tasks through the
  ``Placer`` (a task that cannot be placed is not started; the placement failure is the
  reason) and ``stop(n)`` stopping n old tasks chosen as on scale-in.  Every step records the
  events ``service (S) has stopped N running tasks: …`` and ``service (S) has started N
  tasks: …``; every deployment's running/pending counts are refreshed.
* **Complete** → PRIMARY ``COMPLETED`` (``ECS deployment ID completed.``), every other
  deployment ``INACTIVE``; ``converge`` then goes on as usual (steady-state event …).
  **Stalled** → stays ``IN_PROGRESS``, old and new tasks running, with ECS's event: the
  placement one (``was unable to place a task …``) or the bounds one (``was unable to stop or
  start tasks during a deployment …``).  The next converge (apply, tick, instance action)
  continues from the tasks that run then.
* **Failed starts**: when ``failures.start_failure(revision spec, catalogue)`` names a reason,
  each start attempt creates a task that is STOPPED at once (``stop_code``
  ``TaskFailedToStart``, that reason, no instance) and counts into the deployment's
  ``failed_tasks``.  With ``deploymentCircuitBreaker.enable`` the deployment keeps trying
  (round after round; the old tasks stay, nothing new becomes healthy) until ``failed_tasks``
  reaches ``breaker_threshold(desired)``: then ``FAILED`` with reason ``ECS deployment circuit
  breaker: tasks failed to start.``; with ``rollback`` a new PRIMARY deployment goes back to
  the revision of the last ``COMPLETED`` deployment (the service's task definition with it),
  stepped the same way, and the event says it is a rollback.  Without the breaker one round of
  attempts is made per converge and the deployment stays ``IN_PROGRESS`` with the failures
  recorded (event ``service (S) is unable to consistently start tasks successfully.``).
* A FAILED PRIMARY (breaker without rollback) launches no new tasks; the older deployments'
  tasks keep running.
"""

from __future__ import annotations

from dataclasses import replace

from ecsctl.backends.local import ids
from ecsctl.backends.local.world import World
from ecsctl.core.deploy.bounds import DEFAULT_MAX_PCT, DEFAULT_MIN_PCT, STUCK_EVENT
from ecsctl.core.deploy.failures import start_failure
from ecsctl.core.deploy.stepper import Rollout, breaker_threshold, roll
from ecsctl.core.plan.model import address
from ecsctl.core.scheduling.placement import Unplaced
from ecsctl.core.state.ports import CatalogueEntry, Cluster, Deployment, Service, Task

FAILED_CODE = "TaskFailedToStart"
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
THROTTLE_EVENT = "is unable to consistently start tasks successfully."
CATALOGUE_KINDS = ("Parameter", "Secret", "EnvironmentFile", "Repository")
_MAX_ROUNDS = 1_000  # the breaker ends a failing deployment long before; a guard


# ---------------------------------------------------------------------------------------------
# Reading


def percents(spec: dict) -> tuple[int, int]:
    conf = spec.get("deploymentConfiguration") or {}

    def pct(key: str, default: int) -> int:
        value = conf.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    return pct("minimumHealthyPercent", DEFAULT_MIN_PCT), pct("maximumPercent", DEFAULT_MAX_PCT)


def circuit_breaker(spec: dict) -> tuple[bool, bool]:
    """``(enable, rollback)`` of ``deploymentConfiguration.deploymentCircuitBreaker``."""
    cb = (spec.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
    if not isinstance(cb, dict):
        return False, False
    return cb.get("enable") is True, cb.get("rollback") is True


def catalogue(world: World) -> dict[str, dict]:
    """Parameter/Secret/EnvironmentFile/Repository entries keyed by plan address."""
    out: dict[str, dict] = {}
    for kind in CATALOGUE_KINDS:
        for entry in world.store.find(CatalogueEntry, kind=kind):
            out[address(kind, entry.name)] = entry.spec or {}
    return out


def failure_of(world: World, task_definition: str) -> str | None:
    revision = world.revision(task_definition)
    if revision is None:
        return None
    return start_failure(revision.spec, catalogue(world))


def ordered(world: World, cluster: str, service: str) -> list[Deployment]:
    """The service's deployments, oldest first (by their sequence number)."""
    found = world.store.find(Deployment, cluster=cluster, service=service)
    seq = {ids.deployment_id(cluster, service, k): k for k in range(1, len(found) + 1)}
    return sorted(found, key=lambda d: (seq.get(d.id, len(found) + 1), d.created_at, d.id))


def primary(world: World, svc: Service) -> Deployment | None:
    found = [d for d in ordered(world, svc.cluster, svc.name) if d.status == "PRIMARY"]
    return found[-1] if found else None


# ---------------------------------------------------------------------------------------------
# Starting a deployment


def begin(world: World, svc: Service, *, rollback_from: Deployment | None = None) -> Deployment:
    """A new PRIMARY deployment of ``svc`` (as saved, with its new task definition)."""
    from ecsctl.backends.local.services import SCHEDULER, new_deployment

    cluster, name = svc.cluster, svc.name
    now = world.now()
    previous = primary(world, svc)
    for dep in world.store.find(Deployment, cluster=cluster, service=name, status="PRIMARY"):
        world.store.save(replace(dep, status="ACTIVE", updated_at=now))
    reason = f"Scaling activity initiated by (deployment {previous.id if previous else 'unknown'})"
    for task in world.pending_tasks(cluster, service=name):
        world.stop_task(task, SCHEDULER, reason)
    dep = new_deployment(world, svc)
    if previous is None or previous.task_definition != dep.task_definition:
        for task in world.running_tasks(cluster, service=name):
            if task.task_definition == dep.task_definition and task.started_by != dep.id:
                world.store.save(replace(task, started_by=dep.id))
    if rollback_from is not None:
        world.event(cluster, name,
                    f"service ({name}) (deployment {dep.id}) rolling back to {dep.task_definition} "
                    f"after (deployment {rollback_from.id}) failed: {BREAKER_REASON}")
    else:
        world.event(cluster, name,
                    f"service ({name}) (deployment {dep.id}) started a deployment to {dep.task_definition}.")
    world.refresh_instances(cluster)
    return dep


def needs_stepping(world: World, svc: Service, dep: Deployment) -> bool:
    """Whether ``converge`` hands the service to :func:`advance`."""
    if dep.rollout_state != "IN_PROGRESS":
        return False
    if any(t.started_by != dep.id for t in world.running_tasks(svc.cluster, service=svc.name)):
        return True
    return svc.desired_count > 0 and failure_of(world, dep.task_definition) is not None


# ---------------------------------------------------------------------------------------------
# Stepping


def advance(world: World, svc: Service, dep: Deployment) -> bool:
    """Step ``dep`` (the IN_PROGRESS PRIMARY deployment); True when it completed."""
    from ecsctl.backends.local import services as S

    store = world.store
    cluster, name = svc.cluster, svc.name
    group = f"service:{name}"
    cluster_record = store.get(Cluster, cluster)
    revision = world.revision(dep.task_definition)
    demand = world.demand(dep.task_definition)
    lt = S.launch_type(svc.spec, cluster_record)
    net = S.task_network(world, cluster_record, svc.spec, demand, lt)
    constraints = S._constraints(svc.spec, revision)
    strategies = [s for s in svc.spec.get("placementStrategy") or () if isinstance(s, dict)] or None
    min_pct, max_pct = percents(svc.spec)
    enable, rollback = circuit_breaker(svc.spec)
    desired = svc.desired_count
    threshold = breaker_threshold(desired)
    why_fail = failure_of(world, dep.task_definition)
    stop_reason = f"Scaling activity initiated by (deployment {dep.id})"

    for task in world.pending_tasks(cluster, service=name):  # the roll starts what it needs
        world.stop_task(task, S.SCHEDULER, stop_reason)

    failed = dep.failed_tasks
    unplaced: Unplaced | None = None

    def split() -> tuple[list[Task], list[Task]]:
        running = world.running_tasks(cluster, service=name)
        return [t for t in running if t.started_by != dep.id], [t for t in running if t.started_by == dep.id]

    def start(n: int) -> tuple[int, str]:
        nonlocal failed, unplaced
        now = world.now()
        if why_fail is not None:
            tries = n if not enable else max(0, min(n, threshold - failed))
            for _ in range(tries):
                store.insert(Task(
                    id=world.new_task_id(cluster, group), cluster=cluster, group=group,
                    task_definition=dep.task_definition, last_status="STOPPED", desired_status="STOPPED",
                    launch_type=lt, cpu=int(demand.cpu or 0), memory=int(demand.memory or 0),
                    started_by=dep.id, service=name, stop_code=FAILED_CODE, stop_reason=why_fail,
                    created_at=now, stopped_at=now,
                ))
            failed += tries
            return 0, why_fail
        started: list[Task] = []
        if lt == "FARGATE":
            azs = S.fargate_azs(world, cluster_record, svc.spec)
            counts = {az: 0 for az in azs}
            for t in world.running_tasks(cluster, service=name):
                if t.availability_zone in counts:
                    counts[t.availability_zone] += 1
            for _ in range(n):
                az = min(azs, key=lambda a: (counts[a], azs.index(a)))
                counts[az] += 1
                started.append(S.start_task(world, svc, dep.task_definition, dep.id, lt, None, az, (), net))
        else:
            placer = world.placer(cluster)
            instances = {i.id: i for i in world.instances(cluster)}
            for _ in range(n):
                result = placer.place(demand, group=group, constraints=constraints, strategies=strategies)
                if isinstance(result, Unplaced):
                    unplaced = result
                    break
                inst = instances[result.instance_id]
                started.append(S.start_task(world, svc, dep.task_definition, dep.id, lt, inst.id,
                                            inst.availability_zone, tuple(result.host_ports), net))
        world.refresh_instances(cluster)
        if started:
            world.event(cluster, name, f"service ({name}) has started {len(started)} tasks: {S._tasks_text(started)}.")
            S.registration_events(world, svc, S.register_targets(world, svc, dep.task_definition, started))
        reason = "" if len(started) == n else (unplaced.reason if unplaced is not None else "no capacity")
        return len(started), str(reason)

    def stop(n: int) -> None:
        old, _ = split()
        victims = S._choose_to_stop(world, cluster, old, n, group, strategies)
        for task in victims:
            world.stop_task(task, S.SCHEDULER, stop_reason)
        world.refresh_instances(cluster)
        if victims:
            world.event(cluster, name, f"service ({name}) has stopped {len(victims)} running tasks: {S._tasks_text(victims)}.")

    result: Rollout | None = None
    for _ in range(_MAX_ROUNDS):
        old, new = split()
        before = failed
        result = roll(desired, min_pct, max_pct, len(old), new=len(new), start=start, stop=stop)
        if result.outcome == "complete":
            break
        if why_fail is None or not enable:
            break
        if failed >= threshold or failed == before:
            break

    now = world.now()
    dep = replace(store.get(Deployment, dep.id) or dep, failed_tasks=failed, desired_count=desired, updated_at=now)
    assert result is not None
    if result.outcome == "complete":
        dep = replace(dep, rollout_state="COMPLETED", rollout_state_reason=f"ECS deployment {dep.id} completed.")
        store.save(dep)
        for other in store.find(Deployment, cluster=cluster, service=name):
            if other.id != dep.id and other.status != "INACTIVE":
                store.save(replace(other, status="INACTIVE", running_count=0, pending_count=0, updated_at=now))
        _counts(world, svc)
        world.event(cluster, name, f"service ({name}) (deployment {dep.id}) deployment completed.")
        return True

    if why_fail is not None and enable and failed >= threshold:
        dep = replace(dep, rollout_state="FAILED", rollout_state_reason=BREAKER_REASON)
        store.save(dep)
        world.event(cluster, name, f"service ({name}) (deployment {dep.id}) deployment failed: {BREAKER_REASON}")
        target = _last_completed(world, svc, dep)
        if rollback and target is not None:
            store.save(replace(dep, status="ACTIVE"))
            svc = replace(store.get(Service, cluster, name) or svc, task_definition=target.task_definition,
                          updated_at=now)
            store.save(svc)
            back = begin(world, svc, rollback_from=dep)
            _counts(world, svc)
            # adopted tasks may already complete it: converge then goes on as usual
            return advance(world, svc, back) if needs_stepping(world, svc, back) else True
        _counts(world, svc)
        return False

    store.save(dep)
    _counts(world, svc)
    if why_fail is not None:
        world.event(cluster, name, f"service ({name}) {THROTTLE_EVENT}")
    elif unplaced is not None and result.reason.startswith("new tasks cannot be placed"):
        world.event(cluster, name, f"service ({name}) {unplaced.message}")
    else:
        world.event(cluster, name, f"service ({name}) {STUCK_EVENT}")
    return False


def _last_completed(world: World, svc: Service, failed: Deployment) -> Deployment | None:
    done = [d for d in ordered(world, svc.cluster, svc.name)
            if d.id != failed.id and d.rollout_state == "COMPLETED"]
    return done[-1] if done else None


def _counts(world: World, svc: Service) -> None:
    """Running/pending counts of the service and of each of its deployments; ACTIVE deployments
    left without tasks become INACTIVE."""
    store = world.store
    running = world.running_tasks(svc.cluster, service=svc.name)
    pending = world.pending_tasks(svc.cluster, service=svc.name)
    current = store.get(Service, svc.cluster, svc.name) or svc
    store.save(replace(current, running_count=len(running), pending_count=len(pending)))
    for dep in store.find(Deployment, cluster=svc.cluster, service=svc.name):
        if dep.status == "INACTIVE":
            continue
        r = sum(1 for t in running if t.started_by == dep.id)
        p = sum(1 for t in pending if t.started_by == dep.id)
        status = "INACTIVE" if dep.status == "ACTIVE" and r == 0 and p == 0 else dep.status
        updated = replace(dep, running_count=r, pending_count=p, status=status)
        if updated != dep:
            store.save(replace(updated, updated_at=world.now()))


__all__ = ["advance", "begin", "catalogue", "circuit_breaker", "needs_stepping", "ordered", "percents", "primary"]
