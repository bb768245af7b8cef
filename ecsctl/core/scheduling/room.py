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

from bisect import bisect_left, bisect_right, insort
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

    __slots__ = ("block", "blocks", "firsts", "tops", "other")

    def __init__(self, entries: Sequence[tuple[int, int, int]], *, block: int = 48) -> None:
        self.block = block
        ordered = sorted(entries)
        self.other = {i: o for _, i, o in ordered}
        pairs = [(left, i) for left, i, _ in ordered]
        self.blocks = [pairs[k:k + block] for k in range(0, len(pairs), block)] or [[]]
        self.firsts = [b[0] if b else (-1, -1) for b in self.blocks]
        self.tops = [self._top(b) for b in self.blocks]

    def __len__(self) -> int:
        return sum(len(b) for b in self.blocks)

    def _top(self, entries: list[tuple[int, int]]) -> int:
        other = self.other
        return max((other[i] for _, i in entries), default=-1)

    def _find(self, entry: tuple[int, int]) -> int:
        return max(0, bisect_right(self.firsts, entry) - 1)

    def add(self, entry: tuple[int, int], other: int) -> None:
        self.other[entry[1]] = other
        k = self._find(entry)
        b = self.blocks[k]
        insort(b, entry)
        self.firsts[k] = b[0]
        if other > self.tops[k]:
            self.tops[k] = other
        if len(b) > 2 * self.block:  # split in two
            half = len(b) // 2
            left, right = b[:half], b[half:]
            self.blocks[k:k + 1] = [left, right]
            self.firsts[k:k + 1] = [left[0], right[0]]
            self.tops[k:k + 1] = [self._top(left), self._top(right)]

    def remove(self, entry: tuple[int, int]) -> None:
        k = self._find(entry)
        b = self.blocks[k]
        j = bisect_left(b, entry)
        if j == len(b) or b[j] != entry:
            raise KeyError(entry)
        del b[j]
        other = self.other.pop(entry[1])
        if not b and len(self.blocks) > 1:
            del self.blocks[k], self.firsts[k], self.tops[k]
            return
        self.firsts[k] = b[0] if b else (-1, -1)
        if other >= self.tops[k]:
            self.tops[k] = self._top(b)

    def set_other(self, entry: tuple[int, int], other: int) -> None:
        """The instance of ``entry`` now has ``other`` left of the other resource."""
        old = self.other[entry[1]]
        if old == other:
            return
        self.other[entry[1]] = other
        k = self._find(entry)
        if other > self.tops[k]:
            self.tops[k] = other
        elif old >= self.tops[k]:
            self.tops[k] = self._top(self.blocks[k])

    def walk(self, least: int, other: int) -> Iterator[tuple[int, int]]:
        """Entries with ``left >= least`` in order, past every block where no instance has ``other`` left."""
        start = (least, -1)
        k = self._find(start)
        blocks, tops = self.blocks, self.tops
        for k in range(k, len(blocks)):
            if tops[k] < other:
                continue
            b = blocks[k]
            for j in range(bisect_left(b, start) if b and b[0] < start else 0, len(b)):
                yield b[j]


__all__ = ["FitTree", "RoomList"]
