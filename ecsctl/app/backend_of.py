"""Which backend a state belongs to: the local simulation, or real ECS (``--backend aws``).

A state applied with ``--backend aws`` records what ecsctl made in AWS, and its world tables
stay empty; planned or applied without the flag, the simulation would find nothing there and
create everything in it, into that state. So each apply records its backend
(``StateStore.set_backend``), and plan and apply refuse a state recorded for the other one,
saying which flag it takes (``destroy``, which only the simulation has, refuses an AWS state).
A state applied before ecsctl recorded it is told by what it holds: simulated clusters make it
the simulation's, Cluster resources without any simulated cluster real ECS's; a state that holds
no resource belongs to whichever applies next.
"""

from __future__ import annotations

from ecsctl.errors import UsageError

LOCAL, AWS = "local", "aws"


def state_backend(store) -> str | None:
    """``local``, ``aws``, or None for a state no apply has written to yet."""
    if store is None:
        return None
    recorded = store.backend()
    if recorded:
        return recorded
    from ecsctl.core.state.ports import Cluster

    if store.count(Cluster):
        return LOCAL
    if store.resources("Cluster"):
        return AWS
    return None


def check_backend(store, backend: str, state: str) -> None:
    """Refuse (exit 2, one line) a state that belongs to the other backend than ``backend``; a
    state that holds no resource (never applied, or emptied) belongs to whichever applies next."""
    found = state_backend(store)
    if found is None or found == backend or not store.resources():
        return
    if found == AWS:
        raise UsageError(f"{state} holds what ecsctl applied to real ECS (--backend aws): pass --backend aws "
                         "(and --region), or use another --state for the simulation")
    raise UsageError(f"{state} is the local simulation's state: --backend aws needs a state of its own "
                     "(--state FILE or s3://…), not this one")


def require_simulation(store, state: str, command: str) -> None:
    """Refuse (exit 2, one line) a command that acts on the simulation (``tick``, ``run-task``,
    ``instances``, …) on a state that records what ecsctl applied to real ECS: the simulation it
    would advance is not there, and what it made would be mixed into the AWS state."""
    if state_backend(store) == AWS and store.resources():
        raise UsageError(f"{state} holds what ecsctl applied to real ECS (--backend aws); {command} acts on "
                         "the local simulation only (use another --state for it)")


LIVE_KINDS = ("clusters", "instances", "taskdefs", "services", "tasks")  # what `get --backend aws` lists


def require_simulation_to_read(store, state: str, kind: str) -> None:
    """Refuse (exit 2, one line) to list a state's simulated objects when the state records what
    ecsctl applied to real ECS: it holds none, and "No resources found" would read as if AWS
    ran nothing; the live objects are a ``--backend aws`` away."""
    if state_backend(store) == AWS and store.resources():
        if kind in LIVE_KINDS:
            raise UsageError(f"{state} holds what ecsctl applied to real ECS: its {kind} are read live, "
                             f"with `ecsctl get {kind} --backend aws`")
        raise UsageError(f"{state} holds what ecsctl applied to real ECS, which keeps no {kind} of the "
                         f"simulation; live, `ecsctl get --backend aws` lists {', '.join(LIVE_KINDS)}")


def record_backend(store, backend: str) -> None:
    """After an apply: the state belongs to ``backend`` (nothing written when it says so already;
    ``check_backend`` let the apply through, so another value is that of a state that held nothing)."""
    if store.backend() != backend:
        store.set_backend(backend)
