"""awsvpc networking of the local simulation: subnet blocks, the subnet of an AZ, IP allocation."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import pytest

from ecsctl.backends.local import check_invariants
from ecsctl.backends.local.world import FIRST_HOST, LAST_HOST, World, subnet_block
from ecsctl.core.controller.zones import subnet_for_zone
from ecsctl.core.state import Task, TaskDefinitionRevision
from ecsctl.errors import InputError
from ecsctl.storage.sqlite_store import SqliteStateStore


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStateStore(tmp_path / "state.db")
    s.insert(TaskDefinitionRevision("web", 1, spec={}))  # the revision the tasks below run
    yield s
    s.close()


_n = iter(range(1, 1_000_000))


def task(subnet: str, ip: str, status: str = "RUNNING", az: str = "eu-west-1a") -> Task:
    return Task(id=f"t-{next(_n)}", cluster="prod", group="family:web", task_definition="web:1",
                last_status=status, desired_status="STOPPED" if status == "STOPPED" else "RUNNING",
                launch_type="FARGATE", availability_zone=az, subnet=subnet, private_ip=ip)


def offset(subnet: str, ip: str) -> int:
    return int(ipaddress.IPv4Address(ip)) - int(subnet_block(subnet).network_address)


def test_subnet_blocks_are_stable_slash_20s_in_ten_slash_8() -> None:
    blocks = {s: subnet_block(s) for s in ("subnet-1", "subnet-2", "subnet-0a1b2c3d4e5f")}
    for subnet, block in blocks.items():
        assert block == subnet_block(subnet)  # a function of the id alone
        assert block.prefixlen == 20 and block.subnet_of(ipaddress.IPv4Network("10.0.0.0/8"))
        assert block.network_address.packed[2] % 16 == 0
    assert len(set(blocks.values())) == 3


@pytest.mark.parametrize("az, subnet", [
    ("eu-west-1a", "subnet-1"), ("eu-west-1b", "subnet-2"), ("eu-west-1c", "subnet-3"),
    ("eu-west-1d", "subnet-1"),  # an AZ no subnet maps to: the first subnet
])
def test_the_subnet_of_an_az_follows_the_sorted_mapping(az: str, subnet: str) -> None:
    azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert subnet_for_zone(["subnet-3", "subnet-1", "subnet-2"], azs, az) == subnet
    assert subnet_for_zone([], azs, az) == ""


def test_allocation_hands_out_the_lowest_free_address(store) -> None:
    world = World(store)
    got = [world.allocate_ip("subnet-1") for _ in range(5)]
    # .0 network and the three AWS-reserved addresses are skipped
    assert [offset("subnet-1", ip) for ip in got] == [4, 5, 6, 7, 8]
    assert all(ipaddress.IPv4Address(ip) in subnet_block("subnet-1") for ip in got)
    # another subnet has its own addresses
    other = world.allocate_ip("subnet-2")
    assert offset("subnet-2", other) == 4 and ipaddress.IPv4Address(other) in subnet_block("subnet-2")


def test_addresses_held_in_the_state_are_not_handed_out_again(store) -> None:
    block = int(subnet_block("subnet-1").network_address)
    for off in (4, 5, 7):
        store.insert(task("subnet-1", str(ipaddress.IPv4Address(block + off))))
    store.insert(task("subnet-1", str(ipaddress.IPv4Address(block + 6)), status="STOPPED"))  # holds nothing
    world = World(store)
    assert [offset("subnet-1", world.allocate_ip("subnet-1")) for _ in range(3)] == [6, 8, 9]


def test_a_released_address_is_the_lowest_free_again(store) -> None:
    world = World(store)
    ips = [world.allocate_ip("subnet-1") for _ in range(3)]
    world.release_ip("subnet-1", ips[1])
    assert world.allocate_ip("subnet-1") == ips[1]
    world.release_ip("subnet-1", ips[0])
    assert world.allocate_ip("subnet-1") == ips[0]
    assert offset("subnet-1", world.allocate_ip("subnet-1")) == 7


def test_a_full_subnet_is_an_error(store) -> None:
    base = int(subnet_block("subnet-1").network_address)
    with store.transaction():
        for off in range(FIRST_HOST, LAST_HOST + 1):
            store.insert(task("subnet-1", str(ipaddress.IPv4Address(base + off))))
    with pytest.raises(InputError, match="no free IP address"):
        World(store).allocate_ip("subnet-1")


def test_invariants_catch_a_shared_address(store) -> None:
    ip = World(store).allocate_ip("subnet-1")
    store.insert(task("subnet-1", ip))
    store.insert(task("subnet-1", ip))
    store.insert(task("subnet-1", ip, status="STOPPED"))  # a stopped task holds nothing
    store.insert(task("subnet-2", str(subnet_block("subnet-2").network_address + 4)))
    problems = check_invariants(store)
    assert problems == [f"subnet subnet-1: IP {ip} held by 2 live tasks"]


def test_invariants_catch_an_address_outside_its_subnet(store) -> None:
    outside = str(subnet_block("subnet-2").network_address + 4)
    if ipaddress.IPv4Address(outside) in subnet_block("subnet-1"):  # pragma: no cover
        pytest.skip("the two blocks collide")
    store.insert(task("subnet-1", outside))
    store.insert(task("", "10.0.0.9"))
    problems = check_invariants(store)
    assert len(problems) == 2
    assert "outside subnet subnet-1" in problems[0] or "outside subnet subnet-1" in problems[1]
    assert any("without a subnet" in p for p in problems)
