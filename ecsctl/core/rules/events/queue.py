"""Queue (SQS) documents: consumers that exist, arrivals that make sense, timeouts that fit."""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import DEFAULT_CLUSTER, cluster_name, last_segment, spec_of


@register
class QueueConsumersExist(Rule):
    """Every consumer of a Queue should be a Service of the run, in the cluster named (warning).

    The queue model drains messages with the running tasks of the consumer services; a
    consumer that names no service of the run never consumes, and the queue only grows.
    Neither SQS nor ECS refuses that (a queue knows nothing of its readers), so it is a
    warning (
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html).

    Bad::

        consumers: [{service: wroker, messagesPerTaskPerMinute: 30}]

    Good::

        consumers: [{service: worker, cluster: prod, messagesPerTaskPerMinute: 30}]
    """

    id = "W6010"
    title = "Queue consumers should be services of the run"
    kinds = ("Queue",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        if not ctx.has_kind("Service"):
            return
        for i, consumer in enumerate(spec.get("consumers") or ()):
            name = consumer.get("service")
            service = spec_of(ctx.get("Service", name))
            if service is None:
                yield ("consumers", i, "service"), (f"service '{name}' is not among the validated documents: "
                                                    "nothing would consume the queue's messages")
                continue
            wanted = last_segment(consumer["cluster"]) if consumer.get("cluster") else DEFAULT_CLUSTER
            if cluster_name(service) != wanted:
                yield ("consumers", i, "cluster"), (f"service '{name}' runs in cluster '{cluster_name(service)}', "
                                                    f"not '{wanted}'")


@register
class QueueArrivalsValid(Rule):
    """A Queue's arrival series has valid UTC times in increasing order (error).

    ``arrivals.series`` is a piecewise-constant rate: each entry holds from its ``at``
    until the next one, so the times must be ISO 8601 (``2026-01-01T08:00:00Z``) and
    strictly increasing (SQS metrics,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).

    Bad::

        series: [{at: "2026-01-01T10:00:00Z", messagesPerMinute: 50}, {at: "08:00", messagesPerMinute: 600}]

    Good::

        series: [{at: "2026-01-01T08:00:00Z", messagesPerMinute: 600}, {at: "2026-01-01T10:00:00Z", messagesPerMinute: 50}]
    """

    id = "E6011"
    title = "Queue arrival series must have increasing UTC times"
    kinds = ("Queue",)

    def check(self, spec, doc, ctx):
        from ecsctl.core.queue.model import parse_time

        previous = None
        for i, point in enumerate((spec.get("arrivals") or {}).get("series") or ()):
            try:
                moment = parse_time(point.get("at"))
            except ValueError as exc:
                yield ("arrivals", "series", i, "at"), str(exc)
                continue
            if previous is not None and moment <= previous:
                yield ("arrivals", "series", i, "at"), f"{point['at']} is not after the previous entry's time"
            previous = moment


@register
class QueueVisibilityTimeout(Rule):
    """Processing a message should take less than the queue's visibility timeout (warning).

    A task needs ``60 ÷ messagesPerTaskPerMinute`` seconds per message.  When that is
    longer than ``visibilityTimeout`` (SQS default 30 s) the message becomes visible again
    before it is deleted and another task receives it: work is done twice and the queue
    drains slower ("Amazon SQS visibility timeout",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html).

    Bad::

        visibilityTimeout: 30
        consumers: [{service: worker, messagesPerTaskPerMinute: 1}]    # 60 s per message

    Good::

        visibilityTimeout: 120
        consumers: [{service: worker, messagesPerTaskPerMinute: 1}]
    """

    id = "W6012"
    title = "Queue visibilityTimeout shorter than a message's processing time"
    kinds = ("Queue",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        from ecsctl.core.queue.model import DEFAULT_VISIBILITY_TIMEOUT, processing_seconds

        timeout = spec.get("visibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT)
        for i, consumer in enumerate(spec.get("consumers") or ()):
            seconds = processing_seconds(consumer["messagesPerTaskPerMinute"])
            if timeout > 0 and seconds > timeout:
                yield ("consumers", i, "messagesPerTaskPerMinute"), (
                    f"a task of '{consumer['service']}' needs {seconds:g} s per message, longer than the "
                    f"visibilityTimeout of {timeout} s: messages reappear before they are deleted and are processed twice")
