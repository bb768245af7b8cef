"""ScheduledTask: an EventBridge rule whose target runs ECS tasks (E6xxx; ecs-semantics §8)."""

from __future__ import annotations

from ecsctl.core.aws.shapes import uses_scheduler
from ecsctl.core.events.rule_state import SCHEDULE_STATES
from ecsctl.core.events.target import MAX_RUN_COUNT, is_count
from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import (DEFAULT_CLUSTER, as_dict, as_list, last_segment, network_mode,
                                            launch_of, task_definition_spec)
from ecsctl.core.units import fargate_override_error, unknown_override_containers


@register
class ScheduleOrPattern(Rule):
    """A scheduled task has exactly one of ``scheduleExpression`` and ``eventPattern``.

    A rule either runs on a schedule or reacts to events (``PutRule``: "Either
    ScheduleExpression or EventPattern must be specified").

    Bad::

        spec: {scheduleExpression: rate(1 hour), eventPattern: {source: [aws.s3]}, target: {...}}

    Good::

        spec: {scheduleExpression: rate(1 hour), target: {...}}
    """

    id = "E6001"
    title = "Exactly one of scheduleExpression and eventPattern"
    kinds = ("ScheduledTask",)

    def check(self, spec, doc, ctx):
        has_schedule, has_pattern = spec.get("scheduleExpression") is not None, spec.get("eventPattern") is not None
        if has_schedule and has_pattern:
            yield ("eventPattern",), "give either scheduleExpression or eventPattern, not both"
        elif not has_schedule and not has_pattern:
            yield (), "a scheduled task needs a scheduleExpression or an eventPattern"


@register
class ScheduleExpressionValid(Rule):
    """``scheduleExpression`` is ``rate()``, AWS's 6-field ``cron()`` or ``at()``, in a valid timezone.

    ``rate(N unit)`` takes a positive integer and the singular unit exactly
    when N is 1 (``rate(1 hour)``, ``rate(5 minutes)``).  ``cron(min hour dom
    month dow year)`` needs ``?`` in exactly one of day-of-month and
    day-of-week.  The optional ``timezone`` (or ``scheduleExpressionTimezone``)
    is an IANA name.

    Bad::

        scheduleExpression: rate(1 hours)
        scheduleExpression: cron(0 10 * * * *)

    Good::

        scheduleExpression: rate(1 hour)
        scheduleExpression: cron(0 10 * * ? *)
    """

    id = "E6002"
    title = "scheduleExpression and timezone must be valid"
    kinds = ("ScheduledTask",)

    def check(self, spec, doc, ctx):
        from ecsctl.core.events.schedule import ScheduleError, parse_schedule, valid_timezone

        expr = spec.get("scheduleExpression")
        if expr is not None:
            try:
                parse_schedule(expr)
            except ScheduleError as exc:
                yield ("scheduleExpression",), str(exc)
        for key in ("timezone", "scheduleExpressionTimezone"):
            tz = spec.get(key)
            if tz is not None and not valid_timezone(tz):
                yield (key,), f"timezone '{tz}' is not an IANA time zone name (e.g. Europe/Paris, UTC, Etc/GMT+9)"
        state = spec.get("state")
        if isinstance(state, str) and state not in SCHEDULE_STATES and uses_scheduler(spec):
            yield ("state",), (f"state {state} is a rule's (PutRule); EventBridge Scheduler, which runs at() and "
                               f"time-zoned schedules, takes {' or '.join(SCHEDULE_STATES)}")


