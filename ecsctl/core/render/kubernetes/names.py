"""ECS names made into the names Kubernetes accepts (its ``validation`` package's rules).

ECS allows ``[A-Za-z0-9_-]{1,255}``; Kubernetes object names are DNS subdomains or labels
(lowercase, ``-``, at most 253 / 63 characters), Service names DNS-1035 labels (starting
with a letter), port names IANA service names (at most 15 characters), label values at
most 63 characters.  A name cut to length ends in a short hash of the original, and
:class:`Namer` keeps two ECS names of one scope from becoming one Kubernetes name:

    >>> dns_label("Web_API"), dns_1035_label("2fa"), port_name("Service-Connect-Http")
    ('web-api', 'x-2fa', 'service-connect')
    >>> len(dns_label("a" * 100))
    63
"""

from __future__ import annotations

import hashlib
import re

DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
PORT_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
CONFIG_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:5]


def _fit(base: str, original: str, limit: int) -> str:
    """``base`` cut to ``limit``; a cut name ends in ``-<hash>`` of the original, to stay unique."""
    if len(base) <= limit:
        return base
    suffix = "-" + digest(original)
    return base[: limit - len(suffix)].rstrip("-.") + suffix


def _squash(text: str, allowed: str) -> str:
    out = re.sub(f"[^{allowed}]+", "-", text.lower())
    out = re.sub(r"-{2,}", "-", out)
    return out.strip("-.")


def dns_label(text: str, limit: int = 63) -> str:
    """A DNS-1123 label (container, volume and most object names)."""
    base = _squash(str(text), "a-z0-9-") or "x"
    return _fit(base, str(text), limit)


def dns_1035_label(text: str, limit: int = 63) -> str:
    """A DNS-1035 label: a DNS label that starts with a letter (Service names)."""
    label = dns_label(text, limit)
    return label if label[0].isalpha() else dns_label("x-" + label, limit)


def dns_subdomain(text: str, limit: int = 253) -> str:
    """A DNS-1123 subdomain (ConfigMap, Secret, PersistentVolume names)."""
    base = re.sub(r"\.{2,}", ".", _squash(str(text), "a-z0-9.-")).strip(".-") or "x"
    base = re.sub(r"-?\.-?", ".", base)
    return _fit(base, str(text), limit)


def port_name(text: str) -> str | None:
    """An IANA service name (≤ 15 characters, a letter, no ``--``), or None if nothing is left."""
    base = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", str(text).lower())).strip("-")[:15].rstrip("-")
    if not base or not PORT_NAME_RE.match(base) or not re.search(r"[a-z]", base):
        return None
    return base


def label_value(text: str) -> str | None:
    """``text`` if Kubernetes takes it as a label value, else a cleaned copy (None if nothing is left)."""
    text = str(text)
    if len(text) <= 63 and LABEL_VALUE_RE.match(text):
        return text
    cleaned = re.sub(r"[^-A-Za-z0-9_.]+", "-", text)[:63].strip("-_.")
    return cleaned if cleaned and LABEL_VALUE_RE.match(cleaned) else None


def is_label_key(key: str) -> bool:
    """``[prefix/]name``: a DNS subdomain prefix (≤ 253) and a name of ≤ 63 characters."""
    prefix, _, name = str(key).rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN_RE.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(LABEL_NAME_RE.match(name))


def config_key(text: str) -> str:
    """A ConfigMap/Secret data key (``[-._a-zA-Z0-9]+``)."""
    return str(text) if CONFIG_KEY_RE.match(str(text)) else (re.sub(r"[^-._a-zA-Z0-9]+", "-", str(text)).strip("-") or "value")


class Namer:
    """Kubernetes names for the ECS names of one scope, never two ECS names on one Kubernetes name.

    ``key`` tells two sources apart whose text is the same (the EFS volume ``data-x`` of
    workload ``web`` and the volume ``x`` of workload ``web-data``); it defaults to the text:

        >>> volumes = Namer(dns_subdomain)
        >>> volumes("web-data-x", key=("web", "data-x")), volumes("web-data-x", key=("web-data", "x"))
        ('web-data-x', 'web-data-x-b6c54')
    """

    def __init__(self, make=dns_label) -> None:
        self._make = make
        self._by_source: dict = {}
        self._taken: set[str] = set()

    def __call__(self, source: str, *, key=None) -> str:
        tag = source if key is None else repr(key)
        key = source if key is None else key
        if key in self._by_source:
            return self._by_source[key]
        name = self._make(source)
        if name in self._taken:
            name = self._make(f"{source}-{digest(tag)}")
        self._by_source[key] = name
        self._taken.add(name)
        return name
