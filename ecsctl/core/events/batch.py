"""Batch tasks that finish: when the essential container exits, and the ECS stop lifecycle after it.

A standalone task (a scheduled job, an event-triggered run, ``run-task``) has no service
to keep it running: when its essential container exits, ECS stops the task.  The
simulation cannot run the container, so an ecsctl extension says when it exits::

    x-ecsctl:
      runFor: 10m        # how long the essential container runs: 90s, 10m, 2h, 1d or seconds
      exitCode: 0        # the code it exits with (default 0)
      container: report  # which essential container exits (default: the first essential one)

It may sit on the **task definition** (every standalone task of the family), on a
**ScheduledTask's target** (the tasks that rule starts) and on a **run** (``run-task``);
later ones override earlier ones key by key (:func:`batch_run`).  A task with no
``runFor`` anywhere runs until it is stopped, as before.  Service tasks are never
finished by it (a service replaces exited tasks; ECS documents no "batch service").
``x-ecsctl`` is stripped from anything sent to AWS (:mod:`ecsctl.core.extensions`).

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)
    >>> td = {"networkMode": "awsvpc", "containerDefinitions": [{"name": "report", "essential": True}],
    ...       "x-ecsctl": {"runFor": "10m", "exitCode": 3}}
    >>> run = batch_run(td)
    >>> phases = stop_phases(td, run)
    >>> [task_phase(t0, run, t0 + timedelta(seconds=s), phases).last_status for s in (0, 600, 605, 615, 625)]
    ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']
    >>> p = task_phase(t0, run, t0 + timedelta(minutes=11), phases)
    >>> p.stop_code, p.stopped_reason, p.exit_code, p.stopped_at.isoformat()
    ('EssentialContainerExited', 'Essential container in task exited', 3, '2026-01-01T02:10:25+00:00')

The stop lifecycle ("Task lifecycle", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html):
``RUNNING`` → ``DEACTIVATING`` ("additional steps before the task is stopped", e.g. target
group deregistration) → ``STOPPING`` ("waiting on the container agent": the other
containers get SIGTERM and their ``stopTimeout``) → ``DEPROVISIONING`` ("steps after the
task has stopped", e.g. detaching and deleting the awsvpc network interface) →
``STOPPED``.  The task's ``desiredStatus`` turns ``STOPPED`` when the container exits, its
``stopCode`` is ``EssentialContainerExited`` and ``stoppedReason`` "Essential container in
task exited" ("Amazon ECS stopped task error codes",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html).

AWS publishes no durations for these states; the simulation's (a modelling choice):

* ``DEACTIVATING`` 5 s;
* ``STOPPING`` the longest ``stopTimeout`` of the task's *other* containers (default 30 s,
  ecs-semantics §1.8), or 5 s when the exiting container is the only one;
* ``DEPROVISIONING`` 15 s for ``awsvpc`` tasks (the ENI), 5 s otherwise.

So a finished job is ``STOPPED`` well within the minute after it exits.  Its CPU, memory,
host ports and IP address are released when it reaches ``STOPPED``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecsctl.core.extensions import EXTENSION, extension

__all__ = [
    "BatchRun",
    "STOP_CODE",
    "STOPPED_REASON",
    "StopPhases",
    "TaskPhase",
    "batch_run",
    "batch_status",
    "exiting_container",
    "extension_issues",
    "parse_run_for",
    "stop_phases",
    "task_phase",
]

STOP_CODE = "EssentialContainerExited"
STOPPED_REASON = "Essential container in task exited"
DEACTIVATING = timedelta(seconds=5)
DEFAULT_STOP_TIMEOUT = 30  # seconds, ECS's default stopTimeout
SOLE_CONTAINER_STOPPING = timedelta(seconds=5)
DEPROVISIONING_AWSVPC = timedelta(seconds=15)
DEPROVISIONING_OTHER = timedelta(seconds=5)
MAX_RUN_FOR = timedelta(days=3660)
KEYS = ("runFor", "exitCode", "container")
_DURATION = re.compile(r"([0-9]{1,9})([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class BatchRun:
    """When a standalone task's essential container exits: ``run_for`` after it started, with ``exit_code``."""

    run_for: timedelta
    exit_code: int = 0
    container: str = ""  # "" = the first essential container


@dataclass(frozen=True, slots=True)
class StopPhases:
    deactivating: timedelta
    stopping: timedelta
    deprovisioning: timedelta


@dataclass(frozen=True, slots=True)
class TaskPhase:
    """Where a batch task is at a moment: its ``lastStatus`` and, once its container exited, how it stopped.

    ``exited_at`` is when the essential container exited (``executionStoppedAt``),
    ``stopped_at`` when the task reaches STOPPED (``stoppedAt``); ``next_change`` is the
    next moment its status changes (None once STOPPED).
    """

    last_status: str
    desired_status: str
    stop_code: str = ""
    stopped_reason: str = ""
    exit_code: int | None = None
    container: str = ""
    exited_at: datetime | None = None
    stopped_at: datetime | None = None
    next_change: datetime | None = None


# ----------------------------------------------------------------------------------- the model


def parse_run_for(value: Any) -> timedelta:
    """``90s``, ``10m``, ``2h``, ``1d`` or a number of seconds; raises ``ValueError``.

    >>> parse_run_for("10m"), parse_run_for(45)
    (datetime.timedelta(seconds=600), datetime.timedelta(seconds=45))
    """
    if isinstance(value, bool):
        raise ValueError(f"runFor {value!r} is not a duration")
    if isinstance(value, int):
        seconds = value
    else:
        m = _DURATION.fullmatch(str(value))
        if m is None:
            raise ValueError(f"runFor {value!r} is not a duration: use a whole number and one unit s, m, h or d (e.g. 90s, 10m, 2h)")
        seconds = int(m.group(1)) * _UNIT[m.group(2)]
    if seconds < 0 or timedelta(seconds=seconds) > MAX_RUN_FOR:
        raise ValueError(f"runFor {value!r} must be between 0s and {MAX_RUN_FOR.days}d")
    return timedelta(seconds=seconds)


