"""The backend port: what executes plan steps (the local simulation, or real ECS)."""

from __future__ import annotations

from typing import Protocol

from ecsctl.core.plan.model import Step


class Backend(Protocol):
    name: str

    def apply_step(self, step: Step) -> None:
        """Carry out one step completely, or raise ``ecsctl.errors.EcsctlError`` and change nothing.

        The local backend runs each step in one state transaction together with
        the last-applied spec, so a crash between steps loses nothing and a
        re-run converges.
        """
        ...

    def reconcile(self, cluster: str) -> None:
        """Let the service scheduler replace lost tasks and restore desired counts in ``cluster``."""
        ...
