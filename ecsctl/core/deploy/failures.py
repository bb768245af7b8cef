"""Why a new task of a task-definition revision would fail to start (ecs-semantics §1.5–1.6, §5.4).

``start_failure(taskdef_spec, catalogue)`` answers with an ECS-like stopped reason, or
``None`` when the task would start.  ``catalogue`` maps catalogue addresses
(``parameter/<name>``, ``secret/<name>``, ``envfile/<name>``, ``repository/<name>``, as
``core.plan.model.address`` makes them) to the specs of the Parameter, Secret,
EnvironmentFile and Repository manifests the run knows.

Checks, in this order (the first failure wins; within a check, containers in order):

1. **images** — an image in an ECR registry (``<acct>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``)
   whose repository no ``Repository`` entry holds, or whose tag (``latest`` when none is
   given; a ``@sha256:…`` digest is looked up the same way) is not among the
   repository's ``images`` (a Repository without an ``images`` list holds any tag)
   -> ``CannotPullContainerError``;
2. **secrets** — ``secrets[].valueFrom``, ``logConfiguration.secretOptions[].valueFrom`` and
   ``repositoryCredentials.credentialsParameter`` naming an SSM parameter (by name or ARN)
   or a Secrets Manager secret (full ARN with its 6-character suffix, or partial ARN
   without it) that is not in the catalogue (either candidate address of
   ``references.value_from`` existing is enough); a Secrets Manager ``json-key`` that is
   not among the secret's ``keys``, a ``version-stage`` not among its ``versionStages`` or
   a ``version-id`` not among its ``versionIds`` (a Secret without the list accepts any)
   -> ``ResourceInitializationError: unable to pull secrets or registry auth``;
3. **environment files** — an ``environmentFiles`` S3 object that no EnvironmentFile holds
   (matched by bucket/key via ``references.envfile_alias``)
   -> ``ResourceInitializationError: failed to download env files``;
4. **execution role** — secrets, secretOptions, repositoryCredentials or environment files
   on any launch type, or an ECR image or the ``awslogs`` driver on Fargate
   (``requiresCompatibilities`` names FARGATE), without ``executionRoleArn``
   -> ``ResourceInitializationError: … task execution role …``.  This check does not
   depend on the catalogue.

**In the simulation** (``start_failure``) an ECR image is always checked: one that no
``Repository`` holds fails to pull (DESIGN §3), as a task of a repository that does not exist
would.  **Other catalogue kinds, and validate's warnings** (``catalogue_failures``), are only
checked when the catalogue holds at least one entry of that kind: a run that declares no
``Parameter`` does not fail every SSM reference, and a task definition validated alone is
not warned of for every ECR image.  SSM references are checked only when a ``parameter/``
entry exists, Secrets Manager references only when a ``secret/`` entry exists.

    >>> ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web"
    >>> td = {"containerDefinitions": [{"name": "web", "image": ecr + ":2"}]}
    >>> start_failure(td, {})[:25]                                     # no Repository holds it
    'CannotPullContainerError:'
    >>> catalogue_failures(td["containerDefinitions"][0], {}, set())  # validate: not declared, not warned
    []
    >>> start_failure(td, {"repository/web": {"images": ["1", "2"]}}) is None
    True
    >>> start_failure(td, {"repository/web": {"images": ["1"]}})[:25]
    'CannotPullContainerError:'
"""

from __future__ import annotations

from ecsctl.core.plan.model import PREFIX
from ecsctl.core.plan.references import envfile_alias, references, value_from

_ROLE = ("ResourceInitializationError: the task execution role is missing: "
         "container {name} needs the task definition's executionRoleArn to {what}")


def start_failure(taskdef_spec: dict, catalogue: dict[str, dict], *, every_image: bool = True) -> str | None:
    """The stopped reason a new task of ``taskdef_spec`` would get, or None (see the module doc).
    ``every_image``: an ECR image is checked even when the catalogue holds no Repository (the
    simulation's rule); a plan against live AWS passes False (its repositories are AWS's)."""
    spec = taskdef_spec or {}
    containers = [c for c in spec.get("containerDefinitions") or () if isinstance(c, dict)]
    kinds = catalogue_kinds(catalogue) | ({PREFIX["Repository"]} if every_image else set())
    for check, _ in _CATALOGUE_CHECKS:
        for container in containers:
            reason = check(container, catalogue, kinds)
            if reason:
                return reason
    return _role_failure(spec, containers)


def catalogue_kinds(catalogue: dict[str, dict]) -> set[str]:
    """The address prefixes of the kinds ``catalogue`` holds (a kind is checked only when held)."""
    return {address.split("/", 1)[0] for address in catalogue}


def catalogue_failures(container: dict, catalogue: dict[str, dict], kinds: set[str]) -> list[tuple[str, str]]:
    """``(field, stopped reason)`` of each catalogue check (1–3 above) ``container`` fails: what
    ``validate`` warns of when the manifests declare the catalogue (``kinds``: ``catalogue_kinds``)."""
    out = []
    for check, fld in _CATALOGUE_CHECKS:
        reason = check(container, catalogue, kinds)
        if reason:
            out.append((fld, reason))
    return out


