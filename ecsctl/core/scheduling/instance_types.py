"""A built-in table of common EC2 instance types and the resources ECS registers for them.

CPU: ECS registers 1,024 CPU units per vCPU (ecs-semantics §4.3).

Memory: the agent registers the memory the *operating system* reports (Docker's
``ReadMemInfo()``, i.e. ``MemTotal``), minus ``ECS_RESERVED_MEMORY`` (default 0). That is less
than the advertised size because of platform overhead and kernel-held memory. AWS's worked
example: an ``m4.large`` advertised at 8 GiB (8,192 MiB) shows 8,373,026,816 bytes of total
memory on the ECS-optimized Amazon Linux AMI, "which translates to 7985 MiB available for tasks"
(AWS, *Container instance memory management* / *Reserving Amazon ECS Linux container instance
memory*, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html).

The rule used here scales that one documented data point: the kernel's share grows with the
installed memory (page tables and ``struct page`` are per page), so

    registered MiB = floor(physical MiB × 7985 / 8192) − reserved_memory

i.e. about 2.5 % less than advertised (t3.micro 998 MiB, m5.large 7,985 MiB, m5.4xlarge
63,880 MiB). Real hosts differ by a few MiB with kernel and AMI versions; pass ``memory=`` to
``instance_resources`` to model a specific one.

    >>> r = instance_resources("m5.large")
    >>> r.cpu, r.memory, r.architecture, r.memory_mib_physical
    (2048, 7985, 'x86_64', 8192)
    >>> instance_resources("m7g.xlarge", memory=15000).memory
    15000
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

CPU_UNITS_PER_VCPU = 1024
# The documented data point: 8192 MiB advertised -> 7985 MiB registered (m4.large).
REGISTERED_NUMERATOR, REGISTERED_DENOMINATOR = 7985, 8192

DEFAULT_AMI = {"x86_64": "ami-0a1b2c3d4e5f60718", "arm64": "ami-0a1b2c3d4e5f60719"}


@dataclass(frozen=True, slots=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: float
    architecture: str  # x86_64 | arm64
    gpus: int = 0
    enis: int = 0  # network interfaces EC2 attaches at most (0: not in the table)

    @property
    def task_enis(self) -> int | None:
        """awsvpc tasks an instance of this type takes without ENI trunking: one network
        interface each, all but the instance's own primary one (None: not known)."""
        return self.enis - 1 if self.enis else None


@dataclass(frozen=True, slots=True)
class InstanceResources:
    cpu: int  # CPU units ECS registers
    memory: int  # MiB ECS registers
    gpu: int
    architecture: str
    vcpus: int
    memory_mib_physical: int
    task_enis: int | None = None  # awsvpc tasks it takes (InstanceType.task_enis)


def _family(prefix: str, arch: str, gib_per_vcpu: float, sizes: dict[str, tuple[int, int]]) -> list[InstanceType]:
    return [InstanceType(f"{prefix}.{size}", v, v * gib_per_vcpu, arch, enis=enis) for size, (v, enis) in sizes.items()]


# size -> (vCPUs, network interfaces): EC2's "Maximum network interfaces" per instance type
# (EC2 User Guide, "Network interfaces per instance type"; e.g. t3.nano 2, t3.small 3,
# m5.large 3, m5.4xlarge 8, m5.16xlarge 15)
_GENERAL = {"large": (2, 3), "xlarge": (4, 4), "2xlarge": (8, 4), "4xlarge": (16, 8), "8xlarge": (32, 8),
            "12xlarge": (48, 8), "16xlarge": (64, 15)}
_C5 = {"large": (2, 3), "xlarge": (4, 4), "2xlarge": (8, 4), "4xlarge": (16, 8), "9xlarge": (36, 8),
       "12xlarge": (48, 8), "18xlarge": (72, 15)}
_BURST = {"nano": (2, 0.5, 2), "micro": (2, 1, 2), "small": (2, 2, 3), "medium": (2, 4, 3), "large": (2, 8, 3),
          "xlarge": (4, 16, 4), "2xlarge": (8, 32, 4)}


