"""deploymentConfiguration: the percentages and whether a rolling deployment can move (DESIGN §6)."""

from __future__ import annotations

from ecsctl.core.deploy.bounds import DEFAULT_MAX_PCT, DEFAULT_MIN_PCT, can_progress, smallest_fix
from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import as_dict

MAX_SCAN = 1000  # desired counts checked across an autoScaling range


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rolling(spec: dict) -> bool:
    return (spec.get("schedulingStrategy", "REPLICA") == "REPLICA"
            and as_dict(spec.get("deploymentController")).get("type", "ECS") == "ECS")


@register
class DeploymentPercentRanges(Rule):
    """``minimumHealthyPercent`` 0–100 and ``maximumPercent`` ≥ 100 for a REPLICA service.

    AWS does not publish the ranges, but a
    minimum above 100 or a maximum below 100 makes ECS keep more tasks healthy
    than it may run, and ``maximumPercent`` not above ``minimumHealthyPercent``
    leaves a deployment no room; these are almost always typos.

    Bad::

        deploymentConfiguration: {minimumHealthyPercent: 150, maximumPercent: 90}

    Good::

        deploymentConfiguration: {minimumHealthyPercent: 50, maximumPercent: 200}
    """

    id = "W3016"
    title = "minimumHealthyPercent 0-100, maximumPercent at least 100"
    kinds = ("Service",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        conf = as_dict(spec.get("deploymentConfiguration"))
        lo, hi = conf.get("minimumHealthyPercent"), conf.get("maximumPercent")
        if _is_int(lo) and not 0 <= lo <= 100:
            yield ("deploymentConfiguration", "minimumHealthyPercent"), f"minimumHealthyPercent should be between 0 and 100, not {lo}"
        if _is_int(hi) and hi < 100 and spec.get("schedulingStrategy", "REPLICA") == "REPLICA":
            yield ("deploymentConfiguration", "maximumPercent"), f"maximumPercent should be at least 100 for a REPLICA service, not {hi}"


@register
class DeploymentCanProgress(Rule):
    """The percentages should let a rolling deployment stop or start at least one task.

    A warning, not an error: CreateService and UpdateService accept such a configuration
    (``desiredCount 2, minimumHealthyPercent 75, maximumPercent 100`` is taken as it is); only
    its deployments and drains then stall, which the plan shows with the reason and the fix.
    ECS keeps ``ceil(D × minimumHealthyPercent / 100)`` healthy tasks and runs at
    most ``floor(D × maximumPercent / 100)``.  When neither one old task can stop
    nor one new task can start, the deployment never moves and ECS reports
    ``service (S) was unable to stop or start tasks during a deployment because
    of the service deployment configuration. Update the minimumHealthyPercent or
    maximumPercent value and try again.``  With auto
    scaling, every desired count between minCapacity and maxCapacity is checked.

    Bad::

        desiredCount: 3
        deploymentConfiguration: {minimumHealthyPercent: 100, maximumPercent: 125}   # floor(3.75) = 3

    Good::

        desiredCount: 3
        deploymentConfiguration: {minimumHealthyPercent: 100, maximumPercent: 134}
    """

    id = "W3017"
    title = "minimumHealthyPercent/maximumPercent should leave room for a deployment"
    kinds = ("Service",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        if not _rolling(spec):
            return
        conf = as_dict(spec.get("deploymentConfiguration"))
        lo = conf.get("minimumHealthyPercent", DEFAULT_MIN_PCT)
        hi = conf.get("maximumPercent", DEFAULT_MAX_PCT)
        if not (_is_int(lo) and _is_int(hi)):
            return
        where = ("deploymentConfiguration",) if "deploymentConfiguration" in spec else ()
        desired = spec.get("desiredCount")
        if _is_int(desired):
            ok, reason = can_progress(desired, lo, hi)
            if not ok:
                yield where, self._message(desired, lo, hi, reason, "")
                return
        scaling = as_dict(spec.get("autoScaling"))
        low, high = scaling.get("minCapacity"), scaling.get("maxCapacity")
        if _is_int(low) and _is_int(high) and low <= high:
            for d in range(max(low, 1), min(high, low + MAX_SCAN) + 1):
                ok, reason = can_progress(d, lo, hi)
                if not ok:
                    yield where, self._message(d, lo, hi, reason, " when auto scaling sets the desired count to")
                    return

    @staticmethod
    def _message(desired, lo, hi, reason, context) -> str:
        best_min, best_max = smallest_fix(desired, lo, hi)
        count = f"{context} {desired}" if context else f" with desiredCount {desired}"
        return (f"unable to stop or start tasks during a deployment because of the service deployment configuration{count}: "
                f"{reason}; lower minimumHealthyPercent to {best_min} or raise maximumPercent to {best_max}")


@register
class DesiredCountWithinScaling(Rule):
    """``desiredCount`` should lie between ``autoScaling.minCapacity`` and ``maxCapacity``.

    Registering the scalable target (when the service is created or its
    ``autoScaling`` changes) moves the current capacity into
    ``[minCapacity, maxCapacity]``, so a desiredCount outside it is overwritten
    at once and every plan shows drift.  Changed alone, it stays until a scaling
    policy next acts (Application Auto Scaling does not re-register the target).

    Bad::

        desiredCount: 1
        autoScaling: {minCapacity: 2, maxCapacity: 10}

    Good::

        desiredCount: 2
        autoScaling: {minCapacity: 2, maxCapacity: 10}
    """

    id = "W3018"
    title = "desiredCount should be within autoScaling minCapacity..maxCapacity"
    kinds = ("Service",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        desired = spec.get("desiredCount")
        scaling = as_dict(spec.get("autoScaling"))
        low, high = scaling.get("minCapacity"), scaling.get("maxCapacity")
        if not _is_int(desired):
            return
        if _is_int(low) and desired < low:
            yield ("desiredCount",), (f"desiredCount {desired} is below autoScaling.minCapacity {low}; auto scaling "
                                      f"raises it to {low} when it registers the target or a policy next acts")
        elif _is_int(high) and desired > high:
            yield ("desiredCount",), (f"desiredCount {desired} is above autoScaling.maxCapacity {high}; auto scaling "
                                      f"lowers it to {high} when it registers the target or a policy next acts")
