"""Task placement (DESIGN §7, ecs-semantics §2): worked examples and properties."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.placement import (
    EPHEMERAL_RANGE,
    MAX_RESERVED_PORTS,
    RESERVED_PORTS,
    Node,
    Placed,
    Placer,
    PortNeed,
    TaskDemand,
    Unplaced,
    _StopChooser,
    node_from_instance,
    task_definition_constraints,
)
from ecsctl.core.state.ports import ContainerInstance, Task

AZS = ("us-east-1a", "us-east-1b", "us-east-1c")
ZONE = {"type": "spread", "field": "attribute:ecs.availability-zone"}
INST = {"type": "spread", "field": "instanceId"}
BIN_MEM = {"type": "binpack", "field": "memory"}
BIN_CPU = {"type": "binpack", "field": "cpu"}
RANDOM = {"type": "random"}


def node(nid: str, az: str = "us-east-1a", cpu: int = 4096, mem: int = 8192, itype: str = "m5.large", **kw) -> Node:
    extra = kw.pop("attrs", {})
    attrs = {"ecs.availability-zone": az, "ecs.instance-type": itype, "ecs.os-type": "linux",
             "ecs.cpu-architecture": "x86_64", "ecs.ami-id": "ami-0abc", **extra}
    return Node(nid, az, attrs, cpu, mem, **kw)


def ids(results) -> list[str | None]:
    return [r.instance_id if isinstance(r, Placed) else None for r in results]


SMALL = TaskDemand(256, 512)


# --- the demand of a task definition -------------------------------------------------------


@pytest.mark.parametrize("spec, expected", [
    ({"containerDefinitions": [{"name": "a", "cpu": 128, "memory": 256,
                                "portMappings": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0},
                                                 {"containerPort": 82, "hostPort": 8082}]}]},
     TaskDemand(128, 256, 0, (PortNeed(80, 0), PortNeed(81, 0), PortNeed(82, 8082)), "bridge")),
    ({"networkMode": "host", "cpu": "1 vCPU", "memory": "2GB",
      "containerDefinitions": [{"name": "a", "portMappings": [{"containerPort": 53, "protocol": "udp"}]}]},
     TaskDemand(1024, 2048, 0, (PortNeed(53, 53, "udp"),), "host")),
    ({"networkMode": "awsvpc", "cpu": "256", "memory": "512",
      "containerDefinitions": [{"name": "a", "portMappings": [{"containerPort": 8080}]}]},
     TaskDemand(256, 512, 0, (PortNeed(8080, 8080),), "awsvpc")),
    ({"containerDefinitions": [{"name": "a", "memoryReservation": 100, "memory": 300,
                                "resourceRequirements": [{"type": "GPU", "value": "2"}]},
                               {"name": "b", "memory": 50}]},
     TaskDemand(0, 150, 2, (), "bridge")),
    ({"networkMode": "bridge", "containerDefinitions": [
        {"name": "a", "memory": 64, "portMappings": [{"containerPortRange": "7000-7002"}]}]},
     TaskDemand(0, 64, 0, (PortNeed(7000, 0), PortNeed(7001, 0), PortNeed(7002, 0)), "bridge")),
    ({"networkMode": "none", "containerDefinitions": [{"name": "a", "memory": 64, "portMappings": [{"containerPort": 1}]}]},
     TaskDemand(0, 64, 0, (), "none")),
    ({"requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.19"}],
      "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
      "containerDefinitions": [{"name": "a", "memory": 64}]},
     TaskDemand(0, 64, 0, (), "bridge", (("com.amazonaws.ecs.capability.docker-remote-api.1.19", None),
                                         ("ecs.cpu-architecture", "arm64"), ("ecs.os-type", "linux")))),
])
def test_demand_from_task_definition(spec, expected):
    assert TaskDemand.from_task_definition(spec) == expected


def test_task_definition_constraints():
    spec = {"placementConstraints": [{"type": "memberOf", "expression": "attribute:stack == prod"}, {"type": "x"}]}
    assert task_definition_constraints(spec) == [{"type": "memberOf", "expression": "attribute:stack == prod"}]


# --- strategies ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy, demand, remaining, expected", [
    # binpack memory: least remaining memory that still fits
    (BIN_MEM, TaskDemand(256, 1024), {"a": (4096, 8192), "b": (4096, 2048), "c": (4096, 1024), "d": (4096, 512)}, "c"),
    # binpack cpu: least remaining cpu that still fits, memory irrelevant
    (BIN_CPU, TaskDemand(512, 256), {"a": (4096, 100_000), "b": (600, 300), "c": (512, 256), "d": (400, 9000)}, "c"),
    (BIN_CPU, TaskDemand(512, 256), {"a": (4096, 100_000), "b": (600, 300), "c": (2048, 256)}, "b"),
    # ties in binpack go to the lowest id
    (BIN_MEM, TaskDemand(256, 512), {"z": (4096, 1024), "y": (4096, 1024), "x": (4096, 4096)}, "y"),
    # spread instanceId without tasks: lowest id
    (INST, SMALL, {"b": (4096, 8192), "a": (4096, 8192)}, "a"),
])
def test_binpack_and_tie_examples(strategy, demand, remaining, expected):
    nodes = [node(k, cpu=c, mem=m) for k, (c, m) in remaining.items()]
    assert Placer(nodes).place(demand, group="g", strategies=[strategy]).instance_id == expected


def test_binpack_fills_one_instance_before_the_next():
    placer = Placer([node("a"), node("b"), node("c")])
    got = ids(placer.place_many(TaskDemand(1024, 2048), 8, group="g", strategies=[BIN_MEM]))
    assert got == ["a"] * 4 + ["b"] * 4


def test_default_spreads_over_zones_then_instances():
    nodes = [node(f"ci-{k}", AZS[k % 3]) for k in range(6)]  # ci-0,3 in a; ci-1,4 in b; ci-2,5 in c
    placer = Placer(nodes)
    got = ids(placer.place_many(SMALL, 7, group="service:web"))
    assert got == ["ci-0", "ci-1", "ci-2", "ci-3", "ci-4", "ci-5", "ci-0"]


def test_default_counts_tasks_per_zone_not_per_instance():
    # zone a already has 2 tasks of the group (on one instance): b and c come first
    nodes = [node("a1", AZS[0], groups=Counter({"service:web": 2}), running_tasks=2),
             node("a2", AZS[0]), node("b1", AZS[1]), node("c1", AZS[2])]
    got = ids(Placer(nodes).place_many(SMALL, 5, group="service:web"))
    assert got == ["b1", "c1", "b1", "c1", "a2"]  # zones a, b, c end with 2 tasks each, then a2 (0 on it)


def test_spread_on_a_custom_attribute():
    nodes = [node("n1", attrs={"rack": "r1"}), node("n2", attrs={"rack": "r1"}), node("n3", attrs={"rack": "r2"}),
             node("n4", attrs={"rack": "r3"}), node("n5", attrs={"rack": "r3"})]
    placer = Placer(nodes)
    strat = [{"type": "spread", "field": "attribute:rack"}, BIN_MEM]
    got = ids(placer.place_many(SMALL, 6, group="g", strategies=strat))
    # one per rack, then binpack within the rack (the instance already used has less memory left)
    assert got == ["n1", "n3", "n4", "n1", "n3", "n4"]


def test_spread_zone_then_binpack_memory():
    nodes = [node("a1", AZS[0], mem=4096), node("a2", AZS[0], mem=2048),
             node("b1", AZS[1], mem=8192), node("b2", AZS[1], mem=1024)]
    got = ids(Placer(nodes).place_many(TaskDemand(256, 1024), 6, group="g", strategies=[ZONE, BIN_MEM]))
    # zones tie at 0: binpack over both (b2); then zone a (a2); tie again: a2 has least left; …
    assert got == ["b2", "a2", "a2", "b1", "a1", "b1"]


def test_binpack_then_spread_instance():
    nodes = [node("a", mem=2048), node("b", mem=2048, groups=Counter({"g": 1}), running_tasks=1), node("c", mem=4096)]
    got = Placer(nodes).place(SMALL, group="g", strategies=[BIN_MEM, INST])
    assert got.instance_id == "a"  # a and b tie on memory; a has fewer tasks of g


def test_random_is_reproducible_with_a_seed():
    def run(seed):
        nodes = [node(f"n{k}", AZS[k % 3]) for k in range(12)]
        return ids(Placer(nodes, seed=seed).place_many(SMALL, 20, group="g", strategies=[RANDOM]))

    assert run(7) == run(7)
    assert len({tuple(run(s)) for s in range(5)}) > 1
    assert set(run(3)) <= {f"n{k}" for k in range(12)}


def test_random_after_spread_stays_in_the_emptiest_zone():
    nodes = [node(f"n{k}", AZS[k % 3]) for k in range(9)]
    placer = Placer(nodes, seed=1)
    got = ids(placer.place_many(SMALL, 3, group="g", strategies=[ZONE, RANDOM]))
    assert sorted(placer.node(i).availability_zone for i in got) == list(AZS)


def test_bad_strategy_and_constraint_types():
    placer = Placer([node("a")])
    with pytest.raises(ValueError, match="binpack field"):
        placer.place(SMALL, group="g", strategies=[{"type": "binpack", "field": "disk"}])
    with pytest.raises(ValueError, match="spread field"):
        placer.place(SMALL, group="g", strategies=[{"type": "spread", "field": "zone"}])
    with pytest.raises(ValueError, match="unknown placement strategy"):
        placer.place(SMALL, group="g", strategies=[{"type": "pack"}])
    with pytest.raises(ValueError, match="unknown placement constraint"):
        placer.place(SMALL, group="g", constraints=[{"type": "sameInstance"}])


# --- constraints --------------------------------------------------------------------------


def test_distinct_instance_never_doubles_up():
    placer = Placer([node("a"), node("b"), node("c")])
    got = placer.place_many(SMALL, 4, group="g", constraints=[{"type": "distinctInstance"}], strategies=[BIN_MEM])
    assert ids(got)[:3] == ["a", "b", "c"]
    assert isinstance(got[3], Unplaced) and got[3].reason == "DISTINCT_INSTANCE"
    assert "DistinctInstance placement constraint unsatisfied" in got[3].message
    # another group may still use the same instances
    assert placer.place(SMALL, group="h", constraints=[{"type": "distinctInstance"}]).instance_id == "a"


@pytest.mark.parametrize("expression, expected", [
    ("attribute:stack == prod", ["p1", "p2", "p1"]),
    ("attribute:ecs.instance-type =~ c5.*", ["c1", "c1", "c1"]),
    ("attribute:ecs.instance-type in [m5.large, c5.large] and attribute:stack != prod", ["c1", "c1", "c1"]),
    ("attribute:gpu exists", [None, None, None]),
])
def test_member_of_attributes(expression, expected):
    nodes = [node("p1", AZS[0], attrs={"stack": "prod"}), node("p2", AZS[1], attrs={"stack": "prod"}),
             node("c1", AZS[2], itype="c5.large", attrs={"stack": "dev"})]
    got = Placer(nodes).place_many(SMALL, 3, group="g", constraints=[{"type": "memberOf", "expression": expression}])
    assert ids(got) == expected


def test_member_of_task_group_affinity_and_anti_affinity_follow_new_placements():
    placer = Placer([node("a", AZS[0]), node("b", AZS[1]), node("c", AZS[2])])
    affinity = [{"type": "memberOf", "expression": "task:group == service:db"}]
    anti = [{"type": "memberOf", "expression": "not(task:group == service:db)"}]
    first = placer.place(SMALL, group="service:web", constraints=affinity)
    assert isinstance(first, Unplaced) and first.reason == "MemberOf placement constraint unsatisfied"
    assert 'MemberOf placement constraint unsatisfied' in first.message
    assert placer.place(SMALL, group="service:cache", constraints=anti).instance_id == "a"  # warms the cache
    db = placer.place(SMALL, group="service:db", strategies=[{"type": "spread", "field": "attribute:stack"}, BIN_MEM])
    assert db.instance_id == "a"  # binpack: a already holds cache
    assert ids(placer.place_many(SMALL, 2, group="service:web", constraints=affinity)) == ["a", "a"]
    assert ids(placer.place_many(SMALL, 2, group="service:cache", constraints=anti)) == ["b", "c"]
    placer.release("a", SMALL, (), "service:db")
    assert placer.place(SMALL, group="service:cache2", constraints=anti, strategies=[BIN_MEM]).instance_id == "a"


def test_member_of_running_tasks_count():
    placer = Placer([node("a"), node("b"), node("c")])
    cons = [{"type": "memberOf", "expression": "runningTasksCount == 0"}]
    got = placer.place_many(SMALL, 4, group="g", constraints=cons, strategies=[BIN_MEM])
    assert ids(got) == ["a", "b", "c", None]


def test_required_attributes_from_runtime_platform():
    arm = node("arm", attrs={"ecs.cpu-architecture": "arm64"})
    placer = Placer([node("x86"), arm])
    demand = TaskDemand(256, 512, required_attributes=(("ecs.cpu-architecture", "arm64"),))
    assert placer.place(demand, group="g").instance_id == "arm"
    placer = Placer([node("x86")])
    miss = placer.place(demand, group="g")
    assert (miss.reason, miss.closest_instance) == ("ATTRIBUTE", "x86")
    assert "is missing an attribute required by your task" in miss.message


# --- ports --------------------------------------------------------------------------------


def test_static_ports_conflict_per_protocol():
    tcp80 = TaskDemand(128, 128, ports=(PortNeed(80, 80),))
    udp80 = TaskDemand(128, 128, ports=(PortNeed(80, 80, "udp"),))
    placer = Placer([node("a"), node("b")])
    assert ids(placer.place_many(tcp80, 3, group="t", strategies=[BIN_MEM])) == ["a", "b", None]
    assert ids(placer.place_many(udp80, 3, group="u", strategies=[BIN_MEM])) == ["a", "b", None]
    assert placer.node("a").used_ports >= {(80, "tcp"), (80, "udp")}
    miss = placer.place(udp80, group="u")
    assert miss.reason == "RESOURCE:PORTS_UDP" and "is already using a port required by your task" in miss.message
    assert placer.place(tcp80, group="t").reason == "RESOURCE:PORTS"


@pytest.mark.parametrize("port", RESERVED_PORTS)
def test_reserved_ports_cannot_be_used(port):
    got = Placer([node("a")]).place(TaskDemand(1, 1, ports=(PortNeed(port, port),)), group="g")
    assert isinstance(got, Unplaced) and got.reason == "RESOURCE:PORTS" and got.closest_instance == "a"


def test_dynamic_ports_lowest_free_first_and_reused_after_release():
    demand = TaskDemand(128, 128, ports=(PortNeed(80, 0), PortNeed(81, 0), PortNeed(53, 0, "udp")))
    n = node("a", dynamic_ports={(32768, "tcp")}, used_ports={(32770, "tcp")})
    placer = Placer([n])
    first = placer.place(demand, group="g")
    assert first.host_ports == (32769, 32771, 32768)
    second = placer.place(demand, group="g")
    assert second.host_ports == (32772, 32773, 32769)
    placer.release("a", demand, first.host_ports, "g")
    assert (32769, "tcp") not in n.dynamic_ports and (32768, "tcp") in n.dynamic_ports
    assert placer.place(demand, group="g").host_ports == (32769, 32771, 32768)
    lo, hi = EPHEMERAL_RANGE
    assert all(lo <= p <= hi for p in second.host_ports)


def test_dynamic_ports_do_not_count_toward_the_reserved_limit_and_bridge_mixes():
    demand = TaskDemand(1, 1, ports=(PortNeed(80, 0), PortNeed(9000, 9000)))
    placer = Placer([node("a")])
    got = placer.place(demand, group="g")
    assert got.host_ports == (32768, 9000)
    assert len(placer.node("a").used_ports) == len(RESERVED_PORTS) + 1


def test_host_mode_ports_are_static():
    demand = TaskDemand(128, 128, ports=(PortNeed(8080, 8080),), network_mode="host")
    placer = Placer([node("a"), node("b")])
    got = placer.place_many(demand, 3, group="g", strategies=[BIN_MEM])
    assert ids(got) == ["a", "b", None] and got[0].host_ports == (8080,)
    # host mode with hostPort 0 still binds the container port
    zero = TaskDemand(128, 128, ports=(PortNeed(9090, 0),), network_mode="host")
    assert Placer([node("c")]).place(zero, group="g").host_ports == (9090,)


def test_awsvpc_needs_no_host_port():
    demand = TaskDemand(128, 128, ports=(PortNeed(22, 22),), network_mode="awsvpc")
    placer = Placer([node("a")])
    got = placer.place_many(demand, 3, group="g")
    assert ids(got) == ["a", "a", "a"] and got[0].host_ports == (22,)
    placer.release("a", demand, got[0].host_ports, "g")
    assert (22, "tcp") in placer.node("a").used_ports  # reserved ports are never released


def test_an_awsvpc_task_on_ec2_takes_one_network_interface():
    """ecs-semantics §2.2: awsvpc on EC2 = 1 ENI; an instance without a free one is refused
    with RESOURCE:ENI, and a stopped task gives its interface back. Other modes take none."""
    demand = TaskDemand(128, 128, network_mode="awsvpc")
    a, b = node("a", remaining_eni=2), node("b", remaining_eni=0)
    placer = Placer([a, b])
    got = placer.place_many(demand, 3, group="g")
    assert ids(got[:2]) == ["a", "a"] and isinstance(got[2], Unplaced)
    assert got[2].reason == "RESOURCE:ENI" and 'encountered error "RESOURCE:ENI"' in got[2].message
    assert a.remaining_eni == 0
    placer.release("a", demand, got[0].host_ports, "g")
    assert a.remaining_eni == 1 and ids([placer.place(demand, group="g")]) == ["a"]
    for mode in ("bridge", "host", "none"):
        assert isinstance(placer.place(TaskDemand(128, 128, network_mode=mode), group="h"), Placed), mode
    assert (a.remaining_eni, b.remaining_eni) == (0, 0)
    unknown = Placer([node("c")])  # no limit known (a type the table does not size)
    assert all(isinstance(p, Placed) for p in unknown.place_many(demand, 20, group="g"))


def test_reserved_port_limit_of_100():
    taken = {(10000 + k, "tcp") for k in range(MAX_RESERVED_PORTS - len(RESERVED_PORTS) - 1)}  # 99 in use
    one = TaskDemand(1, 1, ports=(PortNeed(1, 20001),))
    two = TaskDemand(1, 1, ports=(PortNeed(1, 20001), PortNeed(2, 20002)))
    placer = Placer([node("a", used_ports=set(taken))])
    miss = placer.place(two, group="g")
    assert miss.reason == "RESOURCE:PORTS"
    assert "can not exceed the maximum allowed reserved port limit of 100 host ports per container instance" in miss.message
    assert placer.place(one, group="g").instance_id == "a"  # exactly 100
    assert len(placer.node("a").used_ports) == MAX_RESERVED_PORTS
    assert placer.place(TaskDemand(1, 1, ports=(PortNeed(1, 0),)), group="g").instance_id == "a"  # dynamic is fine


# --- when nothing fits --------------------------------------------------------------------

PREFIX = "was unable to place a task because no container instance met all of its requirements. "


@pytest.mark.parametrize("nodes, demand, reason, closest, phrase", [
    ([node("a", cpu=100), node("b", cpu=200)], TaskDemand(256, 512), "RESOURCE:CPU", "b",
     "has insufficient CPU units available."),
    ([node("a", mem=300), node("b", mem=100)], TaskDemand(256, 512), "RESOURCE:MEMORY", "a",
     "has insufficient memory available."),
    # fewest failing checks wins over more of one resource
    ([node("a", cpu=0, mem=0), node("b", cpu=4096, mem=100)], TaskDemand(256, 512), "RESOURCE:MEMORY", "b",
     "has insufficient memory available."),
    ([node("a", remaining_gpu=0)], TaskDemand(256, 512, gpu=1), "RESOURCE:GPU", "a",
     "has insufficient GPU resources available."),
    ([node("a", agent_connected=False)], SMALL, "AGENT", "a", 'encountered error "AGENT".'),
    # a connected instance short of memory is closer than a disconnected one with room
    ([node("a", agent_connected=False), node("b", mem=100)], SMALL, "RESOURCE:MEMORY", "b",
     "has insufficient memory available."),
])
def test_unplaced_reasons(nodes, demand, reason, closest, phrase):
    got = Placer(nodes).place(demand, group="g")
    assert got == Unplaced(reason, closest, f"{PREFIX}The closest matching container-instance {closest} {phrase}")


def test_no_instances_and_draining():
    expected = Unplaced("NO_INSTANCES", None,
                        "was unable to place a task because no container instances were found in your cluster.")
    assert Placer([]).place(SMALL, group="g") == expected
    assert Placer([node("a", status="DRAINING")]).place(SMALL, group="g") == expected
    placer = Placer([node("a", status="DRAINING"), node("b", mem=100)])
    assert placer.place(SMALL, group="g").closest_instance == "b"
    assert Placer([node("a", status="DRAINING"), node("b")]).place(SMALL, group="g").instance_id == "b"


def test_place_many_repeats_the_failure_and_commits_nothing_for_it():
    placer = Placer([node("a", cpu=600)])
    got = placer.place_many(TaskDemand(256, 512), 4, group="g")
    assert ids(got) == ["a", "a", None, None] and got[2] is got[3]
    assert placer.node("a").remaining_cpu == 88 and placer.node("a").running_tasks == 2


# --- release, refresh, scale-in -----------------------------------------------------------


def test_release_gives_everything_back():
    demand = TaskDemand(512, 1024, gpu=1, ports=(PortNeed(80, 8080), PortNeed(81, 0)))
    n = node("a", remaining_gpu=1)
    placer = Placer([n])
    got = placer.place(demand, group="g")
    assert (n.remaining_cpu, n.remaining_memory, n.remaining_gpu, n.running_tasks, n.groups["g"]) == (3584, 7168, 0, 1, 1)
    placer.release("a", demand, got.host_ports, "g")
    assert (n.remaining_cpu, n.remaining_memory, n.remaining_gpu, n.running_tasks) == (4096, 8192, 1, 0)
    assert "g" not in n.groups and n.dynamic_ports == set()
    assert n.used_ports == {(p, "tcp") for p in RESERVED_PORTS}
    placer.release("unknown", demand, got.host_ports, "g")  # ignored


def test_refresh_after_an_outside_change():
    a, b = node("a"), node("b")
    placer = Placer([a, b])
    assert placer.place(SMALL, group="g", strategies=[BIN_MEM]).instance_id == "a"
    a.status = "DRAINING"
    placer.refresh()
    assert placer.place(SMALL, group="g", strategies=[BIN_MEM]).instance_id == "b"
    placer.add_node(node("0"))
    assert placer.place(SMALL, group="h").instance_id == "0"


def test_node_from_instance():
    ci = ContainerInstance(id="ci-1", cluster="prod", group_name="general", instance_type="m5.large",
                           availability_zone="us-east-1a", registered_cpu=2048, registered_memory=7985,
                           remaining_cpu=1792, remaining_memory=7473, attributes={"stack": "prod"},
                           agent_version="1.82.1", reserved_ports=RESERVED_PORTS + (8080,), running_tasks_count=1)
    task = Task(id="t1", cluster="prod", group="service:web", task_definition="web:1", last_status="RUNNING",
                desired_status="RUNNING", instance_id="ci-1", cpu=256, memory=512, host_ports=(8080, 32768))
    n = node_from_instance(ci, [task])
    assert n.groups == Counter({"service:web": 1}) and n.running_tasks == 1
    assert (8080, "tcp") in n.used_ports and n.dynamic_ports == {(32768, "tcp")}
    assert n.attributes["ecs.availability-zone"] == "us-east-1a" and n.attributes["stack"] == "prod"
    assert Placer([n]).place(TaskDemand(1, 1, ports=(PortNeed(80, 0),)), group="g").host_ports == (32769,)


def _fleet(counts: dict[str, int]) -> tuple[Placer, list[tuple[str, str]]]:
    """Nodes a1,a2 (zone a), b1 (zone b), c1 (zone c) with ``counts`` tasks of group g each."""
    zones = {"a1": AZS[0], "a2": AZS[0], "b1": AZS[1], "c1": AZS[2]}
    nodes = [node(k, zones[k]) for k in zones]
    placer = Placer(nodes)
    tasks = []
    for nid, k in counts.items():
        for j in range(k):
            placer.place(SMALL, group="g", constraints=[{"type": "memberOf", "expression": f"ec2InstanceId == {nid}"}])
            tasks.append((f"t-{nid}-{j}", nid))
    return placer, tasks


@pytest.mark.parametrize("counts, strategies, n, expected", [
    # default: the zone with the most tasks (a: 3), then the instance with the most (a1), highest task id
    ({"a1": 2, "a2": 1, "b1": 2, "c1": 1}, None, 1, ["t-a1-1"]),
    ({"a1": 2, "a2": 1, "b1": 2, "c1": 1}, None, 3, ["t-a1-1", "t-b1-1", "t-a2-0"]),
    # spread instanceId: the instance with the most tasks; ties go to the highest instance id
    ({"a1": 2, "a2": 1, "b1": 2, "c1": 1}, [INST], 2, ["t-b1-1", "t-a1-1"]),
    # binpack memory: the instance left with the most memory (the one with fewest tasks here)
    ({"a1": 2, "a2": 1, "b1": 3, "c1": 1}, [BIN_MEM], 1, ["t-c1-0"]),
])
def test_choose_to_stop(counts, strategies, n, expected):
    placer, tasks = _fleet(counts)
    assert placer.choose_to_stop(tasks, n, group="g", strategies=strategies, demand=SMALL) == expected


def test_choose_to_stop_keeps_zones_balanced_and_never_over_asks():
    placer, tasks = _fleet({"a1": 3, "a2": 3, "b1": 3, "c1": 1})
    chosen = placer.choose_to_stop(tasks, 20, group="g")
    assert len(chosen) == 10 and len(set(chosen)) == 10
    placer2, tasks2 = _fleet({"a1": 3, "a2": 3, "b1": 3, "c1": 1})
    left = Counter(dict(tasks2)[t].rstrip("12") for t in dict(tasks2) if t not in placer2.choose_to_stop(tasks2, 6, group="g"))
    assert sorted(left.values()) == [1, 1, 2]  # a:2, b:1, c:1 — within one of each other


# --- a brute-force reference for the fast paths ------------------------------------------


def reference_place(nodes: list[Node], demand: TaskDemand, group: str, constraints, strategies):
    """ecs-semantics §2.6 read literally: filter everything, then narrow by each strategy."""
    static = [(p.host_port or p.container_port, p.protocol) for p in demand.ports
              if demand.network_mode == "host" or (demand.network_mode == "bridge" and p.host_port)]
    cands = []
    for n in sorted(nodes, key=lambda n: n.id):
        if n.status != "ACTIVE" or not n.agent_connected or n.remaining_cpu < demand.cpu \
                or n.remaining_memory < demand.memory or n.remaining_gpu < demand.gpu:
            continue
        if any(p in n.used_ports or p in n.dynamic_ports for p in static) or \
                len(n.used_ports) + len(static) > MAX_RESERVED_PORTS:
            continue
        ok = True
        for c in constraints:
            if c["type"] == "distinctInstance" and n.groups.get(group):
                ok = False
            if c["type"] == "memberOf" and not cql.matches(c["expression"], n.cql_view()):
                ok = False
        if ok:
            cands.append(n)
    if not cands:
        return None
    for s in strategies if strategies is not None else [ZONE, INST]:
        if s["type"] == "binpack":
            key = (lambda n: n.remaining_cpu) if s["field"] == "cpu" else (lambda n: n.remaining_memory)
        elif s["field"] == "instanceId":
            key = lambda n: n.groups.get(group, 0)  # noqa: E731
        else:
            attr = s["field"][len("attribute:"):]
            per_value = Counter()
            for n in nodes:
                per_value[n.attributes.get(attr)] += n.groups.get(group, 0)
            key = lambda n, attr=attr, per_value=per_value: per_value[n.attributes.get(attr)]  # noqa: E731
        best = min(key(n) for n in cands)
        cands = [n for n in cands if key(n) == best]
    return cands[0].id


STRATEGY_CHOICES = [None, [BIN_MEM], [BIN_CPU], [INST], [ZONE], [ZONE, BIN_MEM], [ZONE, INST, BIN_CPU],
                    [BIN_MEM, INST], [INST, BIN_MEM], [{"type": "spread", "field": "attribute:rack"}, ZONE],
                    [BIN_CPU, ZONE], [INST, ZONE, BIN_MEM], [ZONE, INST], [{"type": "spread", "field": "attribute:rack"}, INST]]
CONSTRAINT_CHOICES = [(), ({"type": "distinctInstance"},), ({"type": "memberOf", "expression": "attribute:rack != r2"},),
                      ({"type": "memberOf", "expression": "not(task:group == g0)"},),
                      ({"type": "memberOf", "expression": "runningTasksCount < 3"},)]
DEMANDS = [TaskDemand(256, 512), TaskDemand(1024, 256), TaskDemand(128, 2048, ports=(PortNeed(80, 8080),)),
           TaskDemand(512, 512, ports=(PortNeed(80, 0), PortNeed(53, 53, "udp"))),
           TaskDemand(64, 64, ports=(PortNeed(7, 7),), network_mode="host"),
           TaskDemand(300, 300, ports=(PortNeed(80, 80),), network_mode="awsvpc")]

fleet = st.lists(st.tuples(st.sampled_from(AZS), st.sampled_from(["r1", "r2", "r3"]),
                           st.integers(0, 4096), st.integers(0, 8192),
                           st.sampled_from(["ACTIVE", "ACTIVE", "ACTIVE", "DRAINING"]), st.booleans()),
                 min_size=0, max_size=9)
ops = st.lists(st.tuples(st.sampled_from(["place", "place", "release"]), st.integers(0, len(DEMANDS) - 1),
                         st.sampled_from(["g0", "g1", "g2"]), st.integers(0, len(STRATEGY_CHOICES) - 1),
                         st.integers(0, len(CONSTRAINT_CHOICES) - 1), st.integers(0, 10_000)),
               max_size=60)


def _build(spec) -> list[Node]:
    return [node(f"n{k:02d}", az, cpu=cpu, mem=mem, status=status, agent_connected=connected or k % 4 != 3,
                 attrs={"rack": rack})
            for k, (az, rack, cpu, mem, status, connected) in enumerate(spec)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleet, ops)
def test_placer_matches_the_reference_and_never_overcommits(spec, steps):
    nodes = _build(spec)
    initial = {n.id: (n.remaining_cpu, n.remaining_memory) for n in nodes}
    placer = Placer(nodes)
    live: list[tuple[str, TaskDemand, tuple[int, ...], str]] = []
    for op, d, group, s, c, pick in steps:
        demand = DEMANDS[d]
        if op == "release" and live:
            inst, dem, ports, grp = live.pop(pick % len(live))
            placer.release(inst, dem, ports, grp)
            continue
        strategies, constraints = STRATEGY_CHOICES[s], CONSTRAINT_CHOICES[c]
        expected = reference_place(nodes, demand, group, constraints, strategies)
        got = placer.place(demand, group=group, constraints=constraints, strategies=strategies)
        assert (got.instance_id if isinstance(got, Placed) else None) == expected
        if isinstance(got, Placed):
            live.append((got.instance_id, demand, got.host_ports, group))
            if any(c.get("type") == "distinctInstance" for c in constraints):
                assert placer.node(got.instance_id).groups[group] == 1
        else:
            assert got.reason in {"RESOURCE:CPU", "RESOURCE:MEMORY", "RESOURCE:PORTS", "RESOURCE:PORTS_UDP",
                                  "ATTRIBUTE", "MemberOf placement constraint unsatisfied", "DISTINCT_INSTANCE",
                                  "AGENT", "NO_INSTANCES"}
    # conservation: remaining = registered - what the live tasks hold; ports are never shared
    for n in nodes:
        mine = [(dem, ports, grp) for inst, dem, ports, grp in live if inst == n.id]
        assert n.remaining_cpu == initial[n.id][0] - sum(d.cpu for d, _, _ in mine) >= 0
        assert n.remaining_memory == initial[n.id][1] - sum(d.memory for d, _, _ in mine) >= 0
        static, dynamic = [], []
        for dem, ports, _ in mine:
            if dem.network_mode == "awsvpc":
                continue
            for need, port in zip(dem.ports, ports):
                (static if need.host_port or dem.network_mode == "host" else dynamic).append((port, need.protocol))
        assert len(static) == len(set(static)) and len(dynamic) == len(set(dynamic))
        assert n.used_ports == set(static) | {(p, "tcp") for p in RESERVED_PORTS}
        assert n.dynamic_ports == set(dynamic) and not (set(static) & set(dynamic))
        assert n.groups == Counter(grp for _, _, grp in mine)
        assert n.running_tasks == len(mine)


def test_a_run_of_placements_sees_what_a_release_or_another_service_changed():
    """A run of placements through one ``placing()`` passes over its own instances without
    searching them again; what frees an instance it passed over (a release) or admits one its
    memberOf refused (another service's task) is seen by its next placement."""
    demand = TaskDemand(1024, 512)
    nodes = [node(f"n{k:02d}", cpu=2048) for k in range(20)]
    placer = Placer(nodes)
    place = placer.placing(demand, group="a", strategies=[INST])
    first = [place().instance_id for _ in range(3)]
    assert first == ["n00", "n01", "n02"]
    placer.release("n00", demand, (), "a")
    assert place().instance_id == "n00"  # free again of the group: fewest tasks of it, lowest id
    affinity = ({"type": "memberOf", "expression": "task:group == b"},)
    b = placer.placing(demand, group="b", strategies=[INST])
    placer.place_on("n10", demand, group="b")
    near_b = placer.placing(demand, group="c", constraints=affinity, strategies=[INST])
    assert near_b().instance_id == "n10"
    placer.place_on("n05", demand, group="b")
    assert near_b().instance_id == "n05"  # admitted by the b task placed since
    assert b().instance_id in {n.id for n in nodes}


runs = st.lists(st.tuples(st.sampled_from(["run", "run", "release"]), st.integers(0, len(DEMANDS) - 1),
                          st.sampled_from(["g0", "g1", "g2"]), st.integers(0, len(STRATEGY_CHOICES) - 1),
                          st.integers(0, len(CONSTRAINT_CHOICES) - 1), st.integers(1, 12), st.integers(0, 10_000)),
                max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(AZS), st.sampled_from(["r1", "r2", "r3"]), st.sampled_from([512, 2048, 4096]),
                          st.sampled_from([1024, 4096, 8192]), st.just("ACTIVE"), st.just(True)),
                min_size=12, max_size=60), runs)
