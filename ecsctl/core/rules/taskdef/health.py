"""Container health checks."""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import integer, label

TD = ("TaskDefinition",)
# field -> (minimum, maximum, default); 2023 guide task_definition_parameters.md (Health check)
RANGES = {"interval": (5, 300, 30), "timeout": (2, 60, 5), "retries": (1, 10, 3), "startPeriod": (0, 300, None)}


def _checks(spec):
    for i, c in containers(spec):
        hc = c.get("healthCheck")
        if isinstance(hc, dict):
            yield i, c, hc


@register
class HealthCheckCommand(Rule):
    """A ``healthCheck`` needs a non-empty ``command``.

    Bad:   healthCheck: {command: []}
    Good:  healthCheck: {command: [CMD-SHELL, "curl -f http://localhost/ || exit 1"]}
    """

    id = "E2090"
    title = "healthCheck has a command"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c, hc in _checks(spec):
            command = hc.get("command")
            if command is None or (isinstance(command, list) and not [a for a in command if a]):
                yield ("containerDefinitions", i, "healthCheck"), f"{label(i, c)}: healthCheck needs a non-empty command"


@register
class HealthCheckCommandForm(Rule):
    """A health-check command starts with ``CMD`` (exec form) or ``CMD-SHELL`` (shell form).

    Without either, ECS assumes ``CMD`` and runs the first element as a
    program; a shell command line written as one string then fails.

    Bad:   command: ["curl -f http://localhost/ || exit 1"]
    Good:  command: [CMD-SHELL, "curl -f http://localhost/ || exit 1"]
    """

    id = "W2091"
    title = "healthCheck command starts with CMD or CMD-SHELL"
    kinds = TD
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        for i, c, hc in _checks(spec):
            command = hc.get("command")
            if isinstance(command, list) and command and command[0] not in ("CMD", "CMD-SHELL"):
                yield ("containerDefinitions", i, "healthCheck", "command", 0), (
                    f"{label(i, c)}: healthCheck command should start with 'CMD' or 'CMD-SHELL', not {command[0]!r} (CMD is assumed)"
                )


@register
class HealthCheckRanges(Rule):
    """Health-check timings are in range.

    interval 5-300 s (default 30), timeout 2-60 s (5), retries 1-10 (3),
    startPeriod 0-300 s (off).  Source: 2023 guide ``task_definition_parameters.md``.

    Bad:   healthCheck: {command: [CMD, true], interval: 1}
    Good:  healthCheck: {command: [CMD, true], interval: 10}
    """

    id = "E2092"
    title = "healthCheck timings are in range"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c, hc in _checks(spec):
            for key, (low, high, _) in RANGES.items():
                value = integer(hc.get(key))
                if value is not None and not low <= value <= high:
                    yield ("containerDefinitions", i, "healthCheck", key), f"{label(i, c)}: healthCheck.{key} {value} is outside {low}-{high}"
