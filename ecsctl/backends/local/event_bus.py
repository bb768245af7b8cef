"""Events delivered to the simulation's event bus: every matching ``eventPattern`` rule fires.

:func:`put_event` builds the event EventBridge would deliver (PutEvents' ``Source``,
``DetailType``, ``Detail``, ``Resources``, stamped with an ``id``, the simulation's clock as
``time``, and the account and region) and matches it against the ``eventPattern`` of every
ENABLED ``ScheduledTask`` (``core.events.pattern.matches``: exact values, prefix, suffix,
anything-but, numeric, exists, equals-ignore-case, wildcard, ``$or``, nested fields).  Each
matching rule fires once (``firing.fire``), its input transformer turning the event into the
task's container overrides.  The event's id is derived from the clock and a counter, so a
run is reproducible.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ecsctl.backends.local import firing
from ecsctl.backends.local.world import World
from ecsctl.core.events import rule_state
from ecsctl.core.events.pattern import PatternError, matches
from ecsctl.core.state.ports import SimState

EVENT_COUNTER = "EventBus"  # sim state kind/name: how many events were put (for their ids)
ACCOUNT = "123456789012"
REGION = "eu-west-1"


@dataclass
class Delivery:
    event: dict
    matched: list[str] = field(default_factory=list)
    firings: list[firing.Firing] = field(default_factory=list)


def make_event(world: World, source: str, detail_type: str, detail: dict, *, resources=(),
               account: str = ACCOUNT, region: str = REGION) -> dict:
    state = world.sim_state(EVENT_COUNTER, "default")
    count = int((state.data if state is not None else {}).get("events", 0)) + 1
    world.put_sim_state(SimState(EVENT_COUNTER, "default", {"events": count}))
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecsctl-event/{world.now()}/{count}"))
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": source, "account": account,
            "time": world.now(), "region": region, "resources": list(resources), "detail": detail}


def put_event(world: World, event: dict) -> Delivery:
    """Deliver ``event``: every ENABLED ScheduledTask whose pattern matches fires, in name order."""
    delivery = Delivery(event)
    for name, entry in world.catalogue("ScheduledTask").items():
        spec = entry.spec or {}
        pattern = spec.get("eventPattern")
        if not isinstance(pattern, dict) or not rule_state.enabled(spec):
            continue
        try:
            hit = matches(pattern, event)
        except PatternError:  # validation refuses such a pattern
            hit = False
        if hit:
            delivery.matched.append(name)
            delivery.firings.append(firing.fire(world, name, spec, trigger="event", event=event))
    return delivery


__all__ = ["ACCOUNT", "REGION", "Delivery", "make_event", "put_event"]
