"""The Auto Scaling group behind each capacity provider, in the simulation (ecs-semantics §7.1, §7.3).

* A ``CapacityProvider``'s group registers its instances in the ACTIVE cluster that lists the
  provider in ``capacityProviders`` (the first by name if several do: an Auto Scaling group's
  instances join one cluster).  Instance n (from 1, counting every instance the group ever
  launched) has the container-instance id ``ids.container_instance_id(cluster, "asg:NAME", n)``,
  group ``asg:NAME``, the type's resources and ``ecs.*`` attributes, and the attribute
  ``ecsctl.capacity-provider`` = NAME.  New instances go to the group's zone with the fewest
  instances (``core.scaling.capacity.balance_zones``).
* Applying the provider (or the cluster) brings the group to its desired capacity at once:
  ``desiredCapacity`` (default ``minSize``) when created or when the manifest's value changed,
  otherwise the size managed scaling left it at (drift, as a service's desired count), always
  within ``minSize``..``maxSize`` (a lower ``maxSize`` lowers the desired capacity to it, as
  UpdateAutoScalingGroup does).  A smaller size terminates instances as a scale-in does
  (:func:`shrink`, ``instances_to_terminate``: with managed termination protection only empty
  ones; the protected ones stay above the desired capacity and go, minute by minute on the
  clock, as they become empty).
* On the clock (``managed_scaling``) launched instances *boot*: they register
  :data:`STARTUP_MINUTES` simulated minutes after the launch.
* What the group knows between ticks is a ``SimState`` of kind :data:`KIND` named after the
  provider: ``cluster``, ``desired``, ``launched`` (the instance counter), ``booting``
  (``[{"n", "zone", "ready"}]``, ``ready`` an epoch minute), managed scaling's memory
  (``lowMinutes``, ``warmUntil``, ``beyondMaxSize``: the PROVISIONING tasks last said to stay
  for want of room below ``maxSize``) and ``protectedAbove`` (the group's size when it last
  recorded that protected instances keep it above its desired capacity).
"""

from __future__ import annotations

from ecsctl.backends.local import capacity_providers as cp
from ecsctl.backends.local.instances import terminate_ec2
from ecsctl.backends.local.world import RUNNING, ClusterState, World
from ecsctl.core.controller import ids
from ecsctl.core.controller import service as model
from ecsctl.core.controller.cluster import DEFAULT_AVAILABILITY_ZONE, DEFAULT_AGENT_VERSION
from ecsctl.core.scaling.capacity import Instance, balance_zones, instances_to_terminate
from ecsctl.core.scheduling.instance_types import builtin_attributes
from ecsctl.core.state.ports import ContainerInstance, SimState

KIND = "AutoScalingGroup"
# the history kind of an Auto Scaling group's activity (``describe cluster``, ``tick``)
GROUP_ACTIVITY_KIND = "CapacityProvider"
STARTUP_MINUTES = 3  # launch to registration: EC2 boot and the ECS agent (a modelling choice)
TERMINATED = "Container instance deregistered (terminated by its Auto Scaling group)"


