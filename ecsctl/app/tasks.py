"""Standalone tasks and the simulation clock: ``run-task``, ``stop-task``, ``tick``.

Each function opens the state, takes its write lock, and makes its change in one
transaction (see :mod:`ecsctl.backends.local.tasks` for the simulation's rules).  Tasks come
back in the shape of ``ecsctl get tasks -o json``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Sequence

from ecsctl.app.state import open_simulation
from ecsctl.app.task_rows import task_rows
from ecsctl.errors import UsageError

# whole numbers with units, largest first, each at most once: 90s, 15m, 1h30m, 2d12h, 1d2h3m4s
_DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
_UNITS = (86400, 3600, 60, 1)
MAX_TICK = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``1d`` and their sums written largest unit first (``1h30m``,
    ``2d12h``); ``0`` needs no unit."""
    raw = str(text)
    if raw and not raw.strip("0"):  # 0, 00: no unit needed
        return timedelta(0)
    m = _DURATION.fullmatch(raw)
    if m is None or not raw:
        raise UsageError(f"invalid duration {raw!r}: use whole numbers with units d, h, m, s, largest first "
                         "(e.g. 90s, 15m, 2h, 1h30m, 2d12h)")
    digits = [n.lstrip("0") for n in m.groups() if n]
    too_long = any(len(n) > 9 for n in digits)  # beyond MAX_TICK in any unit, and int() stays small
    value = MAX_TICK * 2 if too_long else timedelta(seconds=sum(int(n) * unit for n, unit in zip(m.groups(), _UNITS) if n))
    if value > MAX_TICK:
        raise UsageError(f"duration {raw!r} is too long (at most {MAX_TICK.days}d)")
    return value


def parse_constraint(text: str) -> dict:
    """``distinctInstance`` or ``memberOf:EXPRESSION`` (as ``--placement-constraint``)."""
    raw = str(text).strip()
    kind, sep, expr = raw.partition(":")
    if kind == "distinctInstance":
        if sep:
            raise UsageError("--placement-constraint distinctInstance takes no expression")
        return {"type": "distinctInstance"}
    if kind == "memberOf":
        if not expr.strip():
            raise UsageError("--placement-constraint memberOf needs an expression: 'memberOf:EXPRESSION'")
        return {"type": "memberOf", "expression": expr.strip()}
    raise UsageError(f"invalid placement constraint {raw!r}: use 'memberOf:EXPRESSION' or distinctInstance")


def parse_strategy(text: str) -> dict:
    """``binpack:cpu|memory``, ``spread:instanceId|host|attribute:NAME`` or ``random``."""
    raw = str(text).strip()
    kind, sep, fld = raw.partition(":")
    if kind == "random" and not sep:
        return {"type": "random"}
    if kind in ("binpack", "spread") and fld:
        return {"type": kind, "field": fld}
    raise UsageError(f"invalid placement strategy {raw!r}: use binpack:cpu, binpack:memory, spread:FIELD or random")


