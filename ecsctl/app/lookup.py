"""Finding one object of the state by any name a user may have for it (``get``, ``describe``).

The identifiers are the ones the acting commands take, and the ones ECS prints:

    clusters   name, cluster ARN (``arn:aws:ecs:…:cluster/prod``)
    instances  container-instance id, its ARN, its EC2 id (``i-…``), a unique id prefix (6+, ``ids.PREFIX_MIN``)
    taskdefs   family (every revision), ``family:revision``, task-definition ARN
    services   name, ``cluster/name``, service ARN (``…:service/prod/web`` or ``…:service/web``)
    tasks      task id, its ARN, a unique id prefix (6+)
    targets    target group name or ARN (``…:targetgroup/web/6d0e…``)

An identifier that matches nothing is an ``InputError`` (exit 1) naming the kind, as
``kubectl get`` reports ``services "web" not found``; an ambiguous prefix is one too.
"""

from __future__ import annotations

from ecsctl.core.controller.ids import PREFIX_MIN, short_prefix
from ecsctl.errors import InputError

SINGULAR = {"clusters": "cluster", "instances": "container instance", "taskdefs": "task definition",
            "services": "service", "tasks": "task", "targets": "target group"}


def _resource(ident: str) -> str:
    """The resource part of an ARN (``cluster/prod``), or the text itself."""
    text = str(ident).strip()
    if text.startswith("arn:"):
        parts = text.split(":", 5)
        return parts[5] if len(parts) == 6 else ""
    return text


def _after(resource: str, *types: str) -> str:
    """``cluster/prod`` -> ``prod`` when the resource type is one of ``types``."""
    head, sep, rest = resource.partition("/")
    return rest if sep and head in types else resource


def not_found(kind: str, ident: str, cluster: str | None = None) -> InputError:
    where = f" in cluster {cluster}" if cluster else ""
    short = short_prefix(str(ident).strip()) if kind in ("tasks", "instances") else ""
    return InputError(f'{SINGULAR[kind]} "{ident}" not found{where}' + (short or f" (`ecsctl get {kind}` lists them)"))


def select(store, kind: str, ident: str, *, cluster: str | None = None) -> list:
    """The records ``ident`` names (several for a family or a service name in two clusters)."""
    found = _FINDERS[kind](store, str(ident).strip(), cluster)
    if not found:
        raise not_found(kind, ident, cluster)
    return found


def one(store, kind: str, ident: str, *, cluster: str | None = None, active: bool = False):
    """Exactly one record: a service name in two clusters needs ``cluster``; a family is its latest
    revision.  ``active``: leave out INACTIVE records (a deleted service the state still lists)."""
    found = select(store, kind, ident, cluster=cluster)
    if active:
        found = [r for r in found if getattr(r, "status", "") != "INACTIVE"]
        if not found:
            raise not_found(kind, ident, cluster)
    if kind == "taskdefs":
        return max(found, key=lambda r: r.revision)
    if len(found) > 1:
        where = ", ".join(sorted(getattr(r, "cluster", "?") for r in found))
        raise InputError(f'{SINGULAR[kind]} "{ident}" exists in clusters {where}: choose one with --cluster '
                         f"or name it cluster/{ident}")
    return found[0]


def keys_of(kind: str, records: list) -> set[tuple]:
    """The row keys of ``records`` (see ``app.get._row_key``)."""
    if kind == "taskdefs":
        return {(r.family, r.revision) for r in records}
    if kind == "services":
        return {(r.cluster, r.name) for r in records}
    if kind == "targets":
        return {(r,) for r in records}
    if kind == "clusters":
        return {(r.name,) for r in records}
    return {(r.id,) for r in records}


def _clusters(store, ident: str, cluster: str | None) -> list:
    from ecsctl.core.state.ports import Cluster

    found = store.get(Cluster, _after(_resource(ident), "cluster"))
    return [found] if found is not None else []


def _instances(store, ident: str, cluster: str | None) -> list:
    from ecsctl.core.controller.ids import ec2_instance_id
    from ecsctl.core.state.ports import ContainerInstance

    text = _resource(ident).rsplit("/", 1)[-1]  # container-instance/[cluster/]id
    every = [i for i in store.find(ContainerInstance) if cluster is None or i.cluster == cluster]
    exact = [i for i in every if i.id == text]
    if exact or not text:
        return exact
    if text.startswith("i-"):
        return [i for i in every if ec2_instance_id(i.id) == text or i.attributes.get("ec2InstanceId") == text]
    matches = [i for i in every if len(text) >= PREFIX_MIN and i.id.startswith(text)]
    if len(matches) > 1:
        raise InputError(f"container instance id prefix {text!r} is ambiguous: it matches {len(matches)} instances")
    return matches


def _taskdefs(store, ident: str, cluster: str | None) -> list:
    from ecsctl.core.state.ports import TaskDefinitionRevision

    text = _after(_resource(ident), "task-definition")
    family, sep, revision = text.partition(":")
    if sep:
        if not revision.isdigit():
            return []
        found = store.get(TaskDefinitionRevision, family, int(revision))
        return [found] if found is not None else []
    return store.find(TaskDefinitionRevision, family=family)


def _services(store, ident: str, cluster: str | None) -> list:
    from ecsctl.core.state.ports import Service

    text = _after(_resource(ident), "service")
    if "/" in text:  # cluster/name
        in_cluster, _, text = text.rpartition("/")
        if cluster and cluster != in_cluster:
            return []
        cluster = in_cluster
    where = {"name": text, **({"cluster": cluster} if cluster else {})}
    return sorted(store.find(Service, **where), key=lambda s: s.cluster)


def _tasks(store, ident: str, cluster: str | None) -> list:
    from ecsctl.core.state.ports import Task

    text = _resource(ident).rsplit("/", 1)[-1]  # task/[cluster/]id
    found = store.get(Task, text) if text else None
    if found is None and len(text) >= PREFIX_MIN:
        matches = [t for t in store.find(Task, **({"cluster": cluster} if cluster else {})) if t.id.startswith(text)]
        if len(matches) > 1:
            raise InputError(f"task id prefix {text!r} is ambiguous: it matches {len(matches)} tasks")
        found = matches[0] if matches else None
    if found is None or (cluster and found.cluster != cluster):
        return []
    return [found]


def _target_groups(store, ident: str, cluster: str | None) -> list:
    from ecsctl.core.rules.service.refs import target_group_name
    from ecsctl.core.state.ports import CatalogueEntry, TargetRegistration

    name = target_group_name(ident)
    if store.get(CatalogueEntry, "TargetGroup", name) is None and not store.find(TargetRegistration, target_group=name):
        return []
    return [name]


_FINDERS = {
    "clusters": _clusters,
    "instances": _instances,
    "taskdefs": _taskdefs,
    "services": _services,
    "tasks": _tasks,
    "targets": _target_groups,
}
