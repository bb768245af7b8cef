"""The cyclic garbage collector paused for one bounded unit of work (a plan, an apply).

A plan of a large state holds hundreds of thousands of records (frozen dataclasses, tuples,
dicts) that form no reference cycles, and makes as many more while it simulates; the collector's
full passes over all of them find nothing to free and cost a fifth of a deployment plan's time
(bench/README.md).  Reference counting still frees every record as it is dropped; whatever cycles
the work leaves are collected as usual once it ends (mypy raises its collector's thresholds for
the same reason).
"""

from __future__ import annotations

import functools
import gc
import threading
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

_lock = threading.Lock()
_holders = 0  # units of work running with the collector paused (threads of `ecsctl view --serve`)
_was_enabled = False


def collector_paused(fn: F) -> F:
    """Run ``fn`` with the cyclic collector disabled; the last unit of work to end (several may
    run at once in threads) puts it back as the first found it."""

    @functools.wraps(fn)
    def paused(*args, **kwargs):
        global _holders, _was_enabled
        with _lock:
            if _holders == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _holders += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _lock:
                _holders -= 1
                if _holders == 0 and _was_enabled:
                    gc.enable()

    return paused  # type: ignore[return-value]


__all__ = ["collector_paused"]
