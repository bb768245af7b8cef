"""Consistency checks over the simulated world in a state (``ecsctl state verify``, tests, the crash test)."""

from __future__ import annotations

import ipaddress
from collections import Counter

from ecsctl.backends.local.world import LIVE_STATUSES, World, subnet_block
from ecsctl.core.controller import ids
from ecsctl.core.state.ports import (
    ContainerInstance,
    Deployment,
    Service,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
)


def check_invariants(store: StateStore) -> list[str]:
    """Violations, one line each (empty when the world is consistent):

    * every live task is on Fargate (no instance), waits in PROVISIONING for a capacity
      provider's instance (no instance yet) or is on an ACTIVE or DRAINING instance of its
      cluster; no task is in two places (one id, one record);
    * each instance's remaining CPU/memory = registered − Σ its RUNNING tasks, its running-task
      count = their number, its reserved ports = the defaults + their static TCP host ports; no
      (host port, protocol) is held twice on one instance; nothing is overcommitted;
    * each service's running and pending counts = its RUNNING and other live tasks; an INACTIVE
      service has no live task; each deployment's running count = the RUNNING tasks it started,
      a service has at most one PRIMARY deployment and an INACTIVE deployment runs nothing;
    * deployments agree with their tasks and services: a live service task was started by a
      deployment of its own service that is not INACTIVE and deploys the task's revision; an
      ACTIVE service with deployments has exactly one PRIMARY, on the service's revision; every
      revision a service, deployment or live task names is registered;
    * a task with a private IP has a subnet and the IP lies in that subnet's block; no two live
      tasks share an IP in one subnet;
    * a load-balancer target is a live task where the task is: its private IP, or the EC2 id of
      its instance on one of its host ports (a task is not registered in a place it is not).
    """
    world = World(store)
    problems: list[str] = []
    instances = {i.id: i for i in store.find(ContainerInstance)}
    live = [t for status in LIVE_STATUSES for t in store.find(Task, last_status=status)]
    by_instance: dict[str, list[Task]] = {}
    for t in live:
        if t.instance_id is None:
            if t.launch_type != "FARGATE" and t.last_status != "PROVISIONING":  # waiting for capacity: no instance yet
                problems.append(f"task {t.id}: {t.last_status} without an instance but launch type {t.launch_type}")
            continue
        inst = instances.get(t.instance_id)
        if inst is None:
            problems.append(f"task {t.id}: {t.last_status} on unknown instance {t.instance_id}")
            continue
        if inst.status not in ("ACTIVE", "DRAINING"):  # a drain may be stuck on its bounds
            problems.append(f"task {t.id}: {t.last_status} on {inst.status} instance {inst.id}")
        if inst.cluster != t.cluster:
            problems.append(f"task {t.id}: in cluster {t.cluster} but on an instance of {inst.cluster}")
        by_instance.setdefault(inst.id, []).append(t)
    for inst in instances.values():
        tasks = by_instance.get(inst.id, [])
        view = world.state(inst.cluster).instance_view(inst, tasks)
        for name, want in view.items():
            got = getattr(inst, name)
            if got != want:
                problems.append(f"instance {inst.id}: {name} is {got!r}, its tasks say {want!r}")
        if inst.remaining_cpu < 0 or inst.remaining_memory < 0:
            problems.append(f"instance {inst.id}: overcommitted (remaining CPU {inst.remaining_cpu}, "
                            f"memory {inst.remaining_memory})")
        held: Counter = Counter()
        for t in tasks:
            static, dynamic = world.port_usage(t)
            held.update(static + dynamic)
        for (port, proto), n in sorted(held.items()):
            if n > 1:
                problems.append(f"instance {inst.id}: host port {port}/{proto} held by {n} tasks")
    addresses: Counter = Counter()
    for t in live:
        if not t.private_ip:
            continue
        try:
            ip = ipaddress.IPv4Address(t.private_ip)
        except ValueError:
            problems.append(f"task {t.id}: private IP {t.private_ip!r} is not an IPv4 address")
            continue
        if not t.subnet:
            problems.append(f"task {t.id}: IP {t.private_ip} without a subnet")
        elif ip not in subnet_block(t.subnet):
            problems.append(f"task {t.id}: IP {t.private_ip} outside subnet {t.subnet} ({subnet_block(t.subnet)})")
        addresses[(t.subnet, t.private_ip)] += 1
    for (subnet, ip), n in sorted(addresses.items()):
        if n > 1:
            problems.append(f"subnet {subnet}: IP {ip} held by {n} live tasks")
    running = Counter((t.cluster, t.service) for t in live if t.service and t.last_status == "RUNNING")
    waiting = Counter((t.cluster, t.service) for t in live if t.service and t.last_status != "RUNNING")
    for svc in store.find(Service):
        key = (svc.cluster, svc.name)
        if svc.running_count != running.get(key, 0):
            problems.append(f"service {svc.cluster}/{svc.name}: running count {svc.running_count}, "
                            f"{running.get(key, 0)} tasks RUNNING")
        if svc.pending_count != waiting.get(key, 0):
            problems.append(f"service {svc.cluster}/{svc.name}: pending count {svc.pending_count}, "
                            f"{waiting.get(key, 0)} tasks starting")
        if svc.status == "INACTIVE" and (running.get(key) or waiting.get(key)):
            problems.append(f"service {svc.cluster}/{svc.name}: INACTIVE with live tasks")
    by_deployment = Counter(t.started_by for t in live if t.service and t.last_status == "RUNNING")
    primaries: Counter = Counter()
    for dep in store.find(Deployment):
        if dep.status == "PRIMARY":
            primaries[(dep.cluster, dep.service)] += 1
        if dep.status != "INACTIVE" and dep.running_count != by_deployment.get(dep.id, 0):
            problems.append(f"deployment {dep.id} of {dep.cluster}/{dep.service}: running count "
                            f"{dep.running_count}, {by_deployment.get(dep.id, 0)} of its tasks RUNNING")
        if dep.status == "INACTIVE" and by_deployment.get(dep.id):
            problems.append(f"deployment {dep.id} of {dep.cluster}/{dep.service}: INACTIVE with "
                            f"{by_deployment[dep.id]} tasks RUNNING")
    for (cluster, service), n in sorted(primaries.items()):
        if n > 1:
            problems.append(f"service {cluster}/{service}: {n} PRIMARY deployments")
    problems += _deployments_agree(store, live)
    problems += _targets_agree(store, {t.id: t for t in live})
    return problems


