"""Events: ``ecsctl events put`` (deliver one to the simulation) and ``ecsctl get events``.

``get events`` merges, oldest first, what the simulation recorded with its times:

* ``rule`` — every firing of a ScheduledTask (``backends.local.firing``): the trigger
  (``schedule`` or ``event``), the tasks it started and every failure;
* ``task`` — the stop lifecycle of standalone tasks whose essential container exited
  (``backends.local.exits``);
* ``service`` — the services' event logs (started, stopped, unable to place, steady state …).

Rows: ``{"time", "type", "source", "cluster", "message"}`` (+ ``tasks``/``failures`` for rules).
"""

from __future__ import annotations

import json

from ecsctl.app.state import open_simulation
from ecsctl.errors import UsageError

MAX_DETAIL = 256 * 1024  # PutEvents: an entry is at most 256 KB


def event_rows(store) -> list[dict]:
    from ecsctl.backends.local.exits import LIFECYCLE
    from ecsctl.backends.local.firing import RULE_FIRING
    from ecsctl.core.state.ports import HistoryEntry, Service

    rows: list[tuple[tuple, dict]] = []
    for h in store.find(HistoryEntry, kind=RULE_FIRING):
        d = h.data
        row = {"time": d.get("time") or h.at, "type": "rule", "source": h.name, "cluster": d.get("cluster") or None,
               "message": d.get("message", ""), "trigger": d.get("trigger"), "tasks": list(d.get("tasks") or ()),
               "failures": list(d.get("failures") or ()) + list(d.get("failedToStart") or ())}
        if d.get("error"):
            row["error"] = d["error"]
        if d.get("eventId"):
            row["eventId"] = d["eventId"]
        rows.append(((row["time"], 0, h.id), row))
    for h in store.find(HistoryEntry, kind=LIFECYCLE):
        d = h.data
        message = f"task {h.name} is {d.get('status')}" + (f": {d['message']}" if d.get("message") else "")
        rows.append(((d.get("time") or h.at, 1, h.id),
                     {"time": d.get("time") or h.at, "type": "task", "source": h.name, "cluster": d.get("cluster") or None,
                      "message": message}))
    for svc in store.find(Service):
        for k, e in enumerate(store.service_events(svc.cluster, svc.name)):
            rows.append(((e.at, 2, f"{svc.cluster}/{svc.name}#{k:06d}"),
                         {"time": e.at, "type": "service", "source": f"{svc.cluster}/{svc.name}", "cluster": svc.cluster,
                          "message": e.message}))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON value")


def parse_detail(text: str) -> dict:
    if len(text) > MAX_DETAIL:
        raise UsageError(f"--detail is longer than {MAX_DETAIL} bytes (EventBridge's limit for an entry)")
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--detail is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise UsageError("--detail is nested too deeply to read") from None
    except ValueError as exc:  # NaN / Infinity, an integer of 4,300+ digits
        raise UsageError(f"--detail is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--detail must be a JSON object (EventBridge's Detail)")
    return value


def put_event(state_path: str, *, source: str, detail_type: str, detail: str = "{}",
              resources: tuple[str, ...] = ()) -> dict:
    """Deliver one event: ``{"event", "matched": [rule], "firings": [{"rule", "tasks", "failures", "error", "message"}],
    "tasks": [task rows]}``."""
    from ecsctl.app.task_rows import task_rows
    from ecsctl.backends.local import LocalBackend
    from ecsctl.backends.local.event_bus import make_event, put_event as deliver

    if not source or len(source) > 256:
        raise UsageError("--source must be 1 to 256 characters")
    if not detail_type or len(detail_type) > 128:
        raise UsageError("--detail-type must be 1 to 128 characters")
    body = parse_detail(detail)
    with open_simulation(state_path, "events put") as store:
        with store.locked(f"ecsctl events put --source {source}"):
            backend = LocalBackend(store)
            world = backend.world
            event = make_event(world, source, detail_type, body, resources=resources)
            delivery = deliver(world, event)
            backend.commit()
            ids = [t.id for f in delivery.firings for t in f.tasks]
            return {"event": event, "matched": delivery.matched,
                    "firings": [{"rule": f.rule, "tasks": [t.id for t in f.tasks], "failures": f.failures,
                                 "error": f.error or None, "message": f.message()} for f in delivery.firings],
                    "tasks": task_rows(store, ids)}


__all__ = ["event_rows", "parse_detail", "put_event"]
