"""ECS manifests as Kubernetes objects: one file per service or scheduled task.

    >>> from ecsctl.core.render.kubernetes import Source, Stack, render_kubernetes
    >>> td = Source("TaskDefinition", "web", {"containerDefinitions": [{"name": "web", "image": "nginx:1.27", "memory": 256}]})
    >>> svc = Source("Service", "web", {"cluster": "prod", "taskDefinition": "web", "desiredCount": 2})
    >>> rendering = render_kubernetes(Stack([td, svc]))
    >>> [(f.path, [o["kind"] for o in f.objects]) for f in rendering.files]
    [('web.yaml', ['Deployment'])]

Every field without an exact equivalent carries a ``#`` comment in the file's text; what
cannot be expressed at all (a ``cron()`` with ``L``, a one-time ``at()``) is a
:class:`Problem`, and the caller refuses the run.  Objects target Kubernetes 1.29 or later
(native sidecar containers); no namespace is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecsctl.core.render.kubernetes.stack import Source, Stack
from ecsctl.core.render.kubernetes.workloads import Problem, Renderer, Workload
from ecsctl.core.render.kubernetes.yaml_text import dump_all, plain

MIN_KUBERNETES = "1.29"

__all__ = ["MIN_KUBERNETES", "Problem", "RenderedFile", "Rendering", "Source", "Stack", "render_kubernetes"]


@dataclass
class RenderedFile:
    path: str  # a file name: <the workload's Kubernetes name>.yaml, unique as that name is
    kind: str  # the ECS kind it comes from
    name: str  # the ECS name
    objects: list  # plain dicts, for validators
    text: str  # the YAML, with its comments
    needs: list = field(default_factory=list)  # Secrets / ConfigMaps to create first


@dataclass
class Rendering:
    files: list[RenderedFile]
    problems: list[Problem]


def _header(workload: Workload) -> list[str]:
    lines = list(workload.header) + [
        f"Rendered by `ecsctl render --to kubernetes` for Kubernetes {MIN_KUBERNETES} or later (native sidecar containers).",
        "No namespace is set: apply with `kubectl apply -n NAMESPACE -f FILE`.",
        "Comments mark what has no exact Kubernetes equivalent. Secrets are referenced by name; no value is written.",
    ]
    if workload.needs:
        lines.append("Create before applying:")
        lines += [f"  - {need}" for need in workload.needs]
    return lines


def render_kubernetes(stack: Stack) -> Rendering:
    """Every service and scheduled task of ``stack``, one :class:`RenderedFile` each (in manifest order)."""
    renderer = Renderer(stack)
    files: list[RenderedFile] = []
    for source in stack.sources:
        if source.kind == "Service":
            workload = renderer.service(source)
        elif source.kind == "ScheduledTask":
            workload = renderer.scheduled_task(source)
        else:
            continue
        if workload is None:
            continue
        files.append(RenderedFile(f"{workload.kube_name}.yaml", workload.kind, workload.name, [plain(o) for o in workload.objects],
                                  dump_all(workload.objects, _header(workload)), list(workload.needs)))
    return Rendering(files, renderer.problems)
