"""RunTask's overrides size the tasks they start: the overridden task or container cpu and
memory are what the scheduler reserves on an instance and gives back when the task stops
(ECS: "cpu/memory ... overrides" of TaskOverride and ContainerOverride, RunTask API)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecsctl.backends.local import LocalBackend, check_invariants
from ecsctl.backends.local.tasks import RunTaskRequest, run_task
from ecsctl.core.state import ContainerInstance
from ecsctl.errors import InputError
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import create

BIG = {"family": "big", "networkMode": "bridge",
       "containerDefinitions": [{"name": "app", "image": "busybox", "cpu": 1800, "memory": 1024}]}


@pytest.fixture
def store(tmp_path):
    s = SqliteStateStore(tmp_path / "state.db")
    create(LocalBackend(s), ("Cluster", "prod", {"containerInstances": [
        {"name": "g", "count": 2, "instanceType": "m5.large", "availabilityZone": "eu-west-1a"}]}), ("TaskDefinition", "big", BIG))
    yield s
    s.close()


def run(store, overrides=None, count=4):
    backend = LocalBackend(store)
    result = run_task(backend.world, RunTaskRequest(cluster="prod", task_definition="big", count=count,
                                                    overrides=overrides, batch={"runFor": 60}))
    backend.commit()
    return result


@pytest.mark.parametrize("overrides, placed, cpu, memory", [
    (None, 2, 1800, 1024),                                                     # 1800 of an m5.large's 2048: one each
    ({"containerOverrides": [{"name": "app", "cpu": 100}]}, 4, 100, 1024),     # the container's cpu overridden
    ({"cpu": "512", "memory": "512"}, 4, 512, 512),                            # the task's size overridden
    ({"containerOverrides": [{"name": "app", "command": ["true"]}]}, 2, 1800, 1024),  # sizes nothing
])
def test_overrides_size_the_tasks_they_start(store, overrides, placed, cpu, memory):
    result = run(store, overrides)
    assert len(result.tasks) == placed and len(result.failures) == 4 - placed
    assert {(t.cpu, t.memory) for t in result.tasks} == {(cpu, memory)}
    instances = {i.id: i for i in store.find(ContainerInstance)}
    used = sum(i.registered_cpu for i in instances.values()) - sum(i.remaining_cpu for i in instances.values())
    assert used == placed * cpu
    assert check_invariants(store) == []
    LocalBackend(store).tick(timedelta(minutes=5))  # the batch tasks finish and give everything back
    assert check_invariants(store) == []
    assert all(i.remaining_cpu == i.registered_cpu and i.remaining_memory == i.registered_memory
               for i in store.find(ContainerInstance))
    assert len(run(store, overrides).tasks) == placed  # nothing leaked: the same fits again


def test_an_override_of_a_container_the_definition_lacks_is_refused(store):
    with pytest.raises(InputError, match="^Override for container named nope is not a container in the TaskDefinition.$"):
        run(store, {"containerOverrides": [{"name": "nope", "cpu": 1}]})


@pytest.mark.parametrize("overrides, refused", [
    ({"memory": "4096"}, "256 CPU, 4096 memory"),  # 256 CPU offers 512, 1024 and 2048 MiB
    ({"cpu": "1024", "memory": "512"}, "1024 CPU, 512 memory"),  # 1 vCPU needs 2 to 8 GB
    ({"cpu": "1024", "memory": "4096"}, None),
    ({"containerOverrides": [{"name": "app", "memory": 4096}]}, None),  # the task's size still holds
])
def test_a_fargate_size_override_must_be_a_fargate_size(tmp_path, overrides, refused):
    with SqliteStateStore(tmp_path / "state.db") as s:
        create(LocalBackend(s), ("Cluster", "prod", {}), ("TaskDefinition", "small", {
            "family": "small", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "containerDefinitions": [{"name": "app", "image": "busybox"}]}))
        request = RunTaskRequest(cluster="prod", task_definition="small", launch_type="FARGATE", subnets=["subnet-1"],
                                 overrides=overrides, batch={"runFor": 60})
        if refused is None:
            assert len(run_task(LocalBackend(s).world, request).tasks) == 1
            return
        with pytest.raises(InputError, match=f"^overrides: No Fargate configuration exists for given values: {refused}. "):
            run_task(LocalBackend(s).world, request)


@pytest.mark.parametrize("gpus, placed", [(None, 4), ("2", 2), ("4", 1)])
def test_a_gpu_override_sizes_the_tasks_it_starts(tmp_path, gpus, placed):
    """A g4dn.12xlarge has 4 GPUs; each task of the definition asks for 1 unless its container's
    ``resourceRequirements`` override asks for more (ContainerOverride: "The only supported resource is a GPU")."""
    with SqliteStateStore(tmp_path / "state.db") as s:
        create(LocalBackend(s), ("Cluster", "gpu", {"containerInstances": [
            {"name": "g", "count": 1, "instanceType": "g4dn.12xlarge", "availabilityZone": "eu-west-1a"}]}),
            ("TaskDefinition", "train", {"family": "train", "networkMode": "bridge", "containerDefinitions": [
                {"name": "app", "image": "busybox", "memory": 512, "resourceRequirements": [{"type": "GPU", "value": "1"}]}]}))
        overrides = {"containerOverrides": [{"name": "app", "resourceRequirements": [{"type": "GPU", "value": gpus}]}]} if gpus else None
        backend = LocalBackend(s)
        result = run_task(backend.world, RunTaskRequest(cluster="gpu", task_definition="train", count=4,
                                                        overrides=overrides, batch={"runFor": 60}))
        backend.commit()
        assert len(result.tasks) == placed
        assert {f["reason"] for f in result.failures} == ({"RESOURCE:GPU"} if placed < 4 else set())
        # a later run (a new process: the placer is rebuilt from the state) sees the GPUs held
        backend = LocalBackend(s)
        assert run_task(backend.world, RunTaskRequest(cluster="gpu", task_definition="train", count=1)).failures
        backend.tick(timedelta(minutes=5))  # the batch tasks finish and give their GPUs back
        result = run_task(LocalBackend(s).world, RunTaskRequest(cluster="gpu", task_definition="train", count=4,
                                                                overrides=overrides, batch={"runFor": 60}))
        assert len(result.tasks) == placed
