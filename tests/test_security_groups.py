"""``core.network.security_groups``: what a set of security groups admits, and the fix text.

The worked examples follow the AWS pages: the ECS-optimized AMI's ephemeral range
32768–61000 (ECS, "Use an Application Load Balancer"), the fallback 49153–65535
(ECS API, PortMapping.hostPort), the rules ELB recommends for instance targets (inbound
from the load balancer's security group on the listener and health check ports;
outbound from the load balancer to the instance security group), EC2's ``-1`` for every
protocol and EC2's default outbound rule.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.network.security_groups import (
    EPHEMERAL_PORTS,
    FALLBACK_EPHEMERAL_PORTS,
    GroupIndex,
    admits,
    missing_rule,
    references,
    uncovered,
)
from ecsctl.core.scheduling.placement import EPHEMERAL_RANGE


def rule(protocol="tcp", low=None, high=None, groups=(), cidrs=(), cidrs6=()):
    permission = {"ipProtocol": protocol}
    if low is not None:
        permission["fromPort"] = low
    if high is not None:
        permission["toPort"] = high
    if groups:
        permission["userIdGroupPairs"] = [{"groupId": g} for g in groups]
    if cidrs:
        permission["ipRanges"] = [{"cidrIp": c} for c in cidrs]
    if cidrs6:
        permission["ipv6Ranges"] = [{"cidrIpv6": c} for c in cidrs6]
    return permission


def group(*permissions, egress=None, group_id="sg-instances"):
    spec = {"groupId": group_id, "ipPermissions": list(permissions)}
    if egress is not None:
        spec["ipPermissionsEgress"] = list(egress)
    return spec


def test_the_ephemeral_ranges_are_the_documented_ones_and_the_schedulers():
    assert EPHEMERAL_PORTS == (32768, 61000) == EPHEMERAL_RANGE
    assert FALLBACK_EPHEMERAL_PORTS == (49153, 65535)


ALB = {"sg-alb"}

CASES = [
    # id, groups, protocol, ports, admitted
    ("alb-doc-range", [group(rule("tcp", 32768, 61000, groups=ALB))], "tcp", EPHEMERAL_PORTS, True),
    ("wider-range", [group(rule("tcp", 1024, 65535, groups=ALB))], "tcp", EPHEMERAL_PORTS, True),
    ("fallback-range-not-covered", [group(rule("tcp", 32768, 61000, groups=ALB))], "tcp", FALLBACK_EPHEMERAL_PORTS, False),
    ("listener-port-only", [group(rule("tcp", 80, 80, groups=ALB))], "tcp", EPHEMERAL_PORTS, False),
    ("all-protocols", [group(rule("-1", groups=ALB))], "tcp", EPHEMERAL_PORTS, True),
    ("protocol-number-6", [group(rule("6", 0, 65535, groups=ALB))], "tcp", 8080, True),
    ("udp-rule-for-tcp", [group(rule("udp", 0, 65535, groups=ALB))], "tcp", 8080, False),
    ("other-source-group", [group(rule("tcp", 0, 65535, groups={"sg-bastion"}))], "tcp", 8080, False),
    ("anywhere", [group(rule("tcp", 8080, 8080, cidrs=("0.0.0.0/0",)))], "tcp", 8080, True),
    ("anywhere-v6", [group(rule("tcp", 8080, 8080, cidrs6=("::/0",)))], "tcp", 8080, True),
    ("vpc-cidr", [group(rule("tcp", 8080, 8080, cidrs=("10.0.0.0/16",)))], "tcp", 8080, True),
    ("office-cidr", [group(rule("tcp", 8080, 8080, cidrs=("203.0.113.0/24",)))], "tcp", 8080, False),
    ("split-over-two-rules", [group(rule("tcp", 32768, 45000, groups=ALB), rule("tcp", 45001, 61000, groups=ALB))], "tcp", EPHEMERAL_PORTS, True),
    ("split-over-two-groups", [group(rule("tcp", 32768, 45000, groups=ALB)),
                               group(rule("tcp", 45001, 61000, groups=ALB), group_id="sg-extra")], "tcp", EPHEMERAL_PORTS, True),
    ("malformed-reversed", [group(rule("tcp", 61000, 32768, groups=ALB))], "tcp", 40000, False),
    ("no-groups", [], "tcp", 80, False),
]


@pytest.mark.parametrize("groups, protocol, ports, admitted", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_admits(groups, protocol, ports, admitted):
    assert admits(groups, ALB, protocol, ports) is admitted


def test_missing_rule_names_the_whole_range_or_the_gaps():
    assert missing_rule([group()], ALB, "tcp", EPHEMERAL_PORTS, source_name="sg-alb", on="sg-instances") == \
        "allow tcp 32768–61000 from sg-alb on sg-instances"
    partial = [group(rule("tcp", 40000, 50000, groups=ALB))]
    assert missing_rule(partial, ALB, "tcp", EPHEMERAL_PORTS, source_name="sg-alb", on="sg-instances") == \
        "allow tcp 32768–39999, 50001–61000 from sg-alb on sg-instances"
    assert missing_rule([group(rule("-1", groups=ALB))], ALB, "tcp", 80, source_name="sg-alb", on="sg-instances") is None


def test_egress_defaults_to_ecs_default_rule_and_reads_explicit_rules():
    instances = {"sg-instances"}
    assert admits([{"groupId": "sg-alb"}], instances, "tcp", EPHEMERAL_PORTS, egress=True)  # no field: allow all
    closed = {"groupId": "sg-alb", "ipPermissionsEgress": [rule("tcp", 80, 80, groups=instances)]}
    assert not admits([closed], instances, "tcp", EPHEMERAL_PORTS, egress=True)
    assert missing_rule([closed], instances, "tcp", 8080, source_name="sg-instances", on="sg-alb", egress=True) == \
        "allow tcp 8080 out to sg-instances on sg-alb"


def test_sources_are_matched_by_id_or_by_name():
    index = GroupIndex([("alb", {"groupId": "sg-0123456789abcdef0"}), ("instances", {})])
    assert references("alb", {"groupId": "sg-0123456789abcdef0"}) == {"alb", "sg-0123456789abcdef0"}
    assert index.resolve("alb") == index.resolve("sg-0123456789abcdef0")
    assert index.resolve("nope") is None
    by_name = [group({"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "userIdGroupPairs": [{"groupName": "alb"}]})]
    assert admits(by_name, index.aliases({"sg-0123456789abcdef0"}), "tcp", 80)
    assert not admits(by_name, {"sg-0123456789abcdef0"}, "tcp", 80)


# --- properties ---------------------------------------------------------------

PORT = st.integers(0, 40)
PERMISSION = st.builds(
    lambda proto, a, b, src: {"ipProtocol": proto, "fromPort": a, "toPort": b, "userIdGroupPairs": [{"groupId": src}]},
    st.sampled_from(["tcp", "udp", "-1", "6"]), PORT, PORT, st.sampled_from(["sg-alb", "sg-other"]),
)
GROUPS = st.lists(st.builds(lambda ps: {"ipPermissions": ps}, st.lists(PERMISSION, max_size=4)), max_size=3)


@settings(max_examples=300, deadline=None)
@given(GROUPS, PORT, PORT)
def test_a_range_is_admitted_exactly_when_each_of_its_ports_is(groups, a, b):
    low, high = min(a, b), max(a, b)
    each = all(admits(groups, ALB, "tcp", p) for p in range(low, high + 1))
    assert admits(groups, ALB, "tcp", (low, high)) is each
    gaps = uncovered(groups, ALB, "tcp", (low, high))
    closed = {p for lo, hi in gaps for p in range(lo, hi + 1)}
    assert closed == {p for p in range(low, high + 1) if not admits(groups, ALB, "tcp", p)}
    assert all(hi < lo2 - 1 for (_, hi), (lo2, _) in zip(gaps, gaps[1:])), "gaps are disjoint and not adjacent"


def test_load_balancer_fixes_cover_both_directions_and_unknown_groups():
    from ecsctl.core.network.security_groups import load_balancer_fixes

    index = GroupIndex([("alb", {"groupId": "sg-a", "ipPermissionsEgress": []}),
                        ("instances", {"ipPermissions": [rule("tcp", 32768, 61000, groups={"alb"})]})])
    assert load_balancer_fixes(index, ["sg-a"], ["instances"], "tcp", EPHEMERAL_PORTS) == [
        (True, "allow tcp 32768–61000 out to instances on sg-a")]
    assert load_balancer_fixes(index, ["sg-a"], ["sg-unknown"], "tcp", 80) is None


def test_module_doctests():
    import doctest

    from ecsctl.core.network import security_groups

    assert doctest.testmod(security_groups).failed == 0
