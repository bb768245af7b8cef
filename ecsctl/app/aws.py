"""Use cases of ``--backend aws``: plan against live ECS, apply through boto3, get from live.

Plan (``plan_live``) — the same plan as the local backend's, made by the same planner:

1. the manifests and the state name what the run is about (a ``live.Scope``);
2. ``live.read_live`` reads those resources from AWS (clusters, capacity providers, container
   instances, services and deployments, tasks, task definitions, Application Auto Scaling,
   EventBridge) as state records and canonical specs;
3. a resource the manifests want that exists in AWS but not in the state is refused, naming it,
   unless ``adopt``: then its live spec stands in for a last-applied one (the plan shows what
   will change in AWS) and apply records it in the state;
4. the planner (``app.plan.make_plan``) runs on a throw-away copy of the state whose world
   tables hold the *live* records instead of the simulation's, so placement and deployment
   predictions see the real instances, services and revisions;
5. drift is live AWS against the state's last-applied specs (``core.aws.drift``), apart from
   the changes; the plan is bound to the real state's lineage and serial.

``containerInstances`` groups of a Cluster manifest describe the simulation only (instances on
AWS come from EC2 and Auto Scaling groups): the AWS backend drops them from the desired specs.

Apply (``apply_live``) checks that a saved plan is fresh, records adopted resources, then runs
the steps through ``app.executor.execute`` on an ``AwsBackend`` (independent steps
concurrently; a failure skips its dependants and is reported once).
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

from ecsctl.app.executor import Execution, StepResult, execute
from ecsctl.app.plan import Inputs, check_fresh, make_plan
from ecsctl.backends.aws.catalogue import KINDS as CATALOGUE
from ecsctl.core.plan.model import Desired, Plan
from ecsctl.errors import InputError
SIMULATION_ONLY = {"Cluster": ("containerInstances",)}


class Unmanaged(InputError):
    """Resources exist in AWS that the state does not manage; adopt or import them first."""


def connect(region: str | None = None, profile: str | None = None, endpoint_url: str | None = None):
    """A session of ``--region``/``--profile``/``--endpoint-url``; an ``s3://`` state of the same
    command reaches S3 with them too (not only with the environment's defaults)."""
    from ecsctl.backends.aws.session import Aws, AwsOptions
    from ecsctl.storage import s3_state

    aws = Aws(AwsOptions(region=region, profile=profile, endpoint_url=endpoint_url))
    s3_state.connect_as(profile=profile, region=region, endpoint_url=endpoint_url)
    return aws


def backend(store, aws, *, adopt: bool = False, events_role: str | None = None, parallelism: int = 4):
    from ecsctl.app.plan import backend_for

    return backend_for(store, "aws", aws=aws, adopt=adopt, events_role=events_role, parallelism=parallelism)


def for_aws(inputs: Inputs) -> Inputs:
    """The manifests without what only the simulation uses: a Cluster's instance groups, and
    every ``x-ecsctl`` mapping (``core.extensions``: no ECS API has it, so a spec with one would
    never compare equal to what AWS reports)."""
    from ecsctl.core.extensions import strip_extensions

    desired = []
    for d in inputs.desired:
        drop = SIMULATION_ONLY.get(d.kind, ())
        spec = strip_extensions({k: v for k, v in d.spec.items() if k not in drop})
        desired.append(d if spec == d.spec else Desired(d.address, d.kind, d.name, spec))
    return replace(inputs, desired=desired)


def _applied(store) -> dict[str, tuple[str, str, dict]]:
    if store is None:
        return {}
    return {r.address: (r.kind, r.name, r.spec) for r in store.resources()}


@contextmanager
def world_of(records, resources: dict[str, tuple[str, str, dict]], digest_key: str | None = None) -> Iterator[object]:
    """A throw-away state holding ``resources`` as last applied and ``records`` as its world,
    sealing with ``digest_key`` (the real state's: its digests of secrets then compare)."""
    from ecsctl.core.state.ports import ServiceEvent
    from ecsctl.storage.sqlite_store import SqliteStateStore

    with tempfile.TemporaryDirectory(prefix="ecsctl-live-") as tmp:
        store = SqliteStateStore(Path(tmp) / "live.db", digest_key=digest_key)
        try:
            with store.transaction():
                store.set_backend("aws")  # a copy of AWS: its registries are not the simulation's
                for address, (kind, name, spec) in resources.items():
                    store.put_resource(address, kind, name, spec)
                for record in records:
                    if isinstance(record, ServiceEvent):
                        store.add_service_event(record)
                    else:
                        store.save(record)
            yield store
        finally:
            store.close()


def read(aws, inputs: Inputs | None, applied: dict[str, tuple[str, str, dict]]):
    from ecsctl.backends.aws.live import Scope, read_live

    items = [(a, k, n, s) for a, (k, n, s) in applied.items()]
    if inputs is not None:
        items += [(d.address, d.kind, d.name, d.spec) for d in inputs.desired]
    return read_live(aws, Scope.of(items))


def plan_live(inputs: Inputs, store, aws, *, adopt: bool = False) -> Plan:
    """The plan of ``inputs`` against the state and live AWS (see the module docstring)."""
    from ecsctl.core.aws.drift import DELETED_REASON, as_reported, deleted_in_aws, live_drift

    inputs = for_aws(inputs)
    applied = _applied(store)
    snap = read(aws, inputs, applied)
    unmanaged = sorted(d.address for d in inputs.desired
                       if d.address not in applied and d.address in snap.resources and d.kind not in CATALOGUE)
    if unmanaged and not adopt:
        raise Unmanaged(f"{', '.join(unmanaged)} already exist(s) in AWS but not in the state; ecsctl will not "
                        "overwrite them: pass --adopt to take them over, or `ecsctl import` them first")
    planned = dict(applied)
    for address in unmanaged:
        live = snap.resources[address]
        planned[address] = (live.kind, live.name, live.spec)
    # what AWS no longer has is no longer applied: a manifest that declares it creates it again
    # (Terraform's refresh), rather than a drift line beside "No changes" while it is down
    wanted = {d.address for d in inputs.desired}
    gone = {a for a in deleted_in_aws(applied, snap.resources, snap.checked) if a in wanted and applied[a][0] not in CATALOGUE}
    for address in gone:
        del planned[address]
    key = store.digest_key() if store is not None else None
    sealed = _sealed(snap.resources, key)
    # a family name resolves to the family's latest ACTIVE revision: one registered outside ecsctl
    # is what the manifests compare with (README: RegisterTaskDefinition "compares with the family's
    # latest ACTIVE revision"), so the manifests' spec registers again rather than the services
    # following the foreign revision and the next plan finding nothing to do
    for address, (kind, name, spec) in applied.items():
        if kind == "TaskDefinition" and address in wanted and address not in gone and address in sealed:
            planned[address] = (kind, name, as_reported(kind, spec, sealed[address]))
    with world_of(snap.records, planned, key) as world:
        plan = make_plan(inputs, world)
    plan.changes = [replace(c, reason=f"{DELETED_REASON}: created again"
                            + (f", {c.reason}" if c.kind == "TaskDefinition" else ""))  # which number it will be
                    if c.address in gone and c.action == "create" else c for c in plan.changes]
    # what apply only checks: the plan looked it up, and says now when the check will fail
    plan.changes = [replace(c, reason="it does not exist in AWS: apply fails here; create it first")
                    if c.kind in CATALOGUE and c.action in ("create", "update", "replace")
                    and c.address in snap.checked and c.address not in snap.resources else c for c in plan.changes]
    meta = store.meta() if store is not None else None
    plan.lineage, plan.serial = (meta.lineage, meta.serial) if meta is not None else (None, 0)
    plan.drift = live_drift(applied, sealed, snap.checked)
    plan.reconcile = []  # ECS's own scheduler does that work in AWS; apply_live runs no local rounds
    plan.backend = "aws"
    return plan


def _sealed(live: dict, key: str | None) -> dict:
    """The live specs with each sensitive-looking value replaced by its digest under the state's
    key, as the state keeps them: AWS reports secrets in plain text, the state only their digests,
    so only digests compare (and drift never prints the value)."""
    if key is None:
        return live
    from ecsctl.core.sensitive import Sealer

    sealer = Sealer(bytes.fromhex(key))
    return {a: replace(r, spec=sealer.seal(r.spec)) for a, r in live.items()}


def adopted(plan: Plan, store) -> list[tuple[str, str, str, dict]]:
    """Changes planned against a live spec that the state does not hold yet (``--adopt``)."""
    out = []
    for c in plan.changes:
        if c.kind in CATALOGUE or c.before is None or c.action not in ("update", "no-op", "replace"):
            continue
        if store.get_resource(c.address) is None:
            out.append((c.address, c.kind, c.name, c.before))
    return out


def apply_live(plan: Plan, store, aws_backend, *, on_step: Callable[[StepResult, int, int], None] | None = None) -> Execution:
    """Execute the plan's steps on AWS (see the module docstring); the caller reports the execution."""
    from ecsctl.app.backend_of import AWS
    from ecsctl.app.plan import record_applied

    check_fresh(plan, store)
    taken = adopted(plan, store)
    if taken:
        with store.transaction():
            for address, kind, name, spec in taken:
                store.put_resource(address, kind, name, spec)
    execution = execute(plan.steps, aws_backend, on_step=on_step)
    if execution.done:
        record_applied(plan, store, AWS)
    return execution


def services_to_follow(plan: Plan, execution: Execution) -> list[tuple[str, str]]:
    """(cluster, service) of every service step that was done: their deployments to follow."""
    out = []
    for r in execution.done:
        if r.step.kind == "Service" and r.step.action != "delete":
            out.append((r.step.address.split("/")[1], r.step.name))
    return out


def predicted_steps(plan: Plan) -> dict[str, list[dict]]:
    return {d["service"]: list(d.get("steps") or ()) for d in plan.deployments}


def follow(aws, services: list[tuple[str, str]], *, poll: float = 15.0, timeout: float = 1800.0,
           sleep=None, clock=None, on_update=None):
    from ecsctl.backends.aws.wait import follow as follow_deployments

    return follow_deployments(aws, services, poll=poll, timeout=timeout, sleep=sleep, clock=clock, on_update=on_update)


def get_live(aws, kind: str, name: str | None = None, *, cluster: str | None = None,
             status: str | None = None) -> list[dict]:
    """``ecsctl get KIND [NAME] --backend aws``: live objects, in the JSON shape of the local
    ``get``; ``name`` and ``status`` as the local ``get`` takes them (one that names nothing is
    an InputError, a status the kind does not have a UsageError)."""
    from ecsctl.app.backend_of import LIVE_KINDS
    from ecsctl.app.get import ALIASES, LISTERS, check_status, row_key
    from ecsctl.app.lookup import keys_of, select
    from ecsctl.backends.aws.live import LiveSnapshot, Scope, read_live, read_tasks, revision_record
    from ecsctl.backends.aws.session import paged
    from ecsctl.core.state.ports import Task, TaskDefinitionRevision

    kind = ALIASES.get(kind, kind)
    if kind not in LISTERS or kind not in LIVE_KINDS:
        raise InputError(f"`get {kind} --backend aws` is not available; one of: {', '.join(LIVE_KINDS)}")
    if status is not None:
        status = check_status(kind, status)
    clusters = [cluster] if cluster else [arn.rsplit("/", 1)[-1]
                                          for arn in paged(aws, "ecs", "ListClusters", "clusterArns")]
    scope = Scope(clusters=set(clusters))
    for c in clusters:
        for arn in paged(aws, "ecs", "ListServices", "serviceArns", cluster=c):
            scope.services.add((c, arn.rsplit("/", 1)[-1]))
    snap: LiveSnapshot = read_live(aws, scope, with_tasks=kind == "tasks")
    if kind == "tasks" and (status or "").upper() != "RUNNING":
        running = {t.id for t in snap.of_type(Task)}
        for c, name in sorted(scope.services):
            snap.records += [t for t in read_tasks(aws, c, name, "STOPPED") if t.id not in running]
    if kind == "taskdefs":  # every registered revision, as ListTaskDefinitions lists them (not only those in use)
        which = "INACTIVE" if (status or "").upper() == "INACTIVE" else "ACTIVE"
        have = {r.ref for r in snap.of_type(TaskDefinitionRevision)}
        for arn in paged(aws, "ecs", "ListTaskDefinitions", "taskDefinitionArns", status=which):
            ref = arn.rsplit("/", 1)[-1]
            record = revision_record(aws, ref) if ref not in have else None
            if record is not None:
                snap.records.append(record)
                have.add(ref)
    with world_of(snap.records, {}) as world:
        keys = keys_of(kind, select(world, kind, name, cluster=cluster)) if name else None
        rows = LISTERS[kind](world)
    if keys is not None:
        rows = [r for r in rows if row_key(kind, r) in keys]
    if status:
        key = "lastStatus" if kind == "tasks" else "status"
        rows = [r for r in rows if str(r.get(key, "")).upper() == status.upper()]
    return rows


__all__ = ["Unmanaged", "adopted", "apply_live", "backend", "connect", "follow", "for_aws", "get_live", "plan_live",
           "predicted_steps", "read", "services_to_follow", "world_of"]