@register
class EventPatternValid(Rule):
    """An ``eventPattern`` is what ``PutRule`` accepts (ECS/EventBridge refuses the rest: error).

    A pattern is a JSON object whose leaves are arrays; EventBridge matches a field when
    the event's value is one of the array's entries, each an exact value (string, number,
    true, false, null) or one filter object: ``prefix``, ``suffix``,
    ``equals-ignore-case``, ``wildcard``, ``anything-but``, ``numeric``, ``exists``,
    ``cidr``; ``$or`` takes an array of at least two sub-patterns.  ``PutRule`` refuses
    anything else with ``InvalidEventPatternException`` ("Event pattern is not valid"), and
    patterns longer than 4096 characters.  See
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
    and https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html.

    Bad::

        eventPattern: {source: aws.s3, detail: {size: [{numeric: [">", "5"]}]}}

    Good::

        eventPattern:
          source: [aws.s3]
          detail-type: [Object Created]
          detail: {bucket: {name: [uploads]}, object: {key: [{prefix: incoming/}], size: [{numeric: [">", 0]}]}}
    """

    id = "E6003"
    title = "eventPattern must be a valid EventBridge event pattern"
    kinds = ("ScheduledTask",)

    def check(self, spec, doc, ctx):
        from ecsctl.core.events.pattern import pattern_issues

        pattern = spec.get("eventPattern")
        if pattern is None:
            return
        for path, message in pattern_issues(pattern):
            yield ("eventPattern",) + tuple(path), message


def _transformer(spec) -> object:
    target = spec.get("target")
    return target.get("inputTransformer") if isinstance(target, dict) else None


@register
class InputTransformerValid(Rule):
    """``target.inputTransformer`` is what ``PutTargets`` accepts (error otherwise).

    ``inputPathsMap`` holds at most 100 variables named with letters, digits, ``_`` or
    ``-`` (not starting with ``aws.``, whose names are reserved), each a JSON path of at
    most 256 characters; ``inputTemplate`` is required, at most 8192 characters, and a
    JSON template must be JSON once filled in, with no placeholder as an object key.  See
    https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_InputTransformer.html.

    Bad::

        inputTransformer: {inputPathsMap: {aws.key: $.detail.object.key}, inputTemplate: '{<key>: 1}'}

    Good::

        inputTransformer:
          inputPathsMap: {key: $.detail.object.key}
          inputTemplate: '{"containerOverrides": [{"name": "ingest", "environment": [{"name": "KEY", "value": <key>}]}]}'
    """

    id = "E6005"
    title = "target.inputTransformer must be a valid EventBridge input transformer"
    kinds = ("ScheduledTask",)

    def check(self, spec, doc, ctx):
        from ecsctl.core.events.transform import transformer_issues

        transformer = _transformer(spec)
        if transformer is None:
            return
        errors, _ = transformer_issues(transformer)
        for path, message in errors:
            yield ("target", "inputTransformer") + tuple(path), message


