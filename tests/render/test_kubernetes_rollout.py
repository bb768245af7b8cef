"""DESIGN §6's bounds as a Deployment's rolling update.

Kubernetes' side is written out from its documentation
(https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-unavailable):
at most ``replicas + maxSurge`` pods (a percentage rounded up), at least ``replicas −
maxUnavailable`` available (a percentage rounded down); with 10 replicas and 25% each,
13 pods at most and 8 available at least (the page's own numbers: 3 up, 2 down).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecsctl.core.deploy.bounds import can_progress, deployment_bounds
from ecsctl.core.render.kubernetes import rollout
from ecsctl.core.render.kubernetes.rollout import daemon_update, rolling_update


def k8s_bounds(replicas: int, max_surge, max_unavailable) -> tuple[int, int]:
    """(fewest available, most pods) as the Deployment controller computes them."""
    def resolve(value, up: bool) -> int:
        if isinstance(value, str) and value.endswith("%"):
            exact = replicas * int(value[:-1]) / 100
            return math.ceil(exact) if up else math.floor(exact)
        return int(value)

    return replicas - resolve(max_unavailable, up=False), replicas + resolve(max_surge, up=True)


def test_kubernetes_documented_rounding():
    assert k8s_bounds(10, "25%", "25%") == (8, 13)


DESIGN = [
    # D, m, M, (lower, upper): DESIGN §6 and core.deploy.bounds' worked examples
    (4, 50, 200, (2, 8)),
    (6, 100, 200, (6, 12)),
    (2, 75, 200, (2, 4)),
    (3, 50, 150, (2, 4)),
    (10, 90, 110, (9, 11)),
]


@pytest.mark.parametrize("desired, low, high, bounds", DESIGN)
def test_design_examples(desired, low, high, bounds):
    assert deployment_bounds(desired, low, high) == bounds
    strategy, notes = rolling_update(desired, low, high)
    r = strategy["rollingUpdate"]
    assert k8s_bounds(desired, r["maxSurge"], r["maxUnavailable"]) == bounds
    assert f"lower = ceil({desired} × {low} / 100) = {bounds[0]}" in notes[0]
    assert f"upper = floor({desired} × {high} / 100) = {bounds[1]}" in notes[0]


@given(st.integers(0, 300), st.integers(0, 100), st.integers(100, 400))
def test_floor_and_ceiling_equal_lower_and_upper(desired, low, high):
    strategy, notes = rolling_update(desired, low, high)
    r = strategy["rollingUpdate"]
    assert not (r["maxSurge"] == 0 and r["maxUnavailable"] == 0)
    if not can_progress(desired, low, high)[0]:
        # ECS would never move (W3017); Kubernetes needs one of the two above 0, and the note says so
        assert (r["maxSurge"], r["maxUnavailable"]) == (1, 0) and any("W3017" in n for n in notes)
    elif desired:
        assert k8s_bounds(desired, r["maxSurge"], r["maxUnavailable"]) == deployment_bounds(desired, low, high)


@given(st.integers(1, 300), st.integers(0, 100), st.integers(100, 400))
def test_what_the_note_says_about_percentages_holds(desired, low, high):
    lower, upper = deployment_bounds(desired, low, high)
    floor, ceiling = k8s_bounds(desired, f"{high - 100}%", f"{100 - low}%")
    assert floor == lower
    assert ceiling == upper if (desired * high) % 100 == 0 else ceiling == upper + 1


def test_the_note_names_a_count_where_a_percentage_surge_differs():
    _, notes = rolling_update(3, 100, 125)
    assert any("at 1 replica it allows 2 pods, ECS 1" in n for n in notes)
    _, notes = rolling_update(3, 100, 200)
    assert any("no difference with maximumPercent 200" in n for n in notes)


def test_no_replicas_still_gets_a_valid_strategy():
    strategy, notes = rolling_update(0, 100, 100)
    assert dict(strategy["rollingUpdate"]) == {"maxSurge": 1, "maxUnavailable": 0}


@pytest.mark.parametrize("min_pct", [0, 25, 50, 90])
def test_a_daemon_update_is_a_percentage_of_the_nodes(min_pct):
    """A daemon service's minimumHealthyPercent is a share of its container instances (ECS
    "Daemon" deployments), whose count on EKS is the nodes', not the manifests': maxUnavailable
    is the same share of the nodes, whatever the manifests' instance count.  A DaemonSet
    rounds it up (DaemonSet "Perform a Rolling Update"), ECS rounds the healthy floor up, so at
    any node count the DaemonSet replaces ECS's number of tasks at a time, or one more."""
    for described in (None, 3, 10):
        strategy, notes = daemon_update(described, min_pct)
        assert strategy["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": f"{100 - min_pct}%"}
    for n in range(1, 60):
        kubernetes = math.ceil(n * (100 - min_pct) / 100)
        ecs = n - math.ceil(n * min_pct / 100)
        assert ecs <= kubernetes <= ecs + 1


def test_a_daemon_update_that_ecs_could_not_move():
    strategy, notes = daemon_update(4, 100)
    assert strategy["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}  # Kubernetes refuses 0 with no surge
    assert any("ECS could not replace a daemon task either" in n for n in notes)


def test_module_doctests():
    import doctest

    assert doctest.testmod(rollout).failed == 0
