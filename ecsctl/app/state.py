"""Opening the state file, and the state commands (pull, push, list, unlock, verify)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from ecsctl.errors import StateError, UsageError

DEFAULT_STATE = ".ecsctl/state.db"

_note_sinks: list[Callable[[str], None]] = []


def report_notes_to(sink: Callable[[str], None]) -> None:
    """Where the one-line notes of the state store go (the CLI prints them on stderr)."""
    _note_sinks[:] = [sink]


def _note(line: str) -> None:
    for sink in _note_sinks:
        sink(line)


def state_path(option: str | None) -> str:
    """``--state``, else ``$ECSCTL_STATE``, else ``.ecsctl/state.db``."""
    return option or os.environ.get("ECSCTL_STATE") or DEFAULT_STATE


def open_store(path: str, *, create: bool = True):
    """The state at ``path``; with ``create``, a missing one is an empty state that is written
    to disk by its first commit (a command refused before that leaves no file behind)."""
    if path.startswith("s3://"):  # the state kept in S3 (the aws extra)
        from ecsctl.storage.s3_state import S3StateStore

        return S3StateStore(path, create=create)
    from ecsctl.storage.sqlite_store import SqliteStateStore

    return SqliteStateStore(path, create=create, on_note=_note)


def open_existing(path: str):
    """A store for readers: ``None`` when there is no state file yet (nothing applied)."""
    if path.startswith("s3://"):
        from ecsctl.storage.s3_state import exists

        if not exists(path):
            return None
        return open_store(path, create=False)
    from ecsctl.storage.sqlite_store import check_location

    check_location(Path(path))
    if not Path(path).exists():
        return None
    return open_store(path, create=False)


def open_required(path: str):
    """A store for commands that read or act on what was applied: none yet is an error."""
    store = open_existing(path)
    if store is None:
        raise StateError(f"no state at {path}; run apply first")
    return store


def pull(path: str) -> dict:
    with open_required(path) as store:
        return store.export()


def push(path: str, source: str, *, force: bool = False):
    try:
        text = Path(source).read_text(encoding="utf-8") if source != "-" else _stdin()
        data = json.loads(text)
    except OSError as exc:
        raise UsageError(f"{source}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}:{exc.lineno}:{exc.colno}: not a state export: {exc.msg}") from None
    with open_store(path) as store:
        with store.locked("ecsctl state push"):
            return store.import_(data, force=force)


def list_resources(path: str) -> list[dict]:
    with open_required(path) as store:
        return [
            {"address": r.address, "kind": r.kind, "name": r.name, "appliedSerial": r.applied_serial}
            for r in sorted(store.resources(), key=lambda r: r.address)
        ]


def verify(path: str) -> dict:
    """``ecsctl state verify``: the file's own checks (integrity, schema, serial) and the
    simulated world's invariants (``ecsctl.backends.local.check_invariants``), as
    ``{"state", "ok", "serial", "problems", "checked"}``; ``problems`` has one line each."""
    from ecsctl.backends.local import check_invariants
    from ecsctl.core.state.ports import ContainerInstance, Deployment, Service, Task

    with open_required(path) as store:
        problems = store.check_file()
        try:
            problems += check_invariants(store)
        except StateError as exc:  # rows that cannot be read (named above): the world cannot be loaded
            problems.append(f"invariants not checked: {exc}")
        meta = store.meta()
        checked = {
            "instances": store.count(ContainerInstance),
            "tasks": store.count(Task),
            "services": store.count(Service),
            "deployments": store.count(Deployment),
        }
    return {"state": path, "ok": not problems, "serial": meta.serial, "version": meta.version,
            "problems": problems, "checked": checked}


def unlock(path: str, lock_id: str):
    with open_store(path, create=False) as store:
        return store.force_unlock(lock_id)


def _stdin() -> str:
    import sys

    return sys.stdin.read()


def upgrade_addresses(store) -> int:
    """Re-record resources that an older ecsctl stored under another spelling of their
    address (``parameter//prod/db`` for ``parameter/"/prod/db"``); call it under the lock,
    before planning.  Returns how many moved."""
    from ecsctl.core.plan.model import address

    moved = [(r, address(r.kind, r.name, r.spec)) for r in store.resources()]
    moved = [(r, new) for r, new in moved if new != r.address]
    if moved:
        with store.transaction():
            for r, new in moved:
                store.delete_resource(r.address)
                store.put_resource(new, r.kind, r.name, r.spec)
    return len(moved)
