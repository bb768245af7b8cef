"""Tasks as ``get tasks -o json`` shows them: one row shape for ``get``, ``describe``, ``run-task``,
``tick`` and ``events put`` (a module of its own, so that none of them imports another)."""

from __future__ import annotations

from typing import Callable, Sequence


def run_lookup(store) -> Callable:
    """``task -> {"taskRoleArn", "executionRoleArn", "overrides"}``: its task definition's roles,
    or the ones its run overrode, and a rule's or run's ``overrides`` (sensitive-looking values
    masked), kept in its ``TaskRun`` sim state."""
    from ecsctl.core.plan.codec import mask_value
    from ecsctl.core.state.ports import SimState, TaskDefinitionRevision

    specs = {r.ref: r.spec for r in store.find(TaskDefinitionRevision)}
    runs = {s.name: s.data for s in store.find(SimState, kind="TaskRun")}

    def of(t) -> dict:
        spec, run = specs.get(t.task_definition) or {}, runs.get(t.id) or {}
        out = {key: run.get(key) or spec.get(key) or None for key in ("taskRoleArn", "executionRoleArn")}
        out["overrides"] = mask_value(run["overrides"]) if run.get("overrides") else None
        return out

    return of


def task_providers(store) -> dict[str, str]:
    """Task id -> the capacity provider it was started on (the simulation's record of it)."""
    from ecsctl.backends.local.capacity_providers import TASK_PROVIDER
    from ecsctl.core.state.ports import SimState

    return {s.name: str(s.data.get("capacityProvider")) for s in store.find(SimState, kind=TASK_PROVIDER)
            if s.data.get("capacityProvider")}


def task_order(t) -> tuple:
    return (t.cluster, t.group, t.created_at, t.id)


def task_row(t, capacity_provider: str | None = None, run: dict | None = None) -> dict:
    """One task as ``get tasks -o json`` shows it (``run``: from :func:`run_lookup`)."""
    return {"id": t.id, "cluster": t.cluster, "group": t.group, "taskDefinition": t.task_definition,
            "launchType": t.launch_type, "instance": t.instance_id, "availabilityZone": t.availability_zone,
            "subnet": t.subnet or None, "privateIp": t.private_ip or None, "lastStatus": t.last_status,
            "desiredStatus": t.desired_status, "stopReason": t.stop_reason or None,
            "hostPorts": list(t.host_ports), "cpu": t.cpu, "memory": t.memory, "startedAt": t.started_at or None,
            "stoppedAt": t.stopped_at or None, "stopCode": t.stop_code or None, "exitCode": t.exit_code,
            "startedBy": t.started_by or None, "capacityProvider": capacity_provider,
            **(run or {"taskRoleArn": None, "executionRoleArn": None, "overrides": None})}


def task_rows(store, ids: Sequence[str]) -> list[dict]:
    """The rows of the tasks ``ids`` (in that order; ids the state lacks are left out)."""
    from ecsctl.core.state.ports import Task

    found = [store.get(Task, i) for i in ids]
    providers = task_providers(store) if ids else {}
    runs = run_lookup(store) if ids else None
    return [task_row(t, providers.get(t.id), runs(t)) for t in found if t is not None]
