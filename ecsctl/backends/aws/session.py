"""One boto3 session for a run: region, profile, endpoint, retries, and every API call's errors.

``Aws(options)`` builds the session from ``--region``, ``--profile``, ``--endpoint-url`` and the
usual credential chain (environment, shared config and credentials files, SSO, container and
instance roles: whatever boto3 finds). Every client uses botocore's **standard** retry mode
(exponential backoff with jitter on throttling and transient errors, ``max_attempts`` in all),
so throttled calls are retried rather than failing the apply.

``Aws.call(service, operation, address, **params)`` is the only way the backend talks to AWS:

* parameters written in the manifests' camelCase are matched, key by key, to the exact member
  names of the operation's input shape in botocore's service model (``conform``), so the same
  spec can feed ECS (camelCase), EventBridge (PascalCase with camelCase corners) and
  Application Auto Scaling (PascalCase);
* every failure becomes one ``AwsError`` line that names what was being done: missing
  credentials or region, access denied (with the IAM action ``ecs:CreateService``), a missing
  cluster, an invalid role, throttling that outlasted the retries, an endpoint that cannot be
  reached, or the service's own message.

boto3 is imported here, lazily (``ecsctl validate`` never pays for it); clients are created
once, up front, because boto3 sessions are not thread-safe while clients are.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from ecsctl.errors import InputError, UsageError

SERVICES = ("ecs", "application-autoscaling", "cloudwatch", "events", "scheduler", "ssm", "secretsmanager",
            "ecr", "elbv2", "s3", "sts", "iam", "autoscaling", "sqs", "ec2")
DEFAULT_MAX_ATTEMPTS = 8
NEEDS_EXTRA = "--backend aws needs boto3: pip install 'ecsctl[aws]'"
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException",
           "AuthorizationError", "Forbidden"}
_BAD_CREDENTIALS = {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
                    "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"}
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
              "SlowDown", "RequestThrottled", "RequestThrottledException"}
_IAM_PREFIX = {"application-autoscaling": "application-autoscaling", "elbv2": "elasticloadbalancing",
               "cloudwatch": "cloudwatch"}


class AwsError(InputError):
    """An AWS call failed; the message is one line that says what, where and why."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class AwsOptions:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


def conform(shape: Any, value: Any) -> Any:
    """``value`` with every structure key renamed to the member of ``shape`` it matches
    case-insensitively (``taskCount`` -> ``TaskCount``); unknown keys are kept, so botocore's
    parameter validation reports them by name."""
    kind = getattr(shape, "type_name", None)
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        by_lower = {m.lower(): m for m in members}
        out = {}
        for key, item in value.items():
            name = key if key in members else by_lower.get(str(key).lower(), key)
            out[name] = conform(members[name], item) if name in members else item
        return out
    if kind == "list" and isinstance(value, list):
        return [conform(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: conform(shape.value, v) for k, v in value.items()}
    return value


class Aws:
    """Clients of one region and credential set, shared by every thread of an apply."""

    def __init__(self, options: AwsOptions | None = None) -> None:
        try:
            import boto3
            import botocore.config
            import botocore.exceptions as bx
        except ImportError:
            raise UsageError(NEEDS_EXTRA) from None

        self.options = options = options or AwsOptions()
        try:
            session = boto3.session.Session(profile_name=options.profile, region_name=options.region)
        except bx.ProfileNotFound:
            raise UsageError(f"AWS profile '{options.profile}' is not in the AWS config or credentials file "
                             "(~/.aws/config); check --profile / AWS_PROFILE") from None
        if not session.region_name:
            raise UsageError("no AWS region: pass --region or set AWS_REGION (or a region in the profile)")
        self.region = session.region_name
        config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": options.max_attempts},
                                        user_agent_extra="ecsctl", max_pool_connections=20,
                                        s3={"addressing_style": "path"} if options.endpoint_url else None)
        try:
            self._clients = {name: session.client(name, endpoint_url=options.endpoint_url, config=config)
                             for name in SERVICES}
        except ValueError as exc:  # botocore: "Invalid endpoint: 127.0.0.1:5321" (no scheme)
            given = options.endpoint_url or os.environ.get("AWS_ENDPOINT_URL", "")
            raise UsageError(f"the endpoint {given!r} is not a URL such as http://localhost:4566 "
                             f"(--endpoint-url / AWS_ENDPOINT_URL): {exc}") from None
        self._lock = threading.Lock()
        self._account: str | None = None

    def client(self, service: str):
        return self._clients[service]

    @property
    def account(self) -> str:
        with self._lock:
            if self._account is None:
                self._account = self.call("sts", "GetCallerIdentity", "the AWS account")["Account"]
            return self._account

    def call(self, service: str, operation: str, address: str = "", /, **params: Any) -> dict:
        """Call ``service:operation`` for ``address``; raise ``AwsError`` (one line) on any failure."""
        import botocore
        import botocore.exceptions as bx

        client = self._clients[service]
        shape = client.meta.service_model.operation_model(operation).input_shape
        if shape is not None:
            params = conform(shape, params)
        try:
            return getattr(client, botocore.xform_name(operation))(**params)
        except bx.ClientError as exc:
            raise self._client_error(exc, service, operation, address) from None
        except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError):
            raise AwsError("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                           "or AWS_PROFILE / --profile, or run `aws configure` (or `aws sso login`)",
                           "NoCredentials") from None
        except bx.NoRegionError:
            raise UsageError("no AWS region: pass --region or set AWS_REGION") from None
        except bx.ParamValidationError as exc:
            text = " ".join(str(exc).split())
            raise AwsError(f"{_where(address)}{service}:{operation}: the request does not fit the API: {text}",
                           "ParamValidation") from None
        except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as exc:
            raise AwsError(f"cannot reach the AWS endpoint for {service} ({exc}); check --endpoint-url, "
                           "--region and the network", "Connection") from None

    def _client_error(self, exc: Any, service: str, operation: str, address: str) -> AwsError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = " ".join(str(error.get("Message", "")).split())
        where = _where(address)
        action = f"{_IAM_PREFIX.get(service, service)}:{operation}"
        if code in _DENIED:
            return AwsError(f"{where}access denied: the credentials may not call {action} ({message})", code)
        if code in _BAD_CREDENTIALS:
            return AwsError(f"the AWS credentials were refused ({code}: {message}); refresh them or check the profile", code)
        if code in _THROTTLED:
            return AwsError(f"{where}AWS kept throttling {action} after {self.options.max_attempts} attempts; "
                            "try again later or lower --parallelism", code)
        if code == "ClusterNotFoundException":
            return AwsError(f"{where}the cluster does not exist in {self.region} ({operation}: {message}); "
                            "apply its Cluster manifest first, or check --region", code)
        if "role" in message.lower() and ("not valid" in message.lower() or "cannot be assumed" in message.lower()
                                           or "does not exist" in message.lower()):
            return AwsError(f"{where}{action}: the IAM role is missing or not valid: {message}", code)
        return AwsError(f"{where}{action} failed: {code}: {message}", code)


def paged(aws: Aws, service: str, operation: str, key: str, address: str = "", /, **params: Any) -> list:
    """Every item under ``key`` of all the pages ``service:operation`` answers (``aws``: anything
    with ``Aws.call``)."""
    out: list = []
    token_key = "NextToken" if service in ("application-autoscaling", "cloudwatch", "events") else "nextToken"
    while True:
        answer = aws.call(service, operation, address, **params)
        out += answer.get(key, [])
        token = answer.get(token_key)
        if not token:
            return out
        params[token_key] = token


def _where(address: str) -> str:
    return f"{address}: " if address else ""
