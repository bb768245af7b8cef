"""Managed scaling of capacity providers on the simulated clock (ecs-semantics §7.3).

Every whole simulated minute, for each Auto Scaling group provider registered in a cluster
(``asg``), before the clusters settle:

1. booting instances whose start-up delay (``asg.STARTUP_MINUTES``) is over register, and the
   group terminates what it holds beyond its desired capacity that is no longer protected
   (``asg.shrink``);
2. with managed scaling ENABLED, ``CapacityProviderReservation = M ÷ N × 100`` is measured:
   N = the group's instances (registered and booting), M = the instances that run a non-daemon
   task plus the instances the provider's PROVISIONING tasks need, bin-packed onto the group's
   instance type (``core.scaling.capacity.instances_needed``);
3. ``core.scaling.capacity.ManagedScaling`` turns it into the group's size: a scale-out at once
   (``ceil(M × 100 ÷ targetCapacity)``, at least ``minimumScalingStepSize``, at most
   ``maximumScalingStepSize``, not while an instance launched within ``instanceWarmupPeriod``),
   a scale-in after 15 minutes below the target, a step a minute, terminating only empty
   instances under managed termination protection;
4. each change is an activity in the provider's history (``HistoryEntry`` kind
   ``CapacityProvider``), in EC2 Auto Scaling's words;
5. the group never grows past ``maxSize``: the PROVISIONING tasks that would need more
   instances (:func:`beyond_max_size`) stay, and each service concerned gets an event saying so
   whenever their number changes.

:func:`forecast` is the same decision taken on the world a plan's run left, without changing it:
the scale-out the change needs ("3 more m5.large in eu-west-1a/b"), and the tasks that stay
PROVISIONING because the group cannot grow past its ``maxSize``.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from ecsctl.backends.local import asg
from ecsctl.backends.local import capacity_providers as cp
from ecsctl.backends.local.tasks import register_tick_handler
from ecsctl.core.state.clock import format_clock, parse_clock
from ecsctl.backends.local.world import ClusterState, World
from ecsctl.core.plan.model import address
from ecsctl.core.scaling.capacity import (ManagedScaling, balance_zones, beyond_max_size_text, instances_needed,
                                          reservation, scale_out_text, tasks_beyond)


def epoch_minute(value: datetime) -> int:
    return int(value.timestamp() // 60)


def _scaling(spec: dict | None, data: dict) -> ManagedScaling:
    conf = ((spec or {}).get("autoScalingGroupProvider") or {}).get("managedScaling") or {}

    def whole(key: str, default: int) -> int:
        value = conf.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    return ManagedScaling(
        target_capacity=whole("targetCapacity", 100), min_step=whole("minimumScalingStepSize", 1),
        max_step=whole("maximumScalingStepSize", 10_000),
        warmup=math.ceil(whole("instanceWarmupPeriod", 300) / 60),
        low_minutes=int(data.get("lowMinutes") or 0), warm_until=int(data.get("warmUntil", -1)),
    )


def _demand(world: World, cs: ClusterState, provider: str) -> tuple[int, list[tuple[int, int, int]], list[str]]:
    """(the group's ACTIVE instances that run a non-daemon task, the (cpu, MiB, network
    interfaces) of the provider's PROVISIONING tasks, their services)."""
    busy = sum(1 for inst in asg.members(cs, provider) if inst.status == "ACTIVE" and asg.non_daemon_tasks(cs, inst) > 0)
    waiting = [t for t in cs.tasks.values() if t.last_status == cp.PROVISIONING and cp.provider_of(world, t) == provider]
    sizes = [(t.cpu, t.memory, int(world.task_demand(t).network_mode == "awsvpc")) for t in waiting]
    return busy, sizes, sorted({t.service for t in waiting if t.service})


