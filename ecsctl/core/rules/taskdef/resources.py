"""CPU and memory: unit strings, and containers against the task's totals."""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import integer, is_fargate, label
from ecsctl.core.units import parse_cpu, parse_memory, try_cpu, try_memory

TD = ("TaskDefinition",)
DOCKER_MIN_MIB = 6  # Docker >= 20.10 reserves 6 MiB per container
HARD_MIN_MIB = 4  # the minimum on every Docker version (4 MiB up to 19.03.13)


@register
class TaskCpuUnits(Rule):
    """Task-level ``cpu`` is CPU units (``"256"``) or vCPU (``"0.5 vCPU"``).

    ECS converts the string to integer units at registration (1 vCPU = 1024)
    and refuses anything else with ``Invalid 'cpu' setting for task.``
    (ECS troubleshooting page ``task-cpu-memory-error``).

    Bad:   cpu: "half a core"
    Good:  cpu: "0.5 vCPU"        # or "512"
    """

    id = "E2010"
    title = "Task cpu is CPU units or vCPU"
    kinds = TD

    def check(self, spec, doc, ctx):
        value = spec.get("cpu")
        if value is None:
            return
        try:
            parse_cpu(value)
        except ValueError as exc:
            yield ("cpu",), f"Invalid 'cpu' setting for task: {exc}"


@register
class TaskMemoryUnits(Rule):
    """Task-level ``memory`` is MiB (``"512"``) or GB (``"1 GB"``, ``"1GB"``).

    ECS converts it to MiB at registration and refuses anything else.

    Bad:   memory: "512MB"
    Good:  memory: "512"          # or "0.5 GB"
    """

    id = "E2011"
    title = "Task memory is MiB or GB"
    kinds = TD

    def check(self, spec, doc, ctx):
        value = spec.get("memory")
        if value is None:
            return
        try:
            parse_memory(value)
        except ValueError as exc:
            yield ("memory",), f"Invalid 'memory' setting for task: {exc}"


@register
class ContainerCpuWithinTask(Rule):
    """The sum of container ``cpu`` values may not exceed the task's ``cpu``.

    ECS: ``The sum of all container 'cpu' values cannot be greater than the
    value of the task 'cpu'.`` (the docs say "lower than"; equal is accepted).

    Bad:   cpu: "256"   containers: [{cpu: 256}, {cpu: 128}]
    Good:  cpu: "512"   containers: [{cpu: 256}, {cpu: 128}]
    """

    id = "E2012"
    title = "Container cpu fits in the task cpu"
    kinds = TD

    def check(self, spec, doc, ctx):
        task = try_cpu(spec.get("cpu"))
        if task is None:
            return
        total = sum(integer(c.get("cpu")) or 0 for _, c in containers(spec))
        if total > task:
            yield ("cpu",), f"The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'. ({total} > {task})"


@register
class ContainerMemoryWithinTask(Rule):
    """No container's hard ``memory`` limit may exceed the task's ``memory``.

    ECS: ``The 'memory' setting for container 'NAME' is greater than for the task.``

    Bad:   memory: "512"   containers: [{name: web, memory: 1024}]
    Good:  memory: "1024"  containers: [{name: web, memory: 1024}]
    """

    id = "E2013"
    title = "Container memory fits in the task memory"
    kinds = TD

    def check(self, spec, doc, ctx):
        task = try_memory(spec.get("memory"))
        if task is None:
            return
        for i, c in containers(spec):
            memory = integer(c.get("memory"))
            if memory is not None and memory > task:
                yield ("containerDefinitions", i, "memory"), (
                    f"The 'memory' setting for container '{c.get('name', f'#{i}')}' is greater than for the task. ({memory} > {task} MiB)"
                )