def _targets_agree(store: StateStore, live: dict[str, Task]) -> list[str]:
    """The load-balancer bullet of ``check_invariants``."""
    problems: list[str] = []
    for reg in store.find(TargetRegistration):
        where = f"target {reg.target_id}:{reg.port} of {reg.target_group}"
        task = live.get(reg.task_id)
        if task is None:
            problems.append(f"{where}: task {reg.task_id} is not a live task")
            continue
        at_ip = bool(task.private_ip) and reg.target_id == task.private_ip
        at_instance = (task.instance_id is not None and reg.target_id == ids.ec2_instance_id(task.instance_id)
                       and reg.port in task.host_ports)
        if not (at_ip or at_instance):
            problems.append(f"{where}: task {task.id} is not there (instance {task.instance_id}, "
                            f"IP {task.private_ip or 'none'}, host ports {list(task.host_ports)})")
    return problems


def _deployments_agree(store: StateStore, live: list[Task]) -> list[str]:
    """The deployment bullet of ``check_invariants``."""
    problems: list[str] = []
    registered = {f"{r.family}:{r.revision}" for r in store.find(TaskDefinitionRevision)}
    deployments = {d.id: d for d in store.find(Deployment)}
    services = {(s.cluster, s.name): s for s in store.find(Service)}
    for dep in deployments.values():
        if dep.task_definition not in registered:
            problems.append(f"deployment {dep.id} of {dep.cluster}/{dep.service}: revision "
                            f"{dep.task_definition} is not registered")
    for (cluster, name), svc in sorted(services.items()):
        if svc.status != "ACTIVE":
            continue
        if svc.task_definition not in registered:
            problems.append(f"service {cluster}/{name}: revision {svc.task_definition} is not registered")
        mine = [d for d in deployments.values() if (d.cluster, d.service) == (cluster, name)]
        primary = [d for d in mine if d.status == "PRIMARY"]
        if mine and not primary:
            problems.append(f"service {cluster}/{name}: deployments but no PRIMARY one")
        for dep in primary:
            if dep.task_definition != svc.task_definition:
                problems.append(f"service {cluster}/{name}: on {svc.task_definition} but its PRIMARY "
                                f"deployment {dep.id} deploys {dep.task_definition}")
    for t in live:
        if t.task_definition not in registered:
            problems.append(f"task {t.id}: revision {t.task_definition} is not registered")
        if t.service is None:
            continue
        dep = deployments.get(t.started_by)
        if dep is None or (dep.cluster, dep.service) != (t.cluster, t.service):
            problems.append(f"task {t.id} of service {t.cluster}/{t.service}: started by {t.started_by!r}, "
                            "not a deployment of its service")
        elif dep.status == "INACTIVE":
            problems.append(f"task {t.id} of service {t.cluster}/{t.service}: {t.last_status} for "
                            f"INACTIVE deployment {dep.id}")
        elif dep.task_definition != t.task_definition:
            problems.append(f"task {t.id} of service {t.cluster}/{t.service}: runs {t.task_definition} "
                            f"but deployment {dep.id} deploys {dep.task_definition}")
    return problems
