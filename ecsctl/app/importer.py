"""``ecsctl import``: existing task definitions and services become manifests and state records.

Sources:

* files: ``aws ecs describe-task-definition`` output (``{"taskDefinition": {...}, "tags": [...]}``),
  a RegisterTaskDefinition request, or ``aws ecs describe-services`` output
  (``{"services": [...]}``), JSON or YAML;
* live AWS (``--backend aws``): the services of a cluster (or the ones named) and the task
  definitions they run, or the families named.

Each resource becomes one manifest document (its spec as the API states it: read-only fields
dropped, empty values pruned; a service that runs its family's latest ACTIVE revision names the
family only, so it follows new revisions) and the canonical form of that spec is recorded in the
state as last applied — exactly what ``plan`` will derive from the written manifest, so that
importing and then planning shows zero changes (Terraform's ``import``). From live AWS that is
all (``record``); from files the state is the local simulation's, and ``record_local`` also
makes the simulated objects apply would have left (a record alone would be a resource plan calls
unchanged and apply never creates). A state record that already exists with another spec is
refused unless ``force``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from ecsctl.core.aws import shapes
from ecsctl.core.manifest.envelope import NAME_RE
from ecsctl.core.normalize import canonical, prune_spec
from ecsctl.core.plan.model import address as address_of
from ecsctl.errors import InputError


@dataclass(frozen=True, slots=True)
class Imported:
    address: str
    kind: str
    name: str
    spec: dict  # as written in the manifest
    revision: int | None = None  # a task definition's revision, as described (None: a register request)

    @property
    def filename(self) -> str:
        return self.address.replace("/", "-").strip("-") + ".yaml"

    def manifest(self) -> dict:
        return {"apiVersion": "ecsctl/v1", "kind": self.kind, "metadata": {"name": self.name}, "spec": self.spec}


def _item(kind: str, name: str, spec: dict, revision: object = None) -> Imported:
    spec = prune_spec(kind, spec)
    number = revision if isinstance(revision, int) and not isinstance(revision, bool) and revision > 0 else None
    return Imported(address_of(kind, name, spec), kind, name, spec, number)


def _read(name: str):
    from ecsctl.app.validate import TooLarge, read_manifest

    try:
        text = read_manifest(name).decode("utf-8")  # size-checked before it is read
    except (OSError, UnicodeDecodeError, TooLarge) as exc:
        raise InputError(f"{name}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON (or an integer of 4,300+ digits): try YAML
        pass
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:  # bad scalars raise ValueError
        raise InputError(f"{name}: not JSON or YAML ({' '.join(str(exc).split())[:200]})") from None


def from_files(paths: list[str]) -> list[Imported]:
    """Task definitions and services from describe-* / register JSON (or YAML) files."""
    from ecsctl.app.validate import Validator, discover

    out: list[Imported] = []
    taskdef_files: list[str] = []
    for name in discover(paths):
        data = _read(name)
        if isinstance(data, dict) and isinstance(data.get("services"), list):
            if not data["services"]:  # a data problem (exit 1), as describe-services prints it for a name it does not know
                failed = [f"{shapes.last_segment(str(f.get('arn', '')))} {f.get('reason', '')}".strip()
                          for f in data.get("failures") or [] if isinstance(f, dict)]
                raise InputError(f"{name}: describe-services output with no services: nothing to import"
                                 + (f" (failures: {', '.join(failed)})" if failed else ""))
            for i, s in enumerate(data["services"]):
                if not isinstance(s, dict) or not s.get("serviceName"):
                    raise InputError(f"{name}: a services[] item without serviceName is not describe-services output")
                if not isinstance(s["serviceName"], str) or not NAME_RE.match(s["serviceName"]):
                    raise InputError(f"{name}: services[{i}].serviceName must be 1-255 letters, digits, '-' or '_', "
                                     f"not {json.dumps(s['serviceName'])[:80]}")
                out.append(_item("Service", s["serviceName"], _without_null_grace(shapes.spec_from_service(s))))
        else:
            taskdef_files.append(name)
    if taskdef_files:
        validator = Validator()
        loaded = validator.load(taskdef_files)
        report = validator.check(loaded)
        if report.errors:
            first = next(f for f in report.findings if f.severity.name == "ERROR")
            raise InputError(f"{first.file}:{first.line or 1}: cannot import: {first.message} "
                             f"({report.errors} error(s); see `ecsctl validate {' '.join(taskdef_files)}`)")
        for doc in loaded.documents:
            if doc.kind != "TaskDefinition" or getattr(doc, "form", "") not in ("describe", "register"):
                raise InputError(f"{doc.file}: only describe-task-definition / describe-services output or a "
                                 "RegisterTaskDefinition request can be imported")
            described = doc.data.get("taskDefinition") if doc.form == "describe" else None
            number = described.get("revision") if isinstance(described, dict) else None
            if described is not None and number is not None and (
                    not isinstance(number, int) or isinstance(number, bool) or number < 1):
                raise InputError(f"{doc.file}: taskDefinition.revision must be a positive integer (as ECS numbers "
                                 f"revisions from 1), not {json.dumps(number)[:40]}")
            out.append(_item("TaskDefinition", doc.name, shapes.spec_from_task_definition(doc.spec),
                             described.get("revision") if isinstance(described, dict) else None))
    return out


def from_live(aws, *, cluster: str, services: list[str] = (), families: list[str] = ()) -> list[Imported]:
    """Services of ``cluster`` (all, or those named) and the task definitions they run, plus ``families``."""
    from ecsctl.backends.aws.live import read_auto_scaling
    from ecsctl.backends.aws.session import AwsError

    names = list(services)
    if not names and not families:
        token, names = None, []
        while True:
            params = {"cluster": cluster, **({"nextToken": token} if token else {})}
            answer = aws.call("ecs", "ListServices", f"cluster/{cluster}", **params)
            names += [a.rsplit("/", 1)[-1] for a in answer.get("serviceArns", [])]
            token = answer.get("nextToken")
            if not token:
                break
    out: list[Imported] = []
    wanted = set(families)
    for i in range(0, len(names), 10):
        answer = aws.call("ecs", "DescribeServices", f"cluster/{cluster}", cluster=cluster, services=names[i:i + 10], include=["TAGS"])
        for f in answer.get("failures", []):
            raise InputError(f"service/{cluster}/{shapes.last_segment(f.get('arn', ''))}: {f.get('reason', 'MISSING')} in AWS")
        for s in answer.get("services", []):
            if s.get("status") != "ACTIVE":
                continue
            spec = shapes.spec_from_service(s)
            auto = read_auto_scaling(aws, cluster, s["serviceName"], f"service/{cluster}/{s['serviceName']}")
            if auto:
                spec["autoScaling"] = auto
            family, _, revision = spec.get("taskDefinition", "").partition(":")
            latest = _latest(aws, family)
            if latest is not None and str(latest[0]["revision"]) == revision:
                spec["taskDefinition"] = family  # follows the family, as manifests usually do
            wanted.add(family)
            out.append(_item("Service", s["serviceName"], _without_null_grace(spec)))
    for family in sorted(wanted):
        latest = _latest(aws, family)
        if latest is None:
            raise AwsError(f"taskdef/{family}: no ACTIVE revision of task definition family {family!r} in {aws.region}")
        described, tags = latest
        out.insert(0, _item("TaskDefinition", family, shapes.spec_from_task_definition(described, tags),
                            described.get("revision")))
    return out


def _without_null_grace(spec: dict) -> dict:
    """DescribeServices prints ``healthCheckGracePeriodSeconds: 0`` for a service without a load
    balancer too; a manifest may not say it there (E3015, as CreateService refuses it): 0 is the default."""
    if spec.get("healthCheckGracePeriodSeconds") == 0 and not (spec.get("loadBalancers") or spec.get("serviceRegistries")):
        spec = {k: v for k, v in spec.items() if k != "healthCheckGracePeriodSeconds"}
    return spec


def _latest(aws, family: str) -> tuple[dict, list] | None:
    """The family's latest ACTIVE revision as DescribeTaskDefinition gives it, and its tags."""
    from ecsctl.backends.aws.session import AwsError

    try:
        answer = aws.call("ecs", "DescribeTaskDefinition", f"taskdef/{family}", taskDefinition=family, include=["TAGS"])
    except AwsError as exc:
        if exc.code in ("ClientException", "InvalidParameterException"):
            return None
        raise
    td = dict(answer.get("taskDefinition") or {})
    if td.get("status") != "ACTIVE":
        return None
    return td, list(answer.get("tags") or [])


