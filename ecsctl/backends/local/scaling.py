"""Service Auto Scaling on the simulated clock: the tick handler that moves desired counts.

Every simulated minute (``tasks.tick`` calls :func:`scale_services` before the clusters
settle), for every ACTIVE REPLICA service of an ACTIVE cluster whose spec has
``autoScaling`` (the Application Auto Scaling scalable target, its policies and scheduled
actions, DESIGN §3), one minute of ``ecsctl.core.scaling.engine.step`` runs: due scheduled
actions fire, target-tracking and step-scaling policies evaluate their alarms (cooldowns,
``disableScaleIn``, out if any policy wants more, in only if all agree, no scale-in while
the service's PRIMARY deployment is IN_PROGRESS), ``minCapacity``/``maxCapacity`` bound
the result, and the service's desired count is set.  The controller then starts or stops
the tasks in the same minute.  All the policy arithmetic is the engine's; this module only
feeds it and keeps what it remembers.

What the engine sees each minute (the minute that ends at the window's end ``b``, in whole
minutes since the epoch; a window that crosses no minute boundary steps nothing):

* **open loop** — datapoints put with ``ecsctl metrics put`` (history kind
  :data:`METRIC_KIND`, name ``cluster/service``), read by ``core.scaling.levels``'s rule,
  the one ``scale simulate --metrics`` reads its rows by: a value put at ``T`` is the
  service's metric from the minute of ``T`` on, until the next value of that metric (the
  service keeps publishing its level; several values in one minute are averaged);
* **closed loop** — ``autoScaling.demand`` (``core.scaling.demand``): demand ``L`` of the
  minute and ``r`` RUNNING tasks of the service give ECSServiceAverageCPUUtilization,
  ECSServiceAverageMemoryUtilization, ALBRequestCountPerTarget and the declared custom
  metrics, so a scale-out lowers them from the next minute on.  A ``file`` demand source is
  not read on ``tick`` (the state holds no files): feed such a service with ``metrics put``.
  A metric that was also put (open loop) takes the put value: explicit wins.

What is kept (the state's schema is unchanged):

* ``sim_state`` (:data:`STATE_KIND`, ``cluster/service``): the engine's snapshot
  (``core.scaling.snapshot``: cooldown times, each alarm's datapoints, the scheduled
  bounds), plus a digest of the ``autoScaling`` spec and the service's creation time: a
  changed spec re-registers the scalable target (its ``minCapacity``/``maxCapacity`` are the
  manifest's again, the policies' state is kept by name); a re-created service starts afresh.
  It is written in every minute that scales and at the end of each tick (:func:`flush`);
* ``history`` (:data:`ACTIVITY_KIND`, ``cluster/service``): every scaling activity as
  DescribeScalingActivities prints it (``ScalingActivity.as_dict``), its cause in
  Application Auto Scaling's wording.

A desired count moved here is drift, not a change (DESIGN §5): the last-applied spec keeps
the manifest's ``desiredCount``, so the next plan on unchanged manifests proposes nothing
and reports the moved count apart.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime

from ecsctl.backends.local import queues
from ecsctl.backends.local.tasks import register_tick_handler
from ecsctl.backends.local.world import RUNNING, ClusterState, World
from ecsctl.core.controller import service as model
from ecsctl.core.events.schedule import ScheduleError
from ecsctl.core.scaling.activities import ScalingActivity, minute_iso
from ecsctl.core.scaling.demand import DemandModel, demand_values
from ecsctl.core.scaling.engine import MinuteInputs, ScalingState, read_schedules, set_desired, start, step, within
from ecsctl.core.scaling.levels import MetricLevels
from ecsctl.core.scaling.model import ScalingConfig, compile_scaling
from ecsctl.core.scaling.schedules import epoch_minute, fire_times
from ecsctl.core.scaling.snapshot import restore, snapshot
from ecsctl.core.state.ports import HistoryEntry, Service, SimState
from ecsctl.errors import InputError

STATE_KIND = "ScalingState"
ACTIVITY_KIND = "ScalingActivity"
METRIC_KIND = "MetricDatum"
HORIZON = 3661 * 1440  # minutes of schedule read ahead (lazily): longer than the longest tick
DEMAND_CHUNK = 1440  # demand values computed a day at a time


def service_key(cluster: str, service: str) -> str:
    return f"{cluster}/{service}"


def _digest(scaling: dict) -> str:
    body = {k: v for k, v in scaling.items() if k != "demand"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class _Scaler:
    """What one world remembers of one service's scaling between minutes."""

    spec: dict
    config: ScalingConfig
    state: ScalingState
    digest: str
    horizon: int
    demand: DemandModel | None = None
    derive: object = None
    chunk_start: int = 0
    chunk: list[float] = field(default_factory=list)


