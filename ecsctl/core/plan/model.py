"""The vocabulary of planning, shared by diff, graph, codec, renderers and backends.

    desired manifests ──canonical()──► Desired ─┐
                                                ├─ diff() ──► [Change] ── build_steps() ──► [Step]
    state resources (last-applied canonical) ───┘

A ``Change`` says what happens to one address; a ``Step`` is one unit of work a
backend executes (in its own transaction); a ``Plan`` is everything a reviewer
reads and ``apply`` executes, bound to the state's lineage and serial.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1

ACTIONS = ("create", "update", "replace", "delete", "no-op")

# Address prefixes per manifest kind; services are also keyed by cluster.
PREFIX = {
    "Cluster": "cluster",
    "CapacityProvider": "capacityprovider",
    "TaskDefinition": "taskdef",
    "Service": "service",
    "TargetGroup": "targetgroup",
    "ScheduledTask": "scheduledtask",
    "Parameter": "parameter",
    "Secret": "secret",
    "EnvironmentFile": "envfile",
    "Repository": "repository",
    "Queue": "queue",
    "SecurityGroup": "securitygroup",
}
KIND_OF_PREFIX = {v: k for k, v in PREFIX.items()}

# Order of changes and steps in a plan: what others refer to first (deletes run in reverse).
KIND_ORDER: tuple[str, ...] = (
    "Parameter",
    "Secret",
    "EnvironmentFile",
    "Repository",
    "Queue",
    "SecurityGroup",  # instance groups, target groups and services name them
    "CapacityProvider",
    "Cluster",
    "TargetGroup",
    "TaskDefinition",
    "Service",
    "ScheduledTask",
)


def address(kind: str, name: str, spec: dict | None = None) -> str:
    """``taskdef/web``, ``service/prod/web`` (services are unique per cluster), ``parameter/"/prod/db"``.

    An address is ``PREFIX/NAME``; a service's is ``service/CLUSTER/NAME``.  Names of
    parameters, secrets and repositories may hold slashes: such a name is written as a quoted
    string (``parameter/"/prod/web/db-host"``, ``secret/"prod/web/db"``), as Terraform writes a
    string key (``aws_ssm_parameter.db["/prod/web/db-host"]``), so that every ``/`` outside the
    quotes separates parts and the prefix is always what comes before the first ``/``.
    """
    if kind == "Service":
        cluster = (spec or {}).get("cluster") or "default"
        cluster = str(cluster).rsplit("/", 1)[-1]  # a cluster ARN names the cluster last
        return f"service/{cluster}/{name}"
    return f"{PREFIX[kind]}/{quote_name(name)}"


def quote_name(name: str) -> str:
    """A name as it appears in an address: quoted (JSON string syntax) when it holds a ``/``."""
    text = str(name)
    return json.dumps(text) if "/" in text or text.startswith('"') else text


def parse_address(text: str) -> tuple[str, str, str | None]:
    """``(kind, name, cluster)`` of an address (``cluster`` only for services); the inverse of
    :func:`address`.  Raises ``ValueError`` for text that is not an address."""
    prefix, sep, rest = str(text).partition("/")
    kind = KIND_OF_PREFIX.get(prefix)
    if kind is None or not sep or not rest:
        raise ValueError(f"not an address: {text!r} (expected KIND/NAME, e.g. taskdef/web or service/prod/web)")
    if kind == "Service":
        cluster, sep, name = rest.partition("/")
        if not sep or not cluster or not name or "/" in name:
            raise ValueError(f"not a service address: {text!r} (expected service/CLUSTER/NAME)")
        return kind, name, cluster
    if rest.startswith('"'):
        try:
            name = json.loads(rest)
        except json.JSONDecodeError:
            raise ValueError(f"not an address: {text!r} (a quoted name must end with its quote)") from None
        if not isinstance(name, str):
            raise ValueError(f"not an address: {text!r}")
        return kind, name, None
    return kind, rest, None


def service_key(text: str) -> tuple[str, str]:
    """``service/prod/web`` -> ``("prod", "web")``."""
    kind, name, cluster = parse_address(text)
    if kind != "Service" or cluster is None:
        raise ValueError(f"not a service address: {text!r}")
    return cluster, name


@dataclass(frozen=True, slots=True)
class Desired:
    """One resource as the manifests want it: ``spec`` is already canonical."""

    address: str
    kind: str
    name: str
    spec: dict


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed field: ``op`` is ``add``, ``remove`` or ``change``; ``path`` is inside the spec."""

    path: tuple
    op: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True, slots=True)
class Change:
    """What happens to one address.

    ``reason`` is only for display (like Terraform's action reasons); nothing
    may branch on it.  ``replace_paths`` names the fields that force a replace.
    For task definitions an ``update`` registers the next revision.
    """

    address: str
    kind: str
    name: str
    action: str
    before: dict | None = None
    after: dict | None = None
    fields: tuple[FieldChange, ...] = ()
    replace_paths: tuple[tuple, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Drift:
    """The simulated world moved away from what was last applied (scaling, lost tasks, instances)."""

    address: str
    field: str
    expected: Any
    actual: Any
    reason: str


@dataclass(frozen=True, slots=True)
class Step:
    """One unit of work: ``action`` on ``address``; runs after every step in ``depends_on``.

    ``spec`` is the desired canonical spec (``None`` for a delete); ``before``
    the last-applied one (``None`` for a create).
    """

    id: str
    action: str
    address: str
    kind: str
    name: str
    spec: dict | None
    before: dict | None = None
    depends_on: tuple[str, ...] = ()


@dataclass(slots=True)
class Plan:
    lineage: str | None
    serial: int
    manifests_hash: str
    changes: list[Change] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    deployments: list[dict] = field(default_factory=list)
    # per service the plan touches or the scheduler moves, after apply (``app.forecast``):
    # address, wanted, placeable, unplaceable, short, reason, message, closestInstance, tasks
    predictions: list[dict] = field(default_factory=list)
    # clusters where apply's scheduler has work even without a step
    reconcile: list[str] = field(default_factory=list)
    # per capacity provider with managed scaling: the scale-out the change needs (``app.forecast``):
    # capacityProvider, cluster, instanceType, count, zones, from, to, reservation, provisioningTasks, message,
    # maxSize, staysProvisioning (tasks the group cannot run even at maxSize), services (their addresses)
    capacity: list[dict] = field(default_factory=list)
    # the backend's record of the run that made the forecast (what apply would commit, unit by
    # unit); held in memory only, never saved in a plan file
    recording: Any = field(default=None, repr=False, compare=False)
    # address -> the manifest file it was read from, for apply to record where the state does not
    # hold it so yet (``app.sources``); saved in a plan file beside the manifests' names
    sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # what it was planned against: local | aws ("" for a saved plan from before it was recorded)
    backend: str = field(default="local", repr=False, compare=False)
    format_version: int = FORMAT_VERSION

    @property
    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in ("create", "update", "replace", "delete")}
        for c in self.changes:
            if c.action in counts:
                counts[c.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(c.action != "no-op" for c in self.changes)
