"""SecurityGroup documents and the references to them (E8001–E8003)."""

from __future__ import annotations

import ipaddress

from ecsctl.core.findings import Severity
from ecsctl.core.network.security_groups import PROTOCOL_NUMBERS
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.rules.network.lookup import group_index, security_group_references
from ecsctl.core.rules.service.refs import as_dict, as_list


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _port_issues(permission: dict):
    """EC2's portRange checks for one permission: ``(field, message)``."""
    proto = str(permission.get("ipProtocol", "")).lower()
    proto = PROTOCOL_NUMBERS.get(proto, proto)
    low, high = permission.get("fromPort"), permission.get("toPort")
    if proto in ("tcp", "udp"):
        if not (_is_int(low) and _is_int(high)):
            missing = "fromPort" if not _is_int(low) else "toPort"
            yield missing, "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange."
        elif low < 0 or high < 0:
            yield ("fromPort" if low < 0 else "toPort"), f"TCP/UDP port ({min(low, high)}) out of range"
        elif low > high:
            yield "fromPort", f"fromPort {low} is greater than toPort {high}: the port range is empty"
    elif proto == "icmp" and not (_is_int(low) and _is_int(high)):
        yield ("fromPort" if not _is_int(low) else "toPort"), "Invalid value 'Must specify both from and to ports with ICMP.' for portRange."
    elif proto in ("icmp", "icmpv6") and (low == -1) != (high == -1):
        yield "toPort", f"for {proto}, fromPort (the type) and toPort (the code) are both -1 or neither (got {low} and {high})"


def _cidr_issue(value, version: int) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"CIDR block {value} is malformed"
    if net.version != version:
        field = "cidrIp" if version == 4 else "cidrIpv6"
        return f"CIDR block {value} is not an IPv{version} range ({field})"
    return None


@register
class IpPermissionWellFormed(Rule):
    """A security-group rule has a port range its protocol accepts, and well-formed CIDR blocks.

    EC2 refuses a ``tcp`` or ``udp`` rule without both ``fromPort`` and ``toPort``
    (``InvalidParameterValue: Invalid value 'Must specify both from and to ports
    with TCP/UDP.' for portRange.``), with port ``-1`` (``InvalidPermission.Malformed:
    TCP/UDP port (-1) out of range``) or with ``fromPort`` above ``toPort``; an
    ``icmp`` rule needs both too (the ICMP type and code, ``-1`` for all).
    ``ipProtocol: "-1"`` means every protocol and every port.  CIDR blocks must parse
    (``CIDR block 10.0.0.300/16 is malformed``).  This is an error: EC2 refuses the
    rule (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html).

    Bad::

        ipPermissions: [{ipProtocol: tcp, fromPort: 32768, userIdGroupPairs: [{groupId: alb}]}]

    Good::

        ipPermissions: [{ipProtocol: tcp, fromPort: 32768, toPort: 61000, userIdGroupPairs: [{groupId: alb}]}]
    """

    id = "E8001"
    title = "Security group rules have a valid port range and CIDR blocks"
    kinds = ("SecurityGroup",)

    def check(self, spec, doc, ctx):
        for field in ("ipPermissions", "ipPermissionsEgress"):
            for i, permission in enumerate(as_list(spec.get(field))):
                permission = as_dict(permission)
                for key, message in _port_issues(permission):
                    yield (field, i, key) if key in permission else (field, i), message
                for ranges, key, version in (("ipRanges", "cidrIp", 4), ("ipv6Ranges", "cidrIpv6", 6)):
                    for j, item in enumerate(as_list(permission.get(ranges))):
                        issue = _cidr_issue(as_dict(item).get(key), version)
                        if issue:
                            yield (field, i, ranges, j, key), issue


@register
class SecurityGroupIdsUnique(Rule):
    """Two SecurityGroup documents cannot share a ``groupId``.

    A group id names exactly one EC2 security group; references by id
    (``securityGroups: [sg-…]``, ``userIdGroupPairs[].groupId``) would be
    ambiguous.  This is an error: two different groups cannot have one id
    (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html).

    Bad::

        {kind: SecurityGroup, metadata: {name: alb}, spec: {groupId: sg-0123456789abcdef0}}
        {kind: SecurityGroup, metadata: {name: web}, spec: {groupId: sg-0123456789abcdef0}}
    """

    id = "E8003"
    title = "Security group ids are unique"
    kinds = ("SecurityGroup",)

    def check(self, spec, doc, ctx):
        group_id = spec.get("groupId")
        if not isinstance(group_id, str):
            return
        for other in ctx.all("SecurityGroup"):
            if other is doc:
                return  # only the later documents report the clash
            if isinstance(other.spec, dict) and other.spec.get("groupId") == group_id:
                pos = other.position(())
                yield ("groupId",), f"groupId {group_id} is also the id of SecurityGroup '{other.name}' ({other.file}:{pos.line})"
                return


@register
class SecurityGroupReferences(Rule):
    """Security groups named by clusters, target groups, services, tasks and rules are among the documents.

    Once a run holds ``SecurityGroup`` documents, every reference to a group
    (by ``groupId`` or by name) should resolve to one of them, or the checks
    that need the group's rules (W8010–W8012) cannot run.  A group that exists
    only in AWS is fine for ECS, so this is a warning, not an error; a run with no
    ``SecurityGroup`` document at all checks nothing here
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html).

    Bad::

        kind: TargetGroup
        spec: {port: 80, protocol: HTTP, securityGroups: [sg-0aaaaaaaaaaaaaaaa]}   # no such SecurityGroup

    Good::

        kind: SecurityGroup
        metadata: {name: alb}
        spec: {groupId: sg-0aaaaaaaaaaaaaaaa}
    """

    id = "W8002"
    title = "Security group references resolve to SecurityGroup documents"
    kinds = ("Cluster", "TargetGroup", "Service", "ScheduledTask", "SecurityGroup")
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        if not ctx.has_kind("SecurityGroup"):
            return
        index = group_index(ctx)
        for path, ref in security_group_references(doc.kind, spec):
            if isinstance(ref, str) and index.resolve(ref) is None:
                yield path, f"security group '{ref}' is not among the validated SecurityGroup documents, so what it admits was not checked"
