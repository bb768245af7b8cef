"""Log configuration."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import label

TD = ("TaskDefinition",)
AWSLOGS_REQUIRED = ("awslogs-region", "awslogs-group")


def _logs(spec):
    for i, c in containers(spec):
        log = c.get("logConfiguration")
        if isinstance(log, dict):
            yield i, c, log


@register
class AwslogsOptions(Rule):
    """The ``awslogs`` driver needs the ``awslogs-group`` and ``awslogs-region`` options.

    ECS: ``Log driver awslogs requires options: awslogs-region, awslogs-group``
    (klothoplatform/klotho#892); cfn-lint E3046 (``logging_configuration.json``)
    requires both too.

    Bad:   logConfiguration: {logDriver: awslogs, options: {awslogs-group: /ecs/web}}
    Good:  logConfiguration: {logDriver: awslogs, options: {awslogs-group: /ecs/web, awslogs-region: eu-west-1}}
    """

    id = "E2095"
    title = "awslogs has group and region options"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c, log in _logs(spec):
            if log.get("logDriver") != "awslogs":
                continue
            options = log.get("options")
            options = options if isinstance(options, dict) else {}
            missing = [k for k in AWSLOGS_REQUIRED if not options.get(k)]
            if missing:
                yield ("containerDefinitions", i, "logConfiguration"), (
                    f"{label(i, c)}: Log driver awslogs requires options: {', '.join(AWSLOGS_REQUIRED)} (missing {', '.join(missing)})"
                )


@register
class FirelensRouter(Rule):
    """The ``awsfirelens`` log driver needs a log-router container with ``firelensConfiguration``.

    FireLens routes logs through a Fluent Bit or Fluentd container declared in
    the same task (2023 guide ``using_firelens.md``).

    Bad:   [{name: app, logConfiguration: {logDriver: awsfirelens}}]
    Good:  [{name: log_router, firelensConfiguration: {type: fluentbit}}, {name: app, logConfiguration: {logDriver: awsfirelens}}]
    """

    id = "E2096"
    title = "awsfirelens needs a FireLens container"
    kinds = TD

    def check(self, spec, doc, ctx):
        users = [(i, c) for i, c, log in _logs(spec) if log.get("logDriver") == "awsfirelens"]
        if not users or any(isinstance(c.get("firelensConfiguration"), dict) for _, c in containers(spec)):
            return
        for i, c in users:
            yield ("containerDefinitions", i, "logConfiguration", "logDriver"), (
                f"{label(i, c)}: log driver awsfirelens needs a container with firelensConfiguration in this task definition"
            )