@register
class ReservationsWithinTask(Rule):
    """The sum of container ``memoryReservation`` values may not exceed the task's ``memory``.

    ECS: ``The sum of all container 'memoryReservation' values cannot be
    greater than the value of the task 'memory'.`` (cloudnativedaysjp/dreamkast-infra#4766)

    Bad:   memory: "512"   containers: [{memoryReservation: 384}, {memoryReservation: 256}]
    Good:  memory: "1024"  containers: [{memoryReservation: 384}, {memoryReservation: 256}]
    """

    id = "E2014"
    title = "Memory reservations fit in the task memory"
    kinds = TD

    def check(self, spec, doc, ctx):
        task = try_memory(spec.get("memory"))
        if task is None:
            return
        total = sum(integer(c.get("memoryReservation")) or 0 for _, c in containers(spec))
        if total > task:
            yield ("memory",), (
                "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'."
                f" ({total} > {task} MiB)"
            )


@register
class MemoryAtLeastReservation(Rule):
    """A container's ``memory`` (hard limit) must be at least its ``memoryReservation``.

    The docs say "greater than"; awsdocs/amazon-ecs-developer-guide#242
    clarified "greater than or equal".

    Bad:   {memory: 256, memoryReservation: 512}
    Good:  {memory: 512, memoryReservation: 256}
    """

    id = "E2015"
    title = "memory is at least memoryReservation"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            memory, reservation = integer(c.get("memory")), integer(c.get("memoryReservation"))
            if memory is not None and reservation is not None and memory < reservation:
                yield ("containerDefinitions", i, "memoryReservation"), (
                    f"{label(i, c)}: 'memory' ({memory}) must be greater than or equal to 'memoryReservation' ({reservation})"
                )


@register
class ContainerMemoryRequired(Rule):
    """Without task-level ``memory``, every container sets ``memory`` or ``memoryReservation``.

    On EC2 the scheduler needs a memory figure for each container.  ECS:
    ``Invalid setting for container 'X'. At least one of 'memory' or
    'memoryReservation' must be specified.`` (sil-org/ecs-deploy#59).  Fargate
    definitions must set task memory anyway (E2022).

    Bad:   containerDefinitions: [{name: web, image: nginx}]
    Good:  containerDefinitions: [{name: web, image: nginx, memoryReservation: 256}]
    """

    id = "E2016"
    title = "Each container has memory when the task has none"
    kinds = TD

    def check(self, spec, doc, ctx):
        if spec.get("memory") is not None or is_fargate(spec):
            return
        for i, c in containers(spec):
            if c.get("memory") is None and c.get("memoryReservation") is None:
                name = c.get("name") if isinstance(c.get("name"), str) else f"#{i}"
                yield ("containerDefinitions", i), (
                    f"Invalid setting for container '{name}'. At least one of 'memory' or 'memoryReservation' must be specified."
                )


def _small_memory(spec, low: int, high: int):
    for i, c in containers(spec):
        for key in ("memory", "memoryReservation"):
            value = integer(c.get(key))
            if value is not None and low <= value < high:
                yield i, c, key, value


@register
class ContainerMemoryTooSmall(Rule):
    """A container's ``memory``/``memoryReservation`` below 4 MiB cannot run.

    Docker reserves at least 4 MiB (6 MiB from Docker 20.10) for a container;
    the API documents "don't specify less than" that.

    Bad:   {memory: 0}
    Good:  {memory: 128}
    """

    id = "E2017"
    title = "Container memory is at least 4 MiB"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c, key, value in _small_memory(spec, -(2**63), HARD_MIN_MIB):
            yield ("containerDefinitions", i, key), f"{label(i, c)}: '{key}' is {value} MiB; a container needs at least {HARD_MIN_MIB} MiB"


@register
class ContainerMemoryBelowDockerMinimum(Rule):
    """A container's ``memory``/``memoryReservation`` of 4 or 5 MiB is below Docker's minimum.

    Docker 20.10 and later reserve 6 MiB per container, so the container fails
    to start on current ECS-optimised AMIs and on Fargate.

    Bad:   {memory: 4}
    Good:  {memory: 6}     # realistically, much more
    """

    id = "W2018"
    title = "Container memory is at least 6 MiB"
    kinds = TD
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        for i, c, key, value in _small_memory(spec, HARD_MIN_MIB, DOCKER_MIN_MIB):
            yield ("containerDefinitions", i, key), (
                f"{label(i, c)}: '{key}' is {value} MiB; Docker 20.10 and later need at least {DOCKER_MIN_MIB} MiB"
            )
