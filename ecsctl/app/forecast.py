"""Use case helper: what apply will do, found by doing it on a private copy of the state.

``forecast(steps, store)`` runs the local backend without persisting (``LocalBackend(store,
persist=False)``): every step of the plan in apply's order, then the service scheduler until it
settles, exactly as ``apply_plan`` will.  Every move of every service is observed, so the
placement forecast, each deployment's steps and apply come from one simulation and see each
other's effects (two services deploying in one plan share the cluster, round after round).

It returns, for the plan:

* ``deployments`` — one per deployment a Service step starts (an update to another revision,
  or a change of a redeploying field) and per deployment already in progress that the
  scheduler moves: DESIGN §6's keys (``service``, ``from``, ``to``, ``desiredCount``,
  ``minimumHealthyPercent``, ``maximumPercent``, ``outcome`` ``complete`` | ``stalled`` |
  ``failed``, ``reason``, ``fix``, ``steps`` of ``{stopOld, startNew, oldRunning, newRunning}``
  (and ``failedNew``: of startNew, the tasks that stopped at once, failing to start)
  — the last step's counts are what runs after apply; no step leaves the old tasks as they
  are).  A deployment the circuit breaker rolls back is ``failed``, with ``rolledBackTo`` and
  the rollback's own steps appended, marked ``"rollback": true`` and counted in the planned
  deployment's terms (``startOld``: old-revision tasks started again).
* ``services`` — per service the plan touches or the scheduler moves: its desired count, the
  tasks it will run per revision after apply, and, when fewer run than desired, how many cannot
  be placed with ECS's reason and the closest instance (``placement`` in ``plan -o json``).
* ``capacity`` — per capacity provider with managed scaling, the scale-out its next evaluation
  on the clock starts for the tasks the run left PROVISIONING (``managed_scaling.forecast``:
  the tick handler's own decision, on the world the run left), and how many of them stay
  PROVISIONING because the Auto Scaling group cannot grow past its ``maxSize``;
* ``reconcile`` — the clusters in which the scheduler has work that no step causes (lost tasks
  to replace, a deployment to continue, a rollback): tasks it would start or stop.  A step's own
  moves (of a deployment it started, of a service whose desired count it changed, in a cluster
  whose instances or capacity providers it changed: ``_StepEffects``) are not listed.  Starts that
  fail are not work: without a circuit breaker ECS retries them forever, and counting them
  would make every plan report a change (``plan --detailed-exitcode`` exit 2) while nothing
  apply could do converges; the deployment entry shows the failure instead;
* ``recording`` — the run itself, unit of work by unit of work: ``apply_plan`` commits these
  units when the plan is applied in the same process to the state it was made against, instead
  of running the same simulation a second time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ecsctl.core.plan.model import Step, address
from ecsctl.errors import InputError


@dataclass
class Forecast:
    deployments: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    reconcile: list[str] = field(default_factory=list)
    capacity: list[dict] = field(default_factory=list)
    recording: list | None = None  # the units of work the run would commit (LocalBackend.replay)


def forecast(steps: list[Step], store, read: dict[type, list] | None = None) -> Forecast:
    """``read``: every record of some types (container instances, services) that the caller has
    read from ``store`` already."""
    from ecsctl.backends.local import LocalBackend
    from ecsctl.backends.local.controller import Session
    from ecsctl.backends.local.managed_scaling import forecast as capacity_forecast
    from ecsctl.core.controller import service as model

    if store is not None and read:
        store = _Prefetched(store, read)
    backend = LocalBackend(store, persist=False)
    world = backend.world
    world.prefetch_families(_families(steps))
    moves: list = []
    for step in steps:
        try:
            backend.apply_step(step)
        except InputError as exc:  # the step's manifest asks what the state cannot give: make_plan says where
            if exc.address is None:
                exc.address = step.address
            raise
    service_steps = {(model.cluster_of(s.spec or s.before or _cluster_of_address(s.address)), s.name): s
                     for s in steps if s.kind == "Service"}
    clusters = backend.clusters_with_work()
    for name in clusters:
        world.state(name)
    from ecsctl.core.state.ports import Deployment, Service

    known = {d.id: d for d in store.find(Deployment)} if store is not None else {}
    before = {(s.cluster, s.name): s for s in store.find(Service)} if store is not None else {}
    started = _deployments_started(world, known, before, service_steps)
    effects = _StepEffects.after_steps(world, known, before, steps)
    backend.settle(clusters, session=Session(observer=moves.append))
    return Forecast(
        deployments=_deployment_entries(world, started, moves),
        services=_service_entries(world, service_steps, moves) + _scheduled_task_entries(world, steps),
        reconcile=sorted({m.cluster for m in moves
                          if (m.stopped or m.started or m.phase == "rollback") and not effects.caused(world, m)}),
        capacity=capacity_forecast(world),
        recording=backend.recording,
    )


# the Cluster fields whose change moves tasks: its instances and where tasks may be launched
_MOVING_CLUSTER_FIELDS = ("containerInstances", "capacityProviders", "defaultCapacityProviderStrategy")


@dataclass
class _StepEffects:
    """What the plan's steps did to the world before the scheduler runs, to tell the moves they
    cause from the scheduler's own work (``reconcile``: work "without a manifest change")."""

    deployments: set[str]      # deployments the steps started
    resized: set[tuple]        # (cluster, service) whose desired count the steps set or changed
    clusters: set[str]         # clusters whose instances or capacity providers the steps changed

    @classmethod
    def after_steps(cls, world, known: dict, before: dict, steps: list[Step]) -> "_StepEffects":
        deployments, resized = set(), set()
        for name in world.loaded_clusters():
            cs = world.state(name)
            for svc in cs.active_services():
                was = before.get((name, svc.name))
                if was is None or was.status == "INACTIVE" or was.desired_count != svc.desired_count:
                    resized.add((name, svc.name))
                deployments.update(d.id for d in cs.service_deployments(svc.name) if d.id not in known)
        clusters = {s.name for s in steps if s.kind == "Cluster" and (
            s.action != "update" or any((s.before or {}).get(f) != (s.spec or {}).get(f) for f in _MOVING_CLUSTER_FIELDS))}
        return cls(deployments, resized, clusters)

    def caused(self, world, move) -> bool:
        """Whether a step caused ``move``: it belongs to a deployment a step started (or to the
        rollback of one), scales a service a step resized, or is in a cluster a step regrouped."""
        if move.cluster in self.clusters or (move.phase == "scale" and (move.cluster, move.service) in self.resized):
            return True
        dep = move.deployment
        if dep in self.deployments:
            return True
        return _rolled_back_from(world.state(move.cluster), move.service, dep) in self.deployments


