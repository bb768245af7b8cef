"""A service's networkConfiguration follows its task definition's network mode."""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.service.refs import as_dict, network_mode, task_definition_spec


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
    ECS rejects a network configuration for them at CreateService
    (``InvalidParameterException: Network Configuration is not valid for the
    given networkMode of this task definition.``), so it is at best dead text.

    Bad::

        spec: {taskDefinition: web-bridge, networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}}

    Good::

        spec: {taskDefinition: web-bridge}
    """

    id = "W3005"
    title = "networkConfiguration is not used without awsvpc"
    kinds = ("Service",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        if "networkConfiguration" not in spec:
            return
        td = task_definition_spec(spec.get("taskDefinition"), ctx)
        if td is not None and network_mode(td) != "awsvpc":
            yield ("networkConfiguration",), f"networkConfiguration is only used with networkMode 'awsvpc'; the task definition uses '{network_mode(td)}'"
