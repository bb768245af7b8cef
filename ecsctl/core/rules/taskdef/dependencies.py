"""Container start-up ordering: ``dependsOn``."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import dicts, find_cycle, is_essential, label, text

TD = ("TaskDefinition",)


def _dependencies(spec):
    """(container index, container, dependency index, dependency) for every dependsOn item."""
    for i, c in containers(spec):
        for j, d in dicts(c, "dependsOn"):
            yield i, c, j, d


def _by_name(spec) -> dict:
    out: dict = {}
    for _, c in containers(spec):
        if isinstance(c.get("name"), str):
            out.setdefault(c["name"], c)
    return out


@register
class DependencyExists(Rule):
    """``dependsOn[].containerName`` names a container of the task definition.

    ECS answers ``Cannot depend on container + 'X' because it does not exist``
    (dagster-io/dagster#6926).  ecsctl keeps that wording but drops the stray
    ``+``, which is a string-concatenation slip in AWS's message: a reader
    would take it for part of the name, and searching for "Cannot depend on
    container" still finds the AWS reports.

    Bad:   [{name: web, dependsOn: [{containerName: migrate, condition: SUCCESS}]}]   # no 'migrate'
    Good:  add a container named 'migrate' (essential: false)
    """

    id = "E2080"
    title = "dependsOn names an existing container"
    kinds = TD

    def check(self, spec, doc, ctx):
        known = None
        for i, c, j, d in _dependencies(spec):
            target = d.get("containerName")
            if not isinstance(target, str):
                continue
            if known is None:
                known = _by_name(spec)
            if target not in known:
                yield ("containerDefinitions", i, "dependsOn", j, "containerName"), (
                    f"{label(i, c)}: Cannot depend on container '{target}' because it does not exist"
                )


@register
class SelfDependency(Rule):
    """A container cannot depend on itself.

    Bad:   [{name: web, dependsOn: [{containerName: web, condition: START}]}]
    Good:  [{name: web, dependsOn: [{containerName: proxy, condition: START}]}, {name: proxy, ...}]
    """

    id = "E2081"
    title = "A container does not depend on itself"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c, j, d in _dependencies(spec):
            if d.get("containerName") is not None and d.get("containerName") == c.get("name"):
                yield ("containerDefinitions", i, "dependsOn", j, "containerName"), f"{label(i, c)}: a container cannot depend on itself"


@register
class DependencyCycle(Rule):
    """``dependsOn`` may not form a cycle.

    ECS does not document this check (its text is unknown), but a cycle can
    never start: every container waits for another.  ECS rejects link cycles
    the same way.

    Bad:   [{name: a, dependsOn: [{containerName: b, condition: START}]}, {name: b, dependsOn: [{containerName: a, condition: START}]}]
    Good:  [{name: a, dependsOn: [{containerName: b, condition: START}]}, {name: b}]
    """

    id = "E2082"
    title = "dependsOn has no cycle"
    kinds = TD

    def check(self, spec, doc, ctx):
        graph: dict[str, list[str]] = {}
        index: dict[str, int] = {}
        edges = False
        for i, c in containers(spec):
            name = c.get("name")
            if not isinstance(name, str):
                continue
            index.setdefault(name, i)
            targets = graph.setdefault(name, [])
            for _, d in dicts(c, "dependsOn"):
                target = d.get("containerName")
                if isinstance(target, str) and target != name:
                    targets.append(target)
                    edges = True
        if not edges:
            return
        cycle = find_cycle(graph)
        if cycle:
            yield ("containerDefinitions", index[cycle[0]], "dependsOn"), f"container dependencies should not have a cycle ({' -> '.join(cycle)})"


@register
class HealthyNeedsHealthCheck(Rule):
    """A ``HEALTHY`` dependency needs a ``healthCheck`` on the container it waits for.

    The condition is met when the dependency's container health check passes
    (2023 guide ``task_definition_parameters.md``); without one the condition
    is never met and the dependent container never starts.

    Bad:   [{name: web, dependsOn: [{containerName: db, condition: HEALTHY}]}, {name: db}]
    Good:  [..., {name: db, healthCheck: {command: [CMD-SHELL, pg_isready]}}]
    """

    id = "E2083"
    title = "HEALTHY dependencies have a health check"
    kinds = TD

    def check(self, spec, doc, ctx):
        known = None
        for i, c, j, d in _dependencies(spec):
            if d.get("condition") != "HEALTHY":
                continue
            if known is None:
                known = _by_name(spec)
            target = known.get(text(d.get("containerName")))
            if target is not None and not isinstance(target.get("healthCheck"), dict):
                yield ("containerDefinitions", i, "dependsOn", j, "condition"), (
                    f"{label(i, c)}: condition HEALTHY needs a healthCheck on container '{d.get('containerName')}'"
                )


@register
class CompletionOfEssential(Rule):
    """A ``SUCCESS`` or ``COMPLETE`` dependency cannot point at an essential container.

    An essential container that exits stops the task.  ECS: ``A dependency
    container with SUCCESS or COMPLETE condition cannot be an essential
    container`` (boto/boto3#2436).

    Bad:   [{name: web, dependsOn: [{containerName: migrate, condition: SUCCESS}]}, {name: migrate}]
    Good:  [..., {name: migrate, essential: false}]
    """

    id = "E2084"
    title = "SUCCESS/COMPLETE dependencies are not essential"
    kinds = TD

    def check(self, spec, doc, ctx):
        known = None
        for i, c, j, d in _dependencies(spec):
            if d.get("condition") not in ("SUCCESS", "COMPLETE"):
                continue
            if known is None:
                known = _by_name(spec)
            target = known.get(text(d.get("containerName")))
            if target is not None and is_essential(target):
                yield ("containerDefinitions", i, "dependsOn", j), (
                    f"{label(i, c)}: A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"
                    f" ('{d.get('containerName')}')"
                )
