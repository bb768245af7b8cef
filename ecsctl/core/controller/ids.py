"""Deterministic identifiers of the simulation: the same inputs always give the same ids.

* container instance: 32 hex chars, ``uuid5(NS, "{cluster}/{group}/{n}")`` with n the 1-based
  count of the group's registrations (a replacement is a new registration: the next n);
* EC2 instance: ``i-`` + 17 hex chars hashed from the container-instance id (itself a function
  of ``"{cluster}/{group}/{n}"``), so it can be derived from the stored record alone;
* task: 32 hex chars, ``uuid5(NS, "{cluster}/{group}/{k}")`` with k the 1-based count of tasks
  ever created in the cluster;
* deployment: ``ecs-svc/`` + 19 digits hashed from ``"{cluster}/{service}/{n}"``.

Commands take a unique prefix of a task or container-instance id, of ``PREFIX_MIN``
characters or more.

awsvpc private IPs are not derived from ids: they are allocated from the task's subnet
(``network``) and stored on the task.
"""

from __future__ import annotations

import hashlib
import uuid

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "ecsctl.local")
PREFIX_MIN = 6  # a task or container-instance id is named by a unique prefix of it from this length on
DEFAULT_CLOCK = "2026-01-01T00:00:00Z"


def short_prefix(text: str) -> str:
    """`` (an id prefix needs 6 characters or more)`` for a text too short to name an id by its
    prefix, else ``""``: what a lookup that found nothing adds."""
    return f" (an id prefix needs {PREFIX_MIN} characters or more)" if 0 < len(text) < PREFIX_MIN else ""


def _uuid5_hex(name: str) -> str:
    """``uuid.uuid5(NAMESPACE, name).hex``, without building a UUID (tasks are made by the
    thousand): the SHA-1 of the namespace is taken once and copied for each name."""
    sha = _NAMESPACE_SHA1.copy()
    sha.update(name.encode("utf-8"))
    h = bytearray(sha.digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    return h.hex()


_NAMESPACE_BYTES = NAMESPACE.bytes
_NAMESPACE_SHA1 = hashlib.sha1(_NAMESPACE_BYTES)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def container_instance_id(cluster: str, group: str, n: int) -> str:
    return _uuid5_hex(f"{cluster}/{group}/{n}")


def ec2_instance_id(container_instance: str) -> str:
    return "i-" + _sha(f"ec2/{container_instance}")[:17]


def task_id(cluster: str, group: str, k: int) -> str:
    return _uuid5_hex(f"{cluster}/{group}/{k}")


def deployment_id(cluster: str, service: str, n: int) -> str:
    return "ecs-svc/" + str(int(_sha(f"{cluster}/{service}/{n}"), 16) % 10**19).zfill(19)


def deployment_order(cluster: str, service: str, n: int):
    """Sort key of a service's ``n`` deployments: oldest first, by their sequence number (their
    ``createdAt`` ties within one apply and their ids are hashes); others (made elsewhere, as
    real ECS's) after them by ``createdAt`` and id."""
    seq = {deployment_id(cluster, service, k): k for k in range(1, n + 1)}
    return lambda d: (seq.get(d.id, n + 1), d.created_at, d.id)
