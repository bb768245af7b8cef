"""The stall classifier on ECS's own strings, and ``apply --wait``'s follower on scripted
DescribeServices answers (injected sleep and clock: nothing sleeps)."""

from __future__ import annotations

import pytest

from ecsctl.core.aws.stall import classify

S = "service (web)"
PLACE = f"{S} was unable to place a task because no container instance met all of its requirements."

# (events newest first, stopped reasons, rolloutStateReason) -> code; strings as ECS writes them
# (Amazon ECS Developer Guide, service event messages and stopped task errors; ecs-semantics.md App. A)
CASES = [
    ([f"{PLACE} The closest matching container-instance 5a8b has insufficient CPU units available."], [], "", "RESOURCE:CPU"),
    ([f"{PLACE} The closest matching container-instance 5a8b has insufficient memory available."], [], "", "RESOURCE:MEMORY"),
    ([f"{PLACE} The closest matching container-instance 5a8b is already using a port required by your task."], [], "", "RESOURCE:PORTS"),
    ([f"{PLACE} The closest matching container-instance 5a8b is missing an attribute required by your task."], [], "", "ATTRIBUTE"),
    ([f"{PLACE} Reason: No Container Instances were found in your cluster."], [], "", "NO_INSTANCES"),
    ([f"{S} was unable to stop or start tasks during a deployment because of the service deployment configuration. "
      "Update the minimumHealthyPercent or maximumPercent value and try again."], [], "", "DEPLOYMENT_CONFIGURATION"),
    ([f"{S} is unable to consistently start tasks successfully."],
     ["CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:9: not found"],
     "", "IMAGE_PULL"),
    ([], ["ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm"],
     "ECS deployment circuit breaker: tasks failed to start.", "SECRETS"),
    ([], ["ResourceInitializationError: failed to download env files: file download command: non empty error stream"], "", "ENV_FILES"),
    (["(service web) (deployment ecs-svc/1234) deployment failed: tasks failed to start."], [], "", "CIRCUIT_BREAKER"),
    ([], [], "ECS deployment circuit breaker: tasks failed to start.", "CIRCUIT_BREAKER"),
    ([f"{S} is unable to consistently start tasks successfully."], [], "", "THROTTLED"),
    ([], ["Essential container in task exited"], "", "ESSENTIAL_EXIT"),
    ([], ["Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/6d0e)"], "", "ELB_HEALTH_CHECK"),
    ([], ["OutOfMemoryError: Container killed due to memory usage"], "", "OUT_OF_MEMORY"),
    ([f"{S} has reached a steady state."], [], "", None),
    ([f"{S} has started 2 tasks: (task 1) (task 2)."], [], "", None),
]


@pytest.mark.parametrize("events,stopped,reason,code", CASES)
def test_classify(events, stopped, reason, code):
    stall = classify(events, stopped, reason)
    assert (stall.code if stall else None) == code
    if stall:
        assert stall.remedy and stall.evidence


def test_a_failed_breaker_is_failed_and_names_the_cause():
    stall = classify(["(service web) (deployment ecs-svc/1) deployment failed: tasks failed to start."],
                     ["CannotPullContainerError: ref not found"], "ECS deployment circuit breaker: tasks failed to start.")
    assert stall.code == "IMAGE_PULL" and stall.failed and "circuit breaker" in stall.evidence


class Script:
    """An ``Aws`` stand-in: DescribeServices answers one scripted service per poll."""

    def __init__(self, polls, stopped=()):
        self.polls = list(polls)
        self.stopped = list(stopped)
        self.calls = []

    def call(self, service, operation, address="", /, **params):
        self.calls.append(operation)
        if operation == "DescribeServices":
            return {"services": [self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]]}
        if operation == "ListTasks":
            return {"taskArns": ["arn:aws:ecs:eu-west-1:1:task/prod/t1"] if self.stopped else []}
        if operation == "DescribeTasks":
            return {"tasks": [{"taskDefinitionArn": TD, "stoppedReason": r} for r in self.stopped]}
        raise AssertionError(operation)


TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:2"


def svc(running, pending, state="IN_PROGRESS", events=(), reason="", desired=3):
    return {"serviceName": "web", "desiredCount": desired, "taskDefinition": TD,
            "deployments": [{"status": "PRIMARY", "taskDefinition": TD, "desiredCount": desired, "runningCount": running,
                             "pendingCount": pending, "failedTasks": 0, "rolloutState": state, "rolloutStateReason": reason}],
            "events": [{"message": m, "createdAt": "2026-01-01T00:00:00Z"} for m in events]}


def follow(script, **kw):
    from ecsctl.backends.aws.wait import follow as run

    slept = []
    ticks = iter(range(0, 100000, 15))
    results = run(script, [("prod", "web")], poll=15, timeout=kw.get("timeout", 600), sleep=slept.append, clock=lambda: next(ticks))
    return results[0], slept


def test_wait_until_steady():
    result, slept = follow(Script([svc(0, 3), svc(2, 1), svc(3, 0, "COMPLETED")]))
    assert result.outcome == "COMPLETED" and result.running == 3 and len(slept) == 2


def test_wait_reports_a_stall_at_once_instead_of_timing_out():
    event = f"{PLACE} The closest matching container-instance 5a8b is already using a port required by your task."
    result, slept = follow(Script([svc(1, 0, events=[event])]))
    assert result.outcome == "STALLED" and result.stall.code == "RESOURCE:PORTS"
    assert len(slept) == 1  # two looks at the same counts, not ten minutes
    assert "hostPort 0" in result.stall.remedy


def test_wait_reports_a_failed_rollout_with_the_stopped_reason():
    result, _ = follow(Script([svc(0, 0, "FAILED", reason="ECS deployment circuit breaker: tasks failed to start.")],
                              stopped=["CannotPullContainerError: failed to resolve ref web:9: not found"]))
    assert result.outcome == "FAILED" and result.stall.code == "IMAGE_PULL"


def test_wait_times_out_when_nothing_is_conclusive():
    moving = [svc(i % 3, 1) for i in range(100)]
    result, _ = follow(Script(moving), timeout=60)
    assert result.outcome == "TIMEOUT"
    # where the deployment stood at the last poll (a helper's trial: "TIMEOUT, 0/0 running ()")
    assert (result.desired, result.task_definition) == (3, "web:2") and result.running in (0, 1, 2)
    assert result.describe().startswith("service/prod/web: TIMEOUT, ") and "/3 running (web:2)" in result.describe()


def test_an_apply_that_does_not_wait_notes_the_forecasts_shortfall():
    """Without --wait, exit 0 says AWS accepted every call; the services it changed that the
    plan forecast short of their tasks are named, with the way to learn the outcome."""
    from types import SimpleNamespace as NS

    from ecsctl.cli.aws import _forecast_shortfalls

    step = NS(kind="Service", action="update", address="service/prod/web", name="web")
    other = NS(kind="Service", action="update", address="service/prod/api", name="api")
    execution = NS(done=[NS(step=step), NS(step=other)])
    plan = NS(predictions=[
        {"address": "service/prod/web", "kind": "Service", "wanted": 4, "short": 2, "reason": "RESOURCE:CPU"},
        {"address": "service/prod/api", "kind": "Service", "wanted": 2, "short": 0, "reason": ""},
        {"address": "service/prod/batch", "kind": "Service", "wanted": 2, "short": 2, "reason": "RESOURCE:CPU"},  # not applied
    ])
    assert _forecast_shortfalls(plan, execution) == [
        "the plan forecast service/prod/web 2 of 4 task(s) short (RESOURCE:CPU); --wait follows the deployment "
        "and exits 1 unless it completes"]
