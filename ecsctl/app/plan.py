"""Use cases: make a plan from manifests and the state, apply a plan to a backend."""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Mapping

from ecsctl.app.backend_of import LOCAL, record_backend
from ecsctl.app.collector import collector_paused
from ecsctl.app.validate import Loaded, Validator, discover, read_manifest
from ecsctl.core.findings import ValidationReport
from ecsctl.core.plan.model import Change, Desired, FieldChange, Plan, Step, address
from ecsctl.errors import EcsctlError, InputError, StateError


class ManifestErrors(InputError):
    """The manifests have validation errors; ``report`` holds them for the CLI to show."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(f"the manifests have {report.errors} error(s) (see above, or run `ecsctl validate`)")
        self.report = report


class StalePlan(StateError):
    pass


@dataclass
class Inputs:
    desired: list[Desired]
    files: dict[str, bytes]
    documents: dict[str, object] = field(default_factory=dict)  # address -> its Document (where it is written)
    # address -> why its manifest is not among the inputs though it is there: a file beside the
    # files named with -f, or one an exclude glob left out (see refuse_deleting_left_out); read
    # only when the plan deletes something (``LeftOutFiles``)
    left_out: Mapping[str, str] = field(default_factory=dict)
    from_stdin: bool = False  # a manifest came from ``-f -``: no folder to compare a deletion with
    exclude: tuple[str, ...] = ()  # the --exclude globs the manifests were read with
    guard_left_out: bool = True  # False with --delete-left-out: what the inputs leave out protects nothing


class ClusterInUse(InputError):
    """The plan deletes a cluster that a service of the manifests runs in."""


class LeftOut(InputError):
    """The plan deletes what a manifest left out of the inputs still declares."""


class NoManifests(InputError):
    """No manifest among the paths: planning would delete everything the state holds."""


def read_manifests(paths: list[str], notes: list[str] | None = None, *, guard_left_out: bool = True,
                   exclude: tuple[str, ...] | list[str] = ()) -> Inputs:
    """Load and validate manifests; refuse them if any error is found, or if there is none
    (``notes`` receives the files skipped as not being manifests; ``exclude``: globs that leave
    files out, as validate's ``--exclude``). Without ``guard_left_out`` (``--delete-left-out``)
    the manifests left out of the inputs protect nothing (``refuse_deleting_left_out``)."""
    from ecsctl.core.normalize import canonical

    files: dict[str, bytes] = {}

    def read(name: str) -> bytes:
        files[name] = read_manifest(name)  # size-checked before it is read (validate's E0006)
        return files[name]

    validator = Validator()
    excluded: list[tuple[str, str]] = []
    exclude = tuple(exclude)
    found = discover(paths, exclude, notes=notes, excluded=excluded)
    loaded: Loaded = validator.load(found, read)
    report = validator.check(loaded)
    if report.errors:
        raise ManifestErrors(report)
    desired = []
    documents = {}
    for doc in loaded.documents:
        if not doc.kind or not doc.name:
            continue
        spec = canonical(doc.kind, doc.name, doc.spec)
        desired.append(Desired(address(doc.kind, doc.name, spec), doc.kind, doc.name, spec))
        documents[desired[-1].address] = doc
    if not desired:
        where = ", ".join(paths) or "(no paths)"
        raise NoManifests(f"no manifests in {where}: refusing to plan the deletion of everything the state holds "
                          "(to delete on purpose: ecsctl destroy -f DIR)")
    left_out = LeftOutFiles(paths, found, excluded, exclude) if guard_left_out else {}
    return Inputs(desired, files, documents, left_out, from_stdin=guard_left_out and "-" in paths, exclude=exclude,
                  guard_left_out=guard_left_out)


class LeftOutFiles(Mapping):
    """What the manifests left out of the inputs declare: address -> the file and why, read on
    first use (only a plan that deletes something asks).  Left out are:

    * the files an exclude glob (``--exclude``, ``.ecsctlignore``) took;
    * the manifests in the folder of a file named with ``-f`` that ``-f`` did not name (that
      folder only, not its subfolders: they may hold other stacks);
    * the manifests in each folder above a named path, up to the current directory (not it),
      without their subfolders: ``-f m/batch`` after ``apply -f m`` would otherwise delete all of
      ``m``'s files, while ``envs/dev`` and ``envs/prod`` stay stacks of their own.
    """

    def __init__(self, paths: list[str], found: list[str], excluded: list[tuple[str, str]],
                 exclude: tuple[str, ...] = ()) -> None:
        self._args = (paths, found, excluded, exclude)
        self._read: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._read is None:
            self._read = _left_out(*self._args)
        return self._read

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _above(path: str) -> list[str]:
    """The folders above ``path`` inside the current directory, nearest first (not the current
    directory itself: a repository's root holds more than one stack's business).  Both the path
    as written and as resolved are walked: ``m/batch`` may be a link to ``../shared/batch``, or
    ``m`` one to a folder elsewhere, and ``apply -f m`` read it through ``m`` all the same."""
    import os

    out: list[str] = []
    heres = {os.path.abspath(os.getcwd()), os.path.realpath(os.getcwd())}
    for folder in dict.fromkeys((os.path.abspath(path), os.path.realpath(path))):
        if os.path.isfile(path):  # its own folder is read without subfolders ("beside")
            folder = os.path.dirname(folder)
        folder = os.path.dirname(folder)
        while any(folder.startswith(here + os.sep) for here in heres) and folder not in heres:
            if folder not in out:
                out.append(folder)
            folder = os.path.dirname(folder)
    return out


def _left_out(paths: list[str], found: list[str], excluded: list[tuple[str, str]],
              exclude: tuple[str, ...] = ()) -> dict[str, str]:
    import os

    from ecsctl.core.normalize import canonical

    why: dict[str, str] = {name: f"excluded by {pattern!r}" for name, pattern in excluded}
    taken = {os.path.realpath(f) for f in found}
    beside: dict[str, str] = {}  # folder -> the first file named in it
    above: dict[str, str] = {}   # folder above a named path -> that path
    for p in paths:
        if p == "-":
            continue
        if os.path.isfile(p):
            beside.setdefault(os.path.dirname(p) or ".", p)
        for folder in _above(p):
            above.setdefault(folder, p)
    near = [(folder, f"beside {named}, which -f names instead of the folder") for folder, named in sorted(beside.items())]
    near += [(os.path.relpath(folder), f"in {os.path.relpath(folder)}, a folder above {named}, which -f names instead")
             for folder, named in sorted(above.items())]
    for folder, reason in near:
        left: list[tuple[str, str]] = []  # files an exclude glob leaves out there are protected too
        for name in discover([folder], exclude, notes=[], recursive=False, excluded=left):
            if os.path.realpath(name) not in taken:
                why.setdefault(name, reason)
        for name, pattern in left:
            if os.path.realpath(name) not in taken:
                why.setdefault(name, f"excluded by {pattern!r}")
    if not why:
        return {}
    out: dict[str, str] = {}
    for doc in Validator().load(sorted(why)).documents:
        if doc.kind and doc.name and isinstance(doc.spec, dict):
            spec = canonical(doc.kind, doc.name, doc.spec)
            out.setdefault(address(doc.kind, doc.name, spec), f"{doc.file} ({why.get(doc.file, 'left out')})")
    return out


def refuse_deleting_left_out(changes: list[Change], inputs: Inputs, recorded: Mapping[str, str] | None = None) -> None:
    """A plan does not delete what a manifest beside the inputs still declares: ``-f web.yaml``
    in a folder of manifests, or a file an exclude glob or ``.ecsctlignore`` left out, would
    otherwise destroy every resource of the other files (Terraform reads the whole folder;
    kubectl apply -f never deletes); nor what the file the last apply read it from still
    declares (``recorded``: ``StateStore.sources()``, see ``app.sources``), wherever that file
    is (``envs/prod`` beside ``envs/dev`` after ``apply -f envs``). Delete on purpose by
    removing the manifest, or, when the named files are a stack of their own beside another
    (``dev.yaml``, ``prod.yaml``), with ``--delete-left-out`` (``read_manifests(guard_left_out=False)``)."""
    deletes = [c.address for c in changes if c.action == "delete"]
    if deletes and inputs.from_stdin:
        more = f" (and {len(deletes) - 1} more)" if len(deletes) > 1 else ""
        raise LeftOut(f"the plan would destroy {deletes[0]}{more}, which standard input (-f -) does not declare: "
                      "standard input names no folder to check what else still declares it; give the manifests "
                      "as files, or pass --delete-left-out when standard input holds the whole stack")
    if not deletes or not inputs.guard_left_out:
        return
    left_out: dict[str, str] = {a: inputs.left_out[a] for a in deletes if a in inputs.left_out}
    if recorded:
        from ecsctl.app.sources import still_declared

        rest = [a for a in deletes if a not in left_out]
        left_out.update(still_declared(rest, recorded, inputs.files))
    gone = [a for a in deletes if a in left_out]
    if not gone:
        return
    more = f" (and {len(gone) - 1} more)" if len(gone) > 1 else ""
    first = left_out[gone[0]]  # "m/queue.yaml (excluded by 'queue.yaml')"
    others = sorted({left_out[a].split(" (", 1)[0] for a in gone} - {first.split(" (", 1)[0]})
    where = first if not others else (f"{first} and {others[0]}" if len(others) == 1 else
                                       f"{first} and {len(others)} more files")
    raise LeftOut(f"the plan would destroy {gone[0]}{more}, which {where} still declare{'' if others else 's'}: "
                  "give every manifest of the stack (its folder) to -f, or remove the manifest to delete it, or, "
                  "when the named files are the whole stack (dev.yaml and prod.yaml in one folder), pass "
                  "--delete-left-out")


@collector_paused
def make_plan(inputs: Inputs, store) -> Plan:
    """Diff the manifests against the state (``store`` may be ``None``: nothing applied yet), then
    forecast what apply will do by doing it on a private copy of the state (``app.forecast``)."""
    from ecsctl.app.forecast import forecast
    from ecsctl.core.plan.codec import manifests_hash
    from ecsctl.core.plan.diff import diff
    from ecsctl.core.plan.drift import detect_drift
    from ecsctl.core.plan.graph import build_steps
    from ecsctl.core.state.ports import ContainerInstance, Deployment, Service, Task

    applied: dict[str, tuple[str, str, dict]] = {}
    recorded: dict[str, str] = {}
    lineage, serial = None, 0
    services: list = []
    instances: list = []
    deployments: list = []
    running: Counter = Counter()
    revisions: dict[str, int] = {}
    active: dict[str, int] = {}
    if store is not None:
        meta = store.meta()
        lineage, serial = meta.lineage, meta.serial
        # keyed as this ecsctl writes addresses (a state from an older one may spell them otherwise)
        applied = {address(r.kind, r.name, r.spec): (r.kind, r.name, r.spec) for r in store.resources()}
        services = store.find(Service)
        instances = store.find(ContainerInstance)
        deployments = store.find(Deployment, status="PRIMARY") + store.find(Deployment, rollout_state="FAILED")
        # every deployment of a service that had one fail: whether a later one to the revision completed
        for cluster, service in sorted({(d.cluster, d.service) for d in deployments if d.rollout_state == "FAILED"}):
            deployments += store.find(Deployment, cluster=cluster, service=service)
        # counted in SQL: a plan must not read 50,000 task records to learn 2,000 numbers
        for (cluster, service), n in store.tally(Task, ("cluster", "service"), last_status="RUNNING").items():
            if service:
                running[(cluster, service)] = n
        revisions = store.latest_revisions()  # the highest ever: the next one registers after it
        active = store.latest_revisions(status="ACTIVE")  # what a family name resolves to
        recorded = store.sources()
    changes = diff(inputs.desired, applied)
    refuse_deleting_left_out(changes, inputs, recorded)  # first: a left-out file explains a deleted cluster too
    refuse_deleting_used_clusters(changes, inputs)
    changes = revision_changes(changes, services, revisions, deployments, active)
    changes = instance_repairs(changes, applied, instances, _terminated(store, instances))
    steps = build_steps(changes, existing=set(applied))
    drift = detect_drift(applied, services, running, instances)
    try:
        ahead = forecast(steps, store, {ContainerInstance: instances, Service: services} if store is not None else None)
    except InputError as exc:
        raise located(exc, inputs) from None
    return Plan(lineage=lineage, serial=serial, manifests_hash=manifests_hash(inputs.files),
                changes=changes, steps=steps, drift=drift, deployments=ahead.deployments,
                predictions=ahead.services, reconcile=ahead.reconcile, capacity=ahead.capacity,
                recording=ahead.recording, sources=_changed_sources(inputs, recorded))


def _changed_sources(inputs: Inputs, recorded: Mapping[str, str]) -> dict[str, str]:
    """Where the inputs' resources were read from, for apply to record (``app.sources``): the
    ones the state does not hold so already."""
    from ecsctl.app.sources import sources_of

    return {a: p for a, p in sources_of(inputs.documents).items() if recorded.get(a) != p}


def located(exc: InputError, inputs: Inputs) -> InputError:
    """``exc`` naming the file, line and field it is about (``InputError.address``/``field``),
    where the inputs say where that manifest is; else ``exc`` as it is."""
    doc = inputs.documents.get(exc.address) if exc.address and exc.field else None
    if doc is None:
        return exc
    return InputError(f"{doc.where(exc.field)}: spec.{'.'.join(map(str, exc.field))}: {exc}")


def refuse_deleting_used_clusters(changes: list[Change], inputs: Inputs) -> None:
    """ECS refuses to delete a cluster that contains services (``ClusterContainsServicesException``):
    a plan that deletes a cluster (its manifest gone) while the manifests keep or add a service in
    it is refused, naming the service's ``cluster`` field, instead of the services going down with
    it and the next plan finding nothing to do."""
    leaving = {c.name for c in changes if c.kind == "Cluster" and c.action == "delete"}
    if not leaving:
        return
    kept = [d for d in inputs.desired if d.kind == "Service" and d.spec.get("cluster") in leaving]
    if not kept:
        return
    first = kept[0]
    others = f" (and {len(kept) - 1} more service{'s' if len(kept) > 2 else ''} of the manifests)" if len(kept) > 1 else ""
    doc = inputs.documents.get(first.address)
    where = f"{doc.where(('cluster',))}: spec.cluster: " if doc is not None else ""
    cluster = first.spec.get("cluster")
    raise ClusterInUse(
        f"{where}service {first.name}{others} runs in cluster {cluster}, which this plan deletes (no Cluster "
        f"manifest names it any more); ECS refuses to delete a cluster that contains services "
        f"(ClusterContainsServicesException): keep the Cluster manifest of {cluster}, or remove its services' "
        "manifests too")


def _terminated(store, instances: list) -> set[str]:
    """Container-instance ids whose EC2 instance was terminated (ghosts awaiting replacement)."""
    if store is None:
        return set()
    from ecsctl.backends.local.instances import ec2_states

    return {cid for cid, state in ec2_states(store, instances).items() if state == "terminated"}


def _resolve(ref: str, latest: dict[str, int]) -> str:
    """``family:N`` for a service's ``taskDefinition`` (a family follows its latest revision)."""
    text = str(ref or "").rsplit("/", 1)[-1]
    family, _, rev = text.rpartition(":")
    if rev.isdigit() and family:
        return text
    return f"{text}:{latest[text]}" if text in latest else text


def _last_failed(deployments) -> dict[tuple[str, str, str], object]:
    """(cluster, service, revision) -> the service's last deployment to that revision, where it
    FAILED (a later one to the same revision that completed, as after ``rollout undo``, clears it)."""
    from ecsctl.core.controller.ids import deployment_order

    by_service: dict[tuple[str, str], dict] = {}
    for d in deployments:
        by_service.setdefault((d.cluster, d.service), {})[d.id] = d
    last: dict[tuple[str, str, str], object] = {}
    for (cluster, service), mine in by_service.items():
        for d in sorted(mine.values(), key=deployment_order(cluster, service, len(mine))):
            last[(cluster, service, d.task_definition)] = d
    return {key: d for key, d in last.items() if d.rollout_state == "FAILED"}


def revision_changes(changes: list[Change], services, revisions: dict[str, int], deployments=(),
                     active: dict[str, int] | None = None) -> list[Change]:
    """The revision each service must run after the plan, against the one it runs.

    A service that names a family follows its latest revision: a new revision in the plan updates
    it.  A service that runs another revision than its manifest asks (after a circuit-breaker
    rollback, ``rollout undo``, or a crash between the task-definition step and the service step)
    is a change that deploys the manifest's revision, noting a deployment to it that failed before.
    A manifest moving between ``family`` and ``family:N`` that name the same revision plans nothing.
    A service whose deployment to the manifest's revision FAILED without a rollback (the circuit
    breaker stopped it; its older tasks still run) is a change that deploys that revision again.
    ``revisions``: each family's highest revision in any status (ECS numbers the next one after
    it); ``active``: its latest ACTIVE one, what a family name resolves to (default: the same).
    """
    active = revisions if active is None else active
    latest = dict(active)
    for c in changes:
        if c.kind == "TaskDefinition" and c.action in ("create", "update", "replace"):
            latest[c.name] = revisions.get(c.name, 0) + 1
    current = {(s.cluster, s.name): s for s in services if s.status == "ACTIVE"}
    failed = _last_failed(deployments)
    stopped = {(d.cluster, d.service): d for d in deployments if d.status == "PRIMARY" and d.rollout_state == "FAILED"}
    out = []
    for c in changes:
        if c.kind == "TaskDefinition" and c.action == "create":
            n = latest[c.name]  # ECS never gives a number twice: a family deregistered before goes on from it
            c = replace(c, reason=f"as {c.name}:{n}" + (f"; its revisions up to {n - 1} were deregistered" if n > 1 else ""))
        if c.kind == "Service" and c.action in ("no-op", "update") and c.after is not None:
            cluster = c.address.split("/")[1]
            svc = current.get((cluster, c.name))
            wanted = _resolve(c.after.get("taskDefinition"), latest)
            runs = svc.task_definition if svc is not None else _resolve((c.before or {}).get("taskDefinition"), active)
            others = tuple(f for f in c.fields if f.path != ("taskDefinition",))
            if wanted != runs:
                family, _, number = wanted.rpartition(":")
                if latest.get(family) != active.get(family) and number == str(latest.get(family)):
                    reason = f"task definition {family} registers revision {number}: a new deployment"
                else:
                    reason = f"the service runs {runs}, the manifests ask for {wanted}: a new deployment"
                    if (cluster, c.name, wanted) in failed:
                        reason += f" (its last deployment to {wanted} failed: {failed[(cluster, c.name, wanted)].rollout_state_reason})"
                field = FieldChange(("taskDefinition",), "change", runs, wanted)
                c = replace(c, action="update", fields=others + (field,), reason=c.reason or reason)
            elif (cluster, c.name) in stopped and stopped[(cluster, c.name)].task_definition == wanted:
                reason = (f"the service's deployment to {wanted} failed ({stopped[(cluster, c.name)].rollout_state_reason}) "
                          "and its older tasks still run: a new deployment")
                c = replace(c, action="update", fields=others, reason=reason)
            elif c.action == "update" and not others:
                c = replace(c, action="no-op", fields=(), reason="")  # family and family:N name the same revision
            elif c.action == "update":
                c = replace(c, fields=others)
        out.append(c)
    return out


def instance_repairs(changes: list[Change], applied: dict[str, tuple[str, str, dict]], instances,
                     terminated: set[str]) -> list[Change]:
    """A Cluster group's ``count`` is a desired count: container instances that went away
    (deregistered, or terminated) are replaced by new registrations when the cluster is applied,
    and the instances a group no longer needs (scaled down, removed, other hardware) are
    terminated and their tasks stopped.  The counts are the backend's own (``reconcile_group``),
    so the plan names what apply registers and terminates."""
    from ecsctl.core.controller.cluster import desired_groups, reconcile_group

    records: dict[tuple[str, str], list] = {}
    for inst in instances:
        records.setdefault((inst.cluster, inst.group_name), []).append(inst)
    out = []
    for c in changes:
        if c.kind == "Cluster" and c.action in ("no-op", "update") and c.address in applied:
            try:
                groups = desired_groups(c.name, c.after or {}, "")
                before = desired_groups(c.name, c.before or {}, "") if c.action == "update" else {}
            except KeyError:
                groups, before = {}, {}  # an unknown instance type: validate reports it (E4005)
            missing, gone = [], []
            for name, group in sorted(groups.items()):
                changes_of = reconcile_group(group, records.get((c.name, name), ()), terminated)
                if c.action == "no-op" and changes_of.register:
                    missing.append(f"{len(changes_of.register)} of group {name}")
                leaving = [i for i in changes_of.deregister if i.id not in terminated]  # not ghosts: gone already
                if leaving:
                    gone.append(_terminates(name, leaving))
            for name in sorted(before.keys() - groups.keys()):  # a group the manifest dropped
                leaving = [i for i in records.get((c.name, name), ()) if i.status != "INACTIVE" and i.id not in terminated]
                if leaving:
                    gone.append(_terminates(name, leaving))
            if missing:
                c = replace(c, action="update", reason="container instances went away ("
                            + ", ".join(missing) + "): apply registers replacements")
            if gone and c.action == "update":
                c = replace(c, reason=f"{c.reason}; terminates {', '.join(gone)}")
        out.append(c)
    return out


def _terminates(group: str, leaving: list) -> str:
    """``2 container instances of group b (3115b155…, 9a0c2d1e…; the 3 tasks on them stop: the
    placement forecast shows where their services run them)``."""
    n, tasks = len(leaving), sum(i.running_tasks_count for i in leaving)
    shown = ", ".join(i.id[:8] + "…" for i in leaving[:3]) + (f" and {n - 3} more" if n > 3 else "")
    moved = (f"; the {tasks} task{'s' if tasks != 1 else ''} on {'them' if n != 1 else 'it'} stop: the placement "
             "forecast shows where their services run them") if tasks else ""
    return f"{n} container instance{'s' if n != 1 else ''} of group {group} ({shown}{moved})"


def backend_for(store, name: str = "local", *, aws=None, **options):
    """The backend that executes steps: the local simulation, or real ECS (``aws``: an ``Aws`` session)."""
    if name == "aws":
        from ecsctl.backends.aws.backend import AwsBackend
        from ecsctl.backends.aws.session import Aws

        return AwsBackend(store, aws or Aws(), **options)
    if name != "local":
        raise InputError(f"backend '{name}' is not available (local or aws)")
    from ecsctl.backends.local import LocalBackend

    return LocalBackend(store)


def check_fresh(plan: Plan, store, again: str = "run plan again") -> None:
    """A saved plan applies only to the state it was made against; ``again`` ends the refusal
    (a saved plan's own: the command that makes it again, ``SavedPlan.again``)."""
    meta = store.meta()
    if plan.lineage is None:
        if meta.serial != 0:
            raise StalePlan(f"the plan was made against an empty state, but the state has since been applied "
                            f"(serial {meta.serial}); {again}")
        return
    # nothing applied here (a mistyped --state: no state file yet, its lineage made just now)
    if meta.serial == 0 and plan.serial > 0 and meta.lineage != plan.lineage:
        raise StalePlan(f"the plan was made against a state that has been applied (lineage {plan.lineage}, serial "
                        f"{plan.serial}), but this state is empty: give apply the --state the plan was made with, or "
                        f"{again}")
    if meta.lineage != plan.lineage:
        raise StalePlan(f"the plan belongs to another state (lineage {plan.lineage}, this state is {meta.lineage}); {again}")
    if meta.serial != plan.serial:
        raise StalePlan(f"the state moved on since the plan was made (serial {plan.serial} -> {meta.serial}); {again}")


def clusters_to_reconcile(plan: Plan) -> list[str]:
    """Clusters where apply's scheduler has work even without a step (lost tasks, a deployment to continue)."""
    return list(plan.reconcile)


@collector_paused
def apply_plan(plan: Plan, store, backend, on_step: Callable[[Step, int, int], None] | None = None,
               on_round: Callable[[], None] | None = None) -> int:
    """Execute every step in order, each committing on its own, then let the service scheduler
    work until it settles (rolling deployments, lost tasks, desired counts), each round committing
    on its own: what ``make_plan`` forecast; last, where the manifests were read from
    (``Plan.sources``, one transaction). Returns the number of steps applied."""
    check_fresh(plan, store)
    total = len(plan.steps)
    try:
        if plan.recording is not None and getattr(backend, "replay", None) is not None:
            # the plan was made in this process against this very state: commit the run it recorded
            done = iter(range(1, total + 1))
            backend.replay(plan.recording, on_step=lambda step: on_step and on_step(step, next(done), total),
                           on_round=on_round)
        else:
            for n, step in enumerate(plan.steps, start=1):
                backend.apply_step(step)
                if on_step:
                    on_step(step, n, total)
            settle = getattr(backend, "settle", None)
            if settle is not None:
                settle(after_round=on_round)
    except Exception:
        with suppress(EcsctlError):  # the steps that committed were read from somewhere too
            record_sources(plan, store)
        raise
    record_applied(plan, store, LOCAL)
    return total


def record_applied(plan: Plan, store, backend: str) -> None:
    """What an apply to ``backend`` records once it ran (a run with nothing to change too):
    where the manifests were read from (``record_sources``) and the state's backend."""
    record_sources(plan, store)
    record_backend(store, backend)


def record_sources(plan: Plan, store) -> None:
    """Record where the manifests of the resources the state now holds were read from
    (``Plan.sources``, ``app.sources``), in one transaction; nothing when nothing is new: a state
    written before sources were recorded, or a manifest moved to another file, is brought up to date."""
    if plan.sources:
        held = {r.address for r in store.resources()}
        store.put_sources({a: p for a, p in plan.sources.items() if a in held})


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


def save_plan(plan: Plan, path: str, manifests=(), paths=(), state: str | None = None, exclude=()) -> str:
    """``ecsctl.app.planfile.save_plan``: a private plan file without sensitive values, bound to the
    manifests (by name and bytes) read from ``paths`` (less what ``exclude`` left out); returns the
    command that applies it."""
    from ecsctl.app import planfile

    planfile.save_plan(plan, path, manifests, paths, state, exclude)
    return planfile.apply_command(path, state, plan.backend)


def load_plan(path: str, restore: bool = True, check_manifests: bool = True) -> Plan:
    """``ecsctl.app.planfile.load_plan``; with ``restore`` (apply) it is refused unless its manifests are
    unchanged, and its sensitive values come back from them (``check_manifests=False``: as saved)."""
    from ecsctl.app import planfile

    return planfile.load_plan(path, read_manifests if restore else None, check_manifests=check_manifests)


def read_saved_plan(path: str):
    """``ecsctl.app.planfile.read_saved``: a plan file parsed, its manifests not checked yet."""
    from ecsctl.app import planfile

    return planfile.read_saved(path)


def checked_plan(saved, check_manifests: bool = True) -> Plan:
    """The saved plan to apply (``SavedPlan.checked``): refused if its manifests changed since it
    was made, its sensitive values back from them."""
    return saved.checked(read_manifests, check_manifests=check_manifests)
