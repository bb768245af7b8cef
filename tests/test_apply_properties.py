"""Properties of plan and apply on generated stacks: apply then plan is empty; order means nothing;
placement never overcommits an instance."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsctl.app.plan import apply_plan, backend_for, make_plan, read_manifests
from ecsctl.backends.local import check_invariants
from ecsctl.core.state.ports import ContainerInstance
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import stack, write_stack

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _apply(directory: Path, store) -> None:
    plan = make_plan(read_manifests([str(directory)]), store)
    apply_plan(plan, store, backend_for(store))


def _shuffled(docs: list[dict], rng: random.Random) -> list[dict]:
    """The same stack with documents, containers and environment variables in another order."""
    out = [yaml.safe_load(yaml.safe_dump(d)) for d in docs]
    rng.shuffle(out)
    for d in out:
        for c in d["spec"].get("containerDefinitions", []):
            rng.shuffle(c.get("environment", []))
        rng.shuffle(d["spec"].get("containerDefinitions", []))
    return out


@SETTINGS
@given(seed=st.integers(0, 10_000), groups=st.integers(1, 3), per_group=st.integers(1, 3),
       services=st.integers(0, 6), max_desired=st.integers(0, 8))
def test_apply_then_plan_is_empty_and_nothing_is_overcommitted(seed, groups, per_group, services, max_desired):
    docs = stack(seed=seed, groups=groups, per_group=per_group, services=services, max_desired=max_desired)
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_stack(Path(tmp) / "m", docs)
        with SqliteStateStore(Path(tmp) / "state.db") as store:
            _apply(directory, store)
            assert not make_plan(read_manifests([str(directory)]), store).has_changes
            assert check_invariants(store) == []
            for instance in store.find(ContainerInstance):
                assert instance.remaining_cpu >= 0 and instance.remaining_memory >= 0, instance
            # the same manifests in another order plan to nothing
            write_stack(directory, _shuffled(docs, random.Random(seed)), files=2)
            assert not make_plan(read_manifests([str(directory)]), store).has_changes


@SETTINGS
@given(seed=st.integers(0, 10_000), first=st.integers(0, 6), second=st.integers(0, 6))
def test_changing_a_stack_and_applying_converges(seed, first, second):
    """Any stack applied over any other reaches a state that plans to nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "m"
        with SqliteStateStore(Path(tmp) / "state.db") as store:
            write_stack(directory, stack(seed=seed, services=first))
            _apply(directory, store)
            write_stack(directory, stack(seed=seed + 1, services=second))
            _apply(directory, store)
            assert not make_plan(read_manifests([str(directory)]), store).has_changes
            assert check_invariants(store) == []
