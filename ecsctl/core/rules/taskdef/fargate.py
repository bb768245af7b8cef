"""What a Fargate-compatible task definition (requiresCompatibilities has FARGATE) must and must not say.

The forbidden-parameter list is the 2023 Developer Guide's (``AWS_Fargate.md``);
later platform versions relaxed some of it, so a strict local validator uses it.
"""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import dicts, integer, is_fargate, is_windows, label
from ecsctl.core.units import FARGATE_WINDOWS_CPU, fargate_memory_options, is_fargate_size, try_cpu, try_memory

TD = ("TaskDefinition",)
FARGATE_LOG_DRIVERS = ("awslogs", "splunk", "awsfirelens")
FARGATE_MAX_STOP_TIMEOUT = 120
EPHEMERAL_MIN_GIB, EPHEMERAL_MAX_GIB = 21, 200

# Container fields Fargate refuses when set to something (an empty list or false is harmless).
# (systemControls were on the 2023 guide's list: Fargate takes them since platform version 1.4.0,
# the API's SystemControl says, Linux only)
FORBIDDEN_CONTAINER_FIELDS = ("disableNetworking", "dnsSearchDomains", "dnsServers", "dockerSecurityOptions",
                              "extraHosts", "links", "privileged")
FORBIDDEN_LINUX_PARAMETERS = ("maxSwap", "swappiness", "devices", "sharedMemorySize", "tmpfs")
ALLOWED_FARGATE_CAPABILITIES = frozenset({"SYS_PTRACE"})


def _set(value) -> bool:
    return value is not None and value is not False and value != [] and value != {}


@register
class FargateNetworkMode(Rule):
    """Fargate tasks use the ``awsvpc`` network mode, and it must be written.

    ECS: ``Fargate only supports network mode ‘awsvpc’.`` (aws/amazon-ecs-cli#1145;
    cfn-lint requires NetworkMode awsvpc with FARGATE).

    Bad:   requiresCompatibilities: [FARGATE]   networkMode: bridge   # or omitted
    Good:  requiresCompatibilities: [FARGATE]   networkMode: awsvpc
    """

    id = "E2020"
    title = "Fargate needs networkMode awsvpc"
    kinds = TD

    def check(self, spec, doc, ctx):
        if is_fargate(spec) and spec.get("networkMode") != "awsvpc":
            where = ("networkMode",) if "networkMode" in spec else ("requiresCompatibilities",)
            yield where, "Fargate only supports network mode ‘awsvpc’."


@register
class FargateTaskCpu(Rule):
    """Fargate needs task-level ``cpu``.

    ECS: ``Fargate requires that 'cpu' be defined at the task level.``

    Bad:   requiresCompatibilities: [FARGATE]   (no cpu)
    Good:  requiresCompatibilities: [FARGATE]   cpu: "256"
    """

    id = "E2021"
    title = "Fargate needs task cpu"
    kinds = TD

    def check(self, spec, doc, ctx):
        if is_fargate(spec) and spec.get("cpu") is None:
            yield ("requiresCompatibilities",), "Fargate requires that 'cpu' be defined at the task level."


@register
class FargateTaskMemory(Rule):
    """Fargate needs task-level ``memory``.

    ECS: ``Fargate requires that 'memory' be defined at the task level.``

    Bad:   requiresCompatibilities: [FARGATE]   cpu: "256"   (no memory)
    Good:  requiresCompatibilities: [FARGATE]   cpu: "256"   memory: "512"
    """

    id = "E2022"
    title = "Fargate needs task memory"
    kinds = TD

    def check(self, spec, doc, ctx):
        if is_fargate(spec) and spec.get("memory") is None:
            yield ("requiresCompatibilities",), "Fargate requires that 'memory' be defined at the task level."


@register
class FargateSize(Rule):
    """Task cpu and memory must be one of Fargate's sizes.

    256 units: 512/1024/2048 MiB; 512: 1-4 GB; 1024: 2-8 GB; 2048: 4-16 GB;
    4096: 8-30 GB (1 GB steps); 8192: 16-60 GB (4 GB steps); 16384: 32-120 GB
    (8 GB steps).  ECS: ``No Fargate configuration exists for given values:
    512 CPU, 512 memory. See the Amazon ECS documentation for the valid
    values.`` (cfn-lint has the same check as E3047).

    Bad:   cpu: "512"   memory: "512"
    Good:  cpu: "512"   memory: "1024"
    """

    id = "E2023"
    title = "Fargate cpu/memory is a valid pair"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec):
            return
        cpu, memory = try_cpu(spec.get("cpu")), try_memory(spec.get("memory"))
        if cpu is None or memory is None or is_fargate_size(cpu, memory):
            return
        options = fargate_memory_options(cpu)
        hint = f" (with {cpu} CPU: {', '.join(map(str, options))})" if options else " (cpu must be 256, 512, 1024, 2048, 4096, 8192 or 16384)"
        yield ("memory",), (
            f"No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
            f"See the Amazon ECS documentation for the valid values.{hint}"
        )


