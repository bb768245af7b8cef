"""What a canonical spec refers to, as addresses: the edges of the plan graph.

``references(kind, spec)`` returns *candidate* addresses and never looks
anything up: where a reference can name two resources, both candidates are
returned and the caller keeps those that exist (``refs & known``).

    Service        taskdef/<family>, cluster/<name> (default ``default``),
                   targetgroup/<name>, capacityprovider/<name> (not FARGATE/FARGATE_SPOT)
    TaskDefinition parameter/<name>, secret/<name>, envfile/s3://<bucket>/<key>, repository/<name>
    Cluster        capacityprovider/<name>
    ScheduledTask  cluster/<name>, taskdef/<family>, capacityprovider/<name>

Two-candidate cases:

* an SSM parameter ARN ``arn:aws:ssm:r:a:parameter/prod/db`` drops the
  leading slash of the name ``/prod/db``: both ``parameter/"/prod/db"`` and
  ``parameter/"prod/db"`` are returned (names with a slash are quoted, see ``model.address``);
* a Secrets Manager ARN ``…:secret:prod/db-Xk9fQ2:password::`` ends in AWS's
  6-character suffix unless it is a partial ARN, and ``my-secret`` also looks
  suffixed: both ``secret/"prod/db"`` and ``secret/"prod/db-Xk9fQ2"`` are returned.

Environment files are named by their S3 object, not by the ``EnvironmentFile``
manifest's name, so they come back as ``envfile/s3://bucket/key``; a caller maps
them with ``envfile_alias(spec)`` of each EnvironmentFile (see ``graph.py``).
"""

from __future__ import annotations

import re

from ecsctl.core.plan.model import PREFIX, address

IMPLICIT_CAPACITY_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})

_ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)")
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def envfile_alias(spec: dict) -> str:
    """The address an EnvironmentFile spec answers to in ``references()``: ``envfile/s3://bucket/key``."""
    return f"{PREFIX['EnvironmentFile']}/s3://{spec.get('bucket', '')}/{spec.get('key', '')}"


def _last(value: str, sep: str = "/") -> str:
    """``arn:aws:ecs:r:a:cluster/prod`` -> ``prod``; a plain name stays as it is."""
    return value.rsplit(sep, 1)[-1] if value.startswith("arn:") else value


def taskdef_family(value: str) -> str:
    """``web``, ``web:3`` and ``arn:aws:ecs:r:a:task-definition/web:3`` all name the family ``web``."""
    return _last(str(value)).split(":", 1)[0]


def target_group_name(value: str) -> str:
    """``arn:…:targetgroup/web/6d0ecf831eec9f09`` -> ``web``; a plain name stays as it is."""
    value = str(value)
    if value.startswith("arn:"):
        resource = value.split(":", 5)[-1]  # targetgroup/<name>/<id>
        parts = resource.split("/")
        return parts[1] if len(parts) > 1 else parts[0]
    return value


def _parameter_candidates(value: str) -> set[str]:
    if value.startswith("arn:"):
        name = value.split(":", 5)[-1].removeprefix("parameter/")
        return {address("Parameter", name), address("Parameter", "/" + name.lstrip("/"))}
    return {address("Parameter", value)}


def _secret_candidates(value: str) -> set[str]:
    # arn:aws:secretsmanager:region:account:secret:NAME[-XXXXXX][:json-key:stage:id]
    name = value.split(":")[6] if value.count(":") >= 6 else value
    names = {name, _SECRET_SUFFIX.sub("", name)}
    return {address("Secret", n) for n in names if n}


def value_from(value: str) -> set[str]:
    """The catalogue addresses a ``valueFrom`` can name: an SSM parameter or a Secrets Manager secret."""
    value = str(value)
    if value.startswith("arn:") and ":secretsmanager:" in value:
        return _secret_candidates(value)
    if value.startswith("arn:") and ":ssm:" not in value:
        return set()
    return _parameter_candidates(value)


def _envfile_candidates(value: str) -> set[str]:
    """``arn:aws:s3:::bucket/key`` (what ECS takes) or ``s3://bucket/key`` -> ``envfile/s3://bucket/key``."""
    value = str(value)
    if value.startswith("arn:"):
        value = "s3://" + value.split(":", 5)[-1]
    return {f"{PREFIX['EnvironmentFile']}/{value}"} if value.startswith("s3://") else set()


def _repository(image: str) -> set[str]:
    m = _ECR_IMAGE.match(str(image))
    return {address("Repository", m["repo"])} if m else set()


def _capacity_providers(strategy) -> set[str]:
    names = {item.get("capacityProvider") for item in strategy or () if isinstance(item, dict)}
    return _provider_addresses(names)


def _provider_addresses(names) -> set[str]:
    return {f"{PREFIX['CapacityProvider']}/{n}" for n in names if n and n not in IMPLICIT_CAPACITY_PROVIDERS}


def _cluster(value) -> str:
    return f"{PREFIX['Cluster']}/{_last(str(value or 'default'))}"


def _service(spec: dict) -> set[str]:
    refs = {_cluster(spec.get("cluster"))}
    if spec.get("taskDefinition"):
        refs.add(f"{PREFIX['TaskDefinition']}/{taskdef_family(spec['taskDefinition'])}")
    for lb in spec.get("loadBalancers") or ():
        if lb.get("targetGroupArn"):
            refs.add(f"{PREFIX['TargetGroup']}/{target_group_name(lb['targetGroupArn'])}")
    return refs | _capacity_providers(spec.get("capacityProviderStrategy"))


def _task_definition(spec: dict) -> set[str]:
    refs: set[str] = set()
    for container in spec.get("containerDefinitions") or ():
        refs |= _repository(container.get("image", ""))
        secrets = list(container.get("secrets") or ())
        secrets += (container.get("logConfiguration") or {}).get("secretOptions") or ()
        for secret in secrets:
            if secret.get("valueFrom"):
                refs |= value_from(secret["valueFrom"])
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            refs |= value_from(credentials)
        for envfile in container.get("environmentFiles") or ():
            refs |= _envfile_candidates(envfile.get("value", ""))
    return refs


def _cluster_spec(spec: dict) -> set[str]:
    names = set(spec.get("capacityProviders") or ())
    return _provider_addresses(names) | _capacity_providers(spec.get("defaultCapacityProviderStrategy"))


def _scheduled_task(spec: dict) -> set[str]:
    target = spec.get("target") or {}
    refs = {_cluster(target.get("cluster"))}
    if target.get("taskDefinition"):
        refs.add(f"{PREFIX['TaskDefinition']}/{taskdef_family(target['taskDefinition'])}")
    return refs | _capacity_providers(target.get("capacityProviderStrategy"))


_BY_KIND = {
    "Service": _service,
    "TaskDefinition": _task_definition,
    "Cluster": _cluster_spec,
    "ScheduledTask": _scheduled_task,
}


def references(kind: str, spec: dict | None) -> set[str]:
    """Candidate addresses ``spec`` depends on; kinds that refer to nothing give the empty set."""
    if not spec or kind not in _BY_KIND:
        return set()
    return _BY_KIND[kind](spec)
