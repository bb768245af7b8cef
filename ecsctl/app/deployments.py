"""Use case helper: the rolling deployments a plan starts, stepped as DESIGN §6 says.

A Service change starts a **new deployment** when the service exists in the state (an
``update``, not a create or a replace) and either the revision it will run differs from
the one it runs (a new task-definition revision, see ``app.plan._cascade_revisions``, or
another ``taskDefinition``) or a field of ``REDEPLOY_FIELDS`` changes.  A desired-count-only
change is no deployment.  DAEMON services are skipped: they replace their one task per
instance, governed by other rules (ecs-semantics §5.3), and are not predicted here.

Each deployment is a dict (``plan -o json`` shows it as it is)::

    {"service": "service/prod/web", "from": "web:1", "to": "web:2", "desiredCount": 3,
     "minimumHealthyPercent": 100, "maximumPercent": 200,
     "outcome": "complete" | "stalled" | "failed", "reason": "...", "fix": "...",
     "steps": [{"stopOld": 0, "startNew": 2, "oldRunning": 3, "newRunning": 2}, ...]}

The steps come from ``core.deploy.stepper.roll`` with a placement callback: a ``Placer``
over the cluster's nodes as the local backend would see them when the plan starts (its
instances and RUNNING tasks, or the instances a cluster change in the plan registers; the
old tasks occupy their instances until ``stop(n)`` releases the ``n`` that
``Placer.choose_to_stop`` picks).  Each deployment is simulated on its own copy of the
cluster, independently of other services' steps in the same plan.  Fargate services (and a
revision whose spec is unknown) are never blocked by capacity.

When ``core.deploy.failures.start_failure`` says the new revision's tasks cannot start
(against the catalogue of the state, with the plan's creates/updates/deletes of Parameter,
Secret, EnvironmentFile and Repository applied), the outcome is ``failed`` with **no
steps** (no new task ever becomes healthy, so no step completes), the reason is the task's
stopped reason followed by what the deployment circuit breaker would do
(``deploymentCircuitBreaker.enable`` → stop after ``breaker_threshold(D)`` failed tasks,
``rollback`` → roll back to ``from``), and ``fix`` says what to correct.
"""

from __future__ import annotations


from ecsctl.core.plan.model import Change

CATALOGUE_KINDS = ("Parameter", "Secret", "EnvironmentFile", "Repository")