@register
class FargateWindowsCpu(Rule):
    """Windows containers on Fargate need at least 1 vCPU (1024, 2048 or 4096 units).

    Source: 2023 guide ``AWS_Fargate.md``.

    Bad:   runtimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2019_CORE}   cpu: "512"
    Good:  runtimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2019_CORE}   cpu: "1024"
    """

    id = "E2024"
    title = "Windows on Fargate needs at least 1 vCPU"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not (is_fargate(spec) and is_windows(spec)):
            return
        cpu = try_cpu(spec.get("cpu"))
        if cpu is not None and cpu not in FARGATE_WINDOWS_CPU:
            yield ("cpu",), f"Windows tasks on Fargate need cpu 1024, 2048 or 4096 (at least 1 vCPU), not {cpu}"


@register
class FargateTaskFields(Rule):
    """Fargate refuses ``ipcMode``, ``pidMode`` (other than ``task``) and ``placementConstraints``.

    ECS: ``Tasks using the Fargate launch type do not support ipcMode.``
    (2023 guide ``AWS_Fargate.md``; cfn-lint forbids PlacementConstraints with
    FARGATE.  ``pidMode: task`` is allowed on platform version 1.4.0.)

    Bad:   requiresCompatibilities: [FARGATE]   ipcMode: host
    Good:  requiresCompatibilities: [FARGATE]   pidMode: task
    """

    id = "E2025"
    title = "Fargate refuses ipcMode, pidMode host and placementConstraints"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec):
            return
        if _set(spec.get("ipcMode")):
            yield ("ipcMode",), "Tasks using the Fargate launch type do not support ipcMode."
        pid = spec.get("pidMode")
        if _set(pid) and pid != "task":
            yield ("pidMode",), f"Tasks using the Fargate launch type do not support pidMode '{pid}' (only 'task')."
        if _set(spec.get("placementConstraints")):
            yield ("placementConstraints",), "Tasks using the Fargate launch type do not support placementConstraints."


@register
class FargateContainerFields(Rule):
    """Fargate refuses several container parameters.

    Not supported on Fargate (2023 guide ``AWS_Fargate.md``): ``disableNetworking``,
    ``dnsSearchDomains``, ``dnsServers``, ``dockerSecurityOptions``,
    ``extraHosts``, ``links``, ``privileged`` (the guide listed ``systemControls``
    too, which Fargate takes on Linux since platform version 1.4.0), and in
    ``linuxParameters``: ``maxSwap``, ``swappiness``, ``devices``,
    ``sharedMemorySize``, ``tmpfs`` and ``capabilities.add`` (except
    ``SYS_PTRACE``).  Empty lists and ``false`` are tolerated.

    Bad:   {name: web, privileged: true}
    Good:  {name: web, linuxParameters: {capabilities: {add: [SYS_PTRACE]}}}
    """

    id = "E2026"
    title = "Fargate refuses some container parameters"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec):
            return
        for i, c in containers(spec):
            who = label(i, c)
            for key in FORBIDDEN_CONTAINER_FIELDS:
                if _set(c.get(key)):
                    yield ("containerDefinitions", i, key), f"{who}: Tasks using the Fargate launch type do not support {key}."
            linux = c.get("linuxParameters")
            if not isinstance(linux, dict):
                continue
            for key in FORBIDDEN_LINUX_PARAMETERS:
                if _set(linux.get(key)):
                    yield ("containerDefinitions", i, "linuxParameters", key), (
                        f"{who}: Tasks using the Fargate launch type do not support linuxParameters.{key}."
                    )
            caps = linux.get("capabilities")
            added = caps.get("add") if isinstance(caps, dict) else None
            if isinstance(added, list):
                extra = [a for a in added if a not in ALLOWED_FARGATE_CAPABILITIES]
                if extra:
                    yield ("containerDefinitions", i, "linuxParameters", "capabilities", "add"), (
                        f"{who}: Fargate only allows adding the SYS_PTRACE capability, not {', '.join(map(str, extra))}"
                    )


@register
class FargateGpu(Rule):
    """Fargate has no GPUs: ``resourceRequirements`` of type ``GPU`` are refused.

    Source: 2023 guide ``AWS_Fargate.md`` (``gpu`` is an invalid parameter).

    Bad:   resourceRequirements: [{type: GPU, value: "1"}]    # on FARGATE
    Good:  requiresCompatibilities: [EC2]                      # GPU instances
    """

    id = "E2027"
    title = "No GPUs on Fargate"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec):
            return
        for i, c in containers(spec):
            for j, r in dicts(c, "resourceRequirements"):
                if r.get("type") == "GPU":
                    yield ("containerDefinitions", i, "resourceRequirements", j), f"{label(i, c)}: Tasks using the Fargate launch type do not support GPU resources."


