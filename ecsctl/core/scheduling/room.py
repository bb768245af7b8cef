"""Where there is room for a task, without a scan past every full instance (the placer's indexes).

* :class:`FitTree` — the first slot with room for a demand: a segment tree of the maximum CPU
  and memory left.  The placer keeps one per partition of the instances (slots in ascending
  instance order): "the first instance, in id order, with at least this much CPU and memory
  left" is a walk down the tree.  A slot that takes nothing (an instance not ACTIVE, a padding
  slot) holds ``-1``.
* :class:`RoomList` — instances sorted by what they have left of one resource (``binpack``
  walks it from the first that can fit), in blocks that know the most any of their instances has
  left of the *other* resource, so a walk skips whole blocks of instances full on that one.

    >>> tree = FitTree([(512, 1024), (0, 4096), (2048, 256), (1024, 2048)])
    >>> tree.first(0, 1024, 1024), tree.first(0, 0, 4096), tree.first(1, 512, 1024), tree.first(0, 4096, 0)
    (3, 1, 3, -1)
    >>> tree.set(1, 1024, 4096); tree.first(0, 1024, 1024)
    1
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
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
    """``(left, index)`` entries in ascending order, each with the ``other`` resource its instance
    has left; blocks of at most ``2 * block`` entries, each with the largest ``other`` in it.

    >>> rooms = RoomList([(512, 0, 100), (1024, 1, 0), (2048, 2, 300)], block=1)
    >>> list(rooms.walk(600, 50)), list(rooms.walk(0, 200))
    ([(2048, 2)], [(2048, 2)])
    >>> rooms.remove((2048, 2)); rooms.add((700, 2), 300); list(rooms.walk(600, 0))
    [(700, 2), (1024, 1)]
    """

    __slots__ = ("block", "keys", "others", "firsts", "tops")

    def __init__(self, entries: Sequence[tuple[int, int, int]], *, block: int = 48) -> None:
        self.block = block
        ordered = sorted(entries)
        self.keys = [[(left, i) for left, i, _ in ordered[k:k + block]] for k in range(0, len(ordered), block)] or [[]]
        self.others = [[o for _, _, o in ordered[k:k + block]] for k in range(0, len(ordered), block)] or [[]]
        self.firsts = [b[0] if b else (-1, -1) for b in self.keys]
        self.tops = [max(o, default=-1) for o in self.others]

    def __len__(self) -> int:
        return sum(len(b) for b in self.keys)

    def _find(self, entry: tuple[int, int]) -> int:
        return max(0, bisect_right(self.firsts, entry) - 1)

    def add(self, entry: tuple[int, int], other: int) -> None:
        k = self._find(entry)
        keys, others = self.keys[k], self.others[k]
        j = bisect_left(keys, entry)
        keys.insert(j, entry)
        others.insert(j, other)
        self.firsts[k] = keys[0]
        if other > self.tops[k]:
            self.tops[k] = other
        if len(keys) > 2 * self.block:  # split in two
            half = len(keys) // 2
            self.keys[k:k + 1] = [keys[:half], keys[half:]]
            self.others[k:k + 1] = [others[:half], others[half:]]
            self.firsts[k:k + 1] = [keys[0], keys[half]]
            self.tops[k:k + 1] = [max(others[:half]), max(others[half:])]

    def _at(self, entry: tuple[int, int]) -> tuple[int, int]:
        k = self._find(entry)
        keys = self.keys[k]
        j = bisect_left(keys, entry)
        if j == len(keys) or keys[j] != entry:
            raise KeyError(entry)
        return k, j

    def remove(self, entry: tuple[int, int]) -> None:
        k, j = self._at(entry)
        keys, others = self.keys[k], self.others[k]
        del keys[j]
        other = others.pop(j)
        if not keys and len(self.keys) > 1:
            del self.keys[k], self.others[k], self.firsts[k], self.tops[k]
            return
        self.firsts[k] = keys[0] if keys else (-1, -1)
        if other >= self.tops[k]:
            self.tops[k] = max(others, default=-1)

    def move(self, old: tuple[int, int], new: tuple[int, int], other: int) -> None:
        """``remove(old)`` then ``add(new, other)``, in place when ``new`` stays in ``old``'s block."""
        k, j = self._at(old)
        firsts = self.firsts
        if not (firsts[k] <= new or k == 0) or (k + 1 < len(firsts) and new >= firsts[k + 1]):
            self.remove(old)
            self.add(new, other)
            return
        keys, others = self.keys[k], self.others[k]
        del keys[j]
        was = others.pop(j)
        j = bisect_left(keys, new)
        keys.insert(j, new)
        others.insert(j, other)
        firsts[k] = keys[0]
        if other >= self.tops[k]:
            self.tops[k] = other
        elif was >= self.tops[k]:
            self.tops[k] = max(others)

    def set_other(self, entry: tuple[int, int], other: int) -> None:
        """The instance of ``entry`` now has ``other`` left of the other resource."""
        k, j = self._at(entry)
        others = self.others[k]
        old = others[j]
        others[j] = other
        if other > self.tops[k]:
            self.tops[k] = other
        elif old >= self.tops[k] > other:
            self.tops[k] = max(others)

    def walk(self, least: int, other: int) -> Iterator[tuple[int, int]]:
        """Entries with ``left >= least`` and at least ``other`` of the other resource, in order."""
        start = (least, -1)
        k = self._find(start)
        tops, all_keys, all_others = self.tops, self.keys, self.others
        for k in range(k, len(all_keys)):
            if tops[k] < other:
                continue
            keys, others = all_keys[k], all_others[k]
            for j in range(bisect_left(keys, start) if keys and keys[0] < start else 0, len(keys)):
                if others[j] >= other:
                    yield keys[j]


__all__ = ["FitTree", "RoomList"]