# ------------------------------------------------------------------------------- images
def _image_failure(container: dict, catalogue: dict[str, dict], kinds: set[str]) -> str | None:
    if PREFIX["Repository"] not in kinds:
        return None
    image = str(container.get("image") or "")
    repos = references("TaskDefinition", {"containerDefinitions": [{"image": image}]})
    if not repos:
        return None  # not an ECR image: Docker Hub and other registries are not simulated
    repo = next(iter(repos))
    if repo not in catalogue:
        return _pull_error(image, f"repository {repo.split('/', 1)[1]} does not exist")
    images = (catalogue[repo] or {}).get("images")
    if images is None:
        return None
    tag = _tag(image)
    if tag not in {str(i) for i in images}:
        return _pull_error(image, f"tag {tag} is not in repository {repo.split('/', 1)[1]}")
    return None


def _tag(image: str) -> str:
    path = image.split("/", 1)[-1]
    if "@" in path:
        return path.split("@", 1)[1]
    return path.split(":", 1)[1] if ":" in path else "latest"


def _pull_error(image: str, why: str) -> str:
    return (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
            f"failed to resolve ref {image}: {image} not found ({why})")


# ------------------------------------------------------------------------------ secrets
def _secret_refs(container: dict) -> list[str]:
    refs = [s.get("valueFrom") for s in container.get("secrets") or () if isinstance(s, dict)]
    log = container.get("logConfiguration") or {}
    refs += [s.get("valueFrom") for s in log.get("secretOptions") or () if isinstance(s, dict)]
    creds = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
    if creds:
        refs.append(creds)
    return [str(r) for r in refs if r]


def _secret_failure(container: dict, catalogue: dict[str, dict], kinds: set[str]) -> str | None:
    for ref in _secret_refs(container):
        candidates = value_from(ref)
        if not candidates:
            continue
        kind = next(iter(candidates)).split("/", 1)[0]
        if kind not in kinds:
            continue
        found = sorted(a for a in candidates if a in catalogue)
        prefix = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        if not found:
            if kind == PREFIX["Secret"]:
                return (prefix + f"unable to retrieve secret from asm: service call has been retried 1 time(s): "
                        f"failed to fetch secret {ref} from secrets manager: ResourceNotFoundException: "
                        "Secrets Manager can't find the specified secret.")
            return (prefix + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
                    f"ParameterNotFound: invalid parameters: {ref}")
        if kind == PREFIX["Secret"]:
            reason = _secret_part_failure(ref, catalogue[found[0]] or {})
            if reason:
                return prefix + reason
    return None


def _secret_part_failure(ref: str, secret: dict) -> str | None:
    """A json-key, version stage or version id the Secret does not list (Secrets Manager's wording)."""
    key, stage, version = _secret_parts(ref)
    keys, stages, versions = secret.get("keys"), secret.get("versionStages"), secret.get("versionIds")
    fetch = (f"unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
             f"{ref} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret value")
    if stage and stages is not None and stage not in {str(s) for s in stages}:
        return f"{fetch} for staging label: {stage}"
    if version and versions is not None and version not in {str(v) for v in versions}:
        return f"{fetch} for VersionId: {version}"
    if key and keys is not None and key not in {str(k) for k in keys}:
        return (f"unable to retrieve secret from asm: retrieved secret from Secrets Manager "
                f"did not contain json key {key} ({ref})")
    return None


def _secret_parts(ref: str) -> tuple[str, str, str]:
    """``arn:aws:secretsmanager:r:a:secret:name:KEY:STAGE:ID`` -> ``(KEY, STAGE, ID)``, "" where not given."""
    parts = ref.split(":") if ref.startswith("arn:") else []
    return tuple((parts[i] if len(parts) > i else "") for i in (7, 8, 9))  # type: ignore[return-value]


# ---------------------------------------------------------------------------- env files
def _envfile_failure(container: dict, catalogue: dict[str, dict], kinds: set[str]) -> str | None:
    prefix = PREFIX["EnvironmentFile"]
    if prefix not in kinds:
        return None
    held = {envfile_alias(spec or {}) for address, spec in catalogue.items() if address.startswith(prefix + "/")}
    for envfile in container.get("environmentFiles") or ():
        if not isinstance(envfile, dict):
            continue
        value = str(envfile.get("value") or "")
        wanted = references("TaskDefinition", {"containerDefinitions": [{"environmentFiles": [{"value": value}]}]})
        if wanted and not (wanted & held):
            return ("ResourceInitializationError: failed to download env files: file download command: "
                    f"non empty error stream: service call has been retried 5 time(s): NoSuchKey: "
                    f"The specified key does not exist. ({value})")
    return None


_CATALOGUE_CHECKS = ((_image_failure, "image"), (_secret_failure, "secrets"), (_envfile_failure, "environmentFiles"))


# ------------------------------------------------------------------------ execution role
def _role_failure(spec: dict, containers: list[dict]) -> str | None:
    role = spec.get("executionRoleArn")
    if isinstance(role, str) and role.strip():
        return None
    compat = spec.get("requiresCompatibilities")
    fargate = isinstance(compat, list) and "FARGATE" in compat
    for c in containers:
        name = c.get("name") or "?"
        log = c.get("logConfiguration") or {}
        if c.get("secrets") or log.get("secretOptions") or c.get("repositoryCredentials"):
            return _ROLE.format(name=name, what="fetch its secrets")
        if c.get("environmentFiles"):
            return _ROLE.format(name=name, what="download its environment files")
        if fargate and references("TaskDefinition", {"containerDefinitions": [{"image": str(c.get("image") or "")}]}):
            return _ROLE.format(name=name, what="pull its ECR image on Fargate")
        if fargate and log.get("logDriver") == "awslogs":
            return _ROLE.format(name=name, what="send awslogs logs on Fargate")
    return None
