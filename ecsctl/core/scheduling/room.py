"""Where there is room for a task, without a scan past every full instance (the placer's indexes).

* :class:`FitTree` — the first slot with room for a demand: a segment tree of the maximum CPU
  and memory left.  The placer keeps one per partition of the instances (slots in ascending
  instance order): "the first instance, in id order, with at least this much CPU and memory
  left" is a walk down the tree.  A slot that takes nothing (an instance not ACTIVE, a padding
  slot) holds ``-1``.
* :class:`RoomList` — instances sorted by what they have left of one resource (``binpack``
  walks it from the first that can fit), each with what it has left of the *other* resource
  beside it, so a walk passes over instances full on that one with a comparison instead of the
  placer's whole filter.

    >>> tree = FitTree([(512, 1024), (0, 4096), (2048, 256), (1024, 2048)])
    >>> tree.first(0, 1024, 1024), tree.first(0, 0, 4096), tree.first(1, 512, 1024), tree.first(0, 4096, 0)
    (3, 1, 3, -1)
    >>> tree.set(1, 1024, 4096); tree.first(0, 1024, 1024)
    1
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Iterator, Sequence


class FitTree:
    __slots__ = ("size", "cpu", "mem")

    def __init__(self, values: Sequence[tuple[int, int]]) -> None:
        size = 1
        while size < len(values):
            size *= 2
        cpu = [-1] * (2 * size)
        mem = [-1] * (2 * size)
        for k, (c, m) in enumerate(values):
            cpu[size + k] = c
            mem[size + k] = m
        for k in range(size - 1, 0, -1):
            a, b = 2 * k, 2 * k + 1
            cpu[k] = cpu[a] if cpu[a] > cpu[b] else cpu[b]
            mem[k] = mem[a] if mem[a] > mem[b] else mem[b]
        self.size, self.cpu, self.mem = size, cpu, mem

    def set(self, slot: int, cpu_left: int, mem_left: int) -> None:
        cpu, mem = self.cpu, self.mem
        i = slot + self.size
        cpu[i], mem[i] = cpu_left, mem_left
        i >>= 1
        while i:
            a, b = 2 * i, 2 * i + 1
            c = cpu[a] if cpu[a] > cpu[b] else cpu[b]
            m = mem[a] if mem[a] > mem[b] else mem[b]
            if cpu[i] == c and mem[i] == m:
                return  # nothing above changes
            cpu[i], mem[i] = c, m
            i >>= 1

    def first(self, start: int, need_cpu: int, need_mem: int) -> int:
        """The lowest slot at or after ``start`` with at least ``need_cpu`` and ``need_mem`` left, or -1."""
        size, cpu, mem = self.size, self.cpu, self.mem
        if start >= size:
            return -1
        i = start + size
        while True:
            if cpu[i] >= need_cpu and mem[i] >= need_mem:
                if i >= size:
                    return i - size
                i *= 2  # the left half first (the maxima of two halves may not meet in one slot)
                continue
            while i & 1:  # the next subtree to the right: up past every right child …
                i >>= 1
            if not i:
                return -1
            i += 1  # … then across to the sibling


class RoomList:
    """``(left, index, other)`` entries in ascending order: what an instance has left of one
    resource, its index, what it has left of the other.  One flat list (an update is a C-level
    move of pointers); an entry is found by its ``(left, index)`` prefix (indexes are unique, so
    ``other`` never takes part in the order).

    >>> rooms = RoomList([(512, 0, 100), (1024, 1, 0), (2048, 2, 300)])
    >>> list(rooms.walk(600, 50)), list(rooms.walk(0, 200))
    ([(2048, 2)], [(2048, 2)])
    >>> rooms.move((2048, 2), (700, 2), 300); list(rooms.walk(600, 0))
    [(700, 2), (1024, 1)]
    """

    __slots__ = ("entries",)

    def __init__(self, entries: Sequence[tuple[int, int, int]]) -> None:
        self.entries = sorted(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def _at(self, entry: tuple[int, int]) -> int:
        entries = self.entries
        j = bisect_left(entries, entry)  # (left, i) sorts just before (left, i, other)
        if j == len(entries) or entries[j][1] != entry[1] or entries[j][0] != entry[0]:
            raise KeyError(entry)
        return j

    def add(self, entry: tuple[int, int], other: int) -> None:
        insort(self.entries, (entry[0], entry[1], other))

    def remove(self, entry: tuple[int, int]) -> None:
        del self.entries[self._at(entry)]

    def move(self, old: tuple[int, int], new: tuple[int, int], other: int) -> None:
        """``remove(old)`` then ``add(new, other)``."""
        entries = self.entries
        del entries[self._at(old)]
        insort(entries, (new[0], new[1], other))

    def set_other(self, entry: tuple[int, int], other: int) -> None:
        """The instance of ``entry`` now has ``other`` left of the other resource."""
        self.entries[self._at(entry)] = (entry[0], entry[1], other)

    def walk(self, least: int, other: int) -> Iterator[tuple[int, int]]:
        """``(left, index)`` of the entries with ``left >= least`` and at least ``other`` of the
        other resource, in order (the rest are passed over by a comparison).  The placer's binpack
        walk (``Placer._walk_binpack``) runs this loop inline, on the hot path; change both."""
        entries = self.entries
        for j in range(bisect_left(entries, (least, -1)), len(entries)):
            left, i, has = entries[j]
            if has >= other:
                yield left, i


__all__ = ["FitTree", "RoomList"]
