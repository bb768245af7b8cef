"""The built-in EC2 instance-type table and what ECS registers for each type."""

import pytest

from ecsctl.core.scheduling.instance_types import (
    INSTANCE_TYPES,
    builtin_attributes,
    instance_resources,
    lookup,
    registered_memory,
)

REQUIRED = [f"t3.{s}" for s in ("micro", "small", "medium", "large", "xlarge", "2xlarge")] + [
    f"t3a.{s}" for s in ("micro", "small", "medium", "large", "xlarge", "2xlarge")
] + [f"{fam}.{s}" for fam in ("m5", "m5a", "m6i", "m6g", "m7g") for s in ("large", "xlarge", "2xlarge", "4xlarge")] + [
    f"{fam}.{s}" for fam in ("c5", "c6i", "c6g", "c7g", "r5", "r6i", "r6g") for s in ("large", "xlarge", "2xlarge", "4xlarge")
] + ["g4dn.xlarge", "p3.2xlarge"]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_types_present(name):
    assert name in INSTANCE_TYPES


@pytest.mark.parametrize("name, vcpus, physical, arch, gpu, cpu, memory", [
    ("t3.micro", 2, 1024, "x86_64", 0, 2048, 998),
    ("t3.medium", 2, 4096, "x86_64", 0, 2048, 3992),
    ("t3a.2xlarge", 8, 32768, "x86_64", 0, 8192, 31940),
    ("m4.large", 2, 8192, "x86_64", 0, 2048, 7985),  # AWS's documented example: 7985 MiB
    ("m5.large", 2, 8192, "x86_64", 0, 2048, 7985),
    ("m5.4xlarge", 16, 65536, "x86_64", 0, 16384, 63880),
    ("m6g.xlarge", 4, 16384, "arm64", 0, 4096, 15970),
    ("m7g.2xlarge", 8, 32768, "arm64", 0, 8192, 31940),
    ("c5.large", 2, 4096, "x86_64", 0, 2048, 3992),
    ("c7g.4xlarge", 16, 32768, "arm64", 0, 16384, 31940),
    ("r6i.large", 2, 16384, "x86_64", 0, 2048, 15970),
    ("r6g.4xlarge", 16, 131072, "arm64", 0, 16384, 127760),
    ("g4dn.xlarge", 4, 16384, "x86_64", 1, 4096, 15970),
    ("p3.2xlarge", 8, 62464, "x86_64", 1, 8192, 60885),
])
def test_resources(name, vcpus, physical, arch, gpu, cpu, memory):
    r = instance_resources(name)
    assert (r.vcpus, r.memory_mib_physical, r.architecture, r.gpu, r.cpu, r.memory) == (
        vcpus, physical, arch, gpu, cpu, memory)


def test_every_type_registers_less_memory_than_installed_and_1024_units_per_vcpu():
    for name in INSTANCE_TYPES:
        r = instance_resources(name)
        assert r.cpu == r.vcpus * 1024
        assert 0.97 * r.memory_mib_physical < r.memory < r.memory_mib_physical
        assert r.architecture in ("x86_64", "arm64")


def test_overrides_and_reserved_memory():
    r = instance_resources("m5.large", cpu=1000, memory=7000)
    assert (r.cpu, r.memory, r.vcpus) == (1000, 7000, 2)
    assert instance_resources("m5.large", reserved_memory=256).memory == 7985 - 256
    assert registered_memory(100, reserved_memory=1000) == 0


@pytest.mark.parametrize("bad, hint", [
    ("m5.lage", "did you mean m5.large"),
    ("t3.mirco", "did you mean t3.micro"),
    ("zz.weird", "pass cpu and memory explicitly"),
])
def test_unknown_type_is_a_key_error_with_a_hint(bad, hint):
    with pytest.raises(KeyError) as err:
        instance_resources(bad)
    assert hint in str(err.value)
    assert repr(bad) in str(err.value)


def test_lookup_tolerates_case():
    assert lookup("M5.Large").name == "m5.large"


def test_builtin_attributes():
    attrs = builtin_attributes("m6g.large", "eu-west-1b", ami_id="ami-0123456789abcdef0")
    assert attrs == {
        "ecs.ami-id": "ami-0123456789abcdef0", "ecs.availability-zone": "eu-west-1b",
        "ecs.instance-type": "m6g.large", "ecs.os-type": "linux", "ecs.os-family": "LINUX",
        "ecs.cpu-architecture": "arm64",
    }
    assert builtin_attributes("m5.large", "us-east-1a")["ecs.ami-id"].startswith("ami-")
    # a type the table does not know (sized by the manifest): its architecture comes from its name
    assert builtin_attributes("g2.2xlarge", "us-east-1a")["ecs.cpu-architecture"] == "x86_64"
    assert builtin_attributes("c8g.large", "us-east-1a")["ecs.cpu-architecture"] == "arm64"
