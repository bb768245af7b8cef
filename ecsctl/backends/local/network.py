"""awsvpc networking in the local simulation: which subnet a task runs in, and its private IP.

Model (documented choices):

* **Subnet of a task.** A task's subnets (the service's or RunTask's ``awsvpcConfiguration``)
  are taken in sorted order and subnet i belongs to the i-th AZ of ``services.fargate_azs``.
  A task gets the subnet of its AZ (Fargate: the AZ it was spread to; EC2: its instance's AZ).
  An EC2 task on an instance whose AZ none of the subnets maps to gets the first subnet (sorted):
  the simulation does not refuse the placement.  Without subnets (or for bridge/host/none
  tasks) subnet and IP stay empty.  PENDING tasks hold no subnet or IP until they are placed.
* **Subnet block.** Each subnet is a /20 derived from a hash of its id alone (so it does not
  depend on which other subnets exist): ``10.{h1}.{16·h2}.0/20`` with ``h1`` in 0–255 and ``h2``
  in 0–15.  Two subnets may hash to the same block; IPs are unique per subnet, not across them.
* **Allocation.** A task gets the lowest host address of its subnet's block that no task in
  that subnet holds unless STOPPED.  As in AWS, the network address, the next three (router,
  DNS, reserved) and the broadcast address are never handed out: offsets 4 … 4094 of the
  block (4,091 addresses).  A stopped task's address is free again for the next task.  A full
  subnet is an ``InputError`` (no free IP address in the subnet).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import replace
from typing import Sequence

from ecsctl.core.state.ports import StateStore, Task
from ecsctl.errors import InputError

PREFIX = 20
BLOCK_SIZE = 1 << (32 - PREFIX)  # 4096 addresses
FIRST_HOST = 4  # .0 network, .1 router, .2 DNS, .3 reserved by AWS
LAST_HOST = BLOCK_SIZE - 2  # the last address is the broadcast
LIVE = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
        "DEPROVISIONING")  # every status but STOPPED


def subnet_block(subnet: str) -> ipaddress.IPv4Network:
    """The /20 block of ``subnet``, from a hash of its id."""
    h = hashlib.sha256(f"subnet/{subnet}".encode("utf-8")).digest()
    return ipaddress.IPv4Network(f"10.{h[0]}.{16 * (h[1] % 16)}.0/{PREFIX}")


def subnet_for_az(subnets: Sequence[str], azs: Sequence[str], az: str) -> str:
    """The subnet of ``az``: subnets sorted, subnet i ↔ ``azs[i]``; else the first subnet."""
    ordered = sorted(str(s) for s in subnets)
    if not ordered:
        return ""
    for subnet, subnet_az in zip(ordered, azs):
        if subnet_az == az:
            return subnet
    return ordered[0]


def used_ips(store: StateStore, subnet: str) -> set[str]:
    """Private IPs held in ``subnet`` by tasks that are not STOPPED."""
    used: set[str] = set()
    for status in LIVE:
        used.update(t.private_ip for t in store.find(Task, subnet=subnet, last_status=status) if t.private_ip)
    return used


def allocate_ip(store: StateStore, subnet: str) -> str:
    """The lowest free host address of ``subnet``'s block (see the module docstring)."""
    block = subnet_block(subnet)
    used = used_ips(store, subnet)
    base = int(block.network_address)
    for offset in range(FIRST_HOST, LAST_HOST + 1):
        ip = str(ipaddress.IPv4Address(base + offset))
        if ip not in used:
            return ip
    raise InputError(f"subnet {subnet} ({block}): no free IP address left for another task")


def attach(store: StateStore, task: Task, subnets: Sequence[str], azs: Sequence[str]) -> Task:
    """``task`` with the subnet of its AZ and a free IP from it (unchanged without subnets)."""
    subnet = subnet_for_az(subnets, azs, task.availability_zone)
    if not subnet:
        return task
    return replace(task, subnet=subnet, private_ip=allocate_ip(store, subnet))


__all__ = ["allocate_ip", "attach", "subnet_block", "subnet_for_az", "used_ips"]