@register
class FargateVolumes(Rule):
    """Fargate volumes cannot be Docker volumes or bind mounts with a host ``sourcePath``.

    ECS: ``host.sourcePath should not be set for volumes in Fargate.``
    (aws/amazon-ecs-cli#501).  Fargate bind mounts live in the task's ephemeral
    storage; Docker volume plugins exist only on EC2.

    Bad:   volumes: [{name: data, host: {sourcePath: /data}}]
    Good:  volumes: [{name: data}]          # or an efsVolumeConfiguration
    """

    id = "E2028"
    title = "Fargate volumes have no sourcePath or dockerVolumeConfiguration"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec):
            return
        for j, v in dicts(spec, "volumes"):
            host = v.get("host")
            if isinstance(host, dict) and _set(host.get("sourcePath")):
                yield ("volumes", j, "host", "sourcePath"), "host.sourcePath should not be set for volumes in Fargate."
            if _set(v.get("dockerVolumeConfiguration")):
                yield ("volumes", j, "dockerVolumeConfiguration"), (
                    f"volume '{v.get('name')}': Tasks using the Fargate launch type do not support dockerVolumeConfiguration."
                )


@register
class FargateLogDriver(Rule):
    """On Fargate the log driver is ``awslogs``, ``splunk`` or ``awsfirelens``.

    Source: 2023 guide ``task_definition_parameters.md``; cfn-lint
    ``fargate_properties.json``.

    Bad:   logConfiguration: {logDriver: json-file}     # on FARGATE
    Good:  logConfiguration: {logDriver: awslogs, options: {...}}
    """

    id = "E2029"
    title = "Fargate log drivers are awslogs, splunk or awsfirelens"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec):
            return
        for i, c in containers(spec):
            log = c.get("logConfiguration")
            driver = log.get("logDriver") if isinstance(log, dict) else None
            if isinstance(driver, str) and driver not in FARGATE_LOG_DRIVERS:
                yield ("containerDefinitions", i, "logConfiguration", "logDriver"), (
                    f"{label(i, c)}: log driver '{driver}' is not supported on Fargate (use awslogs, splunk or awsfirelens)"
                )


@register
class FargateStopTimeout(Rule):
    """On Fargate ``stopTimeout`` is at most 120 seconds (default 30).

    Source: API ``ContainerDefinition.stopTimeout``.

    Bad:   {stopTimeout: 300}     # on FARGATE
    Good:  {stopTimeout: 120}
    """

    id = "E2030"
    title = "Fargate stopTimeout is at most 120 s"
    kinds = TD

    def check(self, spec, doc, ctx):
        if not is_fargate(spec):
            return
        for i, c in containers(spec):
            value = integer(c.get("stopTimeout"))
            if value is not None and value > FARGATE_MAX_STOP_TIMEOUT:
                yield ("containerDefinitions", i, "stopTimeout"), (
                    f"{label(i, c)}: stopTimeout {value} exceeds the Fargate maximum of {FARGATE_MAX_STOP_TIMEOUT} seconds"
                )


@register
class EphemeralStorageOutsideFargate(Rule):
    """``ephemeralStorage`` only has an effect on Fargate.

    On EC2 the task's scratch space is the instance's disk; ECS ignores the
    setting there.

    Bad:   requiresCompatibilities: [EC2]   ephemeralStorage: {sizeInGiB: 50}
    Good:  requiresCompatibilities: [FARGATE]   ephemeralStorage: {sizeInGiB: 50}
    """

    id = "W2031"
    title = "ephemeralStorage is for Fargate"
    kinds = TD
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        if _set(spec.get("ephemeralStorage")) and not is_fargate(spec):
            yield ("ephemeralStorage",), "ephemeralStorage only applies to Fargate tasks; EC2 tasks use the instance's storage"


@register
class EphemeralStorageSize(Rule):
    """``ephemeralStorage.sizeInGiB`` is 21 to 200 GiB.

    Source: API ``EphemeralStorage`` (some CloudFormation pages say 20).

    Bad:   ephemeralStorage: {sizeInGiB: 11}
    Good:  ephemeralStorage: {sizeInGiB: 21}
    """

    id = "E2032"
    title = "ephemeralStorage is 21-200 GiB"
    kinds = TD

    def check(self, spec, doc, ctx):
        storage = spec.get("ephemeralStorage")
        size = integer(storage.get("sizeInGiB")) if isinstance(storage, dict) else None
        if size is not None and not EPHEMERAL_MIN_GIB <= size <= EPHEMERAL_MAX_GIB:
            yield ("ephemeralStorage", "sizeInGiB"), (
                f"ephemeralStorage.sizeInGiB {size} is outside {EPHEMERAL_MIN_GIB}-{EPHEMERAL_MAX_GIB}"
            )
