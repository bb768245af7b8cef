"""Task start in the simulation: secrets, parameters, environment files, registry credentials,
the execution role and ECR images resolve against the catalogue, or the task stops.

The references are the documented ``valueFrom`` forms ("Pass sensitive data to an Amazon ECS
container", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html:
an SSM parameter by name or ARN; a Secrets Manager secret by full ARN, with or without the
6-character suffix, then ``:json-key:version-stage:version-id``); the messages are ECS's
``ResourceInitializationError`` / ``CannotPullContainerError`` ("Amazon ECS stopped task error
messages", stopped-task-error-codes.html) naming the reference that failed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local.firing import RULE_FIRING
from ecsctl.backends.local.tasks import RunTaskRequest, run_task
from ecsctl.core.plan.model import Step, address
from ecsctl.core.state import ContainerInstance, Task
from ecsctl.core.state.ports import HistoryEntry
from ecsctl.storage.sqlite_store import SqliteStateStore

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
SM = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db"
ROLE = "arn:aws:iam::123456789012:role/prod-ecs-task-execution"
CATALOGUE = [
    ("Parameter", "/prod/db/host", {"type": "String"}),
    ("Parameter", "/prod/api-key", {"type": "SecureString"}),
    ("Secret", "prod/db", {"keys": ["username", "password"], "versionStages": ["AWSCURRENT", "AWSPREVIOUS"],
                           "versionIds": ["EXAMPLE1-90ab-cdef-fedc-ba987SECRET1"]}),
    ("EnvironmentFile", "app-env", {"bucket": "acme-config", "key": "app/app.env", "variables": ["LOG_LEVEL"]}),
    ("Repository", "app", {"images": ["1.0", "1.1"]}),
]

_seq = iter(range(1, 100_000))


def step(kind: str, name: str, spec: dict) -> Step:
    return Step(id=f"s{next(_seq)}", action="create", address=address(kind, name, spec), kind=kind, name=name,
                spec=spec, before=None)


def taskdef(family: str, *, role: bool = True, image: str = f"{ECR}/app:1.0", **container) -> dict:
    spec = {"family": family, "networkMode": "bridge",
            "containerDefinitions": [{"name": "app", "image": image, "cpu": 256, "memory": 512, **container}]}
    if role:
        spec["executionRoleArn"] = ROLE
    return spec


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStateStore(tmp_path / "state.db")
    backend = LocalBackend(s)
    backend.apply_step(step("Cluster", "prod", {"containerInstances": [
        {"name": "general", "count": 1, "instanceType": "m5.large", "availabilityZone": "eu-west-1a"}]}))
    for kind, name, spec in CATALOGUE:
        backend.apply_step(step(kind, name, spec))
    yield s
    assert check_invariants(s) == []
    s.close()


def start(store, spec: dict, **request) -> Task:
    backend = LocalBackend(store)
    backend.apply_step(step("TaskDefinition", spec["family"], spec))
    result = run_task(backend.world, RunTaskRequest(cluster="prod", task_definition=spec["family"], **request))
    backend.commit()
    (task,) = result.tasks
    return store.get(Task, task.id)


def secret(ref: str) -> dict:
    return {"secrets": [{"name": "VALUE", "valueFrom": ref}]}


RESOLVED = [
    secret("/prod/db/host"),                                                    # SSM by name
    secret("arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-key"),      # SSM by ARN
    secret(f"{SM}-AbCdEf"),                                                     # full ARN, 6-character suffix
    secret(SM),                                                                 # partial ARN, no suffix
    secret(f"{SM}-AbCdEf:password::"),                                          # json-key
    secret(f"{SM}:username:AWSPREVIOUS:"),                                      # json-key and version stage
    secret(f"{SM}-AbCdEf:::EXAMPLE1-90ab-cdef-fedc-ba987SECRET1"),              # version id
    {"environmentFiles": [{"value": "arn:aws:s3:::acme-config/app/app.env", "type": "s3"}]},
    {"repositoryCredentials": {"credentialsParameter": f"{SM}-AbCdEf"}},
    {"logConfiguration": {"logDriver": "splunk", "options": {"splunk-url": "https://splunk:8088"},
                          "secretOptions": [{"name": "splunk-token", "valueFrom": "/prod/api-key"}]}},
]


@pytest.mark.parametrize("container", RESOLVED, ids=range(len(RESOLVED)))
def test_references_the_catalogue_holds_resolve_and_the_task_runs(store, container):
    task = start(store, taskdef("ok", **container))
    assert (task.last_status, task.stop_code) == ("RUNNING", "")


FAILING = [
    (secret("/prod/db/nope"), False,
     "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
     "ParameterNotFound: invalid parameters: /prod/db/nope"),
    (secret("arn:aws:ssm:eu-west-1:123456789012:parameter/prod/gone"), False,
     "ParameterNotFound: invalid parameters: arn:aws:ssm:eu-west-1:123456789012:parameter/prod/gone"),
    (secret("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/other-AbCdEf"), False,
     "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/other-AbCdEf from secrets manager: "
     "ResourceNotFoundException: Secrets Manager can't find the specified secret."),
    (secret(f"{SM}-AbCdEf:token::"), False, f"did not contain json key token ({SM}-AbCdEf:token::)"),
    (secret(f"{SM}::AWSPENDING:"), False, "can't find the specified secret value for staging label: AWSPENDING"),
    (secret(f"{SM}:::EXAMPLE2-90ab-cdef-fedc-ba987SECRET2"), False,
     "can't find the specified secret value for VersionId: EXAMPLE2-90ab-cdef-fedc-ba987SECRET2"),
    ({"environmentFiles": [{"value": "arn:aws:s3:::acme-config/app/missing.env", "type": "s3"}]}, False,
     "ResourceInitializationError: failed to download env files: file download command: non empty error stream: "
     "service call has been retried 5 time(s): NoSuchKey: The specified key does not exist. "
     "(arn:aws:s3:::acme-config/app/missing.env)"),
    ({"repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dockerhub"}},
     False, "failed to fetch secret arn:aws:secretsmanager:eu-west-1:123456789012:secret:dockerhub from secrets manager"),
    (secret("/prod/db/host"), True,
     "ResourceInitializationError: the task execution role is missing: container app needs the task definition's "
     "executionRoleArn to fetch its secrets"),
    ({"environmentFiles": [{"value": "arn:aws:s3:::acme-config/app/app.env", "type": "s3"}]}, True,
     "executionRoleArn to download its environment files"),
    ({"image": f"{ECR}/app:2.0"}, False,
     f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {ECR}/app:2.0: "
     f"{ECR}/app:2.0 not found (tag 2.0 is not in repository app)"),
    ({"image": f"{ECR}/billing:1.0"}, False, "not found (repository billing does not exist)"),
    ({"image": f"{ECR}/app"}, False, "not found (tag latest is not in repository app)"),
]


@pytest.mark.parametrize("container, no_role, message", FAILING, ids=range(len(FAILING)))
def test_a_reference_that_does_not_resolve_stops_the_task_naming_it(store, container, no_role, message):
    inst = store.find(ContainerInstance)[0]
    task = start(store, taskdef("bad", role=not no_role, **container))
    assert (task.last_status, task.desired_status, task.stop_code) == ("STOPPED", "STOPPED", "TaskFailedToStart")
    assert message in task.stop_reason
    after = store.get(ContainerInstance, inst.id)
    assert (after.remaining_cpu, after.running_tasks_count) == (inst.remaining_cpu, 0)  # held nothing


def test_an_execution_role_override_counts_as_the_task_definitions(store):
    task = start(store, taskdef("late-role", role=False, **secret("/prod/db/host")),
                 overrides={"executionRoleArn": ROLE})
    assert task.last_status == "RUNNING"


def test_a_scheduled_task_whose_secret_is_missing_records_the_failure(store):
    backend = LocalBackend(store)
    backend.apply_step(step("TaskDefinition", "job", taskdef("job", **secret("/prod/job/token"))))
    backend.apply_step(step("ScheduledTask", "job", {"scheduleExpression": "rate(5 minutes)", "target": {
        "cluster": "prod", "taskDefinition": "job", "launchType": "EC2"}}))
    LocalBackend(store).tick(timedelta(minutes=5))
    (firing,) = [h.data for h in store.find(HistoryEntry, kind=RULE_FIRING, name="job")]
    (failed,) = firing["failedToStart"]
    assert "ParameterNotFound: invalid parameters: /prod/job/token" in failed["reason"]
    assert "1 failed to start: ResourceInitializationError" in firing["message"]
    assert store.get(Task, failed["task"]).stop_code == "TaskFailedToStart"
