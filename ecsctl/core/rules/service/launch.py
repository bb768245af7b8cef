"""Launch type, capacity provider strategy and scheduling strategy of a service."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import as_dict, as_list, launch_of, launch_path, launch_settings, task_definition_spec


@register
class LaunchTypeOrCapacityProviders(Rule):
    """``launchType`` and ``capacityProviderStrategy`` are mutually exclusive.

    A service (or a scheduled task's ``target``, RunTask's parameters) either names a
    launch type or a capacity provider strategy; with neither, the cluster's
    ``defaultCapacityProviderStrategy`` applies.
    ECS: ``InvalidParameterException: Specifying both a
    launch type and capacity provider strategy is not supported.``

    Bad::

        spec: {launchType: FARGATE, capacityProviderStrategy: [{capacityProvider: FARGATE_SPOT, weight: 1}]}

    Good::

        spec: {capacityProviderStrategy: [{capacityProvider: FARGATE_SPOT, weight: 1}]}
    """

    id = "E3006"
    title = "launchType and capacityProviderStrategy are mutually exclusive"
    kinds = ("Service", "ScheduledTask")

    def check(self, spec, doc, ctx):
        spec, at = launch_settings(spec, doc)
        if spec.get("launchType") is not None and as_list(spec.get("capacityProviderStrategy")):
            yield at + ("capacityProviderStrategy",), "Specifying both a launch type and capacity provider strategy is not supported."


@register
class FargateService(Rule):
    """A Fargate service needs a Fargate-compatible task definition and the REPLICA strategy.

    With ``launchType: FARGATE`` the task definition must list ``FARGATE`` in
    ``requiresCompatibilities`` (cfn-lint ``service_fargate.json``; a scheduled task's
    ``target`` too, where RunTask refuses it), and Fargate
    (like EXTERNAL) only runs ``REPLICA`` services (cfn-lint
    ``FargateDeploymentSchedulingStrategy``).

    Bad::

        spec: {launchType: FARGATE, schedulingStrategy: DAEMON, taskDefinition: web}   # web: requiresCompatibilities [EC2]

    Good::

        spec: {launchType: FARGATE, taskDefinition: web}   # web: requiresCompatibilities [FARGATE]
    """

    id = "E3007"
    title = "Fargate services and scheduled tasks need a FARGATE-compatible task definition; services REPLICA scheduling"
    kinds = ("Service", "ScheduledTask")

    def check(self, spec, doc, ctx):
        spec, at = launch_settings(spec, doc)
        launch = spec.get("launchType")
        if launch in ("FARGATE", "EXTERNAL") and spec.get("schedulingStrategy", "REPLICA") != "REPLICA":
            yield ("schedulingStrategy",), f"launch type {launch} supports only the REPLICA scheduling strategy"
        if launch_of(spec, ctx) != "FARGATE":
            return
        td = task_definition_spec(spec.get("taskDefinition"), ctx)
        if td is None:
            return
        compat = td.get("requiresCompatibilities")
        if not (isinstance(compat, list) and "FARGATE" in compat):
            yield at + launch_path(spec), f"task definition '{spec.get('taskDefinition')}' is not compatible with FARGATE (add FARGATE to its requiresCompatibilities)"


@register
class DaemonService(Rule):
    """A DAEMON service runs one task per instance: no count, strategy, Fargate or auto scaling.

    ECS places exactly one task on each active container instance that meets the
    constraints, so ``desiredCount``, ``placementStrategy``, Service Auto Scaling
    and Fargate make no sense for it, and ``maximumPercent`` must be 100.

    Bad::

        spec: {schedulingStrategy: DAEMON, desiredCount: 3, placementStrategy: [{type: spread, field: instanceId}]}

    Good::

        spec: {schedulingStrategy: DAEMON, deploymentConfiguration: {maximumPercent: 100, minimumHealthyPercent: 0}}
    """

    id = "E3008"
    title = "DAEMON services take no desiredCount, placementStrategy, Fargate or autoScaling"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        if spec.get("schedulingStrategy") != "DAEMON":
            return
        if "desiredCount" in spec:
            yield ("desiredCount",), "a DAEMON service runs one task per container instance; remove desiredCount"
        if as_list(spec.get("placementStrategy")):
            yield ("placementStrategy",), "placement strategies are not supported with the DAEMON scheduling strategy"
        if launch_of(spec, ctx) == "FARGATE":
            yield launch_path(spec), "the DAEMON scheduling strategy is not supported on Fargate"
        if "autoScaling" in spec:
            yield ("autoScaling",), "Service Auto Scaling is not supported with the DAEMON scheduling strategy"
        controller = as_dict(spec.get("deploymentController")).get("type")
        if controller in ("CODE_DEPLOY", "EXTERNAL"):
            yield ("deploymentController", "type"), f"the DAEMON scheduling strategy does not support the {controller} deployment controller"
        max_pct = as_dict(spec.get("deploymentConfiguration")).get("maximumPercent")
        if max_pct is not None and max_pct != 100:
            yield ("deploymentConfiguration", "maximumPercent"), f"maximumPercent must be 100 for a DAEMON service, not {max_pct}"


@register
class FargateNoPlacement(Rule):
    """Fargate tasks ignore placement: no ``placementStrategy`` or ``placementConstraints``.

    Fargate spreads a service's tasks over the Availability Zones of its
    subnets itself; strategies and constraints are an EC2/External feature. The same
    holds for a scheduled task's ``target``.

    Bad::

        spec: {launchType: FARGATE, placementConstraints: [{type: distinctInstance}]}

    Good::

        spec: {launchType: FARGATE, networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-a, subnet-b]}}}
    """

    id = "E3010"
    title = "Fargate services and scheduled tasks take no placement strategies or constraints"
    kinds = ("Service", "ScheduledTask")

    def check(self, spec, doc, ctx):
        spec, at = launch_settings(spec, doc)
        if launch_of(spec, ctx) != "FARGATE":
            return
        for key in ("placementStrategy", "placementConstraints"):
            if as_list(spec.get(key)):
                yield at + (key,), f"{key} is not supported on Fargate, which spreads tasks across the subnets' Availability Zones"