def _families(steps: list[Step]):
    """Task-definition families the steps register or their services run."""
    for s in steps:
        spec = s.spec or s.before or {}
        if s.kind == "TaskDefinition":
            yield str(spec.get("family") or s.name)
        elif s.kind == "Service":
            ref = str(spec.get("taskDefinition") or "").rsplit("/", 1)[-1]
            family, _, rev = ref.rpartition(":")
            yield family if rev.isdigit() and family else ref


class _Prefetched:
    """``store`` with the records the plan has read already (every container instance and
    service) served from memory: the run does not decode them a second time (records are values,
    never changed in place, so sharing them is safe).  Reads of them by field values are filtered
    here, in key order as ``find`` returns them; every other read goes to the store."""

    def __init__(self, store, records: dict[type, list]) -> None:
        self._store = store
        self._records = records

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def find(self, record_type: type, **where: object) -> list:
        records = self._records.get(record_type)
        if records is None:
            return self._store.find(record_type, **where)
        return [r for r in records if all(getattr(r, k) == v for k, v in where.items())]


def _cluster_of_address(addr: str) -> dict:
    parts = addr.split("/")
    return {"cluster": parts[1]} if len(parts) >= 3 else {}


def _deployments_started(world, known: dict, before: dict, service_steps: dict) -> dict[str, dict]:
    """Deployment id -> ``{service, from}`` for every deployment a Service update step started,
    and every deployment already in progress in the state (``known``: the deployments by id, and
    ``before``: the services by (cluster, name), before the plan)."""
    from ecsctl.core.controller import ids

    known_of: dict[tuple[str, str], list] = {}  # (cluster, service) -> its deployments before the plan
    for d in known.values():
        known_of.setdefault((d.cluster, d.service), []).append(d)
    out: dict[str, dict] = {}
    for name in world.loaded_clusters():
        cs = world.state(name)
        for svc in cs.active_services():
            deps = cs.service_deployments(svc.name)
            primary = next((d for d in reversed(deps) if d.status == "PRIMARY"), None)
            if primary is None:
                continue
            was = before.get((name, svc.name))
            step = service_steps.get((name, svc.name))
            new = primary.id not in known
            if new and (step is None or step.action != "update" or was is None or was.status == "INACTIVE"):
                continue  # the first deployment of a new service is no rolling deployment
            if not new and primary.rollout_state != "IN_PROGRESS":
                continue
            older = [d for d in deps if d.id != primary.id and d.status != "INACTIVE"]
            if new and was is not None:
                # from what runs: the newest deployment that had tasks before the plan (not the
                # revision of one that stalled or failed without running any, nor the new one
                # itself when a deployment that failed is deployed again)
                mine = known_of.get((name, svc.name), [])
                ran = sorted((d for d in mine if d.status != "INACTIVE" and d.running_count and d.id != primary.id),
                             key=ids.deployment_order(name, svc.name, len(mine)))
                origin = ran[-1].task_definition if ran else was.task_definition
            else:
                origin = older[-1].task_definition if older else None
            out[primary.id] = {"service": address("Service", svc.name, {"cluster": name}), "from": origin}
    return out


