"""ScheduledTask: an EventBridge rule whose target runs ECS tasks (E6xxx; ecs-semantics §8)."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import DEFAULT_CLUSTER, as_dict, last_segment, network_mode, task_definition_spec


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


def pattern_issues(pattern, path: tuple):
    """Leaves of an event pattern must be arrays; yields (path, message).

    >>> list(pattern_issues({"source": ["aws.s3"], "detail": {"bucket": {"name": "b"}}}, ()))
    [(('detail', 'bucket', 'name'), "Event pattern is not valid: the value of 'name' must be an array, e.g. ['b']")]
    """
    for key, value in pattern.items():
        here = path + (key,)
        if isinstance(value, dict):
            if not value:
                yield here, f"Event pattern is not valid: '{key}' is an empty object"
            yield from pattern_issues(value, here)
        elif isinstance(value, list):
            if not value:
                yield here, f"Event pattern is not valid: the array of '{key}' is empty"
        else:
            yield here, f"Event pattern is not valid: the value of '{key}' must be an array, e.g. [{value!r}]"


@register
class EventPatternShape(Rule):
    """An ``eventPattern`` is a mapping whose leaf values are arrays.

    EventBridge matches a field when the event's value is one of the array's
    elements (or matches a content filter such as ``{prefix: incoming/}`` inside
    it); a bare scalar is rejected with ``Event pattern is not valid``.

    Bad::

        eventPattern: {source: aws.s3, detail-type: [Object Created]}

    Good::

        eventPattern:
          source: [aws.s3]
          detail-type: [Object Created]
          detail: {bucket: {name: [uploads]}, object: {key: [{prefix: incoming/}]}}
    """

    id = "E6003"
    title = "eventPattern leaves must be arrays"
    kinds = ("ScheduledTask",)

    def check(self, spec, doc, ctx):
        pattern = spec.get("eventPattern")
        if pattern is None:
            return
        if not isinstance(pattern, dict) or not pattern:
            yield ("eventPattern",), "Event pattern is not valid: it must be a non-empty mapping"
            return
        for path, message in pattern_issues(pattern, ("eventPattern",)):
            yield path, message


@register
class ScheduledTaskTarget(Rule):
    """The target runs a known task definition in a known cluster, 1–10 tasks, with awsvpc networking if needed.

    ``target.taskDefinition`` and ``target.cluster`` (default ``default``) must
    be documents of the run; ``taskCount`` is 1–10 (RunTask's limit); an awsvpc
    task definition needs ``target.networkConfiguration.awsvpcConfiguration``.

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
        if isinstance(count, int) and not isinstance(count, bool) and not 1 <= count <= 10:
            yield ("target", "taskCount"), f"taskCount must be between 1 and 10, not {count}"
        td = task_definition_spec(ref, ctx)
        if td is not None and network_mode(td) == "awsvpc":
            if not isinstance(as_dict(target.get("networkConfiguration")).get("awsvpcConfiguration"), dict):
                yield ("target",), "Network Configuration must be provided when networkMode 'awsvpc' is specified."