def _build() -> dict[str, InstanceType]:
    types: list[InstanceType] = []
    for prefix, arch in (("t3", "x86_64"), ("t3a", "x86_64"), ("t4g", "arm64")):
        types += [InstanceType(f"{prefix}.{size}", v, gib, arch, enis=2 if f"{prefix}.{size}" == "t3a.small" else enis)
                  for size, (v, gib, enis) in _BURST.items()]
    types += [InstanceType("t2.micro", 1, 1, "x86_64", enis=2), InstanceType("t2.small", 1, 2, "x86_64", enis=3),
              InstanceType("t2.medium", 2, 4, "x86_64", enis=3), InstanceType("t2.large", 2, 8, "x86_64", enis=3)]
    types += [InstanceType("m4.large", 2, 8, "x86_64", enis=2), InstanceType("m4.xlarge", 4, 16, "x86_64", enis=4),
              InstanceType("m4.2xlarge", 8, 32, "x86_64", enis=4), InstanceType("m4.4xlarge", 16, 64, "x86_64", enis=8)]
    for prefix in ("m5", "m5a", "m6i", "m6a", "m7i"):
        types += _family(prefix, "x86_64", 4, _GENERAL)
    for prefix in ("m6g", "m7g"):
        types += _family(prefix, "arm64", 4, _GENERAL)
    types += _family("c5", "x86_64", 2, _C5)
    for prefix in ("c6i", "c6a", "c7i"):
        types += _family(prefix, "x86_64", 2, _GENERAL)
    for prefix in ("c6g", "c7g"):
        types += _family(prefix, "arm64", 2, _GENERAL)
    for prefix in ("r5", "r5a", "r6i", "r7i"):
        types += _family(prefix, "x86_64", 8, _GENERAL)
    for prefix in ("r6g", "r7g"):
        types += _family(prefix, "arm64", 8, _GENERAL)
    types += [
        InstanceType("g4dn.xlarge", 4, 16, "x86_64", 1, 3), InstanceType("g4dn.2xlarge", 8, 32, "x86_64", 1, 3),
        InstanceType("g4dn.4xlarge", 16, 64, "x86_64", 1, 3), InstanceType("g4dn.12xlarge", 48, 192, "x86_64", 4, 8),
        InstanceType("g5.xlarge", 4, 16, "x86_64", 1, 4), InstanceType("g5.2xlarge", 8, 32, "x86_64", 1, 4),
        InstanceType("g5.12xlarge", 48, 192, "x86_64", 4, 15),
        InstanceType("p3.2xlarge", 8, 61, "x86_64", 1, 4), InstanceType("p3.8xlarge", 32, 244, "x86_64", 4, 8),
        InstanceType("p3.16xlarge", 64, 488, "x86_64", 8, 8),
    ]
    return {t.name: t for t in types}


INSTANCE_TYPES: dict[str, InstanceType] = _build()


