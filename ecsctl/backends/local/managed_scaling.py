"""Managed scaling of capacity providers on the simulated clock (ecs-semantics §7.3).

Every whole simulated minute, for each Auto Scaling group provider registered in a cluster
(``asg``), before the clusters settle:

1. booting instances whose start-up delay (``asg.STARTUP_MINUTES``) is over register;
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
   ``CapacityProvider``), in EC2 Auto Scaling's words.

:func:`forecast` is the same decision taken on the world a plan's run left, without changing it:
the scale-out the change needs ("3 more m5.large in eu-west-1a/b").
"""

from __future__ import annotations

import math
from datetime import datetime

from ecsctl.backends.local import asg
from ecsctl.backends.local import capacity_providers as cp
from ecsctl.backends.local.tasks import parse_clock, register_tick_handler
from ecsctl.backends.local.world import ClusterState, World
from ecsctl.core.scaling.capacity import ManagedScaling, balance_zones, instances_needed, reservation, scale_out_text


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


def measure(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict) -> tuple[int, int, int]:
    """(M, N, PROVISIONING tasks) of ``provider`` in ``cs``."""
    live = asg.members(cs, provider)
    busy = sum(1 for inst in live if inst.status == "ACTIVE" and asg.non_daemon_tasks(cs, inst) > 0)
    waiting = [(t.cpu, t.memory) for t in cs.tasks.values()
               if t.last_status == cp.PROVISIONING and cp.provider_of(world, t) == provider]
    size = cp.instance_size(spec)
    extra = instances_needed(waiting, size) if size is not None and waiting else 0
    return busy + extra, len(live) + len(data.get("booting") or ()), len(waiting)


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
        if cp.managed(spec):
            wanted, scaling, needed, size, _ = decide(world, cs, provider, spec, data, minute)
            data["lowMinutes"], data["warmUntil"] = scaling.low_minutes, scaling.warm_until
            if wanted != size:
                _activity(world, cs, provider, spec, data, size, wanted, reservation(needed=needed, running=size),
                          minute)
        if data != before:
            asg.save(world, provider, data)


def _activity(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict, size: int, wanted: int,
              cpr: float, minute: int) -> None:
    if wanted > size:
        zones = asg.launch(world, cs, provider, spec, data, wanted - size, minute + asg.STARTUP_MINUTES)
        instance_type = str(cp.asg_of(spec).get("instanceType") or "")
        what = f"Launching {wanted - size} new EC2 instance{'s' if wanted - size != 1 else ''} ({scale_out_text(wanted - size, instance_type, zones)})"
        done = wanted
    else:
        gone = asg.scale_in(world, cs, provider, spec, data, size - wanted)
        done = asg.members(cs, provider).__len__() + len(data.get("booting") or ())
        if done == size:
            return  # every candidate is protected: nothing changes
        what = "Terminating EC2 instance" + ("s" if len(gone) != 1 else "") + (": " + ", ".join(gone) if gone else "")
    data["desired"] = done
    world.append_history("CapacityProvider", provider, {
        "cluster": cs.name, "description": what,
        "cause": (f"At {world.now()} a monitor alarm of the target tracking policy of capacity provider {provider} "
                  f"(CapacityProviderReservation {round(cpr, 1):g} %, target {_scaling(spec, data).target_capacity}) "
                  f"changed the desired capacity from {size} to {done}."),
        "from": size, "to": done, "reservation": round(cpr, 2),
    })


def forecast(world: World) -> list[dict]:
    """The scale-out each managed provider's next evaluation starts, on ``world`` as it is (unchanged):
    ``[{"capacityProvider", "cluster", "instanceType", "count", "zones", "from", "to", "reservation",
    "provisioningTasks", "message"}]``."""
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
        if wanted <= size:
            continue
        existing = [i.availability_zone for i in asg.members(cs, provider)] + [b["zone"] for b in data.get("booting") or ()]
        zones = balance_zones(wanted - size, asg.zones_of(spec), existing)
        instance_type = str(cp.asg_of(spec).get("instanceType") or "")
        out.append({
            "capacityProvider": provider, "cluster": cluster, "instanceType": instance_type,
            "count": wanted - size, "zones": zones, "from": size, "to": wanted,
            "reservation": reservation(needed=needed, running=size), "provisioningTasks": waiting,
            "message": scale_out_text(wanted - size, instance_type, zones),
        })
    return out


__all__ = ["decide", "epoch_minute", "forecast", "measure", "scale_capacity_providers"]