@register
class InputTransformerOverrides(Rule):
    """``target.inputTransformer`` should give the task usable overrides (warning: accepted, then fails).

    For an ECS target the transformed input is the RunTask ``overrides``: a JSON object of
    ``containerOverrides``, ``cpu``, ``memory``, ``taskRoleArn`` ….
    EventBridge accepts a text template, an unknown override field, a placeholder that
    names no variable or a JSON path it cannot resolve ("There is no validation when
    creating JSON path"); the invocation then fails or runs without the event's data.  See
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html.

    Bad::

        inputTransformer: {inputPathsMap: {key: detail.object.key}, inputTemplate: 'key is <key>'}

    Good::

        inputTransformer:
          inputPathsMap: {key: $.detail.object.key}
          inputTemplate: '{"containerOverrides": [{"name": "ingest", "environment": [{"name": "KEY", "value": <key>}]}]}'
    """

    id = "W6006"
    title = "target.inputTransformer should produce RunTask overrides"
    kinds = ("ScheduledTask",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        from ecsctl.core.events.transform import transformer_issues

        transformer = _transformer(spec)
        if transformer is None:
            return
        errors, warnings = transformer_issues(transformer)
        if errors:
            return  # E6005 reports them
        for path, message in warnings:
            yield ("target", "inputTransformer") + tuple(path), message


@register
class ScheduledTaskTarget(Rule):
    """The target runs a known task definition in a known cluster, 1–10 tasks, with awsvpc networking if needed.

    ``target.taskDefinition`` and ``target.cluster`` (default ``default``) must
    be documents of the run; ``taskCount`` is 1–10 on a schedule that EventBridge Scheduler
    runs (``at()``, or a time zone; an EventBridge rule takes more, W6013); an awsvpc
    task definition needs ``target.networkConfiguration.awsvpcConfiguration``; and
    ``overrides.containerOverrides`` name containers of the task definition, and a Fargate
    target's task-level cpu/memory overrides give a Fargate size.

    Bad::

        target: {cluster: prod, taskDefinition: report, taskCount: 20}

    Good::

        target: {cluster: prod, taskDefinition: report, taskCount: 1, launchType: FARGATE,
                 networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}}
    """

    id = "E6004"
    title = "Scheduled task target must resolve and be runnable"
    kinds = ("ScheduledTask",)

    def check(self, spec, doc, ctx):
        if not isinstance(spec.get("target"), dict):
            yield (), "a scheduled task needs a target {cluster, taskDefinition, ...}"
            return
        target = spec["target"]
        ref = target.get("taskDefinition")
        if not isinstance(ref, str) or not ref:
            yield ("target",), "target needs a taskDefinition"
        elif ctx.has_kind("TaskDefinition") and ctx.task_definition(ref) is None:
            family = ref.rsplit("/", 1)[-1].split(":", 1)[0]
            yield ("target", "taskDefinition"), f"task definition '{ref}' is not among the validated documents{ctx.suggest('TaskDefinition', family)}"
        cluster = target.get("cluster")
        name = last_segment(cluster) if isinstance(cluster, str) and cluster else DEFAULT_CLUSTER
        if ctx.has_kind("Cluster") and ctx.get("Cluster", name) is None:
            yield (("target", "cluster") if "cluster" in target else ("target",),
                   f"cluster '{name}' is not among the validated documents{ctx.suggest('Cluster', name)}")
        count = target.get("taskCount", 1)
        if is_count(count) and count > MAX_RUN_COUNT and uses_scheduler(spec):  # Scheduler's TaskCount: max 10
            yield ("target", "taskCount"), f"taskCount must be between 1 and {MAX_RUN_COUNT}, not {count}"
        td = task_definition_spec(ref, ctx)
        if td is not None:
            unknown = set(unknown_override_containers(td, target.get("overrides")))
            for i, o in enumerate(as_list(as_dict(target.get("overrides")).get("containerOverrides"))):
                if isinstance(o, dict) and o.get("name") in unknown:
                    yield (("target", "overrides", "containerOverrides", i, "name"),
                           f"Override for container named {o['name']} is not a container in the TaskDefinition.")
            overrides = as_dict(target.get("overrides"))
            unsized = fargate_override_error(td, overrides) if launch_of(target, ctx) == "FARGATE" else None
            if unsized is not None:
                yield ("target", "overrides", "memory" if "memory" in overrides else "cpu"), unsized
        if td is not None and network_mode(td) == "awsvpc":
            if not isinstance(as_dict(target.get("networkConfiguration")).get("awsvpcConfiguration"), dict):
                yield ("target",), "Network Configuration must be provided when networkMode 'awsvpc' is specified."


@register
class RuleTaskCount(Rule):
    """A rule's ``taskCount`` above 10 is accepted, and every firing's RunTask then fails.

    EventBridge's PutTargets takes any ``TaskCount`` of 1 or more (EcsParameters has no
    maximum), but RunTask starts at most 10 tasks, so every firing fails; the plan's forecast
    marks the rule.  (EventBridge Scheduler, which runs ``at()`` and time-zoned schedules,
    refuses it: E6004.)

    Bad:   target: {taskCount: 20}
    Good:  target: {taskCount: 10}   (or two rules of 10)
    """

    id = "W6013"
    title = "A rule's taskCount above 10 fails every RunTask"
    kinds = ("ScheduledTask",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        count = as_dict(spec.get("target")).get("taskCount", 1)
        if is_count(count) and count > MAX_RUN_COUNT and not uses_scheduler(spec):
            yield (("target", "taskCount"),
                   f"taskCount {count} is more than RunTask starts (at most {MAX_RUN_COUNT}): every firing fails")
