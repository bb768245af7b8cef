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

from bisect import bisect_left, bisect_right, insort
from operator import itemgetter
from typing import Iterator, Sequence


class FitTree:
    """Slots' CPU and memory left under a max tree.  ``first(0, …)`` remembers its answer per
    demand (``hints``) until some slot gains room (``raises``): until then no slot before the
    answer can have room for that demand, so the next search starts at the answer (a run of
    placements of one service asks the same question once per task)."""

    __slots__ = ("size", "cpu", "mem", "raises", "hints")

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
        self.raises = 0  # slots that gained room so far (a hint of ``first`` holds while this stays)
        self.hints: dict[tuple[int, int], tuple[int, int]] = {}  # (cpu, mem) -> (first slot, raises then)

    def set(self, slot: int, cpu_left: int, mem_left: int) -> None:
        cpu, mem = self.cpu, self.mem
        i = slot + self.size
        if cpu_left > cpu[i] or mem_left > mem[i]:
            self.raises += 1
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
        if start:
            return self._first(start, need_cpu, need_mem)
        key = (need_cpu, need_mem)
        hint = self.hints.get(key)
        found = self._first(hint[0] if hint is not None and hint[1] == self.raises else 0, need_cpu, need_mem)
        self.hints[key] = (self.size if found < 0 else found, self.raises)
        return found

    def _first(self, start: int, need_cpu: int, need_mem: int) -> int:
        size, cpu, mem = self.size, self.cpu, self.mem
        if start >= size:
            return -1
        if start:
            i = start + size
            if cpu[i] >= need_cpu and mem[i] >= need_mem:
                return start  # the slot asked for itself (the placer asks again from the slot after a skip)
        else:
            i = 1  # from the root down (not up from the first leaf past a full prefix)
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
    resource, its index, what it has left of the other.  An entry is found by its ``(left,
    index)`` prefix (indexes are unique, so ``other`` never takes part in the order).

    The entries are kept in sorted blocks of up to ``2 * load`` (``blocks``, each block's first entry
    in ``heads``), and each block has an upper bound of the ``other`` its entries have left
    (``tops``): a walk passes over a whole block of instances full on the other resource with one
    comparison (a binpack on memory over instances whose CPU ran out first walked ~140 of them per
    placement).  A bound only rises on an update; a walk that reads a whole block without a match
    sets it to the block's true maximum.

    >>> rooms = RoomList([(512, 0, 100), (1024, 1, 0), (2048, 2, 300)])
    >>> list(rooms.walk(600, 50)), list(rooms.walk(0, 200))
    ([(2048, 2)], [(2048, 2)])
    >>> rooms.move((2048, 2), (700, 2), 300); list(rooms.walk(600, 0))
    [(700, 2), (1024, 1)]
    """

    __slots__ = ("blocks", "heads", "tops", "load")

    def __init__(self, entries: Sequence[tuple[int, int, int]], load: int = 16) -> None:
        ordered = sorted(entries)
        self.load = load
        self.blocks = [ordered[k:k + load] for k in range(0, len(ordered), load)]
        self.heads = [block[0] for block in self.blocks]
        self.tops = [max(map(other_of, block)) for block in self.blocks]

    def __len__(self) -> int:
        return sum(map(len, self.blocks))

    def _find(self, entry: tuple[int, int]) -> tuple[int, int]:
        """(block, position) of the entry with the prefix ``entry``; KeyError if there is none."""
        heads = self.heads
        k = bisect_left(heads, entry)  # (left, i) sorts just before (left, i, other)
        if k == len(heads) or heads[k][1] != entry[1] or heads[k][0] != entry[0]:
            k -= 1
        if k >= 0:
            block = self.blocks[k]
            j = bisect_left(block, entry)
            if j < len(block) and block[j][1] == entry[1] and block[j][0] == entry[0]:
                return k, j
        raise KeyError(entry)

    def _insert(self, item: tuple[int, int, int]) -> None:
        heads, blocks = self.heads, self.blocks
        if not blocks:
            blocks.append([item])
            heads.append(item)
            self.tops.append(item[2])
            return
        k = bisect_right(heads, item) - 1
        if k < 0:
            k = 0
        block = blocks[k]
        insort(block, item)
        if block[0] is item:
            heads[k] = item
        if item[2] > self.tops[k]:
            self.tops[k] = item[2]
        if len(block) > 2 * self.load:  # split in two, each with its exact bound
            half = block[len(block) // 2:]
            del block[len(block) // 2:]
            blocks.insert(k + 1, half)
            heads.insert(k + 1, half[0])
            self.tops[k] = max(map(other_of, block))
            self.tops.insert(k + 1, max(map(other_of, half)))

    def _delete(self, k: int, j: int) -> None:
        block = self.blocks[k]
        del block[j]
        if not block:
            del self.blocks[k], self.heads[k], self.tops[k]
        elif j == 0:
            self.heads[k] = block[0]

    def add(self, entry: tuple[int, int], other: int) -> None:
        self._insert((entry[0], entry[1], other))

    def remove(self, entry: tuple[int, int]) -> None:
        self._delete(*self._find(entry))

    def move(self, old: tuple[int, int], new: tuple[int, int], other: int) -> None:
        """``remove(old)`` then ``add(new, other)`` (every placement and release moves an entry:
        when both fall in one block, as a task's few hundred units mostly do, one removal and
        one insort there, with no head or bound to touch but the new entry's)."""
        k, j = self._find(old)
        block = self.blocks[k]
        item = (new[0], new[1], other)
        if j and block[-1] > item and block[0] < item:  # stays inside block k, not at its head
            del block[j]
            insort(block, item)
            if other > self.tops[k]:
                self.tops[k] = other
            return
        self._delete(k, j)
        self._insert(item)

    def set_other(self, entry: tuple[int, int], other: int) -> None:
        """The instance of ``entry`` now has ``other`` left of the other resource."""
        k, j = self._find(entry)
        self.blocks[k][j] = item = (entry[0], entry[1], other)
        if not j:
            self.heads[k] = item
        if other > self.tops[k]:
            self.tops[k] = other

    def start(self, least: int) -> tuple[int, int]:
        """(block, position) of the first entry with ``left >= least`` (past the end: no block)."""
        k = bisect_left(self.heads, (least, -1)) - 1
        if k < 0:
            return 0, 0
        return k, bisect_left(self.blocks[k], (least, -1))

    def walk(self, least: int, other: int) -> Iterator[tuple[int, int]]:
        """``(left, index)`` of the entries with ``left >= least`` and at least ``other`` of the
        other resource, in order (blocks whose bound is below ``other`` are passed over).  The
        placer's binpack walk (``Placer._walk_binpack``) runs this loop inline, on the hot path;
        change both."""
        blocks, tops = self.blocks, self.tops
        k0, j0 = self.start(least)
        for k in range(k0, len(blocks)):
            if tops[k] < other:
                continue
            block = blocks[k]
            hit = False
            for j in range(j0 if k == k0 else 0, len(block)):
                left, i, has = block[j]
                if has >= other:
                    hit = True
                    yield left, i
            if not hit and (k != k0 or not j0):
                tops[k] = max(map(other_of, block))  # read whole without a match: the true bound


other_of = itemgetter(2)  # an entry's ``other`` (the placer's inline walk reads it too)


__all__ = ["FitTree", "RoomList", "other_of"]