def test_runs_of_placements_match_the_reference(spec, steps):
    """Runs of one service's placements through one ``placing()`` (as a deployment step starts
    them: the searches a run remembers between its placements), interleaved with releases and
    other services' runs, against the literal reference, placement by placement.  A ``placing()``
    may be called again after anything else happened: each kind's is kept and used again."""
    nodes = _build(spec)
    placer = Placer(nodes)
    live: list[tuple[str, TaskDemand, tuple[int, ...], str]] = []
    placings: dict[tuple, object] = {}
    for op, d, group, s, c, n, pick in steps:
        if op == "release":
            if live:
                inst, dem, ports, grp = live.pop(pick % len(live))
                placer.release(inst, dem, ports, grp)
            continue
        demand, strategies, constraints = DEMANDS[d], STRATEGY_CHOICES[s], CONSTRAINT_CHOICES[c]
        place = placings.get((d, group, s, c))
        if place is None:
            place = placings[(d, group, s, c)] = placer.placing(demand, group=group, constraints=constraints,
                                                                strategies=strategies)
        for _ in range(n):
            expected = reference_place(nodes, demand, group, constraints, strategies)
            got = place()
            assert (got.instance_id if isinstance(got, Placed) else None) == expected
            if not isinstance(got, Placed):
                break
            live.append((got.instance_id, demand, got.host_ports, group))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(AZS), min_size=3, max_size=15).filter(lambda zs: set(zs) == set(AZS)),
       st.integers(1, 40), st.integers(1, 4))
