"""Use cases: make a plan from manifests and the state, apply a plan to a backend."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ecsctl.app.deployments import plan_deployments
from ecsctl.app.predict import predict_placement
from ecsctl.app.validate import Loaded, Validator, discover
from ecsctl.core.findings import ValidationReport
from ecsctl.core.plan.model import Change, Desired, FieldChange, Plan, Step, address
from ecsctl.errors import InputError, StateError


class ManifestErrors(InputError):
    """The manifests have validation errors; ``report`` holds them for the CLI to show."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(f"the manifests have {report.errors} error(s): plan and apply refuse them (see above, or run `ecsctl validate`)")
        self.report = report


class StalePlan(StateError):
    pass


@dataclass
class Inputs:
    desired: list[Desired]
    files: dict[str, bytes]


def read_manifests(paths: list[str]) -> Inputs:
    """Load and validate manifests; refuse them if any error is found."""
    from ecsctl.core.normalize import canonical

    files: dict[str, bytes] = {}

    def read(name: str) -> bytes:
        with open(name, "rb") as fh:
            files[name] = fh.read()
        return files[name]

    validator = Validator()
    loaded: Loaded = validator.load(discover(paths), read)
    report = validator.check(loaded)
    if report.errors:
        raise ManifestErrors(report)
    desired = []
    for doc in loaded.documents:
        if not doc.kind or not doc.name:
            continue
        spec = canonical(doc.kind, doc.name, doc.spec)
        desired.append(Desired(address(doc.kind, doc.name, spec), doc.kind, doc.name, spec))
    return Inputs(desired, files)


def make_plan(inputs: Inputs, store) -> Plan:
    """Diff the manifests against the state (``store`` may be ``None``: nothing applied yet)."""
    from ecsctl.core.plan.codec import manifests_hash
    from ecsctl.core.plan.diff import diff
    from ecsctl.core.plan.drift import detect_drift
    from ecsctl.core.plan.graph import build_steps
    from ecsctl.core.state.ports import ContainerInstance, Service, Task

    applied: dict[str, tuple[str, str, dict]] = {}
    lineage, serial = None, 0
    services: list = []
    instances: list = []
    running: Counter = Counter()
    revisions: dict[str, int] = {}
    if store is not None:
        meta = store.meta()
        lineage, serial = meta.lineage, meta.serial
        applied = {r.address: (r.kind, r.name, r.spec) for r in store.resources()}
        services = store.find(Service)
        instances = store.find(ContainerInstance)
        # counted in SQL: a plan must not read 50,000 task records to learn 2,000 numbers
        for (cluster, service), n in store.tally(Task, ("cluster", "service"), last_status="RUNNING").items():
            if service:
                running[(cluster, service)] = n
        revisions = store.latest_revisions()
    changes = diff(inputs.desired, applied)
    changes = _cascade_revisions(changes, services, revisions)
    steps = build_steps(changes, existing=set(applied))
    drift = detect_drift(applied, services, running, instances, revisions)
    predictions = predict_placement(changes, steps, store, services, revisions)
    deployments = plan_deployments(changes, store, services, revisions)
    return Plan(lineage=lineage, serial=serial, manifests_hash=manifests_hash(inputs.files),
                changes=changes, steps=steps, drift=drift, deployments=deployments, predictions=predictions)


def _cascade_revisions(changes: list[Change], services, revisions: dict[str, int]) -> list[Change]:
    """A service that names a family follows its latest revision: a new revision updates the service."""
    new_revision = {
        c.name: revisions.get(c.name, 0) + 1 for c in changes if c.kind == "TaskDefinition" and c.action in ("create", "update", "replace")
    }
    current = {(s.cluster, s.name): s.task_definition for s in services}
    out = []
    for c in changes:
        if c.kind == "Service" and c.action in ("no-op", "update") and c.after is not None:
            family = str(c.after.get("taskDefinition", "")).rsplit("/", 1)[-1]
            if ":" not in family and family in new_revision:
                cluster = c.address.split("/")[1]
                before = current.get((cluster, c.name), f"{family}:{new_revision[family] - 1}")
                after = f"{family}:{new_revision[family]}"
                field = FieldChange(("taskDefinition",), "change", before, after)
                reason = f"task definition {family} registers revision {new_revision[family]}: a new deployment"
                c = replace(c, action="update", fields=c.fields + (field,), reason=c.reason or reason)
        out.append(c)
    return out


def backend_for(store, name: str = "local"):
    """The backend that executes steps; only the local simulation exists so far."""
    if name != "local":
        raise InputError(f"backend '{name}' is not available (only 'local')")
    from ecsctl.backends.local import LocalBackend

    return LocalBackend(store)


def check_fresh(plan: Plan, store) -> None:
    """A saved plan applies only to the state it was made against."""
    meta = store.meta()
    if plan.lineage is None:
        if meta.serial != 0:
            raise StalePlan(f"the plan was made against an empty state, but the state has since been applied "
                            f"(serial {meta.serial}); run plan again")
        return
    if meta.lineage != plan.lineage:
        raise StalePlan(f"the plan belongs to another state (lineage {plan.lineage}, this state is {meta.lineage}); run plan again")
    if meta.serial != plan.serial:
        raise StalePlan(f"the state moved on since the plan was made (serial {plan.serial} -> {meta.serial}); run plan again")


def clusters_to_reconcile(plan: Plan) -> list[str]:
    """Clusters with services short of their desired count: the scheduler tops them up on apply."""
    return sorted({d.address.split("/")[1] for d in plan.drift if d.field == "runningCount"})


def apply_plan(plan: Plan, store, backend, on_step: Callable[[Step, int, int], None] | None = None) -> int:
    """Execute every step in order, each committing on its own, then let the scheduler replace
    lost tasks (as ECS's service scheduler would). Returns the number of steps applied."""
    check_fresh(plan, store)
    total = len(plan.steps)
    for n, step in enumerate(plan.steps, start=1):
        backend.apply_step(step)
        if on_step:
            on_step(step, n, total)
    for cluster in clusters_to_reconcile(plan):
        backend.reconcile(cluster)
    return total


def deployment_outcomes(plan: Plan, store) -> list[dict]:
    """After an apply: where each planned deployment stands (the service's PRIMARY deployment)."""
    from ecsctl.core.state.ports import Deployment

    out = []
    for d in plan.deployments:
        _, cluster, name = str(d.get("service", "")).split("/", 2)
        primary = [x for x in store.find(Deployment, cluster=cluster, service=name) if x.status == "PRIMARY"]
        if primary:
            p = primary[-1]
            out.append({"service": d["service"], "planned": d.get("outcome"), "taskDefinition": p.task_definition,
                        "rolloutState": p.rollout_state, "reason": p.rollout_state_reason,
                        "runningCount": p.running_count, "desiredCount": p.desired_count})
    return out


def save_plan(plan: Plan, path: str, manifests=()) -> None:
    """``ecsctl.app.planfile.save_plan``: a private plan file without sensitive values."""
    from ecsctl.app import planfile

    planfile.save_plan(plan, path, manifests)


def load_plan(path: str, restore: bool = True) -> Plan:
    """``ecsctl.app.planfile.load_plan``; with ``restore`` its sensitive values come back from its manifests."""
    from ecsctl.app import planfile

    return planfile.load_plan(path, read_manifests if restore else None)
