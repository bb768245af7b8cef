"""Drift between live AWS and the state's last-applied resources (pure).

``live_drift(applied, live)`` lists, as ``core.plan.model.Drift``, every difference between
what ecsctl last applied (``applied``: address -> (kind, name, canonical spec)) and what AWS
reports now (``live``: address -> :class:`LiveResource`, canonical too). It is reported apart
from changes, as the local backend's drift is: a plan never reverts drift on its own.

Rules:

* a managed resource that AWS no longer has (deleted, INACTIVE) is drift ``status``
  (``deleted_in_aws``; the plan creates it again when the manifests still declare it);
* only fields that AWS reported are compared (``observed``; ``None`` means every field):
  a field missing from a Describe answer is unknown, not changed;
* a field of a spec is compared when the last-applied spec has it, or when it is one of the
  lists whose absence means "none" (``loadBalancers``, ``placementConstraints``, …), so that
  something added in the console behind ecsctl's back shows up;
* a service that follows its family (``taskDefinition: web``) should run the family's latest
  ACTIVE revision; running another one is drift ``taskDefinition`` (rolled back, or updated by
  hand); a service running fewer tasks than it wants is drift ``runningCount``;
* catalogue kinds (Parameter, Secret, EnvironmentFile, Repository, TargetGroup) are checked for
  existence only, when the caller looked them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecsctl.core.plan.diff import diff_fields, format_path
from ecsctl.core.plan.model import Drift

# Kinds the AWS backend only checks to exist (``backends.aws.catalogue``): owned by other
# tooling, never created, changed or deleted by ecsctl.
CHECKED_ONLY = ("Parameter", "Secret", "EnvironmentFile", "Repository", "TargetGroup", "Queue", "SecurityGroup")

EMPTY_MEANS_NONE = {
    "Service": ("loadBalancers", "serviceRegistries", "placementConstraints", "placementStrategy",
                "capacityProviderStrategy", "tags", "autoScaling"),
    "Cluster": ("capacityProviders", "defaultCapacityProviderStrategy", "tags"),
    "TaskDefinition": (),
    "ScheduledTask": (),
    "CapacityProvider": (),
}
# Keys ecsctl keeps in a spec that AWS has no notion of (simulation only).
NOT_IN_AWS = {"Cluster": ("containerInstances",), "CapacityProvider": ("autoScalingGroupProvider.autoScalingGroup",)}


@dataclass(frozen=True, slots=True)
class LiveResource:
    """One resource as AWS reports it: ``spec`` canonical; ``observed`` the top-level keys reported."""

    kind: str
    name: str
    spec: dict
    observed: frozenset[str] | None = None
    status: str = "ACTIVE"
    running_count: int | None = None
    desired_count: int | None = None
    latest_revision: int | None = None  # TaskDefinition family / a service's family: newest ACTIVE
    extra: dict = field(default_factory=dict)


def _restrict(kind: str, applied: dict, live: LiveResource) -> tuple[dict, dict]:
    keys = set(applied) | set(EMPTY_MEANS_NONE.get(kind, ()))
    keys -= set(NOT_IN_AWS.get(kind, ()))
    if live.observed is not None:
        keys &= set(live.observed)
    before = {k: applied[k] for k in keys if k in applied}
    after = {k: live.spec[k] for k in keys if k in live.spec}
    if kind == "CapacityProvider":
        for side in (before, after):
            asg = dict(side.get("autoScalingGroupProvider") or {})
            asg.pop("autoScalingGroup", None)
            asg.pop("autoScalingGroupArn", None)
            if "autoScalingGroupProvider" in side:
                side["autoScalingGroupProvider"] = asg
    return before, after


def as_reported(kind: str, applied: dict, live: LiveResource) -> dict:
    """The last-applied spec with AWS's values in place of the ones drift compares (the keys the
    applied spec has, as AWS reported them); keys AWS adds that ecsctl never said (a field a newer
    API returns with its default, such as ``enableFaultInjection: false``) are left out, so an
    unchanged resource stays unchanged."""
    before, after = _restrict(kind, applied, live)
    if before == after:
        return applied
    out = {k: v for k, v in applied.items() if k not in before}
    out.update(after)
    return out


def _family_ref(value: Any) -> tuple[str, str | None]:
    text = str(value or "")
    family, _, revision = text.partition(":")
    return family, (revision or None)


def _service_drift(address: str, spec: dict, live: LiveResource) -> list[Drift]:
    out: list[Drift] = []
    applied = dict(spec)
    want_td = applied.pop("taskDefinition", None)
    live_spec = dict(live.spec)
    have_td = live_spec.pop("taskDefinition", None)
    before, after = _restrict("Service", applied, LiveResource(live.kind, live.name, live_spec, live.observed))
    for f in diff_fields("Service", before, after):
        out.append(Drift(address, format_path("Service", f.path), f.before, f.after, _service_reason(f.path)))
    if want_td is not None and have_td is not None and (live.observed is None or "taskDefinition" in live.observed):
        family, revision = _family_ref(want_td)
        have_family, have_revision = _family_ref(have_td)
        expected = want_td if revision else (f"{family}:{live.latest_revision}" if live.latest_revision else family)
        if have_family != family or (revision and have_revision != revision) or (
                not revision and live.latest_revision and have_revision != str(live.latest_revision)):
            out.append(Drift(address, "taskDefinition", expected, have_td,
                             "the service runs another revision (rolled back by the circuit breaker, or updated outside ecsctl)"))
    if live.running_count is not None and live.desired_count is not None and live.running_count < live.desired_count:
        out.append(Drift(address, "runningCount", live.desired_count, live.running_count,
                         f"{live.desired_count - live.running_count} task(s) not running"))
    return out


def _service_reason(path: tuple) -> str:
    if path and path[0] == "desiredCount":
        return "desired count changed since the last apply (auto scaling or by hand)"
    if path and path[0] == "autoScaling":
        return "Application Auto Scaling settings changed outside ecsctl"
    return "changed in AWS since the last apply"


GONE = ("INACTIVE", "DELETED", "MISSING")
DELETED_REASON = "deleted in AWS since the last apply"


def deleted_in_aws(applied: dict[str, tuple[str, str, dict]], live: dict[str, LiveResource],
                   checked: frozenset[str] | set[str] | None = None) -> set[str]:
    """The addresses of ``applied`` that AWS no longer has (deleted, INACTIVE), of those looked up."""
    out = set()
    for address in applied:
        if checked is not None and address not in checked:
            continue
        resource = live.get(address)
        if resource is None or resource.status in GONE:
            out.add(address)
    return out


def live_drift(applied: dict[str, tuple[str, str, dict]], live: dict[str, LiveResource],
               checked: frozenset[str] | set[str] | None = None) -> list[Drift]:
    """Differences between ``live`` and ``applied`` (see the module docstring).

    ``checked`` is the set of addresses the caller looked up in AWS (default: all of
    ``applied`` whose kind AWS holds); an address outside it is not reported missing.
    """
    out: list[Drift] = []
    gone = deleted_in_aws(applied, live, checked)
    for address, (kind, name, spec) in sorted(applied.items()):
        if checked is not None and address not in checked:
            continue
        resource = live.get(address)
        if address in gone:
            out.append(Drift(address, "status", "ACTIVE", "missing" if resource is None else resource.status,
                             DELETED_REASON))
            continue
        if kind == "Service":
            out.extend(_service_drift(address, spec, resource))
            continue
        if kind not in EMPTY_MEANS_NONE:
            continue  # catalogue kinds: existence only
        before, after = _restrict(kind, spec, resource)
        reason = ("the family's latest ACTIVE revision differs (registered outside ecsctl?)"
                  if kind == "TaskDefinition" else "changed in AWS since the last apply")
        for f in diff_fields(kind, before, after):
            out.append(Drift(address, format_path(kind, f.path), f.before, f.after, reason))
    return out