def _deployment_entries(world, started: dict[str, dict], moves: list) -> list[dict]:
    from ecsctl.backends.local.controller import plan_step
    from ecsctl.core.controller import service as model
    from ecsctl.core.deploy.stepper import breaker_threshold

    by_deployment: dict[str, list] = {}
    rollbacks: dict[tuple[str, str], list] = {}
    for m in moves:
        by_deployment.setdefault(m.deployment, []).append(m)
        if m.phase == "rollback":
            rollbacks.setdefault((m.cluster, m.service), []).append(m)
    out = []
    for dep_id, head in started.items():
        _, cluster, name = head["service"].split("/", 2)
        cs = world.state(cluster)
        svc = cs.services[name]
        deps = {d.id: d for d in cs.service_deployments(name)}
        dep = deps[dep_id]
        min_pct, max_pct = model.percents(svc.spec)
        mine = by_deployment.get(dep_id, [])
        steps = [plan_step(m) for m in mine if m.stopped or m.started or m.failed]
        entry = {"service": head["service"], "from": head["from"], "to": dep.task_definition,
                 "desiredCount": svc.desired_count if dep.status == "PRIMARY" else dep.desired_count,
                 "minimumHealthyPercent": min_pct, "maximumPercent": max_pct}
        failed_move = next((m for m in mine if m.failed and m.reason), None)
        failure = failed_move.reason if failed_move is not None else ""
        rollback = next((m for m in rollbacks.get((cluster, name), ())
                         if _rolled_back_from(cs, name, m.deployment) == dep_id), None)
        enable, back = model.circuit_breaker(svc.spec)
        if dep.rollout_state == "COMPLETED":
            entry.update(outcome="complete", reason="", fix="")
        elif failure or dep.rollout_state == "FAILED":
            threshold = breaker_threshold(entry["desiredCount"])
            if not enable:
                tail = ("no deployment circuit breaker: ECS would keep starting tasks that fail, and the deployment "
                        "stays IN_PROGRESS")
            elif rollback is not None:
                tail = f"the circuit breaker would stop it after {threshold} failed tasks and rollback to {rollback.task_definition}"
            else:
                tail = (f"the circuit breaker would stop it after {threshold} failed tasks"
                        + (" (no rollback: the old tasks keep running)" if not back else
                           " (no earlier completed deployment to roll back to: the old tasks keep running)"))
            # FAILED only when the breaker fails it; a deployment whose tasks keep failing without
            # one is still IN_PROGRESS after apply: stalled, as apply then judges it (app.outcome)
            entry.update(outcome="failed" if dep.rollout_state == "FAILED" else "stalled",
                         reason=f"{failure or dep.rollout_state_reason}; {tail}",
                         fix=(failed_move.fix if failed_move is not None and failed_move.fix else failure_fix(failure)))
        else:
            stall = next((m for m in reversed(mine) if m.phase == "stall"), None)
            reason, fix = (stall.reason, stall.fix) if stall is not None else (_unfinished(cs, name), "")
            if stall is not None and stall.unplaced is not None and reason.startswith("new tasks cannot be placed"):
                sizes = [(i.registered_cpu, i.registered_memory) for i in cs.instances.values() if i.status != "INACTIVE"]
                fix = unplaced_fix(stall.unplaced.reason, world.demand(dep.task_definition), fix, sizes)
            entry.update(outcome="stalled", reason=reason, fix=fix)
        if rollback is not None:
            entry["rolledBackTo"] = rollback.task_definition
            for m in by_deployment.get(rollback.deployment, ()):
                if m.stopped or m.started:
                    steps.append({"stopOld": 0, "startNew": 0, "oldRunning": m.new_running, "newRunning": m.old_running,
                                  "startOld": m.started, "stopNew": m.stopped, "rollback": True})
        entry["steps"] = steps
        out.append(entry)
    return sorted(out, key=lambda d: d["service"])