def write_manifests(items: list[Imported], out_dir: str | None) -> str:
    """One YAML file per resource under ``out_dir``; without one, the documents as one YAML text."""
    texts = {i.filename: yaml.safe_dump(i.manifest(), sort_keys=False, allow_unicode=True) for i in items}
    if out_dir is None:
        return "---\n".join(texts.values())
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for filename, text in texts.items():
        (target / filename).write_text(text, encoding="utf-8")
    return ""


def record(items: list[Imported], store, *, force: bool = False) -> list[str]:
    """Record every item's canonical spec in the state as last applied; answers the addresses written."""
    clashes = []
    for i in items:
        have = store.get_resource(i.address)
        if have is not None and have.spec != canonical(i.kind, i.name, i.spec) and not force:
            clashes.append(i.address)
    if clashes:
        raise InputError(f"{', '.join(clashes)} already in the state with other settings; "
                         "pass --force to replace what the state holds")
    written = []
    with store.transaction():
        for i in items:
            store.put_resource(i.address, i.kind, i.name, canonical(i.kind, i.name, i.spec))
            written.append(i.address)
    return written


@dataclass(frozen=True, slots=True)
class Recorded:
    written: list[str]  # addresses recorded as last applied
    skipped: list[str]  # one line each: a resource the simulation cannot hold yet, so not recorded


