"""Scaling activities, worded as Application Auto Scaling words them.

The strings come from the Application Auto Scaling User Guide's own examples of
``describe-scaling-activities`` for an ECS service and for scheduled actions
(https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scaling-activities.html,
https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-additional-cli-commands.html):

* policy:    cause ``monitor alarm web-app-cpu-lt-25 in state ALARM triggered policy web-app-cpu-lt-25``,
             description ``Setting desired count to 1.``,
             status message ``Successfully set desired count to 1. Change successfully fulfilled by ecs.``
* schedule:  cause ``scheduled action name my-first-scheduled-action was triggered``,
             description ``Setting min capacity to 15 and max capacity to 20``; then, when the
             desired count had to move, cause ``minimum capacity was set to 15`` (or
             ``maximum capacity was set to …``) with ``Setting desired count to 15.``

    >>> a = policy_activity("service/prod/web", 60, previous=2, desired=4, minimum=1, maximum=8,
    ...                     alarm="cpu-high", policy="cpu70", kind="TargetTrackingScaling", metric=91.0)
    >>> a.cause, a.description
    ('monitor alarm cpu-high in state ALARM triggered policy cpu70', 'Setting desired count to 4.')
    >>> a.as_dict()["time"]
    '1970-01-01T01:00:00Z'
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"


def minute_iso(minute: int) -> str:
    """Minutes since the Unix epoch as an ISO 8601 UTC timestamp (``…Z``)."""
    return datetime.fromtimestamp(minute * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ScalingActivity:
    """One entry of DescribeScalingActivities, plus the counts around it.

    ``desired_count`` is the desired count after the activity and ``previous`` before it
    (equal for an activity that only changes min/max).  ``trigger_kind`` is
    ``TargetTrackingScaling``, ``StepScaling`` or ``ScheduledAction``; ``trigger`` the
    policy or scheduled action name; ``metric`` the value that decided, if any.
    """

    resource_id: str
    minute: int
    seq: int
    description: str
    cause: str
    status_message: str
    previous: int
    desired_count: int
    min_capacity: int
    max_capacity: int
    trigger_kind: str
    trigger: str
    metric: float | None = None
    status_code: str = "Successful"

    @property
    def activity_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecsctl:activity:{self.resource_id}:{self.minute}:{self.seq}"))

    def as_dict(self) -> dict:
        """The record to print or persist (JSON-ready, camelCase like the API)."""
        return {
            "activityId": self.activity_id,
            "serviceNamespace": NAMESPACE,
            "resourceId": self.resource_id,
            "scalableDimension": DIMENSION,
            "time": minute_iso(self.minute),
            "description": self.description,
            "cause": self.cause,
            "statusCode": self.status_code,
            "statusMessage": self.status_message,
            "previousDesiredCount": self.previous,
            "desiredCount": self.desired_count,
            "minCapacity": self.min_capacity,
            "maxCapacity": self.max_capacity,
            "triggerKind": self.trigger_kind,
            "trigger": self.trigger,
            "metricValue": self.metric,
        }


def _desired(n: int) -> tuple[str, str]:
    return f"Setting desired count to {n}.", f"Successfully set desired count to {n}. Change successfully fulfilled by ecs."


def policy_activity(resource: str, minute: int, *, previous: int, desired: int, minimum: int, maximum: int,
                    alarm: str, policy: str, kind: str, metric: float | None, seq: int = 0) -> ScalingActivity:
    description, message = _desired(desired)
    return ScalingActivity(resource, minute, seq, description,
                           f"monitor alarm {alarm} in state ALARM triggered policy {policy}", message,
                           previous, desired, minimum, maximum, kind, policy, metric)


def bounds_description(minimum: int | None, maximum: int | None) -> str:
    """``Setting min capacity to 5 and max capacity to 10`` (either part alone when only one is set).

        >>> bounds_description(None, 4)
        'Setting max capacity to 4'
    """
    parts = ([f"min capacity to {minimum}"] if minimum is not None else []) + (
        [f"max capacity to {maximum}"] if maximum is not None else [])
    return "Setting " + " and ".join(parts)


def scheduled_activities(resource: str, minute: int, *, action: str, set_min: int | None, set_max: int | None,
                         previous: int, desired: int, minimum: int, maximum: int, seq: int = 0) -> list[ScalingActivity]:
    """The one or two activities of a scheduled action: new bounds, then the desired count pulled into them."""
    description = bounds_description(set_min, set_max)
    out = [ScalingActivity(resource, minute, seq, description, f"scheduled action name {action} was triggered",
                           "Successfully set" + description[len("Setting"):], previous, previous, minimum, maximum,
                           "ScheduledAction", action)]
    if desired != previous:
        text, message = _desired(desired)
        which = "minimum" if desired > previous else "maximum"
        out.append(ScalingActivity(resource, minute, seq + 1, text, f"{which} capacity was set to {desired}", message,
                                   previous, desired, minimum, maximum, "ScheduledAction", action))
    return out


def failed_schedule(resource: str, minute: int, *, action: str, set_min: int | None, set_max: int | None,
                    desired: int, minimum: int, maximum: int, reason: str, seq: int = 0) -> ScalingActivity:
    """A scheduled action that could not apply (our wording: AWS does not publish this one)."""
    description = bounds_description(set_min, set_max)
    return ScalingActivity(resource, minute, seq, description, f"scheduled action name {action} was triggered",
                           f"Failed to set{description[len('Setting'):]}: {reason}", desired, desired, minimum, maximum,
                           "ScheduledAction", action, status_code="Failed")