def _unfinished(cs, service: str) -> str:
    """Why a deployment that nothing stalls has not finished after apply's run."""
    from ecsctl.backends.local.controller import waiting_reason

    waiting = sum(1 for t in cs.tasks.values() if t.service == service and t.last_status == "PROVISIONING")
    return waiting_reason(waiting) if waiting else "the deployment did not finish"


def _rolled_back_from(cs, service: str, rollback_id: str) -> str | None:
    """The deployment a rollback deployment returned from: the one just before it."""
    ids = [d.id for d in cs.service_deployments(service)]
    k = ids.index(rollback_id) if rollback_id in ids else 0
    return ids[k - 1] if k > 0 else None


def _service_entries(world, service_steps: dict, moves: list) -> list[dict]:
    touched = {key for key, s in service_steps.items() if s.action != "delete"}
    touched |= {(m.cluster, m.service) for m in moves}
    last_unplaced = {}
    failing = {}
    held = {}  # a deployment its percents stall, with the fix: (reason, fix)
    for m in moves:
        if m.unplaced is not None:
            last_unplaced[(m.cluster, m.service)] = m.unplaced
        if m.failed and m.reason:
            failing[(m.cluster, m.service)] = (m.reason, m.fix or failure_fix(m.reason))
        if m.phase == "stall" and m.unplaced is None and m.fix:  # (waiting for capacity has no fix of its own)
            held[(m.cluster, m.service)] = (m.reason, m.fix)
    out = []
    for cluster, name in sorted(touched):
        cs = world.state(cluster)
        svc = cs.services.get(name)
        if svc is None or svc.status != "ACTIVE":
            continue
        running = [t for t in cs.service_tasks(name) if t.last_status == "RUNNING"]
        waiting = sum(1 for t in cs.service_tasks(name) if t.last_status == "PROVISIONING")
        per_revision = Counter(t.task_definition for t in running)
        short = max(0, svc.desired_count - len(running))
        unplaced = last_unplaced.get((cluster, name)) if short else None
        out.append({
            "address": address("Service", name, {"cluster": cluster}),
            "wanted": svc.desired_count,
            "placeable": len(running),
            "unplaceable": short if unplaced is not None else 0,
            "short": short,
            "reason": unplaced.reason if unplaced is not None else "",
            "message": f"service ({name}) {unplaced.message}" if unplaced is not None else "",
            "closestInstance": unplaced.closest_instance if unplaced is not None else None,
            "failing": failing.get((cluster, name), ("", ""))[0] if short and unplaced is None else "",
            "stalled": held.get((cluster, name), ("", ""))[0] if short and unplaced is None else "",
            "fix": (failing.get((cluster, name)) or held.get((cluster, name)) or ("", ""))[1]
                   if short and unplaced is None else "",
            "tasks": dict(sorted(per_revision.items())),
            "provisioning": waiting,
        })
    return out


