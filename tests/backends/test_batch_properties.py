"""Properties of batch tasks on the clock: whatever runs and ticks, the state's invariants hold,
each task stops exactly when its run time and the stop phases say, and nothing leaks."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local.tasks import RunTaskRequest, run_task
from ecsctl.core.state.clock import parse_clock
from ecsctl.core.state import ContainerInstance, Task
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import create

JOB = {"family": "job", "networkMode": "bridge",
       "containerDefinitions": [{"name": "j", "image": "j:1", "cpu": 256, "memory": 256,
                                 "portMappings": [{"containerPort": 80, "hostPort": 0}]}]}
# bridge, one container alone: DEACTIVATING 5 s + STOPPING 5 s + DEPROVISIONING 5 s
STOP_PHASES = timedelta(seconds=15)

runs = st.lists(st.tuples(st.integers(0, 5 * 60),  # runFor, seconds
                          st.integers(0, 255),      # exit code
                          st.integers(0, 10 * 60)),  # tick after starting it, seconds
                min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs)
def test_batch_tasks_stop_on_time_and_give_everything_back(plan):
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStateStore(Path(tmp) / "state.db")
        try:
            create(LocalBackend(store), ("Cluster", "prod", {"containerInstances": [
                {"name": "g", "count": 2, "instanceType": "m5.large", "availabilityZone": "eu-west-1a"}]}),
                ("TaskDefinition", "job", JOB))
            registered = {i.id: (i.registered_cpu, i.registered_memory, i.reserved_ports, 0)
                          for i in store.find(ContainerInstance)}
            expected: dict[str, tuple] = {}
            for run_for, code, wait in plan:
                backend = LocalBackend(store)
                result = run_task(backend.world, RunTaskRequest(cluster="prod", task_definition="job",
                                                                batch={"runFor": run_for, "exitCode": code}))
                backend.commit()
                for t in result.tasks:
                    expected[t.id] = (parse_clock(t.started_at) + timedelta(seconds=run_for) + STOP_PHASES, code)
                LocalBackend(store).tick(timedelta(seconds=wait))
                assert check_invariants(store) == []
                now = parse_clock(store.clock())
                for task_id, (stops_at, exit_code) in expected.items():
                    t = store.get(Task, task_id)
                    if t.last_status == "STOPPED":
                        assert parse_clock(t.stopped_at) == stops_at and t.exit_code == exit_code
                        assert stops_at <= now
                    else:  # still on its way: its stop moment is later than the clock's last whole minute
                        assert stops_at > now.replace(second=0) - timedelta(minutes=1)
            LocalBackend(store).tick(timedelta(minutes=10))
            assert all(store.get(Task, i).last_status == "STOPPED" for i in expected)
            assert {i.id: (i.remaining_cpu, i.remaining_memory, i.reserved_ports, i.running_tasks_count)
                    for i in store.find(ContainerInstance)} == registered
            assert check_invariants(store) == []
        finally:
            store.close()