@dataclass
class _WorldScaling:
    scalers: dict[str, _Scaler] = field(default_factory=dict)
    points: dict[str, MetricLevels] = field(default_factory=dict)
    activities: list[dict] = field(default_factory=list)  # recorded by this world, in order
    pending: dict[str, tuple] = field(default_factory=dict)  # key -> (scaler, service created_at) not yet saved


_WORLDS: "weakref.WeakKeyDictionary[World, _WorldScaling]" = weakref.WeakKeyDictionary()


def _of(world: World) -> _WorldScaling:
    found = _WORLDS.get(world)
    if found is None:
        found = _WORLDS[world] = _WorldScaling()
    return found


def recorded_activities(world: World) -> list[dict]:
    """The scaling activities this world recorded (``as_dict`` plus ``cluster``/``service``), oldest first."""
    return list(_of(world).activities)


# ---------------------------------------------------------------------------------------------
# The tick handler


@register_tick_handler
def scale_services(world: World, a: datetime, b: datetime) -> None:
    """One simulated minute of Service Auto Scaling for every scalable service (see the module doc).
    Its open-loop datapoints (``metrics put``) are not expired: each holds until the next one."""
    minute = epoch_minute(b)
    mine = _of(world)
    for cluster in world.active_clusters():
        cs = world.state(cluster)
        for svc in cs.active_services():
            scaling = svc.spec.get("autoScaling")
            if isinstance(scaling, dict) and not model.is_daemon(svc.spec):
                _scale(world, mine, cs, svc, scaling, minute, epoch_minute(a))


def _scale(world: World, mine: _WorldScaling, cs: ClusterState, svc: Service, scaling: dict, minute: int,
           seen: int) -> None:
    key = service_key(cs.name, svc.name)
    scaler = mine.scalers.get(key)
    if scaler is None or scaler.spec is not scaling:
        scaler = mine.scalers[key] = _load(world, svc, scaling, minute, seen)
        svc = cs.services[svc.name]  # a registration in _load may have moved its desired count
    state = scaler.state
    if minute <= state.minute:
        return  # this minute was stepped already (a tick that ended between two minute boundaries)
    try:
        if minute >= scaler.horizon:
            read_schedules(state, fire_times, minute, minute + HORIZON)
            scaler.horizon = minute + HORIZON
        set_desired(state, svc.desired_count)  # an apply or a person may have moved it since
        metrics: dict[str, float] = {}
        running = sum(1 for t in cs.service_tasks(svc.name) if t.last_status == RUNNING)
        ended = minute - 1  # the datapoints are the minute's that ends now (CloudWatch's period start)
        if scaler.demand is not None:
            scaler.derive(_demand_at(scaler, ended), running, metrics)
        # the queue it consumes, as CloudWatch has it (its last minute): backlog per task scales it
        metrics.update(queues.service_metrics(world, cs.name, svc.name))
        _points(world, mine, key).at(ended, metrics)
        primary = [d for d in cs.service_deployments(svc.name) if d.status == "PRIMARY"]
        deploying = bool(primary) and primary[-1].rollout_state == "IN_PROGRESS"
        _, acts = step(state, MinuteInputs(minute, metrics, deploying))
    except ScheduleError as exc:
        raise InputError(f"service/{key}: autoScaling.scheduled: {exc}") from None
    for act in acts:
        _record(world, mine, cs.name, svc.name, act)
    if state.desired != svc.desired_count:
        cs.put_service(replace(svc, desired_count=state.desired, updated_at=world.now()))
    mine.pending[key] = (scaler, svc.created_at)
    if acts:  # the minute commits anyway: the engine's state goes with the counts it set
        _save(world, mine, key)