def _whole(value, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def bounds(spec: dict | None) -> tuple[int, int]:
    group = cp.asg_of(spec)
    low = max(0, _whole(group.get("minSize"), 0))
    return low, max(low, _whole(group.get("maxSize"), low))


def zones_of(spec: dict | None) -> list[str]:
    return [str(z) for z in cp.asg_of(spec).get("availabilityZones") or ()] or [DEFAULT_AVAILABILITY_ZONE]


def load(world: World, provider: str) -> dict:
    state = world.sim_state(KIND, provider)
    return dict(state.data) if state is not None and state.data else {}


def save(world: World, provider: str, data: dict) -> None:
    world.put_sim_state(SimState(KIND, provider, data))


def cluster_for(world: World, provider: str) -> str | None:
    """The ACTIVE cluster whose ``capacityProviders`` list ``provider`` (the first by name)."""
    for name in world.active_clusters():
        cluster = world.cluster(name)
        if cluster is not None and provider in ((cluster.spec or {}).get("capacityProviders") or ()):
            return name
    return None


def members(cs: ClusterState, provider: str) -> list[ContainerInstance]:
    """The group's registered (not INACTIVE) instances in ``cs``, oldest first."""
    group = cp.group_name(provider)
    return sorted((i for i in cs.instances.values() if i.group_name == group and i.status != "INACTIVE"),
                  key=lambda i: (i.registered_at, i.id))


def providers(world: World) -> list[str]:
    return sorted(world.catalogue("CapacityProvider"))


# -- instances ---------------------------------------------------------------------------------


def register(world: World, cs: ClusterState, provider: str, spec: dict | None, n: int, zone: str) -> ContainerInstance:
    instance_type = str(cp.asg_of(spec).get("instanceType") or "")
    res = cp.asg_resources(spec)
    attributes = dict(builtin_attributes(instance_type, zone))
    attributes[cp.ATTRIBUTE] = provider
    cid = ids.container_instance_id(cs.name, cp.group_name(provider), n)
    inst = ContainerInstance(
        id=cid, cluster=cs.name, group_name=cp.group_name(provider), instance_type=instance_type,
        availability_zone=zone, registered_cpu=res.cpu, registered_memory=res.memory, remaining_cpu=res.cpu,
        remaining_memory=res.memory, registered_gpu=res.gpu, attributes=attributes,
        agent_version=DEFAULT_AGENT_VERSION, registered_at=world.now(),
    )
    cs.put_instance(inst)
    return inst


def terminate(world: World, cs: ClusterState, inst: ContainerInstance) -> None:
    """The group terminates the EC2 instance: deregistered (its tasks stop), EC2 state terminated."""
    terminate_ec2(world, cs, inst, TERMINATED)


def non_daemon_tasks(cs: ClusterState, inst: ContainerInstance) -> int:
    count = 0
    for task in cs.instance_tasks(inst.id):
        if task.last_status != RUNNING:
            continue
        svc = cs.services.get(task.service) if task.service else None
        if svc is None or not model.is_daemon(svc.spec):
            count += 1
    return count


def scale_in(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict, count: int) -> list[str]:
    """Take ``count`` instances out of the group (booting ones first); returns the EC2 ids terminated."""
    booting = list(data.get("booting") or ())
    while count > 0 and booting:
        booting.pop()
        count -= 1
    data["booting"] = booting
    live = members(cs, provider)
    fleet = [Instance(i.id, non_daemon_tasks(cs, i), k, i.availability_zone) for k, i in enumerate(live)]
    gone = instances_to_terminate(fleet, count, protection=cp.protected(spec))
    by_id = {i.id: i for i in live}
    for cid in gone:
        terminate(world, cs, by_id[cid])
    return [ids.ec2_instance_id(cid) for cid in gone]


def launch(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict, count: int,
           ready: int | None) -> list[str]:
    """Launch ``count`` instances: registered now (``ready`` None: apply) or booting until ``ready``.
    Returns their zones."""
    existing = [i.availability_zone for i in members(cs, provider)] + [b["zone"] for b in data.get("booting") or ()]
    where = balance_zones(count, zones_of(spec), existing)
    booting = list(data.get("booting") or ())
    for zone in where:
        data["launched"] = n = int(data.get("launched") or 0) + 1
        if ready is None:
            register(world, cs, provider, spec, n, zone)
        else:
            booting.append({"n": n, "zone": zone, "ready": ready})
    data["booting"] = booting
    return where


def register_due(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict, minute: int) -> int:
    """Register the booting instances whose start-up delay is over; returns how many."""
    due = [b for b in data.get("booting") or () if int(b["ready"]) <= minute]
    for b in due:
        register(world, cs, provider, spec, int(b["n"]), str(b["zone"]))
    data["booting"] = [b for b in data.get("booting") or () if int(b["ready"]) > minute]
    return len(due)


# -- apply -------------------------------------------------------------------------------------


def apply_provider(world: World, provider: str, spec: dict, before: dict | None) -> None:
    """A CapacityProvider create or update (its catalogue entry is already written)."""
    data = load(world, provider)
    wanted = cp.asg_of(spec).get("desiredCapacity")
    was = cp.asg_of(before).get("desiredCapacity") if before is not None else None
    if "desired" not in data or before is None or wanted != was:
        low, _ = bounds(spec)
        data["desired"] = _whole(wanted, low)
    save(world, provider, data)
    sync(world, provider)


def delete_provider(world: World, provider: str) -> None:
    data = load(world, provider)
    if data.get("cluster"):
        cs = world.state(data["cluster"])
        for inst in members(cs, provider):
            terminate(world, cs, inst)
    save(world, provider, {"launched": int(data.get("launched") or 0)})


def sync_cluster(world: World, cluster: str) -> None:
    """After a Cluster apply: its Auto Scaling group providers' instances registered, those of
    providers it no longer lists deregistered."""
    record = world.cluster(cluster)
    listed = set(((record.spec if record is not None else None) or {}).get("capacityProviders") or ())
    cs = world.state(cluster)
    known = {cp.provider_of_group(i.group_name) for i in cs.instances.values() if i.status != "INACTIVE"}
    for provider in sorted(p for p in known | listed if p and cp.provider_spec(world, p) is not None):
        sync(world, provider)


def sync(world: World, provider: str) -> None:
    """Bring the group to its desired capacity, in the cluster it belongs to now."""
    spec = cp.provider_spec(world, provider)
    data = load(world, provider)
    cluster = cluster_for(world, provider) if spec is not None else None
    previous = data.get("cluster")
    if previous and previous != cluster and world.cluster(previous) is not None:
        old = world.state(previous)
        for inst in members(old, provider):
            terminate(world, old, inst)
        data["booting"] = []
    data["cluster"] = cluster
    if cluster is None or spec is None:
        save(world, provider, data)
        return
    cs = world.state(cluster)
    low, high = bounds(spec)
    desired = min(high, max(low, _whole(data.get("desired"), low)))
    have = size(cs, provider, data)
    data["desired"] = desired
    if have < desired:
        launch(world, cs, provider, spec, data, desired - have, None)
    elif have > desired:
        shrink(world, cs, provider, spec, data)
    save(world, provider, data)


def size(cs: ClusterState, provider: str, data: dict) -> int:
    """The group's instances: registered (not INACTIVE) and booting."""
    return len(members(cs, provider)) + len(data.get("booting") or ())


def terminating_text(gone: list[str]) -> str:
    """``Terminating EC2 instances: i-…, i-…`` (an activity's description)."""
    return "Terminating EC2 instance" + ("s" if len(gone) != 1 else "") + (": " + ", ".join(gone) if gone else "")


def shrink(world: World, cs: ClusterState, provider: str, spec: dict | None, data: dict) -> None:
    """Terminate what the group holds beyond its desired capacity, as EC2 Auto Scaling does after
    UpdateAutoScalingGroup lowers ``MaxSize`` (or ``DesiredCapacity``) below the group's size: the
    desired capacity is the new value at once, and instances protected from scale-in (managed
    termination protection: those running tasks) stay until ECS lifts the protection from the
    empty ones ("If all instances in an Auto Scaling group are protected from scale in, and a scale
    in event occurs, its desired capacity is decremented. However, the Auto Scaling group can't
    terminate the required number of instances until their instance scale in protection settings
    are disabled": https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-protection.html).
    Each step is an activity in the provider's history, in EC2 Auto Scaling's words; the clock
    (``managed_scaling``) calls this every minute, so the group shrinks as instances empty."""
    desired = int(data.get("desired") or 0)
    have = size(cs, provider, data)
    if have <= desired:
        data.pop("protectedAbove", None)
        return
    gone = scale_in(world, cs, provider, spec, data, have - desired)
    after = size(cs, provider, data)
    if after < have:
        world.append_history(GROUP_ACTIVITY_KIND, provider, {
            "cluster": cs.name, "from": have, "to": after,
            "description": terminating_text(gone),
            "cause": (f"At {world.now()} an instance was taken out of service in response to a difference between "
                      f"desired and actual capacity, shrinking the capacity from {have} to {after}."),
        })
    if after > desired and data.get("protectedAbove") != after:
        busy = sum(1 for i in members(cs, provider) if non_daemon_tasks(cs, i))
        world.append_history(GROUP_ACTIVITY_KIND, provider, {
            "cluster": cs.name, "from": after, "to": after,
            "description": "Could not scale to desired capacity because all remaining instances are protected from scale-in.",
            "cause": (f"At {world.now()} the desired capacity is {desired}: {busy} of the group's {after} instances "
                      f"run tasks under managed termination protection, so {after - desired} cannot be terminated "
                      "until their tasks stop."),
        })
    if after > desired:
        data["protectedAbove"] = after
    else:
        data.pop("protectedAbove", None)


__all__ = ["GROUP_ACTIVITY_KIND", "KIND", "STARTUP_MINUTES", "TERMINATED", "apply_provider", "bounds", "cluster_for", "delete_provider",
           "launch", "load", "members", "non_daemon_tasks", "providers", "register", "register_due", "save",
           "scale_in", "shrink", "size", "sync", "sync_cluster", "terminating_text", "zones_of"]
