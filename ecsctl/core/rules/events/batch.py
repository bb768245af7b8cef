"""The ``x-ecsctl`` batch extension (when a standalone task's essential container exits)."""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import task_definition_spec


@register
class BatchExtensionValid(Rule):
    """``x-ecsctl`` (``runFor``, ``exitCode``, ``container``) must make sense (error: the simulation cannot run it).

    ``x-ecsctl`` is ecsctl's own field, never sent to AWS, so this is not an ECS refusal:
    it is an error because the simulation cannot model the task otherwise.  ``runFor`` is
    a duration (``90s``, ``10m``, ``2h``, ``1d``) or seconds; ``exitCode`` an exit status
    0-255; ``container`` must name an essential container of the task definition (on a
    ScheduledTask target: of the target's task definition), because only an essential
    container's exit stops the task ("Task lifecycle",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).

    Bad::

        x-ecsctl: {runFor: ten minutes, container: log-router}   # log-router is not essential

    Good::

        x-ecsctl: {runFor: 10m, exitCode: 0, container: report}
    """

    id = "E6007"
    title = "x-ecsctl (runFor, exitCode, container) must be valid"
    kinds = ("TaskDefinition", "ScheduledTask")

    def check(self, spec, doc, ctx):
        from ecsctl.core.events.batch import extension_issues
        from ecsctl.core.extensions import EXTENSION

        if doc.kind == "TaskDefinition":
            where, value, td = (EXTENSION,), spec.get(EXTENSION), spec
        else:
            target = spec.get("target") if isinstance(spec.get("target"), dict) else {}
            where, value = ("target", EXTENSION), target.get(EXTENSION)
            td = task_definition_spec(target.get("taskDefinition"), ctx)
        if value is None:
            return
        for path, message in extension_issues(value, td):
            yield where + tuple(path), message


@register
class BatchExtensionOnServiceTasks(Rule):
    """A service's task definition with ``x-ecsctl.runFor`` runs its service tasks forever (warning).

    ``runFor`` finishes *standalone* tasks (scheduled, event-triggered, ``run-task``).  A
    service replaces a task whose essential container exits, so in ECS a service task
    that exits by design restarts over and over; the simulation ignores ``runFor`` for
    service tasks.  See
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html.

    Bad::

        kind: Service
        spec: {taskDefinition: report}        # report has x-ecsctl: {runFor: 10m}

    Good::

        kind: ScheduledTask
        spec: {scheduleExpression: cron(0 2 * * ? *), target: {taskDefinition: report}}
    """

    id = "W6008"
    title = "x-ecsctl.runFor on a task definition that a service runs is ignored"
    kinds = ("Service",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        from ecsctl.core.extensions import extension

        td = task_definition_spec(spec.get("taskDefinition"), ctx)
        if td is not None and "runFor" in extension(td):
            yield ("taskDefinition",), (f"task definition '{spec.get('taskDefinition')}' has x-ecsctl.runFor: "
                                        "its tasks would exit and be replaced by the service; runFor only "
                                        "finishes standalone tasks")
