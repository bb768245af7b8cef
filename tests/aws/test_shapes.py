"""The field lists of ``core.aws.shapes`` are the API's (botocore's service model), and the
requests built from the example manifests pass botocore's parameter validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecsctl.core.aws import shapes

botocore_session = pytest.importorskip("botocore.session")
MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


@pytest.fixture(scope="module")
def model():
    session = botocore_session.get_session()
    return lambda name: session.get_service_model(name)


# What a list leaves out of the operation on purpose: an idempotency token nobody writes in a
# manifest, and a deployment-controller change, which the planner turns into a replace.
@pytest.mark.parametrize("fields,operation,left_out", [
    (shapes.REGISTER_TASK_DEFINITION, "RegisterTaskDefinition", set()), (shapes.CREATE_SERVICE, "CreateService", {"clientToken"}),
    (shapes.UPDATE_SERVICE, "UpdateService", {"deploymentController"}), (shapes.CREATE_CLUSTER, "CreateCluster", set()),
    (shapes.UPDATE_CLUSTER, "UpdateCluster", set()),
])
def test_field_lists_are_the_models(model, fields, operation, left_out):
    members = set(model("ecs").operation_model(operation).input_shape.members)
    assert set(fields) <= members and members - set(fields) == left_out


def test_read_only_fields_are_in_the_describe_shape_only(model):
    described = set(model("ecs").shape_for("TaskDefinition").members)
    register = set(model("ecs").operation_model("RegisterTaskDefinition").input_shape.members)
    assert set(shapes.TASK_DEFINITION_READ_ONLY) <= described - register


def _requests():
    from ecsctl.app.plan import read_manifests

    inputs = read_manifests([str(MANIFESTS)])
    by = {d.address: d for d in inputs.desired}
    web, worker = by["service/prod/web"], by["service/prod/worker"]
    auto = web.spec["autoScaling"]
    out = [("ecs", "UpdateService", shapes.request_update_service("web", web.spec, {**web.spec, "desiredCount": 2})),
           ("application-autoscaling", "RegisterScalableTarget", shapes.request_scalable_target("prod", "web", auto)),
           ("application-autoscaling", "PutScalingPolicy", shapes.request_target_tracking("prod", "web", auto["targetTracking"][0])),
           ("application-autoscaling", "PutScalingPolicy", shapes.request_step_scaling("prod", "web", auto["stepScaling"][0])),
           ("cloudwatch", "PutMetricAlarm", shapes.request_alarm("prod", "web", auto["stepScaling"][0], "arn:aws:autoscaling:p")),
           ("application-autoscaling", "PutScheduledAction", shapes.request_scheduled_action("prod", "web", auto["scheduled"][0])),
           ("ecs", "CreateService", shapes.request_create_service("worker", worker.spec)),
           ("ecs", "PutClusterCapacityProviders", shapes.request_put_cluster_capacity_providers("prod", by["cluster/prod"].spec))]
    for name in ("ingest-on-upload", "nightly-report"):
        spec = by[f"scheduledtask/{name}"].spec
        if shapes.uses_scheduler(spec):
            out.append(("scheduler", "CreateSchedule", shapes.request_schedule(name, spec, "arn:c", "arn:t", "arn:r")))
        else:
            out += [("events", "PutRule", shapes.request_put_rule(name, spec)),
                    ("events", "PutTargets", shapes.request_put_targets(name, spec, "arn:c", "arn:t", "arn:r"))]
    return out


def test_requests_of_the_example_stack_validate(model):
    from botocore.validate import ParamValidator

    from ecsctl.backends.aws.session import conform

    for service, operation, request in _requests():
        shape = model(service).operation_model(operation).input_shape
        report = ParamValidator().validate(conform(shape, request), shape)
        assert not report.has_errors(), f"{service}:{operation}: {report.generate_report()}"


def test_the_nightly_report_uses_the_scheduler_for_its_time_zone():
    assert shapes.uses_scheduler({"scheduleExpression": "cron(0 2 * * ? *)", "scheduleExpressionTimezone": "Europe/Paris"})
    assert shapes.uses_scheduler({"scheduleExpression": "at(2026-01-01T00:00:00)"})
    assert not shapes.uses_scheduler({"scheduleExpression": "rate(1 hour)", "scheduleExpressionTimezone": "UTC"})
    assert not shapes.uses_scheduler({"eventPattern": {"source": ["aws.s3"]}})


def test_update_service_keeps_auto_scalings_desired_count_and_clears_dropped_lists():
    before = {"cluster": "prod", "desiredCount": 3, "placementConstraints": [{"type": "distinctInstance"}], "launchType": "EC2"}
    after = {"cluster": "prod", "desiredCount": 3, "launchType": "EC2"}
    req = shapes.request_update_service("web", after, before)
    assert "desiredCount" not in req and req["placementConstraints"] == [] and "launchType" not in req
    assert shapes.request_update_service("web", {**after, "desiredCount": 4}, before)["desiredCount"] == 4


ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"


@pytest.mark.parametrize("deployments, revision, force", [
    # DescribeServices deployments[] as ECS reports a circuit-breaker stop without rollback: the
    # PRIMARY deployment of the revision FAILED, the older (ACTIVE) one keeps its tasks
    ([{"status": "PRIMARY", "taskDefinition": ARN, "rolloutState": "FAILED"},
      {"status": "ACTIVE", "taskDefinition": ARN[:-1] + "2", "rolloutState": "COMPLETED"}], "web:3", True),
    ([{"status": "PRIMARY", "taskDefinition": ARN, "rolloutState": "FAILED"}], ARN, True),
    # another revision is a new deployment anyway; a COMPLETED or IN_PROGRESS one needs no force
    ([{"status": "PRIMARY", "taskDefinition": ARN, "rolloutState": "FAILED"}], "web:4", False),
    ([{"status": "PRIMARY", "taskDefinition": ARN, "rolloutState": "COMPLETED"}], "web:3", False),
    ([{"status": "PRIMARY", "taskDefinition": ARN, "rolloutState": "IN_PROGRESS"}], "web:3", False),
    # after a rollback the FAILED deployment is no longer PRIMARY: the revision differs, no force
    ([{"status": "PRIMARY", "taskDefinition": ARN[:-1] + "2", "rolloutState": "IN_PROGRESS"},
      {"status": "ACTIVE", "taskDefinition": ARN, "rolloutState": "FAILED"}], "web:3", False),
    ([], "web:3", False),
])
def test_a_failed_deployment_of_the_same_revision_is_deployed_again_with_force(deployments, revision, force):
    assert shapes.failed_deployment_of({"deployments": deployments}, revision) is force


def test_an_input_transformer_goes_to_put_targets_and_reads_back(model):
    """EventBridge's PutTargets takes InputTransformer {InputPathsMap, InputTemplate}; without it
    the task of ingest-on-upload would start without the object's bucket and key."""
    from ecsctl.app.plan import read_manifests

    spec = {d.address: d for d in read_manifests([str(MANIFESTS)]).desired}["scheduledtask/ingest-on-upload"].spec
    transformer = spec["target"]["inputTransformer"]
    (item,) = shapes.request_put_targets("ingest-on-upload", spec, "arn:c", "arn:t", "arn:r")["Targets"]
    assert item["InputTransformer"] == {"InputTemplate": transformer["inputTemplate"],
                                        "InputPathsMap": transformer["inputPathsMap"]}
    assert set(item["InputTransformer"]) <= set(model("events").shape_for("InputTransformer").members)
    read = shapes.spec_from_rule({"State": "ENABLED", "EventPattern": "{}"}, [{**item, "EcsParameters": item["EcsParameters"]}])
    assert read["target"]["inputTransformer"] == transformer