def plan_deployments(changes: list[Change], store, services=(), revisions=None) -> list[dict]:
    """The deployments ``changes`` start, in address order (see the module doc)."""
    from ecsctl.app.predict import (_desired_count, _world, changed_cluster_specs, new_revisions_of,
                                    placement_nodes, resolve_revision, task_demand)
    from ecsctl.backends.local.services import REDEPLOY_FIELDS, launch_type
    from ecsctl.core.deploy.bounds import DEFAULT_MAX_PCT, DEFAULT_MIN_PCT
    from ecsctl.core.deploy.failures import start_failure
    from ecsctl.core.deploy.stepper import breaker_threshold, roll
    from ecsctl.core.scheduling.placement import Placer, TaskDemand, Unplaced, task_definition_constraints
    from ecsctl.core.state.ports import Cluster, Task

    current = {(s.cluster, s.name): s for s in services if s.status != "INACTIVE"}
    candidates = [c for c in changes if c.kind == "Service" and c.action == "update" and c.after is not None
                  and (c.address.split("/")[1], c.name) in current]
    if not candidates:
        return []
    world = _world(store)
    new_revisions = new_revisions_of(changes, revisions)
    cluster_specs = changed_cluster_specs(changes)
    catalogue = _catalogue(changes, store)
    nodes_of: dict[str, list] = {}
    out = []
    for c in sorted(candidates, key=lambda c: c.address):
        cluster = c.address.split("/")[1]
        svc = current[(cluster, c.name)]
        spec = c.after
        if str(spec.get("schedulingStrategy") or "REPLICA").upper() == "DAEMON":
            continue
        to, td_spec = resolve_revision(spec.get("taskDefinition"), new_revisions, store)
        if to == svc.task_definition and all(svc.spec.get(k) == spec.get(k) for k in REDEPLOY_FIELDS):
            continue
        desired = _desired_count(spec, svc.desired_count)
        config = spec.get("deploymentConfiguration") or {}
        min_pct = _pct(config.get("minimumHealthyPercent"), DEFAULT_MIN_PCT)
        max_pct = _pct(config.get("maximumPercent"), DEFAULT_MAX_PCT)
        deployment = {"service": c.address, "from": svc.task_definition, "to": to, "desiredCount": desired,
                      "minimumHealthyPercent": min_pct, "maximumPercent": max_pct}
        failure = start_failure(td_spec, catalogue) if td_spec is not None else None
        if failure:
            out.append({**deployment, "outcome": "failed", "reason": failure + "; " + _breaker(config, desired, svc.task_definition, breaker_threshold),
                        "fix": _failure_fix(failure), "steps": []})
            continue
        old_tasks = store.find(Task, cluster=cluster, service=c.name, last_status="RUNNING") if store is not None else []
        cluster_record = Cluster(cluster, spec=cluster_specs[cluster]) if cluster in cluster_specs else (
            store.get(Cluster, cluster) if store is not None else None)
        start = stop = None
        if launch_type(spec, cluster_record) != "FARGATE" and td_spec is not None:
            if cluster not in nodes_of:
                nodes_of[cluster] = placement_nodes(cluster, world, cluster_specs, store)
            placer = Placer([n.clone() for n in nodes_of[cluster]], seed=0)
            group = f"service:{c.name}"
            demand = TaskDemand.from_task_definition(td_spec)
            constraints = [x for x in spec.get("placementConstraints") or () if isinstance(x, dict)]
            constraints += task_definition_constraints(td_spec)
            strategies = [x for x in spec.get("placementStrategy") or () if isinstance(x, dict)] or None
            old = {t.id: t for t in old_tasks if t.instance_id is not None}

            def place(n, placer=placer, demand=demand, group=group, constraints=constraints, strategies=strategies):
                results = placer.place_many(demand, n, group=group, constraints=constraints, strategies=strategies)
                placed = sum(1 for r in results if not isinstance(r, Unplaced))
                failed = next((r for r in results if isinstance(r, Unplaced)), None)
                return placed, failed.reason if failed else ""

            def release(n, placer=placer, old=old, group=group, strategies=strategies):
                pairs = [(tid, t.instance_id) for tid, t in old.items()]
                for tid in placer.choose_to_stop(pairs, min(n, len(pairs)), group=group, strategies=strategies)[:n]:
                    t = old.pop(tid)
                    placer.release(t.instance_id, task_demand(world, t), tuple(t.host_ports), t.group or group)

            start, stop = place, release

        rollout = roll(desired, min_pct, max_pct, len(old_tasks), start=start, stop=stop)
        fix = rollout.fix
        if rollout.outcome == "stalled" and start is not None and rollout.reason.startswith("new tasks cannot be placed"):
            fix = f"add a container instance with room for one more task ({_needs(demand)}), or " + fix.split(", or ", 1)[-1]
        out.append({**deployment, "outcome": rollout.outcome, "reason": rollout.reason, "fix": fix,
                    "steps": [s.as_json() for s in rollout.steps]})
    return out


def _pct(value, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _breaker(config: dict, desired: int, previous: str, threshold) -> str:
    breaker = config.get("deploymentCircuitBreaker") or {}
    if not breaker.get("enable"):
        return "no deployment circuit breaker: ECS would keep starting tasks that fail"
    line = f"the circuit breaker would stop it after {threshold(desired)} failed tasks"
    return line + (f" and rollback to {previous}" if breaker.get("rollback") else " (no rollback: the old tasks keep running)")


def _needs(demand) -> str:
    """``512 CPU units, 1024 MiB, host port 80/tcp``: what one more task takes on an instance."""
    parts = [f"{demand.cpu} CPU units", f"{demand.memory} MiB"]
    parts += [f"host port {p.host_port}/{p.protocol}" for p in demand.ports if p.host_port]
    return ", ".join(parts)


def _failure_fix(reason: str) -> str:
    if reason.startswith("CannotPullContainerError"):
        return "push the image tag to its repository (the Repository's images) or use a tag it holds"
    if "execution role" in reason:
        return "set executionRoleArn on the task definition"
    if "env files" in reason:
        return "declare the EnvironmentFile for that S3 object or correct environmentFiles"
    return "declare the Parameter/Secret (and its keys) or correct the valueFrom"


def _catalogue(changes: list[Change], store) -> dict[str, dict]:
    """Catalogue address -> spec: the state's entries with the plan's changes of catalogue kinds applied."""
    from ecsctl.core.plan.model import address
    from ecsctl.core.state.ports import CatalogueEntry

    out: dict[str, dict] = {}
    if store is not None:
        for entry in store.find(CatalogueEntry):
            if entry.kind in CATALOGUE_KINDS:
                out[address(entry.kind, entry.name)] = entry.spec or {}
    for c in changes:
        if c.kind not in CATALOGUE_KINDS:
            continue
        if c.action == "delete":
            out.pop(c.address, None)
        elif c.after is not None:
            out[c.address] = c.after
    return out
