"""One Kubernetes name per ECS service or scheduled task, never shared by two of them.

A workload's objects take this name or start with it (the Deployment or DaemonSet, CronJob
or Job, its ServiceAccount, HorizontalPodAutoscaler, ``-env`` Secret and EFS volumes), and
its pods carry it as their ``app.kubernetes.io/name`` label, which the selectors, topology
spread and anti-affinity match.  Two workloads on one name would share a ServiceAccount (one
would run under the other's IAM role) and count each other's pods.  No namespace is set, so
a name is unique over the whole stack:

* a service wants its ECS name as a DNS-1035 label, prefixed with its cluster when services
  of several clusters want that name (``prod-web``, ``staging-web``);
* a scheduled task wants its ECS name as a DNS label (at most 52 characters for a CronJob);
* services claim first, then scheduled tasks; within a kind the one whose ECS name already
  is the name it wants, then ECS name order (the manifests' order changes nothing).  The
  first claim gets the name; a scheduled task after a service gets ``NAME-job``; any other
  later claim ``NAME-<hash of its ECS address>``, and a note says which ECS object holds NAME.

    >>> names = workload_names([Claim("Service", "web", "prod", "web"), Claim("Service", "Web", "prod", "web"),
    ...                         Claim("ScheduledTask", "web", "prod", "web", 52)])
    >>> [names[a].name for a in ("service/prod/web", "service/prod/Web", "scheduledtask/web")]
    ['web', 'web-0b805', 'web-job']
    >>> names["scheduledtask/web"].note
    "'web' is the Kubernetes name of ECS service 'web' (cluster 'prod'), so this scheduled task's is 'web-job'"
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ecsctl.core.plan.model import address
from ecsctl.core.render.kubernetes.names import digest, dns_1035_label, dns_label

JOB_SUFFIX = "job"


@dataclass(frozen=True)
class Claim:
    """A workload that wants ``base`` as its Kubernetes name (at most ``limit`` characters)."""

    kind: str  # Service or ScheduledTask
    name: str  # the ECS name
    cluster: str
    base: str
    limit: int = 63

    @property
    def address(self) -> str:
        return workload_address(self.kind, self.name, self.cluster)

    def describe(self) -> str:
        if self.kind == "Service":
            return f"ECS service '{self.name}' (cluster '{self.cluster}')"
        return f"ECS scheduled task '{self.name}'"


@dataclass(frozen=True)
class WorkloadName:
    name: str
    note: str = ""  # why the name is not the one the workload wanted, naming the ECS object that has it


def workload_address(kind: str, name: str, cluster: str) -> str:
    """The plan's address of a service (``service/prod/web``) or scheduled task (``scheduledtask/web``)."""
    return address(kind, name, {"cluster": cluster})


def service_claims(services: list[tuple[str, str]]) -> list[Claim]:
    """The claims of services given as ``(name, cluster)``: a name several clusters want is prefixed with the cluster."""
    clusters: dict[str, set[str]] = {}
    for name, cluster in services:
        clusters.setdefault(dns_1035_label(name), set()).add(cluster)
    return [Claim("Service", name, cluster,
                  dns_1035_label(f"{cluster}-{name}") if len(clusters[dns_1035_label(name)]) > 1 else dns_1035_label(name))
            for name, cluster in services]


def scheduled_task_claim(name: str, cluster: str, limit: int) -> Claim:
    return Claim("ScheduledTask", name, cluster, dns_label(name, limit), limit)


def _order(claim: Claim) -> tuple:
    return (claim.kind != "Service", claim.name != claim.base, claim.name, claim.cluster)


def _alternatives(claim: Claim, holder: Claim) -> list[str]:
    """The names a claim tries when ``holder`` has its own: ``NAME-job`` for a scheduled task after a service, then a hash."""
    make = dns_1035_label if claim.kind == "Service" else dns_label
    hashed = make(f"{claim.base}-{digest(claim.address)}", claim.limit)
    if claim.kind == "ScheduledTask" and holder.kind == "Service":
        return [make(f"{claim.base}-{JOB_SUFFIX}", claim.limit), hashed]
    return [hashed]


def _free(options: list[str], taken: dict, limit: int) -> str:
    """The first of ``options`` not taken, else the first with ``-2``, ``-3`` … not taken."""
    for n in itertools.count(1):
        for option in options:
            candidate = option if n == 1 else dns_label(f"{option}-{n}", limit)
            if candidate not in taken:
                return candidate
    raise AssertionError("unreachable")


def workload_names(claims: list[Claim]) -> dict[str, WorkloadName]:
    """Each claim's Kubernetes name, by its ECS address; no two the same."""
    holders: dict[str, Claim] = {}
    out: dict[str, WorkloadName] = {}
    for claim in sorted(claims, key=_order):
        holder = holders.get(claim.base)
        if holder is None:
            holders[claim.base] = claim
            out[claim.address] = WorkloadName(claim.base)
            continue
        name = _free(_alternatives(claim, holder), holders, claim.limit)
        holders[name] = claim
        what = "service" if claim.kind == "Service" else "scheduled task"
        out[claim.address] = WorkloadName(name, f"'{claim.base}' is the Kubernetes name of {holder.describe()}, "
                                                f"so this {what}'s is '{name}'")
    return out
