"""Capacity providers as arithmetic: strategies, managed scaling, termination protection.

The functions take a strategy that ``validate`` accepted (E3019 in
``ecsctl.core.rules.service.capacity``: at most one base, some weight > 0, one kind of
provider); they do not re-check it beyond refusing what they cannot compute.

Strategy (ecs-semantics §7.2; https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html):
"base" tasks go to the provider with a base first, the rest are split in proportion to
the weights, each next task to the provider furthest below its share (DERIVED: ECS
assigns task by task and does not publish its rounding).

    >>> split_tasks(10, [{"capacityProvider": "A", "base": 2, "weight": 1}, {"capacityProvider": "B", "weight": 3}])
    {'A': 4, 'B': 6}

Managed scaling (ecs-semantics §7.3; https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-auto-scaling.html):
``CapacityProviderReservation = M ÷ N × 100`` with N the instances in the Auto Scaling
group and M the instances needed for the provider's tasks, PROVISIONING ones included;
the group's target tracking keeps it at ``targetCapacity``, so the group wants
``ceil(M × 100 ÷ targetCapacity)`` instances; a scale-out adds at least
``minimumScalingStepSize`` and at most ``maximumScalingStepSize`` instances.

    >>> reservation(needed=5, running=4), reservation(needed=3, running=4), reservation(needed=2, running=0)
    (125.0, 75.0, 200.0)
    >>> managed_desired(needed=5, running=4)
    5
    >>> managed_desired(needed=9, running=9, target_capacity=90)    # 10 % spare: 9 ÷ 0.9 = 10
    10
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def _items(strategy: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, int]]:
    items = [(str(i["capacityProvider"]), int(i.get("base") or 0), int(i.get("weight") or 0)) for i in strategy]
    if not any(w > 0 for _, _, w in items):
        raise ValueError("a capacity provider strategy needs a provider with a weight greater than 0")
    return items


def assign_tasks(count: int, strategy: Sequence[Mapping[str, Any]], current: Mapping[str, int] | None = None) -> dict[str, int]:
    """Which provider each of ``count`` new tasks goes to, given the tasks each already has.

    The base is filled first, then every task goes to the weighted provider that would
    have the fewest tasks beyond its base per unit of weight once it has it (the
    D'Hondt apportionment; ties: the first in the strategy).

        >>> assign_tasks(3, [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        ...                  {"capacityProvider": "FARGATE_SPOT", "weight": 3}], {"FARGATE": 1, "FARGATE_SPOT": 3})
        {'FARGATE': 1, 'FARGATE_SPOT': 2}
    """
    items = _items(strategy)
    have = {name: int((current or {}).get(name, 0)) for name, _, _ in items}
    added = {name: 0 for name, _, _ in items}
    based = next(((name, base) for name, base, _ in items if base), None)
    if based:
        name, base = based
        take = min(count, max(0, base - have[name]))
        added[name] += take
        count -= take
    weighted = [(name, base, weight) for name, base, weight in items if weight > 0]
    for _ in range(count):
        name = min(weighted, key=lambda x: (have[x[0]] + added[x[0]] - x[1] + 1) / x[2])[0]
        added[name] += 1
    return added


def split_tasks(count: int, strategy: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How ``count`` tasks of a new service spread over the strategy's providers."""
    return assign_tasks(count, strategy, None)


def remove_tasks(count: int, strategy: Sequence[Mapping[str, Any]], current: Mapping[str, int]) -> dict[str, int]:
    """Which providers lose ``count`` tasks on a scale-in: the most over its share first,
    the base kept to the last (the mirror of :func:`assign_tasks`).

        >>> remove_tasks(2, [{"capacityProvider": "A", "base": 1, "weight": 1},
        ...                  {"capacityProvider": "B", "weight": 1}], {"A": 4, "B": 2})
        {'A': 2, 'B': 0}
    """
    items = _items(strategy)
    left = {name: int(current.get(name, 0)) for name, _, _ in items}
    removed = {name: 0 for name, _, _ in items}
    for _ in range(min(count, sum(left.values()))):
        def over(item):
            name, base, weight = item
            beyond = left[name] - base
            return (beyond > 0, beyond / weight if weight else math.inf, left[name])
        candidates = [x for x in items if left[x[0]] > 0]
        name = max(candidates, key=over)[0]
        left[name] -= 1
        removed[name] += 1
    return removed


# --- managed scaling --------------------------------------------------------------


def _pack(tasks: Sequence[tuple[int, ...]], instance: tuple) -> list[list[int]]:
    """First fit, largest memory first: per instance opened, ``[cpu left, MiB left, tasks,
    network interfaces left]``. A task is ``(cpu, MiB)`` or ``(cpu, MiB, interfaces)`` (1 for an
    awsvpc task), an instance ``(cpu, MiB)`` or ``(cpu, MiB, interfaces for tasks)`` (None: no
    limit); ECS's estimate packs by "vCPU, memory, ENI, ports, GPU"."""
    cpu_cap, mem_cap = instance[0], instance[1]
    eni_cap = instance[2] if len(instance) > 2 and instance[2] is not None else 1 << 30
    free: list[list[int]] = []
    for task in sorted(tasks, key=lambda t: (t[1], t[0]), reverse=True):
        cpu, mem = task[0], task[1]
        eni = task[2] if len(task) > 2 else 0
        if cpu > cpu_cap or mem > mem_cap or eni > eni_cap:
            continue
        for slot in free:
            if slot[0] >= cpu and slot[1] >= mem and slot[3] >= eni:
                slot[0] -= cpu
                slot[1] -= mem
                slot[2] += 1
                slot[3] -= eni
                break
        else:
            free.append([cpu_cap - cpu, mem_cap - mem, 1, eni_cap - eni])
    return free


def instances_needed(tasks: Sequence[tuple[int, ...]], instance: tuple) -> int:
    """Instances of one type (cpu units, MiB) that ``tasks`` (cpu, MiB) need, bin-packed.

    First fit, largest memory first (ECS "uses a binpack strategy" for the estimate).
    Tasks larger than an empty instance are left out: "If the smallest instance type
    can't run at least one instance of the task, the calculation considers the task as
    not compatible" and they stay PENDING.

        >>> instances_needed([(1024, 2048)] * 5, (2048, 8192))      # 2 per m5.large-sized host
        3
        >>> instances_needed([(4096, 1024)], (2048, 8192))          # never fits
        0
        >>> instances_needed([(256, 512, 1)] * 8, (2048, 7985, 2))  # awsvpc: 2 interfaces per m5.large
        4
    """
    return len(_pack(tasks, instance))


def tasks_beyond(tasks: Sequence[tuple[int, ...]], instance: tuple, instances: int) -> int:
    """How many of ``tasks`` do not fit on ``instances`` empty instances of the type, packed as
    :func:`instances_needed` packs them (tasks that fit no instance are not counted: they are
    not the group's to run).  With first fit, the first n instances opened hold what n
    instances can: the rest is what an Auto Scaling group stopped at its ``maxSize`` leaves
    PROVISIONING.

        >>> tasks_beyond([(1024, 2048)] * 6, (2048, 8192), 2)       # 6 waiting, room for 2 more m5.large
        2
        >>> tasks_beyond([(1024, 2048)] * 3, (2048, 8192), 0), tasks_beyond([(1024, 2048)] * 3, (2048, 8192), 2)
        (3, 0)
    """
    return sum(slot[2] for slot in _pack(tasks, instance)[max(0, instances):])


def reservation(*, needed: int, running: int) -> float:
    """``CapacityProviderReservation`` in %: M ÷ N × 100.  With no instance, 200 when tasks
    need one ("Amazon ECS always scales-out to 200 %"), else 100 (nothing to do)."""
    if running == 0:
        return 200.0 if needed > 0 else 100.0
    return needed * 100.0 / running


def managed_desired(*, needed: int, running: int, target_capacity: int = 100, min_step: int = 1,
                    max_step: int = 10_000, min_size: int = 0, max_size: int | None = None) -> int:
    """The Auto Scaling group size managed scaling asks for.

    Scale-out adds ``clamp(ceil(M × 100 ÷ targetCapacity) − N, minimumScalingStepSize,
    maximumScalingStepSize)`` instances ("Amazon ECS will scale up the minimum scaling step
    size even if the actual demand is less"); a scale-in asks for
    ``ceil(M × 100 ÷ targetCapacity)`` (the step sizes do not apply to scale-in); the
    group's min and max bound the result (ECS never changes them).

        >>> managed_desired(needed=11, running=10, min_step=3)
        13
        >>> managed_desired(needed=40, running=10, max_step=5)
        15
        >>> managed_desired(needed=3, running=8, min_size=4)
        4
    """
    wanted = math.ceil(needed * 100 / target_capacity - 1e-9)
    if wanted > running:
        wanted = running + max(min_step, min(max_step, wanted - running))
    top = wanted if max_size is None else min(wanted, max_size)
    return max(min_size, top)


def scale_in_step(running: int, wanted: int) -> int:
    """The group size after one minute of a managed scale-in towards ``wanted``.

    ECS reduces the group "greater than one instance and less than 50 % each minute"
    (2023 Developer Guide, cluster-auto-scaling.md); we read it as: remove at least one
    instance and at most half of the excess, rounded down (DERIVED).

        >>> [scale_in_step(n, 2) for n in (10, 5, 3, 2)]
        [6, 4, 2, 2]
    """
    if wanted >= running:
        return running
    return running - max(1, (running - wanted) // 2)


def balance_zones(count: int, zones: Sequence[str], existing: Sequence[str] = ()) -> list[str]:
    """The zones of ``count`` new instances of an Auto Scaling group: each to the zone with the
    fewest instances so far (``existing``: the zones of the group's instances), ties in the
    group's zone order ("Amazon EC2 Auto Scaling attempts to distribute instances evenly
    between the Availability Zones").

        >>> balance_zones(3, ["eu-west-1a", "eu-west-1b"], ["eu-west-1a"])
        ['eu-west-1b', 'eu-west-1a', 'eu-west-1b']
    """
    if not zones:
        return []
    per_zone = {z: 0 for z in zones}
    for z in existing:
        if z in per_zone:
            per_zone[z] += 1
    out = []
    for _ in range(count):
        zone = min(zones, key=lambda z: per_zone[z])
        per_zone[zone] += 1
        out.append(zone)
    return out


def zones_text(zones: Sequence[str]) -> str:
    """Zones the way people write them: ``eu-west-1a/b`` when they share all but the last letter.

        >>> zones_text(["eu-west-1b", "eu-west-1a", "eu-west-1a"]), zones_text(["us-east-1a", "eu-west-1a"])
        ('eu-west-1a/b', 'eu-west-1a, us-east-1a')
    """
    unique = sorted(set(zones))
    if len(unique) > 1 and len({z[:-1] for z in unique}) == 1:
        return unique[0] + "/" + "/".join(z[-1] for z in unique[1:])
    return ", ".join(unique)


def scale_out_text(count: int, instance_type: str, zones: Sequence[str]) -> str:
    """``3 more m5.large in eu-west-1a/b``: what a scale-out adds.

        >>> scale_out_text(1, "m5.large", ["eu-west-1c"])
        '1 more m5.large in eu-west-1c'
    """
    where = zones_text(zones)
    return f"{count} more {instance_type}" + (f" in {where}" if where else "")


def beyond_max_size_text(tasks: int, max_size: int, group: str = "the Auto Scaling group") -> str:
    """What an Auto Scaling group stopped at its ``maxSize`` means for the tasks it cannot run.

        >>> beyond_max_size_text(2, 3)
        '2 tasks stay PROVISIONING: the Auto Scaling group cannot grow past maxSize 3 (raise maxSize or use a larger instance type)'
    """
    noun = "task stays" if tasks == 1 else "tasks stay"
    return (f"{tasks} {noun} PROVISIONING: {group} cannot grow past maxSize {max_size} "
            "(raise maxSize or use a larger instance type)")


@dataclass(frozen=True)
class Instance:
    """A container instance of an Auto Scaling group, as the scale-in sees it."""

    id: str
    tasks: int  # running non-daemon tasks
    launched: int  # epoch minute
    zone: str = ""


def instances_to_terminate(instances: Sequence[Instance], count: int, *, protection: bool) -> list[str]:
    """Which instances a scale-in of ``count`` terminates.

    With managed termination protection "Amazon ECS only terminates EC2 instances that
    don't have any running Amazon ECS tasks" (daemon tasks do not count): only empty
    instances are candidates, so fewer than ``count`` may go.  Without it the group's
    default termination policy picks from all of them; we model it as: the zone with
    the most instances first, then the oldest launch, then the id (DERIVED from the EC2
    Auto Scaling default termination policy's zone balancing).

        >>> fleet = [Instance("i-1", 2, 0, "a"), Instance("i-2", 0, 5, "a"), Instance("i-3", 0, 1, "b")]
        >>> instances_to_terminate(fleet, 3, protection=True)
        ['i-3', 'i-2']
        >>> instances_to_terminate(fleet, 1, protection=False)
        ['i-1']
    """
    pool = [i for i in instances if not protection or i.tasks == 0]
    chosen: list[str] = []
    while pool and len(chosen) < count:
        per_zone: dict[str, int] = {}
        for inst in pool:
            per_zone[inst.zone] = per_zone.get(inst.zone, 0) + 1
        victim = min(pool, key=lambda i: (-per_zone[i.zone], i.launched, i.id))
        chosen.append(victim.id)
        pool.remove(victim)
    return chosen


@dataclass
class ManagedScaling:
    """One capacity provider's managed scaling between minutes (mutable).

    Scale-out as soon as the reservation is above the target, unless an instance launched
    within ``warmup`` minutes ("the scale-out is blocked for instances that are within the
    instanceWarmupPeriod"); scale-in only after 15 one-minute datapoints below the target
    ("CloudWatch scale-in alarms require 15 data points"), then one :func:`scale_in_step`
    a minute; a scale-out need during a scale-in stops it.
    """

    target_capacity: int = 100
    min_step: int = 1
    max_step: int = 10_000
    warmup: int = 5  # minutes (instanceWarmupPeriod 300 s)
    low_minutes: int = 0
    warm_until: int = -1

    def desired(self, *, minute: int, needed: int, running: int, min_size: int = 0, max_size: int | None = None) -> int:
        """The group size for this minute (``running`` when nothing changes)."""
        cpr = reservation(needed=needed, running=running)
        if cpr > self.target_capacity:
            self.low_minutes = 0
            if minute < self.warm_until:
                return running
            size = managed_desired(needed=needed, running=running, target_capacity=self.target_capacity,
                                   min_step=self.min_step, max_step=self.max_step, min_size=min_size, max_size=max_size)
            if size > running:
                self.warm_until = minute + self.warmup
            return size
        if cpr < self.target_capacity:
            self.low_minutes += 1
            if self.low_minutes >= 15:
                wanted = managed_desired(needed=needed, running=running, target_capacity=self.target_capacity,
                                         min_size=min_size, max_size=max_size)
                return max(min_size, scale_in_step(running, wanted))
            return running
        self.low_minutes = 0
        return running