def lookup(instance_type: str) -> InstanceType:
    """The table entry; ``KeyError`` with a did-you-mean message for an unknown type.

    >>> lookup("m5.lage")
    Traceback (most recent call last):
    ...
    KeyError: "unknown instance type 'm5.lage'; did you mean m5.large or m5a.large or m5.xlarge?"
    """
    entry = INSTANCE_TYPES.get(instance_type)
    if entry is None:
        entry = INSTANCE_TYPES.get(str(instance_type).strip().lower())
    if entry is None:
        close = difflib.get_close_matches(str(instance_type).lower(), INSTANCE_TYPES, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else \
            "; pass cpu and memory explicitly, or use one of the built-in types (e.g. m5.large)"
        raise KeyError(f"unknown instance type {instance_type!r}{hint}")
    return entry


def registered_memory(physical_mib: int, reserved_memory: int = 0) -> int:
    """MiB ECS registers for ``physical_mib`` advertised (see the module docstring).

    >>> registered_memory(8192), registered_memory(8192, reserved_memory=256)
    (7985, 7729)
    """
    return max(0, physical_mib * REGISTERED_NUMERATOR // REGISTERED_DENOMINATOR - reserved_memory)


def instance_resources(instance_type: str, cpu: int | None = None, memory: int | None = None,
                       *, reserved_memory: int = 0) -> InstanceResources:
    """What a container instance of ``instance_type`` registers; ``cpu``/``memory`` override.

    A type the table does not know is accepted when both ``cpu`` and ``memory`` are given (any
    real type, e.g. ``g2.2xlarge`` from the Cluster Query Language documentation); its
    architecture is read from the name (:func:`architecture_of`).

    >>> instance_resources("g2.2xlarge", cpu=8192, memory=15000).architecture
    'x86_64'
    """
    try:
        t = lookup(instance_type)
    except KeyError:
        if cpu is None or memory is None:
            raise
        return InstanceResources(cpu=int(cpu), memory=int(memory), gpu=0,
                                 architecture=architecture_of(instance_type),
                                 vcpus=max(1, int(cpu) // CPU_UNITS_PER_VCPU), memory_mib_physical=int(memory))
    physical = int(round(t.memory_gib * 1024))
    return InstanceResources(
        cpu=t.vcpus * CPU_UNITS_PER_VCPU if cpu is None else int(cpu),
        memory=registered_memory(physical, reserved_memory) if memory is None else int(memory),
        gpu=t.gpus,
        architecture=t.architecture,
        vcpus=t.vcpus,
        memory_mib_physical=physical,
        task_enis=t.task_enis,
    )


def builtin_attributes(instance_type: str, availability_zone: str, ami_id: str | None = None,
                       *, os_type: str = "linux") -> dict[str, str]:
    """The ``ecs.*`` attributes ECS sets on a container instance (ecs-semantics §3.3).

    >>> builtin_attributes("c7g.large", "eu-west-1a")["ecs.cpu-architecture"]
    'arm64'
    """
    known = INSTANCE_TYPES.get(instance_type) or INSTANCE_TYPES.get(str(instance_type).strip().lower())
    arch = known.architecture if known is not None else architecture_of(instance_type)
    return {
        "ecs.ami-id": ami_id or DEFAULT_AMI[arch],
        "ecs.availability-zone": availability_zone,
        "ecs.instance-type": known.name if known is not None else str(instance_type),
        "ecs.os-type": os_type,
        "ecs.os-family": "LINUX" if os_type == "linux" else "WINDOWS_SERVER_2022_FULL",
        "ecs.cpu-architecture": arch,
    }


_GRAVITON = re.compile(r"^[a-z]+[0-9]+g")


def architecture_of(instance_type: str) -> str:
    """``arm64`` for AWS Graviton families (a ``g`` right after the generation: m6g, c7gn, t4g,
    and a1), else ``x86_64``.

    >>> [architecture_of(t) for t in ("m7g.large", "g4dn.xlarge", "a1.medium", "g2.2xlarge")]
    ['arm64', 'x86_64', 'arm64', 'x86_64']
    """
    name = str(instance_type).strip().lower()
    return "arm64" if _GRAVITON.match(name) or name.startswith("a1.") else "x86_64"


# the attribute ECS sets on a container instance with ENI trunking (awsvpcTrunking): it takes many
# more awsvpc tasks than its network interfaces, which ecsctl does not model
TRUNK_ATTRIBUTE = "ecs.awsvpc-trunk-id"


def task_enis(instance_type: str) -> int | None:
    """awsvpc tasks a container instance of ``instance_type`` takes, without ENI trunking (None:
    a type the table does not size, given ``cpu`` and ``memory`` in the manifest: no limit).

    >>> task_enis("m5.large"), task_enis("m5.16xlarge"), task_enis("g2.2xlarge")
    (2, 14, None)
    """
    found = INSTANCE_TYPES.get(instance_type) or INSTANCE_TYPES.get(str(instance_type).strip().lower())
    return found.task_enis if found is not None else None


def is_known(instance_type: str) -> bool:
    """Whether the built-in table sizes ``instance_type`` (else the manifest must give cpu and memory)."""
    return instance_type in INSTANCE_TYPES or str(instance_type).strip().lower() in INSTANCE_TYPES
