"""Availability zones of awsvpc tasks, and the Fargate zone choice.

A service's (or run's) subnets are taken in sorted order and subnet i belongs to the i-th
zone of :func:`subnet_zones`: the cluster's own zones (of its registered instances and its
spec's instance groups), sorted, then ``<region>a``, ``<region>b`` … for the rest (region from
those zones, else ``us-east-1``).  A Fargate task goes to the zone with the fewest running
tasks of its group (ties: subnet order), as ECS spreads Fargate tasks over the zones of their
subnets (DESIGN §7).

    >>> subnet_zones({"eu-west-1b", "eu-west-1a"}, 3)
    ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']
    >>> next_zone(["a", "b", "c"], {"a": 2, "b": 1, "c": 1})
    'b'
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

DEFAULT_REGION = "us-east-1"


def subnet_zones(known: Iterable[str], subnet_count: int) -> list[str]:
    """The zone of each of ``subnet_count`` subnets (at least one zone)."""
    zones = sorted({z for z in known if z})
    region = zones[0][:-1] if zones else DEFAULT_REGION
    wanted = max(subnet_count, 1)
    out = zones[:wanted]
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if len(out) >= wanted:
            break
        if f"{region}{letter}" not in out:
            out.append(f"{region}{letter}")
    return out


def subnet_for_zone(subnets: Sequence[str], zones: Sequence[str], zone: str) -> str:
    """The subnet of ``zone`` (subnets sorted, subnet i ↔ ``zones[i]``); else the first subnet
    (an EC2 instance in a zone none of the subnets maps to: the simulation does not refuse it)."""
    ordered = sorted(str(s) for s in subnets)
    if not ordered:
        return ""
    for subnet, subnet_zone in zip(ordered, zones):
        if subnet_zone == zone:
            return subnet
    return ordered[0]


def next_zone(zones: Sequence[str], counts: Mapping[str, int]) -> str:
    """The zone with the fewest tasks (``counts``), ties in ``zones`` order."""
    return min(zones, key=lambda z: (counts.get(z, 0), zones.index(z)))


__all__ = ["DEFAULT_REGION", "next_zone", "subnet_for_zone", "subnet_zones"]
