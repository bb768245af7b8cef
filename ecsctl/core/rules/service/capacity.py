"""A service's capacity provider strategy (ecs-semantics §7.1, §7.2)."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import (MAX_STRATEGY_PROVIDERS, MAX_TARGET_PROVIDERS, as_list, check_strategy,
                                            cluster_name, launch_settings, spec_of)


@register
class ServiceCapacityProviderStrategy(Rule):
    """A capacity provider strategy: ≤ 6 providers, one base, some weight, one kind, associated providers.

    At most one item may set ``base``; at least one needs ``weight`` > 0 (the API
    default weight is 0); Fargate providers (``FARGATE``, ``FARGATE_SPOT``) and
    Auto Scaling group providers cannot be mixed; and every provider must be
    associated with the service's cluster (its ``capacityProviders``), an ASG
    provider being a ``CapacityProvider`` document. A scheduled task's ``target``
    is held to the same, as RunTask is.

    Bad::

        capacityProviderStrategy:
          - {capacityProvider: FARGATE, base: 1}
          - {capacityProvider: my-asg, base: 2}

    Good::

        capacityProviderStrategy:
          - {capacityProvider: FARGATE, base: 1, weight: 1}
          - {capacityProvider: FARGATE_SPOT, weight: 3}
    """

    id = "E3019"
    title = "Capacity provider strategy must be valid and use the cluster's providers"
    kinds = ("Service", "ScheduledTask")

    def check(self, spec, doc, ctx):
        spec, at = launch_settings(spec, doc)
        strategy = spec.get("capacityProviderStrategy")
        if not as_list(strategy):
            return
        cluster = spec_of(ctx.get("Cluster", cluster_name(spec)))
        associated = None
        if cluster is not None:
            associated = {p for p in as_list(cluster.get("capacityProviders")) if isinstance(p, str)}
        most = MAX_TARGET_PROVIDERS if doc.kind == "ScheduledTask" else MAX_STRATEGY_PROVIDERS
        for path, message in check_strategy(strategy, "capacityProviderStrategy", ctx, associated, most):
            yield at + path, message
