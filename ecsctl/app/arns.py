"""ARNs for objects of the simulation, in the shapes ECS prints them.

The simulation has no AWS account or region: ARNs use the documentation's example account
``123456789012`` and the region of the object's availability zone (``eu-west-1a`` ->
``eu-west-1``), else ``us-east-1``.  Every command that takes an id also takes these ARNs.
"""

from __future__ import annotations

import re

ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
_AZ = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")


def region_of(availability_zone: str | None) -> str:
    m = _AZ.match(str(availability_zone or ""))
    return m.group(1) if m else DEFAULT_REGION


def ecs_arn(region: str, resource: str) -> str:
    return f"arn:aws:ecs:{region}:{ACCOUNT}:{resource}"


def cluster_arn(cluster: str, region: str = DEFAULT_REGION) -> str:
    return ecs_arn(region, f"cluster/{cluster}")


def container_instance_arn(cluster: str, instance_id: str, region: str = DEFAULT_REGION) -> str:
    return ecs_arn(region, f"container-instance/{cluster}/{instance_id}")


def task_arn(cluster: str, task_id: str, region: str = DEFAULT_REGION) -> str:
    return ecs_arn(region, f"task/{cluster}/{task_id}")
