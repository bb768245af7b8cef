"""``ecsctl rollout status|history|undo SERVICE``: a service's deployments, and going back one.

``status`` and ``history`` only read the state; each deployment comes with its steps, the moves
the scheduler made for it as apply committed them (``backends.local.controller.step_record``).
``undo`` takes the state's write lock and, in
one transaction, starts a new deployment of the service to the revision of its previous
COMPLETED deployment (stepped like any deployment, see ``backends.local.controller``).  The
manifests are not touched: the next ``apply`` of an unchanged manifest deploys its revision
again, as ECS would after an UpdateService made outside CloudFormation.

Deployments come back in the shape of DescribeServices' ``deployments[]`` (camelCase).
"""

from __future__ import annotations

from dataclasses import replace

from ecsctl.app.state import open_required, open_simulation
from ecsctl.errors import InputError

EVENTS_SHOWN = 10


def deployment_json(dep, steps: list[dict] | None = None) -> dict:
    """A deployment as DescribeServices shows it, with ``steps`` (each move the scheduler made
    for it: DESIGN §6's keys, its ``phase``, when, and why tasks failed) when they are given."""
    out = {
        "id": dep.id,
        "status": dep.status,
        "taskDefinition": dep.task_definition,
        "desiredCount": dep.desired_count,
        "pendingCount": dep.pending_count,
        "runningCount": dep.running_count,
        "failedTasks": dep.failed_tasks,
        "rolloutState": dep.rollout_state,
        "rolloutStateReason": dep.rollout_state_reason,
        "createdAt": dep.created_at,
        "updatedAt": dep.updated_at,
    }
    if steps is not None:
        out["steps"] = steps
    return out


def _steps(store, deps: list) -> dict[str, list[dict]]:
    """deployment id -> its steps, oldest first (``backends.local.controller.DEPLOYMENT_STEP``)."""
    from ecsctl.backends.local.controller import DEPLOYMENT_STEP
    from ecsctl.core.state.ports import HistoryEntry

    out: dict[str, list[dict]] = {}
    for dep in deps:
        entries = sorted(store.find(HistoryEntry, kind=DEPLOYMENT_STEP, name=dep.id), key=lambda h: h.id)
        out[dep.id] = [{"time": h.at, **h.data} for h in entries]
    return out


def _find_service(store, name: str, cluster: str | None):
    """The ACTIVE service ``name`` names: a name, ``cluster/name``, ``service/cluster/name`` or an
    ARN, as ``get`` and ``describe`` take them (``app.lookup``)."""
    from ecsctl.app import lookup

    return lookup.one(store, "services", name, cluster=cluster, active=True)


def _reader(path: str):
    return open_required(path)


def _head(svc, deps: list, steps: dict[str, list[dict]] | None = None) -> dict:
    steps = steps or {}
    return {"service": svc.name, "cluster": svc.cluster, "taskDefinition": svc.task_definition,
            "desiredCount": svc.desired_count, "runningCount": svc.running_count,
            "pendingCount": svc.pending_count,
            "deployments": [deployment_json(d, steps.get(d.id, [])) for d in deps]}


def _current(deps: list) -> list:
    """PRIMARY first, then ACTIVE ones newest first (as DescribeServices lists them)."""
    live = [d for d in deps if d.status != "INACTIVE"]
    return sorted(live, key=lambda d: (d.status != "PRIMARY", -deps.index(d)))


def status(path: str, service: str, *, cluster: str | None = None, events: int = EVENTS_SHOWN) -> dict:
    """``{service, cluster, taskDefinition, desiredCount, runningCount, pendingCount,
    deployments: [PRIMARY, ACTIVE…], events: [{time, message}] (the last ones, oldest first)}``."""
    from ecsctl.backends.local.services import ordered

    with _reader(path) as store:
        svc = _find_service(store, service, cluster)
        deps = _current(ordered(store, svc.cluster, svc.name))
        out = _head(svc, deps, _steps(store, deps))
        log = store.service_events(svc.cluster, svc.name)
        out["events"] = [{"time": e.at, "message": e.message} for e in log[-events:]] if events > 0 else []
        return out


def history(path: str, service: str, *, cluster: str | None = None) -> dict:
    """Every deployment of the service, oldest first."""
    from ecsctl.backends.local.services import ordered

    with _reader(path) as store:
        svc = _find_service(store, service, cluster)
        deps = ordered(store, svc.cluster, svc.name)
        return _head(svc, deps, _steps(store, deps))


def undo_target(deps: list, current: str):
    """The newest COMPLETED deployment whose revision is not ``current``, or None."""
    for dep in reversed(deps):
        if dep.rollout_state == "COMPLETED" and dep.task_definition != current:
            return dep
    return None


def undo(path: str, service: str, *, cluster: str | None = None) -> dict:
    """Deploy the previous COMPLETED revision: ``{service, cluster, from, to, deployment,
    deployments, events}`` (``deployment`` is the new PRIMARY one, ``events`` those it recorded)."""
    from ecsctl.backends.local import LocalBackend, services

    with open_simulation(path, "rollout undo") as store:
        svc = _find_service(store, service, cluster)
        with store.locked(f"ecsctl rollout undo {service}"):
            backend = LocalBackend(store)
            world = backend.world
            cs = world.state(svc.cluster)
            svc = cs.services.get(svc.name, svc)
            target = undo_target(cs.service_deployments(svc.name), svc.task_definition)
            if target is None:
                raise InputError(f"nothing to undo: service {svc.cluster}/{svc.name} has no earlier "
                                 f"COMPLETED revision than {svc.task_definition}")
            revision = world.resolve_task_definition(target.task_definition, f"service {svc.name}")
            mark = len(world.history)
            before = svc.task_definition
            svc = replace(svc, task_definition=revision.ref, updated_at=world.now())
            cs.put_service(svc)
            new = services.new_deployment(world, cs, svc)
            backend.commit()
            backend.settle([svc.cluster])
            svc = store.get(type(svc), svc.cluster, svc.name) or svc
            deps = services.ordered(store, svc.cluster, svc.name)
            log = world.history[mark:]
            steps = _steps(store, deps)
            out = _head(svc, _current(deps), steps)
            dep = next(d for d in deps if d.id == new.id)
            out.update({"from": before, "to": revision.ref, "deployment": deployment_json(dep, steps[dep.id]),
                        "events": [{"time": e.at, "message": e.message} for e in log]})
            return out
