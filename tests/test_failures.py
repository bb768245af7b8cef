"""Why a new task would fail to start (core.deploy.failures.start_failure): a table."""

from __future__ import annotations

import pytest

from ecsctl.core.deploy.failures import start_failure

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web"
SM = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-Xk9fQ2"
ROLE = {"executionRoleArn": "arn:aws:iam::123456789012:role/exec"}


def td(*, fargate: bool = False, role: bool = True, **container) -> dict:
    c = {"name": "app", "image": "nginx:1.27", **container}
    spec = {"containerDefinitions": [c], **(ROLE if role else {})}
    if fargate:
        spec["requiresCompatibilities"] = ["FARGATE"]
    return spec


REPO = {"repository/web": {"images": ["1.0"]}}
PARAM = {'parameter/"/prod/db"': {"type": "SecureString"}}
SECRET = {'secret/"prod/db"': {"keys": ["password"]}}
ENVFILE = {"envfile/web-env": {"bucket": "cfg", "key": "web.env"}}

# (name, task definition, catalogue, expected prefix or None, fragment of the reason)
CASES = [
    ("plain image, empty catalogue", td(), {}, None, ""),
    # DESIGN §3: images in an ECR registry that no Repository holds fail to pull in the simulation
    ("ECR image, no Repository documents at all", td(image=f"{ECR}:9.9"), {}, "CannotPullContainerError:",
     "repository web does not exist"),
    ("ECR tag held", td(image=f"{ECR}:1.0"), REPO, None, ""),
    ("ECR tag missing", td(image=f"{ECR}:2.0"), REPO, "CannotPullContainerError:", f"{ECR}:2.0 not found"),
    ("ECR untagged means latest", td(image=ECR), REPO, "CannotPullContainerError:", "tag latest"),
    ("ECR repository missing", td(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1"), REPO,
     "CannotPullContainerError:", "repository api does not exist"),
    ("Repository without images holds any tag", td(image=f"{ECR}:7"), {"repository/web": {}}, None, ""),
    ("SSM name held", td(secrets=[{"name": "DB", "valueFrom": "/prod/db"}]), PARAM, None, ""),
    ("SSM ARN held (either candidate)", td(secrets=[{"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db"}]),
     PARAM, None, ""),
    ("SSM missing", td(secrets=[{"name": "DB", "valueFrom": "/prod/other"}]), PARAM,
     "ResourceInitializationError: unable to pull secrets or registry auth", "ParameterNotFound"),
    ("SSM unchecked without Parameter entries", td(secrets=[{"name": "DB", "valueFrom": "/prod/other"}]), SECRET, None, ""),
    ("secretOptions missing", td(logConfiguration={"logDriver": "splunk", "secretOptions": [{"name": "t", "valueFrom": "/x"}]}),
     PARAM, "ResourceInitializationError: unable to pull secrets or registry auth", "ParameterNotFound"),
    ("Secrets Manager suffixed ARN held", td(secrets=[{"name": "DB", "valueFrom": SM}]), SECRET, None, ""),
    ("Secrets Manager json-key held", td(secrets=[{"name": "DB", "valueFrom": SM + ":password::"}]), SECRET, None, ""),
    ("Secrets Manager json-key missing", td(secrets=[{"name": "DB", "valueFrom": SM + ":user::"}]), SECRET,
     "ResourceInitializationError: unable to pull secrets or registry auth", "did not contain json key user"),
    ("Secrets Manager secret missing",
     td(secrets=[{"name": "DB", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other"}]), SECRET,
     "ResourceInitializationError: unable to pull secrets or registry auth", "ResourceNotFoundException"),
    ("env file held", td(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::cfg/web.env"}]), ENVFILE, None, ""),
    ("env file missing", td(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::cfg/api.env"}]), ENVFILE,
     "ResourceInitializationError: failed to download env files", "NoSuchKey"),
    ("env file unchecked without EnvironmentFile entries", td(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::cfg/api.env"}]),
     {}, None, ""),
    ("secrets without execution role", td(role=False, secrets=[{"name": "DB", "valueFrom": "/prod/db"}]), PARAM,
     "ResourceInitializationError:", "task execution role"),
    ("env files without execution role", td(role=False, environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::cfg/web.env"}]), {},
     "ResourceInitializationError:", "task execution role"),
    ("ECR on Fargate without execution role", td(fargate=True, role=False, image=f"{ECR}:1.0"), REPO,
     "ResourceInitializationError:", "task execution role"),
    ("ECR on EC2 without execution role", td(role=False, image=f"{ECR}:1.0"), REPO, None, ""),
    ("awslogs on Fargate without execution role", td(fargate=True, role=False, logConfiguration={"logDriver": "awslogs"}), {},
     "ResourceInitializationError:", "task execution role"),
    ("awslogs on EC2 without execution role", td(role=False, logConfiguration={"logDriver": "awslogs"}), {}, None, ""),
    ("the image is checked before the secrets",
     td(image=f"{ECR}:2.0", secrets=[{"name": "DB", "valueFrom": "/prod/other"}]), {**REPO, **PARAM}, "CannotPullContainerError:", ""),
]


@pytest.mark.parametrize(("name", "spec", "catalogue", "prefix", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_start_failure(name, spec, catalogue, prefix, fragment) -> None:
    got = start_failure(spec, catalogue)
    if prefix is None:
        assert got is None
    else:
        assert got is not None and got.startswith(prefix), got
        assert fragment in got


# --- every failure with its whole message -------------------------------------------------------
# ECS's stopped reasons (ResourceInitializationError / CannotPullContainerError) as the agent
# words them in the public issues cited by ecs-semantics Appendix A; the reference is named.

SSM_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/other"
SM_FULL = SM + ":password:AWSPREVIOUS:"
SECRET_STAGES = {'secret/"prod/db"': {"keys": ["password"], "versionStages": ["AWSCURRENT"],
                                    "versionIds": ["EXAMPLE1-90ab-cdef-fedc-ba987SECRET1"]}}
PULL = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
ASM_MISSING = ("unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {ref} "
               "from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret")

MESSAGES = [
    ("ECR tag missing", td(image=f"{ECR}:2.0"), REPO,
     f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {ECR}:2.0: "
     f"{ECR}:2.0 not found (tag 2.0 is not in repository web)"),
    ("ECR digest missing", td(image=f"{ECR}@sha256:{'a' * 64}"), REPO,
     f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {ECR}@sha256:{'a' * 64}: "
     f"{ECR}@sha256:{'a' * 64} not found (tag sha256:{'a' * 64} is not in repository web)"),
    ("ECR repository missing", td(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1"), REPO,
     "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1 not found "
     "(repository api does not exist)"),
    ("SSM parameter by name missing", td(secrets=[{"name": "DB", "valueFrom": "/prod/other"}]), PARAM,
     PULL + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): ParameterNotFound: invalid parameters: /prod/other"),
    ("SSM parameter by ARN missing", td(secrets=[{"name": "DB", "valueFrom": SSM_ARN}]), PARAM,
     PULL + f"unable to retrieve secrets from ssm: service call has been retried 1 time(s): ParameterNotFound: invalid parameters: {SSM_ARN}"),
    ("Secrets Manager secret missing (partial ARN)",
     td(secrets=[{"name": "DB", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/other"}]), SECRET,
     PULL + ASM_MISSING.format(ref="arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/other") + "."),
    ("Secrets Manager json-key missing", td(secrets=[{"name": "DB", "valueFrom": SM + ":user::"}]), SECRET,
     PULL + f"unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key user ({SM}:user::)"),
    ("Secrets Manager version stage missing", td(secrets=[{"name": "DB", "valueFrom": SM_FULL}]), SECRET_STAGES,
     PULL + ASM_MISSING.format(ref=SM_FULL) + " value for staging label: AWSPREVIOUS"),
    ("Secrets Manager version id missing", td(secrets=[{"name": "DB", "valueFrom": SM + ":::11111111-2222-3333-4444-555555555555"}]),
     SECRET_STAGES, PULL + ASM_MISSING.format(ref=SM + ":::11111111-2222-3333-4444-555555555555")
     + " value for VersionId: 11111111-2222-3333-4444-555555555555"),
    ("private registry credentials missing",
     td(image="ghcr.io/acme/app:1", repositoryCredentials={"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ghcr-AbCdEf"}),
     SECRET, PULL + ASM_MISSING.format(ref="arn:aws:secretsmanager:eu-west-1:123456789012:secret:ghcr-AbCdEf") + "."),
    ("environment file missing", td(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::cfg/api.env"}]), ENVFILE,
     "ResourceInitializationError: failed to download env files: file download command: non empty error stream: "
     "service call has been retried 5 time(s): NoSuchKey: The specified key does not exist. (arn:aws:s3:::cfg/api.env)"),
    ("execution role missing for secrets", td(role=False, secrets=[{"name": "DB", "valueFrom": "/prod/db"}]), PARAM,
     "ResourceInitializationError: the task execution role is missing: container app needs the task definition's "
     "executionRoleArn to fetch its secrets"),
    ("execution role missing for registry credentials",
     td(role=False, repositoryCredentials={"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-Xk9fQ2"}),
     SECRET, "ResourceInitializationError: the task execution role is missing: container app needs the task definition's "
     "executionRoleArn to fetch its secrets"),
    ("execution role missing for env files", td(role=False, environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::cfg/web.env"}]),
     ENVFILE, "ResourceInitializationError: the task execution role is missing: container app needs the task definition's "
     "executionRoleArn to download its environment files"),
    ("execution role missing for ECR on Fargate", td(fargate=True, role=False, image=f"{ECR}:1.0"), REPO,
     "ResourceInitializationError: the task execution role is missing: container app needs the task definition's "
     "executionRoleArn to pull its ECR image on Fargate"),
]


@pytest.mark.parametrize(("name", "spec", "catalogue", "message"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_failure_messages(name, spec, catalogue, message) -> None:
    assert start_failure(spec, catalogue) == message


@pytest.mark.parametrize("ref", [
    SM_FULL.replace("AWSPREVIOUS", "AWSCURRENT"),
    SM + ":::EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db",  # partial ARN, no suffix
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db:password::",
])
def test_secret_references_that_resolve(ref) -> None:
    assert start_failure(td(secrets=[{"name": "DB", "valueFrom": ref}]), SECRET_STAGES) is None


def test_no_value_ever_appears() -> None:
    """The catalogue holds names, keys and stages; a value smuggled into it never reaches a message."""
    canary = "s3cr3t-CANARY-value"
    catalogue = {'secret/"prod/db"': {"keys": ["password"], "value": canary}, 'parameter/"/prod/db"': {"type": "SecureString", "value": canary}}
    for spec in (td(secrets=[{"name": "DB", "valueFrom": SM + ":user::"}]), td(secrets=[{"name": "DB", "valueFrom": "/prod/x"}]),
                 td(role=False, secrets=[{"name": "DB", "valueFrom": "/prod/db"}])):
        message = start_failure(spec, catalogue)
        assert message and canary not in message
