"""Capacity providers as arithmetic (ecs-semantics §7), tables from the AWS documentation's statements.

Sources: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html
(base and weight), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-auto-scaling.html
(CapacityProviderReservation, step sizes, warm-up, 15 datapoints to scale in, termination protection).
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ecsctl.core.scaling.capacity import (
    Instance, ManagedScaling, assign_tasks, beyond_max_size_text, instances_needed, instances_to_terminate,
    managed_desired, remove_tasks, reservation, split_tasks, tasks_beyond,
)


def cp(name, base=0, weight=0):
    return {"capacityProvider": name, "base": base, "weight": weight}


@pytest.mark.parametrize(
    "count, strategy, expected",
    [
        (10, [cp("A", 2, 1), cp("B", 0, 3)], {"A": 4, "B": 6}),                 # ecs-semantics §7.2's model
        (1, [cp("FARGATE", 1, 1), cp("FARGATE_SPOT", 0, 3)], {"FARGATE": 1, "FARGATE_SPOT": 0}),  # base first
        (5, [cp("A", 0, 1), cp("B", 0, 4)], {"A": 1, "B": 4}),                 # "1 task on A for every 4 on B"
        (6, [cp("A", 0, 1), cp("B", 0, 1)], {"A": 3, "B": 3}),
        (3, [cp("A", 5, 0), cp("B", 0, 1)], {"A": 3, "B": 0}),                 # a weight-0 provider takes its base
        (8, [cp("A", 5, 0), cp("B", 0, 1)], {"A": 5, "B": 3}),                 # and nothing beyond it
    ],
)
def test_base_first_then_weights(count, strategy, expected):
    assert split_tasks(count, strategy) == expected


def test_all_zero_weights_is_refused():
    with pytest.raises(ValueError):
        split_tasks(3, [cp("A", 1, 0)])


@given(st.lists(st.integers(0, 30), min_size=1, max_size=8), st.integers(1, 5), st.integers(1, 5), st.integers(0, 4))
def test_adding_tasks_one_by_one_equals_splitting_at_once(steps, wa, wb, base):
    strategy = [cp("A", base, wa), cp("B", 0, wb)]
    have = {"A": 0, "B": 0}
    for n in steps:
        added = assign_tasks(n, strategy, have)
        have = {k: have[k] + added[k] for k in have}
    total = sum(steps)
    assert sum(have.values()) == total
    assert have["A"] >= min(base, total)
    # the weighted parts stay within one task of the exact proportion
    beyond = total - min(base, total)
    exact_b = beyond * wb / (wa + wb)
    assert abs(have["B"] - exact_b) <= 1


def test_scale_in_takes_from_the_provider_over_its_share():
    # 4 + 3 tasks, base 1 then 1:3; 4 left should be 1 + (0.75 : 2.25): FARGATE 2, SPOT 2
    assert remove_tasks(3, [cp("FARGATE", 1, 1), cp("FARGATE_SPOT", 0, 3)], {"FARGATE": 4, "FARGATE_SPOT": 3}) == \
        {"FARGATE": 2, "FARGATE_SPOT": 1}
    # the base goes last
    assert remove_tasks(3, [cp("A", 2, 1), cp("B", 0, 1)], {"A": 3, "B": 1}) == {"A": 2, "B": 1}


@pytest.mark.parametrize(
    "needed, running, cpr",
    [(5, 5, 100.0), (6, 4, 150.0), (3, 4, 75.0), (0, 0, 100.0), (2, 0, 200.0), (0, 3, 0.0)],
)
def test_capacity_provider_reservation(needed, running, cpr):
    # "equals 100% … all container instances are running at least one non-daemon task";
    # "greater than 100% … no available instances for the launched tasks"; less: an empty one;
    # no instance and tasks waiting: "always scales-out to 200%"
    assert reservation(needed=needed, running=running) == cpr


@pytest.mark.parametrize(
    "kwargs, size",
    [
        (dict(needed=6, running=4), 6),
        (dict(needed=5, running=4, min_step=3), 7),           # "scale up the minimum scaling step size even if
                                                              #  the actual demand is less"
        (dict(needed=30, running=4, max_step=10), 14),        # at most maximumScalingStepSize at a time
        (dict(needed=9, running=9, target_capacity=90), 10),  # "keep 10% free capacity … 90%"
        (dict(needed=2, running=6), 2),                       # scale-in target (step sizes do not apply)
        (dict(needed=2, running=6, min_size=3), 3),           # ECS never goes below the group's min
        (dict(needed=20, running=6, max_size=8), 8),
    ],
)
def test_managed_desired(kwargs, size):
    assert managed_desired(**kwargs) == size


def test_instances_needed_bin_packs_the_provisioning_tasks():
    # m5.large: 2 vCPU, 8 GiB; 5 tasks of 1 vCPU / 2 GiB need 3 hosts; a 4-vCPU task never fits
    assert instances_needed([(1024, 2048)] * 5, (2048, 8192)) == 3
    assert instances_needed([(1024, 2048)] * 5 + [(4096, 512)], (2048, 8192)) == 3
    assert instances_needed([(512, 6144), (512, 6144), (1024, 1024)], (2048, 8192)) == 2


@pytest.mark.parametrize("tasks, room, left", [
    ([(1024, 2048)] * 6, 2, 2),     # the trial: maxSize 3, 1 instance busy, 8 tasks of 1024 CPU on m5.large
    ([(1024, 2048)] * 2, 0, 2),     # the group at (or above) its maxSize: every waiting task stays
    ([(1024, 2048)] * 2, -2, 2),
    ([(1024, 2048)] * 5, 3, 0),     # room enough
    ([(1024, 2048)] * 3 + [(4096, 512)], 1, 1),   # the task no m5.large can run is not the group's
])
def test_tasks_beyond_max_size(tasks, room, left):
    # ECS never changes the group's min/max (cluster-auto-scaling.html): what does not fit on the
    # instances left below maxSize stays PROVISIONING
    assert tasks_beyond(tasks, (2048, 8192), room) == left
    assert tasks_beyond(tasks, (2048, 8192), instances_needed(tasks, (2048, 8192))) == 0


def test_beyond_max_size_text_is_one_line_with_the_fix():
    text = beyond_max_size_text(1, 3, "the Auto Scaling group of capacity provider general")
    assert text == ("1 task stays PROVISIONING: the Auto Scaling group of capacity provider general cannot grow past "
                    "maxSize 3 (raise maxSize or use a larger instance type)")
    assert "\n" not in text


def test_managed_scaling_warm_up_and_fifteen_minutes_to_scale_in():
    ms = ManagedScaling(target_capacity=100, warmup=5)
    assert ms.desired(minute=0, needed=6, running=4) == 6
    assert ms.desired(minute=3, needed=8, running=6) == 6        # a launch within the warm-up blocks
    assert ms.desired(minute=5, needed=8, running=6) == 8
    sizes = [ms.desired(minute=10 + i, needed=2, running=8) for i in range(16)]
    assert sizes[:14] == [8] * 14 and sizes[14] == 5              # 15th datapoint: 8 - (8-2)//2
    assert ms.desired(minute=30, needed=9, running=5) == 9        # a scale-out need stops the scale-in
    assert ms.low_minutes == 0


def test_termination_protection_never_picks_an_instance_with_tasks():
    fleet = [Instance("i-a", 3, 10, "eu-west-1a"), Instance("i-b", 0, 20, "eu-west-1a"),
             Instance("i-c", 0, 5, "eu-west-1b"), Instance("i-d", 1, 1, "eu-west-1b")]
    assert instances_to_terminate(fleet, 3, protection=True) == ["i-c", "i-b"]
    assert instances_to_terminate(fleet, 2, protection=False) == ["i-d", "i-a"]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 100)), min_size=1, max_size=12), st.integers(0, 12))
def test_protected_scale_in_only_terminates_empty_instances(shape, count):
    fleet = [Instance(f"i-{n}", tasks, launched, "az") for n, (tasks, launched) in enumerate(shape)]
    chosen = instances_to_terminate(fleet, count, protection=True)
    by_id = {i.id: i for i in fleet}
    assert all(by_id[i].tasks == 0 for i in chosen)
    assert len(chosen) == min(count, sum(1 for i in fleet if i.tasks == 0))


# -- zones of new Auto Scaling group instances, and how the plan writes them -------------------

from ecsctl.core.scaling import capacity as capacity_module  # noqa: E402
from ecsctl.core.scaling.capacity import balance_zones, scale_out_text, zones_text  # noqa: E402


@pytest.mark.parametrize("count, zones, existing, expected", [
    # "Amazon EC2 Auto Scaling attempts to distribute instances evenly between the Availability Zones"
    (3, ["eu-west-1a", "eu-west-1b"], [], ["eu-west-1a", "eu-west-1b", "eu-west-1a"]),
    (2, ["eu-west-1a", "eu-west-1b", "eu-west-1c"], ["eu-west-1a", "eu-west-1b"], ["eu-west-1c", "eu-west-1a"]),
    (1, ["eu-west-1a"], ["eu-west-1a"] * 4, ["eu-west-1a"]),
    (2, [], [], []),
])
def test_balance_zones(count, zones, existing, expected):
    assert balance_zones(count, zones, existing) == expected


@pytest.mark.parametrize("count, zones, expected", [
    (3, ["eu-west-1a", "eu-west-1b", "eu-west-1a"], "3 more m5.large in eu-west-1a/b"),
    (1, ["us-east-1c"], "1 more m5.large in us-east-1c"),
    (2, ["us-east-1a", "eu-west-1a"], "2 more m5.large in eu-west-1a, us-east-1a"),
])
def test_scale_out_text(count, zones, expected):
    assert scale_out_text(count, "m5.large", zones) == expected
    assert zones_text(zones) in expected


def test_module_doctests():
    import doctest

    from ecsctl.backends.local import spot

    assert doctest.testmod(capacity_module).failed == 0
    assert doctest.testmod(spot).failed == 0
