"""Secrets, environment files, and the execution role that fetches them."""

from __future__ import annotations

import re

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import dicts, is_fargate, items, label

TD = ("TaskDefinition",)
MAX_ENV_FILES = 10

ECR_IMAGE_RE = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
SSM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/?[A-Za-z0-9_.\-/]+$")
# Plain (same-Region) parameter names are only checked for being one word: ECS resolves
# them when the task starts, and templated names ($$$NAME$$$, {{...}}) are common.
SSM_NAME_RE = re.compile(r"^\S+$")
SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:([^:]+)(?::(.*))?$")
# an S3 object ARN (legacy bucket names may hold capitals and underscores)
S3_OBJECT_ARN_RE = re.compile(r"^arn:aws[a-z-]*:s3:::[A-Za-z0-9._-]{3,255}/.+$")


def _execution_role(spec) -> bool:
    role = spec.get("executionRoleArn")
    return isinstance(role, str) and role.strip() != ""


def _secret_lists(c):
    """(path suffix, list of secrets) for container secrets and log secretOptions."""
    yield ("secrets",), items(c, "secrets")
    log = c.get("logConfiguration")
    if isinstance(log, dict) and isinstance(log.get("secretOptions"), list):
        yield ("logConfiguration", "secretOptions"), log["secretOptions"]


def secret_reference_problem(value: str) -> str | None:
    """Why ``valueFrom`` is not a parameter name/ARN or Secrets Manager ARN; None if it is.

    >>> secret_reference_problem("/app/db/password") is None
    True
    >>> secret_reference_problem("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::") is None
    True
    >>> secret_reference_problem("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password")
    "the Secrets Manager suffix must be ':json-key:version-stage:version-id' with all three colons (e.g. ':password::')"
    """
    if value.startswith("arn:"):
        service = value.split(":")[2] if value.count(":") >= 2 else ""
        if service == "ssm":
            return None if SSM_ARN_RE.match(value) else "an SSM ARN looks like arn:aws:ssm:<region>:<account>:parameter/<name>"
        if service == "secretsmanager":
            m = SECRET_ARN_RE.match(value)
            if not m:
                return "a Secrets Manager ARN looks like arn:aws:secretsmanager:<region>:<account>:secret:<name>"
            suffix = m.group(2)
            if suffix is None:
                return None
            parts = suffix.split(":")
            if len(parts) != 3:
                return "the Secrets Manager suffix must be ':json-key:version-stage:version-id' with all three colons (e.g. ':password::')"
            if parts[1] and parts[2]:
                return "version-stage and version-id are mutually exclusive"
            return None
        return f"'{service}' ARNs cannot be secrets; use an SSM parameter or a Secrets Manager secret"
    return None if SSM_NAME_RE.match(value) else "an SSM parameter name cannot be empty or contain spaces"


@register
class ExecutionRoleForSecrets(Rule):
    """``secrets``, ``secretOptions``, ``environmentFiles`` and ``repositoryCredentials`` need ``executionRoleArn``.

    The agent fetches SSM parameters, Secrets Manager secrets, S3 environment
    files and private-registry credentials with the task execution role, on
    every launch type (2023 guide ``task_execution_IAM_role.md``).

    Bad:   containerDefinitions: [{name: web, secrets: [{name: DB, valueFrom: /db}]}]   # no executionRoleArn
    Good:  executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    """

    id = "E2060"
    title = "Secrets and env files need an execution role"
    kinds = TD

    def check(self, spec, doc, ctx):
        if _execution_role(spec):
            return
        for i, c in containers(spec):
            needs = [key for key in ("secrets", "environmentFiles") if items(c, key)]
            log = c.get("logConfiguration")
            if isinstance(log, dict) and isinstance(log.get("secretOptions"), list) and log["secretOptions"]:
                needs.append("logConfiguration.secretOptions")
            if isinstance(c.get("repositoryCredentials"), dict):
                needs.append("repositoryCredentials")
            if needs:
                yield ("containerDefinitions", i), f"{label(i, c)}: {', '.join(needs)} require the task definition to have an executionRoleArn"


