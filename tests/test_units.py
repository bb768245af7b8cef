"""Parsing task-level cpu/memory, the Fargate size table and a task's resource demand."""

from __future__ import annotations

import pytest

from ecsctl.core.units import (
    FARGATE_CPU_MEMORY,
    fargate_memory_options,
    is_fargate_size,
    parse_cpu,
    parse_memory,
    task_demand,
)


@pytest.mark.parametrize(
    "value, units",
    [
        ("0.5 vCPU", 512),
        (".25 vCPU", 256),
        ("1 vcpu", 1024),
        ("2VCPU", 2048),
        ("16 vCpu", 16384),
        ("1.5 vCPU", 1536),
        ("256", 256),
        (" 4096 ", 4096),
        (1024, 1024),
        (0, 0),
    ],
)
def test_parse_cpu(value, units):
    assert parse_cpu(value) == units


@pytest.mark.parametrize(
    "value, mib",
    [("1GB", 1024), ("2 GB", 2048), ("0.5GB", 512), ("30 gb", 30720), ("512", 512), (8192, 8192), ("120 GB", 122880)],
)
def test_parse_memory(value, mib):
    assert parse_memory(value) == mib


@pytest.mark.parametrize("value", ["half", "", "1 core", "0.1 vCPU", "-256", -1, True, None, 1.5, "512 MB", "1 GB"])
def test_parse_cpu_rejects(value):
    with pytest.raises(ValueError, match="cpu"):
        parse_cpu(value)


@pytest.mark.parametrize("value", ["512MB", "", "1 GiB ish", "0.0001 GB", -5, False, None, 2.5, "1 vCPU"])
def test_parse_memory_rejects(value):
    with pytest.raises(ValueError, match="memory"):
        parse_memory(value)


@pytest.mark.parametrize(
    "cpu, memory, ok",
    [
        (256, 512, True),
        (256, 2048, True),
        (256, 3072, False),
        (512, 512, False),
        (512, 4096, True),
        (1024, 8192, True),
        (4096, 30720, True),
        (4096, 31744, False),
        (8192, 20480, True),
        (8192, 17408, False),  # 4 GB steps from 16 GB
        (16384, 40960, True),
        (16384, 36864, False),  # 8 GB steps from 32 GB
        (32768, 122880, True),  # the UNCONFIRMED 32 vCPU row is accepted
        (128, 512, False),
    ],
)
def test_fargate_sizes(cpu, memory, ok):
    assert is_fargate_size(cpu, memory) is ok


def test_fargate_table_rows():
    assert sorted(FARGATE_CPU_MEMORY) == [256, 512, 1024, 2048, 4096, 8192, 16384, 32768]
    assert fargate_memory_options(512) == (1024, 2048, 3072, 4096)
    assert fargate_memory_options(100) == ()


@pytest.mark.parametrize(
    "spec, demand",
    [
        ({"cpu": "1 vCPU", "memory": "2GB", "containerDefinitions": [{"cpu": 10, "memory": 10}]}, (1024, 2048)),
        ({"containerDefinitions": [{"cpu": 128, "memory": 512, "memoryReservation": 256}, {"memory": 128}]}, (128, 384)),
        ({"containerDefinitions": [{"memoryReservation": 64}, {"cpu": 256, "memoryReservation": 64}]}, (256, 128)),
        ({"memory": "1024", "containerDefinitions": [{"cpu": 100}, {"cpu": 28}]}, (128, 1024)),
        ({"containerDefinitions": [{"name": "no resources"}]}, (0, 0)),
        ({"containerDefinitions": [{"cpu": "256", "memory": None}]}, (0, 0)),  # wrong types count as unset
        ({}, (0, 0)),
    ],
)
def test_task_demand(spec, demand):
    assert task_demand(spec) == demand


def test_worked_examples_in_docstrings():
    import doctest

    from ecsctl.core import units
    from ecsctl.core.rules.taskdef import facts, secrets
    from ecsctl.core.scheduling import instance_types
    from ecsctl.core.state import clock

    for module in (units, facts, secrets, clock, instance_types):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
