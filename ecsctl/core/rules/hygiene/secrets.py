"""Secrets written in plain text into a container's environment (W7xxx)."""

from __future__ import annotations

import math
import re
from collections import Counter

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, containers, register

SECRET_NAME_RE = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS?|AUTH", re.I)
ACCESS_KEY_RE = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
PRIVATE_KEY_RE = re.compile(r"-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")
TOKENISH_RE = re.compile(r"^[A-Za-z0-9+/=_\-]{32,}$")
# values that are clearly not secrets even under a secret-sounding name
PLACEHOLDER_RE = re.compile(r"^(\$\{.*\}|<.*>|changeme|none|null|true|false|disabled|enabled|\d{1,6})$", re.I)
NON_SECRET_SUFFIX_RE = re.compile(r"(_ARN|_PATH|_FILE|_URL|_URI|_ENDPOINT|_HOST|_REGION|_ENABLED|_TTL|_HEADER|_TYPE|_MODE|_NAME)$", re.I)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character.

    >>> round(entropy("aaaa"), 2), round(entropy("abcd"), 2)
    (0.0, 2.0)
    """
    counts = Counter(text)
    n = len(text)
    return 0.0 - sum(c / n * math.log2(c / n) for c in counts.values())


def secret_reason(name: str, value: str) -> str | None:
    """Why ``name=value`` looks like a secret, or None.

    >>> secret_reason("DB_PASSWORD", "hunter2")
    "its name 'DB_PASSWORD' suggests a secret"
    >>> secret_reason("REGION", "AKIAIOSFODNN7EXAMPLE")
    'its value looks like an AWS access key id'
    >>> secret_reason("LOG_LEVEL", "debug") is None
    True
    """
    if ACCESS_KEY_RE.search(value):
        return "its value looks like an AWS access key id"
    if PRIVATE_KEY_RE.search(value):
        return "its value is a private key"
    if value.strip() and SECRET_NAME_RE.search(name) and not NON_SECRET_SUFFIX_RE.search(name) and not PLACEHOLDER_RE.match(value.strip()):
        return f"its name '{name}' suggests a secret"
    if TOKENISH_RE.match(value) and entropy(value) >= 4.0 and any(ch.isdigit() for ch in value):
        return "its value looks like a random token"
    return None


@register
class PlainTextSecret(Rule):
    """Secrets belong in ``secrets`` (SSM Parameter Store or Secrets Manager), not in ``environment``.

    ``environment`` values are stored in the task definition in plain text and
    shown to anyone who can describe it.  Passwords, tokens, API keys, AWS
    access keys and private keys should be referenced with ``secrets`` and
    ``valueFrom``; ECS injects them when the container starts
    (AWS: "Pass sensitive data to an Amazon ECS container").

    Bad::

        environment:
          - {name: DB_PASSWORD, value: hunter2}

    Good::

        secrets:
          - {name: DB_PASSWORD, valueFrom: arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db/password}
    """

    id = "W7001"
    title = "Plain-text secret in a container environment"
    kinds = ("TaskDefinition",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        for i, container in containers(spec):
            env = container.get("environment")
            for j, item in enumerate(env if isinstance(env, list) else []):
                if not isinstance(item, dict):
                    continue
                name, value = item.get("name"), item.get("value")
                if not isinstance(name, str) or not isinstance(value, str) or not value:
                    continue
                reason = secret_reason(name, value)
                if reason:
                    yield (("containerDefinitions", i, "environment", j, "value"),
                           f"environment variable '{name}' looks like a plain-text secret ({reason}); "
                           f"move it to 'secrets' with valueFrom (an SSM parameter or Secrets Manager ARN)")
