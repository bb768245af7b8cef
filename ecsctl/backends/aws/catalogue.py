"""Catalogue kinds on AWS: checked for existence, never created, changed or deleted.

Parameter, Secret, EnvironmentFile, Repository and TargetGroup manifests say what already exists
outside ECS and what the task definitions refer to. On AWS they are usually owned by other
tooling (and hold secret values that ecsctl must never see), so the AWS backend only *checks*
them, through calls that return metadata and never a value:

    Parameter        ssm:DescribeParameters (Name equals)
    Secret           secretsmanager:DescribeSecret
    EnvironmentFile  s3:HeadObject (bucket, key)
    Repository       ecr:DescribeRepositories, and ecr:DescribeImages for the tags it lists
    TargetGroup      elasticloadbalancing:DescribeTargetGroups (by name)
    Queue            sqs:GetQueueUrl (by name)
    SecurityGroup    ec2:DescribeSecurityGroups (by groupId, else by group name)

A missing one fails its step with one line; a delete only forgets it in the state.
"""

from __future__ import annotations

from ecsctl.backends.aws.session import Aws, AwsError, paged
from ecsctl.core.aws.drift import CHECKED_ONLY

KINDS = CHECKED_ONLY
_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "InvalidGroup.NotFound", "ParameterNotFound", "ResourceNotFoundException", "RepositoryNotFoundException", "ImageNotFoundException",
            "TargetGroupNotFound", "TargetGroupNotFoundException", "404", "NoSuchKey", "NotFound"}


def missing(aws: Aws, kind: str, name: str, spec: dict, address: str) -> str | None:
    """Why the resource does not exist as the manifest says, or ``None`` when it does."""
    try:
        return _CHECKS[kind](aws, name, spec, address)
    except AwsError as exc:
        if exc.code in _MISSING:
            return f"{_WHAT[kind]} {name!r} does not exist in {aws.region}"
        raise


def _parameter(aws: Aws, name: str, spec: dict, address: str) -> str | None:
    found = aws.call("ssm", "DescribeParameters", address,
                     ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]).get("Parameters", [])
    if not found:
        return f"SSM parameter {name!r} does not exist in {aws.region}"
    kind = spec.get("type")
    if kind and found[0].get("Type") != kind:
        return f"SSM parameter {name!r} is a {found[0].get('Type')}, not a {kind}"
    return None


def _secret(aws: Aws, name: str, spec: dict, address: str) -> str | None:
    aws.call("secretsmanager", "DescribeSecret", address, SecretId=name)
    return None


def _envfile(aws: Aws, name: str, spec: dict, address: str) -> str | None:
    aws.call("s3", "HeadObject", address, Bucket=spec.get("bucket", ""), Key=spec.get("key", ""))
    return None


def _repository(aws: Aws, name: str, spec: dict, address: str) -> str | None:
    params = {"repositoryNames": [name]}
    if spec.get("registryId"):
        params["registryId"] = str(spec["registryId"])
    aws.call("ecr", "DescribeRepositories", address, **params)
    tags = [str(t) for t in spec.get("images") or ()]
    if tags:
        params = {"repositoryName": name, "filter": {"tagStatus": "TAGGED"}}
        if spec.get("registryId"):
            params["registryId"] = str(spec["registryId"])
        found = {t for d in paged(aws, "ecr", "DescribeImages", "imageDetails", address, **params)
                 for t in d.get("imageTags", [])}
        absent = [t for t in tags if t not in found]
        if absent:
            return f"ECR repository {name!r} holds no image tagged {', '.join(absent)}"
    return None


def _target_group(aws: Aws, name: str, spec: dict, address: str) -> str | None:
    aws.call("elbv2", "DescribeTargetGroups", address, Names=[name])
    return None


def _queue(aws: Aws, name: str, spec: dict, address: str) -> str | None:
    aws.call("sqs", "GetQueueUrl", address, QueueName=name)
    return None


def _security_group(aws: Aws, name: str, spec: dict, address: str) -> str | None:
    if spec.get("groupId"):
        aws.call("ec2", "DescribeSecurityGroups", address, GroupIds=[str(spec["groupId"])])
        return None
    found = aws.call("ec2", "DescribeSecurityGroups", address,
                     Filters=[{"Name": "group-name", "Values": [name]}]).get("SecurityGroups", [])
    return None if found else f"security group {name!r} does not exist in {aws.region}"


_CHECKS = {"Parameter": _parameter, "Secret": _secret, "EnvironmentFile": _envfile, "Repository": _repository,
           "TargetGroup": _target_group, "Queue": _queue, "SecurityGroup": _security_group}
_WHAT = {"Parameter": "SSM parameter", "Secret": "Secrets Manager secret", "EnvironmentFile": "S3 environment file",
         "Repository": "ECR repository", "TargetGroup": "target group", "Queue": "SQS queue",
         "SecurityGroup": "security group"}