def batch_run(taskdef_spec: Any, *overrides: Any) -> BatchRun | None:
    """The task definition's ``x-ecsctl``, overridden key by key by each of ``overrides``
    (specs holding an ``x-ecsctl``: a ScheduledTask target, a run); None without ``runFor``.

    Raises ``ValueError`` for an invalid value (validation reports those first).
    """
    merged: dict = {}
    for spec in (taskdef_spec, *overrides):
        merged.update({k: v for k, v in extension(spec).items() if k in KEYS})
    if "runFor" not in merged:
        return None
    exit_code = merged.get("exitCode", 0)
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        raise ValueError(f"exitCode {exit_code!r} is not an integer")
    return BatchRun(parse_run_for(merged["runFor"]), exit_code, str(merged.get("container") or ""))


def _containers(taskdef_spec: Any) -> list[dict]:
    items = taskdef_spec.get("containerDefinitions") if isinstance(taskdef_spec, dict) else None
    return [c for c in items or () if isinstance(c, dict)]


def exiting_container(taskdef_spec: Any, run: BatchRun) -> str:
    """The name of the container that exits: ``run.container``, else the first essential one."""
    if run.container:
        return run.container
    for c in _containers(taskdef_spec):
        if c.get("essential", True):
            return str(c.get("name") or "")
    return ""


def stop_phases(taskdef_spec: Any, run: BatchRun) -> StopPhases:
    """The durations of DEACTIVATING, STOPPING and DEPROVISIONING for this task (see the module doc)."""
    exiting = exiting_container(taskdef_spec, run)
    others = [c for c in _containers(taskdef_spec) if c.get("name") != exiting]
    if others:
        stopping = timedelta(seconds=max(_stop_timeout(c) for c in others))
    else:
        stopping = SOLE_CONTAINER_STOPPING
    awsvpc = isinstance(taskdef_spec, dict) and taskdef_spec.get("networkMode") == "awsvpc"
    return StopPhases(DEACTIVATING, stopping, DEPROVISIONING_AWSVPC if awsvpc else DEPROVISIONING_OTHER)


def _stop_timeout(container: dict) -> int:
    value = container.get("stopTimeout")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_STOP_TIMEOUT


def task_phase(started_at: datetime, run: BatchRun, now: datetime, phases: StopPhases, container: str = "") -> TaskPhase:
    """The status of a batch task started (RUNNING) at ``started_at``, at ``now``."""
    exited = started_at + run.run_for
    if now < exited:
        return TaskPhase("RUNNING", "RUNNING", next_change=exited)
    stopping = exited + phases.deactivating
    deprovisioning = stopping + phases.stopping
    stopped = deprovisioning + phases.deprovisioning
    if now < stopping:
        status, change = "DEACTIVATING", stopping
    elif now < deprovisioning:
        status, change = "STOPPING", deprovisioning
    elif now < stopped:
        status, change = "DEPROVISIONING", stopped
    else:
        status, change = "STOPPED", None
    return TaskPhase(status, "STOPPED", STOP_CODE, STOPPED_REASON, run.exit_code, container or run.container,
                     exited, stopped, change)


def batch_status(taskdef_spec: Any, started_at: datetime, now: datetime, *overrides: Any) -> TaskPhase | None:
    """Everything at once: the phase at ``now`` of a standalone task of ``taskdef_spec`` that started
    at ``started_at`` (``overrides`` as :func:`batch_run`); None when it has no ``runFor``.

    >>> from datetime import timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> td = {"containerDefinitions": [{"name": "app"}, {"name": "log", "essential": False, "stopTimeout": 10}]}
    >>> batch_status(td, t0, t0 + timedelta(minutes=5), {"x-ecsctl": {"runFor": "5m"}}).last_status
    'DEACTIVATING'
    >>> batch_status(td, t0, t0 + timedelta(minutes=6)) is None
    True
    """
    run = batch_run(taskdef_spec, *overrides)
    if run is None:
        return None
    return task_phase(started_at, run, now, stop_phases(taskdef_spec, run), exiting_container(taskdef_spec, run))


# ------------------------------------------------------------------------------------ validation


def extension_issues(value: Any, taskdef_spec: Any = None) -> list[tuple[tuple, str]]:
    """What is wrong with an ``x-ecsctl`` mapping (paths inside it); with ``taskdef_spec``, also
    that ``container`` names one of its essential containers."""
    if not isinstance(value, dict):
        return [((), f"{EXTENSION} must be a mapping such as {{runFor: 10m, exitCode: 0}}")]
    issues: list[tuple[tuple, str]] = []
    for key in value:
        if key not in KEYS:
            issues.append(((key,), f"{EXTENSION} has no field {key!r} (it takes {', '.join(KEYS)})"))
    if "runFor" in value:
        try:
            parse_run_for(value["runFor"])
        except ValueError as exc:
            issues.append((("runFor",), str(exc)))
    code = value.get("exitCode", 0)
    if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code <= 255:
        issues.append((("exitCode",), f"exitCode {code!r} must be an integer 0-255 (a process exit status)"))
    name = value.get("container")
    if name is not None and taskdef_spec is not None:
        essential = [c.get("name") for c in _containers(taskdef_spec) if c.get("essential", True)]
        if name not in essential:
            issues.append((("container",), f"container {name!r} is not an essential container of the task definition "
                                           f"(essential: {', '.join(map(str, essential)) or 'none'}); "
                                           "only an essential container's exit stops the task"))
    return issues
