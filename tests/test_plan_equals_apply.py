"""Property: the plan is what apply will do.

For generated stacks and generated changes (image bumps, desired counts, instance counts,
constraints, tight capacity shared by several services, a new service beside a redeploy, tasks
stopped and instances drained, terminated or deregistered behind the manifests' back), the
plan's forecast of what each service runs after apply (tasks per revision), and each
deployment's last step, equal what apply then produces.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsctl.app.outcome import apply_outcome
from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
from ecsctl.backends.local import LocalBackend, check_invariants, lifecycle
from ecsctl.backends.local.tasks import stop_task
from ecsctl.core.state.ports import ContainerInstance, Service, Task
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import doc, stack, write_stack

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _apply(directory: Path, store):
    plan = make_plan(read_manifests([str(directory)]), store)
    apply_plan(plan, store, backend_for(store))
    return plan


def _running(store) -> dict[str, dict[str, int]]:
    out: dict[str, Counter] = {}
    for t in store.find(Task, last_status="RUNNING"):
        if t.service:
            out.setdefault(f"service/{t.cluster}/{t.service}", Counter())[t.task_definition] += 1
    return {k: dict(v) for k, v in out.items()}


def _mutate(docs: list[dict], rng: random.Random) -> list[dict]:
    """Changes a reviewer would plan: new images, desired counts, instance counts, constraints,
    placement, deployment bounds, a new service."""
    out = copy.deepcopy(docs)
    for d in out:
        spec = d["spec"]
        if d["kind"] == "TaskDefinition" and rng.random() < 0.5:
            for c in spec["containerDefinitions"]:
                c["image"] = c["image"].rsplit(":", 1)[0] + f":next{rng.randint(0, 9)}"
                if "memory" in c and rng.random() < 0.5:  # bigger tasks: services compete for room
                    c["memory"] = rng.choice((1024, 2048, 3072))
        elif d["kind"] == "Service":
            if rng.random() < 0.4:
                spec["desiredCount"] = rng.randint(0, 8)
            if rng.random() < 0.3:
                spec["deploymentConfiguration"] = {"minimumHealthyPercent": rng.choice((0, 50, 100)),
                                                   "maximumPercent": rng.choice((100, 150, 200))}
            if spec.get("launchType") == "EC2" and rng.random() < 0.2:
                spec["placementConstraints"] = [{"type": "memberOf", "expression": "attribute:tier == general"}]
            if spec.get("launchType") == "EC2" and rng.random() < 0.2:
                spec["placementStrategy"] = [{"type": "binpack", "field": "memory"}]
        elif d["kind"] == "Cluster" and rng.random() < 0.4:
            for group in spec["containerInstances"]:
                group["count"] = max(0, group["count"] + rng.choice((-1, 0, 1)))
    if rng.random() < 0.5:  # a new service beside the redeploys, competing for the same room
        name = f"new{rng.randint(0, 99):02d}"
        out.append(doc("TaskDefinition", name, {"requiresCompatibilities": ["EC2"], "networkMode": "bridge",
                                               "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "cpu": 256,
                                                                         "memory": rng.choice((512, 1024, 2048)),
                                                                         "portMappings": [{"containerPort": 8000, "hostPort": 0}]}]}))
        out.append(doc("Service", name, {"cluster": "prod", "taskDefinition": name, "desiredCount": rng.randint(1, 6),
                                         "launchType": "EC2"}))
    return out


def _disrupt(store, rng: random.Random) -> None:
    """What happens behind the manifests' back: a task stopped by hand, an instance drained,
    terminated (running or stopped) or deregistered (the plan's cluster update replaces it)."""
    backend = LocalBackend(store)
    running = store.find(Task, last_status="RUNNING")
    for t in rng.sample(running, min(len(running), rng.randint(0, 2))):
        stop_task(backend.world, t.id, "by hand")
    backend.commit()
    active = [i for i in store.find(ContainerInstance) if i.status == "ACTIVE"]
    if active and rng.random() < 0.6:
        inst = rng.choice(active)
        for action in rng.choice((("drain",), ("drain",), ("terminate",), ("stop", "terminate"), ("deregister",))):
            lifecycle.run(backend.world, action, backend.world.state(inst.cluster).instances[inst.id])
        backend.commit()  # not yet settled: the next plan forecasts the moves


@SETTINGS
@given(seed=st.integers(0, 100_000), groups=st.integers(1, 3), per_group=st.integers(1, 3),
       services=st.integers(1, 5), max_desired=st.integers(1, 8), disrupt=st.booleans())
def test_the_plans_forecast_is_what_apply_does(seed, groups, per_group, services, max_desired, disrupt):
    rng = random.Random(seed)
    docs = stack(seed=seed, groups=groups, per_group=per_group, services=services, max_desired=max_desired)
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_stack(Path(tmp) / "m", docs)
        with SqliteStateStore(Path(tmp) / "state.db") as store:
            _apply(directory, store)
            if disrupt:
                _disrupt(store, rng)
            write_stack(directory, _mutate(docs, rng))
            plan = make_plan(read_manifests([str(directory)]), store)
            # apply on its own: the simulation run again against the state (as for a saved plan),
            # not the plan's recorded run (which test_replaying_the_plans_run_is_applying_it compares)
            apply_plan(dataclasses.replace(plan, recording=None), store, backend_for(store))
            assert check_invariants(store) == []
            after = _running(store)
            for p in plan.predictions:
                assert after.get(p["address"], {}) == p["tasks"], p["address"]
                svc = store.get(Service, *p["address"].split("/")[1:])
                assert svc.running_count == p["placeable"] and svc.desired_count == p["wanted"]
            for d in plan.deployments:
                live = after.get(d["service"], {})
                if d["steps"]:
                    last = d["steps"][-1]
                    if not last.get("rollback"):
                        assert live.get(d["to"], 0) == last["newRunning"], d
            # each deployment ends as the plan said (the words of app.outcome for the same ends)
            judged = {d["service"]: d["result"] for d in apply_outcome(plan, store)["deployments"]}
            for d in plan.deployments:
                said = "rolled-back" if d.get("rolledBackTo") else {"complete": "completed"}.get(d["outcome"], d["outcome"])
                assert judged.get(d["service"]) == said, (d, judged)
            # and apply then plan is empty, with nothing left for the scheduler to do
            again = make_plan(read_manifests([str(directory)]), store)
            assert not again.has_changes and again.reconcile == []


@SETTINGS
@given(seed=st.integers(0, 100_000), services=st.integers(1, 5), disrupt=st.booleans())
def test_replaying_the_plans_run_is_applying_it(seed, services, disrupt):
    """apply_plan commits the units the plan's own run recorded; the state that leaves is the one
    a second, independent run of the simulation against the state leaves (record for record)."""
    rng = random.Random(seed)
    docs = stack(seed=seed, groups=2, per_group=2, services=services, max_desired=6)
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_stack(Path(tmp) / "m", docs)
        first, second = Path(tmp) / "a.db", Path(tmp) / "b.db"
        with SqliteStateStore(first) as store:
            _apply(directory, store)
            if disrupt:
                _disrupt(store, rng)
        shutil.copy(first, second)
        write_stack(directory, _mutate(docs, rng))
        exports = []
        for path, replayed in ((first, True), (second, False)):
            with SqliteStateStore(path) as store:
                plan = make_plan(read_manifests([str(directory)]), store)
                assert plan.recording is not None
                apply_plan(plan if replayed else dataclasses.replace(plan, recording=None), store, backend_for(store))
                exports.append(store.export())
        assert exports[0] == exports[1]
