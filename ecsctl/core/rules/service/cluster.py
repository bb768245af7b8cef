"""Clusters and capacity providers (E4xxx; ecs-semantics §7)."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import FARGATE_PROVIDERS, as_dict, as_list, check_strategy


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@register
class ContainerInstanceGroupNames(Rule):
    """Container-instance group names are unique within a cluster.

    Each ``containerInstances`` group is a set of manually run EC2 instances;
    its name identifies it in plans and in the simulation's instance ids.

    Bad::

        containerInstances: [{name: general, count: 2}, {name: general, count: 1}]

    Good::

        containerInstances: [{name: general, count: 2}, {name: gpu, count: 1}]
    """

    id = "E4001"
    title = "Container-instance group names must be unique"
    kinds = ("Cluster",)

    def check(self, spec, doc, ctx):
        seen: set = set()
        for i, group in enumerate(as_list(spec.get("containerInstances"))):
            name = as_dict(group).get("name")
            if name is None:
                continue
            if name in seen:
                yield ("containerInstances", i, "name"), f"container-instance group '{name}' is defined twice"
            seen.add(name)


@register
class ClusterCapacityProviders(Rule):
    """Cluster capacity providers exist, and the default strategy uses only them.

    A cluster's ``capacityProviders`` are ``FARGATE``, ``FARGATE_SPOT`` or
    ``CapacityProvider`` documents; its ``defaultCapacityProviderStrategy``
    follows the strategy rules (≤ 6 items, one base, a weight > 0, no mixing of
    Fargate and ASG providers) and may name only associated providers
    (``PutClusterCapacityProviders``). A provider with managed scaling ENABLED belongs to one
    cluster: ECS refuses to associate it with a second (its scaling is sized for one cluster's
    tasks), so a second Cluster document listing it is an error.

    Bad::

        capacityProviders: [FARGATE]
        defaultCapacityProviderStrategy: [{capacityProvider: FARGATE_SPOT, weight: 1}]

    Good::

        capacityProviders: [FARGATE, FARGATE_SPOT]
        defaultCapacityProviderStrategy: [{capacityProvider: FARGATE_SPOT, weight: 1}]
    """

    id = "E4002"
    title = "Cluster capacity providers must exist and back the default strategy"
    kinds = ("Cluster",)

    def check(self, spec, doc, ctx):
        providers = as_list(spec.get("capacityProviders"))
        seen: set = set()
        for i, name in enumerate(providers):
            if not isinstance(name, str):
                continue
            if name in seen:
                yield ("capacityProviders", i), f"capacity provider '{name}' is listed twice"
            seen.add(name)
            provider = ctx.get("CapacityProvider", name) if name not in FARGATE_PROVIDERS else None
            if name not in FARGATE_PROVIDERS and provider is None:
                yield ("capacityProviders", i), f"capacity provider '{name}' is neither FARGATE, FARGATE_SPOT nor a CapacityProvider among the validated documents{ctx.suggest('CapacityProvider', name, FARGATE_PROVIDERS)}"
            elif provider is not None and _managed_scaling(provider.spec):
                first = next((c for c in ctx.all("Cluster") if name in as_list(as_dict(c.spec).get("capacityProviders"))), doc)
                if first is not doc:
                    yield ("capacityProviders", i), (
                        f"capacity provider '{name}' has managed scaling and is already associated with cluster "
                        f"'{first.name}': such a provider belongs to one cluster (give this cluster its own provider "
                        "and Auto Scaling group)")
        yield from check_strategy(spec.get("defaultCapacityProviderStrategy"), "defaultCapacityProviderStrategy", ctx, seen)


def _managed_scaling(spec) -> bool:
    provider = as_dict(as_dict(spec).get("autoScalingGroupProvider"))
    return as_dict(provider.get("managedScaling")).get("status") == "ENABLED"


@register
class CapacityProviderSizes(Rule):
    """An Auto Scaling group provider: minSize ≤ desiredCapacity ≤ maxSize, maxSize > 0, step sizes ordered.

    ECS never changes the ASG's min and max and needs ``maxSize`` > 0;
    ``managedScaling.minimumScalingStepSize`` may not exceed
    ``maximumScalingStepSize`` (both 1–10,000).

    Bad::

        autoScalingGroup: {minSize: 3, maxSize: 2, desiredCapacity: 5}

    Good::

        autoScalingGroup: {minSize: 1, maxSize: 10, desiredCapacity: 2}
    """

    id = "E4003"
    title = "Capacity provider sizes and scaling steps must be ordered"
    kinds = ("CapacityProvider",)

    def check(self, spec, doc, ctx):
        provider = as_dict(spec.get("autoScalingGroupProvider"))
        asg = as_dict(provider.get("autoScalingGroup"))
        base = ("autoScalingGroupProvider", "autoScalingGroup")
        lo, hi, want = _int(asg.get("minSize")), _int(asg.get("maxSize")), _int(asg.get("desiredCapacity"))
        if hi is not None and hi <= 0:
            yield base + ("maxSize",), "maxSize must be greater than 0 for a capacity provider's Auto Scaling group"
        if lo is not None and hi is not None and lo > hi:
            yield base + ("minSize",), f"minSize {lo} is greater than maxSize {hi}"
        if want is not None:
            if lo is not None and want < lo:
                yield base + ("desiredCapacity",), f"desiredCapacity {want} is below minSize {lo}"
            if hi is not None and want > hi:
                yield base + ("desiredCapacity",), f"desiredCapacity {want} is above maxSize {hi}"
        scaling = as_dict(provider.get("managedScaling"))
        step_lo, step_hi = _int(scaling.get("minimumScalingStepSize")), _int(scaling.get("maximumScalingStepSize"))
        if step_lo is not None and step_hi is not None and step_lo > step_hi:
            yield ("autoScalingGroupProvider", "managedScaling", "minimumScalingStepSize"), (
                f"minimumScalingStepSize {step_lo} is greater than maximumScalingStepSize {step_hi}")


@register
class ManagedTerminationProtection(Rule):
    """Managed termination protection needs managed scaling.

    With ``managedTerminationProtection: ENABLED`` ECS protects instances that
    run tasks and un-protects empty ones as it scales in, which only works when
    it drives the scaling (the API: "When using managed termination protection,
    managed scaling must also be used").

    Bad::

        autoScalingGroupProvider: {managedTerminationProtection: ENABLED, managedScaling: {status: DISABLED}}

    Good::

        autoScalingGroupProvider: {managedTerminationProtection: ENABLED, managedScaling: {status: ENABLED}}
    """

    id = "E4004"
    title = "managedTerminationProtection ENABLED requires managedScaling ENABLED"
    kinds = ("CapacityProvider",)

    def check(self, spec, doc, ctx):
        provider = as_dict(spec.get("autoScalingGroupProvider"))
        if provider.get("managedTerminationProtection") != "ENABLED":
            return
        if as_dict(provider.get("managedScaling")).get("status") != "ENABLED":
            yield ("autoScalingGroupProvider", "managedTerminationProtection"), "managed termination protection requires managed scaling (managedScaling.status: ENABLED)"


@register
class CapacityProviderName(Rule):
    """A capacity provider's name may not start with ``aws``, ``ecs`` or ``fargate``.

    Those prefixes are reserved (``FARGATE`` and ``FARGATE_SPOT`` are ECS's own providers);
    CreateCapacityProvider refuses such a name in any letter case (``Ecs…`` and ``AWS…`` too,
    aws-cdk#36584): "The specified capacity provider name is invalid. … The name cannot be
    prefixed with "aws", "ecs", or "fargate"."

    Bad::

        kind: CapacityProvider
        metadata: {name: ecs-general}

    Good::

        kind: CapacityProvider
        metadata: {name: general}
    """

    id = "E4006"
    title = "Capacity provider names may not start with aws, ecs or fargate"
    kinds = ("CapacityProvider",)

    def check(self, spec, doc, ctx):
        name = str(doc.name or "")
        prefix = next((p for p in ("aws", "ecs", "fargate") if name.lower().startswith(p)), None)
        if prefix is not None:
            yield (), (f"capacity provider name '{name}' (metadata.name): The specified capacity provider name is "
                       "invalid. The name cannot be prefixed with \"aws\", \"ecs\", or \"fargate\" (in any case).")


@register
class InstanceTypeSized(Rule):
    """A container-instance group's type is one ecsctl knows, or the group gives ``cpu`` and ``memory``.

    An error, because nothing could be registered: the simulation registers, for each instance,
    the CPU (1,024 units per vCPU) and memory ECS would report for its type, from a built-in
    table of common EC2 types
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html). Any
    other real type (``g2.2xlarge`` in the Cluster Query Language documentation, a new family)
    is fine when the group says what it registers.

    Bad::

        containerInstances: [{name: gpu, count: 1, instanceType: g2.2xlarge}]

    Good::

        containerInstances: [{name: gpu, count: 1, instanceType: g2.2xlarge, cpu: 8192, memory: 14900}]

    The same holds for a CapacityProvider's Auto Scaling group (``autoScalingGroup.cpu`` and
    ``.memory``): each instance it launches registers that much.
    """

    id = "E4005"
    title = "An instance type outside the built-in table needs cpu and memory"
    kinds = ("Cluster", "CapacityProvider")

    def check(self, spec, doc, ctx):
        if doc.kind == "CapacityProvider":
            asg = as_dict(as_dict(spec.get("autoScalingGroupProvider")).get("autoScalingGroup"))
            found = _unsized(asg, "the Auto Scaling group's")
            if found:
                yield ("autoScalingGroupProvider", "autoScalingGroup", "instanceType"), found
            return
        for i, group in enumerate(as_list(spec.get("containerInstances"))):
            found = _unsized(as_dict(group), "the group's")
            if found:
                yield ("containerInstances", i, "instanceType"), found


def _unsized(group: dict, whose: str) -> str:
    """Why ``group``'s instances cannot be registered (its type unknown and not sized), or ''."""
    from ecsctl.core.scheduling.instance_types import is_known, lookup

    kind = group.get("instanceType")
    if not isinstance(kind, str) or is_known(kind):
        return ""
    if _int(group.get("cpu")) is not None and _int(group.get("memory")) is not None:
        return ""
    try:
        lookup(kind)
        hint = ""
    except KeyError as exc:
        hint = str(exc.args[0]).split(";", 1)[-1].strip()
    close = f"; {hint}" if hint.startswith("did you mean") else ""
    return f"instance type '{kind}' is not in ecsctl's table: give {whose} cpu and memory (what ECS registers for it){close}"