def test_default_spread_keeps_zones_within_one(zones, count, groups):
    nodes = [node(f"n{k:02d}", az, cpu=1 << 20, mem=1 << 20) for k, az in enumerate(zones)]
    placer = Placer(nodes)
    for g in range(groups):
        for _ in range(count):
            assert isinstance(placer.place(SMALL, group=f"g{g}"), Placed)
            per_zone = Counter({az: 0 for az in AZS})
            for n in nodes:
                per_zone[n.availability_zone] += n.groups.get(f"g{g}", 0)
            assert max(per_zone.values()) - min(per_zone.values()) <= 1


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 30))
def test_distinct_instance_never_doubles(n_nodes, count):
    placer = Placer([node(f"n{k:02d}", AZS[k % 3]) for k in range(n_nodes)])
    got = placer.place_many(SMALL, count, group="g", constraints=[{"type": "distinctInstance"}])
    placed = [r.instance_id for r in got if isinstance(r, Placed)]
    assert len(placed) == len(set(placed)) == min(n_nodes, count)


ZONE_SPREAD = {"type": "spread", "field": "attribute:ecs.availability-zone"}
CHAINS = [None, [INST], [BIN_MEM], [ZONE_SPREAD, BIN_MEM], [ZONE_SPREAD, INST], [{"type": "binpack", "field": "cpu"}, INST]]


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 4), min_size=4, max_size=4), picks=st.integers(0, 14),
       chain=st.sampled_from(range(len(CHAINS))), extra=st.lists(st.integers(0, 3), min_size=4, max_size=4))
