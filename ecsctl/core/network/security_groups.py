"""Whether security groups admit a load balancer's traffic, and the rule that is missing.

A security group is an allow-list: traffic is admitted when one rule of one of the
groups attached to the destination matches its protocol, port and source (EC2 security
group rules, https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
Groups are ``SecurityGroup`` specs (EC2's ``IpPermissions``, camelCased)::

    >>> instances = {"groupId": "sg-instances", "ipPermissions": [
    ...     {"ipProtocol": "tcp", "fromPort": 32768, "toPort": 40000,
    ...      "userIdGroupPairs": [{"groupId": "sg-alb"}]}]}
    >>> admits([instances], {"sg-alb"}, "tcp", 33000)
    True
    >>> admits([instances], {"sg-alb"}, "tcp", EPHEMERAL_PORTS)
    False
    >>> missing_rule([instances], {"sg-alb"}, "tcp", EPHEMERAL_PORTS, source_name="sg-alb", on="sg-instances")
    'allow tcp 40001–61000 from sg-alb on sg-instances'

The source is named by security-group references (ids or group names; pass every name
the source's groups go by, see :func:`references`).  Traffic from a load balancer comes
from its nodes' private addresses in its subnets, which the manifests do not say, so a
CIDR rule counts as admitting it when the range can hold such addresses: ``0.0.0.0/0``,
``::/0``, or a range overlapping private address space (RFC 1918, RFC 6598, ``fc00::/7``).
A rule for a public range only (an office's ``203.0.113.0/24``) does not.

Egress (``egress=True``) reads ``ipPermissionsEgress``; a group without that field has
EC2's default outbound rule, which allows everything.

Dynamic host ports (``bridge`` mode, ``hostPort`` 0 or omitted) come from the instance's
ephemeral range: 32768–61000 on the ECS-optimized AMI
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html), 49153–65535 where
``/proc/sys/net/ipv4/ip_local_port_range`` is missing
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any, Iterable, Mapping

# The ECS-optimized AMI's range, as the placement scheduler hands dynamic ports out
# (``core.scheduling.placement.EPHEMERAL_RANGE``; not imported, to keep validate light;
# tests/test_security_groups.py holds the two equal).
EPHEMERAL_PORTS: tuple[int, int] = (32768, 61000)
FALLBACK_EPHEMERAL_PORTS: tuple[int, int] = (49153, 65535)  # kernel setting missing (Linux)

ALL_PROTOCOLS = "-1"
PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
PORTED = frozenset({"tcp", "udp"})

_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
))

Ports = int | tuple[int, int]


def references(name: str, spec: Mapping[str, Any] | None) -> frozenset[str]:
    """Every reference a group answers to: its ``groupId`` and its name.

    >>> sorted(references("alb", {"groupId": "sg-0123456789abcdef0"}))
    ['alb', 'sg-0123456789abcdef0']
    """
    refs = {name} if name else set()
    group_id = (spec or {}).get("groupId")
    if isinstance(group_id, str) and group_id:
        refs.add(group_id)
    return frozenset(refs)


class GroupIndex:
    """``SecurityGroup`` specs by every reference they answer to (id and name)."""

    def __init__(self, groups: Iterable[tuple[str, Mapping[str, Any]]] = ()) -> None:
        self._by_ref: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for name, spec in groups:
            for ref in references(name, spec):
                self._by_ref.setdefault(ref, (name, spec))

    def __bool__(self) -> bool:
        return bool(self._by_ref)

    def resolve(self, ref: str) -> tuple[str, Mapping[str, Any]] | None:
        """``(name, spec)`` of the group ``ref`` names, or None."""
        return self._by_ref.get(ref)

    def aliases(self, refs: Iterable[str]) -> frozenset[str]:
        """``refs`` and every other reference of the groups they resolve to."""
        out = set(refs)
        for ref in refs:
            hit = self._by_ref.get(ref)
            if hit is not None:
                out |= references(*hit)
        return frozenset(out)


def _span(ports: Ports) -> tuple[int, int]:
    return (ports, ports) if isinstance(ports, int) else (int(ports[0]), int(ports[1]))


def _protocol(value: Any) -> str:
    text = str(value).lower() if value is not None else ""
    return PROTOCOL_NUMBERS.get(text, text)


@lru_cache(maxsize=4096)
def _cidr_admits(cidr: str) -> bool:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return net.prefixlen == 0 or any(net.version == p.version and net.overlaps(p) for p in _PRIVATE)


def _names_source(permission: Mapping[str, Any], source: frozenset[str]) -> bool:
    for pair in permission.get("userIdGroupPairs") or ():
        if isinstance(pair, Mapping) and (pair.get("groupId") in source or pair.get("groupName") in source):
            return True
    ranges = [(r or {}).get("cidrIp") for r in permission.get("ipRanges") or ()]
    ranges += [(r or {}).get("cidrIpv6") for r in permission.get("ipv6Ranges") or ()]
    return any(isinstance(c, str) and _cidr_admits(c) for c in ranges)


def _port_range(permission: Mapping[str, Any], protocol: str) -> tuple[int, int] | None:
    """The ports ``permission`` opens for ``protocol``, or None if it opens none."""
    proto = _protocol(permission.get("ipProtocol"))
    if proto == ALL_PROTOCOLS:
        return (0, 65535)
    if proto != protocol or protocol not in PORTED:
        return None
    low, high = permission.get("fromPort"), permission.get("toPort")
    if not (isinstance(low, int) and isinstance(high, int)) or low < 0 or high < low:
        return None  # malformed: EC2 refuses it (E8001)
    return (low, high)


def _open_ranges(groups: Iterable[Mapping[str, Any]], source: frozenset[str], protocol: str,
                 egress: bool) -> list[tuple[int, int]]:
    field = "ipPermissionsEgress" if egress else "ipPermissions"
    out: list[tuple[int, int]] = []
    for group in groups:
        if egress and field not in group:
            out.append((0, 65535))  # EC2's default outbound rule: all traffic
            continue
        for permission in group.get(field) or ():
            if not isinstance(permission, Mapping):
                continue
            span = _port_range(permission, protocol)
            if span is not None and _names_source(permission, source):
                out.append(span)
    return out


def uncovered(groups: Iterable[Mapping[str, Any]], source: Iterable[str], protocol: str, ports: Ports,
              *, egress: bool = False) -> list[tuple[int, int]]:
    """The parts of ``ports`` that no rule of ``groups`` opens to ``source``, as ``(first, last)`` ranges.

    >>> uncovered([{"ipPermissions": [{"ipProtocol": "-1", "userIdGroupPairs": [{"groupId": "sg-a"}]}]}],
    ...           {"sg-a"}, "tcp", (32768, 61000))
    []
    """
    low, high = _span(ports)
    want = _protocol(protocol)
    gaps: list[tuple[int, int]] = []
    cursor = low
    for first, last in sorted(_open_ranges(groups, frozenset(source), want, egress)):
        if last < cursor:
            continue
        if first > high:
            break
        if first > cursor:
            gaps.append((cursor, first - 1))
        cursor = max(cursor, last + 1)
        if cursor > high:
            break
    if cursor <= high:
        gaps.append((cursor, high))
    return gaps


def admits(groups: Iterable[Mapping[str, Any]], source: Iterable[str], protocol: str, ports: Ports,
           *, egress: bool = False) -> bool:
    """Whether ``groups`` together admit ``protocol`` traffic from ``source`` on every port of ``ports``."""
    return not uncovered(groups, source, protocol, ports, egress=egress)


def describe_ports(spans: Iterable[tuple[int, int]]) -> str:
    """``8080``, ``32768–61000``, or ``32768–40000, 50001–61000``."""
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def missing_rule(groups: Iterable[Mapping[str, Any]], source: Iterable[str], protocol: str, ports: Ports,
                 *, source_name: str, on: str, egress: bool = False) -> str | None:
    """The fix, as a sentence: ``allow tcp 32768–61000 from sg-alb on sg-instances`` (None if nothing is missing).

    For ``egress`` the rule goes out of ``on`` to ``source_name``:

    >>> missing_rule([{"ipPermissionsEgress": []}], {"sg-i"}, "tcp", 8080, source_name="sg-i", on="sg-alb", egress=True)
    'allow tcp 8080 out to sg-i on sg-alb'
    """
    gaps = uncovered(groups, source, protocol, ports, egress=egress)
    if not gaps:
        return None
    direction = "out to" if egress else "from"
    return f"allow {_protocol(protocol)} {describe_ports(gaps)} {direction} {source_name} on {on}"


def load_balancer_fixes(index: GroupIndex, lb_refs: Iterable[str], target_refs: Iterable[str], protocol: str,
                        ports: Ports) -> list[tuple[bool, str]] | None:
    """What keeps a load balancer from reaching targets on ``ports``: ``(egress, fix)`` pairs.

    ``lb_refs`` are the load balancer's security groups, ``target_refs`` the target's (an
    instance's, or an awsvpc task's), as written in the manifests.  The target's groups
    must admit the load balancer's (ingress) and the load balancer's must let the traffic
    out (egress).  None when a group is not in ``index`` (it might admit anything).

    >>> index = GroupIndex([("alb", {"groupId": "sg-a"}), ("instances", {"ipPermissions": []})])
    >>> load_balancer_fixes(index, ["sg-a"], ["instances"], "tcp", EPHEMERAL_PORTS)
    [(False, 'allow tcp 32768–61000 from sg-a on instances')]
    """
    lb_refs, target_refs = list(lb_refs), list(target_refs)
    lb_groups = [index.resolve(r) for r in lb_refs]
    groups = [index.resolve(r) for r in target_refs]
    if not lb_groups or not groups or None in lb_groups or None in groups:
        return None
    out: list[tuple[bool, str]] = []
    fix = missing_rule([spec for _, spec in groups], index.aliases(lb_refs), protocol, ports,
                       source_name=lb_refs[0], on=target_refs[0])
    if fix:
        out.append((False, fix))
    fix = missing_rule([spec for _, spec in lb_groups], index.aliases(target_refs), protocol, ports,
                       source_name=target_refs[0], on=lb_refs[0], egress=True)
    if fix:
        out.append((True, fix))
    return out
