"""Use case: after an apply, did the world end up as asked?

``apply`` succeeds only when every step ran *and* the result is what the manifests ask for.
The steps can all commit while the world is not as asked: the deployment circuit breaker
failed a deployment (and perhaps rolled it back), a deployment is left IN_PROGRESS because its
tasks cannot be placed, or a service runs fewer tasks than it desires.  :func:`apply_outcome`
reads the state after the apply and says which; the CLI turns ``ok == False`` into exit 1
(DESIGN §8) with a last line naming each problem.

Each planned deployment is judged by the service's PRIMARY deployment
(``app.plan.deployment_outcomes``):

    completed    rolloutState COMPLETED on the planned revision
    failed       rolloutState FAILED (the circuit breaker tripped, no rollback)
    rolled-back  the PRIMARY deployment runs another revision than planned (the breaker's
                 rollback, or another deployment that replaced it)
    stalled      still IN_PROGRESS when apply finished (tasks cannot be placed or started)

and every service the plan touched (created, updated, replaced, topped up because tasks were
lost, or moved by the scheduler after another change, as the plan's forecast lists it), or
whose tasks stay PROVISIONING because a capacity provider's Auto Scaling group
cannot grow past its maxSize (the plan's capacity forecast), is checked for RUNNING tasks below
its desired count.
"""

from __future__ import annotations

from ecsctl.core.plan.model import Plan, service_key
from ecsctl.core.scaling.capacity import beyond_max_size_text

TOUCHING = ("create", "update", "replace")


def _judge(planned_to: str | None, d: dict) -> str:
    if planned_to and d["taskDefinition"] != planned_to:
        return "rolled-back"
    if d["rolloutState"] == "FAILED":
        return "failed"
    if d["rolloutState"] == "COMPLETED":
        return "completed"
    return "stalled"


def touched_services(plan: Plan) -> list[str]:
    """Service addresses the apply acted on: changed ones, those it topped up (lost tasks), and
    every one its scheduler moves or leaves short, as the plan's forecast lists them (a Cluster
    with fewer instances, a security group that fails the health checks: no Service step)."""
    changed = {c.address for c in plan.changes if c.kind == "Service" and c.action in TOUCHING}
    topped_up = {d.address for d in plan.drift if d.field == "runningCount" and d.address.startswith("service/")}
    moved = {str(p.get("address")) for p in plan.predictions if str(p.get("address", "")).startswith("service/")}
    return sorted(changed | topped_up | moved)


def _problem(d: dict) -> str:
    why = f" ({d['reason']})" if d.get("reason") else ""
    if d["result"] == "rolled-back":
        return f"deployment of {d['service']} to {d['to']} was rolled back to {d['taskDefinition']}{why}"
    if d["result"] == "failed":
        return f"deployment of {d['service']} to {d['to']} failed{why}"
    older = d.get("olderRunning") or 0
    still = f"; {older} of {d.get('from') or 'the older revisions'} still running" if older else ""
    return (f"deployment of {d['service']} to {d['to']} is stalled, {d['runningCount']} of its "
            f"{d['desiredCount']} tasks running{still}{why}")


def _reason_of(store, service: str, revision: str) -> str:
    """The rollout reason of the newest deployment of ``revision`` (the one that failed)."""
    from ecsctl.core.controller import ids
    from ecsctl.core.state.ports import Deployment

    cluster, name = service_key(service)
    every = store.find(Deployment, cluster=cluster, service=name)
    found = sorted((d for d in every if d.task_definition == revision), key=ids.deployment_order(cluster, name, len(every)))
    return found[-1].rollout_state_reason if found else ""


def _waiting(plan: Plan, below: dict) -> str:
    """Why a service's PROVISIONING tasks wait: instances managed scaling launches on the clock,
    and those an Auto Scaling group at its maxSize will never launch (the plan's capacity forecast)."""
    n = below["provisioningCount"]
    if not n:
        return ""
    capped = [c for c in plan.capacity if below["service"] in (c.get("services") or ())]
    stuck = [beyond_max_size_text(int(c["staysProvisioning"]), int(c["maxSize"]),
                                  f"the Auto Scaling group of capacityprovider/{c['capacityProvider']}") for c in capped]
    if stuck and sum(int(c["staysProvisioning"]) for c in capped) >= n:
        return f" ({n} PROVISIONING: " + "; ".join(stuck) + ")"
    clock = "managed scaling launches " + ("instances for the others" if stuck else "their instances") + " on the clock, ecsctl tick"
    return f" ({n} PROVISIONING: " + "; ".join([*stuck, clock]) + ")"


def apply_outcome(plan: Plan, store) -> dict:
    """``{"ok", "deployments": [...], "belowDesired": [...], "problems": [str]}`` after an apply.

    ``deployments``: per planned deployment, the fields of ``deployment_outcomes`` plus ``to``
    (the planned revision) and ``result`` (see the module doc).  ``belowDesired``:
    ``{"service", "runningCount", "desiredCount"}`` for each touched service short of tasks.
    """
    from ecsctl.app.plan import deployment_outcomes
    from ecsctl.core.state.ports import Service, Task

    planned = {d.get("service"): d for d in plan.deployments}
    deployments = []
    for d in deployment_outcomes(plan, store):
        to = planned.get(d["service"], {}).get("to")
        result = _judge(to, d)
        if result == "rolled-back":  # why: the planned revision's own deployment says it
            d = {**d, "reason": _reason_of(store, d["service"], to) or d["reason"]}
        elif result == "stalled":
            if not d.get("reason"):  # ECS gives no reason; the plan foresaw one
                d = {**d, "reason": planned.get(d["service"], {}).get("reason") or ""}
            cluster, name = service_key(d["service"])  # the tasks of older revisions that still serve
            running = store.count(Task, cluster=cluster, service=name, last_status="RUNNING")
            d = {**d, "olderRunning": max(0, running - d["runningCount"]),
                 "from": planned.get(d["service"], {}).get("from")}
        deployments.append({**d, "to": to, "result": result})
    below = []
    capped = {s for c in plan.capacity if c.get("staysProvisioning") for s in c.get("services") or ()}
    for addr in sorted(set(touched_services(plan)) | capped):
        cluster, name = service_key(addr)
        svc = store.get(Service, cluster, name)
        if svc is None or svc.status != "ACTIVE":
            continue
        running = store.count(Task, cluster=cluster, service=name, last_status="RUNNING")
        if running < svc.desired_count:
            waiting = store.count(Task, cluster=cluster, service=name, last_status="PROVISIONING")
            below.append({"service": addr, "runningCount": running, "desiredCount": svc.desired_count,
                          "provisioningCount": waiting})
    problems = [_problem(d) for d in deployments if d["result"] != "completed"]
    reported = {d["service"] for d in deployments if d["result"] == "stalled"}
    problems += [f"{b['service']} runs {b['runningCount']} of its {b['desiredCount']} desired tasks"
                 + _waiting(plan, b) for b in below if b["service"] not in reported]
    return {"ok": not problems, "deployments": deployments, "belowDesired": below, "problems": problems}