def _save(world: World, mine: _WorldScaling, key: str) -> None:
    scaler, created = mine.pending.pop(key)
    world.put_sim_state(SimState(STATE_KIND, key, {**snapshot(scaler.state), "specDigest": scaler.digest,
                                                   "serviceCreatedAt": created}))


def flush(world: World) -> None:
    """Note every engine state stepped since it was last saved (the caller commits).

    A quiet minute (no activity) does not write the engine's state, so that a day of ticks
    on a steady service is not 1,440 transactions; ``LocalBackend.tick`` flushes at its end.
    A crash in between loses only the alarms' latest datapoints: the next tick resumes from
    the last minute that scaled, and scheduled actions due in the gap (already applied and
    committed) do not fire again."""
    mine = _of(world)
    for key in sorted(mine.pending):
        _save(world, mine, key)


def _load(world: World, svc: Service, scaling: dict, minute: int, seen: int) -> _Scaler:
    """The engine of one service: restored from ``sim_state``, or fresh at ``minute``, its
    scalable target registered at ``seen``, the clock when the tick first saw it (an apply
    leaves the clock where the next tick starts), as a scheduled task's ``rate()`` counts."""
    key = service_key(svc.cluster, svc.name)
    config = compile_scaling(scaling, cluster=svc.cluster, service=svc.name)
    digest = _digest(scaling)
    saved = world.sim_state(STATE_KIND, key)
    record = saved.data if saved is not None else None
    until = minute + HORIZON
    try:
        if record and record.get("serviceCreatedAt") == svc.created_at and int(record.get("minute", minute)) < minute:
            if record.get("specDigest") != digest:  # a state saved before apply registered the target itself
                svc = _register(world, svc, config, digest)
                record = world.sim_state(STATE_KIND, key).data
            state = restore(config, record, until=until)
            if int(record["minute"]) + 1 < minute:  # minutes it did not see (autoScaling was removed a while):
                read_schedules(state, fire_times, minute, until)  # what was due then does not fire now
        else:
            state = start(config, desired=svc.desired_count, minute=minute, until=until, created=seen)
    except ScheduleError as exc:
        raise InputError(f"service/{key}: autoScaling.scheduled: {exc}") from None
    scaler = _Scaler(scaling, config, state, digest, until)
    raw = scaling.get("demand")
    if isinstance(raw, dict):
        try:
            demand = DemandModel.from_spec(raw)
        except (KeyError, TypeError, ValueError):
            demand = None  # validate refuses such a demand (E5006); nothing to derive from it
        if demand is not None and any(k in demand.source for k in ("constant", "daily", "series")):
            scaler.demand = demand
            scaler.derive = demand.deriver(config.metrics)
            scaler.chunk_start = minute
    return scaler


def register_target(world: World, name: str, spec: dict, before: dict | None) -> None:
    """RegisterScalableTarget, as an apply that creates a service with ``autoScaling``, or
    changes its ``autoScaling``, makes it: the scalable target takes the manifest's
    ``minCapacity``/``maxCapacity`` (also over bounds a scheduled action set) and the
    service's desired count moves into them at once (``engine.within``); the engine's saved
    state keeps its policies' alarms and cooldowns.  An apply that leaves ``autoScaling`` as
    it was registers nothing, so the bounds a scheduled action set stay."""
    cluster = model.cluster_of(spec)
    svc = world.state(cluster).services.get(name)
    scaling = spec.get("autoScaling")
    if svc is None or not isinstance(scaling, dict) or model.is_daemon(spec):
        return
    digest = _digest(scaling)
    was = (before or {}).get("autoScaling")
    if before is not None and isinstance(was, dict) and _digest(was) == digest:
        return
    _register(world, svc, compile_scaling(scaling, cluster=cluster, service=name), digest)


