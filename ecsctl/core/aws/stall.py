"""Why a real ECS deployment is not progressing, read from what ECS itself says (pure).

``classify(events, stopped_reasons, rollout_state_reason)`` looks at a service's recent event
messages (DescribeServices ``events[].message``, newest first), the ``stoppedReason`` of the
deployment's recently stopped tasks and the PRIMARY deployment's ``rolloutStateReason``, and
answers a :class:`Stall` (code, the evidence quoted, a remedy) or ``None`` when nothing says
the deployment is stuck. It matches the strings ECS really writes (Amazon ECS Developer Guide,
"Amazon ECS service event messages" and "Amazon ECS stopped task error messages"; quoted in
``shared/reference/ecs-semantics.md`` Appendix A and ``shared/corpus/taskdefs/ECS_ERROR_STRINGS.tsv``):

    service (S) was unable to place a task because no container instance met all of its
      requirements. The closest matching container-instance I has insufficient CPU units
      available. | insufficient memory available. | is already using a port required by your
      task. | is missing an attribute required by your task. | encountered error "AGENT".
      | Reason: No Container Instances were found in your cluster.
    service (S) was unable to stop or start tasks during a deployment because of the service
      deployment configuration. Update the minimumHealthyPercent or maximumPercent value …
    service (S) is unable to consistently start tasks successfully.
    (service S) (deployment ecs-svc/…) deployment failed: tasks failed to start.
    rolloutStateReason: ECS deployment circuit breaker: tasks failed to start.
    stoppedReason: CannotPullContainerError: … | ResourceInitializationError: unable to pull
      secrets or registry auth: … | ResourceInitializationError: failed to download env files: …
      | OutOfMemoryError: Container killed due to memory usage | Essential container in task
      exited | Task failed ELB health checks in (target-group …) | Task failed container health checks

A stopped-task reason names the cause more exactly than the event that reports its effect
(a circuit breaker trips *because* images cannot be pulled), so the cause is reported with the
circuit breaker or throttling noted beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

SOURCES = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html",
)


@dataclass(frozen=True, slots=True)
class Stall:
    """``code`` is stable (scripts may branch on it); ``evidence`` quotes ECS; ``remedy`` says what to do."""

    code: str
    evidence: str
    remedy: str
    failed: bool = False  # the deployment has FAILED (circuit breaker), not only stopped moving

    def describe(self) -> str:
        return f"{self.code}: {self.evidence} -- fix: {self.remedy}"


# (code, pattern, remedy) in the order they are tried; the first match wins within one source.
_PLACEMENT: tuple[tuple[str, re.Pattern, str], ...] = (
    ("RESOURCE:CPU", re.compile(r"has insufficient CPU units available", re.I),
     "add container instances (or capacity-provider capacity) with free CPU, or lower the task's cpu"),
    ("RESOURCE:MEMORY", re.compile(r"has insufficient memory available", re.I),
     "add container instances with free memory, or lower the task's memory / memoryReservation"),
    ("RESOURCE:PORTS", re.compile(r"is already using a port required by your task", re.I),
     "use dynamic host ports (hostPort 0 in bridge mode) or awsvpc, add instances, or lower maximumPercent so old tasks stop first"),
    ("RESOURCE:ENI", re.compile(r"insufficient (?:elastic network interfaces|ENIs?)", re.I),
     "enable awsvpcTrunking or use instance types with more ENIs"),
    ("ATTRIBUTE", re.compile(r"is missing an attribute required by your task", re.I),
     "check the placement constraints and the task definition's requiresAttributes against the instances (ecs-cli check-attributes); update the agent/AMI"),
    ("AGENT", re.compile(r'encountered error "AGENT"', re.I),
     "the container agent is disconnected: restart the agent or replace the instance"),
    ("NO_INSTANCES", re.compile(r"No Container Instances were found in your cluster", re.I),
     "register container instances in the cluster or use Fargate / a capacity provider"),
    ("PLACEMENT", re.compile(r"was unable to place a task because no container instance met all of its requirements", re.I),
     "no instance satisfies the task's placement constraints and resources: relax a memberOf/distinctInstance constraint or add instances"),
)
_DEPLOYMENT_CONFIGURATION = re.compile(r"unable to stop or start tasks during a deployment because of the service deployment configuration", re.I)
_THROTTLED = re.compile(r"is unable to consistently start tasks successfully", re.I)
_BREAKER = re.compile(r"deployment failed: tasks failed to start|circuit breaker", re.I)
_ROLLBACK = re.compile(r"rolling back to deployment", re.I)

_STOPPED: tuple[tuple[str, re.Pattern, str], ...] = (
    ("IMAGE_PULL", re.compile(r"CannotPullContainerError", re.I),
     "check that the image and tag exist, that the execution role may pull from ECR (ecr:GetAuthorizationToken, ecr:BatchGetImage) and that the subnets reach ECR (NAT or VPC endpoints)"),
    ("SECRETS", re.compile(r"unable to pull secrets or registry auth|ResourceInitializationError: .*(?:secret|ssm|parameter)", re.I),
     "check that each secret/parameter in valueFrom exists and that the task execution role may read it (secretsmanager:GetSecretValue, ssm:GetParameters, kms:Decrypt)"),
    ("ENV_FILES", re.compile(r"failed to download env files", re.I),
     "check that the S3 environment file exists and that the execution role has s3:GetObject (and s3:GetBucketLocation) on it"),
    ("EXECUTION_ROLE", re.compile(r"task execution role", re.I),
     "set the task definition's executionRoleArn to a role with AmazonECSTaskExecutionRolePolicy"),
    ("OUT_OF_MEMORY", re.compile(r"OutOfMemoryError|killed due to memory usage", re.I),
     "raise the container's memory limit or fix the leak"),
    ("ELB_HEALTH_CHECK", re.compile(r"failed ELB health checks", re.I),
     "check the target group's health check path/port, the security groups between load balancer and tasks, and healthCheckGracePeriodSeconds"),
    ("CONTAINER_HEALTH_CHECK", re.compile(r"failed container health checks", re.I),
     "check the container healthCheck command and its startPeriod"),
    ("ESSENTIAL_EXIT", re.compile(r"Essential container in task exited", re.I),
     "an essential container exits: read its logs (awslogs group) for the exit reason"),
    ("TASK_FAILED", re.compile(r"ResourceInitializationError|CannotStartContainerError|CannotCreateContainerError", re.I),
     "read the stopped task's reason and the container's logs"),
)


def _match(table, text: str) -> tuple[str, str] | None:
    for code, pattern, remedy in table:
        if pattern.search(text):
            return code, remedy
    return None


def classify(events: Iterable[str], stopped_reasons: Iterable[str] = (), rollout_state_reason: str = "") -> Stall | None:
    """The reason a deployment does not progress, or ``None`` (see the module docstring)."""
    events = [str(e) for e in events]
    stopped = [str(r) for r in stopped_reasons if r]
    breaker = bool(_BREAKER.search(rollout_state_reason or "")) or any(_BREAKER.search(e) for e in events)
    throttled = any(_THROTTLED.search(e) for e in events)
    for reason in stopped:
        hit = _match(_STOPPED, reason)
        if hit:
            note = " (the deployment circuit breaker failed the deployment)" if breaker else (
                " (ECS is throttling new launches)" if throttled else "")
            return Stall(hit[0], reason + note, hit[1], failed=breaker)
    if breaker:
        evidence = rollout_state_reason or next(e for e in events if _BREAKER.search(e))
        return Stall("CIRCUIT_BREAKER", evidence,
                     "new tasks keep failing to start or become healthy; read the stopped tasks' reasons "
                     "(ecsctl get tasks --backend aws --status STOPPED) and fix the task definition", failed=True)
    for event in events:
        hit = _match(_PLACEMENT, event)
        if hit:
            return Stall(hit[0], event, hit[1])
        if _DEPLOYMENT_CONFIGURATION.search(event):
            return Stall("DEPLOYMENT_CONFIGURATION", event,
                         "minimumHealthyPercent/maximumPercent leave no room to stop or start a task: lower minimumHealthyPercent or raise maximumPercent")
    if throttled:
        return Stall("THROTTLED", next(e for e in events if _THROTTLED.search(e)),
                     "tasks stop before reaching RUNNING; read the stopped tasks' reasons")
    return None


def is_steady(events: Iterable[str]) -> bool:
    """The newest event says ``has reached a steady state``."""
    for e in events:
        return "has reached a steady state" in str(e)
    return False


def rolled_back(events: Iterable[str]) -> bool:
    return any(_ROLLBACK.search(str(e)) for e in events)
