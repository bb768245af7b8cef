"""Task-level settings that refer to other parts of the definition or to the platform:
placement constraints, App Mesh proxy, inference accelerators, Windows limits."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.scheduling import cql
from ecsctl.core.rules.taskdef.facts import dicts, is_windows, label, names, text

TD = ("TaskDefinition",)
MAX_PLACEMENT_CONSTRAINTS = 10


@register
class TaskPlacementConstraints(Rule):
    """Task-definition placement constraints are ``memberOf`` with a Cluster Query Language ``expression``, at most 10.

    ``distinctInstance`` is accepted only by RunTask/CreateService, not in a
    task definition; the 10-constraint limit includes those given at run time
    (API ``TaskDefinitionPlacementConstraint``).

    Bad:   placementConstraints: [{type: distinctInstance}]
    Good:  placementConstraints: [{type: memberOf, expression: "attribute:ecs.instance-type =~ t3.*"}]
    """

    id = "E2100"
    title = "Task placement constraints are memberOf with an expression"
    kinds = TD

    def check(self, spec, doc, ctx):
        constraints = list(dicts(spec, "placementConstraints"))
        if len(constraints) > MAX_PLACEMENT_CONSTRAINTS:
            yield ("placementConstraints",), f"{len(constraints)} placement constraints given; at most {MAX_PLACEMENT_CONSTRAINTS} are allowed"
        for j, pc in constraints:
            kind = pc.get("type")
            if kind is not None and kind != "memberOf":
                yield ("placementConstraints", j, "type"), f"placement constraint type {kind!r} is not allowed in a task definition (only memberOf)"
            elif not pc.get("expression"):
                yield ("placementConstraints", j), "a memberOf placement constraint needs an expression"
            elif isinstance(pc["expression"], str):
                error = cql.check(pc["expression"])  # as a service's (E3011): ECS refuses what it cannot parse
                if error is not None:
                    yield ("placementConstraints", j, "expression"), f"invalid expression at column {error.column}: {error.message}"


@register
class ProxyContainerExists(Rule):
    """``proxyConfiguration.containerName`` names a container of the task (the App Mesh proxy).

    Bad:   proxyConfiguration: {type: APPMESH, containerName: envoy}   # no container 'envoy'
    Good:  add the envoy container, or drop proxyConfiguration
    """

    id = "E2101"
    title = "proxyConfiguration names a container"
    kinds = TD

    def check(self, spec, doc, ctx):
        proxy = spec.get("proxyConfiguration")
        name = proxy.get("containerName") if isinstance(proxy, dict) else None
        if isinstance(name, str) and name not in names(spec):
            yield ("proxyConfiguration", "containerName"), f"proxyConfiguration containerName '{name}' is not a container in this task definition"


@register
class InferenceAcceleratorDeclared(Rule):
    """An ``InferenceAccelerator`` resource requirement names a declared ``inferenceAccelerators`` deviceName.

    Bad:   resourceRequirements: [{type: InferenceAccelerator, value: device_1}]   # no inferenceAccelerators
    Good:  inferenceAccelerators: [{deviceName: device_1, deviceType: eia2.medium}]
    """

    id = "E2102"
    title = "InferenceAccelerator requirements name a declared device"
    kinds = TD

    def check(self, spec, doc, ctx):
        devices = None
        for i, c in containers(spec):
            for j, r in dicts(c, "resourceRequirements"):
                if r.get("type") != "InferenceAccelerator":
                    continue
                if devices is None:
                    devices = {text(d.get("deviceName")) for _, d in dicts(spec, "inferenceAccelerators")}
                if text(r.get("value")) not in devices:
                    yield ("containerDefinitions", i, "resourceRequirements", j, "value"), (
                        f"{label(i, c)}: inference accelerator '{r.get('value')}' is not declared in inferenceAccelerators"
                    )


@register
class WindowsNamespaces(Rule):
    """``ipcMode`` and ``pidMode`` are not supported for Windows containers.

    Source: 2023 guide ``task_definition_parameters.md`` (IPC mode, PID mode).

    Bad:   runtimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2019_CORE}   ipcMode: host
    Good:  runtimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2019_CORE}
    """

    id = "E2103"
    title = "No ipcMode or pidMode on Windows"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_windows(spec):
            return
        for key in ("ipcMode", "pidMode"):
            if spec.get(key) is not None:
                yield (key,), f"{key} is not supported for Windows containers"