def _register(world: World, svc: Service, config: ScalingConfig, digest: str) -> Service:
    """The service with its desired count in the new bounds, and the saved engine state with them."""
    low, high = config.min_capacity, config.max_capacity
    desired = within(svc.desired_count, low, high)
    cs = world.state(svc.cluster)
    if desired != svc.desired_count:
        svc = replace(svc, desired_count=desired, updated_at=world.now())
        cs.put_service(svc)
    key = service_key(svc.cluster, svc.name)
    mine = _of(world)
    mine.scalers.pop(key, None)  # the next minute restores from what is saved here
    mine.pending.pop(key, None)
    saved = world.sim_state(STATE_KIND, key)
    if saved is not None and saved.data.get("serviceCreatedAt") == svc.created_at:
        world.put_sim_state(SimState(STATE_KIND, key, {**saved.data, "minCapacity": low, "maxCapacity": high,
                                                       "desiredCount": desired, "specDigest": digest}))
    return svc


def _demand_at(scaler: _Scaler, minute: int) -> float:
    offset = minute - scaler.chunk_start
    if not 0 <= offset < len(scaler.chunk):
        scaler.chunk_start, offset = minute, 0
        scaler.chunk = demand_values(scaler.demand.source, minute, minute + DEMAND_CHUNK)
    return scaler.chunk[offset]


def _record(world: World, mine: _WorldScaling, cluster: str, service: str, act: ScalingActivity) -> None:
    data = act.as_dict()
    world.append_history(ACTIVITY_KIND, service_key(cluster, service), data, at=data["time"])
    mine.activities.append({"cluster": cluster, "service": service, **data})


# ---------------------------------------------------------------------------------------------
# Open-loop metrics


def _points(world: World, mine: _WorldScaling, key: str) -> MetricLevels:
    found = mine.points.get(key)
    if found is None:
        found = mine.points[key] = MetricLevels()
        store = world.store
        for entry in store.find(HistoryEntry, kind=METRIC_KIND, name=key) if store is not None else ():
            try:
                found.add(int(entry.data["minute"]), str(entry.data["metric"]), float(entry.data["value"]))
            except (KeyError, TypeError, ValueError):
                continue  # a hand-edited line: not a datapoint
    return found


def put_metrics(world: World, cluster: str, service: str, points: list[tuple[int, str, float]]) -> list[HistoryEntry]:
    """Record open-loop datapoints ``(epoch minute, metric, value)`` of an ACTIVE service."""
    cs = world.state(cluster)
    svc = cs.services.get(service)
    if svc is None or svc.status != "ACTIVE":
        raise InputError(f'service "{service}" not found in cluster {cluster} (or not ACTIVE)')
    key = service_key(cluster, service)
    found = _points(world, _of(world), key)
    out = []
    for minute, metric, value in points:
        at = minute_iso(minute)
        out.append(world.append_history(METRIC_KIND, key, {"minute": minute, "time": at, "metric": metric,
                                                           "value": float(value)}, at=at))
        found.add(minute, metric, value)
    return out


def metrics_read(svc: Service) -> tuple[str, ...]:
    """The metric names the policies of ``svc`` read (empty without ``autoScaling``)."""
    scaling = svc.spec.get("autoScaling")
    if not isinstance(scaling, dict):
        return ()
    return compile_scaling(scaling, cluster=svc.cluster, service=svc.name).metrics


__all__ = ["ACTIVITY_KIND", "METRIC_KIND", "STATE_KIND", "flush", "metrics_read", "put_metrics",
           "recorded_activities", "register_target", "scale_services", "service_key"]
