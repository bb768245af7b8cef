"""A service's (or a scheduled task's target's) networkConfiguration follows its task
definition's network mode and its launch type."""

from __future__ import annotations

from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import as_dict, launch_of, launch_settings, network_mode, task_definition_spec


@register
class AwsvpcNeedsNetworkConfiguration(Rule):
    """A service whose task definition uses ``awsvpc`` needs ``networkConfiguration.awsvpcConfiguration``.

    Each awsvpc task gets its own elastic network interface, placed in the
    subnets and security groups the service names.  ECS refuses the service with
    ``InvalidParameterException: Network Configuration must be provided when
    networkMode 'awsvpc' is specified.`` (cfn-lint has the same check in
    ``service_network_configuration.json``).

    Bad::

        spec: {taskDefinition: web, desiredCount: 2}          # web has networkMode: awsvpc

    Good::

        spec:
          taskDefinition: web
          networkConfiguration:
            awsvpcConfiguration: {subnets: [subnet-1], securityGroups: [sg-1]}
    """

    id = "E3004"
    title = "awsvpc task definitions need networkConfiguration.awsvpcConfiguration"
    kinds = ("Service",)

    def check(self, spec, doc, ctx):
        td = task_definition_spec(spec.get("taskDefinition"), ctx)
        if td is None or network_mode(td) != "awsvpc":
            return
        net = as_dict(spec.get("networkConfiguration"))
        if not isinstance(net.get("awsvpcConfiguration"), dict):
            where = ("networkConfiguration",) if "networkConfiguration" in spec else ()
            yield where, "Network Configuration must be provided when networkMode 'awsvpc' is specified."


@register
class NetworkConfigurationWithoutAwsvpc(Rule):
    """``networkConfiguration`` only applies to ``awsvpc`` task definitions.

    With ``bridge``, ``host`` or ``none`` the tasks use the instance's network;
    ECS refuses a network configuration for them, at CreateService and at RunTask
    (a scheduled task's ``target``): ``InvalidParameterException: Network
    Configuration is not valid for the given networkMode of this task definition.``
    (ecsctl reported it as the warning W3005 before).

    Bad::

        spec: {taskDefinition: web-bridge, networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}}

    Good::

        spec: {taskDefinition: web-bridge}
    """

    id = "E3005"
    title = "networkConfiguration is refused without awsvpc"
    kinds = ("Service", "ScheduledTask")

    def check(self, spec, doc, ctx):
        spec, at = launch_settings(spec, doc)
        if "networkConfiguration" not in spec:
            return
        td = task_definition_spec(spec.get("taskDefinition"), ctx)
        if td is not None and network_mode(td) != "awsvpc":
            yield at + ("networkConfiguration",), ("Network Configuration is not valid for the given networkMode of this "
                                                   f"task definition ('{network_mode(td)}'; it is only used with 'awsvpc')")


@register
class PublicIpOnFargateOnly(Rule):
    """``assignPublicIp: ENABLED`` is for Fargate tasks only.

    An awsvpc task on an EC2 instance (or on an Auto Scaling group capacity
    provider) gets an elastic network interface without a public address; ECS
    refuses the request, at CreateService and at RunTask (a scheduled task's
    ``target``): ``InvalidParameterException: Assign public IP is not supported
    for this launch type.`` Such tasks reach the internet through a NAT gateway.

    Bad::

        spec: {launchType: EC2, networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1], assignPublicIp: ENABLED}}}

    Good::

        spec: {launchType: FARGATE, networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1], assignPublicIp: ENABLED}}}
    """

    id = "E3021"
    title = "assignPublicIp ENABLED needs Fargate"
    kinds = ("Service", "ScheduledTask")

    def check(self, spec, doc, ctx):
        spec, at = launch_settings(spec, doc)
        awsvpc = as_dict(as_dict(spec.get("networkConfiguration")).get("awsvpcConfiguration"))
        if awsvpc.get("assignPublicIp") != "ENABLED":
            return
        launch = launch_of(spec, ctx)
        if launch is not None and launch != "FARGATE":  # (None: a default strategy of a cluster not validated)
            yield (at + ("networkConfiguration", "awsvpcConfiguration", "assignPublicIp"),
                   f"Assign public IP is not supported for this launch type ({launch}; only Fargate tasks get a public IP)")
