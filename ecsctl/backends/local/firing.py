"""A ScheduledTask rule's firing: its ECS target run as RunTask, and the record of it.

Both triggers go through here — a schedule coming due on the clock (``schedules``) and an
event matching the rule's pattern (``event_bus``).  The target (``cluster``,
``taskDefinition``, ``taskCount``, ``launchType`` or ``capacityProviderStrategy``,
``networkConfiguration``, ``group``, ``placementConstraints``/``placementStrategy``,
``overrides``, ``tags``, ``x-ecsctl``) becomes a :class:`tasks.RunTaskRequest`, so the tasks
are placed by the very scheduler ``run-task`` and services use; they start with
``startedBy`` ``events-rule/<rule>``, as EventBridge's do.  For an event, the target's
``inputTransformer`` turns the event into container overrides (``core.events.transform``)
merged onto the static ``overrides``.

Every firing is a ``RuleFiring`` history entry (name: the rule) with the trigger, the
scheduled time or the event id, the tasks started and every failure: tasks that could not be
placed (RunTask's ``failures``: ``RESOURCE:MEMORY`` …), tasks that failed at start (an image
no repository holds, a secret that does not exist …), and a RunTask the simulation refused
outright (bad network configuration, an unknown cluster or task definition, no container
instance) — EventBridge records those as failed invocations; here the firing says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecsctl.backends.local import tasks
from ecsctl.backends.local.world import STOPPED, World
from ecsctl.core.events.transform import TransformError, ecs_overrides, transform_input
from ecsctl.errors import InputError, UsageError

RULE_FIRING = "RuleFiring"  # history kind, name: the rule
STARTED_BY_PREFIX = "events-rule/"


@dataclass
class Firing:
    rule: str
    trigger: str  # "schedule" | "event"
    time: str
    tasks: list = field(default_factory=list)  # Task records (started, or failed at start)
    failures: list[dict] = field(default_factory=list)  # {"reason", "detail"}
    error: str = ""
    event_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.failures and all(t.last_status != STOPPED for t in self.tasks)

    def record(self) -> dict:
        data = {"rule": self.rule, "trigger": self.trigger, "time": self.time,
                "tasks": [t.id for t in self.tasks], "cluster": self.tasks[0].cluster if self.tasks else "",
                "failures": list(self.failures), "error": self.error}
        if self.event_id:
            data["eventId"] = self.event_id
        failed = [t for t in self.tasks if t.last_status == STOPPED]
        if failed:
            data["failedToStart"] = [{"task": t.id, "reason": t.stop_reason} for t in failed]
        data["message"] = self.message()
        return data

    def message(self) -> str:
        what = f"rule ({self.rule}) fired ({self.trigger})"
        if self.error:
            return f"{what}: RunTask failed: {self.error}"
        started = [t for t in self.tasks if t.last_status != STOPPED]
        parts = [f"{what}: started {len(started)} task(s)" + (f": {tasks_text(started)}" if started else "")]
        failed = [t for t in self.tasks if t.last_status == STOPPED]
        if failed:
            parts.append(f"{len(failed)} failed to start: {failed[0].stop_reason}")
        if self.failures:
            parts.append(f"{len(self.failures)} not placed: {self.failures[0]['reason']}")
        return "; ".join(parts) + "."


def tasks_text(found) -> str:
    return " ".join(f"(task {t.id})" for t in found)


def request_of(rule: str, target: dict, overrides: dict | None) -> tasks.RunTaskRequest:
    """The RunTask call of a rule's ECS target."""
    awsvpc = ((target.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {})
    count = target.get("taskCount", 1)
    return tasks.RunTaskRequest(
        cluster=str(target.get("cluster") or "default"),
        task_definition=str(target.get("taskDefinition") or ""),
        count=count if isinstance(count, int) else 1,
        group=target.get("group"),
        launch_type=target.get("launchType"),
        capacity_provider_strategy=tuple(target.get("capacityProviderStrategy") or ()),
        constraints=tuple(target.get("placementConstraints") or ()),
        strategies=list(target.get("placementStrategy") or ()) or None,
        subnets=tuple(str(s) for s in awsvpc.get("subnets") or ()),
        overrides=overrides or None,
        tags=tuple(target.get("tags") or ()),
        started_by=STARTED_BY_PREFIX + rule,
        batch=target.get("x-ecsctl") or None,
    )


def fire(world: World, rule: str, spec: dict, *, trigger: str, event: dict | None = None) -> Firing:
    """Run the rule's target now (the clock's time) and record the firing."""
    target = spec.get("target") or {}
    firing = Firing(rule, trigger, world.now(), event_id=str((event or {}).get("id") or ""))
    try:
        overrides = target.get("overrides") or None
        if event is not None and target.get("inputTransformer"):
            transformed = transform_input(target["inputTransformer"], event, rule_name=rule,
                                          ingestion_time=firing.time)
            overrides = ecs_overrides(transformed, overrides)
        result = tasks.run_task(world, request_of(rule, target, overrides))
        firing.tasks = list(result.tasks)
        firing.failures = [{"reason": f["reason"], "detail": f["detail"]} for f in result.failures]
    except (InputError, UsageError, TransformError) as exc:
        firing.error = str(exc)
    world.append_history(RULE_FIRING, rule, firing.record())
    return firing


__all__ = ["RULE_FIRING", "STARTED_BY_PREFIX", "Firing", "fire", "request_of"]