def test_fast_choose_to_stop_equals_the_scan(counts, picks, chain, extra):
    """The partitioned, heap-based choice picks exactly what re-ranking every instance per pick picks
    (also when the group has tasks that are not candidates, and with Fargate tasks mixed in)."""
    def build():
        placer, tasks = _fleet(dict(zip(("a1", "a2", "b1", "c1"), counts)))
        for nid, k in zip(("a1", "a2", "b1", "c1"), extra):  # tasks of the group that may not stop
            for _ in range(k):
                placer.place(SMALL, group="g", constraints=[{"type": "memberOf", "expression": f"ec2InstanceId == {nid}"}])
        return placer, tasks + [("t-fargate-0", None)]
    strategies = CHAINS[chain]
    fast_placer, tasks = build()
    scan_placer, _ = build()
    fast = fast_placer.choose_to_stop(tasks, picks, group="g", strategies=strategies, demand=SMALL)
    scan = scan_placer._choose_to_stop_scan(tasks, picks, group="g", chain=scan_placer._chain(strategies), demand=SMALL)
    assert fast == scan


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 3), min_size=6, max_size=6), steps=st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4), st.booleans()), min_size=1, max_size=6),
    chain=st.sampled_from([None, [INST], [ZONE_SPREAD, INST]]))