@register
class FargateExecutionRoleForAwslogs(Rule):
    """On Fargate the ``awslogs`` log driver needs ``executionRoleArn``.

    ECS: ``Fargate requires task definition to have execution role ARN to
    support log driver awslogs.`` (virtual-kubelet/virtual-kubelet#193).  On
    EC2 the instance role is used instead.

    Bad:   requiresCompatibilities: [FARGATE]   logConfiguration: {logDriver: awslogs}   # no executionRoleArn
    Good:  executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    """

    id = "E2061"
    title = "awslogs on Fargate needs an execution role"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec) or _execution_role(spec):
            return
        for i, c in containers(spec):
            log = c.get("logConfiguration")
            if isinstance(log, dict) and log.get("logDriver") == "awslogs":
                yield ("containerDefinitions", i, "logConfiguration"), (
                    f"{label(i, c)}: Fargate requires task definition to have execution role ARN to support log driver awslogs."
                )


@register
class FargateExecutionRoleForEcr(Rule):
    """On Fargate an image from a private ECR registry needs ``executionRoleArn``.

    ECS: ``Fargate requires task definition to have execution role ARN to
    support ECR images.``  ECR images look like
    ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``.

    Bad:   requiresCompatibilities: [FARGATE]   image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1   # no role
    Good:  executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    """

    id = "E2062"
    title = "ECR images on Fargate need an execution role"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec) or _execution_role(spec):
            return
        for i, c in containers(spec):
            image = c.get("image")
            if isinstance(image, str) and ECR_IMAGE_RE.match(image):
                yield ("containerDefinitions", i, "image"), (
                    f"{label(i, c)}: Fargate requires task definition to have execution role ARN to support ECR images."
                )


@register
class SecretReference(Rule):
    """A secret's ``valueFrom`` is an SSM parameter (name or ARN) or a Secrets Manager ARN.

    Secrets Manager ARNs may end in ``:json-key:version-stage:version-id``;
    when any of the three is used all three colons are written
    (``…:password::``), and version-stage and version-id are mutually
    exclusive (2023 guide ``specifying-sensitive-data-secrets.md``).

    Bad:   valueFrom: arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password
    Good:  valueFrom: arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password::
    """

    id = "E2063"
    title = "Secret valueFrom is a parameter or secret reference"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            for suffix, secrets in _secret_lists(c):
                for j, s in enumerate(secrets):
                    value = s.get("valueFrom") if isinstance(s, dict) else None
                    if not isinstance(value, str):
                        continue
                    problem = secret_reference_problem(value)
                    if problem:
                        yield ("containerDefinitions", i, *suffix, j, "valueFrom"), (
                            f"{label(i, c)}: secret '{s.get('name')}' valueFrom {value!r}: {problem}"
                        )


@register
class UniqueSecretNames(Rule):
    """Each secret name (environment variable) appears once per container.

    Bad:   secrets: [{name: DB, valueFrom: /a}, {name: DB, valueFrom: /b}]
    Good:  secrets: [{name: DB, valueFrom: /a}, {name: DB_RO, valueFrom: /b}]
    """

    id = "E2064"
    title = "Secret names are unique per container"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            for suffix, secrets in _secret_lists(c):
                seen: set = set()
                for j, s in enumerate(secrets):
                    name = s.get("name") if isinstance(s, dict) else None
                    if not isinstance(name, str):
                        continue
                    if name in seen:
                        yield ("containerDefinitions", i, *suffix, j, "name"), f"{label(i, c)}: secret '{name}' is defined more than once"
                    seen.add(name)


@register
class SecretShadowsEnvironment(Rule):
    """A variable is either a secret or a plain environment variable, not both.

    Which value wins is not documented; keep the secret and drop the plain copy.

    Bad:   environment: [{name: DB, value: x}]   secrets: [{name: DB, valueFrom: /db}]
    Good:  secrets: [{name: DB, valueFrom: /db}]
    """

    id = "E2065"
    title = "Secret names are not also environment variables"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            secrets = items(c, "secrets")
            if not secrets:
                continue
            env = {e.get("name") for _, e in dicts(c, "environment") if isinstance(e.get("name"), str)}
            for j, s in enumerate(secrets):
                name = s.get("name") if isinstance(s, dict) else None
                if isinstance(name, str) and name in env:
                    yield ("containerDefinitions", i, "secrets", j, "name"), f"{label(i, c)}: '{name}' is both a secret and an environment variable"


