"""A scheduled task's ``target.overrides`` applied to its task definition, as RunTask applies them.

EventBridge starts the task with RunTask and the target's ``overrides`` (a TaskOverride,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskOverride.html); the job
template must run what that task runs.  Per ContainerOverride
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerOverride.html):
``command`` replaces the container's command; ``environment`` adds variables and replaces
those of the same name; ``environmentFiles`` are used "instead of the value from the
container definition"; ``cpu``, ``memory``, ``memoryReservation`` and GPU
``resourceRequirements`` replace the container's, task-level ``cpu``/``memory`` the task's
(``units.overridden``, which the simulation sizes tasks with); ``taskRoleArn``,
``executionRoleArn`` and ``ephemeralStorage`` replace the task definition's.

    >>> td = {"taskRoleArn": "arn:aws:iam::1:role/a", "containerDefinitions": [
    ...     {"name": "job", "command": ["run"], "environment": [{"name": "MODE", "value": "slow"}, {"name": "KEEP", "value": "1"}]}]}
    >>> spec, notes = run_task_definition(td, {"taskRoleArn": "arn:aws:iam::1:role/b", "containerOverrides": [
    ...     {"name": "job", "command": ["run", "--fast"], "environment": [{"name": "MODE", "value": "fast"}, {"name": "NEW", "value": "2"}]}]})
    >>> spec["taskRoleArn"], spec["containerDefinitions"][0]["command"]
    ('arn:aws:iam::1:role/b', ['run', '--fast'])
    >>> [(e["name"], e["value"]) for e in spec["containerDefinitions"][0]["environment"]]
    [('MODE', 'fast'), ('KEEP', '1'), ('NEW', '2')]
"""

from __future__ import annotations

from typing import Any

from ecsctl.core.rules.service.refs import as_dict, as_list
from ecsctl.core.units import overridden

TASK_FIELDS = ("taskRoleArn", "executionRoleArn", "ephemeralStorage")
SIZED = ("cpu", "memory", "containerOverrides")
CONTAINER_FIELDS = ("name", "command", "environment", "environmentFiles", "cpu", "memory", "memoryReservation", "resourceRequirements")


def merged_environment(base: Any, extra: Any) -> list[dict]:
    """``base`` with each variable of ``extra`` in place of the one of its name, or added at the end."""
    merged = {as_dict(e).get("name"): as_dict(e) for e in as_list(base)}
    for item in as_list(extra):
        if isinstance(item, dict):
            merged[item.get("name")] = item
    return list(merged.values())


def _container(c: dict, override: dict) -> dict:
    c = dict(c)
    if isinstance(override.get("command"), list):
        c["command"] = list(override["command"])
    if override.get("environment"):
        c["environment"] = merged_environment(c.get("environment"), override["environment"])
    if override.get("environmentFiles"):
        c["environmentFiles"] = list(override["environmentFiles"])
    return c


def run_task_definition(td: dict, overrides: Any) -> tuple[dict, list[str]]:
    """``td`` as RunTask runs it with ``overrides``, and notes on the overrides that have no
    Kubernetes equivalent.  Containers no override names are left as they are (E-level in
    validate: "Override for container named X is not a container in the TaskDefinition.")."""
    overrides = as_dict(overrides)
    if not overrides:
        return td, []
    spec = dict(overridden(td, overrides))
    for key in TASK_FIELDS:
        if overrides.get(key):
            spec[key] = overrides[key]
    by_name = {o.get("name"): o for o in as_list(overrides.get("containerOverrides")) if isinstance(o, dict)}
    spec["containerDefinitions"] = [_container(c, by_name[c.get("name")]) if isinstance(c, dict) and c.get("name") in by_name else c
                                    for c in as_list(spec.get("containerDefinitions"))]
    notes = []
    if overrides.get("inferenceAcceleratorOverrides"):
        notes.append("overrides.inferenceAcceleratorOverrides (RunTask): no equivalent")
    for name, o in by_name.items():
        for item in as_list(o.get("resourceRequirements")):
            if as_dict(item).get("type") != "GPU":
                notes.append(f"overrides of container {name}: resourceRequirements {as_dict(item).get('type')}: no equivalent")
        for key in o:
            if key not in CONTAINER_FIELDS:
                notes.append(f"overrides of container {name}: {key}: no Kubernetes equivalent; not rendered")
    for key in overrides:
        if key not in (*TASK_FIELDS, *SIZED, "inferenceAcceleratorOverrides"):
            notes.append(f"overrides.{key}: no Kubernetes equivalent; not rendered")
    return spec, notes
