"""Task-level CPU and memory: parsing ECS's unit strings and the Fargate size table.

ECS accepts the task-level ``cpu`` as CPU units or vCPU, and ``memory`` as
MiB or GB, and stores integers (1 vCPU = 1024 units, 1 GB = 1024 MiB):

    >>> parse_cpu("0.5 vCPU"), parse_cpu("256"), parse_cpu(1024), parse_cpu("2 vcpu")
    (512, 256, 1024, 2048)
    >>> parse_memory("1GB"), parse_memory("2 GB"), parse_memory("512"), parse_memory("0.5GB")
    (1024, 2048, 512, 512)

Source: ecs-semantics.md §1.1 and §1.3 (cfn-lint accepts ``<n> vCPU`` case-insensitively
and ``<n> GB``); the resource demand of a task is §2.2.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

VCPU = 1024  # CPU units per vCPU
GIB = 1024  # MiB per GB as ECS counts it

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_INT_RE = re.compile(r"^\s*(\d+)\s*$")
_VCPU_RE = re.compile(rf"^\s*{_NUMBER}\s*vcpu\s*$", re.IGNORECASE)
_GB_RE = re.compile(rf"^\s*{_NUMBER}\s*gb\s*$", re.IGNORECASE)

# Fargate task sizes: cpu units -> allowed task memory (MiB).  ecs-semantics.md §1.3.
FARGATE_CPU_MEMORY: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: frozenset(range(1024, 4097, 1024)),
    1024: frozenset(range(2048, 8193, 1024)),
    2048: frozenset(range(4096, 16385, 1024)),
    4096: frozenset(range(8192, 30721, 1024)),
    8192: frozenset(range(16384, 61441, 4096)),  # Linux platform version >= 1.4.0
    16384: frozenset(range(32768, 122881, 8192)),  # Linux platform version >= 1.4.0
    # UNCONFIRMED: only in cfn-lint's fargate_cpu_memory.json, not in the AWS docs read;
    # accepted so that a definition cfn-lint passes is not refused here.
    32768: frozenset({61440, 122880, 249856}),
}

# Windows containers on Fargate need at least 1 vCPU (and only the 1, 2 and 4 vCPU rows exist).
FARGATE_WINDOWS_CPU = frozenset({1024, 2048, 4096})


def _scaled(text: str, number: str, factor: int, what: str) -> int:
    value = float(number) * factor
    if value != int(value):
        raise ValueError(f"{what} {text!r} is not a whole number of units")
    return int(value)


def parse_cpu(value: Any) -> int:
    """CPU units from an integer, a digit string or ``"<n> vCPU"``.

    >>> parse_cpu(".25 vCPU")
    256
    >>> parse_cpu("1 VCPU")
    1024
    """
    if isinstance(value, bool):
        raise ValueError(f"cpu {value!r} is not a number of CPU units or '<n> vCPU'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"cpu {value} must not be negative")
        return value
    if isinstance(value, str):
        if m := _INT_RE.match(value):
            return int(m.group(1))
        if m := _VCPU_RE.match(value):
            return _scaled(value, m.group(1), VCPU, "cpu")
    raise ValueError(f"cpu {value!r} is not a number of CPU units (e.g. '256') or vCPU (e.g. '0.5 vCPU')")


def parse_memory(value: Any) -> int:
    """MiB from an integer, a digit string or ``"<n> GB"`` / ``"<n>GB"``.

    >>> parse_memory("3 gb")
    3072
    """
    if isinstance(value, bool):
        raise ValueError(f"memory {value!r} is not a number of MiB or '<n> GB'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"memory {value} must not be negative")
        return value
    if isinstance(value, str):
        if m := _INT_RE.match(value):
            return int(m.group(1))
        if m := _GB_RE.match(value):
            return _scaled(value, m.group(1), GIB, "memory")
    raise ValueError(f"memory {value!r} is not a number of MiB (e.g. '512') or GB (e.g. '1 GB')")


def try_cpu(value: Any) -> int | None:
    """``parse_cpu`` that answers None for absent or unparseable values."""
    if value is None:
        return None
    try:
        return parse_cpu(value)
    except ValueError:
        return None


def try_memory(value: Any) -> int | None:
    """``parse_memory`` that answers None for absent or unparseable values."""
    if value is None:
        return None
    try:
        return parse_memory(value)
    except ValueError:
        return None


def fargate_memory_options(cpu: int) -> tuple[int, ...]:
    """The task memory sizes Fargate offers for ``cpu`` units, ascending (empty if none).

    >>> fargate_memory_options(256)
    (512, 1024, 2048)
    """
    return tuple(sorted(FARGATE_CPU_MEMORY.get(cpu, ())))


def is_fargate_size(cpu: int, memory: int) -> bool:
    """Whether (cpu units, memory MiB) is a Fargate task size.

    >>> is_fargate_size(512, 1024), is_fargate_size(512, 512)
    (True, False)
    """
    return memory in FARGATE_CPU_MEMORY.get(cpu, ())


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _containers(spec: Any) -> Iterable[dict]:
    items = spec.get("containerDefinitions") if isinstance(spec, dict) else None
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def task_demand(spec: Any) -> tuple[int, int]:
    """(cpu units, memory MiB) a task of this definition needs from an instance.

    memory = task-level memory if set, else the sum over containers of
    memoryReservation if set else memory; cpu = task-level cpu if set, else the
    sum of container cpu (ecs-semantics.md §2.2).

    >>> task_demand({"cpu": "1 vCPU", "memory": "2GB", "containerDefinitions": []})
    (1024, 2048)
    >>> task_demand({"containerDefinitions": [{"cpu": 128, "memory": 512, "memoryReservation": 256}, {"memory": 128}]})
    (128, 384)
    """
    cpu = try_cpu(spec.get("cpu")) if isinstance(spec, dict) else None
    memory = try_memory(spec.get("memory")) if isinstance(spec, dict) else None
    items = _containers(spec)
    if cpu is None:
        cpu = sum(_int(c.get("cpu")) for c in items)
    if memory is None:
        memory = 0
        for c in items:
            reservation = c.get("memoryReservation")
            memory += _int(reservation) if reservation is not None else _int(c.get("memory"))
    return cpu, memory


SIZE_OVERRIDES = ("cpu", "memory", "memoryReservation")


def overridden(spec: dict, overrides: Any) -> dict:
    """A task definition spec as RunTask's ``overrides`` size one task of it: the task-level
    ``cpu``/``memory`` and each named container's ``cpu``, ``memory``, ``memoryReservation``
    and GPU ``resourceRequirements`` (ContainerOverride: "The only supported resource is a GPU")
    replace the definition's.

    >>> td = {"containerDefinitions": [{"name": "app", "cpu": 1800, "memory": 4096}]}
    >>> task_demand(overridden(td, {"containerOverrides": [{"name": "app", "cpu": 100, "memory": 512}]}))
    (100, 512)
    >>> task_demand(overridden(td, {"cpu": "512", "memory": "1024"}))
    (512, 1024)
    >>> task_demand(overridden(td, {"containerOverrides": [{"name": "app", "cpu": "100"}]}))  # from a template
    (100, 4096)
    >>> overridden({"containerDefinitions": [{"name": "app", "resourceRequirements": [{"type": "GPU", "value": "1"}]}]},
    ...            {"containerOverrides": [{"name": "app", "resourceRequirements": [{"type": "GPU", "value": "2"}]}]})
    {'containerDefinitions': [{'name': 'app', 'resourceRequirements': [{'type': 'GPU', 'value': '2'}]}]}
    """
    sized = isinstance(overrides, dict) and (
        any(overrides.get(k) is not None for k in ("cpu", "memory"))
        or any(isinstance(o, dict) and o.get(k) is not None
               for o in overrides.get("containerOverrides") or () for k in (*SIZE_OVERRIDES, "resourceRequirements")))
    if not sized:
        return spec  # the same object: the definition's own demand applies
    out = dict(spec)
    for key in ("cpu", "memory"):
        if overrides.get(key) is not None:
            out[key] = str(overrides[key])
    by_name = {o.get("name"): o for o in overrides.get("containerOverrides") or () if isinstance(o, dict)}
    if by_name:
        out["containerDefinitions"] = [
            {**c, **{k: _whole(o[k]) for k in SIZE_OVERRIDES if o.get(k) is not None}, **_gpus(c, o)}
            for c in _containers(spec) for o in [by_name.get(c.get("name"), {})]]
    return out


def _gpus(container: dict, override: dict) -> dict:
    """The container's ``resourceRequirements`` with an override's GPUs in place of its own."""
    given = override.get("resourceRequirements")
    if not isinstance(given, list):
        return {}
    kept = [r for r in container.get("resourceRequirements") or () if not _is_gpu(r)]
    return {"resourceRequirements": kept + [r for r in given if _is_gpu(r)]}


def _is_gpu(requirement: Any) -> bool:
    return isinstance(requirement, dict) and requirement.get("type") == "GPU"  # the enum's spelling


def _whole(value: Any) -> Any:
    """An override's number as an integer: an input transformer's template gives ``"100"``."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def unknown_override_containers(spec: dict, overrides: Any) -> list[str]:
    """The names ``overrides.containerOverrides`` gives that are no container of the definition
    (RunTask: "Override for container named X is not a container in the TaskDefinition.")."""
    if not isinstance(overrides, dict):
        return []
    names = {c.get("name") for c in _containers(spec)}
    return [str(o["name"]) for o in overrides.get("containerOverrides") or ()
            if isinstance(o, dict) and isinstance(o.get("name"), str) and o["name"] not in names]


def fargate_override_error(spec: dict, overrides: Any) -> str | None:
    """RunTask's refusal of a task-level ``cpu``/``memory`` override that leaves a Fargate task
    no Fargate size (None: not overridden, or a size Fargate offers).

    >>> td = {"cpu": "256", "memory": "512", "containerDefinitions": []}
    >>> fargate_override_error(td, {"memory": "1024"}) is None
    True
    >>> fargate_override_error(td, {"memory": "4096"})
    'No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values.'
    """
    if not isinstance(overrides, dict) or all(overrides.get(k) is None for k in ("cpu", "memory")):
        return None
    sized = overridden(spec, overrides)
    cpu, memory = try_cpu(sized.get("cpu")), try_memory(sized.get("memory"))
    if cpu is not None and memory is not None and is_fargate_size(cpu, memory):
        return None
    shown = [v if v is not None else sized.get(k) for k, v in (("cpu", cpu), ("memory", memory))]
    return (f"No Fargate configuration exists for given values: {shown[0]} CPU, {shown[1]} memory. "
            f"See the Amazon ECS documentation for the valid values.")