def measure(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict) -> tuple[int, int, int]:
    """(M, N, PROVISIONING tasks) of ``provider`` in ``cs``."""
    busy, waiting, _ = _demand(world, cs, provider)
    size = cp.instance_size(spec)
    extra = instances_needed(waiting, size) if size is not None and waiting else 0
    return busy + extra, asg.size(cs, provider, data), len(waiting)


def beyond_max_size(world: World, cs: ClusterState, provider: str, spec: dict | None) -> tuple[int, list[str]]:
    """(the provider's PROVISIONING tasks that the group cannot run even at its ``maxSize``, the
    services they belong to).  The instances left for them are ``maxSize`` less those busy with
    tasks already; ECS leaves the rest PROVISIONING (ecs-semantics §7.3: "ECS never changes ASG
    min/max")."""
    busy, waiting, services = _demand(world, cs, provider)
    size = cp.instance_size(spec)
    if size is None or not waiting:
        return 0, []
    _, high = asg.bounds(spec)
    stuck = tasks_beyond(waiting, size, high - busy)
    return stuck, (services if stuck else [])


def decide(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict, minute: int
           ) -> tuple[int, ManagedScaling, int, int, int]:
    """(the group's size for this minute, the scaling memory after it, M, N, PROVISIONING tasks)."""
    needed, size, waiting = measure(world, cs, provider, spec, data)
    scaling = _scaling(spec, data)
    low, high = asg.bounds(spec)
    wanted = scaling.desired(minute=minute, needed=needed, running=size, min_size=low, max_size=high)
    return wanted, scaling, needed, size, waiting


@register_tick_handler
def scale_capacity_providers(world: World, a: datetime, b: datetime) -> None:
    """The tick handler (registered on import): one evaluation per whole minute."""
    if b.second or b.microsecond:
        return
    minute = epoch_minute(b)
    for provider in asg.providers(world):
        spec = cp.provider_spec(world, provider)
        data = asg.load(world, provider)
        cluster = data.get("cluster")
        if not cluster or world.cluster(cluster) is None or world.cluster(cluster).status != "ACTIVE":
            continue
        cs = world.state(cluster)
        before = dict(data)
        asg.register_due(world, cs, provider, spec, data, minute)
        asg.shrink(world, cs, provider, spec, data)
        if cp.managed(spec):
            wanted, scaling, needed, size, _ = decide(world, cs, provider, spec, data, minute)
            data["lowMinutes"], data["warmUntil"] = scaling.low_minutes, scaling.warm_until
            if wanted != size:
                _activity(world, cs, provider, spec, data, size, wanted, reservation(needed=needed, running=size),
                          minute)
            _tell_beyond_max_size(world, cs, provider, spec, data)
        if data != before:
            asg.save(world, provider, data)


def _tell_beyond_max_size(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict) -> None:
    """A service event, each time their number changes, for the tasks that stay PROVISIONING
    because the group is at its maxSize (ECS leaves them PROVISIONING; ecsctl says why)."""
    stuck, services = beyond_max_size(world, cs, provider, spec)
    if stuck == int(data.get("beyondMaxSize") or 0):
        return
    if stuck:
        data["beyondMaxSize"] = stuck
    else:
        data.pop("beyondMaxSize", None)
    text = beyond_max_size_text(stuck, asg.bounds(spec)[1], f"the Auto Scaling group of capacity provider {provider}")
    for name in services:
        world.event(cs.name, name, f"service ({name}) cannot place all of its tasks: {text}.")


