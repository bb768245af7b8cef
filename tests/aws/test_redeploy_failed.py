"""The AWS backend deploys a revision whose deployment FAILED without rollback again, as the
plan says (``app.plan.revision_changes``): UpdateService with the same task definition starts no
deployment in ECS, so it sends ``forceNewDeployment`` (the ``update-service
--force-new-deployment`` of the AWS documentation's circuit-breaker recovery)."""

from __future__ import annotations

from ecsctl.backends.aws.backend import AwsBackend
from ecsctl.core.plan.model import Step

ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"
SPEC = {"cluster": "prod", "taskDefinition": "web:3", "desiredCount": 2, "launchType": "EC2"}


class RecordingAws:
    """Answers DescribeServices with one service; records every call."""

    region = "eu-west-1"

    def __init__(self, rollout_state: str) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.service = {"serviceName": "web", "serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/prod/web",
                        "status": "ACTIVE", "taskDefinition": ARN, "desiredCount": 2, "tags": [],
                        "deployments": [{"status": "PRIMARY", "taskDefinition": ARN, "rolloutState": rollout_state}]}

    def call(self, service: str, operation: str, address: str, /, **params) -> dict:
        self.calls.append((operation, params))
        if operation == "DescribeServices":
            return {"services": [self.service]}
        return {}


def _update(rollout_state: str) -> tuple[dict, str]:
    aws = RecordingAws(rollout_state)
    step = Step(id="update service/prod/web", action="update", address="service/prod/web", kind="Service",
                name="web", spec=SPEC, before=SPEC)
    outcome = AwsBackend(store=None, aws=aws).perform(step)
    [update] = [params for op, params in aws.calls if op == "UpdateService"]
    return update, " ".join(outcome.did)


def test_a_failed_deployment_is_forced_again():
    update, did = _update("FAILED")
    assert update["forceNewDeployment"] is True and update["taskDefinition"] == "web:3"
    assert "new deployment" in did


def test_a_completed_deployment_is_not_forced():
    update, did = _update("COMPLETED")
    assert "forceNewDeployment" not in update and did == "updated service web"
