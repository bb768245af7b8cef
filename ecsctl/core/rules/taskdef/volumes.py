"""Volumes and how containers mount them."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import dicts, label, names

TD = ("TaskDefinition",)


def _volume_name(v) -> str:
    return f"volume '{v.get('name')}'"


@register
class UniqueVolumeNames(Rule):
    """Volume names are unique within a task definition.

    ``mountPoints[].sourceVolume`` refers to volumes by name.

    Bad:   volumes: [{name: data}, {name: data}]
    Good:  volumes: [{name: data}, {name: cache}]
    """

    id = "E2070"
    title = "Volume names are unique"
    kinds = TD

    def check(self, spec, doc, ctx):
        seen: set = set()
        for j, v in dicts(spec, "volumes"):
            name = v.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                yield ("volumes", j, "name"), f"volume name '{name}' is used more than once"
            seen.add(name)


@register
class MountPointVolumeDeclared(Rule):
    """``mountPoints[].sourceVolume`` names a volume declared in ``volumes``.

    Source: 2023 guide ``task_definition_parameters.md`` (mountPoints: "must
    match the name of a volume"); the exact ECS message is not public.

    Bad:   volumes: []   mountPoints: [{sourceVolume: data, containerPath: /data}]
    Good:  volumes: [{name: data}]   mountPoints: [{sourceVolume: data, containerPath: /data}]
    """

    id = "E2071"
    title = "mountPoints refer to declared volumes"
    kinds = TD

    def check(self, spec, doc, ctx):
        declared = None
        for i, c in containers(spec):
            for j, m in dicts(c, "mountPoints"):
                source = m.get("sourceVolume")
                if not isinstance(source, str):
                    continue
                if declared is None:
                    declared = {v.get("name") for _, v in dicts(spec, "volumes") if isinstance(v.get("name"), str)}
                if source not in declared:
                    yield ("containerDefinitions", i, "mountPoints", j, "sourceVolume"), (
                        f"{label(i, c)}: mount point sourceVolume '{source}' is not a volume of this task definition"
                    )


@register
class VolumesFromContainer(Rule):
    """``volumesFrom[].sourceContainer`` names another container of the task.

    Bad:   [{name: web, volumesFrom: [{sourceContainer: web}]}]
    Good:  [{name: web, volumesFrom: [{sourceContainer: data}]}, {name: data, ...}]
    """

    id = "E2072"
    title = "volumesFrom refers to another container"
    kinds = TD

    def check(self, spec, doc, ctx):
        known = None
        for i, c in containers(spec):
            for j, v in dicts(c, "volumesFrom"):
                source = v.get("sourceContainer")
                if not isinstance(source, str):
                    continue
                if known is None:
                    known = names(spec)
                where = ("containerDefinitions", i, "volumesFrom", j, "sourceContainer")
                if source == c.get("name"):
                    yield where, f"{label(i, c)}: volumesFrom cannot name the container itself"
                elif source not in known:
                    yield where, f"{label(i, c)}: volumesFrom sourceContainer '{source}' is not a container in this task definition"


def _efs(spec):
    for j, v in dicts(spec, "volumes"):
        efs = v.get("efsVolumeConfiguration")
        if isinstance(efs, dict):
            auth = efs.get("authorizationConfig")
            yield j, v, efs, auth if isinstance(auth, dict) else {}


@register
class EfsIamNeedsTransitEncryption(Rule):
    """EFS IAM authorisation needs transit encryption.

    ``authorizationConfig.iam: ENABLED`` requires ``transitEncryption: ENABLED``
    (2023 guide ``efs-volumes.md``).

    Bad:   efsVolumeConfiguration: {fileSystemId: fs-1, authorizationConfig: {iam: ENABLED}}
    Good:  efsVolumeConfiguration: {fileSystemId: fs-1, transitEncryption: ENABLED, authorizationConfig: {iam: ENABLED}}
    """

    id = "E2073"
    title = "EFS iam ENABLED needs transitEncryption ENABLED"
    kinds = TD

    def check(self, spec, doc, ctx):
        for j, v, efs, auth in _efs(spec):
            if auth.get("iam") == "ENABLED" and efs.get("transitEncryption") != "ENABLED":
                yield ("volumes", j, "efsVolumeConfiguration", "transitEncryption"), (
                    f"{_volume_name(v)}: transitEncryption must be ENABLED when authorizationConfig.iam is ENABLED"
                )


@register
class EfsAccessPoint(Rule):
    """An EFS access point needs transit encryption and no ``rootDirectory`` (other than ``/``).

    The access point fixes the directory; ``rootDirectory`` must be omitted or
    ``/`` and ``transitEncryption`` ENABLED (2023 guide ``efs-volumes.md``).

    Bad:   {fileSystemId: fs-1, rootDirectory: /data, authorizationConfig: {accessPointId: fsap-1}}
    Good:  {fileSystemId: fs-1, transitEncryption: ENABLED, authorizationConfig: {accessPointId: fsap-1}}
    """

    id = "E2074"
    title = "EFS access points need transit encryption and the root directory"
    kinds = TD

    def check(self, spec, doc, ctx):
        for j, v, efs, auth in _efs(spec):
            if not auth.get("accessPointId"):
                continue
            if efs.get("transitEncryption") != "ENABLED":
                yield ("volumes", j, "efsVolumeConfiguration", "transitEncryption"), (
                    f"{_volume_name(v)}: transitEncryption must be ENABLED when an accessPointId is given"
                )
            root = efs.get("rootDirectory")
            if root not in (None, "", "/"):
                yield ("volumes", j, "efsVolumeConfiguration", "rootDirectory"), (
                    f"{_volume_name(v)}: rootDirectory must be omitted or '/' when an accessPointId is given, not {root!r}"
                )


@register
class DockerVolumeAutoprovision(Rule):
    """``autoprovision`` applies only to ``scope: shared`` Docker volumes.

    Task-scoped volumes are always created at task start and removed at stop
    (2023 guide ``docker-volumes.md``).

    Bad:   dockerVolumeConfiguration: {scope: task, autoprovision: true}
    Good:  dockerVolumeConfiguration: {scope: shared, autoprovision: true}
    """

    id = "E2075"
    title = "Docker volume autoprovision only with scope shared"
    kinds = TD

    def check(self, spec, doc, ctx):
        for j, v in dicts(spec, "volumes"):
            config = v.get("dockerVolumeConfiguration")
            if isinstance(config, dict) and config.get("autoprovision") is True and config.get("scope", "task") != "shared":
                yield ("volumes", j, "dockerVolumeConfiguration", "autoprovision"), (
                    f"{_volume_name(v)}: autoprovision is only allowed when scope is 'shared'"
                )
