"""The local backend: applies plan steps to the ECS simulation kept in the state file."""

from ecsctl.backends.local.backend import LocalBackend
from ecsctl.backends.local.invariants import check_invariants

__all__ = ["LocalBackend", "check_invariants"]