def _activity(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict, size: int, wanted: int,
              cpr: float, minute: int) -> None:
    if wanted > size:
        zones = asg.launch(world, cs, provider, spec, data, wanted - size, minute + asg.STARTUP_MINUTES)
        instance_type = str(cp.asg_of(spec).get("instanceType") or "")
        what = f"Launching {wanted - size} new EC2 instance{'s' if wanted - size != 1 else ''} ({scale_out_text(wanted - size, instance_type, zones)})"
        done = wanted
    else:
        gone = asg.scale_in(world, cs, provider, spec, data, size - wanted)
        done = asg.size(cs, provider, data)
        if done == size:
            return  # every candidate is protected: nothing changes
        done = min(done, asg.bounds(spec)[1])
        what = asg.terminating_text(gone)
    data["desired"] = done
    world.append_history(asg.GROUP_ACTIVITY_KIND, provider, {
        "cluster": cs.name, "description": what,
        "cause": (f"At {world.now()} a monitor alarm of the target tracking policy of capacity provider {provider} "
                  f"(CapacityProviderReservation {round(cpr, 1):g} %, target {_scaling(spec, data).target_capacity}) "
                  f"changed the desired capacity from {size} to {done}."),
        "from": size, "to": done, "reservation": round(cpr, 2),
    })


def forecast(world: World) -> list[dict]:
    """What each managed provider's next evaluation does, on ``world`` as it is (unchanged): the
    scale-out it starts, the PROVISIONING tasks the group cannot run even at its ``maxSize``, and
    the instances it keeps above its desired capacity because they run tasks under managed
    termination protection (an entry with ``count`` 0 when it launches nothing):
    ``[{"capacityProvider", "cluster", "instanceType", "count", "zones", "from", "to", "reservation",
    "provisioningTasks", "message", "maxSize", "staysProvisioning", "services", "desired", "protectedAbove"}]``
    (``services``: the addresses of the services whose tasks stay PROVISIONING; ``desired``: the
    group's desired capacity, ``protectedAbove``: its instances beyond it).  When the next
    evaluation launches nothing only because an instance launched within ``instanceWarmupPeriod``,
    ``afterWarmup`` (``{at, count, zones, to}``) is the scale-out of the evaluation when it ends."""
    out = []
    minute = epoch_minute(parse_clock(world.now())) + 1
    for provider in asg.providers(world):
        spec = cp.provider_spec(world, provider)
        if not cp.managed(spec):
            continue
        data = asg.load(world, provider)
        cluster = data.get("cluster")
        if not cluster:
            continue
        cs = world.state(cluster)
        wanted, _, needed, size, waiting = decide(world, cs, provider, spec, data, minute)
        warm = int(data.get("warmUntil", -1))
        later = decide(world, cs, provider, spec, data, warm)[0] if wanted == size and warm > minute else size
        stuck, services = beyond_max_size(world, cs, provider, spec)
        desired = int(data.get("desired") or 0)
        if wanted <= size and later <= size and not stuck and size <= desired:
            continue
        count = max(0, wanted - size)
        existing = [i.availability_zone for i in asg.members(cs, provider)] + [b["zone"] for b in data.get("booting") or ()]
        zones = balance_zones(count, asg.zones_of(spec), existing)
        instance_type = str(cp.asg_of(spec).get("instanceType") or "")
        entry = {
            "capacityProvider": provider, "cluster": cluster, "instanceType": instance_type,
            "count": count, "zones": zones, "from": size, "to": size + count,
            "reservation": reservation(needed=needed, running=size), "provisioningTasks": waiting,
            "message": scale_out_text(count, instance_type, zones) if count else "no instance to launch",
            "maxSize": asg.bounds(spec)[1], "staysProvisioning": stuck, "desired": desired,
            "protectedAbove": max(0, size - desired),
            "services": [address("Service", name, {"cluster": cluster}) for name in services],
        }
        if later > size:  # the next evaluation waits for the warm-up; the one at its end scales out
            at = format_clock(datetime.fromtimestamp(warm * 60, tz=timezone.utc))
            later_zones = balance_zones(later - size, asg.zones_of(spec), existing)
            entry["afterWarmup"] = {"at": at, "count": later - size, "zones": later_zones, "to": later}
            entry["message"] = (f"no instance to launch until the instance warm-up ends at {at}, then "
                                f"{scale_out_text(later - size, instance_type, later_zones)}")
        out.append(entry)
    return out


__all__ = ["beyond_max_size", "decide", "epoch_minute", "forecast", "measure", "scale_capacity_providers"]
