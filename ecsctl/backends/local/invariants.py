"""Consistency checks over the simulated world (used by tests and the crash test)."""

from __future__ import annotations

import ipaddress
from collections import Counter

from ecsctl.backends.local import network
from ecsctl.backends.local.world import World
from ecsctl.core.state.ports import ContainerInstance, Service, StateStore, Task


def check_invariants(store: StateStore) -> list[str]:
    """Violations, one line each (empty when the world is consistent):

    * every RUNNING task is on Fargate (no instance) or on an ACTIVE instance of its cluster;
    * each instance's remaining CPU/memory = registered − Σ its RUNNING tasks, its
      running-task count = their number, its reserved ports = the defaults + their static TCP
      host ports;
    * no (host port, protocol) is held twice on one instance;
    * each service's running count = its RUNNING tasks;
    * every PENDING task is a service task that holds nothing: no instance, no host ports, no
      AZ, desired status RUNNING (so no instance counts it: the instance checks above see only
      RUNNING tasks), and each service's pending count = its PENDING tasks; an INACTIVE
      (deleted) service has none;
    * a PENDING task holds no subnet or IP either; a task with a private IP has a subnet, and
      the IP lies in that subnet's block; no two tasks that are not STOPPED share an IP in one
      subnet.
    """
    world = World(store)
    problems: list[str] = []
    instances = {i.id: i for i in store.find(ContainerInstance)}
    running = store.find(Task, last_status="RUNNING")
    by_instance: dict[str, list[Task]] = {}
    for t in running:
        if t.instance_id is None:
            if t.launch_type != "FARGATE":
                problems.append(f"task {t.id}: RUNNING without an instance but launch type {t.launch_type}")
            continue
        inst = instances.get(t.instance_id)
        if inst is None:
            problems.append(f"task {t.id}: RUNNING on unknown instance {t.instance_id}")
            continue
        if inst.status not in ("ACTIVE", "DRAINING"):  # a drain may be stuck on its bounds
            problems.append(f"task {t.id}: RUNNING on {inst.status} instance {inst.id}")
        if inst.cluster != t.cluster:
            problems.append(f"task {t.id}: in cluster {t.cluster} but on an instance of {inst.cluster}")
        by_instance.setdefault(inst.id, []).append(t)
    for inst in instances.values():
        tasks = by_instance.get(inst.id, [])
        view = world.instance_view(inst, tasks)
        for name, want in view.items():
            got = getattr(inst, name)
            if got != want:
                problems.append(f"instance {inst.id}: {name} is {got!r}, its tasks say {want!r}")
        held: Counter = Counter()
        for t in tasks:
            static, dynamic = world.port_usage(t)
            held.update(static + dynamic)
        for (port, proto), n in sorted(held.items()):
            if n > 1:
                problems.append(f"instance {inst.id}: host port {port}/{proto} held by {n} tasks")
    pending = store.find(Task, last_status="PENDING")
    for t in pending:
        if t.instance_id is not None or t.host_ports or t.availability_zone:
            problems.append(f"task {t.id}: PENDING but holds instance {t.instance_id!r}, host ports "
                            f"{list(t.host_ports)}, AZ {t.availability_zone!r}")
        if t.subnet or t.private_ip:
            problems.append(f"task {t.id}: PENDING but holds subnet {t.subnet!r}, IP {t.private_ip!r}")
        if t.desired_status != "RUNNING":
            problems.append(f"task {t.id}: PENDING with desired status {t.desired_status}")
        if not t.service:
            problems.append(f"task {t.id}: PENDING but not a service task")
    addresses: Counter = Counter()
    for t in running + pending:
        if not t.private_ip:
            continue
        try:
            ip = ipaddress.IPv4Address(t.private_ip)
        except ValueError:
            problems.append(f"task {t.id}: private IP {t.private_ip!r} is not an IPv4 address")
            continue
        if not t.subnet:
            problems.append(f"task {t.id}: IP {t.private_ip} without a subnet")
        elif ip not in network.subnet_block(t.subnet):
            problems.append(f"task {t.id}: IP {t.private_ip} outside subnet {t.subnet} "
                            f"({network.subnet_block(t.subnet)})")
        addresses[(t.subnet, t.private_ip)] += 1
    for (subnet, ip), n in sorted(addresses.items()):
        if n > 1:
            problems.append(f"subnet {subnet}: IP {ip} held by {n} live tasks")
    per_service = Counter((t.cluster, t.service) for t in running if t.service)
    pending_per_service = Counter((t.cluster, t.service) for t in pending if t.service)
    for svc in store.find(Service):
        want = per_service.get((svc.cluster, svc.name), 0)
        if svc.running_count != want:
            problems.append(
                f"service {svc.cluster}/{svc.name}: running count {svc.running_count}, {want} tasks RUNNING")
        waiting = pending_per_service.get((svc.cluster, svc.name), 0)
        if svc.pending_count != waiting:
            problems.append(
                f"service {svc.cluster}/{svc.name}: pending count {svc.pending_count}, {waiting} tasks PENDING")
        if svc.status == "INACTIVE" and waiting:
            problems.append(f"service {svc.cluster}/{svc.name}: INACTIVE with {waiting} tasks PENDING")
    return problems
