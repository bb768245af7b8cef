"""A service's task definition, cluster and target groups must be among the validated documents."""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import DEFAULT_CLUSTER, as_dict, as_list, last_segment, target_group_name


@register
class ServiceTaskDefinitionExists(Rule):
    """A service runs a task definition that ecsctl can see.

    CreateService fails with ``ClientException: TaskDefinition not found.`` when
    the family (or ``family:revision``, or ARN) it names was never registered.
    ecsctl checks the reference against the TaskDefinition documents of the
    same run, so validate the task definition together with the service.

    Bad::

        kind: Service
        spec: {taskDefinition: webb}     # no TaskDefinition 'webb' in the run

    Good::

        kind: Service
        spec: {taskDefinition: web}      # a TaskDefinition document named web
    """

    id = "E3001"
    title = "Service task definition must be among the validated documents"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        ref = spec.get("taskDefinition")
        if not isinstance(ref, str) or not ref:
            yield ("taskDefinition",), "a service needs a taskDefinition (family or family:revision)"
        elif ctx.has_kind("TaskDefinition") and ctx.task_definition(ref) is None:
            family = ref.rsplit("/", 1)[-1].split(":", 1)[0]
            yield ("taskDefinition",), f"task definition '{ref}' is not among the validated documents{ctx.suggest('TaskDefinition', family)}"


@register
class ServiceClusterExists(Rule):
    """A service belongs to a cluster declared in the same run.

    ``cluster`` defaults to ``default``, as in the ECS API; the cluster must be a
    ``Cluster`` document (ECS: ``ClusterNotFoundException: Cluster not found.``).

    Bad::

        spec: {cluster: prodd, ...}

    Good::

        spec: {cluster: prod, ...}       # with a Cluster document named prod
    """

    id = "E3002"
    title = "Service cluster must be among the validated documents"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        ref = spec.get("cluster")
        name = last_segment(ref) if isinstance(ref, str) and ref else DEFAULT_CLUSTER
        if ctx.has_kind("Cluster") and ctx.get("Cluster", name) is None:
            where = ("cluster",) if "cluster" in spec else ()
            hint = " (a service without 'cluster' runs in 'default')" if "cluster" not in spec else ""
            yield where, f"cluster '{name}' is not among the validated documents{ctx.suggest('Cluster', name)}{hint}"


@register
class ServiceTargetGroupsExist(Rule):
    """Every ``loadBalancers[].targetGroupArn`` names a TargetGroup document.

    The value may be a target group ARN (``…:targetgroup/<name>/<id>``) or just
    the name; either way the name must be a ``TargetGroup`` of the run.

    Bad::

        loadBalancers: [{targetGroupArn: web-tg, containerName: web, containerPort: 80}]   # no TargetGroup web-tg

    Good::

        loadBalancers: [{targetGroupArn: web, containerName: web, containerPort: 80}]
    """

    id = "E3003"
    title = "Service target groups must be among the validated documents"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        for i, lb in enumerate(as_list(spec.get("loadBalancers"))):
            ref = as_dict(lb).get("targetGroupArn")
            if isinstance(ref, str) and ref and ctx.has_kind("TargetGroup") and ctx.get("TargetGroup", target_group_name(ref)) is None:
                name = target_group_name(ref)
                yield ("loadBalancers", i, "targetGroupArn"), f"target group '{name}' is not among the validated documents{ctx.suggest('TargetGroup', name)}"


@register
class ReferencesNotChecked(Rule):
    """A reference could not be checked: no document of that kind was validated in this run.

    E3001-E3003 and E6004 check a service's or scheduled task's task definition,
    cluster and target groups against the documents of the same run.  When a run
    holds no document of that kind at all (a pre-commit hook validating only the
    changed ``web.yaml``, say), there is nothing to check against: ecsctl says so
    with this warning instead of reporting an error for a reference that may be
    fine.  Validate the whole stack (``ecsctl validate manifests/``) to check
    every reference; ``--strict`` turns this warning into an error.

    Bad (``ecsctl validate web.yaml``, the cluster lives in ``cluster.yaml``)::

        kind: Service
        spec: {cluster: prod, taskDefinition: web}   # W3020: cluster 'prod' not checked

    Good::

        ecsctl validate manifests/                   # cluster.yaml is validated too
    """

    id = "W3020"
    title = "Reference not checked: no document of that kind in this run"
    kinds = ("Service", "ScheduledTask")
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        where: tuple = ("target",) if doc.kind == "ScheduledTask" else ()
        target = as_dict(spec.get("target")) if doc.kind == "ScheduledTask" else spec
        if isinstance(target.get("taskDefinition"), str) and not ctx.has_kind("TaskDefinition"):
            yield where + ("taskDefinition",), _unchecked("task definition", target["taskDefinition"], "TaskDefinition")
        if not ctx.has_kind("Cluster"):
            ref = target.get("cluster")
            name = last_segment(ref) if isinstance(ref, str) and ref else DEFAULT_CLUSTER
            yield (where + ("cluster",) if "cluster" in target else where), _unchecked("cluster", name, "Cluster")
        if doc.kind == "Service" and not ctx.has_kind("TargetGroup"):
            for i, lb in enumerate(as_list(spec.get("loadBalancers"))):
                ref = as_dict(lb).get("targetGroupArn")
                if isinstance(ref, str) and ref:
                    yield ("loadBalancers", i, "targetGroupArn"), _unchecked("target group", target_group_name(ref), "TargetGroup")


def _unchecked(what: str, name: str, kind: str) -> str:
    return (f"{what} '{name}' not checked: none of the files validated declares a {kind} (validate this file "
            f"with the rest of its stack; if the stack has none, declare the {what} in a {kind} document)")