def record_local(items: list[Imported], store, *, force: bool = False) -> Recorded:
    """Into a state of the local simulation: every item also becomes the simulated object that
    apply would have left — the task definition registered under its described revision (so a
    service naming ``api:7`` finds it), the service created and its tasks started — and its spec
    is recorded as last applied, in one transaction.  A last-applied record with nothing in the
    simulation would be a resource that plan calls unchanged, drift reports missing and apply
    never creates.  A service whose cluster (or task definition) the simulation does not hold is
    not recorded at all: plan then creates it, once a Cluster manifest declares its cluster."""
    from ecsctl.backends.local import LocalBackend
    from ecsctl.core.controller.service import cluster_of
    from ecsctl.core.plan.model import Step
    from ecsctl.core.state.ports import TaskDefinitionRevision

    backend = LocalBackend(store)
    world = backend.world
    specs = {i.address: canonical(i.kind, i.name, i.spec) for i in items}
    clashes: dict[str, str] = {}  # address -> how the refusal names it (once)
    for i in items:
        have = store.get_resource(i.address)
        if have is not None and have.spec != specs[i.address]:
            clashes.setdefault(i.address, i.address)
        if i.kind == "TaskDefinition" and i.revision is not None:
            held = world.revision(f"{_family(i)}:{i.revision}")
            if held is not None and held.spec != specs[i.address]:
                clashes[i.address] = f"{i.address} (revision {i.revision} in the simulation)"
    if clashes and not force:
        raise InputError(f"{', '.join(clashes.values())} already in the state with other settings; "
                         "pass --force to replace what the state holds")
    written, skipped, clusters = [], [], set()
    with store.transaction():  # the steps' own commits join it: all or nothing
        world.now()  # start the clock on first use, as apply does
        for i in sorted(items, key=lambda i: i.kind != "TaskDefinition"):  # revisions before the services naming them
            spec = specs[i.address]
            if i.kind == "TaskDefinition":
                family = _family(i)
                number = i.revision
                if number is None:  # a register request: the next revision unless the latest is identical
                    latest = world.revision(f"{family}:{world.latest_revision(family)}")
                    number = latest.revision if latest is not None and latest.status == "ACTIVE" and latest.spec == spec \
                        else world.latest_revision(family) + 1
                held = world.revision(f"{family}:{number}")
                if held is None or held.spec != spec or held.status != "ACTIVE":
                    world.put_revision(TaskDefinitionRevision(family=family, revision=number, spec=spec,
                                                              status="ACTIVE", registered_at=world.now()))
                backend.commit(("put", i.address, i.kind, i.name, spec))
            else:
                cluster = cluster_of(spec)
                record = world.cluster(cluster)
                if record is None or record.status != "ACTIVE":
                    skipped.append(f"{i.address}: cluster {cluster} is not in the simulation; add a Cluster manifest "
                                   f"for it and `ecsctl apply` creates the service")
                    continue
                try:
                    world.resolve_task_definition(spec.get("taskDefinition"), i.address)
                except InputError as exc:
                    skipped.append(f"{exc}; import its describe-task-definition output too, and `ecsctl apply` "
                                   "creates the service")
                    continue
                have = store.get_resource(i.address)
                running = world.state(cluster).services.get(i.name)
                if have is not None and have.spec == spec and running is not None and running.status == "ACTIVE":
                    written.append(i.address)  # already imported, and there
                    continue
                before = have.spec if have is not None else (running.spec if running is not None else None)
                action = "update" if running is not None and running.status == "ACTIVE" else "create"
                backend.apply_step(Step(id=f"import:{i.address}", action=action, address=i.address, kind=i.kind,
                                        name=i.name, spec=spec, before=before if action == "update" else None))
                clusters.add(cluster)
            written.append(i.address)
        if clusters:
            backend.settle(sorted(clusters))  # its tasks start, as after apply
    return Recorded(written, skipped)


def _family(item: Imported) -> str:
    return str(item.spec.get("family") or item.name)


def as_json(items: list[Imported]) -> str:
    return json.dumps([i.manifest() for i in items], indent=2) + "\n"
