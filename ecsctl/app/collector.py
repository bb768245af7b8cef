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
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


def collector_paused(fn: F) -> F:
    """Run ``fn`` with the cyclic collector disabled (left as it was if the caller disabled it)."""

    @functools.wraps(fn)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused  # type: ignore[return-value]


__all__ = ["collector_paused"]
