"""``ecsctl ecr login``: a ``docker login`` for an ECR registry, with a token valid 12 hours.

What ``aws ecr get-login-password | docker login --username AWS --password-stdin REGISTRY``
does: ECR's ``GetAuthorizationToken`` returns a base64 token of ``AWS:<password>`` that
"is valid for 12 hours" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html),
and docker logs in with user ``AWS`` and that password.

Against the local simulation the token is **simulated**: deterministic, labelled as such
when decoded, useless against a real registry, and it expires 12 hours after the
simulation's clock (``store.clock()``; ``2026-01-01T00:00:00Z`` before anything has been
applied), not the wall clock.

The seam for real AWS: :class:`TokenSource` is what :func:`login` asks for a registry's
authorization.  :class:`SimulatedTokens` is the only implementation today; the boto3
backend will bring one that calls ``ecr.get_authorization_token`` and returns its
``authorizationData`` as an :class:`Authorization` with ``simulated=False``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Protocol

from ecsctl.errors import UsageError

DEFAULT_CLOCK = "2026-01-01T00:00:00Z"
TOKEN_LIFETIME = timedelta(hours=12)
REGISTRY = re.compile(r"^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


@dataclass(frozen=True, slots=True)
class Authorization:
    """ECR's AuthorizationData: ``token`` is the base64 of ``AWS:<password>``."""

    registry: str
    token: str
    expires_at: datetime
    simulated: bool

    @property
    def password(self) -> str:
        return base64.b64decode(self.token).decode().split(":", 1)[1]

    def docker_login(self) -> str:
        """The shell command ``aws ecr get-login-password | docker login …`` amounts to."""
        return f"echo '{self.password}' | docker login --username AWS --password-stdin {self.registry}"

    def as_json(self, clock: str) -> dict:
        """GetAuthorizationToken's shape (camelCase), plus whether the token is simulated."""
        return {
            "authorizationToken": self.token,
            "expiresAt": _iso(self.expires_at),
            "proxyEndpoint": f"https://{self.registry}",
            "registry": self.registry,
            "simulated": self.simulated,
            "clock": clock,
            "command": self.docker_login(),
        }


class TokenSource(Protocol):
    def authorize(self, registry: str, now: datetime) -> Authorization: ...


class SimulatedTokens:
    """Tokens for the local simulation: ``AWS:ecsctl-simulated.<digest>``, valid 12 hours from ``now``."""

    def __init__(self, lineage: str = "") -> None:
        self.lineage = lineage

    def authorize(self, registry: str, now: datetime) -> Authorization:
        expires = now + TOKEN_LIFETIME
        digest = hashlib.sha256(f"{self.lineage}|{registry}|{_iso(expires)}".encode()).hexdigest()[:40]
        token = base64.b64encode(f"AWS:ecsctl-simulated.{digest}".encode()).decode()
        return Authorization(registry, token, expires, simulated=True)


class AwsTokens:
    """Real tokens: ECR's ``GetAuthorizationToken`` for the registry's account, through an
    ``Aws`` session (``--backend aws``); its ``expiresAt`` is ECR's (12 hours from now, the wall
    clock of AWS, not the simulation's).  The session's region (``--region``) should be the
    registry's: ECR hands out tokens per region."""

    def __init__(self, aws) -> None:
        self.aws = aws

    def authorize(self, registry: str, now: datetime) -> Authorization:
        account = registry.split(".", 1)[0]
        answer = self.aws.call("ecr", "GetAuthorizationToken", f"registry {registry}", registryIds=[account])
        data = (answer.get("authorizationData") or [{}])[0]
        expires = data.get("expiresAt")
        if isinstance(expires, datetime):
            expires = expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)
        else:
            expires = now + TOKEN_LIFETIME
        return Authorization(registry, str(data.get("authorizationToken") or ""), expires.astimezone(timezone.utc),
                             simulated=False)


def normalize_registry(text: str) -> str:
    """``https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/`` -> the bare host; UsageError otherwise."""
    host = re.sub(r"^https?://", "", str(text).strip()).rstrip("/")
    if not REGISTRY.match(host):
        raise UsageError(f"--registry {text!r} is not an ECR registry: use ACCOUNT.dkr.ecr.REGION.amazonaws.com "
                         "(e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com)")
    return host


def login(state_path: str, registries: Iterable[str] = (), tokens: TokenSource | None = None) -> dict:
    """Authorizations for ``registries`` (or every ECR registry the state knows), at the state's clock.

    Returns ``{"clock", "simulated", "logins": [Authorization, …]}``.
    """
    from ecsctl.app.state import open_existing, open_required

    wanted = [normalize_registry(r) for r in registries]
    # the registries come from the state unless given: without either, say what is missing
    store = open_existing(state_path) if wanted else open_required(state_path)
    clock, lineage, known = DEFAULT_CLOCK, "", []
    if store is not None:
        with store:
            clock = store.clock() or DEFAULT_CLOCK
            lineage = store.meta().lineage
            known = known_registries(store)
    if not wanted:
        wanted = known
    if not wanted:
        raise UsageError("no ECR registry is known to the state (no Repository with a uri, no ECR image in a "
                         "task definition): give --registry ACCOUNT.dkr.ecr.REGION.amazonaws.com")
    source = tokens or SimulatedTokens(lineage)
    now = _parse_clock(clock)
    logins = [source.authorize(r, now) for r in dict.fromkeys(wanted)]
    return {"clock": clock, "simulated": all(a.simulated for a in logins), "logins": logins}


def known_registries(store) -> list[str]:
    """ECR registries named by Repository ``uri``s and by the images of registered task definitions."""
    from ecsctl.core.state.ports import CatalogueEntry, TaskDefinitionRevision

    hosts: list[str] = []
    for entry in store.find(CatalogueEntry, kind="Repository"):
        hosts.append(str((entry.spec or {}).get("uri") or "").split("/", 1)[0])
    for revision in store.find(TaskDefinitionRevision):
        for container in (revision.spec or {}).get("containerDefinitions") or ():
            hosts.append(str(container.get("image") or "").split("/", 1)[0] if isinstance(container, dict) else "")
    return sorted({h for h in hosts if REGISTRY.match(h)})


def _parse_clock(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