def test_the_kept_scale_in_choice_equals_a_fresh_one_step_after_step(sizes, steps, chain):
    """A deployment's next step reuses the chooser of the last one (its counts caught up with the
    stops and starts in between): it picks what a chooser built afresh picks."""
    def build():
        nodes = [node(f"n{k}", AZS[k % 3]) for k in range(6)]
        placer = Placer(nodes)
        old = []
        for k, n in enumerate(sizes):
            for j in range(n):
                placer.place(SMALL, group="g", constraints=[{"type": "memberOf", "expression": f"ec2InstanceId == n{k}"}])
                old.append((f"t-{k}-{j}", f"n{k}"))
        return placer, old
    kept_placer, old = build()
    fresh_placer, _ = build()
    for stop, start, noise in steps:
        kept = kept_placer.choose_to_stop(old, stop, group="g", strategies=chain)
        fresh = _StopChooser(fresh_placer, old, "g", fresh_placer._chain(chain), None).pick(stop)
        assert kept == fresh
        where = dict(old)
        old = [t for t in old if t[0] not in kept]
        for placer in (kept_placer, fresh_placer):
            for task_id in kept:
                placer.release(where[task_id], SMALL, (), "g")
            placer.place_many(SMALL, start, group="g", strategies=chain)  # the new revision's tasks
            if noise:  # another service's tasks on the same instances
                placer.place_many(SMALL, 2, group="other")
