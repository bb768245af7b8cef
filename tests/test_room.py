"""The placer's room indexes (core.scheduling.room) against the scans they replace, and the
deterministic ids against the uuid module they reproduce."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from ecsctl.core.controller import ids
from ecsctl.core.scheduling.room import FitTree, RoomList

ROOM = st.tuples(st.integers(-1, 12), st.integers(-1, 12))


@settings(max_examples=120, deadline=None)
@given(values=st.lists(ROOM, min_size=1, max_size=40), ops=st.lists(
    st.tuples(st.integers(0, 39), ROOM, st.integers(0, 41), st.integers(0, 12), st.integers(0, 12)), max_size=30))
def test_fit_tree_finds_the_first_slot_a_scan_finds(values, ops):
    tree = FitTree(values)
    for slot, room, start, cpu, mem in ops:
        slot %= len(values)
        values[slot] = room
        tree.set(slot, *room)
        scan = next((k for k in range(start, len(values)) if values[k][0] >= cpu and values[k][1] >= mem), -1)
        assert tree.first(start, cpu, mem) == scan
        # from the first slot, where an answer is remembered per demand until a slot gains room
        for need in ((cpu, mem), (cpu // 2, mem), (1, 1)):
            scan = next((k for k in range(len(values)) if values[k][0] >= need[0] and values[k][1] >= need[1]), -1)
            assert tree.first(0, *need) == scan


@settings(max_examples=120, deadline=None)
@given(start=st.dictionaries(st.integers(0, 60), ROOM, max_size=40), ops=st.lists(
    st.tuples(st.sampled_from(("add", "remove", "other", "move")), st.integers(0, 60), ROOM, st.integers(0, 12),
              st.integers(0, 12)),
    max_size=40), load=st.sampled_from((1, 2, 3, 64)))
def test_room_list_walks_every_entry_with_room_in_order(start, ops, load):
    """``walk`` yields exactly the entries with room for both, in order, whatever the block size
    (small blocks split and empty as entries come and go; bounds rise and are tightened)."""
    live = dict(start)  # index -> (left, other)
    rooms = RoomList([(left, i, other) for i, (left, other) in live.items()], load=load)
    for op, i, (left, other), least, need in ops:
        if op == "add" and i not in live:
            live[i] = (left, other)
            rooms.add((left, i), other)
        elif op == "remove" and i in live:
            rooms.remove((live.pop(i)[0], i))
        elif op == "move" and i in live:
            rooms.move((live[i][0], i), (left, i), other)
            live[i] = (left, other)
        elif op == "other" and i in live:
            live[i] = (live[i][0], other)
            rooms.set_other((live[i][0], i), other)
        expected = sorted((l, k) for k, (l, o) in live.items() if l >= least and o >= need)
        assert list(rooms.walk(least, need)) == expected
        assert len(rooms) == len(live)
        assert all(top >= max(e[2] for e in block) for top, block in zip(rooms.tops, rooms.blocks))
        assert [block[0] for block in rooms.blocks] == rooms.heads and all(rooms.blocks)


def test_task_and_instance_ids_are_uuid5_of_the_namespace():
    for name in ("prod/service:web/1", "prod/service:web/50000", "c/g/7", "é/ü/3"):
        assert ids.task_id(*name.rsplit("/", 2)[:2], int(name.rsplit("/", 1)[1])) == uuid.uuid5(ids.NAMESPACE, name).hex
        assert ids.container_instance_id(*name.rsplit("/", 2)[:2], int(name.rsplit("/", 1)[1])) == uuid.uuid5(ids.NAMESPACE, name).hex
