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
    ("ECR image, no Repository documents at all", td(image=f"{ECR}:9.9"), {}, None, ""),
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
    ("ECR on Fargate without execution role", td(fargate=True, role=False, image=f"{ECR}:1.0"), {},
     "ResourceInitializationError:", "task execution role"),
    ("ECR on EC2 without execution role", td(role=False, image=f"{ECR}:1.0"), {}, None, ""),
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