@register
class EnvironmentFileReference(Rule):
    """An environment file is ``type: s3`` with the ARN of an S3 object.

    Source: the API's EnvironmentFile ("The Amazon Resource Name (ARN) of the
    Amazon S3 object containing the environment variable file"; type ``s3``).

    Bad:   environmentFiles: [{type: s3, value: s3://bucket/app.env}]
    Good:  environmentFiles: [{type: s3, value: arn:aws:s3:::bucket/app.env}]
    """

    id = "E2066"
    title = "environmentFiles are S3 object ARNs"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            for j, f in dicts(c, "environmentFiles"):
                kind, value = f.get("type"), f.get("value")
                if kind is not None and kind != "s3":
                    yield ("containerDefinitions", i, "environmentFiles", j, "type"), f"{label(i, c)}: environment file type must be 's3', not {kind!r}"
                if isinstance(value, str) and not S3_OBJECT_ARN_RE.match(value):
                    yield ("containerDefinitions", i, "environmentFiles", j, "value"), (
                        f"{label(i, c)}: environment file {value!r} must be an S3 object ARN (arn:aws:s3:::bucket/key.env)"
                    )


@register
class EnvironmentFileExtension(Rule):
    """An environment file's name should end in ``.env``.

    The guide says "The file must use the .env file extension", but
    RegisterTaskDefinition takes other names (users register
    ``arn:aws:s3:::bucket/folder/env_file_name``), so this is a warning: what the agent
    does with such a file is not documented.

    Bad:   environmentFiles: [{type: s3, value: arn:aws:s3:::bucket/app.txt}]
    Good:  environmentFiles: [{type: s3, value: arn:aws:s3:::bucket/app.env}]
    """

    id = "W2069"
    title = "Environment files end in .env"
    kinds = TD
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            for j, f in dicts(c, "environmentFiles"):
                value = f.get("value")
                if isinstance(value, str) and S3_OBJECT_ARN_RE.match(value) and not value.endswith(".env"):
                    yield ("containerDefinitions", i, "environmentFiles", j, "value"), (
                        f"{label(i, c)}: environment file {value!r} does not end in .env, the extension the guide requires")


@register
class EnvironmentFileCount(Rule):
    """A container may list at most 10 environment files.

    Source: 2023 guide ``task_definition_parameters.md`` ("up to ten environment files").

    Bad:   environmentFiles: [11 files]
    Good:  environmentFiles: [up to 10 files]
    """

    id = "E2067"
    title = "At most 10 environment files"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            count = len(items(c, "environmentFiles"))
            if count > MAX_ENV_FILES:
                yield ("containerDefinitions", i, "environmentFiles"), f"{label(i, c)}: {count} environment files given; at most {MAX_ENV_FILES} are allowed"


@register
class StartsWithTheCatalogue(Rule):
    """Images, secrets and environment files are found in the Repository, Parameter, Secret
    and EnvironmentFile manifests validated with the task definition.

    A warning: ECS registers the task definition, and every task of it then stops at start
    (``CannotPullContainerError`` for a tag the repository lacks, ``ResourceInitializationError``
    for a missing parameter, secret, JSON key or env file), as the plan forecasts.  Checked per
    kind only when the run declares at least one document of that kind (what is not declared
    may live outside what ecsctl manages), and for ECR images only (other registries are not
    modelled).

    Bad::

        # Repository web: {images: ["1.4.1"]}
        image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2

    Good::

        # Repository web: {images: ["1.4.1", "1.4.2"]}
        image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2
    """

    id = "W2068"
    title = "Images, secrets and env files exist in the declared catalogue"
    kinds = TD
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        from ecsctl.core.deploy.failures import catalogue_failures

        catalogue, kinds = ctx.catalogue()
        if not catalogue:
            return
        for i, c in containers(spec):
            for fld, reason in catalogue_failures(c, catalogue, kinds):
                where = ("containerDefinitions", i, fld) if fld in c else ("containerDefinitions", i)
                yield where, f"{label(i, c)}: its tasks would stop at start: {reason}"