def _scheduled_task_entries(world, steps: list[Step]) -> list[dict]:
    """ScheduledTasks the plan creates or changes, or whose task definition or catalogue it
    changes, whose tasks would fail at start when the rule fires (the image, every secret,
    environment file and repository credential resolved against the catalogue, the execution
    role), or whose task definition is not registered (every firing's RunTask fails):
    ``failing`` names the reference as the stopped task, or the firing, will."""
    from ecsctl.backends.local.tasks import start_failure
    from ecsctl.core.events.target import MAX_RUN_COUNT, task_count
    from ecsctl.errors import InputError

    kinds = {s.kind for s in steps if s.action != "delete"}
    families = {s.name for s in steps if s.kind == "TaskDefinition" and s.action != "delete"}
    catalogue_changed = bool(kinds & {"Parameter", "Secret", "EnvironmentFile", "Repository"})
    named = {s.name for s in steps if s.kind == "ScheduledTask" and s.action != "delete"}
    out = []
    for name, entry in world.catalogue("ScheduledTask").items():
        target = (entry.spec or {}).get("target") or {}
        ref = str(target.get("taskDefinition") or "")
        family = ref.rsplit("/", 1)[-1].rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref.rsplit("/", 1)[-1]
        if name not in named and family not in families and not catalogue_changed:
            continue
        count = task_count(target)
        try:
            revision = world.resolve_task_definition(ref, "RunTask")
        except InputError as exc:
            # EventBridge takes any task definition in a target (PutTargets checks none); a revision
            # the state lacks (validate cannot know) fails every firing: a forecast, not a refusal
            why, fix, ref_text = str(exc), "name a registered revision, or the family for its latest", ref
        else:
            why = start_failure(world, revision.spec, target.get("overrides"))
            fix, ref_text = failure_fix(why), revision.ref
        if why is None and count > MAX_RUN_COUNT:  # PutTargets takes it (W6013); RunTask does not
            why, fix = (f"RunTask starts at most {MAX_RUN_COUNT} tasks, not {count}: every firing fails",
                        f"set target.taskCount to {MAX_RUN_COUNT} or less (or split the rule)")
        if why is None:
            continue
        out.append({"address": address("ScheduledTask", name), "kind": "ScheduledTask", "taskDefinition": ref_text,
                    "wanted": count, "placeable": 0, "unplaceable": 0, "short": count, "reason": "", "message": "",
                    "closestInstance": None, "failing": why, "fix": fix, "tasks": {}})
    return out


def unplaced_fix(reason: str, demand, fix: str, sizes: list[tuple[int, int]] = ()) -> str:
    """What lets a deployment's unplaceable tasks start, by the scheduler's ``reason`` (ECS's
    placement failure); ``fix`` is the stall's own, whose alternative after ", or " (an old task
    stopping first) is kept where stopping one frees what the new task lacks.  ``sizes``: the
    registered CPU and memory of the cluster's instances; when none of them could hold one task
    even empty, neither more instances like them nor an old task's stop helps."""
    from ecsctl.backends.local.launch import SUBNET_FULL

    alternative = fix.split(", or ", 1)[1] if ", or " in fix else ""
    if reason.startswith("RESOURCE") and sizes and not any(c >= demand.cpu and m >= demand.memory for c, m in sizes):
        cpu, memory = max(sizes)
        return (f"no container instance of the cluster can hold one task ({demand.cpu} CPU units, {demand.memory} MiB; "
                f"the largest registers {cpu} CPU units, {memory} MiB): give the task definition less cpu or memory, "
                "or add container instances of a larger instance type")
    if reason.startswith("RESOURCE"):
        first = f"add a container instance with room for one more task ({_needs(demand)})"
    elif reason == "DISTINCT_INSTANCE":
        first = "add a container instance (distinctInstance runs at most one task of the service on each)"
    elif reason == SUBNET_FULL:
        first = "give the service more or larger subnets (networkConfiguration.awsvpcConfiguration.subnets)"
    else:  # nothing an old task's stop frees: no instance admits the task, or none is there
        alternative = ""
        first = {
            "MemberOf placement constraint unsatisfied":
                "register a container instance that the memberOf placement constraints admit, or change the constraints",
            "ATTRIBUTE": "register a container instance with the attributes the task definition requires "
                         "(requiresAttributes, runtimePlatform), or drop the requirement",
        }.get(reason, "register ACTIVE container instances, with a connected agent, in the cluster")
    return first + (f", or {alternative}" if alternative else "")


def _needs(demand) -> str:
    """``512 CPU units, 1024 MiB, host port 80/tcp``: what one more task takes on an instance."""
    parts = [f"{demand.cpu} CPU units", f"{demand.memory} MiB"]
    parts += [f"host port {p.host_port}/{p.protocol}" for p in demand.ports if p.host_port]
    return ", ".join(parts)


def failure_fix(reason: str) -> str:
    if not reason:
        return ""
    if reason.startswith("CannotPullContainerError"):
        return "push the image tag to its repository (the Repository's images) or use a tag it holds"
    if "execution role" in reason:
        return "set executionRoleArn on the task definition"
    if "env files" in reason:
        return "declare the EnvironmentFile for that S3 object or correct environmentFiles"
    return "declare the Parameter/Secret (and its keys) or correct the valueFrom"


__all__ = ["Forecast", "failure_fix", "forecast"]
