"""How a plan's run reads the state: the revisions of many families at once, the container
instances make_plan has read already, the collector paused around the work, and awsvpc
addresses read and written without the ipaddress module."""

from __future__ import annotations

import gc
import ipaddress
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.app.collector import collector_paused
from ecsctl.app.forecast import _Prefetched
from ecsctl.backends.local.world import World
from ecsctl.core.state import ContainerInstance, TaskDefinitionRevision
from ecsctl.storage.sqlite_store import SqliteStateStore


class Counting:
    """A store that counts its find() calls by record type."""

    def __init__(self, store) -> None:
        self.store, self.finds = store, []

    def __getattr__(self, name):
        return getattr(self.store, name)

    def find(self, record_type, **where):
        self.finds.append((record_type.__name__, tuple(sorted(where))))
        return self.store.find(record_type, **where)


def _revisions(store, families: int, revisions: int = 2) -> None:
    with store.transaction():
        for f in range(families):
            for r in range(1, revisions + 1):
                store.save(TaskDefinitionRevision(f"fam{f:03d}", r, {"family": f"fam{f:03d}", "n": r}))


def test_most_families_are_read_in_one_query_with_the_same_revisions(tmp_path):
    store = SqliteStateStore(tmp_path / "state.db")
    _revisions(store, 30)
    counting = Counting(store)
    world = World(counting)
    world.prefetch_families(f"fam{f:03d}" for f in range(25))  # 25 of 30 families: most revisions
    assert counting.finds == [("TaskDefinitionRevision", ())]
    fresh = World(store)
    for f in range(30):
        name = f"fam{f:03d}"
        assert world.active_revisions(name) == fresh.active_revisions(name)
        assert world.latest_revision(name) == fresh.latest_revision(name) == 2
    assert len(counting.finds) == 1 + 5  # the five families left out are read one by one, as before
    store.close()


def test_a_few_families_are_read_one_by_one(tmp_path):
    store = SqliteStateStore(tmp_path / "state.db")
    _revisions(store, 30)
    counting = Counting(store)
    world = World(counting)
    world.prefetch_families(["fam000", "fam001"])  # too few to read everything for
    world.prefetch_families(f"fam{f:03d}" for f in range(25))  # some already known: the rest, 23 of 30, at once
    assert counting.finds == [("TaskDefinitionRevision", ())]
    counting.finds.clear()
    world2 = World(counting)
    world2.prefetch_families(f"fam{f:03d}" for f in range(10))  # 10 of 30: a third of the revisions
    assert counting.finds == []
    store.close()


def _instance(cluster: str, k: int) -> ContainerInstance:
    return ContainerInstance(f"ci-{cluster}-{k:02d}", cluster, "g", "m5.large", "eu-west-1a", 2048, 7985, 2048, 7985)


def test_prefetched_instances_are_served_by_cluster_in_key_order(tmp_path):
    store = SqliteStateStore(tmp_path / "state.db")
    with store.transaction():
        for cluster in ("b", "a"):
            for k in (3, 1, 2):
                store.save(_instance(cluster, k))
    instances = store.find(ContainerInstance)
    counting = Counting(store)
    served = _Prefetched(counting, {ContainerInstance: instances})
    assert served.find(ContainerInstance, cluster="a") == store.find(ContainerInstance, cluster="a")
    assert served.find(ContainerInstance, cluster="nowhere") == []
    assert counting.finds == []  # from memory
    assert served.find(ContainerInstance, status="ACTIVE", cluster="b") == store.find(ContainerInstance, status="ACTIVE", cluster="b")
    assert counting.finds == []
    served.find(TaskDefinitionRevision)  # a type not read before goes to the store
    assert counting.finds == [("TaskDefinitionRevision", ())]
    assert served.meta() == store.meta()
    store.close()


def test_the_collector_comes_back_once_the_last_unit_of_work_ends():
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()
    seen = []

    @collector_paused
    def long_work():
        inside.set()
        release.wait(5)
        seen.append(("long", gc.isenabled()))

    @collector_paused
    def nested():
        seen.append(("outer", gc.isenabled()))
        short()
        seen.append(("outer after inner", gc.isenabled()))

    @collector_paused
    def short():
        seen.append(("inner", gc.isenabled()))

    worker = threading.Thread(target=long_work)
    worker.start()
    inside.wait(5)
    nested()  # ends while long_work still runs: the collector stays paused
    assert not gc.isenabled()
    release.set()
    worker.join(5)
    assert gc.isenabled()
    assert seen == [("outer", False), ("inner", False), ("outer after inner", False), ("long", False)]


def test_a_caller_that_disabled_the_collector_keeps_it_disabled():
    gc.disable()
    try:
        collector_paused(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()


@settings(max_examples=200, deadline=None)
@given(value=st.integers(0, 2**32 - 1))
def test_addresses_are_read_and_written_as_the_ipaddress_module_does(value):
    from ecsctl.backends.local.world import _ip_int, _ip_text

    text = str(ipaddress.IPv4Address(value))
    assert _ip_text(value) == text
    assert _ip_int(text) == value