def _subnets(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(s.strip() for s in str(v).split(",") if s.strip())
    return out


def _batch(run_for: str | None, exit_code: int | None) -> dict | None:
    """``--run-for``/``--exit-code`` as an ``x-ecsctl`` mapping (checked as validate checks it)."""
    from ecsctl.core.events.batch import extension_issues

    given = {k: v for k, v in (("runFor", run_for), ("exitCode", exit_code)) if v is not None}
    if run_for is not None and str(run_for).isdigit():
        given["runFor"] = int(run_for)
    if not given:
        return None
    issues = extension_issues(given)
    if issues:
        raise UsageError(f"--run-for/--exit-code: {issues[0][1]}")
    return given


def _failure(store, cluster: str, failure: dict) -> dict:
    """A RunTask failure as ECS prints it: ``arn`` is the ARN of the container instance it is
    about (the closest one), or of the cluster when no instance is named."""
    from ecsctl.app.arns import cluster_arn, container_instance_arn, region_of
    from ecsctl.core.state.ports import ContainerInstance

    instance = failure.get("instance")
    inst = store.get(ContainerInstance, instance) if instance else None
    arn = (container_instance_arn(cluster, inst.id, region_of(inst.availability_zone)) if inst is not None
           else cluster_arn(cluster))
    return {**failure, "arn": arn}


def run_task(state_path: str, *, cluster: str, task_definition: str, count: int = 1,
             group: str | None = None, launch_type: str | None = None,
             strategies: Sequence[str] = (), constraints: Sequence[str] = (),
             subnets: Sequence[str] = (), run_for: str | None = None, exit_code: int | None = None) -> dict:
    """RunTask (``run_for``/``exit_code``: the run's ``x-ecsctl``, when its essential container exits): ``{"tasks": [...], "failures": [{"arn", "instance", "reason", "detail"}]}`` (``arn``: the
    container instance's ARN, as ECS prints it)."""
    from ecsctl.backends.local import LocalBackend
    from ecsctl.backends.local.tasks import RunTaskRequest, run_task as run

    request = RunTaskRequest(
        cluster=cluster, task_definition=task_definition, count=count, group=group,
        launch_type=launch_type,
        constraints=[parse_constraint(c) for c in constraints],
        strategies=[parse_strategy(s) for s in strategies] or None,
        subnets=_subnets(subnets),
        batch=_batch(run_for, exit_code),
    )
    with open_simulation(state_path, "run-task") as store:
        with store.locked(f"ecsctl run-task --cluster {cluster} --task-definition {task_definition}"):
            backend = LocalBackend(store)
            result = run(backend.world, request)
            backend.commit()
            name = str(cluster).rsplit("/", 1)[-1]
            return {"tasks": task_rows(store, [t.id for t in result.tasks]),
                    "failures": [_failure(store, name, f) for f in result.failures]}


def stop_task(state_path: str, task_id: str, reason: str | None = None, *,
              cluster: str | None = None) -> dict:
    """StopTask: ``{"task": {...}, "changed": bool}``."""
    from ecsctl.app.lookup import one
    from ecsctl.backends.local import LocalBackend
    from ecsctl.backends.local.tasks import stop_task as stop

    with open_simulation(state_path, "stop-task") as store:
        with store.locked(f"ecsctl stop-task {task_id}"):
            found = one(store, "tasks", task_id, cluster=cluster)
            backend = LocalBackend(store)
            task, changed = stop(backend.world, found.id, reason)
            backend.commit()
            return {"task": task_rows(store, [task.id])[0], "changed": changed}


def tick(state_path: str, duration: str, spot_interruptions: float | None = None) -> dict:
    """Advance the clock: ``{"from", "to", "started": [...], "stopped": [...], "events": [...], "scaling": [...],
    "firings": [...]}`` (``scaling``: the activities Service Auto Scaling recorded on the way;
    ``firings``: the scheduled and event rules that fired).

    ``spot_interruptions``: the share of FARGATE_SPOT tasks interrupted per simulated hour (0–1)."""
    from ecsctl.backends.local import LocalBackend
    from ecsctl.backends.local.scaling import recorded_activities
    from ecsctl.backends.local.firing import RULE_FIRING
    from ecsctl.backends.local.tasks import TICK_HANDLERS, TickInterrupted, TickResult
    from ecsctl.backends.local.asg import GROUP_ACTIVITY_KIND
    from ecsctl.core.state.ports import HistoryEntry

    delta = parse_duration(duration)
    handlers = None
    if spot_interruptions is not None:
        if not 0 <= spot_interruptions <= 1:
            raise UsageError(f"--spot-interruptions is a share of the Spot tasks per hour, from 0 to 1, "
                             f"not {spot_interruptions:g}")
        from ecsctl.backends.local.spot import interruptions

        handlers = [*TICK_HANDLERS, interruptions(spot_interruptions)]
    with open_simulation(state_path, "tick") as store:
        with store.locked(f"ecsctl tick {duration}"):
            backend = LocalBackend(store)
            interrupted = None
            try:
                result = backend.tick(delta, handlers=handlers)
            except KeyboardInterrupt as exc:  # every minute before it is committed: what they did, and where the clock stands
                clock = store.clock() or ""
                result = exc.result if isinstance(exc, TickInterrupted) else TickResult(clock, clock)  # (before the tick)
                interrupted = (f"the clock stands at {clock}; every minute up to it is committed "
                               "(ecsctl tick again moves on from there)")
            scaling = [a for a in recorded_activities(backend.world) if a["time"] <= result.to_time]
            firings = [h.data for h in store.find(HistoryEntry, kind=RULE_FIRING)
                       if result.from_time < h.at <= result.to_time]
            capacity = sorted((h for h in store.find(HistoryEntry, kind=GROUP_ACTIVITY_KIND)
                               if result.from_time < h.at <= result.to_time), key=lambda h: h.id)
            return {
                "from": result.from_time,
                "to": result.to_time,
                "started": task_rows(store, [t.id for t in result.started]),
                "stopped": task_rows(store, [t.id for t in result.stopped]),
                "events": [{"cluster": e.cluster, "service": e.service, "time": e.at, "message": e.message}
                           for e in result.events],
                "scaling": [{"cluster": a["cluster"], "service": a["service"], "time": a["time"],
                             "previousDesiredCount": a["previousDesiredCount"], "desiredCount": a["desiredCount"],
                             "description": a["description"], "cause": a["cause"], "statusCode": a["statusCode"],
                             "statusMessage": a["statusMessage"]}
                            for a in scaling],
                "firings": [{"rule": f.get("rule"), "time": f.get("time"), "trigger": f.get("trigger"),
                             "tasks": f.get("tasks") or [], "message": f.get("message")} for f in firings],
                "capacity": [{"capacityProvider": h.name, "cluster": h.data.get("cluster"), "time": h.at,
                              "previousDesiredCapacity": h.data.get("from"), "desiredCapacity": h.data.get("to"),
                              "description": h.data.get("description"), "cause": h.data.get("cause")}
                             for h in capacity],
                "interrupted": interrupted,
            }
